"""What the output formats share: schemas, check texts, names, atomic JSON writes."""
from __future__ import annotations

import functools
import json
import re
from importlib import resources

import jsonschema

from ..report import (ERROR_CHECK_MESSAGE, atomic_write_text, check_detail_lines, clip, clip_block, dumps_json,
                      to_jsonable)

SCHEMAS = {
    "gradescope": "gradescope-results.schema.json",
    "prairielearn": "prairielearn-results.schema.json",
}


class FormatError(ValueError):
    """Output that does not follow a platform's documented format (a gradcheck bug)."""


@functools.lru_cache(maxsize=None)
def _schema_text(name: str) -> str:
    return resources.files(__package__).joinpath("schemas", SCHEMAS[name]).read_text(encoding="utf-8")


def format_schema(name: str) -> dict:
    """The JSON Schema of a platform's results file ("gradescope" or "prairielearn"), a fresh copy."""
    return json.loads(_schema_text(name))


@functools.lru_cache(maxsize=None)
def _validator(name: str):
    schema = format_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _where(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def validate_against(name: str, data) -> None:
    """Raise FormatError naming the fields unless data follows the schema of ``name``."""
    errors = sorted(_validator(name).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"{_where(e.absolute_path)}: {e.message}" for e in errors[:10]]
        raise FormatError(f"invalid {name} results:\n  " + "\n  ".join(lines))


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
    what the code printed, unless some check is withheld (their prints could reveal its inputs)."""
    lines = []
    for name, m in (view.get("modules") or {}).items():
        if isinstance(m, dict) and not m.get("ok", True):
            lines.append(f"{name}.py could not be imported:")
            lines.extend("    " + ln for ln in clip_block(m.get("error", ""), 12, 1500).splitlines())
    out = view.get("output")
    if isinstance(out, dict):
        if out.get("withheld"):
            if out.get("bytes"):
                lines.append(f"Your code printed {out['bytes']} bytes; not shown while some checks are hidden.")
        elif out.get("text"):
            lines.append("Your code printed" + (" (truncated):" if out.get("truncated") else ":"))
            lines.extend(prefix + ln for ln in clip_block(out["text"], max_lines, max_chars).splitlines())
    return lines
