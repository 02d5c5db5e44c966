"""What every part's checks share: results, request payloads, reply values, comparisons."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STATUSES = ("pass", "fail", "error", "timeout", "missing")


@dataclass
class Result:
    """The verdict of one check. ``details`` holds worst error, counterexample, diagnosis, blame."""

    id: str
    status: str
    message: str
    details: dict = field(default_factory=dict)


class StudentError(Exception):
    """A student value that cannot be judged: an exception in their code or a value that is not numbers."""


class CallFailed(Exception):
    """A worker call that timed out or broke a limit; ``status`` is "timeout" or "error"."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Payload:
    """The arrays of one request; ``ref`` gives the JSON reference to an array."""

    def __init__(self):
        self.arrays = []

    def ref(self, value):
        arr = np.asarray(value)
        arr = arr.astype(np.int64) if arr.dtype.kind in "iu" else arr.astype(np.float64)
        self.arrays.append(arr)
        return {"$a": len(self.arrays) - 1}


def call(session, header, payload=None):
    """One worker round trip; returns (header, arrays) or raises CallFailed."""
    result = session.call(header, payload.arrays if payload else [])
    if result.status != "ok":
        raise CallFailed(result.status, result.message)
    if "error" in result.header and len(result.header) == 1:
        raise CallFailed("error", result.header["error"])
    return result.header, result.arrays


def value(entry, arrays):
    """A reply value as (float64 array, kind), or StudentError with the student's exception text."""
    if not isinstance(entry, dict):
        raise StudentError("no value was returned")
    if "$a" not in entry:
        raise StudentError(entry.get("error", "no value was returned"))
    index = entry["$a"]
    if not isinstance(index, int) or not 0 <= index < len(arrays):
        raise StudentError("the worker sent a malformed reply")
    return np.asarray(arrays[index], dtype=np.float64), str(entry.get("kind", "float64"))


def raise_if_error(entry, where=""):
    if isinstance(entry, dict) and "error" in entry and "$a" not in entry:
        text = entry["error"]
        where = entry.get("where", where)
        raise StudentError(f"{where}: {text}" if where else text)


# ------------------------------------------------------------------------------- comparisons


def is_float32_precision(arr: np.ndarray, kind: str) -> bool:
    """Whether a value came from float32 (or coarser) arithmetic: its dtype says so, or every element
    is exactly a float32 number (float32 results cast back to float64)."""
    if kind in ("float32", "float16"):
        return True
    finite = arr[np.isfinite(arr)]
    if finite.size == 0 or np.all(finite == np.round(finite)):
        return False  # integers and empty arrays say nothing about precision
    return bool(np.all(finite.astype(np.float32).astype(np.float64) == finite))


def tolerance(tolerances: dict, float32: bool):
    if float32:
        return tolerances.get("float32_rtol", 2e-4), tolerances.get("float32_atol", 1e-6)
    return tolerances.get("rtol", 1e-5), tolerances.get("atol", 1e-8)


@dataclass
class Mismatch:
    """Where a value differs from the expected one."""

    message: str
    index: tuple | None = None
    expected: float | None = None
    got: float | None = None
    rel_error: float | None = None

    def as_details(self, label=None):
        worst = {"index": list(self.index) if self.index is not None else None,
                 "expected": self.expected, "got": self.got, "rel_error": self.rel_error}
        if label:
            worst["input"] = label
        return {k: v for k, v in worst.items() if v is not None}


def compare(got, expected, tolerances: dict, kind="float64") -> Mismatch | None:
    """None when ``got`` matches ``expected``: same shape, and every element within
    atol + rtol * (|expected| + max|expected|), so noise on entries near zero is not an error."""
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        return Mismatch(f"shape {shape_text(got.shape)}, expected {shape_text(expected.shape)}")
    if expected.size == 0:
        return None
    if not np.all(np.isfinite(got)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        where = f" at {index_text(bad)}" if bad else ""
        return Mismatch(f"non-finite ({got[bad]}){where}, expected {number(expected[bad])}", bad,
                        float(expected[bad]), float(got[bad]))
    err = np.abs(got - expected)
    scale = np.abs(expected) + np.abs(expected).max()
    rtol64, atol64 = tolerance(tolerances, False)
    rtol32, atol32 = tolerance(tolerances, True)
    if rtol32 >= rtol64 and atol32 >= atol64 and np.all(err / (atol64 + rtol64 * scale) <= 1.0):
        return None   # within the float64 tolerances, so within the looser float32 ones: no need to ask which
    rtol, atol = (rtol32, atol32) if is_float32_precision(got, kind) else (rtol64, atol64)
    allowed = atol + rtol * scale
    excess = err / allowed
    worst = np.unravel_index(int(np.argmax(excess)), expected.shape) if expected.ndim else ()
    if excess[worst] <= 1.0:
        return None
    rel = rel_error(got[worst], expected[worst])
    where = f" at {index_text(worst)}" if expected.ndim else ""
    return Mismatch(f"{number(got[worst])}{where}, expected {number(expected[worst])} (rel. error {rel:.2g})",
                    tuple(int(i) for i in worst), float(expected[worst]), float(got[worst]), rel)


def rel_error(a, b):
    """CS231n's relative error, for display."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def number(x) -> str:
    return f"{float(x):.6g}"


def index_text(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def shape_text(shape) -> str:
    return "()" if shape == () else "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def failed_call_results(ids, exc: CallFailed, what: str):
    return {i: Result(i, exc.status, f"{what}: {exc}") for i in ids}


def numerical_verdict(numerics, plan, outputs, analytic, dout, *, mode="auto", f_batch=None, rng=None):
    """Judge centered differences; returns None when they agree, else (message, details).

    ``outputs`` were evaluated at ``plan.points`` (batched with other requests). With ``f_batch``
    (points -> outputs, one worker call), numerics.check_vjp may ask for more: a float32 redo for
    code that computes in float32, fresh directions where kinks left a check inconclusive. An
    inconclusive verdict never costs the student anything."""
    try:
        if f_batch is None:
            verdict = numerics.judge(plan, outputs, analytic, dout)
        else:
            verdict = numerics.check_vjp(f_batch, plan.inputs, analytic, dout, mode=mode, rng=rng, wrt=plan.wrt,
                                         names=plan.names, evaluated=(plan, outputs))
    except ValueError as exc:  # e.g. forward returned another shape than dout's
        return str(exc), {}
    if verdict.status != "fail":
        return None
    bad = [r for r in verdict.inputs if r.status == "fail"]
    worst = bad[0].worst
    details = {"precision": verdict.precision}
    if worst is not None and not bad[0].problem:
        details["worst"] = {"input": bad[0].label, "kind": worst.kind, "expected": worst.expected, "got": worst.got,
                            "rel_error": worst.rel_error, **({"index": list(worst.index)} if worst.index else {})}
    return "; ".join(r.message for r in bad), details
