"""Platform files from graded reports, and grading one submission inside a platform's container.

``write_class_formats`` makes Gradescope, PrairieLearn and JUnit files for a graded class;
``grade_in_container`` grades one submission and ALWAYS writes a valid results file (score 0 and a
message saying what broke when grading itself fails). The CLI calls these and only prints.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback
from pathlib import Path

from .. import batch as _batch
from ..assignment import AssignmentError, load_assignment
from ..report import atomic_write_text, dumps_report, error_report, render_feedback
from .gradescope import to_gradescope, validate_gradescope
from .junit import to_junit
from .prairielearn import to_prairielearn, validate_prairielearn
from .common import write_json


class ResultsNotWritten(Exception):
    """The results file itself could not be written (the one failure a platform run cannot report)."""


def _echo(message="", err=False, nl=True):  # default log: print to stdout or stderr
    (sys.stderr if err else sys.stdout).write(message + ("\n" if nl else ""))


def write_class_formats(rows, out_dir, assignment, formats):
    """The platform files of a graded class, made from the reports written in out_dir."""
    reports, names = [], []
    for row in sorted(rows, key=lambda r: r["submission"]):
        name = row.get("report")
        if not name:  # its report could not be written (its file name was taken): nothing to convert
            continue
        reports.append(json.loads((Path(out_dir) / name).read_text(encoding="utf-8")))
        names.append(name)
    lines = []
    for fmt in dict.fromkeys(formats):
        if fmt == "junit":
            path = Path(out_dir) / "junit.xml"
            atomic_write_text(path, to_junit(reports))
            lines.append(f"JUnit XML: {path}")
            continue
        folder = Path(out_dir) / fmt
        folder.mkdir(exist_ok=True)
        for report, name in zip(reports, names):
            if fmt == "gradescope":
                results = to_gradescope(report, assignment)
                validate_gradescope(results)
            else:
                results = to_prairielearn(report, assignment)
                validate_prairielearn(results)
            write_json(results, folder / name)  # the report's own (collision-free) file name
        lines.append(f"{'Gradescope' if fmt == 'gradescope' else 'PrairieLearn'} results: {folder}/")
    return lines


def container_sandbox(assignment, hide):
    """The sandbox of the container modes: as root, refuse to run student code as root."""
    from ..sandbox import Limits, Sandbox
    require = ("unprivileged_user",) if hasattr(os, "geteuid") and os.geteuid() == 0 else ()
    return Sandbox(Limits(**assignment.limits), hide=list(hide), require=require)


def grade_in_container(platform, submission, results, assignment_file, seed, hide, report_file, convert, fail,
                       echo=_echo):
    """Grade one submission and ALWAYS write a valid results file (score 0 and a message saying what
    broke when grading itself fails). ``echo(message, err=False, nl=True)`` prints; raises
    ResultsNotWritten when the results file cannot be written."""
    results = Path(results)
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
            hidden = []
            tmp = Path(tempfile.gettempdir()).resolve()
            for h in (results.parent, *hide):
                h = Path(h).resolve()
                if not h.exists():
                    echo(f"note: not hiding {h}: it does not exist", err=True)
                elif tmp == h or h in tmp.parents:
                    echo(f"note: not hiding {h}: the sandbox's private folders live under it", err=True)
                else:
                    hidden.append(h)
            try:
                report, _, trace = _batch.grade_one(root, assignment, seed, sandbox_factory=container_sandbox,
                                                    hide=hidden)
                if trace:
                    echo(trace.rstrip(), err=True)
            except _batch.GraderError as e:
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
            echo("Sandbox: " + ", ".join(f"{k}={'yes' if iso.get(k) else 'NO'}" for k in keys)
                       + "".join(f"\n  note: {n}" for n in iso.get("notes") or []))
        if report_file is not None:
            try:
                Path(report_file).parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(report_file, dumps_report(report))
            except OSError as e:
                echo(f"could not write the report to {str(report_file)!r}: {e}", err=True)
    echo(f"Results: {results}", err=True)


class _Broken(Exception):
    """Grading could not start for a reason worth saying as is."""


