"""The assignment: which checks run, their points and visibility, limits, tolerances, settings.

``load_assignment()`` reads the packaged ``default.toml``; ``load_assignment(path)`` an instructor's
own file. Every file is validated against ``assignment.schema.json`` (JSON Schema, draft 2020-12)
and then for what a schema cannot say (check ids known and unique). A malformed file raises
``AssignmentError``, whose message names the file, the field (``checks[3].visibility``) and what was
expected.

Sections ``[limits]``, ``[tolerances]`` and ``[settings]`` may be missing or partial in an
instructor's file: missing keys take the packaged default's values. A check left out of the file is
not run and not reported.
"""
from __future__ import annotations

import difflib
import functools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema

__all__ = [
    "Assignment", "AssignmentError", "CheckSpec", "DEFAULT_PATH", "GATES", "KNOWN_CHECKS", "VISIBILITIES",
    "assignment_schema", "load_assignment",
]

HERE = Path(__file__).resolve().parent
DEFAULT_PATH = HERE / "default.toml"
SCHEMA_PATH = HERE / "assignment.schema.json"

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")

GATES = (
    "AddGate", "MultiplyGate", "MaxGate", "ExpGate", "InverseGate", "AddConstantGate", "ScaleGate",
    "SigmoidGate", "TanhGate", "ReLUGate", "MatMulGate", "SoftmaxCrossEntropyGate",
)
GATE_ASPECTS = ("forward", "backward", "numerical", "shapes", "no_mutation")
GRAPH_CHECKS = (
    "graph.lecture_example", "graph.sigmoid_neuron", "graph.branches", "graph.same_node_twice",
    "graph.upstream_gradient", "graph.second_forward", "graph.unused_input", "graph.no_mutation",
    "graph.random_graphs",
)
MLP_CHECKS = (
    "mlp.params", "mlp.forward.sigmoid", "mlp.forward.tanh", "mlp.forward.relu", "mlp.loss",
    "mlp.gradients.sigmoid", "mlp.gradients.tanh", "mlp.gradients.relu", "mlp.numerical", "mlp.sgd_step",
    "mlp.no_mutation", "mlp.train",
)
#: Every check the grader knows how to run, in report order.
KNOWN_CHECKS = tuple(f"gates.{g}.{a}" for g in GATES for a in GATE_ASPECTS) + GRAPH_CHECKS + MLP_CHECKS


class AssignmentError(ValueError):
    """A malformed assignment file. ``str()`` names the file, the field and what was expected.

    Attributes (of the first problem found): ``file``, ``field`` (e.g. ``checks[3].visibility``,
    empty for the file as a whole), ``expected``, and ``problems``: every problem as
    ``(field, expected)`` pairs.
    """

    def __init__(self, file, problems):
        self.file = str(file)
        self.problems = list(problems)
        self.field, self.expected = self.problems[0]
        lines = [f"{_join_field(f)}{e}" for f, e in self.problems]
        super().__init__(f"{self.file}: {lines[0]}" if len(lines) == 1
                         else f"{self.file}: {len(lines)} problems:\n" + "\n".join("  " + ln for ln in lines))


def _join_field(f):
    return f"{f}: " if f else ""


@dataclass(frozen=True)
class CheckSpec:
    """One check of the assignment."""
    id: str                     #: stable id, e.g. ``gates.MultiplyGate.backward``
    points: float               #: the check's max_score in reports
    visibility: str = "visible"  #: one of VISIBILITIES: who sees the result, and when
    description: str = ""       #: one line for humans


@dataclass(frozen=True)
class Assignment:
    """A validated assignment."""
    name: str                   #: machine name, recorded in reports as ``assignment``
    title: str
    path: Path                  #: the file it was loaded from (absolute)
    checks: tuple               #: CheckSpec, in report order (the order of KNOWN_CHECKS)
    limits: dict = field(default_factory=dict)      #: keyword arguments of gradcheck.sandbox.Limits
    tolerances: dict = field(default_factory=dict)  #: rtol, atol, float32_rtol, float32_atol
    settings: dict = field(default_factory=dict)    #: example counts: random_graphs, train_steps

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.checks))

    @property
    def check_ids(self) -> tuple:
        return tuple(c.id for c in self.checks)

    def check(self, check_id: str) -> CheckSpec | None:
        """The CheckSpec with this id, or None when the assignment leaves that check out."""
        for c in self.checks:
            if c.id == check_id:
                return c
        return None

    def __contains__(self, check_id) -> bool:
        return self.check(check_id) is not None


@functools.lru_cache(maxsize=None)
def _schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")


def assignment_schema() -> dict:
    """The assignment file's JSON Schema (a fresh copy)."""
    return json.loads(_schema_text())


@functools.lru_cache(maxsize=None)
def _validator():
    schema = assignment_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# --- messages -------------------------------------------------------------------------------------

def _field_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _got(value) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"a string {value!r}" if len(value) <= 60 else f"a string {value[:57]!r}..."
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return repr(value)


def _got_short(value) -> str:
    return repr(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else _got(value)


_TYPE_NAMES = {"number": "a number", "integer": "an integer", "string": "a string", "object": "a table",
               "array": "an array", "boolean": "a boolean"}


def _describe(schema: dict) -> str:
    """What a value under this (sub)schema must be, in words."""
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    t = schema.get("type")
    words = _TYPE_NAMES.get(t, "a value")
    bounds = []
    if "minimum" in schema:
        bounds.append(f">= {schema['minimum']:g}")
    if "exclusiveMinimum" in schema:
        bounds.append(f"> {schema['exclusiveMinimum']:g}")
    if "maximum" in schema:
        bounds.append(f"<= {schema['maximum']:g}")
    if bounds:
        words += " " + " and ".join(bounds)
    if t == "array" and "minItems" in schema:
        words += f" of at least {schema['minItems']} item(s)"
    if t == "object" and "properties" in schema and schema.get("additionalProperties") is False:
        words += " with keys among " + ", ".join(schema["properties"])
    if t == "string" and "description" in schema:
        words += f" ({schema['description']})"
    return words


def _problem(error) -> tuple[str, str]:
    """(field, expected ...; got ...) for one jsonschema error."""
    path = list(error.absolute_path)
    v, inst, sch = error.validator, error.instance, error.schema
    if v == "required":
        missing = [k for k in error.validator_value if not (isinstance(inst, dict) and k in inst)]
        name = missing[0] if missing else "?"
        sub = error.schema.get("properties", {}).get(name, {})
        return _field_path(path + [name]), f"missing; expected {_describe(sub)}"
    if v == "additionalProperties":
        allowed = list(sch.get("properties", {}))
        extra = sorted(k for k in inst if k not in allowed)
        name = extra[0] if extra else "?"
        hint = difflib.get_close_matches(name, allowed, n=1)
        hint = f" (did you mean {hint[0]!r}?)" if hint else ""
        return _field_path(path + [name]), f"unknown field{hint}; expected one of {', '.join(allowed)}"
    if v == "enum":
        return _field_path(path), f"expected one of {', '.join(map(str, sch['enum']))}; got {_got_short(inst)}"
    if v == "type":
        return _field_path(path), f"expected {_TYPE_NAMES.get(sch['type'], sch['type'])}; got {_got(inst)}"
    if v == "minItems":
        return _field_path(path), f"expected at least {sch['minItems']} item(s); got {len(inst)}"
    return _field_path(path), f"expected {_describe(sch)}; got {_got(inst)}"


def _sort_key(error):
    return ([(0, p, "") if isinstance(p, int) else (1, 0, p) for p in error.absolute_path], error.validator)


def _id_problems(checks) -> list:
    problems, seen = [], {}
    for i, c in enumerate(checks):
        cid = c.get("id") if isinstance(c, dict) else None
        if not isinstance(cid, str):
            continue
        if cid not in KNOWN_CHECKS:
            hint = difflib.get_close_matches(cid, KNOWN_CHECKS, n=1)
            hint = f" (did you mean {hint[0]!r}?)" if hint else ""
            problems.append((f"checks[{i}].id", "expected a known check id (all are listed in the packaged "
                             f"default.toml); got {cid!r}{hint}"))
        elif cid in seen:
            problems.append((f"checks[{i}].id",
                             f"expected each check id once; got {cid!r} again (first at checks[{seen[cid]}])"))
        else:
            seen[cid] = i
    return problems


# --- loading --------------------------------------------------------------------------------------

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
    errors = sorted(_validator().iter_errors(data), key=_sort_key)
    problems = [_problem(e) for e in errors]
    if isinstance(data.get("checks"), list):
        problems += _id_problems(data["checks"])
    if problems:
        # one message per field, schema errors first, in file order
        seen, unique = set(), []
        for p in problems:
            if p not in seen:
                seen.add(p)
                unique.append(p)
        raise AssignmentError(shown, unique)


@functools.lru_cache(maxsize=None)
def _default_sections() -> dict:
    data = _read_toml(DEFAULT_PATH, DEFAULT_PATH)
    _validate(data, DEFAULT_PATH)
    return {k: dict(data.get(k, {})) for k in ("limits", "tolerances", "settings")}


def load_assignment(path=None) -> Assignment:
    """Load and validate an assignment file (None: the packaged default). Raises AssignmentError."""
    shown = DEFAULT_PATH if path is None else path
    p = Path(shown)
    data = _read_toml(p, shown)
    _validate(data, shown)
    defaults = _default_sections()
    sections = {k: {**defaults[k], **data.get(k, {})} for k in defaults}
    order = {cid: i for i, cid in enumerate(KNOWN_CHECKS)}
    specs = sorted(
        (CheckSpec(id=c["id"], points=float(c["points"]), visibility=c["visibility"],
                   description=c.get("description", "")) for c in data["checks"]),
        key=lambda c: order[c.id])
    return Assignment(
        name=data["name"], title=data.get("title", data["name"]), path=p.resolve(), checks=tuple(specs),
        limits=sections["limits"], tolerances=sections["tolerances"], settings=sections["settings"])
