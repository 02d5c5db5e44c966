"""Names: a submission folder's name as text, and the file names of a grading run's output.

A run writes ``OUT/<safe_name(folder name)>.json`` per submission, and ``summary.json``,
``gradebook.csv`` and the class report ``index.html`` (with a page per submission in ``pages/``) for
the class. ``display_name`` is the text reports, the gradebook and JUnit
show for a folder name; ``safe_name`` the reversible file name stem (``name_from_safe``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = [
    "CLASS_FILES",
    "GRADEBOOK_CSV",
    "INDEX_HTML",
    "PAGES_DIR",
    "SUMMARY_JSON",
    "display_name",
    "name_from_safe",
    "report_path",
    "safe_name",
]

SUMMARY_JSON = "summary.json"
GRADEBOOK_CSV = "gradebook.csv"
INDEX_HTML = "index.html"
PAGES_DIR = "pages"
#: The files that sum up a whole run (made when every report is written)
CLASS_FILES = (SUMMARY_JSON, GRADEBOOK_CSV, INDEX_HTML)
_RESERVED_STEMS = {Path(n).stem for n in (SUMMARY_JSON, GRADEBOOK_CSV)}  # would clash with the class files


def display_name(name) -> str:
    """A submission folder's name as text (reports, the gradebook, JUnit): the name itself when it is
    UTF-8 without a backslash; otherwise backslashes are doubled and bytes that are not UTF-8 shown as
    \\xNN. So two folder names never share a display name (``caf\\xe9`` is a folder whose name is
    not UTF-8; a folder literally named that shows as ``caf\\\\xe9``). The report file's name keeps
    the exact bytes (``safe_name``)."""
    raw = os.fsencode(name)
    try:
        text = raw.decode("utf-8")
        if "\\" not in text:
            return text
    except UnicodeDecodeError:
        pass
    return raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


_SAFE_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_NAME_MAX = 120  # stems of at most this many characters (a report file name stays far below 255 bytes)


def safe_name(submission) -> str:
    """The file name stem of a submission's report: one reversible scheme for every name.

    The name's bytes (``os.fsencode``: a folder name that is not UTF-8 keeps its exact bytes) are
    kept when they are letters, digits, '.', '_' or '-', and written ``=XX`` (hex) otherwise; a
    leading '.' and the stems of the class files (summary, gradebook) are escaped the same way. So
    ``John Smith`` is ``John=20Smith`` and ``John_Smith-ef61a579`` stays itself: two names never share
    a stem, and ``name_from_safe`` gives the folder name back. Only a stem longer than 120
    characters is shortened (its first 103 characters, '-', 16 hex digits of its SHA-256: exactly
    120, a length no unshortened stem has); the batch creates report files exclusively, so even
    then two submissions never share a file."""
    raw = os.fsencode(submission)
    out = []
    for i, b in enumerate(raw):
        if b in _SAFE_BYTES and b != 0x3D and not (i == 0 and b == 0x2E):
            out.append(chr(b))
        else:
            out.append(f"={b:02X}")
    stem = "".join(out)
    if not stem or stem.lower() in _RESERVED_STEMS:
        stem = (f"={raw[0]:02X}" + stem[1:]) if stem else "="
    if len(stem) >= _NAME_MAX:
        stem = f"{stem[: _NAME_MAX - 17]}-{hashlib.sha256(raw).hexdigest()[:16]}"
    return stem


def name_from_safe(stem: str) -> str:
    """The submission folder name a report stem was made from (``safe_name`` reversed); a
    shortened stem (exactly 120 characters) cannot be reversed: ValueError."""
    if len(stem) >= _NAME_MAX:
        raise ValueError(f"{stem[:20]}...: a shortened report name cannot be reversed")
    if stem == "=":
        return ""
    raw, i = bytearray(), 0
    while i < len(stem):
        if stem[i] == "=":
            raw.append(int(stem[i + 1 : i + 3], 16))
            i += 3
        else:
            raw += stem[i].encode("ascii")
            i += 1
    return os.fsdecode(bytes(raw))


def report_path(out_dir, submission) -> Path:
    """OUT_DIR/<safe_name(submission)>.json."""
    return Path(out_dir) / f"{safe_name(submission)}.json"
