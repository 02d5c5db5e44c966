"""The assignment's digest: one hash of everything the assignment brings to a report.

Reports record it as ``assignment_hash`` (``grade --resume`` keeps a report only when it is the
current one). ``assignment_digest`` is the one place that says what counts; everything else calls it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os

__all__ = ["assignment_digest"]

# Note [Assignment digest]
# ~~~~~~~~~~~~~~~~~~~~~~~~
# What decides a report besides the submission, the seed and gradcheck's own code (whose version a
# report records apart):
# - the assignment as loaded: name, title, every check (id, points, visibility, description), limits,
#   tolerances, settings, the modules a submission holds and every unit (its inputs, domains, cases,
#   bugs), with the packaged defaults filled in (so editing a comment of the file changes nothing, and
#   a key left to the default changes it when the default changes);
# - the model solution the checks compare with: the files of its folder (``reference_dir``; in a
#   student build, the recorded results that stand in for it), names and bytes.
# Where the assignment lies is not in it: the same assignment copied elsewhere has the same digest.


@functools.cache
def _folder_digest(folder: str) -> str:
    """SHA-256 of the regular files directly in ``folder`` (name and bytes, by name), read once per process."""
    h = hashlib.sha256()
    try:
        with os.scandir(folder) as it:
            names = sorted(e.name for e in it if e.is_file(follow_symlinks=False))
    except OSError as e:
        return f"unreadable: {e.strerror}"
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        h.update(len(name.encode()).to_bytes(8, "big") + name.encode() + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def _reference_folder(assignment):
    folder = getattr(assignment, "reference_dir", None)
    if folder is None:  # an assignment made without one: the packaged reference's
        import importlib.util

        spec = importlib.util.find_spec("gradcheck.reference")
        folder = spec.submodule_search_locations[0] if spec is not None and spec.submodule_search_locations else None
    return None if folder is None else os.fspath(folder)


def _plain(value):
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) and not isinstance(value, type) else value


_MADE = {}  # id(assignment) -> (assignment, digest): an Assignment is frozen; every report asks again


def assignment_digest(assignment) -> str:
    """The SHA-256 (64 hex digits) of the assignment's loaded content and its model solution
    (Note [Assignment digest])."""
    made = _MADE.get(id(assignment))
    if made is not None and made[0] is assignment:
        return made[1]
    digest = _digest(assignment)
    if len(_MADE) >= 16:
        _MADE.clear()
    _MADE[id(assignment)] = (assignment, digest)
    return digest


def _digest(assignment) -> str:
    folder = _reference_folder(assignment)
    content = {
        "name": assignment.name,
        "title": assignment.title,
        "checks": [[c.id, float(c.points), c.visibility, c.description] for c in assignment.checks],
        "limits": assignment.limits,
        "tolerances": assignment.tolerances,
        "settings": assignment.settings,
        "modules": list(getattr(assignment, "modules", ())),
        "units": [_plain(u) for u in getattr(assignment, "units", ())],
        "reference": _folder_digest(folder) if folder else None,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return hashlib.sha256(b"gradcheck assignment digest 2\0" + text.encode()).hexdigest()
