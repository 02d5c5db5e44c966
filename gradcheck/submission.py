"""A submission folder as the grader reads it: where its modules are (``inspect_submission``) and a
hash of what the grader reads there (``submission_digest``), never following a link.

The rules are the grader's (``grading`` uses them, and the sandbox copies the top-level regular files
of the folder they find, ``sandbox.staging``): the folder graded is the submission folder itself, or
its only real subfolder holding module files; links are named, never followed.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from . import contract
from .report import display_name

__all__ = [
    "DIGEST_CONTENT_CAP",
    "LINK_NOTE",
    "SubmissionRefused",
    "entry_kind",
    "find_submission",
    "inspect_submission",
    "submission_digest",
    "submission_modules",
]

LINK_NOTE = "{name} is a symbolic link; links are not graded"
#: Bytes of file content a submission's digest reads, all files together; past it, a file counts by
#: its size and modification time (the sandbox copies at most the assignment's ``submission_mb``).
DIGEST_CONTENT_CAP = 64 * 2**20


class SubmissionRefused(Exception):
    """A submission the grader will not look into (its folder is a symbolic link): the message says
    why, and becomes the submission's error report."""


def submission_modules(assignment) -> tuple:
    """The modules a submission of ``assignment`` holds (the default contract's when it names none)."""
    return tuple(getattr(assignment, "modules", None) or contract.MODULES)


def entry_kind(path):
    """ "file", "dir", "link" or None (missing or something else), never following a link."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return "link" if stat.S_ISLNK(mode) else "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else None


def inspect_submission(path: Path, modules=contract.MODULES) -> tuple[Path, list[str]]:
    """(the folder holding the student's modules, notes for the report), never following a link.

    The folder is ``path`` itself, or its only real subfolder (not a link) that holds module files
    (students often hand in a zip of their folder). Links are named in the notes ("hw is a symbolic
    link; links are not graded"): a link to the reference, to a classmate's folder or to /etc is
    never read on the trusted side. Raises SubmissionRefused when ``path`` itself is a link.
    ``modules``: the assignment's module names."""
    path = Path(path)
    files = tuple(f"{m}.py" for m in modules)
    if entry_kind(path) == "link":
        raise SubmissionRefused(LINK_NOTE.format(name=display_name(path.name)))
    if any(entry_kind(path / m) == "file" for m in files):
        return path, []  # what is not copied (links among it) the sandbox's staging names
    inner, links = [], []
    try:
        with os.scandir(path) as entries:
            for e in entries:
                if e.name.startswith((".", "_")):
                    continue
                if e.is_symlink():
                    links.append(e.name)
                elif e.is_dir(follow_symlinks=False) and any(entry_kind(Path(e.path) / m) == "file" for m in files):
                    inner.append(e.name)
    except OSError:
        return path, []
    if len(inner) == 1:  # links beside the folder graded are not staged: name them here
        return path / inner[0], [LINK_NOTE.format(name=display_name(n)) for n in sorted(links)[:10]]
    return path, []


def find_submission(path: Path, modules=contract.MODULES) -> Path:
    """The folder holding the student's modules (see inspect_submission), never through a link."""
    return inspect_submission(path, modules)[0]


# Note [Submission digest]
# ~~~~~~~~~~~~~~~~~~~~~~~~
# A report records ``submission_hash`` so that ``grade --resume`` can tell that a submission is the one
# its report was made from. Everything a report depends on must be in it, and nothing a student can use
# to make the grader read what it would not read otherwise:
# - the names and kinds (file, folder, link, other) of the submission folder's entries: they decide
#   which folder is graded and the notes on links beside it;
# - where the graded folder is (the folder itself, or its only subfolder holding modules), and the
#   names and kinds of its entries (the sandbox's notes on what it did not copy, the missing modules);
# - the bytes of its top-level regular files (what the sandbox copies), opened relative to the folder
#   with O_NOFOLLOW, as the sandbox opens them, in the order of their names' bytes; past
#   DIGEST_CONTENT_CAP bytes in all, a file counts by its size and modification time (the sandbox
#   copies only ``submission_mb``, 8 MB by default, and does not grade the rest).
# Files in subfolders are not copied by the sandbox, so their content is not read. Every name and
# value is length-prefixed, so two different folders never hash the same stream.


def _put(h, tag: bytes, data: bytes = b"") -> None:
    h.update(tag + len(data).to_bytes(8, "big") + data)


def _listing(h, folder) -> list:
    """Hash the names and kinds of ``folder``'s entries; returns the names of its regular files."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(
                (os.fsencode(e.name), e.is_symlink(), e.is_file(follow_symlinks=False), e.is_dir(follow_symlinks=False))
                for e in it
            )
    except OSError as e:
        _put(h, b"E", str(e.errno).encode())
        return []
    files = []
    for name, is_link, is_file, is_dir in entries:
        kind = b"l" if is_link else b"f" if is_file else b"d" if is_dir else b"o"
        _put(h, kind, name)
        if kind == b"f":
            files.append(name)
    return files


def _contents(h, folder, names) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as e:
        _put(h, b"E", str(e.errno).encode())
        return
    budget = DIGEST_CONTENT_CAP
    try:
        for name in names:
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
            except OSError as e:
                _put(h, b"E", name + b"\0" + str(e.errno).encode())
                continue
            with os.fdopen(fd, "rb") as f:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    _put(h, b"O", name)
                    continue
                if st.st_size > budget:
                    _put(h, b"S", name + b"\0" + f"{st.st_size}:{st.st_mtime_ns}".encode())
                    continue
                content = hashlib.sha256()
                size = 0
                while chunk := f.read(min(1 << 20, budget - size + 1)):
                    content.update(chunk)
                    size += len(chunk)
                    if size > budget:
                        break
                budget -= min(size, budget)
                _put(h, b"C", name + b"\0" + size.to_bytes(8, "big") + content.digest())
    finally:
        os.close(dir_fd)


def submission_digest(path, modules=contract.MODULES) -> str:
    """The SHA-256 (64 hex digits) of a submission as the grader reads it (Note [Submission digest]):
    equal digests, same report (with the same assignment, seed and gradcheck version). ``modules``: the
    assignment's module names (which folder is graded depends on them). Never follows a link and never
    raises: a folder that is a link, is missing or cannot be read has a digest too."""
    h = hashlib.sha256(b"gradcheck submission digest 1\0")
    path = Path(path)
    kind = entry_kind(path)
    _put(h, b"K", (kind or "none").encode())
    if kind != "dir":
        return h.hexdigest()
    files = _listing(h, path)
    root, _ = inspect_submission(path, modules)
    if root != path:
        _put(h, b"R", os.fsencode(root.name))
        files = _listing(h, root)
    _contents(h, root, files)
    return h.hexdigest()
