"""The one report builder: ``graded_report`` for a submission the grader judged, and its failed
constructor ``error_report`` for one it could not grade (as otter-grader's one results object).

Both make the report of docs/design.md the same way: the head (schema and gradcheck versions,
submission, assignment, seed, and what was graded: the submission's and the assignment's hashes),
then ``status`` and ``message``, the score and max_score summed over
the checks, one check entry per check of the assignment in its order, and what else is known of the
run. Only ``timing`` may differ between two runs of the same submission and seed.
"""

from __future__ import annotations

import functools

from ..assignment.digest import assignment_digest
from .messages import CHECK_DID_NOT_RUN, ERROR_CHECK_MESSAGE
from .plain import to_jsonable

__all__ = ["CHECK_STATUSES", "SCHEMA_VERSION", "error_report", "gradcheck_version", "graded_report"]

#: The report format's version (report.schema.json): reports and summary.json carry it.
SCHEMA_VERSION = 1
#: A check's status in a report, in the order counts of them are shown.
CHECK_STATUSES = ("pass", "fail", "error", "timeout", "missing")


@functools.lru_cache(maxsize=1)
def gradcheck_version() -> str:
    """The version of the gradcheck that grades (the installed distribution's; a student build's
    says so with ``+student``), or ``gradcheck.__version__`` when gradcheck is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gradcheck")
    except PackageNotFoundError:  # not installed (running from a source tree)
        from .. import __version__

        return __version__


def _check(spec, status, message, details=None) -> dict:
    """A check's entry: its points when it passed, else 0."""
    entry = {
        "id": spec.id,
        "status": status,
        "score": float(spec.points) if status == "pass" else 0.0,
        "max_score": float(spec.points),
        "visibility": spec.visibility,
        "message": message,
    }
    if details:
        entry["details"] = to_jsonable(details)
    return entry


def _report(submission, assignment, seed, status, message, checks, parts, submission_hash) -> dict:
    report = {
        "schema_version": SCHEMA_VERSION,
        "gradcheck_version": gradcheck_version(),
        "submission": str(submission),
        "assignment": assignment.name,
        "seed": int(seed),
    }
    if submission_hash is not None:
        report["submission_hash"] = str(submission_hash)
    report["assignment_hash"] = assignment_digest(assignment)
    report |= {
        "status": status,
        "message": message,
        "score": round(sum((c["score"] for c in checks), 0.0), 6),
        "max_score": round(sum((c["max_score"] for c in checks), 0.0), 6),
        "checks": checks,
    }
    report.update((k, v) for k, v in parts.items() if v is not None)
    return report


def graded_report(
    submission,
    assignment,
    seed,
    results,
    *,
    notes=(),
    modules=None,
    isolation=None,
    output=None,
    seconds=None,
    visible_seconds=None,
    submission_hash=None,
) -> dict:
    """The report of a graded submission (status "graded").

    ``results``: check id -> the check's verdict (``status``, ``message``, ``details``); a check of
    the assignment without one is an error (it did not run: a grader fault). The message counts the
    checks that passed, with ``notes`` (about the submission's files) after it in parentheses.
    ``seconds``: the whole grading; ``visible_seconds``: when the visible checks were done (what a
    student may see while others are withheld). ``submission_hash``: ``submission.submission_digest``
    of the folder graded (taken before its files were read)."""
    checks = []
    for spec in assignment.checks:
        r = results.get(spec.id)
        checks.append(_check(spec, r.status, r.message, r.details) if r else _check(spec, "error", CHECK_DID_NOT_RUN))
    passed = sum(c["status"] == "pass" for c in checks)
    message = f"{passed} of {len(checks)} checks passed" + (f" ({'; '.join(notes)})" if notes else "")
    timing = (
        None
        if seconds is None
        else {"seconds": round(float(seconds), 3), "visible_seconds": round(float(visible_seconds or 0.0), 3)}
    )
    return _report(
        submission,
        assignment,
        seed,
        "graded",
        message,
        checks,
        {"modules": modules, "isolation": isolation, "output": output, "timing": timing},
        submission_hash,
    )


def error_report(
    submission,
    assignment,
    seed,
    message,
    *,
    modules=None,
    isolation=None,
    output=None,
    seconds=None,
    submission_hash=None,
) -> dict:
    """The report of a submission the grader could not grade: status "error", every check of the
    assignment listed with status "error" and score 0 (so the gradebook still has the row).
    ``submission_hash`` where the folder's digest is known."""
    checks = [_check(spec, "error", ERROR_CHECK_MESSAGE) for spec in assignment.checks]
    timing = None if seconds is None else {"seconds": round(float(seconds), 3)}
    return _report(
        submission,
        assignment,
        seed,
        "error",
        str(message) or "the grader failed",
        checks,
        {"modules": modules, "isolation": isolation, "output": output, "timing": timing},
        submission_hash,
    )
