"""Writing files so that a reader never sees half of one: atomically, or created exclusively.

Every write goes to a temporary file in the same directory, fsynced, and is then moved into place
with ``os.replace`` (``atomic_write_text``) or hard-linked to a name that must not exist yet
(``exclusive_write_text``). ``write_report`` validates a report first: only valid reports are written.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from .names import report_path
from .plain import dumps_report, to_jsonable
from .validation import validate_report

__all__ = ["atomic_write_text", "exclusive_write_text", "remove_temporaries", "write_report"]

_TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")  # what _write_temp names: .<name>.<mkstemp's 8>.tmp


def _write_temp(directory, name, text):
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=_TEMP_SUFFIX)
    try:
        # errors: a lone surrogate (a name that is not UTF-8) is written as the JSON escape \\udcXX
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path):
    """Remove a temporary file, if it is still there."""
    try:
        os.unlink(path)
    except OSError:
        pass


def remove_temporaries(directory) -> int:
    """Remove the temporary files that writes into ``directory`` left behind (a process killed between
    writing one and moving it into place); returns how many. Only for a folder no other process is
    writing into."""
    removed = 0
    try:
        with os.scandir(directory) as it:
            names = [e.name for e in it if _TEMP_NAME.fullmatch(e.name) and e.is_file(follow_symlinks=False)]
    except OSError:
        return 0
    for name in names:
        try:
            os.unlink(os.path.join(directory, name))
            removed += 1
        except OSError:
            pass
    return removed


def atomic_write_text(path, text: str) -> Path:
    """Write text to path atomically: a temporary file in the same directory, fsync, os.replace."""
    path = Path(path)
    tmp = _write_temp(path.parent, path.name, text)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    return path


def exclusive_write_text(path, text: str, may_replace=None) -> Path:
    """Create ``path`` holding ``text``, atomically and exclusively: a complete temporary file is
    hard-linked to ``path``, which fails when ``path`` exists (FileExistsError), like O_EXCL. Never
    an overwrite, unless ``may_replace(os.lstat(path))`` says that the existing file may go (a report
    of an earlier run); then it is replaced atomically."""
    path = Path(path)
    tmp = _write_temp(path.parent, path.name, text)
    try:
        try:
            os.link(tmp, path, follow_symlinks=False)
        except FileExistsError:
            if may_replace is None or not may_replace(os.lstat(path)):
                raise
            os.replace(tmp, path)
    finally:
        _unlink(tmp)
    return path


def write_report(d, out_dir) -> Path:
    """Validate the report and write it atomically as OUT_DIR/<submission>.json; returns the path.
    Raises ReportError for an invalid report (nothing is written), OSError when the file cannot be
    written."""
    plain = to_jsonable(d)
    validate_report(plain)
    return atomic_write_text(report_path(out_dir, plain["submission"]), dumps_report(plain))
