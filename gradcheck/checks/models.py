"""Checks of model units: a class with a ``params`` dict and ``loss(X, y) -> (loss, grads)`` (``loss(X)``
-> scores), made with declared keyword arguments (CS231n's ``TwoLayerNet``; ``gradcheck.units``).

Check ids ``<unit id>.<aspect>``:

- ``params``: after construction, ``params`` holds the declared names with the declared shapes, and
  the declared starting values (zeros; random values of about a declared scale);
- ``scores``: ``loss(X)`` against the reference's, for the grader's own parameters (set into
  ``net.params`` before every call, as the contract allows);
- ``loss``: the value of ``loss(X, y)`` against the reference's;
- ``gradients``: every ``grads[name]`` against the reference's, with a diagnosis where one applies
  (the generic patterns, the unit's declared ``bugs``: the reference made with other arguments, and a
  network that ignores ``net.params``);
- ``numerical``: the gradients against centered differences of the student's own loss in the
  parameters, anchored to the reference's gradients (``common.numerical_verdict``);
- ``no_mutation``: ``X``, ``y`` and the parameter arrays handed over stay as they were, in every call
  of the other checks (the worker compares them right after each call and at the end of the request).

One request per unit holds every case's network (read params, set, scores, set, loss); the numerical
points go in a second one. The worker holds no reference; every verdict is computed here. A check with
nothing compared is an error. A model built from the student's own layer functions runs on them:
there are no stand-ins for function pairs (yet), so a wrong layer also costs the model's checks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .. import numerics
from ..diagnosis import common, diagnose
from ..errors import AssignmentError
from ..units import MODEL_ASPECTS, Unit
from . import messages
from .cases import CASE_TRIES, UnitProblem, draw, draw_inputs, fair_labels
from .common import (
    CallFailed,
    CheckResult,
    Payload,
    StudentError,
    call,
    compare,
    mutation_result,
    numerical_verdict,
    seeded_rng,
    shape_text,
    value,
)
from .context import Context

ASPECTS = MODEL_ASPECTS
# The numerical check's probes of each parameter tensor: random directions (each checks all of it) and
# sampled coordinates, whose fourth differences measure the loss's roundoff: a loss computed in float32
# (its value a float64 sum of float32 parts, so not itself a float32 number) is found that way and
# checked with float32 steps. Directions alone missed it on 5 seeds of 100 (examples/layers/float32-inside).
MODE = "mixed"
N_DIRECTIONS = 2
N_COORDINATES = 4  # per tensor (numerics needs at least 4 coordinates to measure the roundoff)
INIT_MIN_SIZE = 12  # a starting scale is judged on tensors of at least this many values
INIT_FACTOR = 10.0  # ... within this factor of the declared scale (far outside chance for 12 values)


# ------------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One network of a model unit: its constructor's keyword arguments, the grader's parameters and
    data, and the seed of numpy's global generator before it is made (its starting weights)."""

    label: str
    kwargs: dict
    params: dict  # name -> float64 array (read-only)
    inputs: list  # the data loss takes (X, ..., y)
    seed: int


def made(unit: Unit, kwargs: dict) -> str:
    """How messages show a network: ``TwoLayerNet(input_dim=6, ..., reg=0.1)``."""
    return f"{unit.name}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())})"


def _reference_net(ref, unit: Unit, kwargs, params):
    """The reference's network with these parameters. Its constructor may draw from numpy's global
    generator: that generator's state is kept as it was."""
    state = np.random.get_state()
    try:
        net = getattr(ref, unit.name)(**kwargs)
    finally:
        np.random.set_state(state)
    for k, v in params.items():
        net.params[k] = np.array(v, dtype=float)
    return net


def reference_values(ref, unit: Unit, kwargs, params, inputs):
    """The reference's (scores, loss, {name: gradient}) for these parameters and data."""
    net = _reference_net(ref, unit, kwargs, params)
    scores = net.loss(*[x.copy() for x in inputs[:-1]])
    loss, grads = net.loss(*[x.copy() for x in inputs])
    out = (np.asarray(scores, dtype=float), np.asarray(float(loss)), {k: np.asarray(grads[k], float) for k in params})
    for a in (out[0], out[1], *out[2].values()):
        a.setflags(write=False)
    return out


def _instructors(field, what, function, *args):
    """``function(*args)``, the instructor's code (the reference) on a case the grader drew: what it
    raises is the assignment's problem (``UnitProblem``: ``field`` of the unit's entry, ``what`` raised
    ...), never a grader fault."""
    try:
        return function(*args)
    except UnitProblem:
        raise
    except Exception as exc:
        raise UnitProblem(field, f"{what} raised {type(exc).__name__}: {exc}") from exc


def _kink_distance(unit: Unit, ref, params, inputs) -> float:
    """The reference's distance from a case to the nearest kink (``accept.kink_distance``), given
    ``(params, *inputs)``."""
    name = unit.accept["kink_distance"]["function"]
    function = getattr(ref, name, None)
    if not callable(function):
        raise UnitProblem("accept", f"the reference module {unit.module} has no function {name}")
    copies = {k: v.copy() for k, v in params.items()}
    distance = _instructors("accept", f"the reference's {name}", lambda *a: float(function(*a)), copies, *inputs)
    return distance


def _accepted(unit: Unit, ref, kwargs, params, inputs) -> bool:
    """The unit's ``accept`` condition on a drawn case: every label's probability under the
    reference's scores within bounds, and the reference's distance to the nearest kink at least ``min``."""
    bounds = unit.accept.get("label_probability")
    if bounds is not None:
        scores = reference_values(ref, unit, kwargs, params, inputs)[0]
        if not fair_labels(scores, inputs[-1], *bounds):
            return False
    kink = unit.accept.get("kink_distance")
    if kink is not None:
        return _kink_distance(unit, ref, params, inputs) >= kink["min"]
    return True


def _draw_case(unit: Unit, ref, spec: dict, rng, k: int) -> Case:
    sizes = {k: v for k, v in spec.items() if isinstance(v, int) and not isinstance(v, bool)}
    kwargs = {**{k: sizes[v] for k, v in unit.size_args.items()}, **unit.args, **spec.get("args", {})}
    what = f"the reference's {made(unit, kwargs)} on case {k}"
    for _ in range(CASE_TRIES):  # until the case meets the unit's accept condition
        inputs = draw_inputs(unit, rng, sizes)
        drawn = dict(sizes)
        for p in unit.params:
            shape = tuple(sizes[d] if isinstance(d, str) else d for d in p.shape)
            drawn[p.name] = np.asarray(draw(rng, p.domain, shape, drawn), dtype=float)
        params = {p.name: drawn[p.name] for p in unit.params}
        if _instructors("cases", what, _accepted, unit, ref, kwargs, params, inputs):
            break
    else:  # a condition no draw meets: grading on a case near a kink would fail honest code
        raise UnitProblem("accept", f"no draw of case {k} in {CASE_TRIES} met the condition")
    _instructors("cases", what, reference_values, ref, unit, kwargs, params, inputs)
    seed = int(rng.integers(0, 2**31))
    label = spec.get("label") or f"{made(unit, kwargs)} with {unit.inputs[0].name} {shape_text(inputs[0].shape)}"
    for a in (*inputs, *params.values()):
        a.setflags(write=False)
    return Case(label, kwargs, params, inputs, seed)


class ModelPlan:
    """A model unit's cases and the reference's values on them. It depends only on the seed: a grader
    process makes it once per seed (``model_plan``) and judges every submission against it."""

    def __init__(self, seed: int, unit: Unit, ref):
        self.unit, self.ref = unit, ref
        rng = seeded_rng(seed, unit.id)
        self.cases = [_draw_case(unit, ref, spec, rng, k) for k, spec in enumerate(unit.cases)]
        self._values = {}

    def reference(self, k: int, args=None):
        """The reference's (scores, loss, grads) on case k (with constructor ``args`` replacing some of
        the case's: a declared bug), computed once."""
        key = (k, tuple(sorted((args or {}).items())))
        if key not in self._values:
            case = self.cases[k]
            self._values[key] = reference_values(
                self.ref, self.unit, {**case.kwargs, **(args or {})}, case.params, case.inputs
            )
        return self._values[key]

    def bugs(self, k: int) -> dict:
        """{diagnosis: the reference's (scores, loss, grads)} of the unit's declared bugs on case k."""
        return {says: self.reference(k, args) for says, args in self.unit.bugs}


@functools.lru_cache(maxsize=16)
def model_plan(seed: int, unit: Unit, ref) -> ModelPlan:
    return ModelPlan(seed, unit, ref)


# ------------------------------------------------------------------------------- requests


def _script(case: Case, payload: Payload, aspects) -> list:
    """One network's script: its starting params read (for the params check, and to tell a network
    that ignores net.params), then the grader's parameters set before each call."""
    params = {k: payload.ref(v) for k, v in case.params.items()}
    script = [{"params": True}, {"set": params}]
    if aspects & {"scores", "no_mutation"}:
        script += [{"scores": [payload.ref(x) for x in case.inputs[:-1]]}, {"set": params}]
    if aspects & {"loss", "gradients", "numerical", "no_mutation"}:
        script.append({"loss": [payload.ref(x) for x in case.inputs]})
    return script


def _net(unit: Unit, case: Case, script) -> dict:
    return {"module": unit.module, "cls": unit.name, "args": dict(case.kwargs), "seed": case.seed, "script": script}


class _Reply:
    """One network's reply; its script's items looked up by kind ("params", "scores", "loss")."""

    def __init__(self, request, reply, arrays):
        self.request, self.reply, self.arrays = request, reply, arrays
        self.keys = [next(iter(item)) for item in request["script"]]

    def item(self, key):
        """The reply of the script's first ``key`` item; StudentError if it (or the network) failed."""
        if "error" in self.reply and "results" not in self.reply:
            raise StudentError(self.reply["error"])
        entry = self.reply["results"][self.keys.index(key)]
        if key not in entry:
            raise StudentError(messages.failed_call(entry.get("where", key), entry.get("error", "no value")))
        return entry

    def named(self, key, field):
        """{name: float64 array} of a params or grads dict (StudentError at the first that is not numbers)."""
        return {k: value(v, self.arrays)[0] for k, v in self.item(key)[field].items()}

    def scalar(self, key, field):
        v = value(self.item(key)[field], self.arrays)[0]
        return v.reshape(()) if v.size == 1 else v

    def calls(self):
        """(script item, reply entry) of every item, when the network was made."""
        return list(zip(self.request["script"], self.reply.get("results", [])))


# ------------------------------------------------------------------------------- judging


class _Findings:
    """What judging one unit found, by aspect: failures ((message, details, diagnosis or None)), cases
    that could not be compared, the comparisons made; ``working``: a case whose scores or loss matched
    a reference value that is not zero."""

    def __init__(self):
        self.problems = {a: [] for a in ASPECTS}
        self.errors = {a: [] for a in ASPECTS}
        self.compared = {a: 0 for a in ASPECTS}
        self.working = False


def run(ctx: Context, wanted: set[str]) -> dict[str, CheckResult]:
    """Results for the wanted check ids of the assignment's model units."""
    results = {}
    for unit in ctx.units:
        ids = {f"{unit.id}.{a}" for a in ASPECTS} & set(wanted)
        if unit.is_model and ids:
            results.update(_run_unit(ctx, unit, {i.rsplit(".", 1)[1] for i in ids}))
    return {k: v for k, v in results.items() if k in wanted}


def _run_unit(ctx: Context, unit: Unit, aspects: set) -> dict[str, CheckResult]:
    ids = [f"{unit.id}.{a}" for a in ASPECTS if a in aspects]
    module = ctx.standin_modules.get(unit.module, {})
    if not module.get("ok"):
        text = messages.not_imported(unit.module, module.get("error", messages.module_not_found(unit.module)))
        return {i: CheckResult(i, "error", text) for i in ids}
    if unit.name not in module.get("names", []):
        return {i: CheckResult(i, "missing", messages.no_class(unit.name, unit.module)) for i in ids}
    try:
        plan = model_plan(ctx.seed, unit, ctx.reference(unit.module))
    except UnitProblem as exc:  # the assignment's error: it ends grading with the file's name and the field
        index = ctx.units.index(unit)
        raise AssignmentError(ctx.assignment_file, [(f"units[{index}].{exc.field}", f"{unit.name}: {exc}")]) from None
    payload = Payload()
    nets = [_net(unit, case, _script(case, payload, aspects)) for case in plan.cases]
    try:
        reply, arrays = call(ctx.with_standins, {"op": "model", "nets": nets}, payload)
    except CallFailed as exc:
        return {i: CheckResult(i, exc.status, f"running your {unit.name}: {exc}") for i in ids}
    replies = [_Reply(net, rep, arrays) for net, rep in zip(nets, reply["nets"])]
    found = _Findings()
    for k, (case, rep) in enumerate(zip(plan.cases, replies)):
        where = f"on {case.label}"
        initial = _judge_params(unit, case, rep, where, found)
        alternatives = _Alternatives(plan, k, initial)
        if aspects & {"scores", "no_mutation"}:
            _judge_scores(plan, k, rep, alternatives, where, ctx.tolerances, found)
        if aspects & {"loss", "gradients", "numerical", "no_mutation"}:
            _judge_loss(plan, k, rep, alternatives, where, ctx.tolerances, found)
    seen = [(case.label, rep) for case, rep in zip(plan.cases, replies)]
    if "numerical" in aspects:
        seen += _judge_numerical(ctx, plan, replies, found)
    out = {f"{unit.id}.{a}": _verdict(f"{unit.id}.{a}", a, found) for a in ASPECTS if a in aspects - {"no_mutation"}}
    if "no_mutation" in aspects:
        out[f"{unit.id}.no_mutation"] = _no_mutation(unit, seen, found.working)
    return out


def _judge_params(unit: Unit, case: Case, rep: _Reply, where, found: _Findings):
    """params as the constructor left it: the declared names, shapes and starting values. Returns those
    parameters when they have the declared names and shapes (for the diagnosis of a network that
    ignores net.params), else None."""
    title = made(unit, case.kwargs)
    try:
        got = rep.named("params", "params")
    except StudentError as exc:
        found.errors["params"].append(f"{exc} ({where})")
        return None
    found.compared["params"] += 1
    want = unit.param_names
    if set(got) != set(want):
        found.problems["params"].append((messages.params_keys(title, got, want), {}, None))
        return None
    for p in unit.params:
        shape = tuple(case.params[p.name].shape)
        if got[p.name].shape != shape:
            text = messages.param_shape(title, p.name, shape_text(got[p.name].shape), shape_text(shape))
            found.problems["params"].append((text, {}, None))
            return None
    for p in unit.params:
        problem = _init_problem(title, p, got[p.name], case.kwargs)
        if problem:
            found.problems["params"].append((problem, {}, None))
            break
    return got


def _init_problem(title, p, arr, kwargs) -> str | None:
    """What is wrong with a parameter's starting values (``ModelParam.init``), or None."""
    if p.init is None:
        return None
    if p.init[0] == "zeros":
        return None if not np.any(arr) else messages.param_not_zeros(title, p.name)
    scale = kwargs[p.init[1]] if isinstance(p.init[1], str) else p.init[1]
    scale_text = f"{p.init[1]} = {scale:g}" if isinstance(p.init[1], str) else f"{scale:g}"
    rms = float(np.sqrt(np.mean(np.square(arr)))) if np.all(np.isfinite(arr)) else float("inf")
    if rms == 0 or not np.isfinite(rms):
        return messages.param_scale(title, p.name, rms, scale_text)
    if arr.size >= INIT_MIN_SIZE and not scale / INIT_FACTOR <= rms <= scale * INIT_FACTOR:
        return messages.param_scale(title, p.name, rms, scale_text)
    return None


class _Alternatives:
    """What known bugs would give on case k, for the diagnosis (made on first need: a failure):
    {text: the reference's (scores, loss, grads)} for the unit's declared bugs, and for a network that
    ignores net.params (the reference with the parameters the student's network was made with, when
    they have the declared names and shapes)."""

    def __init__(self, plan: ModelPlan, k: int, initial):
        self.plan, self.k, self.initial, self._made = plan, k, initial, None

    def get(self, part: int) -> dict:
        """{text: that bug's scores (part 0), loss (1) or grads (2)}."""
        if self._made is None:
            self._made = {}
            case = self.plan.cases[self.k]
            if self.initial is not None:
                try:
                    self._made[messages.IGNORES_PARAMS] = reference_values(
                        self.plan.ref, self.plan.unit, case.kwargs, self.initial, case.inputs
                    )
                except Exception:  # noqa: BLE001 - starting parameters the reference cannot use: no diagnosis
                    pass
            self._made.update(self.plan.bugs(self.k))
        return {text: values[part] for text, values in self._made.items()}


def _judge_scores(plan: ModelPlan, k, rep: _Reply, alternatives, where, tol, found: _Findings):
    case = plan.cases[k]
    ref_scores = plan.reference(k)[0]
    try:
        scores = value(rep.item("scores")["scores"], rep.arrays)[0]
    except StudentError as exc:
        found.errors["scores"].append(f"{exc} ({where})")
        return
    found.compared["scores"] += 1
    bad = compare(scores, ref_scores, tol)
    if not bad:
        found.working = found.working or bool(np.any(ref_scores))
        return
    diagnosis = diagnose([scores], [ref_scores], {t: [alt] for t, alt in alternatives.get(0).items()})
    text = messages.model_value_wrong("the scores are", case.label, bad.message)
    found.problems["scores"].append((text, {"worst": bad.as_details("scores")}, diagnosis))


def _judge_loss(plan: ModelPlan, k, rep: _Reply, alternatives, where, tol, found: _Findings):
    """loss(X, y): its value, and each parameter's gradient, against the reference's."""
    unit, case = plan.unit, plan.cases[k]
    _, ref_loss, ref_grads = plan.reference(k)
    try:
        loss = rep.scalar("loss", "loss")
    except StudentError as exc:
        found.errors["loss"].append(f"{exc} ({where})")
        found.errors["gradients"].append(f"{exc} ({where})")
        return
    found.compared["loss"] += 1
    bad = compare(loss, ref_loss, tol)
    if bad:
        diagnosis = diagnose([loss], [ref_loss], {t: [alt] for t, alt in alternatives.get(1).items()})
        text = messages.model_value_wrong("the loss is", case.label, bad.message)
        found.problems["loss"].append((text, {"worst": bad.as_details("loss")}, diagnosis))
    else:
        found.working = found.working or bool(np.any(ref_loss))
    names = unit.param_names
    entries = rep.item("loss")["grads"]
    missing = [n for n in names if n not in entries]
    if missing:
        found.compared["gradients"] += 1
        found.problems["gradients"].append((messages.no_gradient(missing, where), {}, None))
        return
    try:
        grads = {n: value(entries[n], rep.arrays)[0] for n in names}
    except StudentError as exc:
        found.errors["gradients"].append(f"{exc} ({where})")
        return
    found.compared["gradients"] += 1
    wrong = [n for n in names if compare(grads[n], ref_grads[n], tol)]
    if not wrong:
        return
    bad = compare(grads[wrong[0]], ref_grads[wrong[0]], tol)
    diagnosis = diagnose(
        [grads[n] for n in names],
        [ref_grads[n] for n in names],
        _gradient_alternatives(names, wrong, ref_grads, alternatives.get(2), tol),
        batch=len(case.inputs[0]),
        names=list(names),
        numbered=False,
    )
    text = messages.model_value_wrong(f"d{wrong[0]} is", case.label, bad.message)
    found.problems["gradients"].append((text, {"worst": bad.as_details(wrong[0])}, diagnosis))


def _gradient_alternatives(names, wrong, expected, bugs: dict, tol) -> dict:
    """{diagnosis: gradients} for diagnose(): each known bug's gradients where the student's are wrong
    and the reference's elsewhere, so that a bug made in some of the parameters only (the regularisation
    forgotten in dW1, kept in dW2) is named, with those parameters: "W1: the regularisation is missing"."""
    out = {}
    for text, alt in bugs.items():
        differs = [n for n in names if compare(alt[n], expected[n], tol)]
        if wrong and set(wrong) <= set(differs):
            label = text if wrong == differs else f"{', '.join(wrong)}: {text}"
            out[label] = [alt[n] if n in wrong else expected[n] for n in names]
    return out


def _judge_numerical(ctx: Context, plan: ModelPlan, replies, found: _Findings) -> list:
    """Each case's gradients against centered differences of the student's own loss in the
    parameters, anchored: those differences must also give the reference's gradients. Returns the
    (case label, reply) of the points' networks (their calls count for no_mutation too)."""
    unit, names = plan.unit, plan.unit.param_names
    payload, nets, jobs = Payload(), [], []
    for k, (case, rep) in enumerate(zip(plan.cases, replies)):
        where = f"on {case.label}"
        try:
            grads = rep.named("loss", "grads")
        except StudentError as exc:
            found.errors["numerical"].append(messages.not_checked(where, str(exc)))
            continue
        if any(n not in grads or grads[n].shape != case.params[n].shape for n in names):
            found.errors["numerical"].append(messages.model_gradients_unusable(where))
            continue
        numerical_plan = numerics.plan_check(
            [case.params[n] for n in names],
            mode=MODE,
            names=list(names),
            n_directions=N_DIRECTIONS,
            n_sparse=N_COORDINATES,
            rng=ctx.rng(f"{unit.id}.numerical.{k}"),
        )
        nets.append(_net(unit, case, _at_points(case, names, numerical_plan.points, payload)))
        jobs.append((k, numerical_plan, [grads[n] for n in names]))
    if not nets:
        return []
    try:
        reply, arrays = call(ctx.with_standins, {"op": "model", "nets": nets}, payload)
    except CallFailed as exc:
        found.errors["numerical"].append(messages.evaluating_for_differences("your loss", exc))
        return []
    points = [_Reply(net, rep, arrays) for net, rep in zip(nets, reply["nets"])]
    for (k, numerical_plan, analytic), rep in zip(jobs, points):
        case = plan.cases[k]
        where = f"on {case.label}"
        try:
            outputs = _losses(rep)
        except StudentError as exc:
            found.errors["numerical"].append(messages.not_checked(where, f"loss at a point near the parameters: {exc}"))
            continue
        failed = numerical_verdict(
            numerics,
            numerical_plan,
            outputs,
            analytic,
            [plan.reference(k)[2][n] for n in names],
            np.array(1.0),
            mode=MODE,
            f_batch=_remote_loss(ctx, unit, case, names),
            what="loss",
            tolerances=ctx.tolerances,
            rng=lambda salt, k=k: ctx.rng(f"{unit.id}.numerical.redo.{k}.{salt}"),
            confirm_float32=True,  # a loss partly in float32 (its regularisation), partly stand-ins' float64
        )
        found.compared["numerical"] += 1
        if failed:
            found.problems["numerical"].append((f"{case.label}: {failed[0]}", failed[1], None))
    return [(f"{plan.cases[k].label}, near its parameters", rep) for (k, _, _), rep in zip(jobs, points)]


def _at_points(case: Case, names, points, payload: Payload) -> list:
    """A script that evaluates the loss at several parameter settings: each point an ordinary "set
    every parameter, then loss" pair, like every other loss call."""
    data = [payload.ref(x) for x in case.inputs]
    script = []
    for point in points:
        script += [{"set": {n: payload.ref(x) for n, x in zip(names, point)}}, {"loss": data}]
    return script


def _losses(rep: _Reply) -> list:
    """The loss of every loss item, in order (StudentError at the first that failed)."""
    if "error" in rep.reply and "results" not in rep.reply:
        raise StudentError(rep.reply["error"])
    out = []
    for item, entry in rep.calls():
        if "error" in entry:
            raise StudentError(messages.failed_call(entry.get("where", "loss"), entry["error"]))
        if "loss" in item:
            v = value(entry["loss"], rep.arrays)[0]
            out.append(v.reshape(()) if v.size == 1 else v)
    return out


def _remote_loss(ctx: Context, unit: Unit, case: Case, names):
    """points (tuples of parameter arrays) -> the student's loss at each, in one worker call."""

    def f_batch(points):
        payload = Payload()
        net = _net(unit, case, _at_points(case, names, points, payload))
        try:
            reply, arrays = call(ctx.with_standins, {"op": "model", "nets": [net]}, payload)
            return _losses(_Reply(net, reply["nets"][0], arrays))
        except (CallFailed, StudentError) as exc:
            raise ValueError(messages.evaluating_for_differences("your loss", exc)) from None

    return f_batch


def _no_mutation(unit: Unit, seen, working) -> CheckResult:
    """Every call of the other checks (``seen``: (case label, reply) of their networks) left X, y and
    the parameter arrays it was given as they were. Passing needs every call to have returned and
    been compared, on a network whose scores or loss match the reference's somewhere (``working``)."""
    problems, errors, compared = [], [], 0
    for label, rep in seen:
        where = f"on {label}"
        if "error" in rep.reply and "results" not in rep.reply:
            errors.append(messages.mutation_not_checked(rep.reply["error"], where))
            continue
        set_so_far = set()
        for item, entry in rep.calls():
            key = next(iter(item))
            for tag in entry.get("changed", []):
                text, argument = messages.model_argument_changed(unit.name, tag, unit.input_names, where)
                problems.append((text, {"argument": argument}))
            if key == "set":
                set_so_far |= set(item["set"])
            elif key in ("scores", "loss"):
                if "error" in entry or "changed" not in entry:
                    failed = messages.failed_call(entry.get("where", f"{unit.name}.loss"), entry.get("error", "?"))
                    errors.append(messages.mutation_not_checked(failed, where))
                    continue
                compared += 2 * len(item[key]) + len(set_so_far)  # right after the call, at the end; params
    return mutation_result(
        f"{unit.id}.no_mutation",
        problems,
        errors,
        compared,
        working,
        what="network",
        passed=messages.MODEL_PASS["no_mutation"] + " ({compared} comparisons)",
    )


def _verdict(check_id, aspect, found: _Findings) -> CheckResult:
    errors, problems, compared = found.errors[aspect], found.problems[aspect], found.compared[aspect]
    if errors:
        return CheckResult(check_id, "error", errors[0], {"errors": errors[:5]} if len(errors) > 1 else {})
    if problems:
        message, details, _ = problems[0]
        diagnosis = common([p[2] for p in problems])
        if diagnosis:
            details = {**details, "diagnosis": diagnosis}
        if len(problems) > 1:
            details = {**details, "failures": len(problems)}
        return CheckResult(check_id, "fail", message, details)
    if not compared:
        return CheckResult(check_id, "error", messages.NOTHING_COMPARED)
    return CheckResult(check_id, "pass", messages.model_passed(aspect, compared))
