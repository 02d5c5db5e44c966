"""Numerical gradient checks: centered differences, tolerances, kinks, directional and sparse checks.

Pure numpy; it never runs student code itself, it takes callables. A backward pass is checked as a
vector-Jacobian product: for an upstream gradient ``dout`` (random, both signs) the numerical gradient
of ``g = <dout, f(x1, ..., xk)>`` is compared with the analytic gradients. The work is split so the
caller can evaluate f remotely, all points in one batch:

1. ``plan = plan_check(inputs, ...)``; ``plan.points`` are the argument tuples to evaluate
   (``plan.points[0]`` is the unperturbed base point);
2. the caller computes ``outputs = [f(*p) for p in plan.points]``;
3. ``verdict = judge(plan, outputs, analytic_grads, dout)``.

``check_vjp`` drives the three steps, redoes the check with float32 steps when f turns out to
compute in float32, and re-samples inconclusive directions (sparser ones, which can miss kinks).

A *probe* moves one input along a displacement ``delta`` (one coordinate with its step, or a random
Gaussian direction times the steps) to the offsets t = -1, -1/2, +1/2, +1; t = 0 is the base point.
From G(t) = <dout, f(x + t delta) - f(x)>:

- the estimate is the centered difference (G(1) - G(-1)) / 2, compared with <analytic, delta>;
- for a smooth f the four one-sided slopes of each output over the half steps lie on a line (up to
  O(h^2) and roundoff). Their deviation from it bounds the error a kink (ReLU at 0, a tie in a max)
  or strong curvature can cause (one kink: at most twice the deviation), so a mismatch that a kink
  can explain is "inconclusive", never "wrong";
- the fourth difference of G measures f's roundoff (Note [Noise of the differences of G]), which
  reveals a function that computes in float32 even when it returns float64 (so do float32 output
  values, ``_is_float32``, and, after a failure, a resolution test: f ignores input changes below
  float32's spacing).

A probe passes when |analytic - numerical| <= atol + rtol * scale + roundoff, where scale is the
magnitude of the input's gradient (largest checked entry; for a direction the norm of
analytic * delta), not the entry itself, so tiny and zero entries do not turn noise into failures.
"""

from __future__ import annotations

import copy
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

FULL_MAX_SIZE = 64  # mode="auto": every coordinate up to this size, directions + a sample above
N_DIRECTIONS = 2  # random directions per tensor
N_SPARSE = 8  # sampled coordinates per tensor

_OFFSETS = (-1.0, -0.5, 0.5, 1.0)
_MIDS = np.array([-0.75, -0.25, 0.25, 0.75])  # where the half-step slopes sit
_A = np.stack([np.ones(4), _MIDS], axis=1)
_LINE = _A @ np.linalg.pinv(_A)  # projects four slopes onto a line
_KINK_BOUND = 3.0  # centered error <= 2 x max line residual for one kink, 4/3 for a cubic; margin
_NOISE_SIGMAS = 6.0  # tolerance for roundoff, in units of the noise scale of G
_KINK_SIGMAS = 10.0  # an output's line residual beyond this many eps * |f| is a kink
_SUB_FLOAT32 = 2.0**-10  # resolution test: a step of delta / 1024 is below float32's spacing
_RTOL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 3e-4}
_LOW_PRECISION = 1e-11  # relative roundoff of f above this is not float64 arithmetic
_MAX_ROUNDOFF = 1e-4  # ... and above this not float32 arithmetic either: a kink
_F32 = np.dtype(np.float32)
_F32_MAX = np.float32(np.finfo(np.float32).max)


def step_size(x, precision=np.float64):
    """Elementwise step h = eps(precision)^(1/3) * max(1, |x|): ~6e-6 in float64, ~5e-3 in float32."""
    eps = np.finfo(np.dtype(precision)).eps
    x = np.asarray(x)
    if x.ndim == 0:
        return eps ** (1 / 3) * np.maximum(1.0, np.abs(np.asarray(x, dtype=np.float64)))
    h = np.abs(x, dtype=np.float64)  # in place from here: one array, not three (large inputs)
    np.maximum(1.0, h, out=h)
    h *= eps ** (1 / 3)
    return h


def rel_error(x, y):
    """CS231n relative error: the largest |x - y| / max(1e-8, |x| + |y|) over the elements (0 for
    empty input); for display. The grader's one relative error (``checks.common.compare`` uses it)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size == 0:
        return 0.0
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


# ----------------------------------------------------------------------------------------- plan


@dataclass
class Probe:
    """One input moved along ``delta`` (float64, as actually stored after rounding to the input's
    dtype); for a coordinate ``index`` is set and ``delta`` is its step. The probe's points are
    ``plan.points[first:first + 4]`` at the offsets -1, -1/2, 1/2, 1: the base point with the input
    moved by ``t * step`` (``step``: the displacement asked for, before rounding to the dtype)."""

    arg: int
    index: tuple | None
    delta: np.ndarray | float
    first: int
    step: np.ndarray | float | None = field(default=None, repr=False)


class _Points(Sequence):
    """``plan.points``: the base point, then 4 points per probe, each made when it is asked for (a
    plan of a large tensor would otherwise hold 4 copies of it per direction). A moved input is
    made from a private copy of the input, so code that modifies its arguments cannot change the
    points still to come; the unmoved inputs are the base point's arrays, shared by every point."""

    def __init__(self, plan):
        self._plan = plan

    def __len__(self):
        return 1 + 4 * len(self._plan.probes)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        n = len(self)
        k = operator.index(k)
        if k < 0:
            k += n
        if not 0 <= k < n:
            raise IndexError("point index out of range")
        plan = self._plan
        if k == 0:
            return plan.base
        probe = plan.probes[(k - 1) // 4]
        return _moved(plan, probe.arg, probe.index, probe.step, _OFFSETS[(k - 1) % 4])

    def __repr__(self):
        return f"<{len(self)} points>"


@dataclass
class Plan:
    inputs: list
    names: list
    wrt: list
    precision: np.dtype
    probes: list = field(default_factory=list)
    modes: dict = field(default_factory=dict)

    def __post_init__(self):
        self.base = tuple(self.inputs)
        self._pristine = {}  # arg -> a private copy of the input, the origin of moved points
        self._measured = None  # judge's measurement of the last outputs (see _measured)

    @property
    def points(self):
        """The argument tuples to evaluate: ``points[0]`` is the base point (the inputs), then the
        probes' points (a sequence; each moved point is made when it is asked for)."""
        return _Points(self)

    def changes(self):
        """``points[1:]`` in compact form, to ship to a remote evaluator instead of full copies:
        one ``(arg, index, value)`` per point, meaning the base point with input ``arg`` set to
        ``value`` at ``index`` (a coordinate), or replaced by ``value`` when index is None."""
        out = []
        for p in self.probes:
            for t in _OFFSETS:
                if p.index is None:
                    out.append((p.arg, None, _moved(self, p.arg, None, t * p.step)[p.arg]))
                else:
                    out.append((p.arg, p.index, _moved_entry(self, p.arg, p.index, t * p.step)))
        return out


def plan_check(
    inputs,
    *,
    mode="auto",
    rng=None,
    wrt=None,
    names=None,
    precision=None,
    n_directions=N_DIRECTIONS,
    n_sparse=N_SPARSE,
    density=1.0,
    full_max=FULL_MAX_SIZE,
):
    """Plan the evaluations that check the inputs in ``wrt`` (indices or names; default: every
    floating-point input; the others pass through unchanged in every point).

    mode: "full" (every coordinate), "sparse" (``n_sparse`` random coordinates), "directional"
    (``n_directions`` random Gaussian directions), "auto" (full up to ``full_max`` elements,
    directions + sparse coordinates above). precision: the arithmetic f computes in, which sets the
    steps; default float32 if a checked input is float32, else float64. density: the fraction of
    entries a direction moves (at least one). Points share unperturbed arrays: pass copies to code
    that might modify its arguments.
    """
    inputs = [np.array(x) for x in inputs]
    names = list(names) if names is not None else [None] * len(inputs)
    wrt = _resolve_wrt(wrt, inputs, names)
    plan = Plan(inputs, names, wrt, _plan_precision(precision, [inputs[i] for i in wrt]))
    rng = _rng(rng)
    scratch = {}
    for i in wrt:
        x = inputs[i]
        m = mode if mode != "auto" else ("full" if x.size <= full_max else "mixed")
        if m not in ("full", "sparse", "directional", "mixed"):
            raise ValueError(f"unknown mode {mode!r}")
        plan.modes[i] = m
        fast = x.dtype == np.float64 and x.ndim > 0 and density >= 1
        if m in ("directional", "mixed") and fast:
            for _ in range(n_directions):
                _add_direction(plan, i, rng.standard_normal(x.shape), scratch)
            if m == "directional":
                continue
        h = step_size(x, plan.precision)
        if m in ("directional", "mixed") and not fast:
            for _ in range(n_directions):
                _add_probe(plan, i, None, h * _direction(rng, x.shape, density))
        if m in ("full", "sparse", "mixed"):
            if m == "full" or n_sparse >= x.size:
                flat = np.arange(x.size)
            else:
                flat = np.sort(rng.choice(x.size, n_sparse, replace=False))
            indices = np.unravel_index(flat, x.shape) if x.ndim else ()
            for k in range(len(flat)):
                index = tuple(int(j[k]) for j in indices)
                _add_probe(plan, i, index, float(h[index]))
    return plan


def _direction(rng, shape, density):
    u = rng.standard_normal(shape)
    if density < 1:
        keep = rng.random(shape) < density
        keep.flat[rng.integers(keep.size)] = True
        u = u * keep
    return u


def _work(scratch, key, shape, dtype):
    """A work array of plan_check, reused from direction to direction: allocating and freeing
    large temporaries costs a page fault per 4 KB every time."""
    n = math.prod(shape)
    buf = scratch.get(key)
    if buf is None or buf.size < n:
        buf = scratch[key] = np.empty(n, dtype)
    return buf[:n].reshape(shape)


def _add_direction(plan, arg, u, scratch):
    """``_add_probe(plan, arg, None, step_size(x) * u)`` for a float64 array x, with the same
    arithmetic but in place and in reused work arrays (this is most of the cost of planning a
    large tensor): u becomes the probe's step."""
    x = plan.inputs[arg]
    work = _work(scratch, "f8", x.shape, np.float64)
    h = np.abs(x, out=work)  # step_size(x), in place
    np.maximum(1.0, h, out=h)
    h *= np.finfo(plan.precision).eps ** (1 / 3)
    np.multiply(h, u, out=u)
    actual = np.empty_like(x)
    step = _float32_aligned_inplace(u, x, scratch, actual)
    if arg not in plan._pristine:
        plan._pristine[arg] = x.copy()
    first = 1 + 4 * len(plan.probes)
    np.add(x, step, out=actual)  # ((x + step) - (x - step)) / 2
    actual -= np.subtract(x, step, out=work)
    actual /= 2
    plan.probes.append(Probe(arg, None, actual, first, step))


def _float32_aligned_inplace(delta, x, scratch, spare):
    """``_float32_aligned(delta, x)`` for a float64 array delta of x's shape, computed in delta
    (returned), with work arrays from ``scratch`` and the float64 array ``spare`` (overwritten).
    The spacing comes from the exponent (np.spacing loops per element); values at or beyond
    float32's largest number take the general path."""
    work = _work(scratch, "f8", x.shape, np.float64)
    v = _work(scratch, "f4", x.shape, np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        np.abs(x, out=work)
        work += np.abs(delta, out=spare)
        np.copyto(v, work, casting="same_kind")  # as .astype(np.float32)
        if not np.all(v < _F32_MAX):  # inf, nan, or float32's largest (its spacing is inf)
            return _float32_aligned_general(delta, x)
        # twice the spacing of v = m 2^e (m in [1/2, 1)): 2^(e - 23); 2^-148 for subnormals and 0
        tiny = v.min() < 2.0**-126
        e = _work(scratch, "i4", x.shape, np.int32)
        np.frexp(v, out=(v, e))  # v: the mantissa from here (0 where v was 0)
        e -= 24
        if tiny:
            np.maximum(e, -149, out=e)
            e[v == 0] = -149
        q = np.ldexp(np.float64(2.0), e, out=work)
        np.divide(delta, q, out=delta)
        np.round(delta, out=delta)
        delta *= q
    return delta


def _float32_aligned(delta, x):
    """delta rounded to a multiple of twice float32's spacing at x: x + t * delta (t = +-1/2, +-1)
    then keeps x's offset from the float32 grid, so code that casts its inputs to float32 moves by
    exactly t * delta too (else by up to 1% more or less at float64 steps, in a way no difference
    pattern shows)."""
    if np.ndim(delta) == 0 and np.ndim(x) == 0:
        return _float32_aligned_scalar(float(delta), float(np.abs(np.float64(x))))
    if np.shape(delta) == np.shape(x):
        delta = np.array(delta, dtype=np.float64)
        return _float32_aligned_inplace(delta, x, {}, np.empty(delta.shape))
    return _float32_aligned_general(delta, x)


def _float32_aligned_general(delta, x):
    x = np.abs(np.asarray(x, dtype=np.float64))
    with np.errstate(over="ignore", invalid="ignore"):  # beyond float32's range: leave delta
        q = 2 * np.spacing((x + np.abs(delta)).astype(np.float32)).astype(np.float64)
        return np.where(np.isfinite(q), np.round(delta / q) * q, delta)


def _float32_aligned_scalar(delta, x):
    """_float32_aligned of one entry (|x| given), with the same arithmetic on floats."""
    with np.errstate(over="ignore", invalid="ignore"):
        q = 2 * float(np.spacing(np.float32(x + abs(delta))))
    if not math.isfinite(q):
        return np.float64(delta)
    ratio = delta / q
    return np.float64(math.copysign(round(ratio), ratio) * q)  # np.round keeps the sign of -0.0


def _add_probe(plan, arg, index, delta):
    x = plan.inputs[arg]
    step = _float32_aligned(delta, x if index is None else x[index])
    if arg not in plan._pristine:
        plan._pristine[arg] = x.copy()
    first = 1 + 4 * len(plan.probes)
    if index is None:  # the displacement as stored: (x + step) - (x - step), halved, in float64
        plus, minus = _moved(plan, arg, None, step, 1.0)[arg], _moved(plan, arg, None, step, -1.0)[arg]
        if plus.dtype != np.float64:
            plus, minus = plus.astype(np.float64), minus.astype(np.float64)
        if plus.ndim:
            actual = np.subtract(plus, minus, out=plus)
            actual /= 2
        else:
            actual = (plus - minus) / 2
    else:
        actual = (float(_moved_entry(plan, arg, index, step)) - float(_moved_entry(plan, arg, index, -step))) / 2
    plan.probes.append(Probe(arg, index, actual, first, step))


def _moved(plan, arg, index, step, t=None):
    """The base point with input ``arg`` moved by ``step`` (or ``t * step``; at ``index``, or
    everywhere)."""
    x = plan._pristine.get(arg, plan.inputs[arg])
    if index is None:
        if x.dtype == np.float64 and x.ndim and t is not None:  # x + t * step, one new array
            if t == 1.0:
                return _replace(plan.base, arg, x + step)
            if t == -1.0:
                return _replace(plan.base, arg, x - step)
            xt = np.multiply(step, t)
            return _replace(plan.base, arg, np.add(x, xt, out=xt))
        if t is not None:
            step = t * step
        xt = x + step if x.dtype == np.float64 else (x.astype(np.float64) + step).astype(x.dtype)
    else:
        if t is not None:
            step = t * step
        xt = x.copy()
        xt[index] = x[index] + step
    return _replace(plan.base, arg, xt)


def _replace(base, arg, x):
    return base[:arg] + (x,) + base[arg + 1 :]


def _moved_entry(plan, arg, index, step):
    """``_moved(plan, arg, index, step)[arg][index]`` without copying the input."""
    x = plan._pristine.get(arg, plan.inputs[arg])
    return x.dtype.type(x[index] + step)


def _resolve_wrt(wrt, inputs, names):
    if wrt is None:
        return [i for i, x in enumerate(inputs) if np.issubdtype(x.dtype, np.floating)]
    out = [names.index(w) if isinstance(w, str) else int(w) for w in wrt]
    for i in out:
        if not np.issubdtype(inputs[i].dtype, np.floating):
            raise ValueError(f"{_label(i, names[i])} is not floating point ({inputs[i].dtype})")
    return out


def _plan_precision(precision, xs):
    if precision is not None:
        return np.dtype(precision)
    return _F32 if any(x.dtype.itemsize <= 4 for x in xs) else np.dtype(np.float64)


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng or 0)


# ---------------------------------------------------------------------------------------- judge


@dataclass
class Check:
    """One coordinate or direction: the numerical ("expected") and analytic ("got") values, in
    gradient units for a coordinate and as a directional derivative for a direction."""

    kind: str  # "coordinate" | "direction"
    index: tuple | None
    expected: float
    got: float
    error: float
    tol: float
    status: str  # "ok" | "wrong" | "inconclusive" (a kink or strong curvature)
    probe: int = field(default=-1, repr=False)  # index into the plan's probes

    @property
    def rel_error(self):
        return rel_error(self.expected, self.got)


@dataclass
class InputResult:
    arg: int
    name: str | None
    checks: list
    problem: str | None = None  # wrong shape, missing or non-finite gradient

    @property
    def label(self):
        return _label(self.arg, self.name)

    @property
    def status(self):
        """fail: a problem or a wrong check; inconclusive: no direction (or no check) agrees."""
        if self.problem or any(c.status == "wrong" for c in self.checks):
            return "fail"
        directions = [c for c in self.checks if c.kind == "direction"]
        if directions and not any(c.status == "ok" for c in directions):
            return "inconclusive"
        return "pass" if any(c.status == "ok" for c in self.checks) else "inconclusive"

    @property
    def n_kinks(self):
        """Coordinates excluded because a kink (or curvature) could explain their mismatch."""
        return sum(c.status == "inconclusive" and c.kind == "coordinate" for c in self.checks)

    @property
    def worst(self):
        pool = [c for c in self.checks if c.status == "wrong"] or self.checks
        pool = [c for c in pool if np.isfinite(c.error)]
        return max(pool, key=_badness, default=None)

    @property
    def message(self):
        if self.problem:
            return f"{self.label}: {self.problem}"
        n, w, status = len(self.checks), self.worst, self.status
        if status == "fail":
            wrong = sum(c.status == "wrong" for c in self.checks)
            if w.kind == "coordinate":
                where = f"worst at [{', '.join(map(str, w.index))}]" if w.index else "scalar"
                what = f"{where}: expected {w.expected:.6g}, got {w.got:.6g}"
            else:
                what = f"directional derivative along a random direction: expected {w.expected:.6g}, got {w.got:.6g}"
            return f"{self.label}: {what} (rel. error {w.rel_error:.3g}; {wrong} of {n} checks wrong)"
        if status == "inconclusive":
            bad = sum(c.status == "inconclusive" for c in self.checks)
            return f"{self.label}: inconclusive: {bad} of {n} checks hit a kink, strong curvature or non-finite values"
        worst = max(_badness(c) for c in self.checks if c.status == "ok")
        excluded = sum(c.status == "inconclusive" for c in self.checks)
        kinks = f"; {excluded} checks at kinks excluded" if excluded else ""
        return f"{self.label}: pass ({n} checks, worst error/tolerance {worst:.2g}{kinks})"


@dataclass
class Verdict:
    inputs: list  # InputResult per checked input
    precision: str  # whose tolerances were used: "float64" or "float32"
    noise: float  # measured relative roundoff of f (>= eps of the precision)
    low_precision: bool  # f's roundoff is worse than float64 arithmetic
    rounds: int = 1

    @property
    def status(self):
        statuses = {r.status for r in self.inputs}
        return next((s for s in ("fail", "inconclusive") if s in statuses), "pass")

    @property
    def passed(self):
        return self.status == "pass"

    @property
    def message(self):
        return "\n".join(r.message for r in self.inputs)

    def __getitem__(self, key):
        """The result of an input, by index or name."""
        for r in self.inputs:
            if key in (r.arg, r.name):
                return r
        raise KeyError(key)


def _badness(check):
    """error / tolerance."""
    return check.error / check.tol if check.tol > 0 else (np.inf if check.error > 0 else 0.0)


@dataclass
class _Numeric:
    centered: float  # (G(1) - G(-1)) / 2
    extrapolated: float  # Richardson: (4 (G(1/2) - G(-1/2)) - (G(1) - G(-1)) / 2) / 3, no h^2 error
    kink: float  # sum over outputs of |dout| * line residual beyond roundoff: kinks, curvature
    fourth: float  # |fourth difference| of G: roundoff
    size: float  # noise scale of G: root sum of squares of dout * f over changed outputs
    active: bool  # some output changed


def judge(plan, outputs, analytic_grads, dout, rtol=None, atol=None, noise=None, rtol_floor=None):
    """Verdict from ``outputs[i] = f(*plan.points[i])``. ``analytic_grads`` lists the analytic
    gradients aligned with the inputs or with ``plan.wrt`` (a single array for a single input).
    rtol defaults by precision (``_RTOL``: float64 1e-6, float32 3e-4); atol (absolute, gradient units) to 0.
    noise: f's relative roundoff if known (``Verdict.noise`` of an earlier check); else measured.
    rtol_floor: the smallest rtol to use whatever the precision (a grader's policy: no numerical check
    stricter than its comparison with a reference)."""
    if len(outputs) != len(plan.points):
        raise ValueError(f"{len(outputs)} outputs for {len(plan.points)} points")
    dout = np.asarray(dout, dtype=np.float64)
    grads = _align_grads(plan, analytic_grads)
    floor, numerics = _measured(plan, outputs, dout)
    if noise is None:
        noise = _measured_noise(plan.probes, numerics)
    noise = max(floor, noise)
    low = bool(noise > _LOW_PRECISION)
    precision = np.dtype(plan.precision)
    if low:  # measured from f's values, never from the dtype of the gradients under test
        precision = max(precision, _F32, key=lambda d: np.finfo(d).eps)
    rtol = _RTOL.get(precision, 10 * np.finfo(precision).eps ** 0.5) if rtol is None else rtol
    rtol = max(rtol, rtol_floor or 0.0)
    # float32 steps are large: their h^2 error (up to ~1e-3 of a steep gradient) is extrapolated away
    # (Richardson on the half steps), so the tolerance can be tight enough to catch a 0.1 % error
    extrapolate = np.finfo(precision).eps >= np.finfo(_F32).eps
    results = []
    for i in plan.wrt:
        mine = [(k, p, m) for k, (p, m) in enumerate(zip(plan.probes, numerics)) if p.arg == i]
        results.append(_judge_input(plan, i, grads.get(i), mine, noise, rtol, atol or 0.0, extrapolate))
    return Verdict(results, precision.name, noise, low)


def _measured(plan, outputs, dout):
    """(roundoff floor, _measure_all of the probes) for these outputs: what judge needs of f's values,
    whatever the gradients under test. Kept on the plan for the last ``outputs`` (the same list object)
    and dout, so that judging two sets of gradients against the same values measures them once."""
    cached = plan._measured
    if cached is not None and cached[0] is outputs and np.array_equal(cached[1], dout):
        return cached[2], cached[3]
    outs = [np.asarray(o) for o in outputs]
    if any(o.shape != dout.shape for o in outs):
        raise ValueError(f"f returned shapes {sorted({o.shape for o in outs})}, dout has {dout.shape}")
    floor = float(np.finfo(plan.precision).eps)
    if _is_float32(*outs):
        floor = max(floor, float(np.finfo(_F32).eps))
    numerics = _measure_all(plan.probes, outs, dout, floor)
    plan._measured = (outputs, dout.copy(), floor, numerics)
    return floor, numerics


def _align_grads(plan, grads):
    if isinstance(grads, np.ndarray) or np.isscalar(grads):
        grads = [grads]
    grads = list(grads)
    if len(grads) == len(plan.inputs):
        return dict(enumerate(grads))
    if len(grads) == len(plan.wrt):
        return dict(zip(plan.wrt, grads))
    raise ValueError(f"{len(grads)} gradients for {len(plan.inputs)} inputs ({len(plan.wrt)} checked)")


_MEASURE_CHUNK = 1 << 20  # values of the (probes, 5, outputs) block _measure_all works on at once


def _measure_all(probes, outs, dout, floor):
    """The numbers (``_Numeric``) of each probe, the probes side by side in a few array operations.

    G(t) = <dout, f(t) - f(0)> at the probe's five points. Kinks are measured output by output, so
    that kinks in different outputs (ties in an elementwise max) cannot cancel in the sum G, and
    against the roundoff floor only: a measured roundoff can be raised by kinks themselves. The
    noise scale ``size`` counts at least one output's worth of noise: an output stays bitwise equal
    when its change is below its resolution (a float32 loss, a saturated tanh), which hides up to
    half an ulp of change."""
    if not probes:
        return []
    values = np.stack(outs).astype(np.float64).reshape(len(outs), -1)
    m = values.shape[1]
    d, w = dout.ravel(), np.abs(dout).ravel()
    chunk = max(1, _MEASURE_CHUNK // (5 * max(m, 1)))
    out = []
    for start in range(0, len(probes), chunk):
        part = probes[start : start + chunk]
        firsts = np.array([p.first for p in part])
        rows = np.stack([firsts, firsts + 1, np.zeros_like(firsts), firsts + 2, firsts + 3], axis=1)
        f = values[rows]  # (probes, 5, outputs)
        g = (f - f[:, 2:3]) @ d  # each block as (5, m) @ (m,)
        slopes = np.diff(f, axis=1) / 0.5
        residual = np.max(np.abs(slopes - _LINE @ slopes), axis=1)
        mag = np.max(np.abs(f), axis=1)
        changed = np.any(f != f[:, 2:3], axis=1)
        wm = w * mag
        over = np.maximum(0.0, residual - _KINK_SIGMAS * floor * mag)
        centered = (g[:, 4] - g[:, 0]) / 2
        extrapolated = (4 * (g[:, 3] - g[:, 1]) - centered) / 3
        fourth = np.abs(g[:, 0] - 4 * g[:, 1] + 6 * g[:, 2] - 4 * g[:, 3] + g[:, 4])
        top = np.max(wm, axis=1, initial=0.0)
        active = np.any(changed, axis=1)
        for k in range(len(part)):
            # per probe: a masked sum and a dot product, whose rounding would depend on how a batched
            # one groups them; a probe's numbers do not depend on the chunk it is in
            size = np.sqrt(np.sum(wm[k][changed[k]] ** 2) + top[k] ** 2)
            out.append(
                _Numeric(
                    centered=centered[k],
                    extrapolated=extrapolated[k],
                    kink=float(w @ over[k]),
                    fourth=fourth[k],
                    size=float(size),
                    active=bool(active[k]),
                )
            )
    return out


# Note [Noise of the differences of G]
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
# A probe evaluates G at t = -1, -1/2, 0, 1/2, 1 (g0..g4). Model f's roundoff as independent noise
# of standard deviation sigma * size on each g (sigma: f's relative roundoff; size: _Numeric.size).
# A linear combination sum(c_k g_k) then has noise sigma * size * sqrt(sum(c_k^2)):
#
# - the fourth difference g0 - 4 g1 + 6 g2 - 4 g3 + g4 cancels every polynomial of degree < 4, so
#   for a smooth f at small steps it is almost pure noise, with sum(c_k^2) = 1 + 16 + 36 + 16 + 1
#   = 70: fourth / (sqrt(70) * size) estimates sigma, one probe at a time (_measured_noise). The
#   median of |N(0, 1)| is 0.6745: the median of those estimates over 0.6745 is sigma.
# - the centered difference (g4 - g0) / 2 has sum(c_k^2) = 1/2; the Richardson-extrapolated one
#   (4 (g3 - g1) - (g4 - g0) / 2) / 3 has (1/4 + 16 + 16 + 1/4) / 9 = 32.5 / 9, so its noise is
#   sqrt(32.5) / 3 / sqrt(1/2) times the centered difference's (_EXTRAPOLATED_NOISE).

_FOURTH_DIFFERENCE_NOISE = np.sqrt(70)  # see Note [Noise of the differences of G]
_HALF_NORMAL_MEDIAN = 0.6745  # the median of |N(0, 1)|


def _measured_noise(probes, numerics):
    """Relative roundoff of f from the fourth differences of G in at least 4 coordinate probes
    (median: float32 quantization gives exact zeros, kinks raise fourth differences; ratios above
    _MAX_ROUNDOFF are kinks, not roundoff). Kinks in most probes (many ties) can still raise it;
    then tolerances get looser and the check moves to float32 steps. Directions are not used: in a
    large tensor a few crossed kinks look like roundoff there. See Note [Noise of the differences of G]."""
    ratios = [
        m.fourth / (_FOURTH_DIFFERENCE_NOISE * m.size)
        for p, m in zip(probes, numerics)
        if p.index is not None and m.active and np.isfinite(m.fourth)
    ]
    ratios = [r for r in ratios if r < _MAX_ROUNDOFF]
    return float(np.median(ratios) / _HALF_NORMAL_MEDIAN) if len(ratios) >= 4 else 0.0


def _is_float32(*arrays):
    """Whether f's values were computed in float32: some array is float32, or every value is a
    float32 number and some need more than 12 significant bits (a float64 computation almost never
    returns such values, a float32 one cast to float64 always does). The grader's one rule for it."""
    if any(np.asarray(a).dtype == _F32 for a in arrays):
        return True
    many_bits = False
    for a in arrays:  # the first float64 array usually settles it
        values = np.asarray(a, dtype=np.float64).ravel()
        head = values[:64]  # a float64 computation's values fail here already
        head = head[np.isfinite(head)]
        if not np.array_equal(head.astype(np.float32), head):
            return False
        finite = np.isfinite(values)
        if not finite.all():
            values = values[finite]
        if not np.array_equal(values.astype(np.float32), values):
            return False
        if not many_bits:
            mantissa = np.frexp(values)[0] * 2.0**12
            many_bits = bool(np.any(mantissa != np.round(mantissa)))
    return many_bits


# the extrapolated difference's roundoff over the centered difference's: Note [Noise of the differences of G]
_EXTRAPOLATED_NOISE = math.sqrt(32.5) / 3 / math.sqrt(0.5)


def _judge_input(plan, i, grad, numerics, noise, rtol, atol, extrapolate=False):
    x, result = plan.inputs[i], InputResult(i, plan.names[i], [])
    if grad is None:
        result.problem = "no gradient returned"
        return result
    grad = np.asarray(grad)
    if grad.shape != x.shape:
        result.problem = f"gradient has shape {grad.shape}, the input has shape {x.shape}"
        return result
    a = np.asarray(grad, dtype=np.float64)  # read only
    if not np.all(np.isfinite(a)):
        result.problem = "gradient contains nan or inf"
        return result
    coords = [(p, m) for _, p, m in numerics if p.index is not None]
    estimate = (lambda m: m.extrapolated) if extrapolate else (lambda m: m.centered)
    noise_factor = _EXTRAPOLATED_NOISE if extrapolate else 1.0
    scale = max((max(abs(estimate(m) / p.delta), abs(a[p.index])) for p, m in coords), default=0.0)
    for k, p, m in numerics:
        if p.index is None:  # everything in units of the displacement delta
            got, unit, width = float(np.vdot(a, p.delta)), 1.0, float(np.linalg.norm(p.delta))
            scale_t = max(abs(estimate(m)), abs(got), float(np.linalg.norm(a * p.delta)))
        else:
            got, unit = float(a[p.index]) * p.delta, p.delta
            width, scale_t = p.delta, scale * p.delta
        smooth_tol = atol * width + rtol * scale_t
        tol = smooth_tol + _NOISE_SIGMAS * noise * noise_factor * m.size
        err = abs(got - estimate(m))
        if not (np.isfinite(err) and np.isfinite(m.kink)):  # f returned nan or inf
            status = "inconclusive"
        elif err <= tol:
            status = "ok"
        elif m.kink > smooth_tol / 2 or err <= tol + _KINK_BOUND * noise_factor * m.kink:
            status = "inconclusive"
        else:
            status = "wrong"
        kind = "direction" if p.index is None else "coordinate"
        result.checks.append(
            Check(
                kind,
                p.index,
                float(estimate(m) / unit),
                float(got / unit),
                float(err / unit),
                float(tol / unit),
                status,
                k,
            )
        )
    return result


def _label(i, name):
    return f"input {i} ({name})" if name else f"input {i}"


# ------------------------------------------------------------------------------------- drivers


def check_vjp(
    f_batch,
    inputs,
    analytic_grads,
    dout,
    *,
    mode="auto",
    rng=None,
    max_rounds=3,
    wrt=None,
    names=None,
    precision=None,
    rtol=None,
    atol=None,
    evaluated=None,
    n_directions=N_DIRECTIONS,
    rtol_floor=None,
    confirm_float32=False,
):
    """Check analytic gradients (the VJP with ``dout``) of f; ``f_batch(points)`` returns
    ``[f(*p) for p in points]``, possibly evaluated remotely in one round trip. If f's roundoff is
    worse than float64, or the check did not pass and f is found blind to input changes below
    float32's resolution (one more batch), f computes in float32: the check is redone with float32
    steps and tolerances. Inputs left inconclusive get 4 new directions per round, up to ``max_rounds``
    batches (not counting the float32 redo); round k's directions move a random 8^-k of the
    entries, so they can avoid the few entries that sit on a kink (e.g. ReLU inputs exactly 0).
    evaluated: ``(plan, outputs)`` already evaluated (e.g. sent along with other requests), used
    as the first batch. n_directions: random directions per tensor in the first batch (one already
    checks a whole tensor; more only add redundancy). confirm_float32: a failure at float64 steps is
    redone at float32 steps, whose pass is the verdict (Note [A failure is confirmed at float32 steps]).
    Deterministic given ``rng`` (Generator or seed)."""
    rng = _rng(rng)
    options = dict(wrt=wrt, names=names, n_directions=n_directions)

    def run(plan, noise=None):
        return judge(plan, f_batch(plan.points), analytic_grads, dout, rtol, atol, noise, rtol_floor)

    if evaluated is None:
        plan = plan_check(inputs, mode=mode, rng=rng, precision=precision, **options)
        verdict = run(plan)
    else:
        plan, outputs = evaluated
        verdict = judge(plan, outputs, analytic_grads, dout, rtol, atol, rtol_floor=rtol_floor)
    if np.finfo(plan.precision).eps < np.finfo(_F32).eps and (
        verdict.low_precision or (verdict.status != "pass" and _blind_below_float32(f_batch, plan, verdict, dout))
    ):
        plan = plan_check(inputs, mode=mode, rng=rng, precision=_F32, **options)
        verdict = run(plan)
    elif confirm_float32 and np.finfo(plan.precision).eps < np.finfo(_F32).eps and verdict.status == "fail":
        # Note [A failure is confirmed at float32 steps]
        plan32 = plan_check(inputs, mode=mode, rng=copy.deepcopy(rng), precision=_F32, **options)
        again = run(plan32)
        if again.status == "pass":
            plan, verdict = plan32, again
    while verdict.rounds < max_rounds:
        redo = [
            r.arg
            for r in verdict.inputs
            if r.status == "inconclusive" and plan.modes[r.arg] in ("directional", "mixed")
        ]
        if not redo:
            break
        again = run(
            plan_check(
                inputs,
                mode="directional",
                rng=rng,
                precision=plan.precision,
                wrt=redo,
                names=names,
                density=8.0**-verdict.rounds,
                n_directions=2 * N_DIRECTIONS,
            ),
            noise=verdict.noise,
        )
        for r in again.inputs:
            verdict[r.arg].checks.extend(r.checks)
        verdict.rounds += 1
    return verdict


# Note [A failure is confirmed at float32 steps]
# The roundoff of a function that computes only part of its value in float32 (a loss whose
# regularisation term is a float32 sum, next to float64 layers) can stay below what the fourth
# differences and the resolution test reveal, and still move float64-step differences by 1%: an
# honest network failed its numerical check that way (examples/layers/float32-inside's TwoLayerNet
# with float64 stand-in layers). A check that fails at float64 steps is redone at float32 steps and
# tolerances (one more batch, only for a failure; its own copy of the generator, so what follows
# draws the same); a pass there is the verdict, anything else keeps the float64 failure and its
# message. Errors up to about 1e-3 then pass the numerical check, so it is the caller's choice: the
# declared models' check asks for it (their gradients check, against the reference, judges finer
# errors); the numerical core's own default, and the lecture's gates and MLP, do not.


def _blind_below_float32(f_batch, plan, verdict, dout):
    """Whether f ignores input changes below float32's resolution (it casts its inputs to float32:
    with exact float32 output steps its differences can be off by ~1% with no noise to show it).
    On up to 8 wrong (else inconclusive) probes, G at +-delta/1024 must change as the centered
    difference says; kinks right at x (ReLU at 0, ties) do not disturb this."""
    checks = [c for r in verdict.inputs for c in r.checks]
    wrong = ([c for c in checks if c.status == "wrong"] or [c for c in checks if c.status == "inconclusive"])[:8]
    points = [plan.points[0]]
    for c in wrong:
        p = plan.probes[c.probe]
        points += [_moved(plan, p.arg, p.index, t * _SUB_FLOAT32 * p.delta) for t in (-1.0, 1.0)]
    outs = [np.asarray(o, dtype=np.float64) for o in f_batch(points)]
    dout = np.asarray(dout, dtype=np.float64)
    ratios = []
    for k, c in enumerate(wrong):
        p = plan.probes[c.probe]
        centered = c.expected * (1.0 if p.index is None else p.delta)
        change = float(np.vdot(dout, outs[2 * k + 2] - outs[2 * k + 1])) / (2 * _SUB_FLOAT32)
        ratios.append(abs(change / centered - 1) if centered else 0.0)
    return bool(ratios) and float(np.median(ratios)) > 0.05


def numerical_vjp(f, inputs, dout, *, wrt=None, precision=None):
    """Full centered-difference gradients of <dout, f(*inputs)>, one coordinate at a time (2 calls
    each). Returns a list aligned with the inputs; None for inputs not in ``wrt``."""
    inputs = [np.array(x) for x in inputs]
    wrt = _resolve_wrt(wrt, inputs, [None] * len(inputs))
    prec = _plan_precision(precision, [inputs[i] for i in wrt])
    dout = np.asarray(dout, dtype=np.float64)
    grads = [None] * len(inputs)
    for i in wrt:
        x, h = inputs[i], step_size(inputs[i], prec)
        grads[i] = np.zeros(x.shape)
        for index in np.ndindex(x.shape):
            values = []
            for t in (1.0, -1.0):
                args = [a.copy() for a in inputs]
                args[i][index] = x[index] + t * h[index]
                values.append((float(args[i][index]), np.asarray(f(*args), dtype=np.float64)))
            (xp, fp), (xm, fm) = values
            grads[i][index] = np.vdot(dout, fp - fm) / (xp - xm)
    return grads


def assert_vjp(f, inputs, analytic_grads, dout=None, **kw):
    """Raise AssertionError with a readable message if the analytic gradients are wrong; return the
    Verdict otherwise (pass or inconclusive). ``analytic_grads`` is a list of arrays for ``dout``
    (default: ones, i.e. the gradient of sum(f)) or a callable ``backward(dout) -> grads``, which
    gets a random ``dout`` when none is given. Every call of f gets fresh copies of the inputs.
    Keyword arguments go to ``check_vjp``."""
    rng = kw["rng"] = _rng(kw.get("rng"))
    inputs = [np.array(x) for x in inputs]
    if dout is None:
        shape = np.shape(f(*[a.copy() for a in inputs]))
        dout = rng.standard_normal(shape) if callable(analytic_grads) else np.ones(shape)
    grads = analytic_grads(dout) if callable(analytic_grads) else analytic_grads

    def f_batch(points):
        return [f(*[np.array(a) for a in p]) for p in points]

    verdict = check_vjp(f_batch, inputs, grads, dout, **kw)
    if verdict.status == "fail":
        raise AssertionError("gradient check failed:\n" + verdict.message)
    return verdict
