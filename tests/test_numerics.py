"""Tests for gradcheck.numerics: agreement on smooth functions, planted bugs caught, kinks never blamed,
float32, scales, messages and the batched plan/judge split."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck import assert_vjp, check_vjp, judge, numerical_vjp, plan_check, rel_error, step_size

SETTINGS = settings(max_examples=60, deadline=None)
MODES = ["auto", "full", "sparse", "directional"]
shapes = st.lists(st.integers(1, 5), min_size=0, max_size=2).map(tuple)
seeds = st.integers(0, 2**32 - 1)


def local(f):
    """Evaluate a batch of points locally, each call with fresh copies."""
    return lambda points: [f(*[np.array(a) for a in p]) for p in points]


def softmax_ce(z, y):
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(y)), y].mean()


def softmax_ce_vjp(z, y, dout):
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    return [dout * p / len(y)]


# name -> (make inputs from (rng, shape), f, vjp(inputs, dout) -> grads); dout has f's output shape
CASES = {
    "sin": (lambda r, s: [r.standard_normal(s)], np.sin, lambda x, d: [d * np.cos(x)]),
    "exp": (lambda r, s: [r.uniform(-2, 2, s)], np.exp, lambda x, d: [d * np.exp(x)]),
    "poly": (
        lambda r, s: [r.standard_normal(s)],
        lambda x: x**3 - 2 * x**2 + x,
        lambda x, d: [d * (3 * x**2 - 4 * x + 1)],
    ),
    "mul": (
        lambda r, s: [r.standard_normal(s), r.standard_normal(s)],
        lambda x, y: x * y * y,
        lambda x, y, d: [d * y * y, 2 * d * x * y],
    ),
    "matmul": (
        lambda r, s: [r.standard_normal((len(s) + 2, 3)), r.standard_normal((3, 4))],
        lambda w, x: w @ x,
        lambda w, x, d: [d @ x.T, w.T @ d],
    ),
    "sumsq": (lambda r, s: [r.standard_normal(s)], lambda x: np.sum(x**2), lambda x, d: [2 * d * x]),
    "softmax_ce": (lambda r, s: [2 * r.standard_normal((3, 4)), r.integers(0, 4, 3)], softmax_ce, softmax_ce_vjp),
}


def make_case(name, seed, shape):
    rng = np.random.default_rng(seed)
    make, f, vjp = CASES[name]
    inputs = make(rng, shape)
    dout = rng.standard_normal(np.shape(f(*inputs)))
    return rng, inputs, f, vjp, dout


# ------------------------------------------------------------------------------ smooth agreement


@SETTINGS
@given(name=st.sampled_from(sorted(CASES)), seed=seeds, shape=shapes)
def test_numerical_vjp_matches_known_gradients(name, seed, shape):
    _, inputs, f, vjp, dout = make_case(name, seed, shape)
    expected = vjp(*inputs, dout)
    got = [g for g in numerical_vjp(f, inputs, dout) if g is not None]
    for e, g in zip(expected, got):
        assert g.shape == e.shape
        assert np.max(np.abs(g - e), initial=0) <= 1e-7 * max(1.0, np.max(np.abs(e), initial=0))


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(sorted(CASES)), seed=seeds, shape=shapes, mode=st.sampled_from(MODES))
def test_check_vjp_passes_correct_gradients(name, seed, shape, mode):
    rng, inputs, f, vjp, dout = make_case(name, seed, shape)
    verdict = check_vjp(local(f), inputs, vjp(*inputs, dout), dout, mode=mode, rng=rng)
    assert verdict.status == "pass", verdict.message


@SETTINGS
@given(seed=seeds, mode=st.sampled_from(MODES))
def test_large_tensor_passes(seed, mode):
    rng = np.random.default_rng(seed)
    x, dout = rng.standard_normal((30, 20)), rng.standard_normal((30, 20))
    verdict = check_vjp(
        local(lambda x: np.sin(x) * x), [x], [dout * (np.cos(x) * x + np.sin(x))], dout, mode=mode, rng=rng
    )
    assert verdict.status == "pass", verdict.message


# ------------------------------------------------------------------------------ planted bugs


def _bugs(grads, dout, inputs, vjp, rng):
    """Whole-tensor bugs applied to the first input's gradient."""
    g = grads[0]
    yield "sign", [-g] + grads[1:]
    yield "factor 2", [2 * g] + grads[1:]
    yield "factor 1.001", [1.001 * g] + grads[1:]
    yield "ignores dout", vjp(*inputs, np.ones_like(dout))


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(["sin", "poly", "mul", "matmul", "softmax_ce"]),
    seed=seeds,
    shape=st.lists(st.integers(2, 5), min_size=1, max_size=2).map(tuple),
    mode=st.sampled_from(MODES),
)
def test_whole_tensor_bugs_are_caught(name, seed, shape, mode):
    rng, inputs, f, vjp, dout = make_case(name, seed, shape)
    grads = vjp(*inputs, dout)
    if np.max(np.abs(grads[0])) < 1e-3:
        return
    for bug, bad in _bugs(grads, dout, inputs, vjp, rng):
        if name == "softmax_ce" and bug == "ignores dout":
            continue  # scalar output: dout is a single number, as good as ones up to a factor
        verdict = check_vjp(local(f), inputs, bad, dout, mode=mode, rng=rng)
        assert verdict.status == "fail", (bug, verdict.message)
        assert verdict.inputs[0].status == "fail", bug


@SETTINGS
@given(seed=seeds, n=st.integers(2, 6), mode=st.sampled_from(["full", "directional", "auto"]))
def test_transposed_square_gradient_is_caught(seed, n, mode):
    rng = np.random.default_rng(seed)
    w, x, dout = (rng.standard_normal((n, n)) for _ in range(3))
    verdict = check_vjp(
        local(lambda w, x: w @ x), [w, x], [(dout @ x.T).T, w.T @ dout], dout, mode=mode, rng=rng, names=["W", "X"]
    )
    assert verdict["W"].status == "fail" and verdict["X"].status == "pass", verdict.message


@SETTINGS
@given(
    name=st.sampled_from(["sin", "poly", "mul", "matmul", "sumsq"]),
    seed=seeds,
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=2).map(tuple),
)
def test_single_wrong_element_is_caught_in_full_mode(name, seed, shape):
    rng, inputs, f, vjp, dout = make_case(name, seed, shape)
    grads = vjp(*inputs, dout)
    g = grads[0]
    big = np.flatnonzero((np.abs(g) >= 0.05 * np.max(np.abs(g))) & (np.abs(g) > 1e-3))
    if big.size == 0:
        return
    index = np.unravel_index(rng.choice(big), g.shape)
    bad = g.copy()
    bad[index] *= 1.1
    verdict = check_vjp(local(f), inputs, [bad] + grads[1:], dout, mode="full", rng=rng)
    result = verdict.inputs[0]
    assert result.status == "fail", verdict.message
    assert result.worst.index == tuple(int(i) for i in index)
    assert sum(c.status == "wrong" for c in result.checks) == 1


def test_directional_catches_bugs_in_a_large_tensor():
    rng = np.random.default_rng(7)
    w, x = rng.standard_normal((40, 300)), rng.standard_normal((300, 5))
    dout = rng.standard_normal((40, 5))
    gw = dout @ x.T
    f = local(lambda w, x: w @ x)
    assert check_vjp(f, [w, x], [gw, None], dout, wrt=[0], mode="directional").passed
    for bad in (-gw, 2 * gw, 1.001 * gw, np.ones((40, 5)) @ x.T):
        verdict = check_vjp(f, [w, x], [bad, None], dout, wrt=[0], mode="directional", rng=rng)
        assert verdict.status == "fail", verdict.message


# ------------------------------------------------------------------------------ kinks


def _near_kinks(rng, shape, h=6e-6):
    """Values exactly at 0, within a step of 0, and ordinary ones."""
    x = rng.standard_normal(shape)
    where = rng.integers(0, 3, shape)
    x[where == 0] = 0.0
    x[where == 1] = rng.uniform(-1.5, 1.5, np.sum(where == 1)) * h
    return x


KINKS = {
    "relu": (lambda x: np.maximum(x, 0), lambda x, d, c: [d * np.where(x == 0, c, x > 0)]),
    "abs": (np.abs, lambda x, d, c: [d * np.where(x == 0, 2 * c - 1, np.sign(x))]),
}


@settings(max_examples=100, deadline=None)
@given(
    name=st.sampled_from(sorted(KINKS)),
    seed=seeds,
    shape=st.sampled_from([(), (3,), (4, 5), (200,)]),
    mode=st.sampled_from(MODES),
    choice=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_kinks_are_never_reported_as_errors(name, seed, shape, mode, choice):
    rng = np.random.default_rng(seed)
    f, vjp = KINKS[name]
    x = _near_kinks(rng, shape)
    dout = rng.standard_normal(shape)
    verdict = check_vjp(local(f), [x], vjp(x, dout, choice), dout, mode=mode, rng=rng)
    assert verdict.status != "fail", verdict.message


@settings(max_examples=80, deadline=None)
@given(seed=seeds, shape=st.sampled_from([(), (4,), (3, 5), (150,)]), mode=st.sampled_from(MODES))
def test_max_ties_are_never_reported_as_errors(seed, shape, mode):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    y = np.where(rng.random(shape) < 0.5, x, rng.standard_normal(shape))  # ties
    y = np.where(rng.random(shape) < 0.2, x + 1e-6, y)  # near-ties
    dout = rng.standard_normal(shape)
    to_x = x >= y
    grads = [dout * to_x, dout * ~to_x]
    verdict = check_vjp(local(np.maximum), [x, y], grads, dout, mode=mode, rng=rng)
    assert verdict.status != "fail", verdict.message


def test_kink_coordinates_are_excluded_and_counted():
    x = np.array([0.0, 1e-7, -2e-6, 0.7, -0.4, 1.3])
    dout = np.array([1.0, -2.0, 0.5, 1.5, 0.3, -1.0])
    verdict = check_vjp(local(lambda x: np.maximum(x, 0)), [x], [dout * (x > 0)], dout)
    result = verdict.inputs[0]
    assert result.status == "pass"
    assert result.n_kinks == 3
    assert {c.index for c in result.checks if c.status == "inconclusive"} == {(0,), (1,), (2,)}


@SETTINGS
@given(seed=seeds, mode=st.sampled_from(["auto", "full", "directional"]), kinks=st.integers(1, 4))
def test_wrong_gradient_away_from_kinks_is_caught(seed, mode, kinks):
    rng = np.random.default_rng(seed)
    n = 12 if mode == "full" else 120
    x = rng.standard_normal(n)
    x[1 : 1 + kinks] = rng.uniform(-1.5, 1.5, kinks) * 6e-6 * rng.integers(0, 2, kinks)  # 0 or near
    x[0] = 1.5
    dout = rng.standard_normal(n)
    dout[0] = 2.0
    good = dout * (x > 0)
    relu = local(lambda x: np.maximum(x, 0))
    if mode == "full":
        bad = good.copy()
        bad[0] = -bad[0]  # one element, away from the kinks
    else:
        bad = -good  # a whole-tensor bug; the directions cross kinks
    verdict = check_vjp(relu, [x], [bad], dout, mode=mode, rng=rng)
    assert verdict.status == "fail", verdict.message


def test_directions_that_cross_many_kinks_are_inconclusive_not_wrong():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(120)
    x[::3] = 0.0  # a third of the entries sit on the kink
    dout = rng.standard_normal(120)
    verdict = check_vjp(local(lambda x: np.maximum(x, 0)), [x], [dout * (x > 0)], dout, mode="directional", rng=rng)
    assert verdict.status in ("pass", "inconclusive")
    assert all(c.status != "wrong" for c in verdict.inputs[0].checks)


# ------------------------------------------------------------------------------ float32


def in_float32(f):
    """f computed in float32, returned as float64 (what a student's float32 code looks like
    after the worker converts its outputs)."""
    return lambda *xs: np.asarray(f(*[x.astype(np.float32) if x.dtype.kind == "f" else x for x in xs])).astype(
        np.float64
    )


F32_CASES = ["sin", "exp", "poly", "mul", "matmul", "sumsq", "softmax_ce"]


@settings(max_examples=100, deadline=None)
@given(name=st.sampled_from(F32_CASES), seed=seeds, shape=shapes, precision=st.sampled_from([None, np.float32]))
def test_float32_internal_function_passes_and_planted_error_is_caught(name, seed, shape, precision):
    rng, inputs, f, vjp, dout = make_case(name, seed, shape)
    inputs32 = [x.astype(np.float32) if x.dtype.kind == "f" else x for x in inputs]
    grads = [
        g.astype(np.float64)
        for g in vjp(*inputs32, np.float32(dout) if np.ndim(dout) == 0 else dout.astype(np.float32))
    ]
    f32 = local(in_float32(f))
    verdict = check_vjp(f32, inputs, grads, dout, rng=rng, precision=precision)
    assert verdict.status != "fail", verdict.message
    assert verdict.precision == "float32"
    if verdict.status == "inconclusive":
        # the float32 step's curvature error against a small gradient (poly near a stationary point)
        assert np.max(np.abs(grads[0])) < 0.1, verdict.message
        return
    if np.max(np.abs(grads[0])) > 0.1:  # else float32 roundoff and curvature may compete with 1%
        bad = check_vjp(f32, inputs, [1.01 * grads[0]] + grads[1:], dout, rng=rng, precision=precision)
        assert bad.status == "fail", bad.message


@SETTINGS
@given(seed=seeds, shape=shapes)
def test_float32_then_float64_arithmetic_is_detected_by_its_noise(seed, shape):
    """Outputs are not float32 numbers (a float64 term is added after): the measured roundoff, or
    after a failure the resolution test, shows the float32 arithmetic."""
    rng = np.random.default_rng(seed)
    x, dout = rng.standard_normal((6,) + shape), rng.standard_normal((6,) + shape)

    def f(x):
        return np.sin(x.astype(np.float32)).astype(np.float64) * 1.7 + 0.1 * x

    good = dout * (1.7 * np.cos(x) + 0.1)
    verdict = check_vjp(local(f), [x], [good], dout, rng=rng)
    assert verdict.status == "pass", verdict.message
    assert check_vjp(local(f), [x], [1.01 * good], dout, rng=rng).status == "fail"


def test_float32_inputs_and_outputs():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    dout = rng.standard_normal((4, 3)).astype(np.float32)
    good = dout * np.cos(x)
    verdict = assert_vjp(np.sin, [x], [good], dout)
    assert verdict.precision == "float32" and verdict.passed
    with pytest.raises(AssertionError):
        assert_vjp(np.sin, [x], [good * np.float32(1.01)], dout)


# ------------------------------------------------------------------------------ scales


@SETTINGS
@given(seed=seeds, shape=shapes, mode=st.sampled_from(MODES))
def test_zero_gradients_pass(seed, shape, mode):
    rng = np.random.default_rng(seed)
    x, y, dout = (rng.standard_normal(shape) for _ in range(3))
    verdict = check_vjp(
        local(lambda x, y: np.sin(x)), [x, y], [dout * np.cos(x), np.zeros(shape)], dout, mode=mode, rng=rng
    )
    assert verdict.passed, verdict.message
    wrong = check_vjp(local(lambda x, y: np.sin(x)), [x, y], [dout * np.cos(x), 0.1 * dout], dout, mode=mode, rng=rng)
    assert wrong.inputs[1].status == "fail", wrong.message


@SETTINGS
@given(seed=seeds, shape=shapes, mode=st.sampled_from(MODES), scale=st.sampled_from([1e-6, 1e-3, 1e3, 1e6]))
def test_tiny_and_huge_scales(seed, shape, mode, scale):
    rng = np.random.default_rng(seed)
    x, y = scale * rng.standard_normal(shape), scale * rng.standard_normal(shape)
    dout = rng.standard_normal(shape)

    def f(x, y):
        return x * y + x**2  # outputs ~ scale^2: up to 1e12

    grads = [dout * (y + 2 * x), dout * x]
    verdict = check_vjp(local(f), [x, y], grads, dout, mode=mode, rng=rng)
    assert verdict.passed, verdict.message
    bad = check_vjp(local(f), [x, y], [grads[0], -grads[1]], dout, mode=mode, rng=rng)
    assert bad.inputs[1].status == "fail", bad.message


def test_step_size_follows_dtype_and_scale():
    assert step_size(0.0) == pytest.approx(6.06e-6, rel=1e-2)
    assert step_size(0.0, np.float32) == pytest.approx(4.92e-3, rel=1e-2)
    assert step_size(-1e4) == pytest.approx(6.06e-2, rel=1e-2)


# ------------------------------------------------------------------------------ messages, API


def test_failure_message_names_input_coordinate_and_values():
    x = np.array([[1.0, 2.0], [3.0, -1.5], [0.5, 1.0]])
    y = np.array([[0.5, -1.0], [2.0, 1.0], [1.0, 1.5]])
    dout = np.ones((3, 2))
    grads = [dout * y, dout * x]
    grads[1][2, 0] = -0.5  # expected 0.5
    grads[1][1, 1] = 1.5  # expected -1.5: the worst one
    with pytest.raises(AssertionError) as info:
        assert_vjp(lambda x, y: x * y, [x, y], grads, dout, names=["x", "y"])
    message = str(info.value)
    assert "input 1 (y): worst at [1, 1]: expected -1.5, got 1.5 (rel. error 1" in message
    assert "2 of 6 checks wrong" in message
    assert "input 0 (x): pass" in message


def test_assert_vjp_with_a_backward_callable_draws_a_random_dout():
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    assert_vjp(lambda w, x: w @ x, [w, x], lambda d: [d @ x.T, w.T @ d])
    with pytest.raises(AssertionError, match="input 0"):
        # ignores dout: right only for dout = ones
        assert_vjp(lambda w, x: w @ x, [w, x], lambda d: [np.ones_like(d) @ x.T, w.T @ d])


def test_shape_problems_are_failures():
    x = np.arange(3.0)
    verdict = check_vjp(local(lambda x: 2 * x), [x], [np.full((3, 1), 2.0)], np.ones(3))
    assert verdict.status == "fail"
    assert "shape (3, 1)" in verdict.message


def test_plan_and_judge_split_with_non_differentiable_inputs():
    rng = np.random.default_rng(1)
    z, y = rng.standard_normal((5, 3)), rng.integers(0, 3, 5)
    plan = plan_check([z, y], names=["logits", "labels"], mode="full", rng=0)
    assert plan.wrt == [0]
    assert np.array_equal(plan.points[0][0], z)
    assert all(p[1] is plan.points[0][1] and np.array_equal(p[1], y) for p in plan.points)
    assert len(plan.points) == 1 + 4 * z.size
    outputs = [softmax_ce(*p) for p in plan.points]  # "remote", in one batch
    dout = 0.7
    verdict = judge(plan, outputs, softmax_ce_vjp(z, y, dout), dout)
    assert verdict.passed and verdict["logits"].status == "pass"
    for (arg, index, value), point in zip(plan.changes(), plan.points[1:]):  # compact form
        moved = plan.points[0][arg].copy()
        moved[index] = value
        assert arg == 0 and np.array_equal(moved, point[0])
    again = plan_check([z, y], mode="auto", rng=0)
    assert all(
        all(np.array_equal(a, b) for a, b in zip(p, q))
        for p, q in zip(again.points, plan_check([z, y], mode="auto", rng=0).points)
    )


def test_check_vjp_continues_from_an_evaluated_batch():
    rng = np.random.default_rng(5)
    x, dout = rng.standard_normal(200), rng.standard_normal(200)
    f32 = in_float32(np.sin)
    good = dout * np.cos(x.astype(np.float32)).astype(np.float64)
    calls = []

    def f_batch(points):
        calls.append(len(points))
        return [f32(*p) for p in points]

    plan = plan_check([x], rng=1)
    outputs = [f32(*p) for p in plan.points]  # e.g. sent with other worker requests
    verdict = check_vjp(f_batch, [x], [good], dout, evaluated=(plan, outputs), rng=2)
    assert verdict.passed and verdict.precision == "float32"
    assert len(calls) == 1  # only the float32 redo
    # a float64 function: a failure at float64 steps stands (no float32 redo weakens it)
    bad = check_vjp(
        local(np.sin), [x], [1.001 * dout * np.cos(x)], dout, evaluated=(plan, [np.sin(*p) for p in plan.points]), rng=2
    )
    assert bad.status == "fail" and bad.precision == "float64"


def test_rel_error():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error(1.5, -1.5) == 1.0
    assert rel_error(0.0, 1e-12) == pytest.approx(1e-4)
    assert rel_error([], []) == 0.0
