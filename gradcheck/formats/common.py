"""What the output formats share: schemas, check texts, names, atomic JSON writes."""

from __future__ import annotations

import re

from .. import schemas
from ..errors import FormatError
from ..report import (
    ERROR_CHECK_MESSAGE,
    atomic_write_text,
    check_detail_lines,
    clip,
    dumps_json,
    import_error_lines,
    output_lines,
    to_jsonable,
)

__all__ = [
    "FormatError",
    "check_prefix",
    "check_text",
    "dumps",
    "format_schema",
    "student_code_lines",
    "validate_against",
    "write_json",
    "xml_text",
]

SCHEMAS = {
    "gradescope": "schemas/gradescope-results.schema.json",
    "prairielearn": "schemas/prairielearn-results.schema.json",
}


def format_schema(name: str) -> dict:
    """The JSON Schema of a platform's results file ("gradescope" or "prairielearn"), a fresh copy."""
    return schemas.schema(__package__, SCHEMAS[name])


def validate_against(name: str, data) -> None:
    """Raise FormatError naming the fields unless data follows the schema of ``name``."""
    invalid = schemas.problems_text(
        schemas.validator(__package__, SCHEMAS[name]), data, f"{name} results", count_rest=False
    )
    if invalid:
        raise FormatError(invalid)


def dumps(data) -> str:
    return dumps_json(to_jsonable(data), indent=1)


def write_json(data, path) -> None:
    """Write data as JSON atomically (a reader never sees half a file)."""
    atomic_write_text(path, dumps(data))


def check_prefix(check_id: str) -> str:
    """The group of a check id: everything before its last dot (``gates.AddGate`` for
    ``gates.AddGate.forward``, ``graph`` for ``graph.branches``)."""
    head, dot, _ = str(check_id).rpartition(".")
    return head if dot else str(check_id)


def check_text(check, *, message=True, message_chars=1000, detail_lines=True) -> str:
    """A check's message and the lines that explain it (diagnosis, counterexample, worst error),
    clipped: what a platform shows as the test's output (``message=False``: the explanation only)."""
    lines = []
    msg = " ".join(str(check.get("message", "")).split())
    if msg and message:
        lines.append(clip(msg, message_chars))
    status = check.get("status")
    if status in ("error", "timeout", "missing") and msg != ERROR_CHECK_MESSAGE:
        lines.append(f"status: {status}")
    if detail_lines:
        lines.extend(check_detail_lines(check))
    return "\n".join(lines)


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text) -> str:
    """Text XML 1.0 can hold: control characters (other than tab and newlines) and lone surrogates
    become U+FFFD, so a student's odd output never breaks the file."""
    return _XML_BAD.sub("\ufffd", str(text))


def student_code_lines(view, *, max_lines, max_chars, prefix) -> list:
    """What a student sees of their own code's run: modules that did not import (with the error), and
    what the code printed, unless some check is withheld (their prints could reveal its inputs).
    Unlike the feedback text, a last empty line of an error or of the prints is left out."""
    return import_error_lines(view.get("modules"), blank_tail=False) + output_lines(
        view.get("output"), max_lines=max_lines, max_chars=max_chars, prefix=prefix, blank_tail=False
    )
