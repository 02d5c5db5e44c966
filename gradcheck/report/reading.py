"""Reading a grading run's folder back: one report file, the run's summary, and which report files
make up the run (for ``grade --resume``, the class report and ``gradcheck diff``).

Report files are opened without following a link and validated like every report the grader
writes; what cannot be read raises an error naming the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import ReportError, RunFolderError
from .names import SUMMARY_JSON
from .validation import validate_report

__all__ = ["read_json", "read_report", "read_summary", "run_report_files"]


def read_json(file):
    """The JSON value in ``file``, never through a link. Raises OSError (missing, a link: ELOOP) and
    ValueError (not UTF-8 JSON)."""
    fd = os.open(file, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        data = f.read()
    return json.loads(data.decode("utf-8"))


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _shape_problem(d):
    """What keeps ``d`` from having the fields a reader of reports uses, with their types (None: nothing)."""
    if not isinstance(d, dict):
        return f"not a JSON object but {type(d).__name__}"
    for key, ok in (
        ("submission", lambda v: isinstance(v, str)),
        ("assignment", lambda v: isinstance(v, str)),
        ("seed", lambda v: isinstance(v, int) and not isinstance(v, bool)),
        ("status", lambda v: v in ("graded", "error")),
        ("score", _number),
        ("max_score", _number),
        ("checks", lambda v: isinstance(v, list)),
    ):
        if key not in d or not ok(d[key]):
            return f"{key}: missing or not what a report holds"
    for i, c in enumerate(d["checks"]):
        if not (
            isinstance(c, dict)
            and isinstance(c.get("id"), str)
            and isinstance(c.get("status"), str)
            and _number(c.get("score"))
            and _number(c.get("max_score"))
            and isinstance(c.get("details", {}), dict)
        ):
            return f"checks[{i}]: not a check entry (id, status, score, max_score, details)"
    for key in ("timing", "modules", "output"):
        if not isinstance(d.get(key, {}), dict):
            return f"{key}: not a JSON object"
    return None


def read_report(file, *, validate=True) -> dict:
    """The report in ``file``, validated against the report contract; ``validate=False`` checks only the
    fields readers use and their types (the class report and ``diff``, which show reports: a full
    validation costs about 10 ms a report). Raises ReportError naming the file when it cannot be read
    or is not a report."""
    try:
        report = read_json(file)
    except OSError as e:
        raise ReportError(f"{str(file)!r}: cannot be read ({e.strerror or e})") from None
    except ValueError as e:
        raise ReportError(f"{str(file)!r}: not a JSON report ({e})") from None
    if not validate:
        problem = _shape_problem(report)
        if problem:
            raise ReportError(f"{str(file)!r}: not a gradcheck report ({problem})")
        return report
    try:
        validate_report(report)
    except ReportError as e:
        raise ReportError(f"{str(file)!r}: {e}") from None
    return report


def read_summary(out_dir) -> dict | None:
    """OUT_DIR/summary.json, or None when there is none (a run still going, or killed). Raises
    RunFolderError when it is there but cannot be read."""
    file = Path(out_dir) / SUMMARY_JSON
    try:
        summary = read_json(file)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise RunFolderError(f"{str(file)!r} cannot be read: {getattr(e, 'strerror', None) or e}") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("submissions"), list):
        raise RunFolderError(f"{str(file)!r} is not a gradcheck summary (no list of submissions)")
    return summary


def _is_report_name(name) -> bool:
    return isinstance(name, str) and name.endswith(".json") and name == Path(name).name and name != SUMMARY_JSON


def run_report_files(out_dir) -> list:
    """The report files of the grading run in ``out_dir``: those its summary.json names, in its order;
    with no summary.json (a run that was killed), every report file of the folder (``*.json`` but the
    summary), by name. Raises RunFolderError when ``out_dir`` is missing, not a folder, or holds no
    report."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        what = "does not exist" if not out_dir.exists() else "is not a folder"
        raise RunFolderError(f"{str(out_dir)!r} {what}; expected the --out folder of a gradcheck grade run")
    summary = read_summary(out_dir)
    if summary is not None:
        names = [s.get("report") for s in summary["submissions"] if isinstance(s, dict)]
        files = [out_dir / n for n in names if _is_report_name(n)]
    else:
        with os.scandir(out_dir) as it:
            files = sorted(
                (out_dir / e.name for e in it if _is_report_name(e.name) and e.is_file(follow_symlinks=False)),
                key=lambda p: os.fsencode(p.name),
            )
    if not files and not (summary and summary["submissions"]):
        raise RunFolderError(f"no reports in {str(out_dir)!r}; expected the --out folder of a gradcheck grade run")
    return files
