"""Reading an assignment file: TOML, validated, with the packaged default's sections filled in.

``load_assignment()`` reads the bundled default (``assignments/lecture/assignment.toml``);
``load_assignment(path)`` an instructor's
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

from .. import schemas
from ..errors import AssignmentError
from ..units import POINTS_KEYS, parse_units
from .known import GRAPH_CHECKS, MLP_CHECKS
from .messages import id_problems, problem, unit_problems
from .model import Assignment, CheckSpec

__all__ = [
    "BUNDLED",
    "DEFAULT_PATH",
    "bundled_assignments",
    "DEFAULT_POINTS",
    "FILE_NAME",
    "assignment_schema",
    "known_checks",
    "load_assignment",
]

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "assignments" / "lecture" / "assignment.toml"
#: What an assignment folder's file is called.
FILE_NAME = "assignment.toml"
#: Where the bundled assignment folders are (``--assignment NAME`` loads one by its folder's name).
BUNDLED = Path(__file__).resolve().parent.parent / "assignments"


def bundled_assignments() -> tuple:
    """The names of the bundled assignment folders."""
    return tuple(sorted(d.name for d in BUNDLED.iterdir() if (d / FILE_NAME).is_file())) if BUNDLED.is_dir() else ()


#: A check's points by aspect, in a file without ``[[checks]]`` (its ``[points]`` may change them).
DEFAULT_POINTS = {
    "forward": 1,
    "backward": 2,
    "numerical": 1,
    "shapes": 1,
    "no_mutation": 1,
    # a model's (gradcheck.units.MODEL_ASPECTS; numerical and no_mutation as above)
    "params": 1,
    "scores": 1,
    "loss": 1,
    "gradients": 2,
    # a scalar engine's (gradcheck.units.SCALAR_ASPECTS; "operator": each operator's and method's check)
    "operator": 1,
    "accumulation": 2,
    "dag": 2,
    "deep_chain": 1,
    "rerun": 1,
    "random_expressions": 2,
    # its nn classes' (gradcheck.units.SCALAR_NN_ASPECTS; forward and gradients as above)
    "parameters": 1,
    "zero_grad": 1,
    "train": 1,
}
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
    if not problems:
        problems += unit_problems(data)
    if not problems and isinstance(data.get("checks"), list):
        problems += id_problems(data["checks"], known_checks(_units_of(data)))
    if problems:
        # one message per field, schema errors first, in file order
        raise AssignmentError(shown, list(dict.fromkeys(problems)))


@functools.cache
def _default_data() -> dict:
    data = _read_toml(DEFAULT_PATH, DEFAULT_PATH)
    _validate(data, DEFAULT_PATH)
    return data


def _default_sections() -> dict:
    return {k: dict(_default_data().get(k, {})) for k in ("limits", "tolerances", "settings")}


def _units_of(data: dict) -> tuple:
    """The file's units; a file that declares none grades the packaged default's (docs/contract.md)."""
    return parse_units(data["units"] if "units" in data else _default_data()["units"])


def known_checks(units) -> tuple:
    """Every check id these units have, in report order (a unit's, in the order of the units)."""
    ids = []
    for u in units:
        if u.style == "graph":
            ids += GRAPH_CHECKS
        elif u.style == "model" and not u.is_model:  # the lecture's MLP
            ids += MLP_CHECKS
        else:
            ids += u.check_ids
    return tuple(ids)


def _points_key(check_id: str) -> str:
    """The ``[points]`` key of a check: its aspect, or the group it belongs to (an operator's check)."""
    aspect = check_id.rsplit(".", 1)[1]
    return POINTS_KEYS.get(aspect, aspect)


def load_assignment(path=None) -> Assignment:
    """Load and validate an assignment (None: the packaged default). Raises AssignmentError.

    ``path`` is an assignment folder (its ``assignment.toml`` is read), a TOML file, or the name of a
    bundled assignment (``layers``). A file that
    declares no ``[[units]]`` grades the packaged default's units with its reference (an edited copy
    of the default). Sections ``[limits]``, ``[tolerances]`` and ``[settings]`` may be missing or
    partial: missing keys take the packaged default's values. With ``[[checks]]``, a check left out
    is not run and not reported; without, every check of the units runs, worth ``[points]``' points
    for its aspect. Checks come in report order (that of ``known_checks``)."""
    shown = DEFAULT_PATH if path is None else path
    p = Path(shown)
    if not p.exists() and str(shown) in bundled_assignments():
        p = shown = BUNDLED / str(shown) / FILE_NAME
    if p.is_dir():
        p = p / FILE_NAME
        shown = p
    data = _read_toml(p, shown)
    _validate(data, shown)
    defaults = _default_sections()
    sections = {k: {**defaults[k], **data.get(k, {})} for k in defaults}
    units = _units_of(data)
    known = known_checks(units)
    order = {cid: i for i, cid in enumerate(known)}
    if "checks" in data:
        listed = data["checks"]
    else:
        points = {**DEFAULT_POINTS, **data.get("points", {})}
        listed = [{"id": cid, "points": points[_points_key(cid)], "visibility": "visible"} for cid in known]
    specs = sorted(
        (
            CheckSpec(
                id=c["id"], points=float(c["points"]), visibility=c["visibility"], description=c.get("description", "")
            )
            for c in listed
        ),
        key=lambda c: order[c.id],
    )
    own_units = "units" in data
    reference = data.get("reference", {"path": "reference"}) if own_units else None
    return Assignment(
        name=data["name"],
        title=data.get("title", data["name"]),
        path=p.resolve(),
        checks=tuple(specs),
        limits=sections["limits"],
        tolerances=sections["tolerances"],
        settings=sections["settings"],
        modules=tuple(data["modules"] if own_units else _default_data()["modules"]),
        reference_dir=_reference_dir(reference, p, shown, data["modules"] if own_units else ()),
        reference_package=(reference or _default_data()["reference"]).get("package"),
        units=units,
    )


def _reference_dir(declared, path: Path, shown, modules=()) -> Path:
    """The model solution's folder: ``{"path": "reference"}`` relative to the assignment file's folder,
    or ``{"package": "gradcheck.reference"}`` an installed package's (None: the packaged default's).
    A folder must hold one file per module of ``modules`` (said now, not when the first student is
    graded)."""
    declared = declared or _default_data()["reference"]
    if "package" in declared:
        spec = importlib.util.find_spec(declared["package"])
        if spec is None or not spec.submodule_search_locations:
            raise AssignmentError(shown, [("reference.package", f"no installed package {declared['package']!r}")])
        return Path(spec.submodule_search_locations[0]).resolve()
    folder = (path.parent / declared["path"]).resolve()
    if not folder.is_dir():
        raise AssignmentError(
            shown, [("reference.path", f"expected a folder holding the model solution; {folder} is not one")]
        )
    absent = [f"{m}.py" for m in modules if not (folder / f"{m}.py").is_file()]
    if absent:
        raise AssignmentError(
            shown, [("reference.path", f"expected {', '.join(absent)} in the model solution's folder {folder}")]
        )
    return folder
