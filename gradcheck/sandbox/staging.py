"""The private copy of a submission folder that a session's workers get (``Session.staged`` says
what was copied and what was not, and why).

Only the folder's top-level regular files are copied, within ``Limits.submission_files`` and
``Limits.submission_mb``; no link is ever followed. The copy is made in the sandbox's own folder,
which workers never see; each worker gets its own copy of the copy (``isolation.setup_child``).
"""

import os
import stat

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


def stage(src, dst, limits, modules=MODULES):
    """Copy the regular files of ``src`` (no links, no folders) into ``dst``, within the caps.

    Never follows a link: ``src`` itself is opened with O_NOFOLLOW and every file relative to it
    (openat), so a link to the reference, a classmate or /etc is skipped, and named. The
    contract's modules are taken first, then the other files by name; whatever is not copied is
    listed in ``skipped`` (name, why; the first 1000) with names shown as text (bytes that are not
    UTF-8 as \\xNN), and counted by reason in ``skipped_counts``."""
    try:
        src_fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        if os.path.islink(src):
            raise FileNotFoundError(MSG_LINK.format(name=os.path.basename(src))) from None
        raise FileNotFoundError(MSG_NOT_FOUND.format(path=src, reason=exc.strerror)) from None
    copied, skipped, counts, total = [], [], {}, 0
    cap = limits.submission_mb * 2**20
    contract = {f"{m}.py": i for i, m in enumerate(modules)}

    def skip(name, why, **extra):  # the first STAGING_NAMES_KEPT are named, all are counted
        counts[why] = counts.get(why, 0) + 1
        if len(skipped) < STAGING_NAMES_KEPT:
            skipped.append({"name": os.fsencode(name).decode("utf-8", "backslashreplace"), "why": why, **extra})

    try:
        entries = []
        with os.scandir(src_fd) as it:
            for e in it:
                if len(entries) >= STAGING_SCAN_LIMIT and e.name not in contract:
                    skip(e.name, WHY_TOO_MANY_ENTRIES.format(limit=STAGING_SCAN_LIMIT))
                    continue
                entries.append((e.name, e.is_symlink(), e.is_file(follow_symlinks=False)))
        entries.sort(key=lambda e: (contract.get(e[0], len(contract)), os.fsencode(e[0])))
        for name, is_link, is_file in entries:  # links and the like first: they are named before the rest
            if is_link:
                skip(name, WHY_LINK, link=True)
            elif not is_file and name != "__pycache__":  # Python's own cache: not the student's
                skip(name, WHY_NOT_REGULAR)
        for name, is_link, is_file in entries:
            if is_link or not is_file:
                continue
            if len(copied) >= limits.submission_files:
                skip(name, WHY_TOO_MANY_FILES.format(limit=limits.submission_files))
                continue
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=src_fd)
            except OSError as exc:
                skip(name, exc.strerror or str(exc))
                continue
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    skip(name, WHY_NOT_REGULAR)
                    continue
                data = f.read(cap - total + 1)
            if total + len(data) > cap:
                skip(name, WHY_TOO_BIG.format(mb=limits.submission_mb))
                continue
            total += len(data)
            out = os.open(os.path.join(dst, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(out, "wb") as f:
                f.write(data)
            copied.append(os.fsencode(name).decode("utf-8", "backslashreplace"))
    finally:
        os.close(src_fd)
    return {"files": copied, "skipped": skipped, "skipped_counts": counts, "bytes": total}
