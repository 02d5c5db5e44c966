"""The micrograd assignment's model solution (gradcheck/assignments/micrograd/reference/: engine.py's
Value, nn.py's Module, Neuron, Layer, MLP) against plain math and centered differences: every operator
with Values and numbers on either side, gradients that accumulate over reuse, DAGs with shared
subexpressions, a 5,000-node chain, the networks' parameters and gradients.

Only the reference is imported here (trusted code); the example submissions in examples/micrograd are
student code and are graded in the sandbox, never imported by a test."""

import importlib.util
import math
import random
import sys
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parent.parent / "gradcheck" / "assignments" / "micrograd" / "reference"


def _load(name, engine=None):
    """reference/<name>.py under a private module name; nn.py's ``from engine import Value`` is given the
    reference's engine (and sys.modules["engine"] is restored afterwards)."""
    spec = importlib.util.spec_from_file_location(f"_micrograd_reference_{name}", REFERENCE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    saved = sys.modules.get("engine")
    if engine is not None:
        sys.modules["engine"] = engine
    try:
        spec.loader.exec_module(module)
    finally:
        if saved is None:
            sys.modules.pop("engine", None)
        else:
            sys.modules["engine"] = saved
    return module


engine = _load("engine")
nn = _load("nn", engine=engine)
Value = engine.Value


def close(a, b, rtol=1e-7, atol=1e-9):
    return abs(a - b) <= atol + rtol * abs(b)


def centered(f, point, i, h=1e-6):
    """d f / d point[i] by a centered difference, f taking a list of floats and returning a float."""
    step = h * max(1.0, abs(point[i]))
    up, down = list(point), list(point)
    up[i] += step
    down[i] -= step
    return (f(up) - f(down)) / (2 * step)


def value_and_grads(build, point):
    """build(leaves) on fresh Values at point: the output's data and every leaf's grad after backward()."""
    leaves = [Value(x) for x in point]
    out = build(leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def assert_matches_centered(build, point, rtol=1e-6):
    data, grads = value_and_grads(build, point)
    assert isinstance(data, float) and all(isinstance(g, float) for g in grads)
    forward = lambda p: build([Value(x) for x in p]).data  # noqa: E731
    for i, grad in enumerate(grads):
        numeric = centered(forward, point, i)
        assert close(grad, numeric, rtol=rtol, atol=1e-7), f"input {i}: {grad} vs centered difference {numeric}"


# -------------------------------------------------------------------------------- operators, one by one

# name -> (the expression on two operands, Values or numbers; the same on floats)
BINARY = {
    "add": (lambda a, b: a + b, lambda x, y: x + y),
    "sub": (lambda a, b: a - b, lambda x, y: x - y),
    "mul": (lambda a, b: a * b, lambda x, y: x * y),
    "div": (lambda a, b: a / b, lambda x, y: x / y),
}
UNARY = {
    "neg": (lambda a: -a, lambda x: -x),
    "exp": (lambda a: a.exp(), math.exp),
    "tanh": (lambda a: a.tanh(), math.tanh),
    "relu": (lambda a: a.relu(), lambda x: max(x, 0.0)),
    "pow2": (lambda a: a**2, lambda x: x**2),
    "pow3": (lambda a: a**3, lambda x: x**3),
    "pow-1": (lambda a: a**-1, lambda x: 1 / x),
    "pow-2": (lambda a: a**-2, lambda x: x**-2),
    "pow0.5": (lambda a: a**0.5, math.sqrt),
    "pow1.5": (lambda a: a**1.5, lambda x: x**1.5),
}
POINTS = [(1.3, -0.7), (-2.1, 0.45), (0.6, 1.9)]


@pytest.mark.parametrize("op", sorted(BINARY))
@pytest.mark.parametrize("x,y", POINTS)
def test_binary_operator_with_values_and_numbers_on_either_side(op, x, y):
    on_values, on_floats = BINARY[op]
    # Value op Value
    assert value_and_grads(lambda v: on_values(v[0], v[1]), [x, y])[0] == on_floats(x, y)
    assert_matches_centered(lambda v: on_values(v[0], v[1]), [x, y])
    # Value op number, number op Value: the result is a Value, the Value side gets its gradient
    for build in (lambda v: on_values(v[0], y), lambda v: on_values(y, v[0])):
        out = build([Value(x)])
        assert isinstance(out, Value)
        assert_matches_centered(build, [x])
    assert on_values(Value(x), y).data == on_floats(x, y)
    assert on_values(y, Value(x)).data == on_floats(y, x)


@pytest.mark.parametrize(
    "op,x",
    [(op, x) for op in sorted(UNARY) for x in (1.3, 0.45, -0.7, -2.1) if x > 0 or op not in ("pow0.5", "pow1.5")],
)
def test_unary_operator(op, x):  # fractional powers of positive numbers only (else not a real number)
    on_value, on_float = UNARY[op]
    out = on_value(Value(x))
    assert isinstance(out, Value) and isinstance(out.data, float)
    assert close(out.data, on_float(x), rtol=1e-15, atol=0.0)
    assert_matches_centered(lambda v: on_value(v[0]), [x])


def test_integer_inputs_give_float_data_and_grads():
    x = Value(3)
    out = 2 * x + 1
    out.backward()
    assert (x.data, out.data, x.grad) == (3.0, 7.0, 2.0)
    assert all(isinstance(v, float) for v in (x.data, out.data, x.grad, out.grad))


def test_relu_tanh_exp_at_the_edges():
    """relu's gradient is 0 at its kink and below; tanh saturates without overflow; exp of moderate inputs."""
    for x, grad in ((0.0, 0.0), (-1e-12, 0.0), (1e-12, 1.0)):
        v = Value(x)
        v.relu().backward()
        assert v.grad == grad
    for x in (-1000.0, 1000.0):
        v = Value(x)
        t = v.tanh()
        t.backward()
        assert (t.data, v.grad) == (math.copysign(1.0, x), 0.0)
    v = Value(700.0)
    e = v.exp()
    e.backward()
    assert e.data == v.grad == math.exp(700.0)


def test_power_takes_only_a_number_as_exponent():
    with pytest.raises(TypeError, match="exponent"):
        Value(2.0) ** Value(3.0)


# ---------------------------------------------------------------------- accumulation, DAGs, deep chains


ACCUMULATION = {  # expression of x and y -> (d/dx, d/dy) by hand
    "x*x": (lambda x, y: x * x, lambda x, y: (2 * x, 0.0)),
    "a+a": (lambda x, y: x + x, lambda x, y: (2.0, 0.0)),
    "(x*y)+x+y": (lambda x, y: (x * y) + x + y, lambda x, y: (y + 1, x + 1)),
    "tanh(x)*x": (lambda x, y: x.tanh() * x, lambda x, y: ((1 - math.tanh(x) ** 2) * x + math.tanh(x), 0.0)),
    "(x-y)/(x+y)+x": (
        lambda x, y: (x - y) / (x + y) + x,
        lambda x, y: (2 * y / (x + y) ** 2 + 1, -2 * x / (x + y) ** 2),
    ),
}


@pytest.mark.parametrize("name", ACCUMULATION)
def test_gradients_add_up_over_every_use(name):
    build, by_hand = ACCUMULATION[name]
    x, y = Value(1.3), Value(-0.7)
    build(x, y).backward()
    want = by_hand(1.3, -0.7)
    assert close(x.grad, want[0]) and close(y.grad, want[1]), ((x.grad, y.grad), want)


def test_second_backward_on_the_same_graph_adds_again():
    x = Value(0.5)
    y = 3 * x
    y.backward()
    y.backward()
    assert x.grad == 6.0 and y.grad == 1.0


def test_ladder_of_shared_subexpressions():
    """a_{k+1} = a_k * 0.5 + a_k: a_k is reached by 2^k paths, and each node's step must run once (a
    topological order without the visited set runs it once per path: wrong sums, exponential time)."""
    x = Value(0.9)
    a = x
    for _ in range(16):
        a = a * 0.5 + a
    a.backward()
    assert close(x.grad, 1.5**16, rtol=1e-12)
    assert close(a.data, 0.9 * 1.5**16, rtol=1e-12)


OPS = {
    "+": lambda a, b, c: a + b,
    "-": lambda a, b, c: a - b,
    "*": lambda a, b, c: a * b,
    "/": lambda a, b, c: a / b,
    "c+": lambda a, b, c: c + a,
    "c-": lambda a, b, c: c - a,
    "c*": lambda a, b, c: c * a,
    "c/": lambda a, b, c: c / a,
    "-c": lambda a, b, c: a - c,
    "/c": lambda a, b, c: a / c,
    "neg": lambda a, b, c: -a,
    "tanh": lambda a, b, c: a.tanh(),
    "exp": lambda a, b, c: a.exp(),
    "relu": lambda a, b, c: a.relu(),
    "**2": lambda a, b, c: a**2,
    "**3": lambda a, b, c: a**3,
    "**-1": lambda a, b, c: a**-1,
    "**0.5": lambda a, b, c: a**0.5,
}


def _smooth(kind, a, b):
    """The operation is smooth near these operands (no division near 0, fractional powers of positive
    numbers only, ReLU away from its kink, exp of moderate numbers)."""
    if kind in ("/", "c/", "**-1"):
        return abs((b if kind == "/" else a).data) > 0.3
    return {"**0.5": a.data > 0.3, "relu": abs(a.data) > 1e-3, "exp": a.data < 3}.get(kind, True)


def random_dag(rng, point, size=12):
    """A random expression over len(point) leaves that reuses earlier nodes (shared subexpressions), as
    a recipe [(op, i, j, c)] on node indices, drawn where every operation is smooth at ``point``; and
    build(leaves) that evaluates it (the sum of every node made, so that every node reaches the output)."""
    nodes, recipe = [Value(x) for x in point], []
    while len(recipe) < size:
        kind, c = rng.choice(sorted(OPS)), rng.uniform(0.5, 2.0)
        i, j = rng.randrange(len(nodes)), rng.randrange(len(nodes))
        if _smooth(kind, nodes[i], nodes[j]):
            new = OPS[kind](nodes[i], nodes[j], c)
            if abs(new.data) < 1e3:
                nodes.append(new)
                recipe.append((kind, i, j, c))

    def build(leaves):
        nodes = list(leaves)
        for kind, i, j, c in recipe:
            nodes.append(OPS[kind](nodes[i], nodes[j], c))
        return sum(nodes[len(leaves) :], nodes[-1])

    return build


@pytest.mark.parametrize("seed", range(20))
def test_random_dags_with_shared_subexpressions(seed):
    rng = random.Random(seed)
    point = [rng.choice([-1, 1]) * rng.uniform(0.4, 1.6) for _ in range(3)]
    assert_matches_centered(random_dag(rng, point), point, rtol=1e-5)


def test_chain_of_5000_nodes():
    """Deeper than Python's recursion limit: the topological sort is iterative."""
    x = Value(0.3)
    y = x
    for i in range(5000):
        y = y * 1.0001 if i % 2 else y + 0.001
    y.backward()
    assert close(x.grad, 1.0001**2500, rtol=1e-10)


# ----------------------------------------------------------------------------------------------------- nn


def test_neuron_layer_mlp_shapes_and_parameter_order():
    random.seed(0)
    n = nn.Neuron(3)
    assert len(n.w) == 3 and isinstance(n.b, engine.Value)
    assert n.parameters() == n.w + [n.b]
    layer = nn.Layer(3, 4, nonlin=False)
    assert len(layer.neurons) == 4 and not any(m.nonlin for m in layer.neurons)
    assert layer.parameters() == [p for m in layer.neurons for p in m.w + [m.b]]
    assert len(layer([1.0, 2.0, 3.0])) == 4 and isinstance(nn.Layer(3, 1)([1.0, 2.0, 3.0]), engine.Value)
    mlp = nn.MLP(3, [4, 4, 1])
    params = mlp.parameters()
    assert len(params) == 4 * 4 + 4 * 5 + 1 * 5 == 41
    assert params == [p for layer in mlp.layers for m in layer.neurons for p in m.w + [m.b]]
    assert params == mlp.parameters()  # the same Value objects on every call
    assert [m.nonlin for layer in mlp.layers for m in layer.neurons] == [True] * 8 + [False]
    assert all(isinstance(p, nn.Module) for p in (n, layer, mlp))


def test_neuron_is_relu_of_the_affine_sum_or_linear():
    x = [0.5, -1.0, 2.0]
    for nonlin in (True, False):
        n = nn.Neuron(3, nonlin=nonlin)
        for p, v in zip(n.parameters(), [0.3, 0.8, -0.2, -0.1]):
            p.data = v
        linear = 0.3 * 0.5 + 0.8 * -1.0 + -0.2 * 2.0 - 0.1
        assert close(n(x).data, max(linear, 0.0) if nonlin else linear)
        assert close(n([engine.Value(v) for v in x]).data, max(linear, 0.0) if nonlin else linear)


def _loss(mlp, xs, ys):
    total = engine.Value(0.0)
    for x, y in zip(xs, ys):
        total = total + (mlp(x) - y) ** 2
    return total


def test_mlp_gradients_match_centered_differences():
    rng = random.Random(5)
    random.seed(5)
    mlp = nn.MLP(3, [4, 3, 1])
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(5)]
    ys = [rng.choice([-1.0, 1.0]) for _ in range(5)]
    params = mlp.parameters()
    for p in params:
        p.data = rng.uniform(-1, 1)
    mlp.zero_grad()
    _loss(mlp, xs, ys).backward()
    analytic = [p.grad for p in params]
    point = [p.data for p in params]

    def f(values):
        for p, v in zip(params, values):
            p.data = v
        return _loss(mlp, xs, ys).data

    numeric = [centered(f, point, i) for i in range(len(point))]
    for i, (a, b) in enumerate(zip(analytic, numeric)):
        assert close(a, b, rtol=1e-5, atol=1e-7), f"parameter {i}: {a} vs centered difference {b}"
    assert any(g != 0 for g in analytic[-5:])  # the output neuron is linear: its gradients are never all cut


def test_zero_grad_and_training_lower_the_loss():
    random.seed(1)
    mlp = nn.MLP(2, [8, 1])
    xs = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0], [0.5, 0.2]]
    ys = [1.0, -1.0, -1.0, 1.0, 0.0]
    losses = []
    for _ in range(60):
        mlp.zero_grad()
        assert all(p.grad == 0.0 for p in mlp.parameters())
        loss = _loss(mlp, xs, ys)
        loss.backward()
        for p in mlp.parameters():
            p.data -= 0.05 * p.grad
        losses.append(loss.data)
    assert losses[-1] < 0.5 * losses[0], losses[::10]
