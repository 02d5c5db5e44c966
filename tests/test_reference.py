"""The reference solution against the numerical core, and the lecture's worked examples, exactly."""

import numpy as np
import pytest

from gradcheck import assert_vjp
from gradcheck.reference import gates as G
from gradcheck.reference import graph as graph_module
from gradcheck.reference import mlp as mlp_module

RNG = np.random.default_rng(20261126)


def gate_check(gate_cls, inputs, args=(), wrt=None):
    """backward of a fresh gate under a random dout, against centered differences of forward."""

    def f(*xs):
        return gate_cls(*args).forward(*xs)

    def backward(dout):
        gate = gate_cls(*args)
        gate.forward(*[np.array(x) for x in inputs])
        grads = gate.backward(dout)
        return list(grads)[: len(wrt) if wrt else len(inputs)]

    assert_vjp(f, inputs, backward, wrt=wrt, rng=0)


def away(shape, lo=0.2, hi=2.0):
    return RNG.choice([-1.0, 1.0], shape) * RNG.uniform(lo, hi, shape)


ELEMENTWISE = [
    (G.AddGate, 2, ()),
    (G.MultiplyGate, 2, ()),
    (G.ExpGate, 1, ()),
    (G.InverseGate, 1, ()),
    (G.AddConstantGate, 1, (0.7,)),
    (G.ScaleGate, 1, (-1.3,)),
    (G.SigmoidGate, 1, ()),
    (G.TanhGate, 1, ()),
    (G.ReLUGate, 1, ()),
]


@pytest.mark.parametrize("shape", [(), (1,), (4,), (2, 3), (3, 1, 2)])
@pytest.mark.parametrize("gate,arity,args", ELEMENTWISE, ids=[g[0].__name__ for g in ELEMENTWISE])
def test_elementwise_gates_match_centered_differences(gate, arity, args, shape):
    gate_check(gate, [away(shape) for _ in range(arity)], args)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_max_gate_routes_the_gradient(shape):
    x = RNG.uniform(-2, 2, shape)
    y = x + away(shape, 0.1, 1.0)  # no ties
    gate_check(G.MaxGate, [x, y])
    gate = G.MaxGate()
    gate.forward(x, y)
    dx, dy = gate.backward(np.ones(shape))
    assert np.array_equal(dx + dy, np.ones(shape))


@pytest.mark.parametrize("m,n,k", [(2, 3, 4), (1, 3, 1), (4, 1, 2), (3, 3, 3)])
def test_matmul_gate_non_square(m, n, k):
    W, X = RNG.normal(size=(m, n)), RNG.normal(size=(n, k))
    gate_check(G.MatMulGate, [W, X])
    gate = G.MatMulGate()
    assert gate.forward(W, X).shape == (m, k)
    dW, dX = gate.backward(RNG.normal(size=(m, k)))
    assert dW.shape == W.shape and dX.shape == X.shape


@pytest.mark.parametrize("n,c", [(1, 3), (5, 4), (8, 10)])
def test_softmax_cross_entropy_gate(n, c):
    scores, labels = RNG.normal(0, 3, (n, c)), RNG.integers(0, c, n)
    gate_check(G.SoftmaxCrossEntropyGate, [scores, labels], wrt=[0])


def test_softmax_is_stable_for_huge_scores():
    gate = G.SoftmaxCrossEntropyGate()
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = gate.forward(np.array([[1000.0, 0.0, -1000.0]]), np.array([1]))
        (dscores,) = gate.backward()
    assert loss == pytest.approx(1000.0)
    assert np.all(np.isfinite(dscores))


def test_sigmoid_neither_overflows_nor_warns():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        z = G.SigmoidGate().forward(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0]))
    assert z[0] == 0.0 and z[2] == 0.5 and z[-1] == 1.0


def test_gates_do_not_modify_their_inputs():
    x, y = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    for gate, arity, args in ELEMENTWISE:
        inputs = [x.copy(), y.copy()][:arity]
        g = gate(*args)
        g.forward(*inputs)
        g.backward(np.ones((2, 3)))
        assert np.array_equal(inputs[0], x) and (arity == 1 or np.array_equal(inputs[1], y)), gate.__name__


# ------------------------------------------------------------------------ the lecture's examples


def test_lecture_example_add_multiply():
    g = graph_module.ComputationalGraph()
    x, y, z = g.input("x"), g.input("y"), g.input("z")
    q = g.gate(G.AddGate(), x, y)
    g.gate(G.MultiplyGate(), q, z)
    assert g.forward({"x": -2.0, "y": 5.0, "z": -4.0}) == -12.0
    grads = g.backward()
    assert (grads["x"], grads["y"], grads["z"]) == (-4.0, -4.0, 3.0)


def test_lecture_sigmoid_neuron_from_gates():
    g = graph_module.ComputationalGraph()
    w0, x0, w1, x1, w2 = (g.input(n) for n in ("w0", "x0", "w1", "x1", "w2"))
    s = g.gate(G.AddGate(), g.gate(G.AddGate(), g.gate(G.MultiplyGate(), w0, x0), g.gate(G.MultiplyGate(), w1, x1)), w2)
    e = g.gate(G.ExpGate(), g.gate(G.ScaleGate(-1.0), s))
    g.gate(G.InverseGate(), g.gate(G.AddConstantGate(1.0), e))
    out = g.forward({"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0})
    grads = g.backward()
    assert round(float(out), 2) == 0.73
    assert [round(float(grads[k]), 2) for k in ("w0", "w1", "w2")] == [-0.20, -0.39, 0.20]
    assert [round(float(grads[k]), 2) for k in ("x0", "x1")] == [0.39, -0.59]


def test_lecture_softmax_loss_cat():
    loss = G.SoftmaxCrossEntropyGate().forward(np.array([[3.2, 5.1, -1.7]]), np.array([0]))
    assert round(loss, 2) == 2.04


# --------------------------------------------------------------------------------- the graph


def graph_function(nodes, names):
    """f(*inputs) and its backward through the reference graph, for assert_vjp."""

    def make():
        g = graph_module.ComputationalGraph()
        handles = [g.input(n) for n in names]
        for gate, ins in nodes:
            handles.append(g.gate(gate(), *[handles[i] for i in ins]))
        return g

    def f(*xs):
        return make().forward(dict(zip(names, xs)))

    def backward_at(xs):
        def backward(dout):
            g = make()
            g.forward(dict(zip(names, xs)))
            grads = g.backward(dout)
            return [grads[n] for n in names]

        return backward

    return f, backward_at


def test_graph_with_branches_and_shared_node():
    # q = x + y feeds two gates; x feeds two gates; x * x uses one node twice
    nodes = [
        (G.AddGate, [0, 1]),
        (G.MultiplyGate, [2, 0]),
        (G.SigmoidGate, [2]),
        (G.MultiplyGate, [0, 0]),
        (G.AddGate, [3, 4]),
        (G.AddGate, [6, 5]),
    ]
    f, backward_at = graph_function(nodes, ["x", "y"])
    xs = [RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))]
    assert_vjp(f, xs, backward_at(xs), rng=1)


def test_graph_x_times_x():
    f, backward_at = graph_function([(G.MultiplyGate, [0, 0])], ["x"])
    assert backward_at([np.array(3.0)])(np.array(1.0))[0] == 6.0


def test_graph_unused_input_gets_zeros_of_its_shape_and_second_forward():
    g = graph_module.ComputationalGraph()
    x, y = g.input("x"), g.input("y")
    g.input("z")  # reaches nothing
    g.gate(G.MultiplyGate(), x, y)
    g.forward({"x": np.ones(3), "y": np.ones(3), "z": np.ones((2, 2))})
    out = g.forward({"x": np.full(3, 2.0), "y": np.full(3, 5.0), "z": np.ones((2, 2))})
    grads = g.backward(np.full(3, 0.5))
    assert np.array_equal(out, np.full(3, 10.0))
    assert np.array_equal(grads["x"], np.full(3, 2.5)) and np.array_equal(grads["z"], np.zeros((2, 2)))


# ----------------------------------------------------------------------------------- the MLP


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("sizes,n", [([4, 5, 3], 6), ([3, 4, 4, 2], 1), ([4, 3], 5)])
def test_mlp_gradients_match_centered_differences(activation, sizes, n):
    net = mlp_module.MLP(sizes, activation, seed=3)
    X, y = RNG.normal(size=(n, sizes[0])), RNG.integers(0, sizes[-1], n)
    names = sorted(net.params)
    _, grads = net.loss(X, y)

    def loss_at(*params):
        other = mlp_module.MLP(sizes, activation)
        other.params = dict(zip(names, params))
        return other.loss(X, y)[0]

    assert_vjp(
        loss_at, [net.params[k] for k in names], [grads[k] for k in names], dout=np.array(1.0), names=names, rng=2
    )
    assert {k: v.shape for k, v in grads.items()} == {k: v.shape for k, v in net.params.items()}


def test_mlp_params_layout_and_reads_params_at_every_call():
    net = mlp_module.MLP([3, 4, 4, 2], activation="sigmoid", seed=0)
    assert {k: v.shape for k, v in net.params.items()} == {
        "W1": (4, 3),
        "b1": (4,),
        "W2": (4, 4),
        "b2": (4,),
        "W3": (2, 4),
        "b3": (2,),
    }
    X = RNG.normal(size=(5, 3))
    net.params["W3"] = np.zeros((2, 4))
    net.params["b3"] = np.array([1.0, -1.0])
    assert np.array_equal(net.forward(X), np.tile([1.0, -1.0], (5, 1)))


def test_sgd_step_semantics():
    net = mlp_module.MLP([4, 5, 3], "tanh", seed=1)
    X, y = RNG.normal(size=(6, 4)), RNG.integers(0, 3, 6)
    before = {k: v.copy() for k, v in net.params.items()}
    loss, grads = net.loss(X, y)
    returned = net.sgd_step(X, y, 0.1)
    assert returned == loss
    for k in before:
        np.testing.assert_allclose(net.params[k], before[k] - 0.1 * grads[k], rtol=1e-12, atol=1e-15)


def test_train_lowers_the_loss_and_is_reproducible():
    rng = np.random.default_rng(0)
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    y = np.arange(90) % 3
    X = centers[y] + rng.normal(0, 0.6, (90, 2))
    losses = mlp_module.train(mlp_module.MLP([2, 8, 3], "relu", seed=0), X, y, lr=0.5, batch_size=16, steps=100, seed=4)
    again = mlp_module.train(mlp_module.MLP([2, 8, 3], "relu", seed=0), X, y, lr=0.5, batch_size=16, steps=100, seed=4)
    assert len(losses) == 100 and losses == again
    assert np.mean(losses[-10:]) < 0.3 * np.mean(losses[:10])
    # batch_size >= N uses all rows: the first loss is the full-batch loss
    full = mlp_module.train(mlp_module.MLP([2, 8, 3], "relu", seed=0), X, y, batch_size=500, steps=1, seed=0)
    assert full[0] == pytest.approx(mlp_module.MLP([2, 8, 3], "relu", seed=0).loss(X, y)[0], rel=1e-12)
