"""What a malformed assignment file is told: one ``(field, "expected ...; got ...")`` per problem.

``problem`` words a JSON Schema error of ``assignment.schema.json``; ``id_problems`` the problems a
schema cannot see (check ids unknown or repeated). ``AssignmentError`` (``gradcheck.errors``) joins
them into its message.
"""

from __future__ import annotations

import difflib
import sys

from ..schemas import json_path
from .known import KNOWN_CHECKS

__all__ = ["id_problems", "problem", "unit_problems"]


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


_TYPE_NAMES = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "object": "a table",
    "array": "an array",
    "boolean": "a boolean",
}


def _describe(schema: dict) -> str:
    """What a value under this (sub)schema must be, in words."""
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if "type" not in schema and "description" in schema:  # alternatives (anyOf) that say what they are
        return schema["description"]
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


def _did_you_mean(name, choices) -> str:
    hint = difflib.get_close_matches(name, choices, n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def problem(error) -> tuple[str, str]:
    """(field, expected ...; got ...) for one jsonschema error."""
    path = list(error.absolute_path)
    v, inst, sch = error.validator, error.instance, error.schema
    if v == "required":
        missing = [k for k in error.validator_value if not (isinstance(inst, dict) and k in inst)]
        name = missing[0] if missing else "?"
        sub = error.schema.get("properties", {}).get(name, {})
        return json_path(path + [name]), f"missing; expected {_describe(sub)}"
    if v == "anyOf" and all(set(alt) == {"required"} for alt in error.validator_value):
        # a file needs [[checks]] or [[units]]: name the first, as the older files all have it
        name = error.validator_value[0]["required"][0]
        sub = error.schema.get("properties", {}).get(name, {})
        return json_path(path + [name]), f"missing; expected {_describe(sub)} (or [[units]])"
    if v == "additionalProperties":
        allowed = list(sch.get("properties", {}))
        extra = sorted(k for k in inst if k not in allowed)
        name = extra[0] if extra else "?"
        return (
            json_path(path + [name]),
            f"unknown field{_did_you_mean(name, allowed)}; expected one of {', '.join(allowed)}",
        )
    if v == "enum":
        return json_path(path), f"expected one of {', '.join(map(str, sch['enum']))}; got {_got_short(inst)}"
    if v == "type":
        return json_path(path), f"expected {_TYPE_NAMES.get(sch['type'], sch['type'])}; got {_got(inst)}"
    if v == "minItems":
        return json_path(path), f"expected at least {sch['minItems']} item(s); got {len(inst)}"
    return json_path(path), f"expected {_describe(sch)}; got {_got(inst)}"


def id_problems(checks, known=KNOWN_CHECKS) -> list:
    """(field, expected ...) for every check id that is not a known one (of ``known``: the checks of
    the file's units), or that repeats one."""
    problems, seen = [], {}
    for i, c in enumerate(checks):
        cid = c.get("id") if isinstance(c, dict) else None
        if not isinstance(cid, str):
            continue
        if cid not in known:
            problems.append(
                (
                    f"checks[{i}].id",
                    "expected a known check id (all are listed in the packaged "
                    f"assignments/lecture/assignment.toml); got {cid!r}{_did_you_mean(cid, known)}",
                )
            )
        elif cid in seen:
            problems.append(
                (f"checks[{i}].id", f"expected each check id once; got {cid!r} again (first at checks[{seen[cid]}])")
            )
        else:
            seen[cid] = i
    return problems


#: module names a submission's files may not have: the worker imports these itself (a student's
#: numpy.py or json.py would be imported in their place, by the worker and by the student's own code)
SHADOWED = frozenset(sys.stdlib_module_names) | {"numpy", "gradcheck"}


def unit_problems(data: dict) -> list:
    """(field, expected ...) for what the schema cannot see in ``[[units]]``: a module the file does not
    list, a repeated check prefix, a size a case does not bind, a ``near`` input that is not an earlier
    one, and the graph and model styles' own needs (``_model_problems``)."""
    units = data.get("units")
    if not isinstance(units, list):
        return []
    problems, prefixes = [], {}
    modules = data.get("modules")
    if modules is None:
        problems.append(("modules", "missing; expected the modules a submission holds (the units name them)"))
        modules = []
    for m, name in enumerate(modules):
        if name in SHADOWED:
            problems.append(
                (
                    f"modules[{m}]",
                    f"expected a name of the students' own; {name!r} is a module the worker imports itself "
                    "(the standard library, numpy or gradcheck): a submission's file of that name would replace it",
                )
            )
    for i, u in enumerate(units):
        where = f"units[{i}]"
        if u["module"] not in modules:
            problems.append(
                (f"{where}.module", f"expected one of the file's modules ({', '.join(modules)}); got {u['module']!r}")
            )
        prefix = u.get("id", f"{u['module']}.{u['name']}")
        if prefix in prefixes:
            problems.append(
                (
                    f"{where}.id",
                    f"expected each unit's check prefix once; got {prefix!r} again (first at units[{prefixes[prefix]}])",  # noqa: E501
                )
            )
        prefixes.setdefault(prefix, i)
        if u["style"].startswith("scalar_"):
            problems += _scalar_problems(u, where, units, modules)
        else:
            problems += [
                (f"{where}.{k}", "only a scalar_engine or scalar_nn unit has this field")
                for k in SCALAR_ENGINE_FIELDS + SCALAR_NN_FIELDS
                if k in u
            ]
            if "relu_margin" in u.get("accept", {}):
                problems.append((f"{where}.accept.relu_margin", "only a scalar_nn unit has this field"))
            problems += [
                (f"{where}.cases[{c}].nouts", "only a scalar_nn's cases have this field")
                for c, case in enumerate(u.get("cases", []))
                if "nouts" in case
            ]
        problems += _model_problems(u, where, prefix)
        if u["style"] == "graph" and prefix != "graph":
            problems.append((f"{where}.id", 'the graph style\'s checks are graph.*: expected id "graph"'))
        inputs = u.get("inputs", [])
        names = [x["name"] for x in inputs]
        for k, x in enumerate(inputs):
            if "near" in x and x["near"] not in names[:k]:
                problems.append(
                    (f"{where}.inputs[{k}].near", f"expected the name of an earlier input; got {x['near']!r}")
                )
        sizes = {d for x in inputs for d in x.get("shape", []) if isinstance(d, str)}
        sizes |= {x["domain"]["labels"] for x in inputs if "labels" in x.get("domain", {})}
        sizes |= _model_sizes(u)
        shaped = [x for x in inputs if "shape" in x]
        if shaped and len(shaped) != len(inputs):
            problems.append((f"{where}.inputs", "expected a shape for every input, or for none (elementwise)"))
        if shaped and not u.get("cases"):
            problems.append(
                (f"{where}.cases", f"missing; expected the sizes of each case ({', '.join(sorted(sizes))})")
            )
        for c, case in enumerate(u.get("cases", [])):
            if "values" in case:
                continue
            unbound = sorted(sizes - set(case))
            if unbound:
                problems.append((f"{where}.cases[{c}]", f"expected a size for {', '.join(unbound)}"))
    return problems


#: What only a model unit (one that declares params) has, and what a model has not.
MODEL_FIELDS = ("params", "args", "size_args")
NOT_FOR_MODELS = ("constant", "param", "output", "extra_grads", "batch_mean", "functions")


def _model_sizes(u: dict) -> set:
    """The size names a model's params and size_args use (each case must bind them)."""
    if u["style"] != "model":
        return set()
    shapes = [p if isinstance(p, list) else p["shape"] for p in u.get("params", {}).values()]
    return {d for s in shapes for d in s if isinstance(d, str)} | set(u.get("size_args", {}).values())


def _model_problems(u: dict, where: str, prefix: str) -> list:
    """A model unit's own needs: params, inputs (X, y) and cases; constructor arguments that exist;
    its bugs as other constructor arguments (every other unit's: a reference function); the lecture's
    MLP (no params) only under its id."""
    model = u["style"] == "model" and "params" in u
    problems = (
        []
        if model
        else [(f"{where}.{k}", 'only a model (style = "model") has this field') for k in MODEL_FIELDS if k in u]
    )
    for b, bug in enumerate(u.get("bugs", [])):
        if u["style"].startswith("scalar_"):
            continue  # _scalar_problems
        if "model" in bug:
            problems.append(
                (f"{where}.bugs[{b}].model", "only a scalar engine's bugs are models of the grader's library")
            )
        elif model and ("args" not in bug or "gradients" in bug):
            problems.append(
                (f"{where}.bugs[{b}]", "expected args (a model's bug: the reference made with other arguments)")
            )
        elif not model and "gradients" not in bug:
            problems.append((f"{where}.bugs[{b}].gradients", "missing; expected a function of the reference module"))
        elif not model and "args" in bug:
            problems.append((f"{where}.bugs[{b}].args", "only a model's bugs are other constructor arguments"))
    if u["style"] != "model":
        return problems
    if not model:
        if prefix == "mlp":
            return problems
        return problems + [
            (
                f"{where}.style",
                'a model without params is the lecture\'s MLP API (docs/contract.md), id "mlp"; a class with a '
                "params dict and loss(X, y) declares params, inputs and cases",
            )
        ]
    if prefix == "mlp":
        problems.append((f"{where}.id", 'expected another id: "mlp" is the lecture\'s MLP (a model without params)'))
    for k in NOT_FOR_MODELS:
        if k in u:
            problems.append((f"{where}.{k}", "not for a model: its checks are params, scores, loss, gradients, ..."))
    inputs = u.get("inputs", [])
    if len(inputs) < 2 or not all("shape" in x for x in inputs):
        problems.append(
            (
                f"{where}.inputs",
                "expected the data loss(X, y) takes, each with a shape: at least X and y (the last input is left "
                "out for the scores, loss(X))",
            )
        )
    args, size_args = u.get("args", {}), u.get("size_args", {})
    for k in sorted(set(args) & set(size_args)):
        problems.append((f"{where}.size_args.{k}", "expected each constructor argument once: it is in args too"))
    for name, p in u["params"].items():
        scale = p.get("init", {}).get("normal") if isinstance(p, dict) and isinstance(p.get("init"), dict) else None
        if isinstance(scale, str) and not _is_number(args.get(scale)):
            problems.append(
                (
                    f"{where}.params.{name}.init.normal",
                    f"expected a number, or the name of one of the unit's args that is a number; got {scale!r}",
                )
            )
    overrides = [(f"{where}.cases[{c}].args", case.get("args", {})) for c, case in enumerate(u.get("cases", []))]
    overrides += [(f"{where}.bugs[{b}].args", bug.get("args", {})) for b, bug in enumerate(u.get("bugs", []))]
    for field, given in overrides:
        unknown = sorted(set(given) - set(args))
        if unknown:
            problems.append((field, f"expected keys among the unit's args ({', '.join(args)}); got {unknown[0]!r}"))
    return problems


#: What only the scalar styles have; what only a scalar engine has; what only a scalar nn has.
SCALAR_ENGINE_FIELDS = ("operators", "methods", "exponents", "depth", "examples")
SCALAR_NN_FIELDS = ("engine", "classes", "weights", "train")
NOT_FOR_SCALAR = ("constant", "param", "output", "extra_grads", "batch_mean", "functions")


def _scalar_problems(u: dict, where: str, units: list, modules: list) -> list:
    """A scalar engine's or nn's own needs: an engine declares operators or methods (and its bugs are
    models of the grader's library); an nn names an engine unit of the file, in a module imported
    before its own, and its cases say nin and nouts."""
    style, problems = u["style"], []
    own, other = (
        (SCALAR_ENGINE_FIELDS, SCALAR_NN_FIELDS)
        if style == "scalar_engine"
        else (SCALAR_NN_FIELDS, SCALAR_ENGINE_FIELDS)
    )
    problems += [(f"{where}.{k}", f"not for a {style} unit (only a {_other(style)} has it)") for k in other if k in u]
    problems += [(f"{where}.{k}", f"not for a {style} unit") for k in NOT_FOR_SCALAR if k in u]
    for b, bug in enumerate(u.get("bugs", [])):
        if style != "scalar_engine" or "model" not in bug:
            problems.append(
                (f"{where}.bugs[{b}]", "expected model (a bug of the grader's library), for a scalar engine")
            )
        elif "gradients" in bug or "args" in bug:
            problems.append((f"{where}.bugs[{b}]", "a scalar engine's bug is a model only (no gradients or args)"))
    if style == "scalar_engine":
        if not u.get("operators") and not u.get("methods"):
            problems.append((f"{where}.operators", "missing; expected the operators (or methods) students implement"))
        if "relu_margin" in u.get("accept", {}):
            problems.append((f"{where}.accept.relu_margin", "only a scalar_nn's cases have ReLU pre-activations"))
        if u.get("cases"):
            problems.append((f"{where}.cases", "not for a scalar engine: the grader draws its programs"))
        return problems
    engines = {x["name"]: x for x in units if x.get("style") == "scalar_engine"}
    engine = u.get("engine")
    if engine not in engines:
        problems.append(
            (
                f"{where}.engine",
                f"expected the name of a scalar_engine unit of this file ({', '.join(engines) or 'there is none'}); "
                f"got {_got_short(engine) if engine is not None else 'nothing'}",
            )
        )
    elif engines[engine]["module"] in modules and u["module"] in modules:
        if modules.index(engines[engine]["module"]) > modules.index(u["module"]):
            problems.append(
                (f"{where}.engine", f"expected module {engines[engine]['module']} before {u['module']} in modules")
            )
    if not u.get("cases"):
        problems.append((f"{where}.cases", "missing; expected each MLP's sizes ({ nin = 3, nouts = [4, 4, 1] })"))
    for c, case in enumerate(u.get("cases", [])):
        missing = [k for k in ("nin", "nouts") if k not in case]
        if missing:
            problems.append((f"{where}.cases[{c}]", f"expected {' and '.join(missing)} (an MLP's sizes)"))
        extra = sorted(set(case) - {"nin", "nouts", "label"})
        if extra:
            problems.append(
                (f"{where}.cases[{c}].{extra[0]}", "expected only nin, nouts and label in a scalar_nn case")
            )
    bad = set(u.get("accept", {})) - {"relu_margin"}
    if bad:
        problems.append((f"{where}.accept.{sorted(bad)[0]}", "a scalar_nn's accept has relu_margin only"))
    return problems


def _other(style: str) -> str:
    return "scalar_nn" if style == "scalar_engine" else "scalar_engine"


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)
