"""What every part's checks share: results, request payloads, reply values, comparisons."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

import numpy as np

from .. import numerics
from . import messages, replies


@dataclass
class CheckResult:
    """The verdict of one check (what the assignment's ``CheckSpec`` of the same id asked for).
    ``status`` is one of ``report.CHECK_STATUSES``; ``details`` holds worst error, counterexample,
    diagnosis, blame."""

    id: str
    status: str
    message: str
    details: dict = field(default_factory=dict)


def seeded_rng(seed: int, label: str) -> np.random.Generator:
    """A generator that depends only on the seed and the label: reports do not depend on the order in
    which checks or submissions run, and what a check draws for a seed can be drawn once per process."""
    return np.random.default_rng([int(seed), _label_key(label)])


@functools.lru_cache(maxsize=4096)
def _label_key(label: str) -> int:
    return int.from_bytes(hashlib.sha256(label.encode()).digest()[:8], "little")


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
        self._sent = {}  # id(array) -> (array, ref): an array object sent again is sent once

    def ref(self, value):
        if isinstance(value, np.ndarray):
            seen = self._sent.get(id(value))
            if seen is not None and seen[0] is value:
                return seen[1]
            ref = self._ref(value)
            self._sent[id(value)] = (value, ref)
            return ref
        return self._ref(value)

    def _ref(self, value):
        arr = np.asarray(value)
        arr = arr.astype(np.int64) if arr.dtype.kind in "iu" else arr.astype(np.float64)
        self.arrays.append(arr)
        return {"$a": len(self.arrays) - 1}


def call(session, header, payload=None):
    """One worker round trip; returns (header, arrays) or raises CallFailed. The reply is rebuilt from
    what the request allows (``replies.validated``): one that does not answer it is an error."""
    result = session.call(header, payload.arrays if payload else [])
    if result.status != "ok":
        raise CallFailed(result.status, result.message)
    if isinstance(result.header, dict) and isinstance(result.header.get("error"), str) and len(result.header) == 1:
        raise CallFailed("error", result.header["error"][:2000])
    try:
        return replies.validated(header, result.header, len(result.arrays)), result.arrays
    except replies.ReplyMismatch as exc:
        raise CallFailed("error", str(exc)) from None


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


# ------------------------------------------------------------------------------- comparisons


@functools.lru_cache(maxsize=1)
def _packaged_tolerances() -> dict:
    from ..assignment import load_assignment  # here: jsonschema is loaded only when this is needed

    return dict(load_assignment().tolerances)


def default_tolerances() -> dict:
    """The packaged assignment's ``[tolerances]`` (assignments/lecture/assignment.toml, read once): the
    one source of the default rtol and atol of comparisons with the reference. A fresh dict each call."""
    return dict(_packaged_tolerances())


def tolerance(tolerances: dict):
    """(rtol, atol) of comparisons with the reference: the assignment's, whatever dtype a student
    returns; a key missing from ``tolerances`` takes the packaged assignment's value."""
    if "rtol" not in tolerances or "atol" not in tolerances:
        tolerances = {**default_tolerances(), **tolerances}
    return tolerances["rtol"], tolerances["atol"]


def values_digest(*values) -> str:
    """16 hex digits of the SHA-256 of values as the grader holds them (each one's shape and float64
    bytes): a report's ``got_digest``, which the class report compares across submissions (the same
    check with the same assignment and seed gets the same inputs, so equal digests mean bitwise-identical
    returned values). Compact: a report carries this, never the arrays."""
    h = hashlib.sha256()
    for v in values:
        a = np.ascontiguousarray(v, dtype=np.float64)
        h.update(repr(a.shape).encode() + b"\0")
        h.update(a.reshape(-1).view(np.uint8))  # the bytes in place (as tobytes()): no copy of a large reply
    return h.hexdigest()[:16]


@dataclass
class Mismatch:
    """Where a value differs from the expected one; ``got_digest``: ``values_digest`` of the whole value
    the student's code returned."""

    message: str
    index: tuple | None = None
    expected: float | None = None
    got: float | None = None
    rel_error: float | None = None
    got_digest: str | None = None

    def as_details(self, label=None):
        worst = {
            "index": list(self.index) if self.index is not None else None,
            "expected": self.expected,
            "got": self.got,
            "rel_error": self.rel_error,
            "got_digest": self.got_digest,
        }
        if label:
            worst["input"] = label
        return {k: v for k, v in worst.items() if v is not None}


def compare(got, expected, tolerances: dict) -> Mismatch | None:
    """None when ``got`` matches ``expected``: same shape, and every element within
    atol + rtol * (|expected| + max|expected|), so noise on entries near zero is not an error. The
    tolerance is the assignment's: it does not depend on the dtype the student returned (float32
    arithmetic inside is far within it; a 0.1 % error is not, in any dtype)."""
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        return Mismatch(
            f"shape {shape_text(got.shape)}, expected {shape_text(expected.shape)}", got_digest=values_digest(got)
        )
    if expected.size == 0:
        return None
    if not np.all(np.isfinite(got)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(got))[0])
        where = f" at {index_text(bad)}" if bad else ""
        return Mismatch(
            f"non-finite ({got[bad]}){where}, expected {number(expected[bad])}",
            bad,
            float(expected[bad]),
            float(got[bad]),
            got_digest=values_digest(got),
        )
    rtol, atol = tolerance(tolerances)
    excess = np.abs(got - expected) / (atol + rtol * (np.abs(expected) + np.abs(expected).max()))
    worst = np.unravel_index(int(np.argmax(excess)), expected.shape) if expected.ndim else ()
    if excess[worst] <= 1.0:
        return None
    rel = numerics.rel_error(got[worst], expected[worst])
    where = f" at {index_text(worst)}" if expected.ndim else ""
    return Mismatch(
        f"{number(got[worst])}{where}, expected {number(expected[worst])} (rel. error {rel:.2g})",
        tuple(int(i) for i in worst),
        float(expected[worst]),
        float(got[worst]),
        rel,
        values_digest(got),
    )


def number(x) -> str:
    return f"{float(x):.6g}"


def index_text(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def shape_text(shape) -> str:
    return "()" if shape == () else "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def numerical_verdict(
    core,
    plan,
    outputs,
    analytic,
    reference,
    dout,
    *,
    f_batch,
    rng,
    tolerances,
    mode="auto",
    what="forward",
    confirm_float32=False,
):
    """Backward against centered differences of the student's own ``what``, anchored to ground truth;
    None when the check passes, else (message, details).

    ``outputs`` are the student's values at ``plan.points``; ``analytic`` their gradients, ``reference``
    the reference's at the base point, for the same ``dout``. Passing needs positive evidence on every
    input: the differences of their function agree with the reference's gradient (so it has the true
    slope there: a wrong forward, or values that lie at the probe points, cannot vouch for a wrong
    backward), and with their own gradient. Inconclusive is not a pass: the grader's inputs are away
    from kinks, so non-finite values or jumps there are the student's. ``f_batch`` (points -> their
    values, one worker call) lets numerics.check_vjp redo the check with float32 steps for code that
    computes in float32 (measured from the values' roundoff, never from a returned dtype). The rtol is
    numerics' for the measured precision, never below the assignment's rtol for comparisons with the
    reference: no numerical check is stricter than the reference comparison of the same quantity.
    ``core`` is the numerical core the callers pass (``gradcheck.numerics``); confirm_float32: see
    numerics' Note [A failure is confirmed at float32 steps]."""

    def verdict_for(grads, salt):
        return core.check_vjp(
            f_batch,
            plan.inputs,
            grads,
            dout,
            mode=mode,
            rng=rng(salt),
            wrt=plan.wrt,
            names=plan.names,
            evaluated=(plan, outputs),
            rtol_floor=tolerance(tolerances)[0],
            confirm_float32=confirm_float32,
        )

    # gradients bit for bit the reference's: the anchor's verdict is theirs (the same judgement of the same numbers)
    same = len(analytic) == len(reference) and all(
        np.shape(a) == np.shape(r) and np.array_equal(a, r) for a, r in zip(analytic, reference)
    )
    try:
        anchor = verdict_for(reference, "anchor")
        own = (anchor if same else verdict_for(analytic, "own")) if anchor.status == "pass" else None
    except ValueError as exc:  # e.g. forward returned another shape than dout's
        return messages.near_the_inputs(what, exc), {}
    if anchor.status != "pass":
        bad = [r for r in anchor.inputs if r.status != "pass"]
        if any(r.status == "fail" for r in bad):
            message = messages.wrong_slope(what, "; ".join(r.message for r in bad if r.status == "fail"))
        else:
            message = messages.not_smooth(what, "; ".join(r.message for r in bad))
        return message, {"precision": anchor.precision, "blame": what}
    if own.status == "pass":
        return None
    bad = [r for r in own.inputs if r.status != "pass"]
    details = {"precision": own.precision, "blame": "backward"}
    worst = bad[0].worst
    if worst is not None and not bad[0].problem:
        details["worst"] = {
            "input": bad[0].label,
            "kind": worst.kind,
            "expected": worst.expected,
            "got": worst.got,
            "rel_error": worst.rel_error,
            **({"index": list(worst.index)} if worst.index else {}),
            "got_digest": values_digest(*analytic),
        }
    return "; ".join(r.message for r in bad), details


def mutation_result(check_id, problems, errors, compared, working, *, what, passed) -> CheckResult:
    """The verdict of a ``no_mutation`` check of a graph or network: a change found is a fail (the first
    shown, the others counted); then a call that could not be checked is an error; a pass needs a
    ``working`` graph or network (values that match the reference somewhere: a stub has nothing to
    check) and comparisons actually made. ``what``: "graph" or "network"; ``passed``: the pass message
    (formatted with ``compared``)."""
    if problems:
        message, details = problems[0]
        return CheckResult(
            check_id, "fail", message, {**details, "failures": len(problems)} if len(problems) > 1 else details
        )
    if errors:
        return CheckResult(check_id, "error", errors[0], {"errors": errors[:5]} if len(errors) > 1 else {})
    if not working:
        return CheckResult(check_id, "error", MSG_NO_WORKING[what])
    if not compared:
        return CheckResult(check_id, "error", "could not be checked: nothing was compared")
    return CheckResult(check_id, "pass", passed.format(compared=compared))


MSG_NO_WORKING = {
    "graph": "could not be checked: your graph's values match the reference's on no run, "
    "so there is no working graph whose arguments could be checked",
    "network": "could not be checked: your network's scores and loss match the reference's "
    "in no case, so there is no working network whose arguments could be checked",
}
