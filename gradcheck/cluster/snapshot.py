"""A submission as bytes, for a grader on another machine: ``read_submission`` on the client,
``materialize`` on the Dask worker.

The client reads what the grader would look at, with the local path's own rules (``inspect_submission``
finds the folder holding the modules and refuses a linked submission folder; ``sandbox.staging.walk``
decides, file by file, what is copied, within ``submission_files`` and ``submission_mb``, never
following a link). Only the bytes of the files that staging copies travel; every other entry travels
as its name and kind. The worker rebuilds from that a folder that the unchanged grader grades exactly
as it would grade the original (see Note [Placeholders]).

Note [Placeholders]
~~~~~~~~~~~~~~~~~~~
The report of a submission names what was not graded (links, folders, files past a cap) and which
modules are missing, so the rebuilt folder holds, besides the copied files, a stand-in of every entry
that the grader looks at, of the same kind: a link (to a path that does not exist, never followed
anyway), an empty folder for what is not a regular file, an empty file for a file past the file cap,
a sparse file of the size staging read for a file past the byte cap (so the grader reads the same
number of bytes and decides the same), a file without permissions for one that could not be opened.
Beside the graded folder (when a submission holds its modules one folder down) only the links are
rebuilt: they are all the grader looks at there. Then ``inspect_submission`` and ``walk`` decide on
the worker what they decided on the client, by the same code, and the report is the one a local run
writes (``tests/test_cluster.py`` compares them). One field is not made again on the worker: the
report's ``submission_hash`` (``submission.submission_digest``, which ``grade --resume`` compares with
the folder) hashes the original folder, stand-ins and all; the client computes it and sends it along.

Two things differ where the local grader itself depends on the machine: a file that cannot be opened
(Permission denied as a user) opens on a worker that runs as root, and is then graded as an empty
file; and entries past ``STAGING_SCAN_LIMIT`` (100,000) in a folder are not sent (which ones are
looked at depends on the file system's order, locally too), so the report does not name them.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..contract import MODULES
from ..sandbox.staging import STAGING_SCAN_LIMIT, walk
from ..submission import inspect_submission, submission_digest

__all__ = ["SnapshotError", "materialize", "read_submission"]

#: where a rebuilt link points: nowhere (the grader never follows a link; this makes sure)
LINK_TARGET = "/nonexistent/gradcheck: a symbolic link of the submission, not followed"
_KINDS = ("file", "link", "other", "many", "big", "unreadable")


class SnapshotError(ValueError):
    """A snapshot that cannot be rebuilt (not one that read_submission makes)."""


def read_submission(path, limits, modules=MODULES) -> dict:
    """What the grader looks at in the submission folder ``path``, as plain data (bytes and lists).

    Raises ``submission.SubmissionRefused`` when ``path`` is a symbolic link (as the local grader does)
    and FileNotFoundError when the folder that holds the modules cannot be opened. ``limits``: the
    sandbox's ``Limits`` (its ``submission_files`` and ``submission_mb`` bound what is read);
    ``modules``: the assignment's module names."""
    path = Path(path)
    digest = submission_digest(path, modules)  # the original's, for its report (Note [Placeholders])
    root, _ = inspect_submission(path, modules)  # refuses a link; the notes are the worker's to make again
    inner = None if root == path else os.fsencode(root.name)
    beside = []
    if inner is not None:
        with os.scandir(path) as entries:  # only names and kinds: nothing is opened or followed
            for seen, e in enumerate(entries):
                if seen >= STAGING_SCAN_LIMIT:
                    break
                if e.is_symlink():
                    beside.append(os.fsencode(e.name))
    entries = []
    for e in walk(root, limits, modules):
        if e.kind == "unscanned":
            continue
        payload = e.data if e.kind == "file" else len(e.data) if e.kind == "big" else None
        entries.append((os.fsencode(e.name), e.kind, payload))
    return {"name": os.fsencode(path.name), "inner": inner, "beside": beside, "entries": entries, "digest": digest}


def _check_name(name) -> bytes:
    if not isinstance(name, bytes) or not name or b"/" in name or b"\0" in name or name in (b".", b".."):
        raise SnapshotError(f"not a file name: {name!r}")
    return name


def materialize(snapshot, folder) -> Path:
    """Rebuild ``snapshot`` in ``folder`` (an empty private folder): returns the submission folder,
    ``folder``/<its name>, to grade as the original (Note [Placeholders]). Nothing is followed: every
    entry is created relative to its folder, exclusively."""
    top_name = _check_name(snapshot["name"])
    folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        os.mkdir(top_name, 0o700, dir_fd=folder_fd)
        top_fd = os.open(top_name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder_fd)
    finally:
        os.close(folder_fd)
    try:
        root_fd = top_fd
        if snapshot["inner"] is not None:
            inner = _check_name(snapshot["inner"])
            os.mkdir(inner, 0o700, dir_fd=top_fd)
            root_fd = os.open(inner, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=top_fd)
            for name in snapshot["beside"]:
                os.symlink(LINK_TARGET, _check_name(name), dir_fd=top_fd)
        try:
            for name, kind, payload in snapshot["entries"]:
                _make(root_fd, _check_name(name), kind, payload)
        finally:
            if root_fd != top_fd:
                os.close(root_fd)
    finally:
        os.close(top_fd)
    return Path(os.fsdecode(os.path.join(os.fsencode(folder), top_name)))


def _make(dir_fd, name, kind, payload):
    if kind not in _KINDS:
        raise SnapshotError(f"unknown kind of entry {kind!r} for {name!r}")
    if kind == "link":
        os.symlink(LINK_TARGET, name, dir_fd=dir_fd)
        return
    if kind == "other":
        os.mkdir(name, 0o700, dir_fd=dir_fd)
        return
    mode = 0 if kind == "unreadable" else 0o600
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode, dir_fd=dir_fd)
    with os.fdopen(fd, "wb") as f:
        if kind == "file":
            f.write(payload)
        elif kind == "big":
            f.truncate(int(payload))  # sparse: as many bytes as staging read, none of them stored
