"""Name a wrong gradient's bug when it matches a known pattern. No diagnosis beats a wrong one:
a pattern is named only when it explains every element of every gradient, and never when the
expected gradient is too degenerate for the pattern to mean anything."""
from __future__ import annotations

import numpy as np

NAMED_FACTORS = {-1.0: "wrong sign", 2.0: "twice the right value", 0.5: "half the right value"}


def _close(a, b, rtol=1e-4, atol=1e-9) -> bool:
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


def diagnose(got, expected, alternatives=None, batch=None, names=None) -> str | None:
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
        label = f"input {k} ({names[k]})" if names and k < len(names) else f"input {k}"
        messages.append(text if len(got) == 1 else f"{label}: {text}")
    return "; ".join(messages)


def _diagnose_one(got, expected, batch):
    if not _informative(expected):
        return None
    if got.shape != expected.shape:
        if expected.ndim == 2 and got.shape == expected.T.shape and _close(got, expected.T):
            return "transposed"
        return None
    if not _informative(got):
        return "zero where it should not be"
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1] and not _close(expected, expected.T) \
            and _close(got, expected.T):
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
        for factor, text in ((float(batch), f"N = {batch} times the right value (a sum where the mean belongs?)"),
                             (1.0 / batch, f"1/N = 1/{batch} of the right value (divided by the batch size once too often?)")):
            if abs(alpha - factor) <= 1e-6 * abs(factor):
                return text
    if abs(alpha - 1.0) > 1e-3:
        return f"off by a constant factor of {alpha:.4g}"
    return None
