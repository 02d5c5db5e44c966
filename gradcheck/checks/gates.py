"""Checks of gates.py: each gate's forward, backward, centered differences, shapes, and arguments left alone.

Every evaluation is the same kind of call: a fresh instance, forward(inputs), then backward(dout) with
a random upstream gradient, whether the grader wants the gradients (a run) or only the value (a point
of the centered differences). All gates' calls go to the worker in one request, every forward before
every backward, in an order shuffled from the seed; a request that times out or crashes is retried
gate by gate, so one bad gate costs only its own checks. A check passes only on comparisons actually
made: a case that could not be compared is an error of that check, with the reason.

What a gate is (its inputs, labels, what backward returns) comes from ``gradcheck.contract``; how its
cases are drawn is the grader's (``GATES``); the messages are ``checks.messages``'.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass

import numpy as np

from .. import contract, numerics
from ..diagnosis import common, diagnose, gate_bugs
from ..errors import AssignmentError
from ..units import DIFFERENTIABLE, Unit
from . import messages
from .cases import (
    CASE_TRIES,
    UnitProblem,
    draw,
    draw_inputs,
    fair_labels,
    label_probabilities,
)
from .common import (
    CallFailed,
    CheckResult,
    Payload,
    StudentError,
    call,
    compare,
    numerical_verdict,
    seeded_rng,
    shape_text,
    value,
)
from .context import Context

ASPECTS = ("forward", "backward", "numerical", "shapes", "no_mutation")
ELEMENTWISE_SHAPES = ("float", (), (4,), (2, 3))
NUMERICAL_FULL_MAX = 4  # inputs up to this size: centered differences at every coordinate


# ------------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One input set of a gate with two random upstream gradients."""

    label: str
    inputs: list  # float64 arrays (labels for softmax are int64)
    douts: list  # two upstream gradients (None: backward() with its default)
    floats: bool = False  # pass 0-d inputs as Python floats
    args: tuple = ()  # the gate's constructor arguments
    param: dict | None = None  # a function pair's last argument (sent fresh to every call)

    @property
    def wrt(self):
        return [k for k, x in enumerate(self.inputs) if x.dtype.kind == "f"]


def _constant(unit: Unit, rng) -> tuple:
    """The constructor arguments of one case: the unit's constant drawn and rounded, or none."""
    c = unit.constant
    if c is None:
        return ()
    return (round(float(draw(rng, c.domain, (), {})), c.digits),)


def _elementwise_cases(unit: Unit, rng) -> list[Case]:
    cases = []
    for shape in ELEMENTWISE_SHAPES:
        floats = shape == "float"
        shape = () if floats else shape
        inputs = draw_inputs(unit, rng, {}, elementwise=shape)
        douts = [rng.normal(size=shape) for _ in range(2)]
        label = "Python floats" if floats else f"shape {shape_text(shape)}"
        args = _constant(unit, rng)
        if args:
            label += f" ({unit.name}({', '.join(f'{a:g}' for a in args)}))"
        cases.append(Case(label, inputs, douts, floats, args=args))
    return cases


def _kink_distance(unit: Unit, ref, inputs, param=None) -> float:
    """The reference's distance from ``inputs`` to the nearest kink (``accept.kink_distance``)."""
    name = unit.accept["kink_distance"]["function"]
    function = getattr(ref, name, None)
    if not callable(function):
        raise UnitProblem("accept", f"the reference module {unit.module} has no function {name}")
    try:
        return float(function(*inputs, *([] if param is None else [copy.deepcopy(param)])))
    except Exception as exc:  # the instructor's function: say what it did
        raise UnitProblem("accept", f"the reference's {name} raised {type(exc).__name__}: {exc}") from exc


def _accepted(unit: Unit, ref, inputs, param=None) -> bool:
    """Whether a drawn case meets the unit's ``accept`` condition: every label's probability within
    bounds, or a reference function's distance to the nearest kink at least ``min``."""
    bounds = unit.accept.get("label_probability")
    if bounds is not None and not fair_labels(inputs[0], inputs[unit.labels], *bounds):
        return False
    kink = unit.accept.get("kink_distance")
    if kink is not None:
        return _kink_distance(unit, ref, inputs, param) >= kink["min"]
    return True


def _never_accepted(unit: Unit, ref, inputs, param, k) -> UnitProblem:
    """The problem of case k, none of whose CASE_TRIES draws met the unit's condition (the last draw's
    value named, so that an impossible bound or a function returning nan shows)."""
    kink = unit.accept.get("kink_distance")
    if kink is not None:
        last = f"{kink['function']} gave {_kink_distance(unit, ref, inputs, param):.3g} last, needs >= {kink['min']:g}"
    else:
        p = label_probabilities(inputs[0], inputs[unit.labels])
        last = f"label probabilities {p.min():.3g} to {p.max():.3g} last, needs {unit.accept['label_probability']}"
    return UnitProblem("accept", f"no draw of case {k} in {CASE_TRIES} met the condition ({last})")


def _douts(unit: Unit, rng, out_shape, fixed=None) -> list:
    """The case's two upstream gradients: fixed ones ("default": backward()), two random of the
    output's shape, or for a scalar output backward() then a random scalar; a loss function's none."""
    if fixed is not None:
        return [None if d == "default" else np.array(float(d)) for d in fixed]
    if unit.output == "loss":
        return [None, None]
    if unit.output == "scalar":
        return [None, np.array(rng.uniform(0.5, 2.0))]
    return [rng.normal(size=out_shape) for _ in range(2)]


def _sized_cases(unit: Unit, rng, ref) -> list[Case]:
    cases = []
    for spec in unit.cases:
        param = _case_param(unit, spec)
        if "values" in spec:
            inputs = [
                np.asarray(spec["values"][i.name], dtype=float if i.differentiable else np.int64) for i in unit.inputs
            ]
            douts = _douts(unit, rng, None, spec.get("douts", ["default", "default"]))
            cases.append(Case(spec.get("label", "the given values"), inputs, douts, param=param))
            continue
        sizes = {k: v for k, v in spec.items() if isinstance(v, int)}
        for _ in range(CASE_TRIES):  # until the case meets the unit's accept condition
            inputs = draw_inputs(unit, rng, sizes)
            if _accepted(unit, ref, inputs, param):
                break
        else:  # a condition no draw meets: grading on a case near a kink would fail honest code
            raise _never_accepted(unit, ref, inputs, param, len(cases))
        out_shape = () if unit.output != "array" else np.shape(_reference_forward(unit, ref, inputs, (), param))
        label = spec.get("label") or ", ".join(f"{unit.input_name(k)} {shape_text(inputs[k].shape)}" for k in unit.wrt)
        if unit.param is not None and "param" in spec:
            label += f" ({unit.param.name} {_param_text(spec['param'])})"
        cases.append(Case(label, inputs, _douts(unit, rng, out_shape), param=param))
    return cases


def _case_param(unit: Unit, spec) -> dict | None:
    """A function pair's param for one case: the unit's, updated by the case's own."""
    if unit.param is None:
        return None
    return {**unit.param.value, **spec.get("param", {})}


def _param_text(param: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in param.items())


#: Every contract gate, in the contract's order.
GATES = dict(contract.GATES)


def _cases(unit: Unit, rng, ref) -> list[Case]:
    return _sized_cases(unit, rng, ref) if unit.cases else _elementwise_cases(unit, rng)


# ------------------------------------------------------------------------------- plans


def _reference_run(unit: Unit, ref, inputs, dout, args=(), param=None):
    """The reference's (output, gradients) for one call of ``unit`` (``ref``: the reference module
    that holds it), in the unit's API style."""
    inputs = [x.copy() for x in inputs]
    if unit.style == "gate":
        gate = getattr(ref, unit.name)(*args)
        out = gate.forward(*inputs)
        grads = gate.backward() if dout is None else gate.backward(dout)
    elif unit.style == "loss_function":
        out, grad = getattr(ref, unit.forward_name)(*inputs)
        grads = [grad]
    else:
        extra = [] if param is None else [copy.deepcopy(param)]
        out, cache = getattr(ref, unit.forward_name)(*inputs, *extra)
        grads = getattr(ref, unit.backward_name)(np.ones_like(out) if dout is None else dout, cache)
        grads = [grads] if unit.gradients == 1 and not isinstance(grads, (list, tuple)) else grads
    return np.asarray(out, dtype=float), [np.asarray(g, dtype=float) for g in grads]


def _reference_forward(unit: Unit, ref, inputs, args=(), param=None):
    """The reference's output alone for one call of ``unit``."""
    inputs = [x.copy() for x in inputs]
    if unit.style == "gate":
        return getattr(ref, unit.name)(*args).forward(*inputs)
    if unit.style == "loss_function":
        return getattr(ref, unit.forward_name)(*inputs)[0]
    extra = [] if param is None else [copy.deepcopy(param)]
    return getattr(ref, unit.forward_name)(*inputs, *extra)[0]


def entry_points(unit: Unit) -> tuple:
    """The names a unit's module must define: its class, its two functions, or its function."""
    if unit.style == "gate":
        return (unit.name,)
    return tuple(n for n in (unit.forward_name, unit.backward_name) if n)


@dataclass
class Call:
    """One evaluation: a fresh instance, forward(inputs), backward(dout) (dout None: backward())."""

    inputs: list
    dout: object
    floats: bool
    args: tuple = ()
    backward: bool = True  # a point of the centered differences needs its value only
    late: bool = False  # sent in a second request, after every backward has returned (see _send)
    param: dict | None = None  # a function pair's last argument


class _GatePlan:
    """A gate's cases, their runs and numerical plans, as one list of calls. It depends only on the seed:
    a grader process makes it once per seed (``gate_plans``) and judges every submission against it."""

    def __init__(self, seed, unit: Unit, ref):
        self.spec = unit
        self.gate = unit
        self.ref = ref  # the reference module that holds the unit
        self._reference, self._param = {}, {}
        rng = seeded_rng(seed, unit.id)
        self.cases = _cases(unit, rng, ref)
        self.calls, self.runs, self.points = [], [], []
        for k, case in enumerate(self.cases):
            runs = []
            for dout in case.douts:
                runs.append(len(self.calls))
                self.calls.append(Call(case.inputs, dout, case.floats, case.args, param=case.param))
            self.runs.append(runs)
            if case.floats:  # the 0-d array case has the same centered differences
                self.points.append((None, len(self.calls)))
                continue
            # every coordinate of a small input, two random directions through a larger one (each a
            # whole-tensor check: the backward check compares every element with the reference). The
            # directions' points are sent only after backward has returned: a backward that knew them
            # could hide an error orthogonal to them (Note [Directions after backward])
            plan = numerics.plan_check(
                case.inputs,
                mode="auto",
                full_max=NUMERICAL_FULL_MAX,
                n_sparse=0,
                n_directions=2,
                rng=seeded_rng(seed, f"{unit.id}.numerical.{k}"),
                wrt=case.wrt,
                names=list(self.gate.input_names),
            )
            first = len(self.calls)
            late = {p.first + t for p in plan.probes if p.index is None for t in range(4)}
            for j, point in enumerate(plan.points[1:], start=1):  # points[0]: the case's inputs (run 0)
                # the same call as a run's up to its forward (when the student's code decides what to
                # return); no backward follows, which it learns only after every forward was made
                self.calls.append(
                    Call(list(point), None, case.floats, case.args, backward=False, late=j in late, param=case.param)
                )
            self.points.append((plan, first))

    def reference(self, k, dout):
        """The reference's (output, gradients) on case k with upstream gradient ``dout`` (one of the
        case's douts, or None), computed once."""
        key = (k, None if dout is None else id(dout))
        if key not in self._reference:
            case = self.cases[k]
            out, grads = _reference_run(self.spec, self.ref, case.inputs, dout, case.args, case.param)
            for a in (out, *grads):  # shared by every submission judged in this process
                a.setflags(write=False)
            self._reference[key] = out, grads
        return self._reference[key]

    def reference_param(self, k) -> dict:
        """The mutable keys of case k's param right after the reference's forward (bn_param's running
        averages in train mode; none in test mode, or for a unit without a param), computed once."""
        if k not in self._param:
            case, unit, after = self.cases[k], self.spec, {}
            if unit.param is not None and unit.param.mutable and case.param is not None:
                param = copy.deepcopy(case.param)
                getattr(self.ref, unit.forward_name)(*[x.copy() for x in case.inputs], param)
                after = {m: np.asarray(param[m], dtype=float) for m in unit.param.mutable if m in param}
                for a in after.values():
                    a.setflags(write=False)
            self._param[k] = after
        return self._param[k]


@functools.lru_cache(maxsize=64)
def unit_plan(seed: int, unit: Unit, ref) -> _GatePlan:
    """A unit's plan for this seed (see _GatePlan; ``ref``: the reference module that holds it). Its
    arrays are read-only: they are shared by every submission this process judges, and nothing may
    change them."""
    plan = _GatePlan(seed, unit, ref)
    for case in plan.cases:
        for a in (*case.inputs, *case.douts):
            if a is not None:
                a.setflags(write=False)
    return plan


# ------------------------------------------------------------------------------- running


def run(ctx: Context, wanted: set[str]) -> dict[str, CheckResult]:
    """Results for the wanted check ids of the assignment's gate, function-pair and loss-function units."""
    units = [u for u in ctx.units if u.style in DIFFERENTIABLE and any(f"{u.id}.{a}" in wanted for a in ASPECTS)]
    results, present = {}, []
    for u in units:
        ids = [f"{u.id}.{a}" for a in ASPECTS]
        module = ctx.own_modules.get(u.module, {})
        if not module.get("ok"):
            message = messages.not_imported(u.module, module.get("error", messages.module_not_found(u.module)))
            results.update({i: CheckResult(i, "error", message) for i in ids})
            continue
        absent = [n for n in entry_points(u) if n not in module.get("names", [])]
        if absent:
            missing = messages.no_class if u.style == "gate" else messages.no_function
            results.update({i: CheckResult(i, "missing", missing(absent[0], u.module)) for i in ids})
            continue
        present.append(u)
    plans = {u: _plan(ctx, u) for u in present}
    replies = {}
    for op in OPS:
        replies.update(_batched(ctx, tuple(u for u in present if _op(u) == op), plans))
    for u in present:
        if isinstance(replies[u], CallFailed):
            for a in ASPECTS:
                results[f"{u.id}.{a}"] = CheckResult(f"{u.id}.{a}", replies[u].status, f"{u.name}: {replies[u]}")
        else:
            results.update(_judge(ctx, plans[u], *replies[u]))
    return {k: v for k, v in results.items() if k in wanted}


def _plan(ctx: Context, unit: Unit) -> _GatePlan:
    """The unit's plan; what the assignment asks that cannot be done is the assignment's error (it
    ends the submission's grading with the file's name and the unit's field, as a malformed file
    would), never a grader fault nor points lost by the student."""
    try:
        return unit_plan(ctx.seed, unit, ctx.reference(unit.module))
    except UnitProblem as exc:
        index = ctx.units.index(unit)
        raise AssignmentError(ctx.assignment_file, [(f"units[{index}].{exc.field}", f"{unit.name}: {exc}")]) from None


#: The worker's op for each API style's calls: a gate's, or a function's (pair or loss).
OPS = ("gates", "functions")


def _op(unit: Unit) -> str:
    return "gates" if unit.style == "gate" else "functions"


def _batched(ctx: Context, units, plans):
    """Send all these units' calls in one request; when that call fails, retry each unit alone so
    that only the unit that broke a limit gets a timeout or error."""
    if not units:
        return {}
    try:
        return _send(ctx, units, plans)
    except CallFailed as exc:
        if len(units) == 1:
            return {units[0]: exc}
    out = {}
    for u in units:
        try:
            out.update(_send(ctx, (u,), plans))
        except CallFailed as exc:
            out[u] = exc
    return out


@functools.lru_cache(maxsize=64)
def _request(seed, units, refs, late):
    """The request of these units' calls (the late ones, or the others), and its payload, for this
    seed (the same for every submission); None when there are none. ``refs``: their reference modules."""
    payload = Payload()
    calls, flags = [], []
    for u, ref in zip(units, refs):
        for c in unit_plan(seed, u, ref).calls:
            if c.late == late:
                calls.append(_call(u, c.inputs, c.dout, c.floats, c.args, c.param, payload))
                flags.append(c.backward)
    if not calls:
        return None
    if _op(units[0]) == "gates":
        label = "gates.order." + ".".join(u.name for u in units)
    else:
        label = "functions.order." + ".".join(u.id for u in units)
    rng = seeded_rng(seed, label + (".late" if late else ""))
    order = [[int(k), "f"] for k in rng.permutation(len(calls))] + [
        [int(k), "b"] for k in rng.permutation(len(calls)) if flags[k]
    ]
    return {"op": _op(units[0]), "calls": calls, "order": order}, payload


def _call(unit: Unit, inputs, dout, floats, args, param, payload) -> dict:
    """One call of a request, in the unit's API style (see the worker's op_gates and op_functions)."""
    dout = None if dout is None else payload.ref(dout)
    if unit.style == "gate":
        return {"cls": unit.name, "args": list(args), "floats": floats, "inputs": _refs(inputs, payload), "dout": dout}
    call = {"module": unit.module, "inputs": _refs(inputs, payload), "dout": dout, "n_grads": unit.gradients}
    call["forward"] = unit.forward_name
    if unit.backward_name:
        call["backward"] = unit.backward_name
    if param is not None:
        call.update(param=param, mutable=list(unit.param.mutable))
    return call


# Note [Directions after backward]
# A random direction checks a whole tensor only if backward cannot know it: the request's forwards
# all run before its backwards, so a backward that remembered the probe points of its own request
# could add an error orthogonal to their directions (a red-team fixture, rt_probe_orthogonal, did).
# The coordinate probes span every input they move, so nothing can hide from them; the directions'
# points go in a second request, after every backward of the first has returned.


def _send(ctx: Context, units, plans):
    """Both requests of these units (the late points after the rest, Note [Directions after backward]);
    per unit its replies in the order of its plan's calls, and the reply arrays they refer to."""
    replies, arrays = {}, []
    refs = tuple(plans[u].ref for u in units)
    for late in (False, True):
        request = _request(ctx.seed, tuple(units), refs, late)
        if request is None:
            continue
        reply, reply_arrays = call(ctx.own, *request)
        entries = iter(_shifted(reply["calls"], len(arrays)))
        arrays = list(arrays) + list(reply_arrays)
        for u in units:
            replies.setdefault(u, {})[late] = [next(entries) for c in plans[u].calls if c.late == late]
    out = {}
    for u in units:
        parts = {late: iter(entries) for late, entries in replies[u].items()}
        out[u] = ([next(parts[c.late]) for c in plans[u].calls], arrays)
    return out


def _shifted(entries, offset):
    """Reply entries with their array references moved by ``offset`` (the arrays of an earlier reply
    come first in the list they refer to)."""
    if not offset:
        return entries

    def shift(v):
        if isinstance(v, dict):
            return {k: (x + offset if k == "$a" and isinstance(x, int) else shift(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [shift(x) for x in v]
        return v

    return [shift(e) for e in entries]


def _refs(inputs, payload):
    return [payload.ref(x) for x in inputs]


def _remote_forward(ctx: Context, unit: Unit, case):
    """points -> the student's forward at each point, in one worker call (for numerics.check_vjp):
    the same kind of call as every other, backward included."""

    def f_batch(points):
        payload = Payload()
        rng = ctx.rng(f"{unit.id}.more")
        calls = [_call(unit, p, None, case.floats, case.args, case.param, payload) for p in points]
        order = [[int(k), "f"] for k in rng.permutation(len(calls))]
        try:
            reply, arrays = call(ctx.own, {"op": _op(unit), "calls": calls, "order": order}, payload)
            out = []
            for e in reply["calls"]:
                if "out" not in e:
                    raise StudentError(e.get("error", "no value"))
                out.append(value(e["out"], arrays)[0])
            return out
        except (CallFailed, StudentError) as exc:
            raise ValueError(messages.evaluating_for_differences("forward", exc)) from None

    return f_batch


# ------------------------------------------------------------------------------- judging


class _Findings:
    """What judging one gate's replies found, by aspect: ``problems`` (failures: (message, details),
    or for backward (message, details, evidence), see _shown), ``errors`` (cases that could not be
    compared), how many comparisons were made, and ``working``: runs whose forward or backward matched
    a reference value that is not all zeros."""

    def __init__(self, style="gate"):
        self.style = style  # the unit's API style (messages)
        self.problems = {a: [] for a in ASPECTS}
        self.errors = {a: [] for a in ASPECTS}
        self.compared = {a: 0 for a in ASPECTS}
        self.working = 0


def _judge(ctx: Context, gp: _GatePlan, replies, arrays) -> dict[str, CheckResult]:
    found = _Findings(gp.gate.style)
    got_grads = {}  # case -> the gradients its first run returned
    for k, case in enumerate(gp.cases):
        where = f"on {case.label}"
        for r, index in enumerate(gp.runs[k]):
            entry, dout = replies[index], case.douts[r]
            ref_out, ref_grads = gp.reference(k, dout)
            _judge_forward(gp.gate, entry, arrays, ref_out, where, ctx.tolerances, found)
            if r == 0:
                _judge_param(gp, k, entry, arrays, where, ctx.tolerances, found)
            _judge_mutation(gp.gate, case, dout, entry, where, found)
            grads = _judge_backward(gp, case, dout, entry, arrays, ref_grads, where, ctx.tolerances, found)
            if r == 0 and grads is not None:
                got_grads[k] = grads
    _judge_numerical(ctx, gp, replies, arrays, got_grads, found)
    if not found.working:
        for a in ("shapes", "no_mutation"):  # nothing matched the reference: there is no working gate
            if not found.errors[a]:
                found.errors[a].append(messages.no_working(gp.gate.style))
    uid = gp.gate.id
    return {f"{uid}.{a}": _verdict(f"{uid}.{a}", a, found) for a in ASPECTS}


def _forward_output(entry, arrays, gate: contract.Gate):
    """The output of a call's forward (float64), or StudentError saying why there is none."""
    if "out" not in entry:
        raise StudentError(
            messages.failed_call(entry.get("where", gate.name + ".forward"), entry.get("error", "no value"))
        )
    return value(entry["out"], arrays)[0]


def _judge_forward(gate: contract.Gate, entry, arrays, ref_out, where, tolerances, found: _Findings):
    try:
        out = _forward_output(entry, arrays, gate)
        found.compared["forward"] += 1
        bad = compare(out, ref_out, tolerances)
        found.working += not bad and bool(np.any(ref_out != 0))
        if bad:
            found.problems["forward"].append((messages.forward_wrong(where, bad.message), {"worst": bad.as_details()}))
    except StudentError as exc:
        found.errors["forward"].append(f"{exc} ({where})")


def _judge_param(gp: _GatePlan, k, entry, arrays, where, tolerances, found: _Findings):
    """What forward must leave in its param dict (the keys it may change: bn_param's running averages),
    compared with what the reference's forward leaves there; part of the forward check."""
    expected = gp.reference_param(k)
    if not expected or "out" not in entry:
        return
    got, name = entry.get("param") or {}, gp.spec.param.name
    for key, want in expected.items():
        found.compared["forward"] += 1
        label = f"{name}[{key!r}]"
        try:
            if key not in got:
                raise StudentError(messages.PARAM_KEY_MISSING)
            have = value(got[key], arrays)[0]
        except StudentError as exc:
            found.problems["forward"].append((messages.param_wrong(where, label, str(exc)), {"param": label}))
            continue
        bad = compare(have, want, tolerances)
        if bad:
            found.problems["forward"].append(
                (messages.param_wrong(where, label, f"got {bad.message}"), {"param": label, "worst": bad.as_details()})
            )


def _judge_mutation(gate: contract.Gate, case, dout, entry, where, found: _Findings):
    """Every argument of forward and backward, the upstream gradient included, as it was given: right
    after forward, and after backward too (a change that backward undoes is still a change)."""
    if "grads" not in entry or "changed" not in entry:
        failed = messages.failed_call(entry.get("where", gate.name), entry.get("error", "no gradients returned"))
        found.errors["no_mutation"].append(messages.mutation_not_checked(failed, where))
        return
    labels = {"dz": messages.UPSTREAM_GRADIENT}
    if gate.param is not None:
        labels["p"] = messages.changed_param(gate.param.name, gate.param.mutable)
    for i in range(len(case.inputs)):
        labels[f"f{i}"] = messages.forward_argument(gate.input_label(i), right_after_forward=True)
        labels[f"b{i}"] = messages.forward_argument(gate.input_label(i), right_after_forward=False)
    found.compared["no_mutation"] += 2 * len(case.inputs) + (dout is not None) + (case.param is not None)
    for tag in entry["changed"]:
        found.problems["no_mutation"].append(
            (messages.modified_in_place(labels[tag], where), {"argument": labels[tag]})
        )


def _judge_backward(gp: _GatePlan, case, dout, entry, arrays, ref_grads, where, tolerances, found: _Findings):
    """backward's gradients on one run: as many as the contract asks for, each of its input's shape, each
    the reference's. Returns them (float64 arrays), or None when there are not enough to judge."""
    gate = gp.gate
    if "grads" not in entry:
        failed = messages.failed_call(
            entry.get("where", gate.name + ".backward"), entry.get("error", "no gradients returned")
        )
        found.errors["backward"].append(f"{failed} ({where})")
        found.errors["shapes"].append(f"{failed} ({where})")
        return None
    need = gate.gradients
    entries = entry["grads"][:need]
    if not gate.extra_grads and len(entry["grads"]) > need:
        found.problems["shapes"].append((messages.too_many_gradients(len(entry["grads"]), need, where), {}))
    if len(entries) < need:
        text = messages.too_few_gradients(len(entries), need, where)
        found.problems["shapes"].append((text, {}))
        found.problems["backward"].append((text, {}))
        found.compared["shapes"] += 1
        found.compared["backward"] += 1
        return None
    try:
        grads = [value(e, arrays)[0] for e in entries]
    except StudentError as exc:
        found.errors["backward"].append(messages.unreadable_gradient(gate.name, exc, where))
        found.errors["shapes"].append(messages.unreadable_gradient(gate.name, exc, where))
        return None
    for i, (g, x) in enumerate(zip(grads, case.inputs)):
        found.compared["shapes"] += 1
        if g.shape != x.shape:
            found.problems["shapes"].append(
                (
                    messages.gradient_shape(
                        i, "d" + gate.input_name(i), shape_text(g.shape), shape_text(x.shape), where
                    ),
                    {},
                )
            )
    found.compared["backward"] += 1
    expected = ref_grads[:need]
    found.working += all(compare(g, e, tolerances) is None for g, e in zip(grads, expected)) and any(
        np.any(e != 0) for e in expected
    )
    for i, (g, e) in enumerate(zip(grads, expected)):
        bad = compare(g, e, tolerances)
        if bad:
            found.problems["backward"].append(_backward_problem(gp, case, dout, grads, expected, i, bad, where))
            break
    return grads


def _declared_bugs(gp: _GatePlan, case, dout) -> dict:
    """The gradients each of the unit's declared bugs gives on this case (``bugs`` in the assignment:
    a reference function of the upstream gradient, the inputs and the param), by what the student is
    told. A bug model that fails on a case says nothing about it."""
    out = {}
    upstream = np.array(1.0) if dout is None else dout
    extra = [] if case.param is None else [copy.deepcopy(case.param)]
    for says, function in gp.gate.bugs:
        try:
            grads = getattr(gp.ref, function)(upstream, *[x.copy() for x in case.inputs], *extra)
            grads = [grads] if not isinstance(grads, (list, tuple)) else grads
            out[says] = [np.asarray(g, dtype=float) for g in grads][: gp.gate.gradients]
        except Exception:  # noqa: BLE001 - the instructor's bug model: no diagnosis rather than none at all
            continue
    return out


def _backward_problem(gp: _GatePlan, case, dout, grads, expected, i, bad, where):
    """(message, details, evidence) of a run whose gradient i is wrong. The evidence is for _shown: the
    diagnosis this case supports (ignoring dz tried first, then the gate's known bugs, then the generic
    patterns), the case's size, and how many non-zero numbers its expected gradients have."""
    gate, need = gp.gate, gp.gate.gradients
    alternatives = {}
    if dout is not None:
        ones = _reference_run(gp.spec, gp.ref, case.inputs, np.ones_like(dout), case.args, case.param)[1]
        alternatives[messages.IGNORES_DZ] = ones[:need]
    if gate.style == "gate":
        bugs = gate_bugs(gate.name, case.inputs, dout, case.args)
        alternatives.update({text: alt[:need] for text, alt in bugs.items()})
    alternatives.update(_declared_bugs(gp, case, dout))
    # 1/N and N factors make sense for a loss over a batch and for a unit whose first input is a batch
    # (its declared shape starts with the size named N)
    batched = gate.batch_mean or (gate.inputs[0].shape or ("",))[0] == "N"
    batch = case.inputs[0].shape[0] if batched and case.inputs[0].ndim else None
    diagnosis = diagnose(grads, expected, alternatives, batch, names=list(gate.input_names[:need]))
    gradient = "d" + gate.input_name(i)
    return (
        messages.backward_wrong(where, gradient, bad.message),
        {"worst": bad.as_details(gradient)},
        {
            "diagnosis": diagnosis,
            "size": sum(np.size(x) for x in case.inputs) + 0.5 * (not case.floats),
            "informative": min(int(np.count_nonzero(e)) for e in expected),
        },
    )


def _judge_numerical(ctx: Context, gp: _GatePlan, replies, arrays, got_grads, found: _Findings):
    for k, (plan, first) in enumerate(gp.points):
        if plan is not None:
            _judge_numerical_case(
                ctx,
                gp,
                k,
                plan,
                replies[first : first + len(plan.points) - 1],
                replies,
                arrays,
                got_grads.get(k),
                found,
            )


def _judge_numerical_case(
    ctx: Context, gp: _GatePlan, k, plan, point_replies, replies, arrays, grads, found: _Findings
):
    """Case k's backward against centered differences of the student's forward (``numerical_verdict``):
    ``point_replies`` are the forwards at the plan's points after the first (run 0 is the first)."""
    case = gp.cases[k]
    where = f"on {case.label}"
    try:
        outputs = [_forward_output(e, arrays, gp.gate) for e in [replies[gp.runs[k][0]], *point_replies]]
    except StudentError as exc:
        found.errors["numerical"].append(messages.not_checked(where, f"{exc} at a point near the inputs"))
        return
    # the case's two runs evaluate the same inputs: honest code, float32 or not, gives the same bits
    again = replies[gp.runs[k][1]].get("out")
    try:
        twice = value(again, arrays)[0] if again is not None else None
    except StudentError:
        twice = None
    if twice is None or twice.shape != outputs[0].shape or twice.tobytes() != outputs[0].tobytes():
        found.compared["numerical"] += 1
        found.problems["numerical"].append((messages.not_deterministic(case.label), {}))
        return
    analytic = [grads[i] if grads is not None and i < len(grads) else None for i in case.wrt]
    if any(g is None or g.shape != case.inputs[i].shape for g, i in zip(analytic, case.wrt)):
        found.errors["numerical"].append(messages.not_checked(where, messages.NO_GRADIENT_TO_CHECK))
        return
    dout = case.douts[0] if case.douts[0] is not None else np.array(1.0)
    ref = gp.reference(k, case.douts[0])[1]
    failed = numerical_verdict(
        numerics,
        plan,
        outputs,
        analytic,
        [ref[i] for i in case.wrt],
        dout,
        mode="auto",
        f_batch=_remote_forward(ctx, gp.gate, case),
        tolerances=ctx.tolerances,
        rng=lambda salt: ctx.rng(f"{gp.gate.id}.redo.{k}.{salt}"),
    )
    found.compared["numerical"] += 1
    if failed:
        found.problems["numerical"].append((f"on {case.label}: {failed[0]}", failed[1]))


# ------------------------------------------------------------------------------- verdicts


def _shown(problems):
    """The failure to show: the most informative case (the largest input: an array rather than a
    float); a diagnosis only when every failing case supports the same one, on several numbers."""
    if all(len(p) == 2 for p in problems):
        return problems[0]
    message, details, evidence = max(problems, key=lambda p: p[2]["size"] if len(p) > 2 else 0)
    # cases of a single number cannot tell a pattern (any number is some factor of another): no vote
    diagnosis = common([p[2]["diagnosis"] for p in problems if len(p) > 2 and p[2]["informative"] >= 2])
    if diagnosis:
        details = {**details, "diagnosis": diagnosis}
    return message, details


def _verdict(check_id, aspect, found: _Findings) -> CheckResult:
    errors, problems, compared = found.errors[aspect], found.problems[aspect], found.compared[aspect]
    if errors:
        return CheckResult(check_id, "error", errors[0], {"errors": errors[:5]} if len(errors) > 1 else {})
    if problems:
        message, details = _shown(problems)
        if len(problems) > 1:
            details = {**details, "failures": len(problems)}
        return CheckResult(check_id, "fail", message, details)
    if not compared:
        return CheckResult(check_id, "error", messages.NOTHING_COMPARED)
    return CheckResult(check_id, "pass", messages.passed(aspect, compared, found.style))
