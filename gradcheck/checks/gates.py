"""Checks of gates.py: each gate's forward, backward, centered differences, shapes, and inputs left alone.

All gates' trials go to the worker in one request (and all their numerical points in a second); a
request that times out or crashes is retried gate by gate, so one bad gate costs only its own checks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import numerics
from ..diagnosis import diagnose
from ..reference import gates as reference
from .common import (CallFailed, Payload, Result, StudentError, call, compare, numerical_verdict, raise_if_error,
                     shape_text, value)

ASPECTS = ("forward", "backward", "numerical", "shapes", "no_mutation")
ELEMENTWISE_SHAPES = ("float", (), (4,), (2, 3))


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


GATES = {
    g.name: g
    for g in (
        GateSpec("AddGate", 2),
        GateSpec("MultiplyGate", 2),
        GateSpec("MaxGate", 2),  # pairs separated below: no near-ties
        GateSpec("ExpGate", 1, _uniform(-3.0, 3.0)),
        GateSpec("InverseGate", 1, _away_from_zero(0.2, 3.0)),
        GateSpec("AddConstantGate", 1, args=(0.75,)),
        GateSpec("ScaleGate", 1, args=(-1.5,)),
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
    numerical: bool = True

    @property
    def wrt(self):
        return [k for k, x in enumerate(self.inputs) if x.dtype.kind == "f"]


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
            cases.append(Case(f"scores {shape_text((n, c))}", [rng.normal(0, 2, (n, c)), rng.integers(0, c, n)],
                              [None, np.array(rng.uniform(0.5, 2.0))]))
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
        cases.append(Case(label, [np.asarray(x, dtype=float) for x in inputs], douts, floats))
    return cases


def _reference_run(spec, inputs, dout):
    gate = getattr(reference, spec.name)(*spec.args)
    out = gate.forward(*[x.copy() for x in inputs])
    grads = gate.backward() if dout is None else gate.backward(dout)
    return np.asarray(out, dtype=float), [np.asarray(g, dtype=float) for g in grads]


def run(ctx, wanted: set[str]) -> dict[str, Result]:
    """Results for the wanted ``gates.*`` check ids."""
    names = [n for n in GATES if any(f"gates.{n}.{a}" in wanted for a in ASPECTS)]
    module = ctx.modules_a.get("gates", {})
    if not module.get("ok"):
        why = module.get("error", "gates.py was not found")
        return {f"gates.{n}.{a}": Result(f"gates.{n}.{a}", "error", f"gates.py could not be imported: {why}")
                for n in names for a in ASPECTS}
    results = {}
    cases = {n: _cases(GATES[n], ctx.rng(f"gates.{n}")) for n in names}
    present = [n for n in names if n in module.get("names", [])]
    for n in names:
        if n not in present:
            for a in ASPECTS:
                results[f"gates.{n}.{a}"] = Result(f"gates.{n}.{a}", "missing", f"gates.py has no class {n}")
    replies = _batched(ctx, present, cases, _trials_request)
    for n in present:
        if isinstance(replies[n], CallFailed):
            for a in ASPECTS:
                results[f"gates.{n}.{a}"] = Result(f"gates.{n}.{a}", replies[n].status, f"{n}: {replies[n]}")
    judged = [n for n in present if not isinstance(replies[n], CallFailed)]
    plans = {n: _plan_numerical(ctx, n, cases[n], replies[n]) for n in judged}
    numerical = _batched(ctx, [n for n in judged if plans[n]], plans, _points_request)
    for n in judged:
        results.update(_judge(ctx, GATES[n], cases[n], replies[n], plans.get(n), numerical.get(n)))
    return {k: v for k, v in results.items() if k in wanted}


def _batched(ctx, names, per_gate, build):
    """Send all gates' trials in one request; when that call fails, retry each gate alone so that
    only the gate that broke a limit gets a timeout or error."""
    if not names:
        return {}
    try:
        return _send(ctx, names, per_gate, build)
    except CallFailed as exc:
        if len(names) == 1:
            return {names[0]: exc}
    out = {}
    for n in names:
        try:
            out.update(_send(ctx, [n], per_gate, build))
        except CallFailed as exc:
            out[n] = exc
    return out


def _send(ctx, names, per_gate, build):
    payload = Payload()
    trials = {n: build(n, per_gate[n], payload) for n in names}
    reply, arrays = call(ctx.session_a, {"op": "gates", "trials": [t for n in names for t in trials[n]]}, payload)
    got = list(reply.get("trials", []))
    if len(got) != sum(len(t) for t in trials.values()):
        raise CallFailed("error", "the worker's reply does not match the request")
    out, start = {}, 0
    for n in names:
        out[n] = (got[start:start + len(trials[n])], arrays)
        start += len(trials[n])
    return out


def _trials_request(name, cases, payload):
    spec = GATES[name]
    return [{"cls": name, "args": list(spec.args), "floats": c.floats,
             "runs": [{"inputs": [payload.ref(x) for x in c.inputs],
                       "dout": None if d is None else payload.ref(d)} for d in c.douts]}
            for c in cases]


def _points_request(name, plans, payload):
    spec = GATES[name]
    return [{"cls": name, "args": list(spec.args), "floats": floats, "points": _point_refs(plan.points, payload)}
            for _, plan, floats in plans]


def _point_refs(points, payload):
    """The points' arrays as references; an input a point leaves unmoved is the base point's own
    array (numerics shares it), sent once (the worker gives each call a fresh copy anyway)."""
    points = list(points)
    if not points:
        return []
    base = points[0]
    base_refs = [payload.ref(x) for x in base]
    return [[r if x is b else payload.ref(x) for x, b, r in zip(point, base, base_refs)] if len(point) == len(base)
            else [payload.ref(x) for x in point] for point in points]


def _plan_numerical(ctx, name, cases, reply):
    """Centered-difference plans for the cases whose forward and backward ran."""
    trials, arrays = reply
    plans = []
    for k, (case, trial) in enumerate(zip(cases, trials)):
        try:
            run = trial["runs"][0]
            raise_if_error(run)
            out, kind = value(run["out"], arrays)
        except (StudentError, KeyError, TypeError):
            continue
        precision = np.float32 if kind in ("float32", "float16") else np.float64
        plan = numerics.plan_check(case.inputs, mode="full", rng=ctx.rng(f"gates.{name}.numerical.{k}"),
                                   wrt=case.wrt, names=[_input_name(name, i) for i in range(len(case.inputs))],
                                   precision=precision)
        plans.append((k, plan, case.floats))
    return plans


def _judge(ctx, spec, cases, reply, plans, numerical):
    name, tol = spec.name, ctx.tolerances
    trials, arrays = reply
    problems = {a: [] for a in ASPECTS}  # aspect -> list of (message, details)
    errors = {a: [] for a in ASPECTS}
    got_grads = {}
    for k, (case, trial) in enumerate(zip(cases, trials)):
        where = f"on {case.label}"
        if "error" in trial and "runs" not in trial:
            for a in ASPECTS:
                errors[a].append(f"{trial.get('where', name)}: {trial['error']}")
            continue
        for r, (dout, run) in enumerate(zip(case.douts, trial["runs"])):
            ref_out, ref_grads = _reference_run(spec, case.inputs, dout)
            # forward
            try:
                out, kind = value(run.get("out"), arrays) if "out" in run else (None, None)
                if out is None:
                    raise_if_error(run, f"{name}.forward")
                bad = compare(out, ref_out, tol, kind)
                if bad:
                    problems["forward"].append((f"forward {where}: got {bad.message}", {"worst": bad.as_details()}))
            except StudentError as exc:
                errors["forward"].append(f"{exc} ({where})")
            # inputs unchanged
            for i, (entry, x) in enumerate(zip(run.get("inputs_after", []), case.inputs)):
                try:
                    after, _ = value(entry, arrays)
                except StudentError:
                    continue
                if after.shape != x.shape or not np.array_equal(after, x, equal_nan=True):
                    problems["no_mutation"].append(
                        (f"forward/backward modified input {i + 1} in place ({where})", {}))
            # backward
            if "grads" not in run:
                message = f"{run.get('where', name + '.backward')}: {run.get('error', 'no gradients returned')} ({where})"
                errors["backward"].append(message)
                errors["shapes"].append(message)
                continue
            need = 1 if name == "SoftmaxCrossEntropyGate" else spec.arity
            entries = run["grads"][:need]
            if len(entries) < need:
                problems["shapes"].append((f"backward returned {len(entries)} gradients for {need} inputs ({where})", {}))
                problems["backward"].append((f"backward returned {len(entries)} gradients for {need} inputs ({where})", {}))
                continue
            try:
                grads = [value(e, arrays) for e in entries]
            except StudentError as exc:
                errors["backward"].append(f"{name}.backward {exc} ({where})")
                errors["shapes"].append(f"{name}.backward {exc} ({where})")
                continue
            for i, ((g, _), x) in enumerate(zip(grads, case.inputs)):
                if g.shape != x.shape:
                    problems["shapes"].append(
                        (f"gradient {i + 1} has shape {shape_text(g.shape)}, its input {shape_text(x.shape)} ({where})", {}))
            if r == 0:
                got_grads[k] = [g for g, _ in grads]
            for i, ((g, kind), e) in enumerate(zip(grads, ref_grads[:need])):
                bad = compare(g, e, tol, kind)
                if bad:
                    alternatives = {}
                    if dout is not None:
                        alternatives["ignores the upstream gradient dz (as if dz were all ones)"] = \
                            _reference_run(spec, case.inputs, np.ones_like(dout))[1][:need]
                    batch = case.inputs[0].shape[0] if name == "SoftmaxCrossEntropyGate" else None
                    diagnosis = diagnose([gg for gg, _ in grads], ref_grads[:need], alternatives, batch)
                    details = {"worst": bad.as_details(f"d{_input_name(name, i)}")}
                    if diagnosis:
                        details["diagnosis"] = diagnosis
                    problems["backward"].append(
                        (f"backward {where}: d{_input_name(name, i)} is {bad.message}", details))
                    break
    # centered differences of the student's own forward
    if plans is not None:
        if isinstance(numerical, CallFailed):
            errors["numerical"].append(f"evaluating forward for centered differences: {numerical}")
        elif numerical is not None:
            _judge_numerical(ctx, name, cases, plans, numerical, got_grads, problems, errors)
    return {f"gates.{name}.{a}": _verdict(f"gates.{name}.{a}", problems[a], errors[a], _PASS[a]) for a in ASPECTS}


_PASS = {
    "forward": "forward matches the reference",
    "backward": "backward matches the reference under random upstream gradients",
    "numerical": "backward matches centered differences of your forward",
    "shapes": "one gradient per input, each of its input's shape",
    "no_mutation": "inputs left unchanged",
}


def _input_name(gate, i):
    names = {"MatMulGate": ("W", "X"), "SoftmaxCrossEntropyGate": ("scores", "labels")}
    return names.get(gate, ("x", "y"))[i]


def _judge_numerical(ctx, name, cases, plans, numerical, got_grads, problems, errors):
    trials, arrays = numerical
    for (k, plan, _), trial in zip(plans, trials):
        case = cases[k]
        if k not in got_grads:
            continue
        outputs = []
        try:
            for entry in trial["points_out"]:
                outputs.append(value(entry, arrays)[0])
        except StudentError as exc:
            errors["numerical"].append(f"{name}.forward at a perturbed input: {exc}")
            continue
        analytic = [got_grads[k][i] if i < len(got_grads[k]) else None for i in case.wrt]
        if any(g is None or g.shape != case.inputs[i].shape for g, i in zip(analytic, case.wrt)):
            continue  # reported under shapes
        dout = case.douts[0] if case.douts[0] is not None else np.array(1.0)
        failed = numerical_verdict(numerics, plan, outputs, analytic, dout, mode="full",
                                   f_batch=_remote_forward(ctx, name, case), rng=ctx.rng(f"gates.{name}.redo.{k}"))
        if failed:
            problems["numerical"].append((f"on {case.label}: {failed[0]}", failed[1]))


def _remote_forward(ctx, name, case):
    """points -> the student's forward at each point, in one worker call (for numerics.check_vjp)."""
    def f_batch(points):
        payload = Payload()
        trial = {"cls": name, "args": list(GATES[name].args), "floats": case.floats,
                 "points": _point_refs(points, payload)}
        try:
            reply, arrays = call(ctx.session_a, {"op": "gates", "trials": [trial]}, payload)
            return [value(e, arrays)[0] for e in reply["trials"][0]["points_out"]]
        except (CallFailed, StudentError, KeyError, IndexError) as exc:
            raise ValueError(f"evaluating forward for centered differences: {exc}") from None
    return f_batch


def _verdict(check_id, problems, errors, pass_message):
    if errors:
        return Result(check_id, "error", errors[0], {"errors": errors[:5]} if len(errors) > 1 else {})
    if problems:
        message, details = problems[0]
        if len(problems) > 1:
            details = {**details, "failures": len(problems)}
        return Result(check_id, "fail", message, details)
    return Result(check_id, "pass", pass_message)
