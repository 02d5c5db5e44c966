"""The private copy of a submission folder that a session's workers get (``Session.staged`` says
what was copied and what was not, and why).

Only the folder's top-level regular files are copied, within ``Limits.submission_files`` and
``Limits.submission_mb``; no link is ever followed. The copy is made in the sandbox's own folder,
which workers never see; each worker gets its own copy of the copy (``isolation.setup_child``).
``walk`` is where these rules are applied (``stage`` writes what it decides; the cluster's client
reads a submission with it, gradcheck/cluster/snapshot.py).
"""

import os
import stat
from typing import NamedTuple

from ..contract import MODULES
from .messages import (
    MSG_LINK,
    MSG_NOT_FOUND,
    WHY_LINK,
    WHY_NOT_REGULAR,
    WHY_TOO_BIG,
    WHY_TOO_MANY_ENTRIES,
    WHY_TOO_MANY_FILES,
)

STAGING_SCAN_LIMIT = 100_000  # entries of a submission folder looked at (the contract's modules always)
STAGING_NAMES_KEPT = 1000  # skipped files named in Session.staged (all are counted)


class Entry(NamedTuple):
    """One entry of a submission folder and what staging does with it.

    ``kind``: "file" (copied: ``data`` holds its bytes), "link", "other" (not a regular file),
    "many" (a regular file past ``submission_files``), "big" (past ``submission_mb``: ``data`` holds
    what was read, one byte more than the room left), "unreadable" (it could not be opened) or
    "unscanned" (past ``STAGING_SCAN_LIMIT`` entries). ``why``: the reason it is not copied, as
    ``Session.staged`` names it (None when copied, and for ``__pycache__``, left out silently)."""

    name: str
    kind: str
    data: bytes | None = None
    why: str | None = None


def walk(src, limits, modules=MODULES):
    """The entries of ``src`` and what staging does with each, in the order it decides (Entry).

    Never follows a link: ``src`` itself is opened with O_NOFOLLOW and every file relative to it
    (openat), so a link to the reference, a classmate or /etc is skipped. The ``modules`` (the
    assignment's) are taken first, then the other files by name, until a cap is reached; at most
    ``limits.submission_mb`` bytes are read in all (plus one byte of the first file past the cap).
    Raises FileNotFoundError (its message names the folder) when ``src`` cannot be opened or is a link."""
    try:
        src_fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        if os.path.islink(src):
            raise FileNotFoundError(MSG_LINK.format(name=os.path.basename(src))) from None
        raise FileNotFoundError(MSG_NOT_FOUND.format(path=src, reason=exc.strerror)) from None
    cap = limits.submission_mb * 2**20
    contract = {f"{m}.py": i for i, m in enumerate(modules)}
    try:
        entries = []
        with os.scandir(src_fd) as it:
            for e in it:
                if len(entries) >= STAGING_SCAN_LIMIT and e.name not in contract:
                    yield Entry(e.name, "unscanned", why=WHY_TOO_MANY_ENTRIES.format(limit=STAGING_SCAN_LIMIT))
                    continue
                entries.append((e.name, e.is_symlink(), e.is_file(follow_symlinks=False)))
        entries.sort(key=lambda e: (contract.get(e[0], len(contract)), os.fsencode(e[0])))
        for name, is_link, is_file in entries:  # links and the like first: they are named before the rest
            if is_link:
                yield Entry(name, "link", why=WHY_LINK)
            elif not is_file:  # Python's own cache is not the student's: left out without a word
                yield Entry(name, "other", why=None if name == "__pycache__" else WHY_NOT_REGULAR)
        copied, total = 0, 0
        for name, is_link, is_file in entries:
            if is_link or not is_file:
                continue
            if copied >= limits.submission_files:
                yield Entry(name, "many", why=WHY_TOO_MANY_FILES.format(limit=limits.submission_files))
                continue
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=src_fd)
            except OSError as exc:
                yield Entry(name, "unreadable", why=exc.strerror or str(exc))
                continue
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    yield Entry(name, "other", why=WHY_NOT_REGULAR)
                    continue
                data = f.read(cap - total + 1)
            if total + len(data) > cap:
                yield Entry(name, "big", data, WHY_TOO_BIG.format(mb=limits.submission_mb))
                continue
            total += len(data)
            copied += 1
            yield Entry(name, "file", data)
    finally:
        os.close(src_fd)


def stage(src, dst, limits, modules=MODULES):
    """Copy the regular files of ``src`` (no links, no folders) into ``dst``, within the caps (``walk``).

    Returns what was copied (``files``, ``bytes``) and what was not: ``skipped`` (name, why; the
    first 1000, links first) with names shown as text (bytes that are not UTF-8 as \\xNN), and
    ``skipped_counts`` by reason."""
    copied, skipped, counts, total = [], [], {}, 0
    for entry in walk(src, limits, modules):
        shown = os.fsencode(entry.name).decode("utf-8", "backslashreplace")
        if entry.kind == "file":
            out = os.open(os.path.join(dst, entry.name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(out, "wb") as f:
                f.write(entry.data)
            total += len(entry.data)
            copied.append(shown)
        elif entry.why is not None:  # the first STAGING_NAMES_KEPT are named, all are counted
            counts[entry.why] = counts.get(entry.why, 0) + 1
            if len(skipped) < STAGING_NAMES_KEPT:
                skipped.append({"name": shown, "why": entry.why, **({"link": True} if entry.kind == "link" else {})})
    return {"files": copied, "skipped": skipped, "skipped_counts": counts, "bytes": total}
