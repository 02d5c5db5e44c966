"""Assertions for your own pytest tests of gates, graphs and networks.

    from gradcheck.testing import (assert_gate_backward_matches_numerical, assert_gate_matches_reference,
                                   assert_graph_gradients, assert_mlp_gradients)
    from gates import MultiplyGate

    def test_multiply_backward():
        assert_gate_backward_matches_numerical(MultiplyGate, [np.array([1.5, -2.0]), np.array([0.5, 3.0])])

They run your code right here, in the test process, with **no sandbox**: they are for testing
your own code on your own machine and must not be used to grade untrusted code (a submission's code
would run with the grader's rights and could change the verdicts; grade with ``gradcheck grade`` or
``gradcheck check``, or the pytest plugin ``pytest --gradcheck-submission=DIR``, which run student
code only in sandbox workers). They check it with gradcheck's numerics (centered differences with a
random upstream gradient, kink detection, float32-aware tolerances) or against the reference
solution (in a student build, its recorded results), and fail with an
``AssertionError`` (``GradcheckAssertionError``) whose message reads like the grader's feedback:
which input, the worst coordinate, expected vs got, and a diagnosis when the mistake matches a known
bug (wrong sign, swapped inputs, transposed, upstream gradient ignored, factor 2 or N, ...).
Exceptions raised by your code are not caught: pytest shows their traceback.

Each returns what it checked (a ``gradcheck.Verdict`` for the numerical checks) when it passes.
A check that is inconclusive (e.g. only kinks were hit) passes: it never blames you for a kink.
"""

from __future__ import annotations

import re

import numpy as np

from . import contract, numerics
from .checks.common import compare, default_tolerances, shape_text
from .diagnosis import diagnose
from .errors import GradcheckError

# gradcheck.reference is imported where it is used: in a student build it loads the recorded answers.

__all__ = [
    "GradcheckAssertionError",
    "assert_gate_backward_matches_numerical",
    "assert_gate_matches_reference",
    "assert_graph_gradients",
    "assert_mlp_gradients",
]

IGNORES_DOUT = "ignores the upstream gradient dout (as if it were all ones)"
_DEFAULT_NAMES = ("x", "y", "z", "w")  # the inputs of a gate the contract does not have
_DIAGNOSIS_MAX_SIZE = 4096  # full centered differences (for a diagnosis) up to this many entries


class GradcheckAssertionError(GradcheckError, AssertionError):
    """A failed gradcheck assertion. ``details``: the worst error, the diagnosis, what was checked."""

    def __init__(self, message, details=None):
        super().__init__(message)
        self.details = dict(details or {})


# --- helpers ----------------------------------------------------------------------------------------


def _tol(rtol, atol) -> dict:
    """The grader's tolerances of comparisons with the reference (the packaged assignment's), or these."""
    t = default_tolerances()
    if rtol is not None:
        t["rtol"] = float(rtol)
    if atol is not None:
        t["atol"] = float(atol)
    return t


def _as_inputs(inputs) -> list:
    out = []
    for x in inputs:
        a = np.array(x)
        if a.dtype.kind in "iub":
            out.append(a.astype(np.int64) if a.dtype.kind != "b" else a)
        else:
            out.append(a.astype(np.float64) if a.dtype.kind != "f" else a)
    return out


def _as_grads(value, n) -> list:
    """backward's return value as a list (a bare gradient is accepted for a one-input gate)."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if n == 1 or value is not None:
        return [value]
    return []


def _float_array(value, what):
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise GradcheckAssertionError(f"{what} is not numbers: {type(value).__name__} ({e})") from None
    return arr


def _shape(shape) -> str:
    return shape_text(tuple(shape))


def _values_line(names, xs, limit=6) -> str | None:
    """'at x=1.5, y=-2' when every input is small enough to print."""
    if sum(x.size for x in xs) > limit:
        return None
    parts = []
    for n, x in zip(names, xs):
        v = f"{float(x):.6g}" if x.ndim == 0 else np.array2string(x, precision=4, separator=", ")
        parts.append(f"{n}={v}")
    return "at " + ", ".join(parts)


def _diagnosis(f, xs, wrt, got, dout, batch=None, names=None):
    """Name the bug by comparing the analytic gradients with full centered differences (small inputs only)."""
    if sum(xs[i].size for i in wrt) > _DIAGNOSIS_MAX_SIZE:
        return None
    try:
        expected = numerics.numerical_vjp(f, xs, dout, wrt=wrt)
        exp = [expected[i] for i in wrt]
        if any(np.shape(g) != np.shape(e) and np.shape(g) != np.shape(e)[::-1] for g, e in zip(got, exp)):
            return None
        alternatives = {}
        if not np.all(np.asarray(dout) == 1.0):
            ones = numerics.numerical_vjp(f, xs, np.ones_like(dout), wrt=wrt)
            alternatives[IGNORES_DOUT] = [ones[i] for i in wrt]
        text = diagnose(got, exp, alternatives, batch)
    except Exception:  # noqa: BLE001 - a diagnosis is a bonus: never let it hide the real failure
        return None
    return _named_diagnosis(text, [names[i] for i in wrt] if names else None, [xs[i] for i in wrt])


def _named_diagnosis(text, names, arrays):
    """diagnose()'s "input 1: ..." parts (numbered from 0) named after the inputs; no "constant factor" for scalars
    (any wrong scalar is some factor of the right one: that says nothing)."""
    if not text:
        return None
    if "constant factor" in text and all(np.size(a) <= 1 for a in arrays):
        return None
    if names:
        text = re.sub(
            r"\binput (\d+): ",
            lambda m: f"{names[int(m.group(1))]}: " if int(m.group(1)) < len(names) else m.group(0),
            text,
        )
    return text


def _verdict_details(verdict) -> dict:
    bad = [r for r in verdict.inputs if r.status == "fail"]
    if not bad or bad[0].worst is None or bad[0].problem:
        return {}
    w = bad[0].worst
    worst = {
        "input": bad[0].label,
        "kind": w.kind,
        "expected": float(w.expected),
        "got": float(w.got),
        "rel_error": float(w.rel_error),
    }
    if w.index:
        worst["index"] = [int(i) for i in w.index]
    return {"worst": worst}


def _fail(title, lines, details):
    body = "\n".join("  " + ln for ln in lines if ln)
    raise GradcheckAssertionError(f"{title}\n{body}" if body else title, details)


def _numerical(title, f, xs, names, analytic, dout, *, wrt, rng, rtol, atol, context=(), batch=None):
    """check_vjp through f; raise a feedback-like assertion on failure, return the verdict."""

    def f_batch(points):
        return [np.asarray(f(*[np.array(a) for a in p]), dtype=np.float64) for p in points]

    verdict = numerics.check_vjp(f_batch, xs, analytic, dout, rng=rng, wrt=wrt, names=names, rtol=rtol, atol=atol)
    if verdict.status != "fail":
        return verdict
    details = _verdict_details(verdict)
    lines = [r.message for r in verdict.inputs if r.status == "fail"]
    got = [analytic[i] for i in wrt] if len(analytic) == len(xs) else list(analytic)
    if all(g is not None for g in got):
        diagnosis = _diagnosis(f, xs, wrt, [np.asarray(g, dtype=np.float64) for g in got], dout, batch, names)
        if diagnosis:
            details["diagnosis"] = diagnosis
            lines.append(f"diagnosis: {diagnosis}")
    lines.extend(context)
    _fail(title, lines, details)


# --- gates ------------------------------------------------------------------------------------------


def _input_names(gate_name, n, names):
    """The names messages give the inputs: ``names``, else the contract's for its gates."""
    if names is not None:
        return list(names)
    gate = contract.GATES.get(gate_name)
    default = gate.input_names if gate is not None else _DEFAULT_NAMES
    return [default[i] if i < len(default) else f"x{i}" for i in range(n)]


def _batch_size(gate_name, xs):
    """N, where the gate's output is a mean over the N rows of its first input (a loss over a batch)."""
    gate = contract.GATES.get(gate_name)
    return xs[0].shape[0] if gate is not None and gate.batch_mean and xs[0].ndim == 2 else None


def assert_gate_backward_matches_numerical(
    gate_class, inputs, args=(), *, dout=None, names=None, seed=0, rtol=None, atol=None
):
    """A gate's backward matches centered differences of its own forward.

    ``gate_class(*args)`` makes a fresh gate for every evaluation; ``inputs`` are the forward's
    arguments (arrays or floats; integer inputs such as labels are passed through, not
    differentiated). ``dout`` defaults to a random upstream gradient of the output's shape (both
    signs, seeded), so a backward that ignores it is caught. rtol/atol override the numerics'
    precision-based tolerances. Returns the ``gradcheck.Verdict``."""
    gate_name = getattr(gate_class, "__name__", "gate")
    xs = _as_inputs(inputs)
    names = _input_names(gate_name, len(xs), names)
    wrt = [i for i, x in enumerate(xs) if x.dtype.kind == "f"]
    rng = np.random.default_rng(seed)

    def f(*values):
        return gate_class(*args).forward(*[np.array(v) for v in values])

    gate = gate_class(*args)
    out = _float_array(gate.forward(*[x.copy() for x in xs]), f"{gate_name}.forward's output")
    given = dout is not None
    dout = np.asarray(dout, dtype=np.float64) if given else rng.standard_normal(out.shape)
    grads = _as_grads(gate.backward(dout), len(xs))
    title = f"{gate_name}: backward does not match centered differences of its forward"
    context = [f"upstream gradient dout: {'given' if given else f'random (seed {seed})'}, shape {_shape(dout.shape)}"]
    need = max(wrt) + 1 if wrt else 0
    if len(grads) < need:
        _fail(
            title,
            [
                f"backward returned {len(grads)} gradient(s) for {len(xs)} input(s) "
                f"({', '.join(names)}): one per input, in input order"
            ],
            {},
        )
    analytic = [_float_array(grads[i], f"gradient {i + 1} (d{names[i]})") if i in wrt else None for i in range(len(xs))]
    batch = _batch_size(gate_name, xs)
    values = _values_line(names, xs)
    return _numerical(
        title,
        f,
        xs,
        names,
        analytic,
        dout,
        wrt=wrt,
        rng=rng,
        rtol=rtol,
        atol=atol,
        context=([values] if values else []) + context,
        batch=batch,
    )


def assert_gate_matches_reference(
    gate_class, inputs, args=(), *, dout=None, name=None, names=None, seed=0, rtol=None, atol=None
):
    """A gate's forward and backward match the reference solution's gate of the same name (or
    ``name``), under a random upstream gradient (or ``dout``), and leave their inputs unchanged.
    Tolerances: the packaged assignment's (whatever dtype the gate returns), or rtol/atol.
    Returns ``(out, grads)`` of the gate."""
    from .reference import gates as reference

    gate_name = name or getattr(gate_class, "__name__", "gate")
    ref_class = getattr(reference, gate_name, None)
    if ref_class is None:
        raise ValueError(f"the reference has no gate {gate_name!r}; pass name= one of the contract's gates")
    xs = _as_inputs(inputs)
    names = _input_names(gate_name, len(xs), names)
    tol = _tol(rtol, atol)
    rng = np.random.default_rng(seed)
    values = _values_line(names, xs)

    ref = ref_class(*args)
    ref_out = np.asarray(ref.forward(*[x.copy() for x in xs]), dtype=np.float64)
    dout = rng.standard_normal(ref_out.shape) if dout is None else np.asarray(dout, dtype=np.float64)
    ref_grads = [np.asarray(g, dtype=np.float64) for g in _as_grads(ref.backward(dout), len(xs))]

    copies = [x.copy() for x in xs]
    gate = gate_class(*args)
    raw_out = gate.forward(*copies)
    out = _float_array(raw_out, f"{gate_name}.forward's output")
    bad = compare(out, ref_out, tol)
    if bad:
        _fail(
            f"{gate_name}.forward does not match the reference",
            [f"output is {bad.message}", values],
            {"worst": bad.as_details("output")},
        )
    grads = _as_grads(gate.backward(dout), len(xs))
    known = contract.GATES.get(gate_name)
    need = known.gradients if known is not None else len(xs)  # a gradient per input that is not labels
    title = f"{gate_name}.backward does not match the reference"
    context = [values, f"upstream gradient dout: shape {_shape(dout.shape)} (seed {seed})"]
    if len(grads) < need:
        _fail(
            title,
            [f"backward returned {len(grads)} gradient(s) for {need} input(s) ({', '.join(names[:need])})"] + context,
            {},
        )
    got = [_float_array(g, f"gradient {i + 1} (d{names[i]})") for i, g in enumerate(grads[:need])]
    for i, (g, e) in enumerate(zip(got, ref_grads[:need])):
        bad = compare(g, e, tol)
        if bad:
            alternatives = {}
            if not np.all(dout == 1.0):
                ones = [
                    np.asarray(gg, dtype=np.float64)
                    for gg in _as_grads(_forwarded(ref_class, args, xs).backward(np.ones_like(dout)), len(xs))
                ]
                alternatives[IGNORES_DOUT] = ones[:need]
            lines, details = _wrong_gradient(
                f"d{names[i]}",
                bad,
                got,
                ref_grads[:need],
                alternatives,
                _batch_size(gate_name, xs),
                [f"d{n}" for n in names[:need]],
            )
            _fail(title, lines + context, details)
    for i, (x, c) in enumerate(zip(xs, copies)):
        if c.shape != x.shape or not np.array_equal(c, x, equal_nan=True):
            _fail(
                f"{gate_name} modified its input {i} ({names[i]}) in place",
                ["forward and backward must leave the arrays they are given unchanged", values],
                {},
            )
    return out, got


def _wrong_gradient(label, bad, got, expected, alternatives, batch, names):
    """(message lines, details) of a gradient ``label`` that differs from the reference's (``bad``:
    the Mismatch), with a diagnosis when ``got`` matches a known bug."""
    details = {"worst": bad.as_details(label)}
    lines = [f"{label} is {bad.message}"]
    diagnosis = _named_diagnosis(diagnose(got, expected, alternatives, batch), names, got)
    if diagnosis:
        details["diagnosis"] = diagnosis
        lines.append(f"diagnosis: {diagnosis}")
    return lines, details


def _forwarded(cls, args, xs):
    gate = cls(*args)
    gate.forward(*[x.copy() for x in xs])
    return gate


# --- graphs -----------------------------------------------------------------------------------------


def assert_graph_gradients(graph, values, *, dout=None, seed=0, rtol=None, atol=None):
    """A computational graph's backward matches centered differences of its own forward.

    ``graph`` is built already (``g.input``/``g.gate``); ``values`` maps each input name to its
    value, as for ``graph.forward(values)``. The gradients of ``graph.backward(dout)`` (``dout``
    random by default) are checked for every input; the graph is left after a forward at
    ``values``. Returns the ``gradcheck.Verdict``."""
    names = list(values)
    xs = _as_inputs([values[n] for n in names])
    wrt = [i for i, x in enumerate(xs) if x.dtype.kind == "f"]
    rng = np.random.default_rng(seed)

    def f(*vals):
        return graph.forward({n: np.array(v) for n, v in zip(names, vals)})

    out = _float_array(f(*xs), "graph.forward's output")
    dout = rng.standard_normal(out.shape) if dout is None else np.asarray(dout, dtype=np.float64)
    grads = graph.backward(dout)
    title = "graph: backward does not match centered differences of forward"
    if not isinstance(grads, dict):
        _fail(title, [f"backward returned {type(grads).__name__}, expected a dict from input name to gradient"], {})
    missing = [n for n in names if n not in grads]
    if missing:
        _fail(title, [f"backward returned no gradient for input(s) {', '.join(map(repr, missing))}"], {})
    analytic = [_float_array(grads[n], f"the gradient of {n!r}") for n in names]
    values_line = _values_line(names, xs)
    context = ([values_line] if values_line else []) + [
        f"upstream gradient dout: shape {_shape(dout.shape)} (seed {seed})"
    ]
    try:
        return _numerical(title, f, xs, names, analytic, dout, wrt=wrt, rng=rng, rtol=rtol, atol=atol, context=context)
    finally:
        f(*xs)  # leave the graph as the caller built and ran it


# --- networks ---------------------------------------------------------------------------------------


def assert_mlp_gradients(net, X, y, *, activation=None, seed=0, rtol=None, atol=None):
    """An MLP's ``loss(X, y)`` gradients match centered differences of its own loss, for every
    parameter in ``net.params``; with ``activation`` ("sigmoid", "tanh", "relu") also the loss and
    gradients of the reference MLP with the same parameters. The parameters are restored afterwards.
    Returns the ``gradcheck.Verdict`` of the numerical check."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    params = net.params
    names = list(params)
    originals = {k: params[k] for k in names}
    xs = [np.array(params[k], dtype=np.float64) for k in names]
    loss, grads = net.loss(X.copy(), y.copy())
    loss = float(_float_array(loss, "the loss"))
    title = "MLP: gradients of loss(X, y) do not match centered differences of the loss"
    if not isinstance(grads, dict):
        _fail(title, [f"loss returned {type(grads).__name__} as grads, expected a dict like net.params"], {})
    missing, extra = [k for k in names if k not in grads], [k for k in grads if k not in originals]
    if missing or extra:
        _fail(title, [f"grads has keys {sorted(grads)}, net.params has {names}"], {})
    analytic = [_float_array(grads[k], f"grads[{k!r}]") for k in names]
    for k, g, x in zip(names, analytic, xs):
        if g.shape != x.shape:
            _fail(title, [f"grads[{k!r}] has shape {_shape(g.shape)}, params[{k!r}] has {_shape(x.shape)}"], {})
    if activation is not None:
        _compare_reference_mlp(names, xs, X, y, activation, loss, analytic, _tol(rtol, atol))

    def f(*vals):
        try:
            for k, v in zip(names, vals):
                net.params[k] = np.array(v)
            return net.loss(X.copy(), y.copy())[0]
        finally:
            for k in names:
                net.params[k] = originals[k]

    batch = X.shape[0] if X.ndim == 2 else None
    return _numerical(
        title,
        f,
        xs,
        names,
        analytic,
        np.array(1.0),
        wrt=list(range(len(xs))),
        rng=np.random.default_rng(seed),
        rtol=rtol,
        atol=atol,
        context=[f"X {_shape(X.shape)}, y {_shape(y.shape)}"],
        batch=batch,
    )


def _compare_reference_mlp(names, xs, X, y, activation, loss, analytic, tol):
    from .reference import mlp as reference

    shapes = {k: x.shape for k, x in zip(names, xs)}
    layers = [contract.layer_params(i) for i in range(1, len(names) // 2 + 1)]
    if len(names) % 2 or sorted(names) != sorted(k for layer in layers for k in layer):
        raise ValueError(f"activation= needs the contract's parameter names W1, b1, ...; got {names}")
    first_weight = contract.layer_params(1)[0]
    sizes = [shapes[first_weight][1]] + [shapes[weight][0] for weight, _ in layers]
    ref = reference.MLP(sizes, activation=activation)
    ref.params = {k: x.copy() for k, x in zip(names, xs)}
    ref_loss, ref_grads = ref.loss(X.copy(), np.asarray(y).copy())
    bad = compare(np.asarray(loss), np.asarray(ref_loss), tol)
    if bad:
        _fail(
            "MLP: loss does not match the reference",
            [f"loss is {bad.message}", f"X {_shape(X.shape)}, y {_shape(np.shape(y))}"],
            {"worst": bad.as_details("loss")},
        )
    for k, g in zip(names, analytic):
        bad = compare(g, ref_grads[k], tol)
        if bad:
            lines, details = _wrong_gradient(
                f"d{k}", bad, [g], [ref_grads[k]], None, X.shape[0] if X.ndim == 2 else None, None
            )
            _fail("MLP: gradients do not match the reference", lines + [f"activation {activation}"], details)
