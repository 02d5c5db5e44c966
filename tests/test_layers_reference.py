"""The layers assignment's model solution (gradcheck/assignments/layers/reference/) against centered
differences, direct loops and known values; and the example submissions (examples/layers) against it:
the honest ones give the reference's outputs and gradients, each bug example differs from it exactly
where its bug is."""

import copy
import functools
import importlib.util
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from gradcheck.assignment import load_assignment
from gradcheck.assignment.reference import reference_module
from gradcheck.numerics import numerical_vjp

# the model solution as the grader imports it (from the bundled folder, under private module names)
L = reference_module(load_assignment("layers"), "layers")
fc_net = reference_module(load_assignment("layers"), "fc_net")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "layers"
RNG = np.random.default_rng(20260513)


def close(a, b, rtol):
    """Same shape and max |a - b| <= rtol * max |b|: relative to the array's scale, so that entries
    near zero do not turn roundoff into failures."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-300)
    return a.shape == b.shape and float(np.max(np.abs(a - b), initial=0.0)) <= rtol * scale


def assert_gradients(f, inputs, backward, wrt=None):
    """backward(dout) (the analytic gradients of the inputs in wrt, in order) against centered
    differences of <dout, f(*inputs)> for a random dout of f's shape, in float64."""
    wrt = list(range(len(inputs))) if wrt is None else wrt
    dout = RNG.standard_normal(np.shape(f(*[np.copy(x) for x in inputs])))
    analytic = backward(dout)
    analytic = [analytic] if len(wrt) == 1 and isinstance(analytic, np.ndarray) else list(analytic)
    numeric = numerical_vjp(f, inputs, dout, wrt=wrt)
    for k, i in enumerate(wrt):
        assert analytic[k].shape == np.shape(inputs[i]), f"input {i}: shape {analytic[k].shape}"
        assert close(analytic[k], numeric[i], 1e-6), f"input {i}: {analytic[k]} vs numerical {numeric[i]}"


def away(shape, lo=0.1, hi=2.0, rng=RNG):
    """Random values of both signs, at least lo from zero (no ReLU kink within a step)."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(lo, hi, shape)


def no_ties(shape, rng=RNG):
    """Random values at least 0.05 apart from one another (no tie in any pooling window)."""
    n = math.prod(shape)
    return (rng.permutation(n) * 0.1 + rng.uniform(0, 0.05, n) - n * 0.05).reshape(shape)


# ------------------------------------------------------------------------- gradients of the reference


@pytest.mark.parametrize("x_shape,m", [((4, 6), 5), ((3, 2, 5), 4), ((1, 7), 1)])
def test_affine_gradients(x_shape, m):
    x, w, b = RNG.normal(size=x_shape), RNG.normal(size=(math.prod(x_shape[1:]), m)), RNG.normal(size=m)
    out, cache = L.affine_forward(x, w, b)
    assert np.allclose(out, x.reshape(len(x), -1) @ w + b)
    assert_gradients(lambda *a: L.affine_forward(*a)[0], [x, w, b], lambda d: L.affine_backward(d, cache))


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 2)])
def test_relu_gradient(shape):
    x = away(shape)
    out, cache = L.relu_forward(x)
    assert np.array_equal(out, np.where(x > 0, x, 0.0))
    assert_gradients(lambda x: L.relu_forward(x)[0], [x], lambda d: L.relu_backward(d, cache))


@pytest.mark.parametrize("n,d", [(2, 3), (6, 4), (10, 1)])
def test_batchnorm_gradients(n, d):
    x, gamma, beta = RNG.normal(1.0, 2.0, (n, d)), RNG.uniform(0.5, 2.0, d), RNG.normal(size=d)

    def f(x, gamma, beta):
        return L.batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 1e-3})[0]

    _, cache = L.batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 1e-3})
    assert_gradients(f, [x, gamma, beta], lambda dout: L.batchnorm_backward(dout, cache))


def test_dropout_gradient():
    x, param = RNG.normal(size=(6, 5)), {"p": 0.7, "mode": "train", "seed": 11}
    _, cache = L.dropout_forward(x, param)
    assert_gradients(lambda x: L.dropout_forward(x, param)[0], [x], lambda d: L.dropout_backward(d, cache))


CONV_CASES = [  # x shape, w shape, stride, pad; (H + 2 pad - HH) and (W + 2 pad - WW) divide by the stride
    ((2, 3, 5, 5), (2, 3, 3, 3), 1, 1),
    ((1, 2, 7, 5), (3, 2, 3, 1), 2, 1),
    ((2, 1, 6, 6), (2, 1, 2, 2), 2, 0),
    ((1, 2, 4, 6), (1, 2, 1, 3), 1, 0),
    ((1, 1, 7, 10), (2, 1, 3, 3), 3, 1),
]
POOL_CASES = [  # x shape, pool height, pool width, stride
    ((2, 3, 4, 4), 2, 2, 2),
    ((1, 2, 5, 6), 3, 2, 2),
    ((2, 2, 5, 5), 3, 3, 1),
    ((1, 1, 6, 4), 2, 1, 1),
]


@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CONV_CASES[:3])
def test_conv_gradients(x_shape, w_shape, stride, pad):
    x, w, b = RNG.normal(size=x_shape), RNG.normal(size=w_shape), RNG.normal(size=w_shape[0])
    param = {"stride": stride, "pad": pad}
    _, cache = L.conv_forward_naive(x, w, b, param)
    f = lambda x, w, b: L.conv_forward_naive(x, w, b, param)[0]  # noqa: E731
    assert_gradients(f, [x, w, b], lambda d: L.conv_backward_naive(d, cache))


@pytest.mark.parametrize("x_shape,ph,pw,stride", POOL_CASES[:3])
def test_max_pool_gradient(x_shape, ph, pw, stride):
    x, param = no_ties(x_shape), {"pool_height": ph, "pool_width": pw, "stride": stride}
    assert L.max_pool_tie_distance(x, param) >= 0.05
    _, cache = L.max_pool_forward_naive(x, param)
    f = lambda x: L.max_pool_forward_naive(x, param)[0]  # noqa: E731
    assert_gradients(f, [x], lambda d: L.max_pool_backward_naive(d, cache))


@pytest.mark.parametrize("n,c", [(1, 3), (5, 4), (8, 10)])
@pytest.mark.parametrize("loss", [L.softmax_loss, L.svm_loss], ids=["softmax", "svm"])
def test_loss_gradients(loss, n, c):
    x, y = RNG.normal(0.0, 2.0, (n, c)), RNG.integers(0, c, n)
    while L.svm_loss_kink_distance(x, y) < 1e-3:  # a kink within a step: redraw (never in most draws)
        x = RNG.normal(0.0, 2.0, (n, c))
    value, dx = loss(x, y)
    assert isinstance(value, float)
    numeric = numerical_vjp(lambda x: loss(x, y)[0], [x], np.float64(1.0))[0]
    assert close(dx, numeric, 1e-6)


def test_two_layer_net_gradients_with_reg():
    net = fc_net.TwoLayerNet(input_dim=6, hidden_dim=5, num_classes=4, weight_scale=0.5, reg=0.7)
    X, y = RNG.normal(size=(7, 3, 2)), RNG.integers(0, 4, 7)
    names = ["W1", "b1", "W2", "b2"]
    params = [net.params[k] + 0.1 * RNG.normal(size=net.params[k].shape) for k in names]

    def f(*values):
        net.params.update(zip(names, values))
        return net.loss(X, y)[0]

    f(*params)
    assert min(abs(X.reshape(7, -1) @ params[0] + params[1]).ravel()) > 1e-3  # no ReLU kink within a step
    loss, grads = net.loss(X, y)
    numeric = numerical_vjp(f, params, np.float64(1.0))
    for k, name in enumerate(names):
        assert close(grads[name], numeric[k], 1e-6), name


# ----------------------------------------------------------------------------------- batch norm


def test_batchnorm_train_updates_the_running_averages_in_the_dict_and_nothing_else():
    x, gamma, beta = RNG.normal(3.0, 2.0, (8, 4)), RNG.uniform(0.5, 2.0, 4), RNG.normal(size=4)
    running_mean, running_var = RNG.normal(size=4), RNG.uniform(0.5, 2.0, 4)
    param = {"mode": "train", "eps": 1e-3, "momentum": 0.8, "running_mean": running_mean, "running_var": running_var}
    given = copy.deepcopy([x, gamma, beta, running_mean, running_var])
    out, _ = L.batchnorm_forward(x, gamma, beta, param)
    mean, var = x.mean(axis=0), x.var(axis=0)
    assert np.allclose(out, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-12, atol=1e-12)
    assert np.allclose(param["running_mean"], 0.8 * running_mean + 0.2 * mean, rtol=1e-12, atol=0)
    assert np.allclose(param["running_var"], 0.8 * running_var + 0.2 * var, rtol=1e-12, atol=0)
    assert sorted(param) == ["eps", "mode", "momentum", "running_mean", "running_var"]
    assert (param["mode"], param["eps"], param["momentum"]) == ("train", 1e-3, 0.8)
    # the arrays it was given, the old running averages included, are as they were
    assert all(np.array_equal(a, b) for a, b in zip([x, gamma, beta, running_mean, running_var], given))


def test_batchnorm_defaults_when_the_dict_holds_only_the_mode():
    x, gamma, beta = RNG.normal(size=(5, 3)), np.ones(3), np.zeros(3)
    param = {"mode": "train"}
    out, _ = L.batchnorm_forward(x, gamma, beta, param)
    assert np.allclose(out, (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5), rtol=1e-12, atol=1e-12)
    assert sorted(param) == ["mode", "running_mean", "running_var"]
    assert np.allclose(param["running_mean"], 0.1 * x.mean(axis=0)) and np.allclose(
        param["running_var"], 0.1 * x.var(axis=0)
    )


def test_batchnorm_test_mode_uses_the_running_averages_and_changes_nothing():
    x, gamma, beta = RNG.normal(size=(5, 3)), RNG.uniform(0.5, 2.0, 3), RNG.normal(size=3)
    param = {"mode": "test", "running_mean": RNG.normal(size=3), "running_var": RNG.uniform(0.5, 2.0, 3)}
    given = copy.deepcopy(param)
    out, _ = L.batchnorm_forward(x, gamma, beta, param)
    expected = gamma * (x - given["running_mean"]) / np.sqrt(given["running_var"] + 1e-5) + beta
    assert np.allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert param.keys() == given.keys() and all(np.array_equal(param[k], given[k]) for k in given)


def test_batchnorm_running_averages_converge_to_the_batch_statistics():
    x, param = RNG.normal(2.0, 3.0, (16, 2)), {"mode": "train"}
    for _ in range(300):
        L.batchnorm_forward(x, np.ones(2), np.zeros(2), param)
    assert np.allclose(param["running_mean"], x.mean(axis=0)) and np.allclose(param["running_var"], x.var(axis=0))
    test_out, _ = L.batchnorm_forward(x, np.ones(2), np.zeros(2), {**param, "mode": "test"})
    train_out, _ = L.batchnorm_forward(x, np.ones(2), np.zeros(2), {"mode": "train"})
    assert np.allclose(test_out, train_out)


# ------------------------------------------------------------------------------------- dropout


def test_dropout_mask_is_the_contracts_rule_and_is_scaled_by_one_over_p():
    x, p = RNG.normal(size=(60, 50)), 0.3
    param = {"p": p, "mode": "train", "seed": 7}
    out, cache = L.dropout_forward(x, param)
    np.random.seed(7)
    mask = (np.random.rand(60, 50) < p) / p
    assert np.array_equal(out, x * mask)
    assert abs(np.mean(mask > 0) - p) < 0.03 and set(np.unique(mask)) == {0.0, 1 / p}
    assert np.array_equal(L.dropout_forward(x, param)[0], out)  # the seed makes it deterministic
    assert not np.array_equal(L.dropout_forward(x, {**param, "seed": 8})[0], out)
    np.random.seed(7)
    assert np.array_equal(L.dropout_forward(x, {"p": p, "mode": "train"})[0], out)  # no seed: the global state
    dout = RNG.normal(size=x.shape)
    assert np.array_equal(L.dropout_backward(dout, cache), dout * mask)
    assert param == {"p": p, "mode": "train", "seed": 7}


def test_inverted_dropout_keeps_the_expected_value_and_test_mode_is_the_identity():
    x = np.ones((400, 250))
    out, _ = L.dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 0})
    assert abs(out.mean() - 1.0) < 0.01
    x = RNG.normal(size=(4, 3))
    out, cache = L.dropout_forward(x, {"p": 0.5, "mode": "test", "seed": 0})
    dout = RNG.normal(size=x.shape)
    assert np.array_equal(out, x) and np.array_equal(L.dropout_backward(dout, cache), dout)


# ------------------------------------------------------------------ conv and max pool against loops


def conv_loops(x, w, b, stride, pad, dout):
    """The convolution and its gradients one output element at a time."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    (n, _, h, v), (f, _, hh, ww) = x.shape, w.shape
    ho, wo = 1 + (h + 2 * pad - hh) // stride, 1 + (v + 2 * pad - ww) // stride
    out, dxp, dw, db = np.zeros((n, f, ho, wo)), np.zeros(xp.shape), np.zeros(w.shape), np.zeros(f)
    for k, g, i, j in np.ndindex(n, f, ho, wo):
        window = np.s_[k, :, i * stride : i * stride + hh, j * stride : j * stride + ww]
        out[k, g, i, j] = np.sum(xp[window] * w[g]) + b[g]
        dxp[window] += w[g] * dout[k, g, i, j]
        dw[g] += xp[window] * dout[k, g, i, j]
        db[g] += dout[k, g, i, j]
    return out, dxp[:, :, pad : pad + h, pad : pad + v], dw, db


def pool_loops(x, ph, pw, stride, dout, to_all=False):
    """Max pooling and its gradient one window at a time (to_all: the gradient sent to every element)."""
    n, c, h, v = x.shape
    ho, wo = 1 + (h - ph) // stride, 1 + (v - pw) // stride
    out, dx = np.zeros((n, c, ho, wo)), np.zeros(x.shape)
    for k, m, i, j in np.ndindex(n, c, ho, wo):
        window = x[k, m, i * stride : i * stride + ph, j * stride : j * stride + pw]
        out[k, m, i, j] = window.max()
        if to_all:
            dx[k, m, i * stride : i * stride + ph, j * stride : j * stride + pw] += dout[k, m, i, j]
        else:
            a, e = np.unravel_index(window.argmax(), window.shape)
            dx[k, m, i * stride + a, j * stride + e] += dout[k, m, i, j]
    return out, dx


@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CONV_CASES)
def test_conv_equals_loops(x_shape, w_shape, stride, pad):
    x, w, b = RNG.normal(size=x_shape), RNG.normal(size=w_shape), RNG.normal(size=w_shape[0])
    param = {"stride": stride, "pad": pad}
    out, cache = L.conv_forward_naive(x, w, b, param)
    dout = RNG.normal(size=out.shape)
    expected = conv_loops(x, w, b, stride, pad, dout)
    assert out.shape == (
        x_shape[0],
        w_shape[0],
        1 + (x_shape[2] + 2 * pad - w_shape[2]) // stride,
        expected[0].shape[3],
    )
    for got, want in zip([out, *L.conv_backward_naive(dout, cache)], expected):
        assert close(got, want, 1e-12)


@pytest.mark.parametrize("x_shape,ph,pw,stride", POOL_CASES)
def test_max_pool_equals_loops(x_shape, ph, pw, stride):
    x, param = no_ties(x_shape), {"pool_height": ph, "pool_width": pw, "stride": stride}
    out, cache = L.max_pool_forward_naive(x, param)
    dout = RNG.normal(size=out.shape)
    want_out, want_dx = pool_loops(x, ph, pw, stride, dout)
    assert np.array_equal(out, want_out) and close(L.max_pool_backward_naive(dout, cache), want_dx, 1e-15)


# ----------------------------------------------------------------------------- losses: known values

LECTURE_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])  # cat, car, frog images


def test_svm_loss_of_the_lecture_example():
    loss, dx = L.svm_loss(LECTURE_SCORES, np.array([0, 1, 2]))
    assert loss == pytest.approx((2.9 + 0.0 + 12.9) / 3)
    assert np.allclose(dx, np.array([[-1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, -2.0]]) / 3)


def test_softmax_loss_known_values_and_stability():
    loss, _ = L.softmax_loss(LECTURE_SCORES[:1], np.array([0]))
    assert round(loss, 2) == 2.04
    y = np.array([0, 2, 1, 1])
    loss, dx = L.softmax_loss(np.zeros((4, 3)), y)
    assert loss == pytest.approx(math.log(3)) and np.allclose(dx, (1 / 3 - np.eye(3)[y]) / 4)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, dx = L.softmax_loss(np.array([[1000.0, 0.0, -1000.0]]), np.array([1]))
    assert loss == pytest.approx(1000.0) and np.all(np.isfinite(dx))


def test_kink_and_tie_distances():
    assert L.svm_loss_kink_distance(LECTURE_SCORES, np.array([0, 1, 2])) == pytest.approx(1.9)  # |2.0 - 4.9 + 1|
    assert L.svm_loss_kink_distance(np.array([[0.5, 1.5]]), np.array([1])) == 0.0
    assert L.svm_loss_kink_distance(np.array([[2.0], [3.0]]), np.array([0, 0])) == math.inf  # one class
    x, param = np.arange(16.0).reshape(1, 1, 4, 4), {"pool_height": 2, "pool_width": 2, "stride": 2}
    assert L.max_pool_tie_distance(x, param) == 1.0
    x[0, 0, 0, 0] = 5.0  # ties the window's 5
    assert L.max_pool_tie_distance(x, param) == 0.0
    assert L.max_pool_tie_distance(x, {"pool_height": 1, "pool_width": 1, "stride": 1}) == math.inf


# ------------------------------------------------------------------------------------ TwoLayerNet


def test_two_layer_net_init_scores_and_reg():
    np.random.seed(3)
    net = fc_net.TwoLayerNet(input_dim=40, hidden_dim=30, num_classes=7, weight_scale=0.01, reg=0.25)
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (40, 30), "b1": (30,), "W2": (30, 7), "b2": (7,)}
    assert not net.params["b1"].any() and not net.params["b2"].any()
    assert 0.009 < net.params["W1"].std() < 0.011 and abs(net.params["W1"].mean()) < 0.001
    np.random.seed(3)
    assert np.array_equal(fc_net.TwoLayerNet(40, 30, 7, 0.01).params["W2"], net.params["W2"])

    X, y = RNG.normal(size=(6, 5, 8)), RNG.integers(0, 7, 6)
    net.params = {k: RNG.normal(size=s) for k, s in shapes.items()}  # the grader may replace the params
    P = net.params
    scores = net.loss(X)
    expected = np.maximum(X.reshape(6, -1) @ P["W1"] + P["b1"], 0.0) @ P["W2"] + P["b2"]
    assert np.allclose(scores, expected, rtol=1e-12, atol=1e-12)
    loss, grads = net.loss(X, y)
    reg = 0.5 * 0.25 * (np.sum(P["W1"] ** 2) + np.sum(P["W2"] ** 2))
    assert loss == pytest.approx(L.softmax_loss(expected, y)[0] + reg, rel=1e-12)
    assert {k: g.shape for k, g in grads.items()} == shapes
    net.params["W2"] = np.zeros((30, 7))
    assert np.allclose(net.loss(X), P["b2"])  # read again at every call


def test_two_layer_net_with_zero_weights_has_loss_log_c():
    net = fc_net.TwoLayerNet(input_dim=4, hidden_dim=3, num_classes=5, reg=10.0)
    net.params.update(W1=np.zeros((4, 3)), W2=np.zeros((3, 5)))
    loss, grads = net.loss(RNG.normal(size=(2, 4)), np.array([1, 3]))
    assert loss == pytest.approx(math.log(5)) and not grads["W1"].any()


# ------------------------------------------------------------------------- the example submissions

# honest ones equal the reference within 1e-6 relative (float32-inside measured at 2e-7 on these inputs)
HONEST = ["correct", "dict-caches", "float32-inside", "loops-everywhere"]
# each bug example: the outputs that differ from the reference's (examples/layers/README.md); TwoLayerNet
# is built from the student's own layers, so a wrong affine db also shows in its bias gradients
BUGS = {
    "bias-not-summed": {"affine.db", "net.b1", "net.b2"},
    "batchnorm-missing-mean-terms": {"batchnorm.dx"},
    "dropout-mask-not-in-backward": {"dropout.dx"},
    "conv-flipped-kernel": {"conv.s1p1.dx", "conv.s2p1.dx"},
    "maxpool-gradient-to-all": {"pool.2x2s2.dx", "pool.3x2s1.dx"},
    "svm-counts-correct-class": {"svm.loss"},
    "dropout-no-scaling": {"dropout.out", "dropout.dx"},
}


def load_example(name):
    """An example's layers and fc_net modules, loaded from their files under private module names.
    Called only in the child process of ``example_outputs``: examples are student code, never imported
    by the test process itself. fc_net's ``from layers import *`` finds the example's own layers through
    sys.modules["layers"], set only while fc_net is imported."""
    modules, saved = {}, sys.modules.get("layers")
    try:
        for stem in ("layers", "fc_net"):
            private = f"_layers_example_{name.replace('-', '_')}_{stem}"
            spec = importlib.util.spec_from_file_location(private, EXAMPLES / name / f"{stem}.py")
            module = importlib.util.module_from_spec(spec)
            if stem == "fc_net":
                sys.modules["layers"] = modules["layers"]
            spec.loader.exec_module(module)
            modules[stem] = module
    finally:
        if saved is None:
            sys.modules.pop("layers", None)
        else:
            sys.modules["layers"] = saved
    return modules["layers"], modules["fc_net"]


_CHILD = """
import sys
import numpy as np
sys.path.insert(0, {tests!r})
import test_layers_reference as t
np.savez({out!r}, **{{k: np.asarray(v, dtype=np.float64) for k, v in t.outputs(*t.load_example({name!r})).items()}})
"""


@functools.cache
def example_outputs(name):
    """``outputs`` of an example, computed in a child process of its own (examples are student code:
    the test process never imports them), read back as plain arrays (no pickle)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "outputs.npz"
        code = _CHILD.format(tests=str(Path(__file__).parent), out=str(out), name=name)
        done = subprocess.run([sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        with np.load(out, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}


def _draw_inputs():
    rng = np.random.default_rng(7)
    svm_x, labels = rng.normal(0.0, 2.0, (6, 5)), rng.integers(0, 5, 6)
    assert L.svm_loss_kink_distance(svm_x, labels) > 1e-2
    return {
        "affine": (rng.normal(size=(4, 2, 3)), rng.normal(size=(6, 5)), rng.normal(size=5)),
        "affine.dout": rng.normal(size=(4, 5)),
        "relu": away((3, 4), rng=rng),
        "relu.dout": rng.normal(size=(3, 4)),
        "batchnorm": (rng.normal(1.0, 2.0, (6, 4)), rng.uniform(0.5, 2.0, 4), rng.normal(size=4)),
        "batchnorm.running": (rng.normal(size=4), rng.uniform(0.5, 2.0, 4)),
        "batchnorm.dout": rng.normal(size=(6, 4)),
        "dropout": rng.normal(size=(5, 6)),
        "dropout.dout": rng.normal(size=(5, 6)),
        "conv": (rng.normal(size=(2, 3, 5, 5)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)),
        "conv.s1p1.dout": rng.normal(size=(2, 2, 5, 5)),
        "conv.s2p1.dout": rng.normal(size=(2, 2, 3, 3)),
        "pool": no_ties((2, 2, 6, 6), rng=rng),
        "pool.2x2s2.dout": rng.normal(size=(2, 2, 3, 3)),
        "pool.3x2s1.dout": rng.normal(size=(2, 2, 4, 5)),
        "softmax": (rng.normal(0.0, 2.0, (6, 5)), labels),
        "svm": (svm_x, labels),
        "net": (rng.normal(size=(5, 2, 3)), rng.integers(0, 4, 5)),
        "net.params": {
            "W1": rng.normal(size=(6, 7)),
            "b1": rng.normal(size=7),
            "W2": rng.normal(size=(7, 4)),
            "b2": rng.normal(size=4),
        },
    }


INPUTS = _draw_inputs()
DROPOUT = {"p": 0.6, "mode": "train", "seed": 3}
CONV = {"s1p1": {"stride": 1, "pad": 1}, "s2p1": {"stride": 2, "pad": 1}}
POOL = {
    "2x2s2": {"pool_height": 2, "pool_width": 2, "stride": 2},
    "3x2s1": {"pool_height": 3, "pool_width": 2, "stride": 1},
}


def call(fn, *args, cache=()):
    """fn on deep copies of args (then the cache as it is); fails if fn changed an array it was given
    (in a dict, the running averages aside: batchnorm_forward updates them, as the API says)."""
    copies = copy.deepcopy(args)
    result = fn(*copies, *cache)
    for given, now in zip(args, copies):
        if isinstance(given, dict):
            given = {k: v for k, v in given.items() if k not in ("running_mean", "running_var")}
            now = {k: v for k, v in now.items() if k not in ("running_mean", "running_var")}
            assert given.keys() == now.keys()
            given, now = list(given.values()), list(now.values())
        else:
            given, now = [given], [now]
        assert all(np.array_equal(a, b) for a, b in zip(given, now)), f"{fn.__name__} changed its input"
    return result


def outputs(layers, net_module):
    """Every output, gradient and running average of a submission on INPUTS, by name."""
    inp, out = INPUTS, {}
    y, cache = call(layers.affine_forward, *inp["affine"])
    dx, dw, db = call(layers.affine_backward, inp["affine.dout"], cache=(cache,))
    out.update({"affine.out": y, "affine.dx": dx, "affine.dw": dw, "affine.db": db})
    y, cache = call(layers.relu_forward, inp["relu"])
    out.update({"relu.out": y, "relu.dx": call(layers.relu_backward, inp["relu.dout"], cache=(cache,))})
    param = {
        "mode": "train",
        "momentum": 0.7,
        "running_mean": inp["batchnorm.running"][0],
        "running_var": inp["batchnorm.running"][1],
    }
    param = copy.deepcopy(param)
    y, cache = call(layers.batchnorm_forward, *inp["batchnorm"], cache=(param,))
    dx, dgamma, dbeta = call(layers.batchnorm_backward, inp["batchnorm.dout"], cache=(cache,))
    out.update({"batchnorm.out": y, "batchnorm.dx": dx, "batchnorm.dgamma": dgamma, "batchnorm.dbeta": dbeta})
    out.update({"batchnorm.running_mean": param["running_mean"], "batchnorm.running_var": param["running_var"]})
    out["batchnorm.test_out"] = call(layers.batchnorm_forward, *inp["batchnorm"], {**param, "mode": "test"})[0]
    y, cache = call(layers.dropout_forward, inp["dropout"], DROPOUT)
    out.update({"dropout.out": y, "dropout.dx": call(layers.dropout_backward, inp["dropout.dout"], cache=(cache,))})
    y, cache = call(layers.dropout_forward, inp["dropout"], {**DROPOUT, "mode": "test"})
    dx = call(layers.dropout_backward, inp["dropout.dout"], cache=(cache,))
    out.update({"dropout.test_out": y, "dropout.test_dx": dx})
    for name, param in CONV.items():
        y, cache = call(layers.conv_forward_naive, *inp["conv"], param)
        dx, dw, db = call(layers.conv_backward_naive, inp[f"conv.{name}.dout"], cache=(cache,))
        out.update({f"conv.{name}.out": y, f"conv.{name}.dx": dx, f"conv.{name}.dw": dw, f"conv.{name}.db": db})
    for name, param in POOL.items():
        y, cache = call(layers.max_pool_forward_naive, inp["pool"], param)
        out.update(
            {
                f"pool.{name}.out": y,
                f"pool.{name}.dx": call(layers.max_pool_backward_naive, inp[f"pool.{name}.dout"], cache=(cache,)),
            }
        )
    for loss in ("softmax", "svm"):
        out[f"{loss}.loss"], out[f"{loss}.dx"] = call(getattr(layers, f"{loss}_loss"), *inp[loss])
    net = net_module.TwoLayerNet(input_dim=6, hidden_dim=7, num_classes=4, reg=0.3)
    net.params = copy.deepcopy(inp["net.params"])
    out["net.scores"] = call(net.loss, inp["net"][0])
    out["net.loss"], grads = call(net.loss, *inp["net"])
    out.update({f"net.{k}": g for k, g in grads.items()})
    assert all(np.array_equal(net.params[k], v) for k, v in inp["net.params"].items())
    return out


@pytest.fixture(scope="module")
def reference_outputs():
    return outputs(L, fc_net)


def test_the_examples_are_the_documented_ones():
    folders = {p.name for p in EXAMPLES.iterdir() if p.is_dir()}
    assert folders == set(HONEST) | set(BUGS)
    readme = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in folders)
    assert all(
        sorted(p.name for p in (EXAMPLES / n).iterdir() if p.suffix == ".py") == ["fc_net.py", "layers.py"]
        for n in folders
    )


@pytest.mark.system  # the examples run in child processes (example_outputs)
@pytest.mark.parametrize("name", [*HONEST, *BUGS])
def test_example_differs_from_the_reference_exactly_where_its_bug_is(name, reference_outputs):
    got = example_outputs(name)
    assert got.keys() == reference_outputs.keys()
    differ = {k for k, want in reference_outputs.items() if not close(got[k], want, 1e-6)}
    assert differ == BUGS.get(name, set())
    for k in differ:  # a real difference, far beyond roundoff
        assert not close(got[k], reference_outputs[k], 1e-2), k


def _flipped_conv_dx(name):
    x, w, b = INPUTS["conv"]
    _, cache = L.conv_forward_naive(x, w[:, :, ::-1, ::-1], b, CONV[name])
    return L.conv_backward_naive(INPUTS[f"conv.{name}.dout"], cache)[0]


def _bn_dx_without_mean_terms():
    (x, gamma, _), eps = INPUTS["batchnorm"], 1e-5
    return gamma * INPUTS["batchnorm.dout"] / np.sqrt(x.var(axis=0) + eps)


# what each bug example's differing outputs are, computed from the reference and the inputs
BUG_VALUES = {
    "bias-not-summed": lambda ref: {"affine.db": ref["affine.db"] / len(INPUTS["affine"][0])},
    "batchnorm-missing-mean-terms": lambda ref: {"batchnorm.dx": _bn_dx_without_mean_terms()},
    "dropout-mask-not-in-backward": lambda ref: {"dropout.dx": INPUTS["dropout.dout"]},
    "conv-flipped-kernel": lambda ref: {f"conv.{n}.dx": _flipped_conv_dx(n) for n in CONV},
    "maxpool-gradient-to-all": lambda ref: {
        f"pool.{n}.dx": pool_loops(INPUTS["pool"], *p.values(), INPUTS[f"pool.{n}.dout"], to_all=True)[1]
        for n, p in POOL.items()
    },
    "svm-counts-correct-class": lambda ref: {"svm.loss": ref["svm.loss"] + 1.0},
    "dropout-no-scaling": lambda ref: {"dropout.out": ref["dropout.out"] * 0.6, "dropout.dx": ref["dropout.dx"] * 0.6},
}


@pytest.mark.system
@pytest.mark.parametrize("name", BUGS)
def test_each_bug_example_has_the_bug_its_name_says(name, reference_outputs):
    got = example_outputs(name)
    for key, want in BUG_VALUES[name](reference_outputs).items():
        assert close(got[key], want, 1e-12), key


@pytest.mark.system
def test_the_references_bug_gradients_are_the_bug_examples():
    """The reference's functions that give a classic bug's gradients (for the grader's diagnoses)
    return what the example with that bug returns."""
    bug = {name: example_outputs(name) for name in BUGS}
    x, gamma, beta = INPUTS["batchnorm"]
    dx, dgamma, dbeta = L.batchnorm_backward_without_mean_terms(INPUTS["batchnorm.dout"], x, gamma, beta, {})
    got = bug["batchnorm-missing-mean-terms"]
    assert close(dx, got["batchnorm.dx"], 1e-12) and close(dgamma, got["batchnorm.dgamma"], 1e-12)
    assert close(dbeta, got["batchnorm.dbeta"], 1e-12)
    dx = L.dropout_backward_without_mask(INPUTS["dropout.dout"], INPUTS["dropout"], DROPOUT)
    assert close(dx, bug["dropout-mask-not-in-backward"]["dropout.dx"], 1e-12)
    for name, param in CONV.items():
        grads = L.conv_backward_with_flipped_kernel(INPUTS[f"conv.{name}.dout"], *INPUTS["conv"], param)
        got = bug["conv-flipped-kernel"]
        assert all(close(g, got[f"conv.{name}.{k}"], 1e-12) for g, k in zip(grads, ("dx", "dw", "db")))
    for name, param in POOL.items():
        dx = L.max_pool_backward_to_every_element(INPUTS[f"pool.{name}.dout"], INPUTS["pool"], param)
        assert close(dx, bug["maxpool-gradient-to-all"][f"pool.{name}.dx"], 1e-12)
