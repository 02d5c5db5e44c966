"""``grade --resume``: which submissions already have an up-to-date report in the reports folder, so
that a run that was stopped (killed, a machine that went down) or a class with a few new submissions
is finished without grading the others again.

Note [Up-to-date report]
~~~~~~~~~~~~~~~~~~~~~~~~
A submission's existing report (``OUT/<safe_name>.json``) is kept only when all of these hold:
- it is a regular file (not a link) holding a valid report of this very submission;
- its status is "graded": an error report (the grader could not grade the submission: a grader
  process that died, a grading that took too long) is graded again;
- it was made from the same files (``submission_hash`` is ``submission.submission_digest`` of the
  folder now), the same assignment and reference (``assignment_hash`` is ``assignment_digest`` of the
  assignment now), the same seed and the same gradcheck version.
A report from before these fields existed, or from another assignment, seed or version, is never
kept: the submission is graded again and its report replaced. Grading is deterministic given those
four (only ``timing`` differs), so a kept report is the report a new grading would write.
Report files are written whole or not at all (a complete temporary file moved into place), so a run
killed at any point leaves complete reports and, at worst, temporary files that the next run removes.
"""

from __future__ import annotations

from pathlib import Path

from .assignment import assignment_digest
from .errors import ReportError
from .report import display_name, gradcheck_version, read_report, report_path
from .submission import submission_digest, submission_modules

__all__ = ["split_up_to_date", "up_to_date_report"]


def up_to_date_report(out_dir, path, assignment, seed, *, assignment_hash=None):
    """(report, file) when ``OUT_DIR`` holds an up-to-date report of the submission folder ``path``
    (Note [Up-to-date report]), else None."""
    path = Path(path)
    file = report_path(out_dir, path.name)
    try:
        report = read_report(file)
    except ReportError:
        return None
    if (
        report.get("submission") != display_name(path.name)
        or report.get("status") != "graded"
        or report.get("seed") != int(seed)
        or report.get("gradcheck_version") != gradcheck_version()
        or report.get("assignment_hash") != (assignment_hash or assignment_digest(assignment))
        or report.get("submission_hash") != submission_digest(path, submission_modules(assignment))
    ):
        return None
    return report, file


def split_up_to_date(subs, out_dir, assignment, seed) -> tuple:
    """(the submission folders to grade, [(folder, report, file) of those whose report is up to date]),
    each in the order of ``subs``."""
    digest = assignment_digest(assignment)
    todo, done = [], []
    for path in subs:
        found = up_to_date_report(out_dir, path, assignment, seed, assignment_hash=digest)
        if found is None:
            todo.append(path)
        else:
            done.append((path, *found))
    return todo, done
