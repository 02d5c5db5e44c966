"""The JSON Schemas gradcheck ships, and how their problems are named: the one place for both.

``schema(package, name)`` reads a schema file of a gradcheck package (a fresh copy each call);
``validator(package, name)`` is its draft 2020-12 validator, made once, after the schema itself
was checked. ``json_path`` says where a problem is; ``by_location`` and ``by_path_text`` are the
orders in which problems are listed (see Note [Order of schema problems]); ``problems_text`` is the
message of a document that does not follow its schema (reports, platform results).
"""

from __future__ import annotations

import functools
import json
from importlib import resources

import jsonschema

__all__ = ["by_location", "by_path_text", "json_path", "problems_text", "schema", "validator"]


@functools.cache
def _text(package: str, name: str) -> str:
    return resources.files(package).joinpath(*name.split("/")).read_text(encoding="utf-8")


def schema(package: str, name: str) -> dict:
    """The JSON Schema in file ``name`` (a path under the package, e.g. ``schemas/x.json``) of
    ``package`` (e.g. ``gradcheck.assignment``), a fresh copy."""
    return json.loads(_text(package, name))


@functools.cache
def validator(package: str, name: str) -> jsonschema.Draft202012Validator:
    """The validator of that schema (checked against the metaschema first), made once per process."""
    s = schema(package, name)
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


def json_path(parts, top: str = "") -> str:
    """Where a value sits in a JSON document, as jsonschema's ``ValidationError.json_path`` writes it
    but without its leading ``$.``: ``checks[3].visibility``; ``top`` for the document itself."""
    path = ""
    for p in parts:
        path += f"[{p}]" if isinstance(p, int) else (f".{p}" if path else str(p))
    return path or top


# Note [Order of schema problems]
# A document with several problems gets them listed in a fixed order, so the same document always
# gets the same message (jsonschema yields them in no promised order). Two orders, one per kind of
# document, kept as they were when the messages were first written (tests and users read them):
# - by_location: a file a person wrote (the assignment file): in the file's order, array indexes
#   as numbers (checks[2] before checks[10]), then by keyword; its first problem is the one an
#   AssignmentError names as ``field``.
# - by_path_text: a document gradcheck made (a report, a platform's results; a problem there is a
#   grader bug): by the text of each path element; problems at the same place keep jsonschema's
#   order.
# jsonschema's ``best_match`` picks by relevance instead (the deepest, strongest keyword first);
# it is not used: it would reorder messages that must stay as they are.


def by_location(error) -> tuple:
    """Sort key: where the problem is in the document, in its order (Note [Order of schema problems])."""
    return ([(0, p, "") if isinstance(p, int) else (1, 0, p) for p in error.absolute_path], error.validator)


def by_path_text(error) -> list:
    """Sort key: the text of each element of the problem's path (Note [Order of schema problems])."""
    return [str(p) for p in error.absolute_path]


def problems_text(checker, data, what: str, *, most: int = 10, count_rest: bool = True) -> str | None:
    """None when ``data`` follows ``checker``'s schema; else ``invalid <what>:`` and one line per
    problem (``path: what jsonschema says``) in the order ``by_path_text``, the first ``most`` of them,
    with ``... and N more`` after when ``count_rest``."""
    errors = sorted(checker.iter_errors(data), key=by_path_text)
    if not errors:
        return None
    lines = [f"{json_path(e.absolute_path, '(top level)')}: {e.message}" for e in errors[:most]]
    more = f"\n  ... and {len(errors) - most} more" if count_rest and len(errors) > most else ""
    return f"invalid {what}:\n  " + "\n  ".join(lines) + more
