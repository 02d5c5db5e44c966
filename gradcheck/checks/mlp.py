"""Checks of mlp.py: parameters, forward, loss, gradients (reference and centered differences),
sgd_step and train. Runs in the with_standins session, where the contract's gates are correct stand-ins, so the
scored MLP checks never depend on the student's gates."""

from __future__ import annotations

import numpy as np

from .. import numerics
from ..diagnosis import common, diagnose, mlp_bugs
from ..reference import mlp as reference
from .cases import fair_labels
from .common import (
    CallFailed,
    CheckResult,
    Payload,
    StudentError,
    call,
    compare,
    mutation_result,
    numerical_verdict,
    value,
)

ACTIVATIONS = ("sigmoid", "tanh", "relu")
# (sizes, batch size): non-square layers, a deeper net with batch size 1, and a linear classifier
SHAPED = ([4, 5, 3], 6)
DEEP = ([3, 4, 4, 2], 1)
LINEAR = ([4, 3], 5)
WIDE = ([12, 16, 5], 8)  # many parameters: the numerical check moves each tensor along two directions
TRAIN_SIZES = [2, 8, 3]


def expected_keys(sizes):
    return {
        f"{p}{i}": ((o, n) if p == "W" else (o,))
        for i, (n, o) in enumerate(zip(sizes[:-1], sizes[1:]), start=1)
        for p in "Wb"
    }


def _params(rng, sizes):
    return {k: rng.normal(0.0, 0.6, shape) for k, shape in expected_keys(sizes).items()}


def _data(rng, sizes, n):
    return rng.normal(0.0, 1.0, (n, sizes[0])), rng.integers(0, sizes[-1], n)


def train_data(rng, n=90):
    """Three well-separated blobs in 2-D, rows sorted by class: a correct train lowers the loss on any
    seed, and one that never draws beyond the first rows sees a single class."""
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    y = np.sort(np.arange(n) % 3)
    return centers[y] + rng.normal(0.0, 0.6, (n, 2)), y


def _reference_net(sizes, activation, params):
    net = reference.MLP(sizes, activation)
    net.params = {k: v.copy() for k, v in params.items()}
    return net


def _preactivations(sizes, params, X):
    """The hidden layers' pre-activations (where a ReLU has its kink)."""
    h, out = X, []
    for i in range(1, len(sizes) - 1):
        a = h @ params[f"W{i}"].T + params[f"b{i}"]
        out.append(a)
        h = np.maximum(a, 0.0)
    return out


KINK_MARGIN = 0.05  # |pre-activation| of a ReLU case at least this: centered differences never cross a kink


class _Case:
    def __init__(self, sizes, n, activation, rng):
        self.sizes, self.activation = sizes, activation
        for _ in range(200):  # redraw until no ReLU unit sits near its kink and no label is unlikely
            self.params = _params(rng, sizes)
            self.X, self.y = _data(rng, sizes, n)
            scores = _reference_net(sizes, activation, self.params).forward(self.X)
            if not fair_labels(scores, self.y):
                continue
            if activation != "relu" or all(
                np.abs(a).min() >= KINK_MARGIN for a in _preactivations(sizes, self.params, self.X)
            ):
                break

    def script(self, payload, *items, initial=False):
        """Set the grader's parameters, then the items; with ``initial``, first read the parameters
        the network was created with (to tell a network that ignores net.params)."""
        first = [{"params": True}] if initial else []
        return {
            "sizes": self.sizes,
            "activation": self.activation,
            "seed": 0,
            "script": first + [{"set": {k: payload.ref(v) for k, v in self.params.items()}}, *items],
        }

    def reference(self):
        net = _reference_net(self.sizes, self.activation, self.params)
        return net.forward(self.X), *net.loss(self.X, self.y)


def _module_problem(ctx, wanted):
    mod = ctx.standin_modules.get("mlp", {})
    if not mod.get("ok"):
        return {
            i: CheckResult(i, "error", f"mlp.py could not be imported: {mod.get('error', 'mlp.py was not found')}")
            for i in wanted
        }
    out = {}
    if "MLP" not in mod.get("names", []):
        out.update({i: CheckResult(i, "missing", "mlp.py has no class MLP") for i in wanted})
    elif "train" not in mod.get("names", []) and "mlp.train" in wanted:
        out["mlp.train"] = CheckResult("mlp.train", "missing", "mlp.py has no function train")
    return out


TRAIN_STEPS_FULL = 12  # full-batch steps (batch_size > N): losses compared with the reference's
TRAIN_STEPS_SHORT = 20  # steps of the runs that check the seed (the same: the same losses; another: others)


def run(ctx, wanted: set[str]) -> dict[str, CheckResult]:
    wanted = {i for i in wanted if i.startswith("mlp.")}
    if not wanted:
        return {}
    results = _module_problem(ctx, wanted)
    todo = wanted - set(results)
    if not todo:
        return results
    rng = ctx.rng("mlp")
    cases = {
        (act, which): _Case(sizes, n, act, rng)
        for act in ACTIVATIONS
        for which, (sizes, n) in (("shaped", SHAPED), ("deep", DEEP))
    }
    linear = [_Case(LINEAR[0], n, act, rng) for act, n in (("relu", LINEAR[1]), ("tanh", 1))]
    wide = _Case(WIDE[0], WIDE[1], "tanh", rng)
    lr = float(rng.uniform(0.05, 0.3))
    sgd = cases[("tanh", "shaped")]
    other = _Case(SHAPED[0], SHAPED[1], "tanh", rng)  # another batch: a step must use its own loss call
    payload = Payload()
    nets, slots = [], {}

    def add(key, net):
        slots[key] = len(nets)
        nets.append(net)

    scored = todo - {"mlp.params", "mlp.train", "mlp.no_mutation"}
    if scored:
        _scored_requests(add, payload, cases, linear, wide, sgd, other, lr)
    if "mlp.params" in todo:
        add("params_deep", {"sizes": DEEP[0], "activation": "tanh", "seed": 0, "script": [{"params": True}]})
        add("params_linear", {"sizes": LINEAR[0], "activation": "relu", "seed": 1, "script": [{"params": True}]})
    if "mlp.train" in todo:  # built only when it runs: its data never travels with other checks
        plan = TrainPlan(ctx.rng("mlp.train"), int(ctx.settings.get("train_steps", 50)))
        _train_requests(add, payload, plan)
    try:
        reply, arrays = call(ctx.with_standins, {"op": "mlp", "nets": nets}, payload)
    except CallFailed as exc:
        results.update({i: CheckResult(i, exc.status, f"running your MLP: {exc}") for i in todo})
        return results
    got = {key: _Net(nets[i], reply["nets"][i], arrays) for key, i in slots.items()}
    tol = ctx.tolerances
    out = {}
    if scored:
        by_case = {key: got[key] for key in cases}
        lin = [got[("linear", k)] for k in range(len(linear))]
        for act in ACTIVATIONS:
            pairs = [(cases[(act, w)], by_case[(act, w)]) for w in ("shaped", "deep")]
            out[f"mlp.forward.{act}"] = _forward(f"mlp.forward.{act}", pairs, tol)
            out[f"mlp.gradients.{act}"] = _gradients(f"mlp.gradients.{act}", pairs, tol)
        out["mlp.loss"] = _loss(
            list(zip(linear, lin))
            + [(cases[(a, w)], by_case[(a, w)]) for a in ACTIVATIONS for w in ("shaped", "deep")],
            tol,
        )
        out["mlp.sgd_step"] = _sgd(sgd, other, got["sgd_grads"], got["sgd"], tol, lr)
        if "mlp.numerical" in todo:
            numerical_cases = [(cases[(a, "shaped")], by_case[(a, "shaped")]) for a in ACTIVATIONS] + [
                (wide, got["wide"])
            ]
            out["mlp.numerical"] = _numerical(ctx, numerical_cases)
    if "mlp.params" in todo:
        out["mlp.params"] = _params_check([(DEEP[0], got["params_deep"]), (LINEAR[0], got["params_linear"])])
    if "mlp.train" in todo:
        out["mlp.train"] = _train(plan, {key: got[key] for key, _ in plan.runs(None)}, tol)
    if "mlp.no_mutation" in todo:  # last: its train call comes after every other call of this session
        owners = (
            {**cases, **{("linear", k): c for k, c in enumerate(linear)}, "wide": wide, "sgd_grads": sgd, "sgd": sgd}
            if scored
            else {}
        )
        seen = [(case, nets[slots[key]], got[key].reply) for key, case in owners.items()]
        out["mlp.no_mutation"] = _no_mutation(ctx, seen)
    results.update({k: v for k, v in out.items() if k in todo})
    return results


def _scored_requests(add, payload, cases, linear, wide, sgd, other, lr):
    """The networks of the forward, loss, gradients, numerical and sgd_step checks, added with ``add(key, net)``."""
    for act in ACTIVATIONS:
        for which in ("shaped", "deep"):
            c = cases[(act, which)]
            add(
                (act, which),
                c.script(
                    payload,
                    {"forward": payload.ref(c.X)},
                    {"loss": [payload.ref(c.X), payload.ref(c.y)]},
                    initial=True,
                ),
            )
    for k, c in enumerate(linear):
        add(
            ("linear", k),
            c.script(payload, {"forward": payload.ref(c.X)}, {"loss": [payload.ref(c.X), payload.ref(c.y)]}),
        )
    add("wide", wide.script(payload, {"loss": [payload.ref(wide.X), payload.ref(wide.y)]}))
    # the step's gradients come from loss() on a network of its own; right before the step, loss()
    # runs on another batch, so a step that replays the last loss() call moves by the wrong gradients
    add(
        "sgd_grads",
        sgd.script(
            payload,
            {"loss": [payload.ref(sgd.X), payload.ref(sgd.y)]},
            {"loss": [payload.ref(other.X), payload.ref(other.y)]},
        ),
    )
    add(
        "sgd",
        sgd.script(
            payload,
            {"loss": [payload.ref(other.X), payload.ref(other.y)]},
            {"sgd_step": [payload.ref(sgd.X), payload.ref(sgd.y), lr]},
            {"params": True},
        ),
    )


def _train_requests(add, payload, plan):
    """mlp.train's runs (TrainPlan), each from the plan's start, added with ``add(key, net)``."""
    for key, spec in plan.runs(payload):
        add(
            key,
            {
                "sizes": TRAIN_SIZES,
                "activation": "tanh",
                "seed": 0,
                "script": [
                    {"set": {k: payload.ref(v) for k, v in plan.start.items()}},
                    {"train": spec},
                    {"params": True},
                ],
            },
        )


#: where each array a method is given sits in its argument list (train's argument 0 is the network)
ARGUMENTS = {"forward": {"X": 0}, "loss": {"X": 0, "y": 1}, "sgd_step": {"X": 0, "y": 1}, "train": {"X": 1, "y": 2}}
NO_MUTATION_TRAIN = {"batch_size": 4, "steps": 3}  # fewer rows than the batch's 6: batches are drawn


def _no_mutation(ctx, seen=()) -> CheckResult:
    """forward, loss, sgd_step and train leave the caller's X and y as they were (contract: "No
    method may modify the arrays it is given"), right after each call and at the end of the request
    (later calls, on any network). A change the worker reported in the other visible MLP checks' calls
    (``seen``: (case, request, reply) of their networks) is a failure too. Its own calls use networks
    and data of their own; the worker compares the arrays bit for bit with what was sent, and each call
    gets its own copies, so a change costs only this check.
    Passing needs every call to have returned and a network whose scores or loss match the
    reference's (a stub that changes nothing proves nothing)."""
    check_id = "mlp.no_mutation"
    rng = ctx.rng(check_id)
    cases = [_Case(SHAPED[0], SHAPED[1], act, rng) for act in ("sigmoid", "relu", "tanh")]  # train: the last call
    lr = float(rng.uniform(0.05, 0.3))
    train_spec = {**NO_MUTATION_TRAIN, "lr": lr, "seed": int(rng.integers(0, 2**31))}
    has_train = "train" in ctx.standin_modules.get("mlp", {}).get("names", [])
    payload = Payload()
    nets = []
    for c in cases:
        X, y = payload.ref(c.X), payload.ref(c.y)
        items = [{"forward": X}, {"loss": [X, y]}, {"sgd_step": [X, y, lr]}]
        if c is cases[-1] and has_train:
            items.append({"train": {"X": X, "y": y, **train_spec}})
        nets.append(c.script(payload, *items))
    try:
        reply, arrays = call(ctx.with_standins, {"op": "mlp", "nets": nets}, payload)
    except CallFailed as exc:
        return CheckResult(check_id, exc.status, f"running your MLP: {exc}")
    problems, errors, compared, working = [], [], 0, False
    if not has_train:
        errors.append("could not be checked: mlp.py has no function train, whose arguments this check covers too")
    for case, request, rep in zip(cases, nets, reply["nets"]):
        if "error" in rep and "results" not in rep:
            errors.append(f"could not be checked: {_label(case)}: {rep['error']}")
            continue
        for item, entry in zip(request["script"], rep["results"]):
            method = next(iter(item))
            if method not in ARGUMENTS:
                continue
            name = "train" if method == "train" else f"MLP.{method}"
            on = (
                f"on {_label(case)}"
                if method != "train"
                else (
                    f"on train(net, X, y, lr={lr:.4g}, batch_size={train_spec['batch_size']}, "
                    f"steps={train_spec['steps']}) "
                    f"with net = MLP({case.sizes}, '{case.activation}') and {len(case.X)} rows"
                )
            )
            problems += _mutation_problems(method, entry, on)
            if "error" in entry or "changed" not in entry:
                errors.append(
                    f"could not be checked: {entry.get('where', name)}: "
                    f"{entry.get('error', 'no report of its arguments')} ({on})"
                )
                continue
            compared += 2 * len(ARGUMENTS[method])  # right after the call and after the network's last call
        working = _mlp_works(case, _Net(request, rep, arrays), ctx.tolerances) or working
    for case, request, rep in seen:  # the other visible MLP checks' calls
        for item, entry in zip(request["script"], rep.get("results", [])):
            method = next(iter(item))
            if method in ARGUMENTS and isinstance(entry, dict):
                problems += _mutation_problems(method, entry, f"on {_label(case)}")
    return mutation_result(
        check_id,
        problems,
        errors,
        compared,
        working,
        what="network",
        passed="forward, loss, sgd_step and train leave the caller's X and y unchanged ({compared} comparisons)",
    )


def _mutation_problems(method, entry, on):
    """(message, details) for each argument an item's reply says was changed (ops "changed" tags)."""
    name = "train" if method == "train" else f"MLP.{method}"
    out = []
    for tag in entry.get("changed", []):
        arg = tag.split("/", 1)[-1]
        argument = f"{name}'s argument {ARGUMENTS[method][arg]} ({arg})"
        if tag.startswith("later/"):
            text = f"{argument} was modified in place by a later call (on this network or another)"
        else:
            text = f"{name} modified its argument {ARGUMENTS[method][arg]} ({arg}) in place"
        out.append(
            (f"{text} ({on}); the caller's arrays must stay as they were", {"argument": argument, "blame": "mlp.py"})
        )
    return out


def _mlp_works(case, net, tol) -> bool:
    """Whether the network's scores or loss match the reference's (not zero) for this case. The
    reference is computed first, whatever the reply (a student build replays only what was recorded)."""
    scores, loss, _ = case.reference()
    for key, expected in (("forward", scores), ("loss", np.array(loss))):
        try:
            got, _ = net.value(key, "scores" if key == "forward" else "loss")
        except (StudentError, KeyError, TypeError):
            continue
        got = got.reshape(()) if key == "loss" and got.size == 1 else got
        if np.any(expected != 0) and compare(got, expected, tol) is None:
            return True
    return False


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

    def losses(self):
        """The losses of every "loss" item of the script, in order (StudentError at the first that failed)."""
        if "error" in self.reply and "results" not in self.reply:
            raise StudentError(self.reply["error"])
        out = []
        for key, entry in zip(self.keys, self.reply["results"]):
            if "error" in entry:
                raise StudentError(f"{entry.get('where', key)}: {entry['error']}")
            if key == "loss":
                v = value(entry["loss"], self.arrays)[0]
                out.append(v.reshape(()) if v.size == 1 else v)
        return out

    def values(self, key, field):
        """A dict of values of item ``key`` (params, grads) as arrays."""
        return {k: value(v, self.arrays)[0] for k, v in dict(self.item(key)[field]).items()}


def _label(case):
    return f"MLP({case.sizes}, '{case.activation}') on a batch of {len(case.X)}"


def _forward(check_id, pairs, tol):
    for case, net in pairs:
        try:
            scores, _ = net.value("forward", "scores")
        except StudentError as exc:
            return CheckResult(check_id, "error", f"{_label(case)}: {exc}")
        expected = case.reference()[0]
        bad = compare(scores, expected, tol)
        if bad:
            details = {"worst": bad.as_details("scores")}
            if _ignores_params(case, net, scores, tol):
                details["diagnosis"] = (
                    "forward ignores net.params: the scores are those of the parameters the "
                    "network was created with; read net.params at every call"
                )
            return CheckResult(check_id, "fail", f"{_label(case)}: scores are {bad.message}", details)
    return CheckResult(check_id, "pass", "scores match the reference for parameters set through net.params")


def _ignores_params(case, net, scores, tol):
    try:
        initial = net.values("params", "params")
        return compare(scores, _reference_net(case.sizes, case.activation, initial).forward(case.X), tol) is None
    except Exception:  # noqa: BLE001 - initial parameters unusable: no diagnosis
        return False


def _gradients(check_id, pairs, tol):
    """loss()'s gradients against the reference's, on every case; the first failing case is shown,
    with a diagnosis only when every failing case supports the same one."""
    failures = []
    for case, net in pairs:
        try:
            item = net.item("loss")
        except StudentError as exc:
            return CheckResult(check_id, "error", f"{_label(case)}: {exc}")
        _, _, ref_grads = case.reference()
        got = item.get("grads", {})
        missing = sorted(set(ref_grads) - set(got))
        if missing:
            return CheckResult(
                check_id, "fail", f"{_label(case)}: loss() returned no gradient for {', '.join(missing)}"
            )
        values = {}
        for k in ref_grads:
            try:
                values[k], _ = value(got[k], net.arrays)
            except StudentError as exc:
                return CheckResult(check_id, "error", f"{_label(case)}: gradient {k}: {exc}")
        for k in ref_grads:
            bad = compare(values[k], ref_grads[k], tol)
            if bad:
                keys = sorted(ref_grads)
                bugs = mlp_bugs(case.sizes, case.activation, case.params, case.X, case.y)
                diagnosis = diagnose(
                    [values[j] for j in keys],
                    [ref_grads[j] for j in keys],
                    {text: [alt[j] for j in keys] for text, alt in bugs.items()},
                    batch=len(case.X),
                    names=keys,
                    numbered=False,
                )
                failures.append((f"{_label(case)}: d{k} is {bad.message}", {"worst": bad.as_details(k)}, diagnosis))
                break
    if not failures:
        return CheckResult(check_id, "pass", "every parameter's gradient matches the reference")
    message, details, _ = failures[0]
    diagnosis = common([f[2] for f in failures])
    if diagnosis:
        details = {**details, "diagnosis": diagnosis}
    return CheckResult(check_id, "fail", message, details)


def softmax_loss(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(y)), y].mean())


def _loss(pairs, tol):
    """The loss of scores that are verified: where the student's scores match the reference's, their
    loss must be the reference's loss (evidence); where their scores are wrong (a forward bug, counted
    under mlp.forward.*), their loss must still be the mean softmax cross-entropy of their own scores,
    which is consistency, not evidence. No verified case: the loss cannot be checked."""
    anchored = 0
    for case, net in pairs:
        try:
            scores, _ = net.value("forward", "scores")
            loss, _ = net.value("loss")
        except StudentError as exc:
            return CheckResult("mlp.loss", "error", f"{_label(case)}: {exc}")
        ref_scores, ref_loss, _ = case.reference()
        verified = compare(scores, ref_scores, tol) is None
        if verified:
            expected, whose = ref_loss, "the reference's (your scores match it)"
        elif scores.shape == (len(case.y), case.sizes[-1]) and np.all(np.isfinite(scores)):
            expected, whose = softmax_loss(scores, case.y), "the mean softmax cross-entropy of your own scores"
        else:
            continue
        got = loss.reshape(()) if loss.size == 1 else loss
        bad = compare(got, np.array(expected), tol)
        if bad:
            details = {"worst": bad.as_details("loss")}
            diagnosis = diagnose([got], [np.array(expected)], batch=len(case.y)) if got.shape == () else None
            if diagnosis:
                details["diagnosis"] = diagnosis
            return CheckResult("mlp.loss", "fail", f"{_label(case)}: loss is {bad.message}; expected {whose}", details)
        anchored += verified
    if not anchored:
        return CheckResult(
            "mlp.loss",
            "error",
            "could not be checked: your scores differ from the reference's in every "
            "case (see mlp.forward.*), so no loss was computed from verified scores",
        )
    return CheckResult(
        "mlp.loss",
        "pass",
        f"the loss is the mean softmax cross-entropy of the scores ({anchored} cases with verified scores)",
    )


def _params_check(pairs):
    for sizes, net in pairs:
        try:
            got = net.item("params")["params"]
        except StudentError as exc:
            return CheckResult("mlp.params", "error", f"MLP({sizes}): {exc}")
        want = expected_keys(sizes)
        if set(got) != set(want):
            return CheckResult(
                "mlp.params", "fail", f"MLP({sizes}).params has keys {sorted(got)}, expected {sorted(want)}"
            )
        for k, shape in want.items():
            try:
                arr, _ = value(got[k], net.arrays)
            except StudentError as exc:
                return CheckResult("mlp.params", "error", f"MLP({sizes}).params['{k}']: {exc}")
            if arr.shape != shape:
                return CheckResult(
                    "mlp.params",
                    "fail",
                    f"MLP({sizes}).params['{k}'] has shape {arr.shape}, expected {shape} (W_i is fan_out x fan_in)",
                )
    return CheckResult("mlp.params", "pass", "params has W_i (fan_out, fan_in) and b_i (fan_out,) for every layer")


def _sgd(case, other, grads_net, net, tol, lr):
    """The parameters must move by exactly -lr * grads, the gradients of loss() on the step's own
    batch (from a network of their own). With gradients that are not the reference's (counted under
    mlp.gradients.*) the step by them is still checked, but only gradients that come from the data
    are evidence: ones that are the same for another batch (constants, zeros) prove nothing."""
    try:
        losses = grads_net.losses()
        items = [r for key, r in zip(grads_net.keys, grads_net.reply["results"]) if key == "loss"]
        grads = {k: value(v, grads_net.arrays)[0] for k, v in dict(items[0]["grads"]).items()}
        other_grads = {k: value(v, grads_net.arrays)[0] for k, v in dict(items[1]["grads"]).items()}
        returned, _ = net.value("sgd_step", "loss")
        after = net.values("params", "params")
    except (StudentError, KeyError, IndexError, TypeError) as exc:
        return CheckResult("mlp.sgd_step", "error", f"{_label(case)}: {exc}")
    ref_grads = case.reference()[2]
    verified = set(grads) >= set(ref_grads) and all(compare(grads[k], ref_grads[k], tol) is None for k in ref_grads)
    bad = compare(returned.reshape(()) if returned.size == 1 else returned, losses[0].reshape(()), tol)
    if bad:
        return CheckResult(
            "mlp.sgd_step", "fail", f"sgd_step returned {bad.message}: it must return the loss before the step"
        )
    for k, p in case.params.items():
        if k not in grads or k not in after:
            return CheckResult("mlp.sgd_step", "fail", f"after sgd_step, params or grads have no '{k}'")
        if grads[k].shape != p.shape:
            return CheckResult(
                "mlp.sgd_step",
                "error",
                f"could not be checked: loss() gradient {k} has shape "
                f"{grads[k].shape}, params['{k}'] {p.shape} (see mlp.gradients.*)",
            )
        expected = p - lr * grads[k]
        bad = compare(after[k], expected, tol)
        if bad:
            details = {"worst": bad.as_details(k)}
            step = after[k] - p
            diagnosis = diagnose([step], [-lr * grads[k]]) if after[k].shape == p.shape else None
            if diagnosis:
                details["diagnosis"] = f"the step params['{k}'] - old: {diagnosis}"
            return CheckResult(
                "mlp.sgd_step",
                "fail",
                f"after sgd_step(X, y, lr={lr:.4g}), params['{k}'] is {bad.message}; expected old - lr * "
                "grad, the gradients of loss(X, y) for that batch",
                details,
            )
    from_data = all(
        k in other_grads and other_grads[k].shape == grads[k].shape and not np.array_equal(other_grads[k], grads[k])
        for k in case.params
        if np.any(ref_grads[k])
    )
    if not verified and not from_data:
        return CheckResult(
            "mlp.sgd_step",
            "error",
            "could not be checked: loss() gives gradients that are not the "
            "reference's (see mlp.gradients.*) and do not change with the data, so a step by them proves "
            "nothing",
        )
    return CheckResult(
        "mlp.sgd_step", "pass", "sgd_step does params[k] -= lr * grads[k] and returns the loss before the step"
    )


class TrainPlan:
    """The runs of mlp.train, all from the same start: the batch-size run twice with one seed and once
    with another, and a run with batch_size > N. The start's last layer is zero, so every row's loss
    is log(C) before the first step, whatever batch a train draws: its first reported loss is known."""

    def __init__(self, rng, steps):
        self.seed = int(rng.integers(0, 2**31))
        self.other_seed = (self.seed + 1 + int(rng.integers(0, 2**20))) % 2**31
        self.X, self.y = train_data(rng)
        self.start = _params(rng, TRAIN_SIZES)
        last = len(TRAIN_SIZES) - 1
        self.start[f"W{last}"] = np.zeros_like(self.start[f"W{last}"])
        self.start[f"b{last}"] = np.zeros_like(self.start[f"b{last}"])
        self.lr = float(rng.uniform(0.4, 0.6))
        self.steps = steps

    def runs(self, payload):
        """(key, train spec) pairs; with payload None, only the keys matter."""
        ref = (lambda v: None) if payload is None else payload.ref
        spec = {
            "X": ref(self.X),
            "y": ref(self.y),
            "lr": self.lr,
            "batch_size": 16,
            "steps": self.steps,
            "seed": self.seed,
        }
        short = {**spec, "steps": min(self.steps, TRAIN_STEPS_SHORT)}  # seeds show in the first steps
        return [
            ("train1", spec),
            ("train2", short),
            ("train_seed", {**short, "seed": self.other_seed}),
            ("train_full", {**spec, "batch_size": len(self.y) + 7, "steps": TRAIN_STEPS_FULL}),
        ]


def _losses(net, steps):
    losses, _ = net.value("train", "losses")
    if losses.size == steps:  # a list of floats, of 0-d or of 1-element arrays
        losses = losses.reshape(steps)
    return losses


def _train(plan, nets, tol):
    """train, anchored on the trusted side: its first loss is the known loss of the start, the
    parameters it leaves must really fit the data (the reference's loss of them on all rows) and its
    last losses must be about that loss; the same seed gives the same losses and another seed other
    ones (batches drawn from the seed); with batch_size >= N every step uses all rows, so its losses
    are the reference's full-batch gradient descent from the same start."""
    steps, X, y = plan.steps, plan.X, plan.y
    try:
        short = min(steps, TRAIN_STEPS_SHORT)
        losses = _losses(nets["train1"], steps)
        again = _losses(nets["train2"], short)
        reseeded = _losses(nets["train_seed"], short)
        trained = nets["train1"].values("params", "params")
    except (StudentError, KeyError) as exc:
        return CheckResult("mlp.train", "error", f"train: {exc}")
    if losses.shape != (steps,):
        return CheckResult("mlp.train", "fail", f"train returned {losses.size} losses for steps={steps}")
    if not np.all(np.isfinite(losses)):
        return CheckResult("mlp.train", "fail", "train's losses are not all finite (NaN or inf)")
    first = float(np.log(TRAIN_SIZES[-1]))
    bad = compare(losses[0], np.array(first), tol)
    if bad:
        return CheckResult(
            "mlp.train",
            "fail",
            f"train's first loss is {bad.message}: with the last layer at zero "
            f"every batch's loss before the first step is log({TRAIN_SIZES[-1]})",
        )
    early, late = losses[:10].mean(), losses[-10:].mean()
    if not late < 0.5 * early:
        return CheckResult(
            "mlp.train",
            "fail",
            f"on three separable blobs the loss went from {early:.4g} (first 10 steps) to {late:.4g} "
            "(last 10); a correct train at least halves it",
            {"losses": [round(float(v), 6) for v in losses[::10]]},
        )
    if again.shape != (short,) or not np.allclose(again, losses[:short], rtol=1e-9, atol=0):
        return CheckResult(
            "mlp.train", "fail", "the same seed gave different losses: train must draw its batches from `seed`"
        )
    if reseeded.shape == (short,) and np.allclose(reseeded, losses[:short], rtol=1e-9, atol=0):
        return CheckResult(
            "mlp.train",
            "fail",
            "another seed gave the same losses: train must draw random mini-batches "
            f"of batch_size rows from `seed` (batch_size=16 < N={len(y)})",
        )
    initial = _reference_net(TRAIN_SIZES, "tanh", plan.start).loss(X, y)[0]
    try:
        final = _reference_net(TRAIN_SIZES, "tanh", {k: trained[k] for k in plan.start}).loss(X, y)[0]
    except (KeyError, ValueError):
        return CheckResult("mlp.train", "fail", "after train, net.params does not hold the trained W_i and b_i")
    if not final < 0.5 * initial:
        return CheckResult(
            "mlp.train",
            "fail",
            f"after train the network's loss on all {len(y)} rows is {final:.4g} "
            f"(it started at {initial:.4g}): the parameters were not trained on all the data, whatever "
            "losses train reported",
        )
    if abs(late - final) > 0.25 * initial:
        return CheckResult(
            "mlp.train",
            "fail",
            f"train reported losses near {late:.4g} at the end, but the parameters it "
            f"left give {final:.4g} on all rows: the reported losses are not the network's",
        )
    full_spec = plan.runs(None)[-1][1]
    try:
        full_losses = _losses(nets["train_full"], full_spec["steps"])
    except (StudentError, KeyError) as exc:
        return CheckResult(
            "mlp.train",
            "error",
            f"train with batch_size={full_spec['batch_size']} > N={len(y)} rows (the contract: all rows): {exc}",
        )
    expected = _full_batch(plan.start, X, y, plan.lr, full_spec["steps"])
    bad = compare(full_losses, expected, tol)
    if bad:
        return CheckResult(
            "mlp.train",
            "fail",
            f"train with batch_size={full_spec['batch_size']} > N={len(y)} rows must "
            f"use all rows in every step (full-batch gradient descent); its losses are {bad.message}",
            {"worst": bad.as_details("losses")},
        )
    return CheckResult(
        "mlp.train",
        "pass",
        f"train lowers the loss from {early:.3g} to {late:.3g}, leaves parameters "
        f"with loss {final:.3g} on all rows, draws its batches from its seed, and uses all rows when "
        "batch_size >= N",
    )


def _full_batch(params, X, y, lr, steps):
    net = _reference_net(TRAIN_SIZES, "tanh", params)
    return np.array([net.sgd_step(X, y, lr) for _ in range(steps)])


def _numerical(ctx, pairs):
    """The student's gradients against centered differences of their own loss, anchored: those
    differences must also give the reference's gradients (numerical_verdict)."""
    payload = Payload()
    nets, jobs = [], []
    for case, net in pairs:
        try:
            grads = net.values("loss", "grads")
        except (StudentError, KeyError) as exc:
            return CheckResult("mlp.numerical", "error", f"could not be checked: {_label(case)}: {exc}")
        names = sorted(case.params)
        if any(k not in grads or grads[k].shape != case.params[k].shape for k in names):
            return CheckResult(
                "mlp.numerical",
                "error",
                f"could not be checked: {_label(case)}: loss() gradients do not "
                "match params' keys and shapes (see mlp.gradients.*)",
            )
        # a random direction per tensor checks all of it (the benchmark's planted bugs: 5 of 5); the wide
        # net gets two. Every point is a full loss() call of the student's: 17 for a small net, 33 the wide
        mode = "directional"
        plan = numerics.plan_check(
            [case.params[k] for k in names],
            mode=mode,
            names=names,
            n_directions=2 if case is pairs[-1][0] else 1,
            rng=ctx.rng(f"mlp.numerical.{case.activation}.{case.sizes}"),
        )
        nets.append(_at_points(case, names, plan.points, payload))
        jobs.append((case, names, plan, [grads[k] for k in names], mode))
    try:
        reply, out_arrays = call(ctx.with_standins, {"op": "mlp", "nets": nets}, payload)
        replies = [_Net(req, rep, out_arrays) for req, rep in zip(nets, reply["nets"])]
    except CallFailed as exc:
        return CheckResult("mlp.numerical", exc.status, f"evaluating your loss for centered differences: {exc}")
    for (case, names, plan, analytic, mode), net in zip(jobs, replies):
        try:
            outputs = net.losses()
        except StudentError as exc:
            return CheckResult(
                "mlp.numerical", "error", f"could not be checked: {_label(case)}: loss at a perturbed point: {exc}"
            )
        ref_grads = case.reference()[2]
        label = f"{case.activation}.{case.sizes}"
        failed = numerical_verdict(
            numerics,
            plan,
            outputs,
            analytic,
            [ref_grads[k] for k in names],
            np.array(1.0),
            mode=mode,
            f_batch=_remote_loss(ctx, case, names),
            what="loss",
            tolerances=ctx.tolerances,
            rng=lambda salt, label=label: ctx.rng(f"mlp.numerical.redo.{label}.{salt}"),
        )
        if failed:
            return CheckResult("mlp.numerical", "fail", f"{_label(case)}: {failed[0]}", failed[1])
    return CheckResult(
        "mlp.numerical",
        "pass",
        "loss() gradients match centered differences of your own loss, and your "
        f"loss has the reference's slope ({len(jobs)} networks)",
    )


def _at_points(case, names, points, payload):
    """A network evaluated at several parameter settings: each point is an ordinary "set all
    parameters, then loss" pair, like every other loss call."""
    X, y = payload.ref(case.X), payload.ref(case.y)
    script = []
    for point in points:
        script += [{"set": {k: payload.ref(x) for k, x in zip(names, point)}}, {"loss": [X, y]}]
    return {"sizes": case.sizes, "activation": case.activation, "seed": 0, "script": script}


def _remote_loss(ctx, case, names):
    """points (tuples of parameter arrays) -> the student's loss at each, in one worker call."""

    def f_batch(points):
        payload = Payload()
        request = {"op": "mlp", "nets": [_at_points(case, names, points, payload)]}
        try:
            reply, arrays = call(ctx.with_standins, request, payload)
            losses = _Net(request["nets"][0], reply["nets"][0], arrays).losses()
        except (CallFailed, StudentError) as exc:
            raise ValueError(f"evaluating your loss for centered differences: {exc}") from None
        return losses

    return f_batch
