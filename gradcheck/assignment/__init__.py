"""The assignment: which checks run, their points and visibility, limits, tolerances, settings.

``load_assignment()`` reads the bundled default (``assignments/lecture/assignment.toml``);
``load_assignment(path)`` an instructor's
own file, validated against ``assignment.schema.json``; a malformed file raises ``AssignmentError``
naming the file, the field and what was expected. A check left out of the file is not run and not
reported.

Modules: ``model`` (``Assignment``, ``CheckSpec``, ``VISIBILITIES``), ``known`` (every check id the
grader knows, ``KNOWN_CHECKS``), ``messages`` (what a malformed file is told), ``loading``
(``load_assignment``, ``assignment_schema``, ``DEFAULT_PATH``), ``digest`` (``assignment_digest``: the
hash reports record). This package root only re-exports.
"""

from __future__ import annotations

from ..errors import AssignmentError
from .digest import assignment_digest
from .known import GATES, KNOWN_CHECKS
from .loading import DEFAULT_PATH, assignment_schema, load_assignment
from .model import VISIBILITIES, Assignment, CheckSpec

__all__ = [
    "Assignment",
    "AssignmentError",
    "CheckSpec",
    "DEFAULT_PATH",
    "GATES",
    "KNOWN_CHECKS",
    "VISIBILITIES",
    "assignment_digest",
    "assignment_schema",
    "load_assignment",
]
