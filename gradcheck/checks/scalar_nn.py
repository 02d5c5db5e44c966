"""Checks of a scalar engine's nn classes (a ``scalar_nn`` unit: micrograd's Neuron, Layer and MLP).

Check ids ``<unit id>.<aspect>``, on the unit's MLP cases and on a Neuron (with and without its
nonlinearity) and two Layers (several outputs, and one: a single Value) of the first case's sizes:

- ``parameters``: ``parameters()`` has one Value per weight and bias (``nin + 1`` per neuron), in the
  contract's order (a value the grader sets through it is read back from it), and they are the ones
  the network computes with: judged on the networks whose outputs, with the values set, are the
  reference's (a list of Values that is not the network's passes nothing);
- ``forward``: the outputs, with the grader's parameter values (set through ``parameters()``, drawn so
  that every ReLU pre-activation stays ``relu_margin`` away from its kink), against the reference's;
- ``gradients``: every parameter's grad after ``backward()`` on a random weighted sum of the outputs;
- ``zero_grad``: ``zero_grad()`` leaves every parameter's grad 0, and a fresh forward and backward
  then gives the same gradients;
- ``train``: a few steps of SGD on the mean squared error, run by the worker's harness (it sets
  ``p.data`` itself) with the student's classes: every step's loss is the reference's (made-up losses
  would need the true gradients), and the loss falls at least half as far as the reference's does.

The networks run on the student's own engine (there is no stand-in Value: a wrong engine also costs
these checks; see docs/assignments.md). The reference's numbers come from the assignment's reference
``nn`` module, in this process; its constructors may draw from Python's ``random``, whose state is
kept as it was.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

import numpy as np

from ..errors import AssignmentError
from ..units import SCALAR_NN_ASPECTS, Unit
from .cases import CASE_TRIES, UnitProblem, draw
from .common import CallFailed, CheckResult, Payload, StudentError, call, compare, seeded_rng, value
from .context import Context

ASPECTS = SCALAR_NN_ASPECTS
ROWS = 3  # inputs each network is called on
TRAIN_SHARE = 0.5  # the student's loss must fall at least this share of the reference's fall


@dataclass
class Net:
    """One network: its class role and constructor arguments, the grader's parameters, inputs and weights."""

    label: str
    role: str  # neuron, layer, mlp
    args: list
    kwargs: dict
    sizes: list  # [nin, nout of each layer]
    nonlin: list  # whether each layer has ReLU
    params: np.ndarray
    X: np.ndarray
    weights: np.ndarray
    out: np.ndarray = None  # the reference's outputs (rows x outputs, flat)
    grads: np.ndarray = None  # the reference's parameter gradients


def _shapes(sizes) -> list:
    return [(sizes[k], sizes[k + 1]) for k in range(len(sizes) - 1)]


def count_params(sizes) -> int:
    return sum((nin + 1) * nout for nin, nout in _shapes(sizes))


def forward_numpy(params, sizes, nonlin, X):
    """(outputs (rows, nout), every pre-activation of a ReLU unit) from the contract's parameter
    order: layer by layer, neuron by neuron, its weights then its bias."""
    out, pre, at = np.asarray(X, dtype=float), [], 0
    for (nin, nout), relu in zip(_shapes(sizes), nonlin):
        w = np.empty((nin, nout))
        b = np.empty(nout)
        for j in range(nout):
            w[:, j] = params[at : at + nin]
            b[j] = params[at + nin]
            at += nin + 1
        z = out @ w + b
        if relu:
            pre.append(z.ravel())
            z = np.maximum(z, 0.0)
        out = z
    return out, np.concatenate(pre) if pre else np.zeros(0)


def _kept_random(make):
    state = random.getstate()
    try:
        return make()
    finally:
        random.setstate(state)


def _linear(values, weights):
    total = None
    for v, w in zip(values, weights):
        term = v * float(w)
        total = term if total is None else total + term
    return total


def _outs(result):
    return list(result) if isinstance(result, (list, tuple)) else [result]


def reference_call(ref, unit: Unit, net: Net):
    """The reference network's (outputs, parameter grads) on net's inputs, parameters and weights."""
    model = _kept_random(lambda: getattr(ref, unit.scalar.cls(net.role))(*net.args, **net.kwargs))
    params = list(model.parameters())
    if len(params) != len(net.params):
        raise UnitProblem("name", f"the reference's {net.label} has {len(params)} parameters, not {len(net.params)}")
    for p, v in zip(params, net.params):
        p.data = float(v)
    outs = [_outs(model([float(x) for x in row])) for row in net.X]
    flat = [v for row in outs for v in row]
    _linear(flat, net.weights).backward()
    return np.array([float(v.data) for v in flat]), np.array([float(p.grad) for p in params])


def reference_train(ref, unit: Unit, net: Net, X, y, steps, lr) -> np.ndarray:
    """The losses of the harness's SGD loop (as ops.op_scalar_nn's) with the reference's classes."""
    model = _kept_random(lambda: getattr(ref, unit.scalar.cls(net.role))(*net.args, **net.kwargs))
    params = list(model.parameters())
    for p, v in zip(params, net.params):
        p.data = float(v)
    losses = []
    for _ in range(steps):
        outs = [_outs(model([float(x) for x in row]))[0] for row in X]
        errors = [o - float(t) for o, t in zip(outs, y)]
        loss = _linear([e * e for e in errors], [1.0 / len(X)] * len(X))
        losses.append(float(loss.data))
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data = float(p.data) - lr * float(p.grad)
    return np.array(losses)


@dataclass
class NNPlan:
    nets: list
    train: tuple  # (net, X, y, steps, lr, reference losses)


def _nets(unit: Unit) -> list:
    """(label, role, args, kwargs, sizes, nonlin) of every network the checks build."""
    spec = unit.scalar
    first = unit.cases[0]
    nin, width = int(first["nin"]), int(first["nouts"][0])
    neuron, layer, mlp = spec.cls("neuron"), spec.cls("layer"), spec.cls("mlp")
    out = [
        (f"{neuron}({nin})", "neuron", [nin], {}, [nin, 1], [True]),
        (f"{neuron}({nin}, nonlin=False)", "neuron", [nin], {"nonlin": False}, [nin, 1], [False]),
        (f"{layer}({nin}, {width})", "layer", [nin, width], {}, [nin, width], [True]),
        (f"{layer}({nin}, 1)", "layer", [nin, 1], {}, [nin, 1], [True]),
    ]
    for case in unit.cases:
        nouts = [int(n) for n in case["nouts"]]
        sizes = [int(case["nin"]), *nouts]
        label = case.get("label") or f"{mlp}({case['nin']}, {nouts})"
        out.append((label, "mlp", [int(case["nin"]), nouts], {}, sizes, [True] * (len(nouts) - 1) + [False]))
    return out


def _draw_net(unit: Unit, ref, rng, made) -> Net:
    label, role, args, kwargs, sizes, nonlin = made
    spec = unit.scalar
    domain = unit.inputs[0].domain if unit.inputs else None
    for _ in range(CASE_TRIES):
        params = np.array([float(draw(rng, spec.weights, (), {})) for _ in range(count_params(sizes))])
        X = np.round(
            [
                [float(draw(rng, domain, (), {})) if domain else float(rng.uniform(-1, 1)) for _ in range(sizes[0])]
                for _ in range(ROWS)
            ],
            3,
        )
        outs, pre = forward_numpy(params, sizes, nonlin, X)
        # a linear last layer must give an output a ReLU would change (below -relu_margin): else a ReLU
        # there (the classic bug) gives the same outputs and gradients (examples/micrograd/relu-last-layer)
        if (pre.size == 0 or np.min(np.abs(pre)) >= spec.relu_margin) and (
            nonlin[-1] or np.min(outs) <= -spec.relu_margin
        ):
            break
    else:
        raise UnitProblem(
            "accept",
            f"no draw of {label} in {CASE_TRIES} kept its ReLU inputs {spec.relu_margin} from 0"
            + ("" if nonlin[-1] else f" with an output below -{spec.relu_margin}"),
        )
    net = Net(label, role, args, kwargs, sizes, nonlin, params, X, rng.normal(size=outs.size))
    net.out, net.grads = _instructors(lambda: reference_call(ref, unit, net), label)
    if compare(net.out, outs.ravel(), {}) is not None:
        raise UnitProblem(
            "name", f"the reference's {label} does not give what its parameters (in the contract's order) give"
        )
    return net


def _instructors(function, label):
    try:
        return function()
    except UnitProblem:
        raise
    except Exception as exc:  # the instructor's code on a case the grader drew: the assignment's problem
        raise UnitProblem("name", f"the reference's {label} raised {type(exc).__name__}: {exc}") from exc


@functools.lru_cache(maxsize=16)
def nn_plan(seed: int, unit: Unit, ref) -> NNPlan:
    rng = seeded_rng(seed, unit.id)
    nets = [_draw_net(unit, ref, rng, made) for made in _nets(unit)]
    mlp = nets[4]
    t = unit.scalar.training
    X = np.round(rng.uniform(-1, 1, (int(t["examples"]), mlp.sizes[0])), 3)
    y = np.round(rng.uniform(-1, 1, int(t["examples"])), 3)
    losses = _instructors(lambda: reference_train(ref, unit, mlp, X, y, int(t["steps"]), float(t["lr"])), mlp.label)
    if not losses[-1] < losses[0]:
        raise UnitProblem("train", f"the reference's loss does not fall in {t['steps']} steps of lr {t['lr']}")
    return NNPlan(nets, (mlp, X, y, int(t["steps"]), float(t["lr"]), losses))


# ------------------------------------------------------------------------------- requests and judging


def _script(net: Net, payload: Payload) -> list:
    params = payload.ref(net.params)
    call_ = {"call": payload.ref(net.X), "weights": payload.ref(net.weights)}
    return [{"parameters": True}, {"set": params}, {"parameters": True}, call_, {"zero_grad": True}]


def run(ctx: Context, wanted: set[str]) -> dict[str, CheckResult]:
    results = {}
    for unit in ctx.units:
        if unit.style != "scalar_nn":
            continue
        ids = {i for i in wanted if i.rsplit(".", 1)[0] == unit.id}
        if ids:
            results.update(_run_unit(ctx, unit, {i.rsplit(".", 1)[1] for i in ids}))
    return {k: v for k, v in results.items() if k in wanted}


class _Found:
    def __init__(self):
        self.problems = {a: [] for a in ASPECTS}
        self.errors = {a: [] for a in ASPECTS}
        self.compared = {a: 0 for a in ASPECTS}


def _run_unit(ctx: Context, unit: Unit, aspects: set) -> dict[str, CheckResult]:
    ids = {a: f"{unit.id}.{a}" for a in aspects}
    module = ctx.own_modules.get(unit.module, {})
    if not module.get("ok"):
        text = f"{unit.module}.py could not be imported: {module.get('error', f'{unit.module}.py was not found')}"
        return {i: CheckResult(i, "error", text) for i in ids.values()}
    absent = [c for c in (unit.scalar.cls(r) for r in ("neuron", "layer", "mlp")) if c not in module.get("names", [])]
    if absent:
        text = f"{unit.module}.py has no class {', '.join(absent)}"
        return {i: CheckResult(i, "missing", text) for i in ids.values()}
    try:
        plan = nn_plan(ctx.seed, unit, ctx.reference(unit.module))
    except UnitProblem as exc:
        index = ctx.units.index(unit)
        raise AssignmentError(ctx.assignment_file, [(f"units[{index}].{exc.field}", f"{unit.name}: {exc}")]) from None
    found = _Found()
    if aspects - {"train"}:
        payload = Payload()
        nets = [
            {"cls": unit.scalar.cls(n.role), "args": n.args, "kwargs": n.kwargs, "script": _script(n, payload)}
            for n in plan.nets
        ]
        try:
            reply, arrays = call(ctx.own, {"op": "scalar_nn", "module": unit.module, "nets": nets}, payload)
            for net, rep in zip(plan.nets, reply["nets"]):
                _judge_net(net, rep, arrays, ctx.tolerances, found)
        except CallFailed as exc:
            for a in ASPECTS:
                if a != "train":  # training runs in a request of its own
                    found.errors[a].append(f"running your networks: {exc}")
    if "train" in aspects:
        _judge_train(ctx, unit, plan, found)
    out = {}
    for a in aspects:
        out[ids[a]] = _verdict(ids[a], a, found)
    return out


def _entry(rep, k, key=None):
    if "error" in rep and "results" not in rep:
        raise StudentError(rep["error"])
    entry = rep["results"][k]
    if key is not None and key not in entry:
        raise StudentError(f"{entry.get('where', key)}: {entry.get('error', 'no value')}")
    return entry


def _judge_net(net: Net, rep, arrays, tol, found: _Found):
    where = f"on {net.label}"
    _judge_zero_grad(net, rep, arrays, found)
    n = len(net.params)
    # parameters: the count, then the values set through parameters() read back from it
    try:
        first = _entry(rep, 0, "count")
        if first["count"] != n:
            found.compared["parameters"] += 1
            found.problems["parameters"].append(
                f"{net.label}.parameters() returned {first['count']} Values, expected {n} "
                f"({' + '.join(f'({a} + 1) x {b}' for a, b in _shapes(net.sizes))}: every weight and bias)"
            )
            for a in ("forward", "gradients"):
                found.errors[a].append(
                    f"could not be checked on {net.label}: the grader sets its parameters through parameters(), "
                    f"which returned {first['count']} Values, not {n} (see parameters)"
                )
            return
        _entry(rep, 1, "ok")
        again = value(_entry(rep, 2, "data")["data"], arrays)[0]
        if again.shape != net.params.shape or not np.array_equal(again, net.params):
            found.problems["parameters"].append(
                f"{where}: the values set through parameters() are not what parameters() returns next "
                "(a new list of new Values each call?)"
            )
    except StudentError as exc:
        found.errors["parameters"].append(f"{exc} ({where})")
        for a in ("forward", "gradients"):
            found.errors[a].append(f"could not be checked: {exc} ({where})")
        return
    # forward, gradients
    try:
        out = value(_entry(rep, 3, "out")["out"], arrays)[0]
    except StudentError as exc:
        for a in ("forward", "gradients"):
            found.errors[a].append(f"calling it: {exc} ({where})")
        return
    found.compared["forward"] += 1
    bad = compare(out, net.out, tol)
    if not bad:  # the Values set through parameters() are the ones the network computes with
        found.compared["parameters"] += 1
    if bad:
        found.problems["forward"].append(f"{where} at x = {_rows(net.X)}: the outputs are {bad.message}")
        found.errors["gradients"].append(f"could not be checked: the outputs {where} are wrong (see forward)")
        return
    try:
        grads = value(_entry(rep, 3, "grads")["grads"], arrays)[0]
    except StudentError as exc:
        found.errors["gradients"].append(f"backward(): {exc} ({where})")
        return
    found.compared["gradients"] += 1
    bad = compare(grads, net.grads, tol)
    if bad:
        k = int(bad.index[0]) if bad.index else 0
        text = f"{where}: the gradient of parameter {k} ({_param_name(net, bad.index)}) is {bad.message}"
        unreached = [k for k in range(n) if grads.shape == net.grads.shape and grads[k] == 0 and net.grads[k] != 0]
        if unreached and len(unreached) == int(np.sum(grads != net.grads)):
            text += (
                f"; parameters {_names(net, unreached)} get no gradient: are the Values parameters() returns the "
                "ones the network computes with?"
            )
        found.problems["gradients"].append(text)


def _judge_zero_grad(net: Net, rep, arrays, found: _Found):
    """Every grad that parameters() returns is 0 after zero_grad(), judged where the backward before it
    left some grad that is not (whatever the parameters, outputs and gradients were: a fresh forward
    and backward after zeroing is the engine's rerun check)."""
    where = f"on {net.label}"
    try:
        before = value(_entry(rep, 3, "grads")["grads"], arrays)[0]
        zeroed = value(_entry(rep, 4, "grads")["grads"], arrays)[0]
    except StudentError as exc:
        found.errors["zero_grad"].append(f"could not be checked: {exc} ({where})")
        return
    if not np.any(before != 0):
        return  # nothing to reset on this network (its ReLUs all off): another one says (a pass needs one)
    found.compared["zero_grad"] += 1
    if zeroed.shape != before.shape:
        found.problems["zero_grad"].append(
            f"{where}: after zero_grad(), {zeroed.size} grads read, before it {before.size}"
        )
    elif np.any(zeroed != 0):
        k = int(np.flatnonzero(zeroed)[0])
        found.problems["zero_grad"].append(
            f"{where}: after zero_grad(), parameter {k} ({_param_name(net, (k,))}) has grad {zeroed[k]:.6g}, expected 0"
        )


def _rows(X) -> str:
    return "[" + ", ".join("[" + ", ".join(f"{v:.3g}" for v in row) + "]" for row in X) + "]"


def _param_name(net: Net, index) -> str:
    k = int(index[0]) if index else 0
    at = 0
    for layer, (nin, nout) in enumerate(_shapes(net.sizes)):
        if k < at + (nin + 1) * nout:
            j, i = divmod(k - at, nin + 1)
            what = f"w[{i}]" if i < nin else "b"
            return f"layer {layer}, neuron {j}, {what}" if net.role == "mlp" else f"neuron {j}, {what}"
        at += (nin + 1) * nout
    return "?"


def _names(net: Net, ks) -> str:
    shown = [f"{k} ({_param_name(net, (k,))})" for k in ks[:4]]
    return ", ".join(shown) + (f" and {len(ks) - 4} more" if len(ks) > 4 else "")


def _judge_train(ctx: Context, unit: Unit, plan: NNPlan, found: _Found):
    net, X, y, steps, lr, ref_losses = plan.train
    payload = Payload()
    script = [
        {"set": payload.ref(net.params)},
        {"train": {"X": payload.ref(X), "y": payload.ref(y), "steps": steps, "lr": lr}},
    ]
    request = {
        "op": "scalar_nn",
        "module": unit.module,
        "nets": [{"cls": unit.scalar.cls("mlp"), "args": net.args, "kwargs": net.kwargs, "script": script}],
    }
    where = f"{net.label}, {steps} steps of SGD with lr {lr:g} on {len(y)} examples"
    try:
        reply, arrays = call(ctx.own, request, payload)
        rep = reply["nets"][0]
        _entry(rep, 0, "ok")
        losses = value(_entry(rep, 1, "losses")["losses"], arrays)[0]
    except CallFailed as exc:
        found.errors["train"].append(f"training {where}: {exc}")
        return
    except StudentError as exc:
        found.errors["train"].append(f"training {where}: {exc}")
        return
    found.compared["train"] += 1
    if losses.shape != ref_losses.shape or not np.all(np.isfinite(losses)):
        found.problems["train"].append(f"{where}: the losses are not {steps} finite numbers")
        return
    bad = compare(losses, ref_losses, ctx.tolerances)
    if bad:  # every step's loss is the reference's: a made-up trajectory needs the true gradients
        step = int(bad.index[0]) if bad.index else 0
        found.problems["train"].append(
            f"{where}: the loss before step {step + 1} is {bad.message.split(' at ')[0]}, expected "
            f"{ref_losses[step]:.6g} (the reference's losses go from {ref_losses[0]:.4g} to {ref_losses[-1]:.4g})"
        )
        return
    need = losses[0] - TRAIN_SHARE * (ref_losses[0] - ref_losses[-1])
    if not losses[-1] <= need:
        found.problems["train"].append(
            f"{where}: the loss went from {losses[0]:.4g} to {losses[-1]:.4g}; the reference's from "
            f"{ref_losses[0]:.4g} to {ref_losses[-1]:.4g} (at most {need:.4g} expected)"
        )


PASSED = {
    "parameters": "parameters() holds every weight and bias the network computes with, in order ({n} networks)",
    "forward": "the outputs match the reference's ({n} networks)",
    "gradients": "every parameter's gradient matches the reference's ({n} networks)",
    "zero_grad": "zero_grad() resets every gradient to 0 ({n} networks)",
    "train": "SGD with your classes lowers the loss step by step as the reference's does",
}


def _verdict(check_id, aspect, found: _Found) -> CheckResult:
    errors, problems, compared = found.errors[aspect], found.problems[aspect], found.compared[aspect]
    if problems:
        details = {"failures": len(problems)} if len(problems) > 1 else {}
        return CheckResult(check_id, "fail", problems[0], details)
    if errors:
        return CheckResult(check_id, "error", errors[0], {"errors": errors[:5]} if len(errors) > 1 else {})
    if not compared:
        return CheckResult(check_id, "error", "could not be checked: nothing was compared")
    return CheckResult(check_id, "pass", PASSED[aspect].format(n=compared))
