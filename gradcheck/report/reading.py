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


def read_report(file) -> dict:
    """The report in ``file``, validated against the report contract. Raises ReportError naming the
    file when it cannot be read or is not a valid report."""
    try:
        report = read_json(file)
    except OSError as e:
        raise ReportError(f"{str(file)!r}: cannot be read ({e.strerror or e})") from None
    except ValueError as e:
        raise ReportError(f"{str(file)!r}: not a JSON report ({e})") from None
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
