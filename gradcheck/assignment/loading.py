"""Reading an assignment file: TOML, validated, with the packaged default's sections filled in.

``load_assignment()`` reads the packaged ``default.toml``; ``load_assignment(path)`` an instructor's
own file. Every file is validated against ``assignment.schema.json`` (JSON Schema, draft 2020-12)
and then for what a schema cannot say (check ids known and unique). A malformed file raises
``AssignmentError``, whose message names the file, the field (``checks[3].visibility``) and what was
expected: every problem, in the file's order (Note [Order of schema problems] in gradcheck/schemas.py).
"""

from __future__ import annotations

import functools
import importlib.util
import tomllib
from pathlib import Path

from .. import contract, schemas
from ..errors import AssignmentError
from .known import KNOWN_CHECKS
from .messages import id_problems, problem
from .model import Assignment, CheckSpec

__all__ = ["DEFAULT_PATH", "assignment_schema", "load_assignment"]

DEFAULT_PATH = Path(__file__).resolve().with_name("default.toml")
_SCHEMA = (__package__, "assignment.schema.json")


def assignment_schema() -> dict:
    """The assignment file's JSON Schema (a fresh copy)."""
    return schemas.schema(*_SCHEMA)


def _read_toml(path: Path, shown) -> dict:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AssignmentError(shown, [("", "file not found; expected an assignment TOML file")]) from None
    except IsADirectoryError:
        raise AssignmentError(shown, [("", "is a directory; expected an assignment TOML file")]) from None
    except OSError as e:
        raise AssignmentError(shown, [("", f"cannot be read ({e.strerror}); expected a readable TOML file")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AssignmentError(shown, [("", f"not UTF-8 text (byte {e.start}); expected a TOML file")]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise AssignmentError(shown, [("", f"invalid TOML syntax: {e}")]) from None


def _validate(data: dict, shown) -> None:
    errors = sorted(schemas.validator(*_SCHEMA).iter_errors(data), key=schemas.by_location)
    problems = [problem(e) for e in errors]
    if isinstance(data.get("checks"), list):
        problems += id_problems(data["checks"])
    if problems:
        # one message per field, schema errors first, in file order
        raise AssignmentError(shown, list(dict.fromkeys(problems)))


@functools.cache
def _default_sections() -> dict:
    data = _read_toml(DEFAULT_PATH, DEFAULT_PATH)
    _validate(data, DEFAULT_PATH)
    return {k: dict(data.get(k, {})) for k in ("limits", "tolerances", "settings")}


def load_assignment(path=None) -> Assignment:
    """Load and validate an assignment file (None: the packaged default). Raises AssignmentError.

    Sections ``[limits]``, ``[tolerances]`` and ``[settings]`` may be missing or partial: missing
    keys take the packaged default's values. A check left out of the file is not run and not
    reported; the others come in report order (that of KNOWN_CHECKS)."""
    shown = DEFAULT_PATH if path is None else path
    p = Path(shown)
    data = _read_toml(p, shown)
    _validate(data, shown)
    defaults = _default_sections()
    sections = {k: {**defaults[k], **data.get(k, {})} for k in defaults}
    order = {cid: i for i, cid in enumerate(KNOWN_CHECKS)}
    specs = sorted(
        (
            CheckSpec(
                id=c["id"], points=float(c["points"]), visibility=c["visibility"], description=c.get("description", "")
            )
            for c in data["checks"]
        ),
        key=lambda c: order[c.id],
    )
    return Assignment(
        name=data["name"],
        title=data.get("title", data["name"]),
        path=p.resolve(),
        checks=tuple(specs),
        limits=sections["limits"],
        tolerances=sections["tolerances"],
        settings=sections["settings"],
        modules=contract.MODULES,
        reference_dir=_reference_dir(),
    )


def _reference_dir() -> Path:
    """The folder of the lecture's model solution (``reference/``, installed as gradcheck.reference)."""
    return Path(importlib.util.find_spec("gradcheck.reference").origin).resolve().parent
