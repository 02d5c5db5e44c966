"""Name a wrong gradient's bug when it matches a known pattern. No diagnosis beats a wrong one:
a pattern is named only when it explains every element of every gradient, never from a single
number, and never when the expected gradient is too degenerate for the pattern to mean anything.

Two kinds of patterns: generic ones (wrong sign, a factor, transposed, swapped, zero, the batch
dimension not summed) and a library of the common student bugs of each gate and of the MLP
(``gate_bugs``, ``mlp_bugs``): what that bug's code would return, computed here and matched against
what the student's code returned."""

from __future__ import annotations

import re

import numpy as np

from . import contract

NAMED_FACTORS = {-1.0: "wrong sign", 2.0: "twice the right value", 0.5: "half the right value"}


def _close(a, b, rtol=1e-4, atol=1e-9) -> bool:
    """Whether a pattern explains a gradient. Its own tolerance, not the assignment's (which decides
    pass or fail): a diagnosis only names a gradient that already failed, and only on a close fit."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    scale = np.abs(b).max() if b.size else 0.0
    return bool(np.all(np.abs(a - b) <= atol + rtol * (np.abs(b) + scale)))


def _all_close(got, expected) -> bool:
    return len(got) == len(expected) and all(_close(g, e) for g, e in zip(got, expected))


def _informative(arr) -> bool:
    return np.asarray(arr).size > 0 and float(np.abs(arr).max()) > 1e-9


def diagnose(got, expected, alternatives=None, batch=None, names=None, numbered=True) -> str | None:
    """got, expected: lists of gradients (one per input, float arrays); ``alternatives`` maps a bug's
    description to the gradients that bug would give (e.g. the reference run with a ones upstream
    gradient); ``batch`` is the batch size N where 1/N and N factors make sense."""
    got = [np.asarray(g, dtype=float) for g in got]
    expected = [np.asarray(e, dtype=float) for e in expected]
    wrong = [k for k, (g, e) in enumerate(zip(got, expected)) if not _close(g, e)]
    if not wrong or not any(_informative(expected[k]) for k in wrong):
        return None
    for description, alt in (alternatives or {}).items():
        if _all_close(got, alt) and not _all_close(alt, expected):
            return description
    if len(got) == 2 and len(wrong) == 2 and _close(got[0], expected[1]) and _close(got[1], expected[0]):
        return "the two inputs' gradients are swapped"
    messages = []
    for k in wrong:
        text = _diagnose_one(got[k], expected[k], batch)
        if text is None:
            return None  # one gradient unexplained: say nothing rather than half a story
        if names and k < len(names):
            label = f"input {k} ({names[k]})" if numbered else str(names[k])
        else:
            label = f"input {k}"
        messages.append(text if len(got) == 1 else f"{label}: {text}")
    return "; ".join(messages)


def pattern(text):
    """What a diagnosis says, without the names of the gradients it says it of: the diagnoses of two
    cases agree when their patterns are equal (e.g. "W1: transposed; W2: transposed" and the same
    for W1 to W3)."""
    if not text:
        return None
    # a factor of the batch size is one pattern whatever each case's N ("1/N = 1/3", "1/N = 1/4")
    text = re.sub(r"1/N = 1/\d+", "1/N", re.sub(r"N = \d+ times", "N times", text))
    return frozenset(
        part.split(": ", 1)[1] if ": " in part and not part.startswith(("input", "the", "1/N", "N ")) else part
        for part in text.split("; ")
    )


def common(diagnoses):
    """The diagnosis to show for several failing cases: the first one, when every case that votes
    (has a diagnosis or enough numbers to have one) agrees on its pattern; else None."""
    votes = [d for d in diagnoses]
    if not votes or any(d is None for d in votes):
        return None
    return votes[0] if len({pattern(d) for d in votes}) == 1 else None


def _diagnose_one(got, expected, batch):
    if not _informative(expected):
        return None
    if got.shape != expected.shape:
        if expected.ndim == 2 and got.shape == expected.T.shape and _close(got, expected.T):
            return "transposed"
        if batch and got.shape == (batch,) + expected.shape and _close(got.sum(axis=0), expected):
            return "not summed over the batch: it keeps one row per example (sum over axis 0)"
        return None
    if np.count_nonzero(expected) < 2:
        return None  # one number fits any factor: say nothing
    if not _informative(got):
        return "zero where it should not be"
    if (
        expected.ndim == 2
        and expected.shape[0] == expected.shape[1]
        and not _close(expected, expected.T)
        and _close(got, expected.T)
    ):
        return "transposed"
    if not np.all(np.isfinite(got)):
        return None
    alpha = float(np.vdot(got, expected) / np.vdot(expected, expected))
    if not _close(got, alpha * expected):
        return None
    for factor, text in NAMED_FACTORS.items():
        if abs(alpha - factor) <= 1e-6 * abs(factor):
            return text
    if batch and batch > 1:
        for factor, text in (
            (float(batch), f"N = {batch} times the right value (a sum where the mean belongs?)"),
            (1.0 / batch, f"1/N = 1/{batch} of the right value (divided by the batch size once too often?)"),
        ):
            if abs(alpha - factor) <= 1e-6 * abs(factor):
                return text
    if abs(alpha - 1.0) > 1e-3:
        return f"off by a constant factor of {alpha:.4g}"
    return None


# ------------------------------------------------------------------------------- bug library


def _as(x):
    return np.asarray(x, dtype=float)


def _sig(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_bugs(x, dz, inputs, args):
    s = _sig(x)
    return {
        "the derivative is taken at the input instead of the output: dz * x * (1 - x), not dz * s * (1 - s)": [
            dz * x * (1 - x)
        ],
        "the sigmoid's derivative is missing: dz is passed through unchanged": [dz + 0 * x],
        "the derivative uses s instead of s * (1 - s)": [dz * s],
    }


def _tanh_bugs(x, dz, inputs, args):
    t = np.tanh(x)
    return {
        "the derivative is taken at the input instead of the output: dz * (1 - x**2), not dz * (1 - t**2)": [
            dz * (1 - x**2)
        ],
        "the derivative is missing its square: dz * (1 - t), not dz * (1 - t**2)": [dz * (1 - t)],
        "tanh's derivative is missing: dz is passed through unchanged": [dz + 0 * x],
    }


def _relu_bugs(x, dz, inputs, args):
    return {
        "the ReLU mask is missing: dz is passed through where x < 0 too": [dz + 0 * x],
        "the mask is taken from the gradient (dz > 0) instead of the input (x > 0)": [
            np.where(dz > 0, dz, 0.0) + 0 * x
        ],
        "the mask is inverted: the gradient flows where x < 0": [np.where(x > 0, 0.0, dz)],
    }


def _exp_bugs(x, dz, inputs, args):
    return {
        "the derivative is taken as x instead of e^x: dz * x": [dz * x],
        "dz is ignored: e^x is returned as the gradient": [np.exp(x)],
    }


def _inverse_bugs(x, dz, inputs, args):
    return {
        "the derivative is -1/x instead of -1/x**2": [-dz / x],
        "the derivative is 1/x**2: its minus sign is missing": [dz / x**2],
    }


def _max_bugs(x, dz, inputs, args):
    y = _as(inputs[1])
    wins = x >= y
    return {
        "both inputs get the whole gradient (no routing to the larger one)": [dz + 0 * x, dz + 0 * y],
        "the gradient goes to the smaller input instead of the larger one": [
            np.where(wins, 0.0, dz),
            np.where(wins, dz, 0.0),
        ],
    }


def _add_bugs(x, dz, inputs, args):
    return {"the gradient is split in half between the inputs": [dz / 2 + 0 * x, dz / 2 + 0 * _as(inputs[1])]}


def _scale_bugs(x, dz, inputs, args):
    return {"the scale factor is missing from the gradient: dz instead of a * dz": [dz + 0 * x]}


def _add_constant_bugs(x, dz, inputs, args):
    return {"the constant is added to the gradient: dz + c instead of dz": [dz + float(args[0])]}


def _matmul_bugs(x, dz, inputs, args):
    W, X = x, _as(inputs[1])
    return {
        "dW and dX are computed with the operands in the wrong order (X.T @ dZ ...)": [
            (X @ dz.T).T if (X @ dz.T).T.shape == W.shape else X @ dz.T,
            W.T @ dz,
        ]
    }


def _softmax_bugs(x, dz, inputs, args):
    labels = np.asarray(inputs[contract.gate("SoftmaxCrossEntropyGate").labels], dtype=int)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    n = len(labels)  # the loss is the batch's mean
    onehot = np.zeros_like(p)
    onehot[np.arange(n), labels] = 1.0
    return {
        "1 is not subtracted at the label: dscores = softmax / N": [dz * p / n],
        "the sign is flipped at the label only: softmax + onehot": [dz * (p + onehot) / n],
    }


# gate name -> (x: input 0, dz, inputs, constructor args) -> {description: the gradients that bug gives}
_GATE_BUGS = {
    "SigmoidGate": _sigmoid_bugs,
    "TanhGate": _tanh_bugs,
    "ReLUGate": _relu_bugs,
    "ExpGate": _exp_bugs,
    "InverseGate": _inverse_bugs,
    "MaxGate": _max_bugs,
    "AddGate": _add_bugs,
    "ScaleGate": _scale_bugs,
    "AddConstantGate": _add_constant_bugs,
    "MatMulGate": _matmul_bugs,
    "SoftmaxCrossEntropyGate": _softmax_bugs,
}


def gate_bugs(name, inputs, dout, args=()):
    """{description: the gradients that bug gives} for gate ``name`` at ``inputs`` with upstream
    ``dout`` (None: the default 1.0): the common student bugs of that gate (none known: {})."""
    bugs = _GATE_BUGS.get(name)
    if bugs is None:
        return {}
    return bugs(_as(inputs[0]), np.asarray(1.0 if dout is None else dout, dtype=float), inputs, args)


def mlp_bugs(sizes, activation, params, X, y):
    """{description: the gradients that bug gives} for the MLP's loss: the common student bugs of a
    network's backward pass (computed like the reference, with that one thing wrong)."""
    variants = {
        "the activation's derivative is missing in the hidden layers (da = dh)": "no_dact",
        "the activation's derivative is taken at the pre-activation instead of the activation's output": (
            "dact_at_input"
        ),
        "the bias gradient is the first example's, not the sum over the batch": "bias_first_row",
        "the ReLU mask is taken from the gradient instead of the activation": "mask_from_grad",
    }
    out = {}
    for text, variant in variants.items():
        if variant == "mask_from_grad" and activation != "relu":
            continue
        out[text] = _mlp_grads(sizes, activation, params, X, y, variant)
    return out


# each of the contract's activations (contract.ACTIVATIONS): (the function, its derivative from its output)
_ACT = {
    "sigmoid": (_sig, lambda h: h * (1 - h)),
    "tanh": (np.tanh, lambda h: 1 - h**2),
    "relu": (lambda a: np.maximum(a, 0.0), lambda h: (h > 0).astype(float)),
}


def _mlp_grads(sizes, activation, params, X, y, variant):
    act, dact = _ACT[activation]
    n_layers = len(sizes) - 1
    hs, pre = [_as(X)], [None]
    for i in range(1, n_layers + 1):
        weight, bias = contract.layer_params(i)
        a = hs[-1] @ params[weight].T + params[bias]
        pre.append(a)
        hs.append(a if i == n_layers else act(a))
    y = np.asarray(y, dtype=int)
    n = len(y)
    e = np.exp(hs[-1] - hs[-1].max(axis=1, keepdims=True))
    da = e / e.sum(axis=1, keepdims=True)
    da[np.arange(n), y] -= 1.0
    da /= n
    grads = {}
    for i in range(n_layers, 0, -1):
        weight, bias = contract.layer_params(i)
        grads[weight] = da.T @ hs[i - 1]
        grads[bias] = da[0] if variant == "bias_first_row" else da.sum(axis=0)
        if i > 1:
            dh = da @ params[weight]
            if variant == "no_dact":
                da = dh
            elif variant == "dact_at_input":
                da = dh * dact(pre[i - 1])
            elif variant == "mask_from_grad":
                da = dh * (dh > 0)
            else:
                da = dh * dact(hs[i - 1])
    return grads
