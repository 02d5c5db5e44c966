"""Checks of gates.py: each gate's forward, backward, centered differences, shapes, and arguments left alone.

Every evaluation is the same kind of call: a fresh instance, forward(inputs), then backward(dout) with
a random upstream gradient, whether the grader wants the gradients (a run) or only the value (a point
of the centered differences). All gates' calls go to the worker in one request, every forward before
every backward, in an order shuffled from the seed; a request that times out or crashes is retried
gate by gate, so one bad gate costs only its own checks. A check passes only on comparisons actually
made: a case that could not be compared is an error of that check, with the reason.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .. import numerics
from ..diagnosis import common, diagnose, gate_bugs
from ..reference import gates as reference
from .common import (CallFailed, Payload, Result, StudentError, call, compare, numerical_verdict, seeded_rng,
                     shape_text, value)

ASPECTS = ("forward", "backward", "numerical", "shapes", "no_mutation")
ELEMENTWISE_SHAPES = ("float", (), (4,), (2, 3))
NUMERICAL_FULL_MAX = 4   # inputs up to this size: centered differences at every coordinate


def _uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def _away_from_zero(lo, hi):
    """|x| in [lo, hi] with a random sign: ReLU's kink and the inverse's pole stay out of reach."""
    return lambda rng, shape: rng.choice([-1.0, 1.0], shape) * rng.uniform(lo, hi, shape)


@dataclass(frozen=True)
class GateSpec:
    name: str
    arity: int = 1
    sample: object = _uniform(-2.0, 2.0)
    args: tuple = ()
    draw_args: object = None   # rng -> constructor arguments of a case (each case its own constant)


GATES = {
    g.name: g
    for g in (
        GateSpec("AddGate", 2),
        GateSpec("MultiplyGate", 2),
        GateSpec("MaxGate", 2),  # pairs separated below: no near-ties
        GateSpec("ExpGate", 1, _uniform(-3.0, 3.0)),
        GateSpec("InverseGate", 1, _away_from_zero(0.2, 3.0)),
        GateSpec("AddConstantGate", 1, args=(0.75,), draw_args=lambda rng: (round(float(rng.uniform(-3, 3)), 3),)),
        GateSpec("ScaleGate", 1, args=(-1.5,),
                 draw_args=lambda rng: (round(float(rng.choice([-1, 1]) * rng.uniform(1.3, 3.0)), 3),)),
        GateSpec("SigmoidGate", 1, _uniform(-4.0, 4.0)),
        GateSpec("TanhGate", 1, _uniform(-3.0, 3.0)),
        GateSpec("ReLUGate", 1, _away_from_zero(0.1, 2.0)),
        GateSpec("MatMulGate", 2),
        GateSpec("SoftmaxCrossEntropyGate", 2),
    )
}


@dataclass
class Case:
    """One input set of a gate with two random upstream gradients."""

    label: str
    inputs: list  # float64 arrays (labels for softmax are int64)
    douts: list  # two upstream gradients (None: backward() with its default)
    floats: bool = False  # pass 0-d inputs as Python floats
    args: tuple = ()  # the gate's constructor arguments

    @property
    def wrt(self):
        return [k for k, x in enumerate(self.inputs) if x.dtype.kind == "f"]


# Textbook losses add an epsilon (1e-7) inside the log: -log(p + eps) differs from -log p by eps / p in
# value and slope. The grader's scores keep every label's probability at least MIN, so that a correct
# textbook formulation is within the tolerance (eps / p <= 5e-6, 20x inside rtol 1e-4), and at most MAX:
# a loss near 0 (p near 1) computed in float32 cannot resolve the centered differences of its slope.
MIN_LABEL_PROBABILITY = 0.02
MAX_LABEL_PROBABILITY = 0.98


def fair_labels(scores, labels):
    p = label_probabilities(scores, labels)
    return p.min() >= MIN_LABEL_PROBABILITY and p.max() <= MAX_LABEL_PROBABILITY


def label_probabilities(scores, labels):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True))[np.arange(len(labels)), labels]


def _cases(spec: GateSpec, rng) -> list[Case]:
    if spec.name == "MatMulGate":
        shapes = [((2, 3), (3, 4)), ((1, 3), (3, 1)), ((3, 2), (2, 2))]
        return [Case(f"W {shape_text(a)}, X {shape_text(b)}", [rng.normal(size=a), rng.normal(size=b)],
                     [rng.normal(size=(a[0], b[1])) for _ in range(2)]) for a, b in shapes]
    if spec.name == "SoftmaxCrossEntropyGate":
        lecture = Case("the lecture's scores (3.2, 5.1, -1.7), label cat",
                       [np.array([[3.2, 5.1, -1.7]]), np.array([0])], [None, np.array(0.7)])
        cases = [lecture]
        for n, c in ((1, 4), (5, 3)):
            for _ in range(200):   # every label's probability at least MIN_LABEL_PROBABILITY (see below)
                scores, labels = rng.normal(0, 2, (n, c)), rng.integers(0, c, n)
                if fair_labels(scores, labels):
                    break
            cases.append(Case(f"scores {shape_text((n, c))}", [scores, labels], [None, np.array(rng.uniform(0.5, 2.0))]))
        return cases
    cases = []
    for shape in ELEMENTWISE_SHAPES:
        floats = shape == "float"
        shape = () if floats else shape
        if spec.name == "MaxGate":
            x = rng.uniform(-2, 2, shape)
            inputs = [x, x + rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 1.0, shape)]
        else:
            inputs = [spec.sample(rng, shape) for _ in range(spec.arity)]
        douts = [rng.normal(size=shape) for _ in range(2)]
        label = "Python floats" if floats else f"shape {shape_text(shape)}"
        args = spec.draw_args(rng) if spec.draw_args else spec.args
        if args:
            label += f" ({spec.name}({', '.join(f'{a:g}' for a in args)}))"
        cases.append(Case(label, [np.asarray(x, dtype=float) for x in inputs], douts, floats, args=args))
    return cases


def _reference_run(spec, inputs, dout, args=()):
    gate = getattr(reference, spec.name)(*args)
    out = gate.forward(*[x.copy() for x in inputs])
    grads = gate.backward() if dout is None else gate.backward(dout)
    return np.asarray(out, dtype=float), [np.asarray(g, dtype=float) for g in grads]


@dataclass
class Call:
    """One evaluation: a fresh instance, forward(inputs), backward(dout) (dout None: backward())."""

    inputs: list
    dout: object
    floats: bool
    args: tuple = ()
    backward: bool = True   # a point of the centered differences needs its value only
    late: bool = False      # sent in a second request, after every backward has returned (see _send)


class _GatePlan:
    """A gate's cases, their runs and numerical plans, as one list of calls. It depends only on the seed:
    a grader process makes it once per seed (``gate_plans``) and judges every submission against it."""

    def __init__(self, seed, spec):
        self.spec = spec
        self._reference = {}
        rng = seeded_rng(seed, f"gates.{spec.name}")
        self.cases = _cases(spec, rng)
        self.calls, self.runs, self.points = [], [], []
        for k, case in enumerate(self.cases):
            runs = []
            for dout in case.douts:
                runs.append(len(self.calls))
                self.calls.append(Call(case.inputs, dout, case.floats, case.args))
            self.runs.append(runs)
            if case.floats:   # the 0-d array case has the same centered differences
                self.points.append((None, len(self.calls)))
                continue
            # every coordinate of a small input, two random directions through a larger one (each a
            # whole-tensor check: the backward check compares every element with the reference). The
            # directions' points are sent only after backward has returned: a backward that knew them
            # could hide an error orthogonal to them (Note [Directions after backward])
            plan = numerics.plan_check(case.inputs, mode="auto", full_max=NUMERICAL_FULL_MAX, n_sparse=0,
                                       n_directions=2, rng=seeded_rng(seed, f"gates.{spec.name}.numerical.{k}"),
                                       wrt=case.wrt, names=[_input_name(spec.name, i) for i in range(len(case.inputs))])
            first = len(self.calls)
            late = {p.first + t for p in plan.probes if p.index is None for t in range(4)}
            for j, point in enumerate(plan.points[1:], start=1):   # points[0]: the case's inputs (run 0)
                # the same call as a run's up to its forward (when the student's code decides what to
                # return); no backward follows, which it learns only after every forward was made
                self.calls.append(Call(list(point), None, case.floats, case.args, backward=False, late=j in late))
            self.points.append((plan, first))

    def reference(self, k, dout):
        """The reference's (output, gradients) on case k with upstream gradient ``dout`` (one of the
        case's douts, or None), computed once."""
        key = (k, None if dout is None else id(dout))
        if key not in self._reference:
            case = self.cases[k]
            out, grads = _reference_run(self.spec, case.inputs, dout, case.args)
            for a in (out, *grads):   # shared by every submission judged in this process
                a.setflags(write=False)
            self._reference[key] = out, grads
        return self._reference[key]


@functools.lru_cache(maxsize=4)
def gate_plans(seed: int) -> dict:
    """Every gate's plan for this seed (see _GatePlan). Its arrays are read-only: they are shared by
    every submission this process judges, and nothing may change them."""
    plans = {name: _GatePlan(seed, spec) for name, spec in GATES.items()}
    for plan in plans.values():
        for case in plan.cases:
            for a in (*case.inputs, *case.douts):
                if a is not None:
                    a.setflags(write=False)
    return plans


def run(ctx, wanted: set[str]) -> dict[str, Result]:
    """Results for the wanted ``gates.*`` check ids."""
    names = [n for n in GATES if any(f"gates.{n}.{a}" in wanted for a in ASPECTS)]
    module = ctx.modules_a.get("gates", {})
    if not module.get("ok"):
        why = module.get("error", "gates.py was not found")
        return {f"gates.{n}.{a}": Result(f"gates.{n}.{a}", "error", f"gates.py could not be imported: {why}")
                for n in names for a in ASPECTS if f"gates.{n}.{a}" in wanted}
    results = {}
    present = [n for n in names if n in module.get("names", [])]
    for n in names:
        if n not in present:
            for a in ASPECTS:
                results[f"gates.{n}.{a}"] = Result(f"gates.{n}.{a}", "missing", f"gates.py has no class {n}")
    plans = gate_plans(ctx.seed)
    replies = _batched(ctx, present, plans)
    for n in present:
        if isinstance(replies[n], CallFailed):
            for a in ASPECTS:
                results[f"gates.{n}.{a}"] = Result(f"gates.{n}.{a}", replies[n].status, f"{n}: {replies[n]}")
        else:
            results.update(_judge(ctx, plans[n], *replies[n]))
    return {k: v for k, v in results.items() if k in wanted}


def _batched(ctx, names, plans):
    """Send all gates' calls in one request; when that call fails, retry each gate alone so that
    only the gate that broke a limit gets a timeout or error."""
    if not names:
        return {}
    try:
        return _send(ctx, names, plans)
    except CallFailed as exc:
        if len(names) == 1:
            return {names[0]: exc}
    out = {}
    for n in names:
        try:
            out.update(_send(ctx, [n], plans))
        except CallFailed as exc:
            out[n] = exc
    return out


@functools.lru_cache(maxsize=64)
def _request(seed, names, late):
    """The request of these gates' calls (the late ones, or the others), and its payload, for this seed
    (the same for every submission); None when there are none."""
    plans = gate_plans(seed)
    payload = Payload()
    calls, flags = [], []
    for n in names:
        for c in plans[n].calls:
            if c.late == late:
                calls.append({"cls": n, "args": list(c.args), "floats": c.floats, "inputs": _refs(c.inputs, payload),
                              "dout": None if c.dout is None else payload.ref(c.dout)})
                flags.append(c.backward)
    if not calls:
        return None
    rng = seeded_rng(seed, "gates.order." + ".".join(names) + (".late" if late else ""))
    order = [[int(k), "f"] for k in rng.permutation(len(calls))] + \
            [[int(k), "b"] for k in rng.permutation(len(calls)) if flags[k]]
    return {"op": "gates", "calls": calls, "order": order}, payload


# Note [Directions after backward]
# A random direction checks a whole tensor only if backward cannot know it: the request's forwards
# all run before its backwards, so a backward that remembered the probe points of its own request
# could add an error orthogonal to their directions (a red-team fixture, rt_probe_orthogonal, did).
# The coordinate probes span every input they move, so nothing can hide from them; the directions'
# points go in a second request, after every backward of the first has returned.

def _send(ctx, names, plans):
    """Both requests of these gates (the late points after the rest, Note [Directions after backward]);
    per gate its replies in the order of its plan's calls, and the reply arrays they refer to."""
    replies, arrays = {}, []
    for late in (False, True):
        request = _request(ctx.seed, tuple(names), late)
        if request is None:
            continue
        reply, reply_arrays = call(ctx.session_a, *request)
        entries = iter(_shifted(reply["calls"], len(arrays)))
        arrays = list(arrays) + list(reply_arrays)
        for n in names:
            replies.setdefault(n, {})[late] = [next(entries) for c in plans[n].calls if c.late == late]
    out = {}
    for n in names:
        parts = {late: iter(entries) for late, entries in replies[n].items()}
        out[n] = ([next(parts[c.late]) for c in plans[n].calls], arrays)
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


def _judge(ctx, gp, replies, arrays):
    spec, name, tol = gp.spec, gp.spec.name, ctx.tolerances
    problems = {a: [] for a in ASPECTS}  # aspect -> list of (message, details)
    errors = {a: [] for a in ASPECTS}
    compared = {a: 0 for a in ASPECTS}
    working = 0   # runs whose forward or backward matched a reference value that is not all zeros
    got_grads = {}
    for k, case in enumerate(gp.cases):
        where = f"on {case.label}"
        for r, index in enumerate(gp.runs[k]):
            entry, dout = replies[index], case.douts[r]
            ref_out, ref_grads = gp.reference(k, dout)
            # forward
            try:
                if "out" not in entry:
                    raise StudentError(f"{entry.get('where', name + '.forward')}: {entry.get('error', 'no value')}")
                out, _ = value(entry["out"], arrays)
                compared["forward"] += 1
                bad = compare(out, ref_out, tol)
                working += not bad and bool(np.any(ref_out != 0))
                if bad:
                    problems["forward"].append((f"forward {where}: got {bad.message}", {"worst": bad.as_details()}))
            except StudentError as exc:
                errors["forward"].append(f"{exc} ({where})")
            _judge_mutation(name, case, dout, entry, arrays, where, problems, errors, compared)
            # backward
            if "grads" not in entry:
                message = f"{entry.get('where', name + '.backward')}: {entry.get('error', 'no gradients returned')} ({where})"
                errors["backward"].append(message)
                errors["shapes"].append(message)
                continue
            need = 1 if name == "SoftmaxCrossEntropyGate" else spec.arity
            entries = entry["grads"][:need]
            if name != "SoftmaxCrossEntropyGate" and len(entry["grads"]) > need:
                problems["shapes"].append((f"backward returned {len(entry['grads'])} gradients for {need} "
                                           f"input{'s' if need > 1 else ''}: one per input ({where})", {}))
            if len(entries) < need:
                text = f"backward returned {len(entries)} gradients for {need} inputs ({where})"
                problems["shapes"].append((text, {}))
                problems["backward"].append((text, {}))
                compared["shapes"] += 1
                compared["backward"] += 1
                continue
            try:
                grads = [value(e, arrays) for e in entries]
            except StudentError as exc:
                errors["backward"].append(f"{name}.backward {exc} ({where})")
                errors["shapes"].append(f"{name}.backward {exc} ({where})")
                continue
            for i, ((g, _), x) in enumerate(zip(grads, case.inputs)):
                compared["shapes"] += 1
                if g.shape != x.shape:
                    problems["shapes"].append(
                        (f"gradient {i} (d{_input_name(name, i)}) has shape {shape_text(g.shape)}, its input "
                         f"{shape_text(x.shape)} ({where})", {}))
            if r == 0:
                got_grads[k] = [g for g, _ in grads]
            compared["backward"] += 1
            working += all(compare(g, e, tol) is None for (g, _), e in zip(grads, ref_grads[:need])) and \
                any(np.any(e != 0) for e in ref_grads[:need])
            for i, ((g, _), e) in enumerate(zip(grads, ref_grads[:need])):
                bad = compare(g, e, tol)
                if bad:
                    alternatives = {}
                    if dout is not None:
                        alternatives["ignores the upstream gradient dz (as if dz were all ones)"] = \
                            _reference_run(spec, case.inputs, np.ones_like(dout), case.args)[1][:need]
                    alternatives.update({text: alt[:need] for text, alt in
                                         gate_bugs(name, case.inputs, dout, case.args).items()})
                    batch = case.inputs[0].shape[0] if name == "SoftmaxCrossEntropyGate" else None
                    diagnosis = diagnose([gg for gg, _ in grads], ref_grads[:need], alternatives, batch,
                                         names=[_input_name(name, j) for j in range(need)])
                    details = {"worst": bad.as_details(f"d{_input_name(name, i)}")}
                    problems["backward"].append(
                        (f"backward {where}: d{_input_name(name, i)} is {bad.message}", details,
                         {"diagnosis": diagnosis, "size": sum(np.size(x) for x in case.inputs) + 0.5 * (not case.floats),
                          "informative": min(int(np.count_nonzero(e)) for e in ref_grads[:need])}))
                    break
    _judge_numerical(ctx, gp, replies, arrays, got_grads, problems, errors, compared)
    if not working:
        for a in ("shapes", "no_mutation"):   # nothing matched the reference: there is no working gate
            if not errors[a]:
                errors[a].append("could not be checked: neither forward nor backward matches the reference on any "
                                 "case, so there is no working gate whose shapes and arguments could be checked")
    return {f"gates.{name}.{a}": _verdict(f"gates.{name}.{a}", problems[a], errors[a], compared[a], _PASS[a])
            for a in ASPECTS}


def _judge_mutation(name, case, dout, entry, arrays, where, problems, errors, compared):
    """Every argument of forward and backward, the upstream gradient included, as it was given: right
    after forward, and after backward too (a change that backward undoes is still a change)."""
    if "grads" not in entry or "changed" not in entry:
        errors["no_mutation"].append(f"could not be checked: {entry.get('where', name)}: "
                                     f"{entry.get('error', 'no gradients returned')} ({where})")
        return
    labels = {}
    for i in range(len(case.inputs)):
        label = f"forward's input {i} ({_input_name(name, i)})"
        labels[f"f{i}"], labels[f"b{i}"] = label + " (right after forward)", label
    labels["dz"] = "backward's upstream gradient dz"
    compared["no_mutation"] += 2 * len(case.inputs) + (dout is not None)
    for tag in entry["changed"]:
        problems["no_mutation"].append((f"{labels[tag]} was modified in place ({where}); the caller's arrays must "
                                        "stay as they were", {"argument": labels[tag]}))


_PASS = {
    "forward": "forward matches the reference",
    "backward": "backward matches the reference under random upstream gradients",
    "numerical": "backward matches centered differences of your forward, and your forward has the reference's slope",
    "shapes": "one gradient per input, each of its input's shape",
    "no_mutation": "forward and backward leave their arguments unchanged",
}


def _input_name(gate, i):
    names = {"MatMulGate": ("W", "X"), "SoftmaxCrossEntropyGate": ("scores", "labels")}
    return names.get(gate, ("x", "y"))[i]


def _judge_numerical(ctx, gp, replies, arrays, got_grads, problems, errors, compared):
    spec, name = gp.spec, gp.spec.name
    for k, (case, (plan, first)) in enumerate(zip(gp.cases, gp.points)):
        if plan is None:
            continue
        where = f"on {case.label}"
        entries = [replies[gp.runs[k][0]]] + replies[first:first + len(plan.points) - 1]
        try:
            outputs = []
            for e in entries:
                if "out" not in e:
                    raise StudentError(f"{e.get('where', name + '.forward')}: {e.get('error', 'no value')}")
                outputs.append(value(e["out"], arrays)[0])
        except StudentError as exc:
            errors["numerical"].append(f"could not be checked {where}: {exc} at a point near the inputs")
            continue
        # the case's two runs evaluate the same inputs: honest code, float32 or not, gives the same bits
        again = replies[gp.runs[k][1]].get("out")
        try:
            twice = value(again, arrays)[0] if again is not None else None
        except StudentError:
            twice = None
        if twice is None or twice.shape != outputs[0].shape or twice.tobytes() != outputs[0].tobytes():
            compared["numerical"] += 1
            problems["numerical"].append((f"on {case.label}: your forward gave different values for the same inputs "
                                          "(it is not deterministic), so centered differences of it show nothing", {}))
            continue
        grads = got_grads.get(k)
        analytic = [grads[i] if grads is not None and i < len(grads) else None for i in case.wrt]
        if any(g is None or g.shape != case.inputs[i].shape for g, i in zip(analytic, case.wrt)):
            errors["numerical"].append(f"could not be checked {where}: backward gave no gradient of the input's "
                                       "shape (see the shapes and backward checks)")
            continue
        dout = case.douts[0] if case.douts[0] is not None else np.array(1.0)
        ref = gp.reference(k, case.douts[0])[1]
        failed = numerical_verdict(numerics, plan, outputs, analytic, [ref[i] for i in case.wrt], dout, mode="auto",
                                   f_batch=_remote_forward(ctx, name, case), tolerances=ctx.tolerances,
                                   rng=lambda salt, k=k: ctx.rng(f"gates.{name}.redo.{k}.{salt}"))
        compared["numerical"] += 1
        if failed:
            problems["numerical"].append((f"on {case.label}: {failed[0]}", failed[1]))


def _remote_forward(ctx, name, case):
    """points -> the student's forward at each point, in one worker call (for numerics.check_vjp):
    the same kind of call as every other, backward included."""
    def f_batch(points):
        payload = Payload()
        rng = ctx.rng(f"gates.{name}.more")
        calls = [{"cls": name, "args": list(case.args), "floats": case.floats,
                  "inputs": _refs(p, payload), "dout": None} for p in points]
        order = [[int(k), "f"] for k in rng.permutation(len(calls))]
        try:
            reply, arrays = call(ctx.session_a, {"op": "gates", "calls": calls, "order": order}, payload)
            out = []
            for e in reply["calls"]:
                if "out" not in e:
                    raise StudentError(e.get("error", "no value"))
                out.append(value(e["out"], arrays)[0])
            return out
        except (CallFailed, StudentError) as exc:
            raise ValueError(f"evaluating forward for centered differences: {exc}") from None
    return f_batch


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


def _verdict(check_id, problems, errors, compared, pass_message):
    if errors:
        return Result(check_id, "error", errors[0], {"errors": errors[:5]} if len(errors) > 1 else {})
    if problems:
        message, details = _shown(problems)
        if len(problems) > 1:
            details = {**details, "failures": len(problems)}
        return Result(check_id, "fail", message, details)
    if not compared:
        return Result(check_id, "error", "could not be checked: nothing was compared")
    return Result(check_id, "pass", f"{pass_message} ({compared} comparisons)")
