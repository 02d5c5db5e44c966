"""Grading one submission inside a platform's container (``gradcheck gradescope|prairielearn``).

``grade_in_container`` grades one submission and ALWAYS writes a valid results file (score 0 and a
message saying what broke when grading itself fails). The grading itself is the caller's function
(``gradcheck.batch.grade_one``): the formats do not depend on the batch runner. The CLI calls this
and only prints.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path

from ..assignment import load_assignment
from ..errors import AssignmentError, GraderError, ResultsNotWritten
from ..report import atomic_write_text, dumps_report, error_report, render_feedback
from .common import write_json
from .gradescope import validate_gradescope
from .prairielearn import validate_prairielearn

__all__ = ["PLATFORM_FOLDERS", "ResultsNotWritten", "container_sandbox", "grade_in_container"]

#: The platform's own folders, hidden from student code when they exist (the autograder's source;
#: PrairieLearn's tests and course files).
PLATFORM_FOLDERS = {
    "gradescope": (Path("/autograder/source"),),
    "prairielearn": (Path("/grade/tests"), Path("/grade/serverFilesCourse")),
}


def _echo(message="", err=False, nl=True):  # default log: print to stdout or stderr
    (sys.stderr if err else sys.stdout).write(message + ("\n" if nl else ""))


def container_sandbox(assignment, hide):
    """The sandbox of the container modes: as root, refuse to run student code as root. Its workers
    load the assignment's modules (``layers``), as ``gradcheck grade``'s do."""
    from ..contract import MODULES
    from ..sandbox import Limits, Sandbox

    require = ("unprivileged_user",) if hasattr(os, "geteuid") and os.geteuid() == 0 else ()
    return Sandbox(Limits(**assignment.limits), hide=list(hide), require=require, modules=assignment.modules or MODULES)


def _hideable(paths, echo) -> list:
    """The paths (resolved) the sandbox can hide; a note for each one it cannot: missing, or holding
    the temporary folder where the sandbox's private folders live."""
    hidden = []
    tmp = Path(tempfile.gettempdir()).resolve()
    for h in paths:
        h = Path(h).resolve()
        if not h.exists():
            echo(f"note: not hiding {h}: it does not exist", err=True)
        elif tmp == h or h in tmp.parents:
            echo(f"note: not hiding {h}: the sandbox's private folders live under it", err=True)
        else:
            hidden.append(h)
    return hidden


def grade_in_container(
    platform, submission, results, assignment_file, seed, hide, report_file, convert, fail, *, grade_one, echo=_echo
):
    """Grade one submission and ALWAYS write a valid results file (score 0 and a message saying what
    broke when grading itself fails). ``grade_one(folder, assignment, seed, sandbox_factory=, hide=)
    -> (report, seconds, traceback or None)`` grades (raising GraderError when it cannot start);
    ``hide``: paths student code must not see, besides the platform's own folders and the results'
    folder; ``echo(message, err=False, nl=True)`` prints. Raises ResultsNotWritten when the results
    file cannot be written."""
    results = Path(results)
    hide = (*(p for p in PLATFORM_FOLDERS[platform] if p.exists()), *hide)
    validate = validate_gradescope if platform == "gradescope" else validate_prairielearn
    data, report, assignment = None, None, None
    try:
        results.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ResultsNotWritten(f"cannot create the results folder {str(results.parent)!r}: {e}") from None
    try:
        try:
            assignment = load_assignment(assignment_file)
        except AssignmentError as e:
            raise _Broken(f"the autograder is misconfigured (assignment file): {e}") from None
        root = Path(submission) if Path(submission).is_dir() else None
        name = Path(submission).name or "submission"
        if root is None:
            report = error_report(name, assignment, seed, f"no submission found: {str(submission)!r} is not a folder")
        else:
            hidden = _hideable((results.parent, *hide), echo)
            try:
                report, _, trace = grade_one(root, assignment, seed, sandbox_factory=container_sandbox, hide=hidden)
                if trace:
                    echo(trace.rstrip(), err=True)
            except GraderError as e:
                report = error_report(root.name, assignment, seed, str(e))
        data = convert(report, assignment)
        validate(data)
    except Exception as e:  # noqa: BLE001 - whatever broke, the platform gets a valid file saying so
        why = str(e) if isinstance(e, _Broken) else f"internal grader error: {type(e).__name__}: {e}"
        if not isinstance(e, _Broken):
            echo(traceback.format_exc().rstrip(), err=True)
        echo(f"gradcheck {platform}: {why}", err=True)
        data = fail(why, assignment)
        validate(data)
    try:
        write_json(data, results)
    except OSError as e:
        raise ResultsNotWritten(f"could not write {str(results)!r}: {e}") from None
    if report is not None:
        # the instructor's feedback: the run's stdout (Gradescope shows it to instructors only)
        echo(render_feedback(report), nl=False)
        iso = report.get("isolation")
        if isinstance(iso, dict):
            keys = ("unprivileged_user", "hidden_paths", "network_namespace", "pid_namespace", "rlimits_in_force")
            echo(
                "Sandbox: "
                + ", ".join(f"{k}={'yes' if iso.get(k) else 'NO'}" for k in keys)
                + "".join(f"\n  note: {n}" for n in iso.get("notes") or [])
            )
        if report_file is not None:
            try:
                Path(report_file).parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(report_file, dumps_report(report))
            except OSError as e:
                echo(f"could not write the report to {str(report_file)!r}: {e}", err=True)
    echo(f"Results: {results}", err=True)


class _Broken(Exception):
    """Grading could not start for a reason worth saying as is."""
