"""Checks of mlp.py: parameters, forward, loss, gradients (reference and centered differences),
sgd_step and train. Runs in session B, where the contract's gates are correct stand-ins, so the
scored MLP checks never depend on the student's gates."""
from __future__ import annotations

import numpy as np

from .. import numerics
from ..diagnosis import diagnose
from ..reference import mlp as reference
from .common import CallFailed, Payload, Result, StudentError, call, compare, numerical_verdict, value

ACTIVATIONS = ("sigmoid", "tanh", "relu")
# (sizes, batch size): non-square layers, a deeper net with batch size 1, and a linear classifier
SHAPED = ([4, 5, 3], 6)
DEEP = ([3, 4, 4, 2], 1)
LINEAR = ([4, 3], 5)
WIDE = ([12, 16, 5], 8)  # enough parameters for the directional and sparse checks
TRAIN_SIZES = [2, 8, 3]


def expected_keys(sizes):
    return {f"{p}{i}": ((o, n) if p == "W" else (o,))
            for i, (n, o) in enumerate(zip(sizes[:-1], sizes[1:]), start=1) for p in "Wb"}


def _params(rng, sizes):
    return {k: rng.normal(0.0, 0.6, shape) for k, shape in expected_keys(sizes).items()}


def _data(rng, sizes, n):
    return rng.normal(0.0, 1.0, (n, sizes[0])), rng.integers(0, sizes[-1], n)


def train_data(rng, n=90):
    """Three well-separated blobs in 2-D: a correct train lowers the loss on any seed."""
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    y = np.arange(n) % 3
    return centers[y] + rng.normal(0.0, 0.6, (n, 2)), y


def _reference_net(sizes, activation, params):
    net = reference.MLP(sizes, activation)
    net.params = {k: v.copy() for k, v in params.items()}
    return net


class _Case:
    def __init__(self, sizes, n, activation, rng):
        self.sizes, self.activation = sizes, activation
        self.params = _params(rng, sizes)
        self.X, self.y = _data(rng, sizes, n)

    def script(self, payload, *items, initial=False):
        """Set the grader's parameters, then the items; with ``initial``, first read the parameters
        the network was created with (to tell a network that ignores net.params)."""
        first = [{"params": True}] if initial else []
        return {"sizes": self.sizes, "activation": self.activation, "seed": 0,
                "script": first + [{"set": {k: payload.ref(v) for k, v in self.params.items()}}, *items]}

    def reference(self):
        net = _reference_net(self.sizes, self.activation, self.params)
        return net.forward(self.X), *net.loss(self.X, self.y)


def _module_problem(ctx, wanted):
    mod = ctx.modules_b.get("mlp", {})
    if not mod.get("ok"):
        return {i: Result(i, "error", f"mlp.py could not be imported: {mod.get('error', 'mlp.py was not found')}")
                for i in wanted}
    out = {}
    if "MLP" not in mod.get("names", []):
        out.update({i: Result(i, "missing", "mlp.py has no class MLP") for i in wanted})
    elif "train" not in mod.get("names", []) and "mlp.train" in wanted:
        out["mlp.train"] = Result("mlp.train", "missing", "mlp.py has no function train")
    return out


def run(ctx, wanted: set[str]) -> dict[str, Result]:
    wanted = {i for i in wanted if i.startswith("mlp.")}
    if not wanted:
        return {}
    results = _module_problem(ctx, wanted)
    todo = wanted - set(results)
    if not todo:
        return results
    rng = ctx.rng("mlp")
    cases = {(act, which): _Case(sizes, n, act, rng) for act in ACTIVATIONS
             for which, (sizes, n) in (("shaped", SHAPED), ("deep", DEEP))}
    linear = [_Case(LINEAR[0], n, act, rng) for act, n in (("relu", LINEAR[1]), ("tanh", 1))]
    wide = _Case(WIDE[0], WIDE[1], "tanh", rng)
    train_seed = int(rng.integers(0, 2**31))
    tX, ty = train_data(rng)
    train_params = _params(rng, TRAIN_SIZES)
    payload = Payload()
    nets = []
    for act in ACTIVATIONS:
        for which in ("shaped", "deep"):
            c = cases[(act, which)]
            nets.append(c.script(payload, {"forward": payload.ref(c.X)},
                                 {"loss": [payload.ref(c.X), payload.ref(c.y)]}, initial=True))
    for c in linear:
        nets.append(c.script(payload, {"forward": payload.ref(c.X)}, {"loss": [payload.ref(c.X), payload.ref(c.y)]}))
    nets.append(wide.script(payload, {"loss": [payload.ref(wide.X), payload.ref(wide.y)]}))
    sgd = cases[("tanh", "shaped")]
    lr = 0.1
    nets.append(sgd.script(payload, {"loss": [payload.ref(sgd.X), payload.ref(sgd.y)]},
                           {"sgd_step": [payload.ref(sgd.X), payload.ref(sgd.y), lr]}, {"params": True}))
    nets.append({"sizes": DEEP[0], "activation": "tanh", "seed": 0, "script": [{"params": True}]})
    nets.append({"sizes": LINEAR[0], "activation": "relu", "seed": 1, "script": [{"params": True}]})
    train_spec = {"X": payload.ref(tX), "y": payload.ref(ty), "lr": 0.5, "batch_size": 16,
                  "steps": int(ctx.settings.get("train_steps", 100)), "seed": train_seed}
    for _ in range(2):  # twice from the same state: the same seed must give the same losses
        nets.append({"sizes": TRAIN_SIZES, "activation": "tanh", "seed": 0, "script": [
            {"set": {k: payload.ref(v) for k, v in train_params.items()}}, {"train": train_spec}]})
    try:
        reply, arrays = call(ctx.session_b, {"op": "mlp", "nets": nets}, payload)
        replies = [_Net(req, rep, arrays) for req, rep in zip(nets, reply["nets"])]
    except (CallFailed, KeyError, TypeError) as exc:
        status = exc.status if isinstance(exc, CallFailed) else "error"
        results.update({i: Result(i, status, f"running your MLP: {exc}") for i in todo})
        return results
    r = iter(replies)
    by_case = {key: next(r) for key in cases}
    lin = [next(r) for _ in linear]
    wide_reply, sgd_reply, params_deep, params_linear, train1, train2 = (next(r) for _ in range(6))
    tol = ctx.tolerances
    out = {}
    for act in ACTIVATIONS:
        pairs = [(cases[(act, w)], by_case[(act, w)]) for w in ("shaped", "deep")]
        out[f"mlp.forward.{act}"] = _forward(f"mlp.forward.{act}", pairs, tol)
        out[f"mlp.gradients.{act}"] = _gradients(f"mlp.gradients.{act}", pairs, tol)
    out["mlp.loss"] = _loss(list(zip(linear, lin)) + [(cases[(a, "shaped")], by_case[(a, "shaped")]) for a in ACTIVATIONS],
                            tol)
    out["mlp.params"] = _params_check([(DEEP[0], params_deep), (LINEAR[0], params_linear)])
    out["mlp.sgd_step"] = _sgd(sgd, sgd_reply, tol, lr)
    out["mlp.train"] = _train(train1, train2, train_spec["steps"])
    if "mlp.numerical" in todo:
        numerical_cases = [(cases[(a, "shaped")], by_case[(a, "shaped")]) for a in ACTIVATIONS] + [(wide, wide_reply)]
        out["mlp.numerical"] = _numerical(ctx, numerical_cases)
    results.update({k: v for k, v in out.items() if k in todo})
    return results


class _Net:
    """One network's reply; its script's items are looked up by name ("forward", "loss", ...)."""

    def __init__(self, request, reply, arrays):
        self.keys = [next(iter(item)) for item in request.get("script", [])]
        self.reply, self.arrays = reply, arrays

    def error(self):
        """The first error of the network or of any item, as text, or None."""
        if "error" in self.reply and "results" not in self.reply:
            return self.reply["error"]
        for item in self.reply.get("results", []):
            if isinstance(item, dict) and "error" in item and len(item) <= 2:
                return f"{item.get('where', '')}: {item['error']}".lstrip(": ")
        return None

    def item(self, key):
        """The reply of the script's first ``key`` item; StudentError if it (or the network) failed."""
        if "error" in self.reply and "results" not in self.reply:
            raise StudentError(self.reply["error"])
        try:
            entry = self.reply["results"][self.keys.index(key)]
        except (ValueError, IndexError, KeyError):
            raise StudentError(f"no reply for {key}") from None
        if "error" in entry and key not in entry:
            raise StudentError(f"{entry.get('where', key)}: {entry['error']}")
        return entry

    def value(self, key, field=None):
        """A value of item ``key`` as (array, kind)."""
        return value(self.item(key)[field or key], self.arrays)

    def values(self, key, field):
        """A dict of values of item ``key`` (params, grads) as arrays."""
        return {k: value(v, self.arrays)[0] for k, v in dict(self.item(key)[field]).items()}


def _label(case):
    return f"MLP({case.sizes}, '{case.activation}') on a batch of {len(case.X)}"


def _forward(check_id, pairs, tol):
    for case, net in pairs:
        try:
            scores, kind = net.value("forward", "scores")
        except StudentError as exc:
            return Result(check_id, "error", f"{_label(case)}: {exc}")
        expected = case.reference()[0]
        bad = compare(scores, expected, tol, kind)
        if bad:
            details = {"worst": bad.as_details("scores")}
            if _ignores_params(case, net, scores, tol):
                details["diagnosis"] = ("forward ignores net.params: the scores are those of the parameters the "
                                        "network was created with; read net.params at every call")
            return Result(check_id, "fail", f"{_label(case)}: scores are {bad.message}", details)
    return Result(check_id, "pass", "scores match the reference for parameters set through net.params")


def _ignores_params(case, net, scores, tol):
    try:
        initial = net.values("params", "params")
        return compare(scores, _reference_net(case.sizes, case.activation, initial).forward(case.X), tol) is None
    except Exception:  # noqa: BLE001 - initial parameters unusable: no diagnosis
        return False


def _gradients(check_id, pairs, tol):
    for case, net in pairs:
        try:
            item = net.item("loss")
        except StudentError as exc:
            return Result(check_id, "error", f"{_label(case)}: {exc}")
        _, _, ref_grads = case.reference()
        got = item.get("grads", {})
        missing = sorted(set(ref_grads) - set(got))
        if missing:
            return Result(check_id, "fail", f"{_label(case)}: loss() returned no gradient for {', '.join(missing)}")
        for k in ref_grads:
            try:
                g, kind = value(got[k], net.arrays)
            except StudentError as exc:
                return Result(check_id, "error", f"{_label(case)}: gradient {k}: {exc}")
            bad = compare(g, ref_grads[k], tol, kind)
            if bad:
                details = {"worst": bad.as_details(k)}
                diagnosis = diagnose([g], [ref_grads[k]], batch=len(case.X))
                if diagnosis:
                    details["diagnosis"] = f"{k}: {diagnosis}"
                return Result(check_id, "fail", f"{_label(case)}: d{k} is {bad.message}", details)
    return Result(check_id, "pass", "every parameter's gradient matches the reference")


def softmax_loss(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def _loss(pairs, tol):
    """The loss is judged on the student's own scores, so a forward bug is not deducted twice."""
    for case, net in pairs:
        try:
            scores, _ = net.value("forward", "scores")
            loss, kind = net.value("loss")
        except StudentError as exc:
            return Result("mlp.loss", "error", f"{_label(case)}: {exc}")
        if scores.shape != (len(case.y), case.sizes[-1]):
            continue  # reported by the forward checks
        expected = softmax_loss(scores, case.y)
        bad = compare(loss.reshape(()) if loss.size == 1 else loss, np.array(expected), tol, kind)
        if bad:
            details = {"worst": bad.as_details("loss")}
            diagnosis = diagnose([loss.reshape(())] if loss.size == 1 else [loss], [np.array(expected)], batch=len(case.y))
            if diagnosis:
                details["diagnosis"] = diagnosis
            return Result("mlp.loss", "fail",
                          f"{_label(case)}: loss is {bad.message} (mean softmax cross-entropy of your own scores)",
                          details)
    return Result("mlp.loss", "pass", "the loss is the mean softmax cross-entropy of the scores")


def _params_check(pairs):
    for sizes, net in pairs:
        try:
            got = net.item("params")["params"]
        except StudentError as exc:
            return Result("mlp.params", "error", f"MLP({sizes}): {exc}")
        want = expected_keys(sizes)
        if set(got) != set(want):
            return Result("mlp.params", "fail",
                          f"MLP({sizes}).params has keys {sorted(got)}, expected {sorted(want)}")
        for k, shape in want.items():
            try:
                arr, _ = value(got[k], net.arrays)
            except StudentError as exc:
                return Result("mlp.params", "error", f"MLP({sizes}).params['{k}']: {exc}")
            if arr.shape != shape:
                return Result("mlp.params", "fail",
                              f"MLP({sizes}).params['{k}'] has shape {arr.shape}, expected {shape} (W_i is fan_out x fan_in)")
    return Result("mlp.params", "pass", "params has W_i (fan_out, fan_in) and b_i (fan_out,) for every layer")


def _sgd(case, net, tol, lr):
    try:
        loss_before, _ = net.value("loss")
        grads = net.values("loss", "grads")
        returned, kind = net.value("sgd_step", "loss")
        after = net.values("params", "params")
    except (StudentError, KeyError) as exc:
        return Result("mlp.sgd_step", "error", f"{_label(case)}: {exc}")
    bad = compare(returned.reshape(()) if returned.size == 1 else returned, loss_before.reshape(()), tol, kind)
    if bad:
        return Result("mlp.sgd_step", "fail", f"sgd_step returned {bad.message}: it must return the loss before the step")
    for k, p in case.params.items():
        if k not in grads or k not in after:
            return Result("mlp.sgd_step", "fail", f"after sgd_step, params or grads have no '{k}'")
        expected = p - lr * grads[k]
        bad = compare(after[k], expected, tol)
        if bad:
            details = {"worst": bad.as_details(k)}
            step = after[k] - p
            diagnosis = diagnose([step], [-lr * grads[k]]) if after[k].shape == p.shape else None
            if diagnosis:
                details["diagnosis"] = f"the step params['{k}'] - old: {diagnosis}"
            return Result("mlp.sgd_step", "fail",
                          f"after sgd_step(X, y, lr={lr}), params['{k}'] is {bad.message}; expected old - lr * grad",
                          details)
    return Result("mlp.sgd_step", "pass", "sgd_step does params[k] -= lr * grads[k] and returns the loss before the step")


def _train(first, second, steps):
    try:
        losses, _ = first.value("train", "losses")
        again, _ = second.value("train", "losses")
    except (StudentError, KeyError) as exc:
        return Result("mlp.train", "error", f"train: {exc}")
    if losses.shape != (steps,):
        return Result("mlp.train", "fail", f"train returned {losses.size} losses for steps={steps}")
    if not np.all(np.isfinite(losses)):
        return Result("mlp.train", "fail", "train's losses are not all finite (NaN or inf)")
    early, late = losses[:10].mean(), losses[-10:].mean()
    if not late < 0.5 * early:
        return Result("mlp.train", "fail",
                      f"on three separable blobs the loss went from {early:.4g} (first 10 steps) to {late:.4g} "
                      "(last 10); a correct train at least halves it", {"losses": [round(float(v), 6) for v in losses[::10]]})
    if again.shape != losses.shape or not np.allclose(again, losses, rtol=1e-9, atol=0):
        return Result("mlp.train", "fail", "the same seed gave different losses: train must draw its batches from `seed`")
    return Result("mlp.train", "pass", f"train lowers the loss from {early:.3g} to {late:.3g} and is reproducible from its seed")


def _numerical(ctx, pairs):
    """The student's gradients against centered differences of their own loss."""
    payload = Payload()
    nets, jobs, modes = [], [], {}
    for case, net in pairs:
        try:
            loss, kind = net.value("loss")
            grads = net.values("loss", "grads")
        except (StudentError, KeyError) as exc:
            return Result("mlp.numerical", "error", f"{_label(case)}: {exc}")
        names = sorted(case.params)
        if any(k not in grads or grads[k].shape != case.params[k].shape for k in names):
            return Result("mlp.numerical", "fail", f"{_label(case)}: loss() gradients do not match params' keys and shapes")
        precision = np.float32 if kind in ("float32", "float16") else np.float64
        # the small nets along random directions, the wide one also at sampled coordinates
        mode = "auto" if case is pairs[-1][0] else "directional"
        plan = numerics.plan_check([case.params[k] for k in names], mode=mode, names=names,
                                   rng=ctx.rng(f"mlp.numerical.{case.activation}.{case.sizes}"), precision=precision)
        points = [{k: payload.ref(x) for k, x, base in zip(names, point, plan.inputs) if x is not base}
                  for point in plan.points]
        nets.append(case.script(payload, {"loss_at": {"X": payload.ref(case.X), "y": payload.ref(case.y),
                                                      "points": points}}))
        jobs.append((case, names, plan, [grads[k] for k in names]))
        modes[id(case)] = mode
    try:
        reply, out_arrays = call(ctx.session_b, {"op": "mlp", "nets": nets}, payload)
        replies = [_Net(req, rep, out_arrays) for req, rep in zip(nets, reply["nets"])]
    except (CallFailed, KeyError, TypeError) as exc:
        status = exc.status if isinstance(exc, CallFailed) else "error"
        return Result("mlp.numerical", status, f"evaluating your loss for centered differences: {exc}")
    for (case, names, plan, analytic), net in zip(jobs, replies):
        try:
            outputs = [value(v, out_arrays)[0] for v in net.item("loss_at")["losses"]]
        except (StudentError, KeyError, TypeError) as exc:
            return Result("mlp.numerical", "error", f"{_label(case)}: loss at a perturbed point: {exc}")
        failed = numerical_verdict(numerics, plan, [o.reshape(()) if o.size == 1 else o for o in outputs],
                                   analytic, np.array(1.0), mode=modes[id(case)], f_batch=_remote_loss(ctx, case, names),
                                   rng=ctx.rng(f"mlp.numerical.redo.{case.activation}.{case.sizes}"))
        if failed:
            return Result("mlp.numerical", "fail", f"{_label(case)}: {failed[0]}", failed[1])
    return Result("mlp.numerical", "pass", "loss() gradients match centered differences of your own loss")


def _remote_loss(ctx, case, names):
    """points (tuples of parameter arrays) -> the student's loss at each, in one worker call."""
    def f_batch(points):
        payload = Payload()
        spec = {"X": payload.ref(case.X), "y": payload.ref(case.y),
                "points": [{k: payload.ref(x) for k, x in zip(names, point)} for point in points]}
        try:
            reply, arrays = call(ctx.session_b, {"op": "mlp", "nets": [case.script(payload, {"loss_at": spec})]}, payload)
            losses = [value(v, arrays)[0] for v in reply["nets"][0]["results"][1]["losses"]]
        except (CallFailed, StudentError, KeyError, IndexError) as exc:
            raise ValueError(f"evaluating your loss for centered differences: {exc}") from None
        return [v.reshape(()) if v.size == 1 else v for v in losses]
    return f_batch
