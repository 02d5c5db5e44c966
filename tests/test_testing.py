"""gradcheck.testing: assertions for students' and instructors' own pytest tests.

Correct code passes (the reference gates, graph and MLP, and the example `correct` submission's
gates); the example submissions' planted bugs fail with messages that read like the report's
feedback: which input, the worst coordinate, expected vs got, and the diagnosis.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from gradcheck import Verdict
from gradcheck.reference import gates as R
from gradcheck.reference import graph as RG
from gradcheck.reference import mlp as RM
from gradcheck.testing import (
    GradcheckAssertionError,
    assert_gate_backward_matches_numerical,
    assert_gate_matches_reference,
    assert_graph_gradients,
    assert_mlp_gradients,
)

SUBS = Path(__file__).resolve().parents[1] / "submissions"
BOTH = [assert_gate_backward_matches_numerical, assert_gate_matches_reference]


def load(submission, module):
    """A submission's module (gates.py or graph.py import only numpy), under a unique name."""
    spec = importlib.util.spec_from_file_location(
        f"_sub_{submission.replace('-', '_')}_{module}", SUBS / submission / f"{module}.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _message(fn, *args, **kw):
    with pytest.raises(GradcheckAssertionError) as info:
        fn(*args, **kw)
    assert isinstance(info.value, AssertionError)
    return str(info.value), info.value.details


rng = np.random.default_rng(7)
CASES = [
    ("AddGate", [rng.normal(size=(2, 3)), rng.normal(size=(2, 3))], ()),
    ("MultiplyGate", [1.5, -2.0], ()),
    ("MaxGate", [np.array([1.0, -2.0, 0.5]), np.array([0.2, -1.0, 1.5])], ()),
    ("ExpGate", [rng.normal(size=4)], ()),
    ("InverseGate", [np.array([0.5, -2.0, 3.0])], ()),
    ("AddConstantGate", [rng.normal(size=3)], (0.75,)),
    ("ScaleGate", [rng.normal(size=(2, 2))], (-1.5,)),
    ("SigmoidGate", [rng.normal(size=5)], ()),
    ("TanhGate", [rng.normal(size=5)], ()),
    ("ReLUGate", [np.array([0.5, -1.0, 2.0])], ()),
    ("MatMulGate", [rng.normal(size=(2, 3)), rng.normal(size=(3, 4))], ()),
    ("SoftmaxCrossEntropyGate", [rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])], ()),
]


@pytest.mark.parametrize("name, inputs, args", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("fn", BOTH, ids=["numerical", "reference"])
def test_correct_gates_pass(fn, name, inputs, args):
    for module in (R, load("correct", "gates")):
        result = fn(getattr(module, name), inputs, args=args)
        if fn is assert_gate_backward_matches_numerical:
            assert isinstance(result, Verdict) and result.status in ("pass", "inconclusive")


def test_swapped_inputs_are_named():
    gates = load("swapped-multiply", "gates")
    text, details = _message(assert_gate_backward_matches_numerical, gates.MultiplyGate, [1.5, -2.0])
    lines = text.splitlines()
    assert lines[0] == "MultiplyGate: backward does not match centered differences of its forward"
    assert lines[1].strip().startswith("input 0 (x): scalar: expected") and "got" in lines[1]
    assert "diagnosis: the two inputs' gradients are swapped" in text and "at x=1.5, y=-2" in text
    assert details["diagnosis"] == "the two inputs' gradients are swapped"
    assert details["worst"]["input"] == "input 0 (x)"
    text, details = _message(assert_gate_matches_reference, gates.MultiplyGate, [1.5, -2.0])
    assert text.startswith("MultiplyGate.backward does not match the reference\n  dx is ")
    assert "expected" in text and "diagnosis: the two inputs' gradients are swapped" in text


def test_ignored_upstream_gradient_is_named():
    gates = load("sigmoid-ignores-dout", "gates")
    x = np.array([0.5, -1.0, 2.0])
    for fn in BOTH:
        text, details = _message(fn, gates.SigmoidGate, [x])
        assert "ignores the upstream gradient" in details["diagnosis"] and "diagnosis:" in text
    # with dout = ones the bug cannot show: nothing to blame
    assert_gate_backward_matches_numerical(gates.SigmoidGate, [x], dout=np.ones(3))


def test_transposed_matmul_and_sum_instead_of_mean():
    W, X = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    text, details = _message(assert_gate_matches_reference, load("matmul-transposed", "gates").MatMulGate, [W, X])
    assert "MatMulGate.backward" in text and "transposed" in details["diagnosis"]
    assert "worst" in details and details["worst"]["input"].startswith("d")
    scores, labels = rng.normal(size=(4, 3)), np.array([0, 1, 2, 1])
    sm = load("softmax-sum-not-mean", "gates").SoftmaxCrossEntropyGate
    failures = 0
    for fn in BOTH:
        try:
            fn(sm, [scores, labels])
        except GradcheckAssertionError as e:
            failures += 1
            assert "scores" in str(e)
    assert failures >= 1


def test_wrong_sign_worst_coordinate_and_float32():
    class Flipped(R.TanhGate):
        def backward(self, dz):
            return [-g for g in super().backward(dz)]

    x = np.array([[0.3, -1.2], [2.0, 0.1]])
    text, details = _message(assert_gate_backward_matches_numerical, Flipped, [x])
    assert "worst at [" in text and details["diagnosis"] == "wrong sign" and "input 0 (x)" in text
    text, _ = _message(assert_gate_matches_reference, Flipped, [x], name="TanhGate")
    assert "TanhGate.backward" in text and "dx is" in text and " at [" in text

    class Float32Sigmoid:  # a correct gate that computes in float32: no false failure
        def forward(self, x):
            self.s = (1 / (1 + np.exp(-np.asarray(x, dtype=np.float32)))).astype(np.float32)
            return self.s

        def backward(self, dz):
            return [(np.asarray(dz, dtype=np.float32) * self.s * (1 - self.s)).astype(np.float32)]

    assert_gate_backward_matches_numerical(Float32Sigmoid, [rng.normal(size=6)])
    assert_gate_matches_reference(Float32Sigmoid, [rng.normal(size=6)], name="SigmoidGate")


def test_relu_at_its_kink_is_never_blamed():
    assert_gate_backward_matches_numerical(R.ReLUGate, [np.array([0.0, 1.0, -1.0, 0.0])])


def test_mutating_a_shape_and_count_problem():
    class Mutating(R.MultiplyGate):
        def backward(self, dz):
            grads = super().backward(dz)
            self.y[...] = 0.0  # the caller's array: the reference keeps it without a copy
            return grads

    text, _ = _message(assert_gate_matches_reference, Mutating, [np.ones(3), np.ones(3)], name="MultiplyGate")
    assert "MultiplyGate modified its input 1 (y) in place" in text

    class OneGradient(R.MultiplyGate):
        def backward(self, dz):
            return [super().backward(dz)[0]]

    text, _ = _message(assert_gate_backward_matches_numerical, OneGradient, [np.ones(2), np.ones(2)])
    assert "backward returned 1 gradient(s) for 2 input(s) (x, y)" in text

    class BadShape(R.AddGate):
        def backward(self, dz):
            return [np.sum(dz), dz]

    text, _ = _message(assert_gate_backward_matches_numerical, BadShape, [np.ones(3), np.ones(3)])
    assert "input 0 (x): gradient has shape (), the input has shape (3,)" in text


def test_exceptions_of_student_code_propagate():
    class Broken(R.ExpGate):
        def backward(self, dz):
            raise ZeroDivisionError("oops")

    with pytest.raises(ZeroDivisionError):
        assert_gate_backward_matches_numerical(Broken, [np.ones(2)])
    with pytest.raises(ValueError, match="no gate 'Nope'"):
        assert_gate_matches_reference(R.ExpGate, [np.ones(2)], name="Nope")


# --- graphs -------------------------------------------------------------------------------------


def _branchy(graph_module, gates):
    """f = (x * y) + x: x feeds two gates, so its gradients must add."""
    g = graph_module.ComputationalGraph()
    x, y = g.input("x"), g.input("y")
    q = g.gate(gates.MultiplyGate(), x, y)
    g.gate(gates.AddGate(), q, x)
    return g


def test_graph_gradients_pass_and_the_graph_is_left_as_built():
    g = _branchy(RG, R)
    verdict = assert_graph_gradients(g, {"x": np.array([1.5, -0.5]), "y": np.array([2.0, 3.0])})
    assert verdict.passed
    assert np.allclose(g.forward({"x": np.array([1.0, 1.0]), "y": np.array([2.0, 2.0])}), [3.0, 3.0])
    assert_graph_gradients(_branchy(load("correct", "graph"), R), {"x": 1.5, "y": -2.0})


def test_graph_that_overwrites_at_a_branch_fails_with_feedback():
    g = _branchy(load("branch-overwrite", "graph"), R)
    text, details = _message(
        assert_graph_gradients, g, {"x": np.array([1.5, -0.5, 2.0]), "y": np.array([2.0, 3.0, -1.0])}
    )
    assert text.startswith("graph: backward does not match centered differences of forward")
    assert "input 0 (x):" in text and "expected" in text and "got" in text
    assert details["worst"]["input"] == "input 0 (x)"
    g = _branchy(RG, load("swapped-multiply", "gates"))
    text, details = _message(assert_graph_gradients, g, {"x": np.array([1.5, 2.0]), "y": np.array([-2.0, 3.0])})
    assert "input 1 (y)" in text


# --- networks -----------------------------------------------------------------------------------


def _data(n=6, d=3, c=2):
    r = np.random.default_rng(1)
    return r.normal(size=(n, d)), r.integers(0, c, n)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_reference_mlp_passes_and_params_are_restored(activation):
    net = RM.MLP([3, 4, 2], activation=activation, seed=2)
    before = {k: v.copy() for k, v in net.params.items()}
    X, y = _data()
    assert assert_mlp_gradients(net, X, y, activation=activation).status in ("pass", "inconclusive")
    assert all(np.array_equal(net.params[k], before[k]) for k in before)


def test_mlp_sum_instead_of_mean_is_diagnosed():
    class SumLoss(RM.MLP):
        def loss(self, X, y):
            loss, grads = super().loss(X, y)
            grads["W2"] = grads["W2"] * len(y)
            return loss, grads

    X, y = _data()
    text, details = _message(assert_mlp_gradients, SumLoss([3, 4, 2], "tanh"), X, y)
    assert "(W2): worst at [" in text and "W2: N = 6 times the right value" in text
    text, details = _message(assert_mlp_gradients, SumLoss([3, 4, 2], "tanh"), X, y, activation="tanh")
    assert text.startswith("MLP: gradients do not match the reference") and "dW2 is" in text
    assert details["diagnosis"].startswith("N = 6 times")


def test_mlp_with_missing_or_misshapen_gradients():
    class Missing(RM.MLP):
        def loss(self, X, y):
            loss, grads = super().loss(X, y)
            del grads["b1"]
            return loss, grads

    X, y = _data()
    text, _ = _message(assert_mlp_gradients, Missing([3, 4, 2]), X, y)
    assert "grads has keys" in text and "b1" in text

    class Flat(RM.MLP):
        def loss(self, X, y):
            loss, grads = super().loss(X, y)
            grads["W1"] = grads["W1"].ravel()
            return loss, grads

    text, _ = _message(assert_mlp_gradients, Flat([3, 4, 2]), X, y)
    assert "grads['W1'] has shape (12,), params['W1'] has (4, 3)" in text
