"""The sentences reports and their renderings say to students: the one home for each wording.

Reports (``builder``), the student view (``student``), the feedback text (``feedback``) and the
platforms' files (``gradcheck.formats``) take their student-facing sentences from here, so a
sentence said in several places is written once. Where two places say the same thing in different
words (the feedback text, Gradescope and PrairieLearn each word "not graded" their own way), the
wordings stand side by side here.
"""

from __future__ import annotations

from .clipping import clip

__all__ = [
    "CHECK_DID_NOT_RUN",
    "ERROR_CHECK_MESSAGE",
    "FEEDBACK_NO_POINTS",
    "GRADESCOPE_NO_POINTS",
    "OUTPUT_WITHHELD",
    "PRAIRIELEARN_NO_ATTEMPT",
    "WITHHELD_MESSAGES",
    "WITHHELD_WHEN",
    "could_not_grade",
    "grading_failed",
    "import_failed",
    "not_shown_yet",
]

# --- checks not shown yet -------------------------------------------------------------------------

#: When a student sees a check of each visibility that is withheld from them now (in the words of
#: Gradescope's summary: "(hidden or shown after the due date)").
WITHHELD_WHEN = {
    "hidden": "hidden",
    "after_due_date": "shown after the due date",
    "after_published": "shown when grades are published",
}
#: What a student sees instead of a check the assignment does not show them yet.
WITHHELD_MESSAGES = {
    "hidden": "hidden check: its result is not shown to students",
    "after_due_date": f"result {WITHHELD_WHEN['after_due_date']}",
    "after_published": f"result {WITHHELD_WHEN['after_published']}",
}


def not_shown_yet(checks, points: str, why: str = "", counts_in: str = "your score") -> str:
    """``Not shown yet: 2 check(s) worth 10 point(s) (hidden); they count in your score.``"""
    return f"Not shown yet: {checks} check(s) worth {points} point(s){why}; they count in {counts_in}."


#: The student's prints while some check is withheld: only their size.
OUTPUT_WITHHELD = "Your code printed {bytes} bytes; not shown while some checks are hidden."


def import_failed(module) -> str:
    """``gates.py could not be imported`` (callers add ``:`` and the error, or where to look)."""
    return f"{module}.py could not be imported"


# --- a submission that could not be graded --------------------------------------------------------

_COULD_NOT_GRADE = "{who} could not grade this submission"


def could_not_grade(who: str = "grader") -> str:
    """``the grader could not grade this submission``."""
    return "the " + _COULD_NOT_GRADE.format(who=who)


#: Each check of a report with status "error".
ERROR_CHECK_MESSAGE = f"not graded: {could_not_grade()}"
#: A check the grader did not judge although the assignment has it (a grader fault).
CHECK_DID_NOT_RUN = "this check did not run (grader fault)"


def grading_failed(why, who: str = "grader") -> str:
    """``The grader could not grade this submission: <why, clipped>``."""
    return f"The {_COULD_NOT_GRADE.format(who=who)}: {clip(why, 500)}"


#: After the reason, what it means for the student: the feedback text's words ...
FEEDBACK_NO_POINTS = "No points could be given for this run; tell your instructor."
#: ... Gradescope's ...
GRADESCOPE_NO_POINTS = (
    "No points could be given for this run. This is not a verdict on your code: "
    "tell your instructor, or submit again later."
)
#: ... and PrairieLearn's (a run that is not gradable uses up no attempt).
PRAIRIELEARN_NO_ATTEMPT = (
    "This is not a verdict on your code and does not use up an attempt; tell your instructor if it happens again."
)
