"""gradcheck validate: the mutation operators on small sources of every API style (fast), the result
and its table (fast), the command's usage errors (fast), and the default assignment's measured
mutation score and a broken reference (system: the real grader and sandbox)."""

import ast
import dataclasses
import functools
import json
import shutil
import tempfile
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from gradcheck import cli
from gradcheck.assignment import load_assignment
from gradcheck.validate import (
    OPERATORS,
    MutantResult,
    ReferenceRun,
    ValidationResult,
    mutants_of_folder,
    mutants_of_source,
    render_table,
    unit_names,
)

# --- small sources, one per API style ---------------------------------------------------------------

GATES = '''
"""Gates."""
import numpy as np


class MultiplyGate:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dz):
        return [dz * self.y, dz * self.x]


class SigmoidGate:
    def forward(self, x):
        self.z = 1.0 / (1.0 + np.exp(-x))
        return self.z

    def backward(self, dz):
        return [dz * self.z * (1.0 - self.z)]


class TanhGate:
    def forward(self, x):
        self.x = np.asarray(x, dtype=float)
        self.out = np.tanh(self.x)
        return self.out

    def backward(self, dout):
        return (1 - self.out ** 2) * dout
'''

LAYERS = """
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def sigmoid_forward(x):
    out = 1.0 / (1.0 + np.exp(-x))
    return out, (x, out)


def sigmoid_backward(dout, cache):
    x, out = cache
    return dout * out * (1.0 - out)


def tanh_forward(x):
    out = np.tanh(x)
    cache = {"x": x, "out": out}
    return out, cache


def tanh_backward(dout, cache):
    return dout * (1.0 - cache["out"] ** 2)


def conv_backward_naive(dout, cache):
    x, w = cache
    dw = np.zeros_like(w)
    for n in range(x.shape[0]):
        dw += x[n] * dout[n]
    return dw


def softmax_loss(x, y):
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.log(p[np.arange(n), y]).mean()
    dx = p.copy()
    dx[np.arange(n), y] -= 1
    dx /= n
    return loss, dx
"""

MODEL = """
import numpy as np


class TwoLayerNet:
    def __init__(self, D, H, C, reg=0.0):
        self.reg = reg
        self.params = {"W1": np.zeros((D, H)), "W2": np.zeros((H, C))}

    def loss(self, X, y=None):
        W1, W2 = self.params["W1"], self.params["W2"]
        h = np.maximum(0, X @ W1)
        scores = h @ W2
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        grads = {}
        grads["W2"] = h.T @ dscores
        grads["W1"] = X.T @ (dscores @ W2.T * (h > 0))
        grads["W1"] += self.reg * W1
        return loss, grads

    def sgd_step(self, X, y, lr):
        loss, grads = self.loss(X, y)
        for k, g in grads.items():
            self.params[k] = self.params[k] - lr * g
        return loss


def train(net, X, y, lr, steps):
    for _ in range(steps):
        loss, grads = net.loss(X, y)
        for k in grads:
            net.params[k] -= lr * grads[k]
"""

GRAPH = """
import numpy as np


class Graph:
    def backward(self, dout=None):
        grads = [None] * len(self.nodes)
        grads[-1] = np.ones_like(self.out) if dout is None else dout
        for node in reversed(range(len(self.nodes))):
            for i, g in zip(self.inputs[node], self.gates[node].backward(grads[node])):
                grads[i] = g if grads[i] is None else grads[i] + g
        return {name: grads[i] for i, name in self.feeds}
"""


def norm(source: str) -> str:
    """A source as the mutants are written: ast.unparse, no comments, one final newline."""
    return ast.unparse(ast.parse(textwrap.dedent(source))) + "\n"


def expect(source: str, *edits) -> str:
    """``source`` with each (old, new) applied (each old occurs exactly once), normalized."""
    for old, new in edits:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return norm(source)


@functools.cache
def _generated(source, filename, operators):
    return mutants_of_source(textwrap.dedent(source), filename, operators)


def generate(source, filename, operators=None):
    """{id: mutant} of ``source`` (made once per source: they are the same every time, as asserted below)."""
    return {m.id: m for m in _generated(source, filename, None if operators is None else tuple(operators)).mutants}


def test_gate_classes_get_every_operator_that_applies_with_stable_ids_in_source_order():
    ids = list(generate(GATES, "gates.py"))
    multiply = ["gates.py:MultiplyGate.forward:inplace#0"] + [
        f"gates.py:MultiplyGate.backward:{op}#{k}" for op in ("negate", "double", "zero", "transpose") for k in (0, 1)
    ]
    multiply += ["gates.py:MultiplyGate.backward:swap#0", "gates.py:MultiplyGate.backward:ones_dout#0"]
    one = ("negate", "double", "zero", "transpose", "ones_dout", "at_input")
    sigmoid = ["gates.py:SigmoidGate.forward:inplace#0"] + [f"gates.py:SigmoidGate.backward:{op}#0" for op in one]
    tanh = ["gates.py:TanhGate.forward:inplace#0"] + [f"gates.py:TanhGate.backward:{op}#0" for op in one]
    assert ids == multiply + sigmoid + tanh
    # the same ids, and sources, every time and whatever other operators are asked for
    again = mutants_of_source(textwrap.dedent(GATES), "gates.py").mutants
    assert [(m.id, m.source) for m in again] == [(m.id, m.source) for m in generate(GATES, "gates.py").values()]
    assert list(generate(GATES, "gates.py", ["swap", "at_input"])) == [
        i for i in ids if ":swap#" in i or "at_input" in i
    ]


@pytest.mark.parametrize(
    "mutant_id, edits",
    [
        ("MultiplyGate.backward:negate#1", [("[dz * self.y, dz * self.x]", "[dz * self.y, -(dz * self.x)]")]),
        ("MultiplyGate.backward:double#0", [("[dz * self.y, dz * self.x]", "[2 * (dz * self.y), dz * self.x]")]),
        ("MultiplyGate.backward:zero#1", [("[dz * self.y, dz * self.x]", "[dz * self.y, np.zeros_like(dz * self.x)]")]),
        ("MultiplyGate.backward:transpose#0", [("[dz * self.y, dz", "[np.transpose(dz * self.y), dz")]),
        ("MultiplyGate.backward:swap#0", [("[dz * self.y, dz * self.x]", "[dz * self.x, dz * self.y]")]),
        (
            "MultiplyGate.backward:ones_dout#0",
            [
                (
                    "(self, dz):\n        return [dz * self.y",
                    "(self, dz):\n        if dz is not None:\n            dz = np.ones_like(dz)\n"
                    "        return [dz * self.y",
                )
            ],
        ),
        # forward keeps its output only: the mutant keeps the input too, and backward reads it
        (
            "SigmoidGate.backward:at_input#0",
            [
                (
                    "    def forward(self, x):\n        self.z",
                    "    def forward(self, x):\n        self.x = x\n        self.z",
                ),
                ("dz * self.z * (1.0 - self.z)", "dz * self.x * (1.0 - self.x)"),
            ],
        ),
        # forward keeps both: backward reads the input's attribute
        ("TanhGate.backward:at_input#0", [("(1 - self.out ** 2) * dout", "(1 - self.x ** 2) * dout")]),
    ],
)
def test_gate_operators_change_exactly_their_site(mutant_id, edits):
    assert generate(GATES, "gates.py")[f"gates.py:{mutant_id}"].source == expect(GATES, *edits)


@pytest.mark.parametrize(
    "mutant_id, edits",
    [
        ("affine_backward:negate#2", [("return dx, dw, db", "return dx, dw, -db")]),
        ("affine_backward:swap#1", [("return dx, dw, db", "return db, dw, dx")]),
        ("affine_backward:swap#2", [("return dx, dw, db", "return dx, db, dw")]),
        (
            "affine_backward:ones_dout#0",
            [
                (
                    "(dout, cache):\n    x, w, b",
                    "(dout, cache):\n    if dout is not None:\n        dout = np.ones_like(dout)\n    x, w, b",
                )
            ],
        ),
        ("sigmoid_backward:at_input#0", [("dout * out * (1.0 - out)", "dout * x * (1.0 - x)")]),  # tuple cache
        ("tanh_backward:at_input#0", [('cache["out"] ** 2', 'cache["x"] ** 2')]),  # dict cache
        ("conv_backward_naive:overwrite#0", [("dw += x[n] * dout[n]", "dw = x[n] * dout[n]")]),
        ("softmax_loss:negate#0", [("return loss, dx", "return loss, -dx")]),  # loss_function: (loss, dx)
        ("softmax_loss:transpose#0", [("return loss, dx", "return loss, np.transpose(dx)")]),
    ],
)
def test_function_pair_and_loss_function_operators(mutant_id, edits):
    assert generate(LAYERS, "layers.py")[f"layers.py:{mutant_id}"].source == expect(LAYERS, *edits)


def test_function_styles_get_no_operator_that_does_not_apply():
    ids = generate(LAYERS, "layers.py")
    assert not [i for i in ids if i.startswith("layers.py:softmax_loss:") and "ones_dout" in i]  # no upstream gradient
    assert not [i for i in ids if "affine_backward:at_input" in i]  # its cache holds no output
    assert not [i for i in ids if "sgd_sign" in i]  # `dx[...] -= 1` is no SGD step
    assert "layers.py:conv_backward_naive:ones_dout#0" in ids  # backward is a word of the name


@pytest.mark.parametrize(
    "mutant_id, edits",
    [
        ("TwoLayerNet.loss:negate#0", [('grads["W2"] = h.T @ dscores', 'grads["W2"] = -(h.T @ dscores)')]),
        (
            "TwoLayerNet.loss:zero#1",
            [
                (
                    'grads["W1"] = X.T @ (dscores @ W2.T * (h > 0))',
                    'grads["W1"] = np.zeros_like(X.T @ (dscores @ W2.T * (h > 0)))',
                )
            ],
        ),
        ("TwoLayerNet.loss:overwrite#0", [('grads["W1"] += self.reg', 'grads["W1"] = self.reg')]),
        ("TwoLayerNet.sgd_step:sgd_sign#0", [("self.params[k] - lr * g", "self.params[k] + lr * g")]),
        ("train:sgd_sign#0", [("net.params[k] -= lr", "net.params[k] += lr")]),
    ],
)
def test_model_operators(mutant_id, edits):
    assert generate(MODEL, "fc_net.py")[f"fc_net.py:{mutant_id}"].source == expect(MODEL, *edits)


def test_model_gets_dict_entry_operators_only_where_they_apply():
    ids = set(generate(MODEL, "fc_net.py"))
    assert {i.split(":", 1)[1] for i in ids} == {
        "TwoLayerNet.loss:negate#0",
        "TwoLayerNet.loss:negate#1",
        "TwoLayerNet.loss:zero#0",
        "TwoLayerNet.loss:zero#1",
        "TwoLayerNet.loss:inplace#0",
        "TwoLayerNet.loss:overwrite#0",
        "TwoLayerNet.sgd_step:sgd_sign#0",
        "train:sgd_sign#0",
    }


def test_every_return_of_a_forward_changes_its_input_and_dict_displays_are_gradients():
    source = generate(MODEL, "fc_net.py")["fc_net.py:TwoLayerNet.loss:inplace#0"].source
    assert source.count("_gc_out = ") == 2 and source.count("return _gc_out") == 2  # `return scores` too
    display = MODEL.replace('grads = {}\n        grads["W2"] = h.T @ dscores\n', 'grads = {"W2": h.T @ dscores}\n')
    ms = generate(display, "fc_net.py")
    assert ms["fc_net.py:TwoLayerNet.loss:negate#0"].description.endswith("grads['W2'] negated")
    assert ms["fc_net.py:TwoLayerNet.loss:negate#0"].source == expect(
        display, ('{"W2": h.T @ dscores}', '{"W2": -(h.T @ dscores)}')
    )
    assert ms["fc_net.py:TwoLayerNet.loss:negate#1"].description.endswith("grads['W1'] negated")


def test_graph_backward_overwrite_and_dict_comprehension():
    ms = generate(GRAPH, "graph.py")
    assert ms["graph.py:Graph.backward:overwrite#0"].source == expect(
        GRAPH, ("g if grads[i] is None else grads[i] + g", "g if grads[i] is None else g")
    )
    assert ms["graph.py:Graph.backward:negate#0"].source == expect(GRAPH, ("{name: grads[i]", "{name: -grads[i]"))
    assert ms["graph.py:Graph.backward:ones_dout#0"].source == expect(
        GRAPH,
        ("dout=None):\n", "dout=None):\n        if dout is not None:\n            dout = np.ones_like(dout)\n"),
    )


def test_inplace_changes_the_first_writable_array_after_the_output_is_computed():
    """The mutant's forward, run here: this test's own source, not a submission."""
    source = generate(LAYERS, "layers.py")["layers.py:affine_forward:inplace#0"].source
    space = {}
    exec(compile(source, "layers.py", "exec"), space)
    x, w, b = np.ones((2, 3)), np.ones((3, 2)), np.zeros(2)
    out, _ = space["affine_forward"](x, w, b)
    assert np.all(out == 3.0) and np.all(x == 2.0) and np.all(w == 1.0)  # the output as before, x changed
    frozen = np.ones((2, 3))
    frozen.flags.writeable = False
    out, _ = space["affine_forward"](frozen, w, b)  # read-only: the next array changes instead
    assert np.all(out == 3.0) and np.all(frozen == 1.0) and np.all(w == 2.0)
    source = generate(GATES, "gates.py")["gates.py:SigmoidGate.forward:inplace#0"].source
    exec(compile(source, "gates.py", "exec"), space)
    assert space["SigmoidGate"]().forward(0.0) == 0.5  # a Python float: nothing to change, no crash


def test_identical_sources_are_dropped():
    add = """
    import numpy as np

    class AddGate:
        def backward(self, dz):
            return [dz.copy(), dz.copy()]
    """
    g = mutants_of_source(textwrap.dedent(add), "gates.py")
    assert ("gates.py:AddGate.backward:swap#0", "same source as the reference") in g.skipped
    assert "gates.py:AddGate.backward:swap#0" not in {m.id for m in g.mutants}
    for source, name in ((GATES, "gates.py"), (LAYERS, "layers.py"), (MODEL, "fc_net.py"), (GRAPH, "graph.py")):
        sources = [m.source for m in generate(source, name).values()]
        assert len(set(sources)) == len(sources) and norm(source) not in sources


def test_no_mutant_without_backward_forward_or_sgd_functions():
    utils = """
    import numpy as np

    def rel_error(x, y):
        return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))

    class Timer:
        def _forward(self, x):  # a private helper
            x += 1
            return x, x
    """
    assert mutants_of_source(textwrap.dedent(utils), "utils.py").mutants == ()


def test_numpy_is_imported_under_its_own_name_or_added():
    plain = "import numpy\n\ndef relu_backward(dout, cache):\n    return dout * (cache > 0)\n"
    assert "numpy.zeros_like(" in generate(plain, "l.py")["l.py:relu_backward:zero#0"].source
    bare = '"""Doc."""\nfrom __future__ import annotations\n\ndef relu_backward(dout, cache):\n    return dout\n'
    source = generate(bare, "l.py")["l.py:relu_backward:zero#0"].source
    assert source.startswith('"""Doc."""\nfrom __future__ import annotations\nimport numpy as _gc_np\n')
    assert "return _gc_np.zeros_like(dout)" in source


def test_only_the_names_given_are_mutated_and_units_name_what_students_write():
    only = generate(LAYERS, "layers.py", None)
    scoped = mutants_of_source(textwrap.dedent(LAYERS), "layers.py", names={"sigmoid_forward", "sigmoid_backward"})
    assert [m.id for m in scoped.mutants] == [i for i in only if ":sigmoid_" in i]
    assert unit_names(load_assignment()) == {
        "gates": {u.name for u in load_assignment().units if u.style == "gate"},
        "graph": None,  # the grader's own graph and model checks: the whole module
        "mlp": None,
    }
    layers = unit_names(load_assignment("layers"))["layers"]
    assert {"affine_forward", "affine_backward", "conv_backward_naive", "softmax_loss"} <= layers
    assert not [n for n in layers if "kink" in n or "without" in n]  # the grader's helpers are no unit


def test_operators_are_checked_and_a_folder_reads_each_module(tmp_path):
    with pytest.raises(ValueError, match="unknown mutation operators"):
        mutants_of_source(GATES, "gates.py", ["negate", "flip"])
    (tmp_path / "layers.py").write_text(LAYERS)
    (tmp_path / "fc_net.py").write_text(MODEL)
    g = mutants_of_folder(tmp_path, ["layers", "fc_net", "absent"])
    assert {m.file for m in g.mutants} == {"layers.py", "fc_net.py"}
    assert [m.id for m in g.mutants] == [*generate(LAYERS, "layers.py"), *generate(MODEL, "fc_net.py")]


# --- the result and its table ------------------------------------------------------------------------


def _mutant(mid, op, caught_by=(), diagnoses=()):
    return MutantResult(
        mid, op, "gates.py", "G.backward", f"{mid} described", "graded", 90.0, 100.0, caught_by, diagnoses
    )


def test_result_scores_per_operator_and_renders_one_line_per_mutant():
    result = ValidationResult(
        assignment="backprop",
        reference_dir="/ref",
        seeds=(0, 1),
        mutant_seed=0,
        reference=(ReferenceRun(0, "graded", 100.0, 100.0), ReferenceRun(1, "graded", 100.0, 100.0)),
        mutants=(
            _mutant(
                "gates.py:G.backward:negate#0", "negate", ("a.backward", "a.numerical", "a.shapes"), ("wrong sign",)
            ),
            _mutant("gates.py:G.backward:negate#1", "negate"),
            _mutant("gates.py:G.backward:swap#0", "swap", ("a.backward",), ("swapped", "other")),
        ),
        skipped=(("gates.py:G.backward:swap#1", "same source as the reference"),),
    )
    assert (result.caught, result.total, result.per_operator()) == (2, 3, {"negate": (1, 2), "swap": (1, 1)})
    data = json.loads(json.dumps(result.to_dict()))
    assert data["score"] == pytest.approx(2 / 3) and data["per_operator"]["negate"] == {"caught": 1, "total": 2}
    assert [m["caught"] for m in data["mutants"]] == [True, False, True] and data["reference_ok"] is True
    lines = render_table(result).splitlines()
    line = {m.id: next(ln for ln in lines if m.id in ln) for m in result.mutants}
    assert "a.backward, a.numerical (+1 more)" in line["gates.py:G.backward:negate#0"]
    assert "wrong sign" in line["gates.py:G.backward:negate#0"]
    assert (
        "SURVIVED" in line["gates.py:G.backward:negate#1"]
        and "negate#1 described" in line["gates.py:G.backward:negate#1"]
    )
    assert "swapped (+1 more)" in line["gates.py:G.backward:swap#0"]
    assert any(ln.split()[:3] == ["negate", "1/2", "50.0"] for ln in lines)
    assert any(ln.split()[:3] == ["total", "2/3", "66.7"] for ln in lines)


def test_a_failing_reference_is_named_by_seed_and_check():
    bad = ReferenceRun(3, "graded", 98.0, 100.0, (("gates.AddGate.backward", "fail", "wrong gradient"),))
    result = ValidationResult("backprop", "/ref", (0, 3), 0, (ReferenceRun(0, "graded", 100.0, 100.0), bad))
    assert not result.reference_ok and result.score is None
    problem = result.reference_problem()
    assert problem.startswith("seed 3: the reference scored 98/100: gates.AddGate.backward fail: wrong gradient")
    assert "broken" in render_table(result) and problem in render_table(result)


# --- the command ------------------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(cli.main, ["validate", *map(str, args)], catch_exceptions=False)


def test_usage_errors_exit_2_and_name_the_culprit(tmp_path, monkeypatch):
    r = run(tmp_path / "missing.toml")
    assert r.exit_code == 2 and "missing.toml" in r.output
    full = tmp_path / "full"
    (full / "x").mkdir(parents=True)
    r = run("--out", full)
    assert r.exit_code == 2 and "is not an empty folder" in r.output and "full" in r.output
    no_reference = dataclasses.replace(load_assignment(), reference_dir=None)
    monkeypatch.setattr(cli, "load_assignment", lambda path: no_reference)
    r = run()
    assert r.exit_code == 2 and "has no reference folder" in r.output


# --- system: the bundled assignments, and a broken reference ------------------------------------------

# Each bundled assignment's mutants, measured (seed 0, all operators): the caught count must not drop,
# and a mutant that survives must be listed with the reason it is acceptable.
# lecture: 107 graded, 107 caught; 1 dropped (AddGate.backward's swap: its two gradients are the same
# expression, so the mutant is the reference).
# layers: 89 graded, 85 caught (TwoLayerNet.loss's 9 among them); the survivors transpose a 1-D gradient,
# which is itself.
# micrograd: 43 graded (the terms of the reference Value's _backward closures), 43 caught.
ONE_D = "a 1-D gradient: its transpose is itself (an equivalent mutant)"
MEASURED = {
    "lecture": (107, {}),
    "layers": (
        85,
        {
            "layers.py:affine_backward:transpose#2": ONE_D + " (db)",
            "layers.py:batchnorm_backward:transpose#1": ONE_D + " (dgamma)",
            "layers.py:batchnorm_backward:transpose#2": ONE_D + " (dbeta)",
            "layers.py:conv_backward_naive:transpose#2": ONE_D + " (db)",
        },
    ),
    "micrograd": (43, {}),
}


@pytest.mark.system
@pytest.mark.parametrize("name", list(MEASURED))
def test_bundled_assignments_keep_their_measured_mutation_score(name, tmp_path, monkeypatch):
    measured, acceptable = MEASURED[name]
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))  # what validate and the batch make: removed
    out = tmp_path / "result.json"
    r = run(*([] if name == "lecture" else [name]), "--seeds", "1", "--json", out)
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text())
    assignment = load_assignment(None if name == "lecture" else name)
    assert data["reference_ok"] and data["reference"][0]["score"] == assignment.max_score
    survived = {m["id"] for m in data["mutants"] if not m["caught"]}
    assert survived <= set(acceptable), survived - set(acceptable)
    assert data["caught"] >= measured
    for m in data["mutants"]:
        assert m["status"] == "graded", (m["id"], m["message"])  # caught by checks, not by grading errors
        if m["caught"] and m["file"] in ("gates.py", "layers.py"):  # one bug, one deduction: its unit's checks
            assert len({c.rsplit(".", 1)[0] for c in m["caught_by"]}) == 1, (m["id"], m["caught_by"])
        assert any(ln.lstrip().startswith(m["id"] + " ") for ln in r.output.splitlines()), m["id"]  # its line
    left = [p.name for p in private.iterdir() if not p.name.startswith("gradcheck-hypothesis-")]  # removed at exit
    assert left == []
    if name == "lecture":
        assert set(data["per_operator"]) == set(OPERATORS)  # every operator finds a site in the lecture's reference
        by_id = {m["id"]: m for m in data["mutants"]}
        at_input = by_id["gates.py:SigmoidGate.backward:at_input#0"]["diagnoses"]
        assert "at the input instead of the output" in " ".join(at_input)
        overwrite = by_id["graph.py:ComputationalGraph.backward:overwrite#0"]["diagnoses"]
        assert "overwritten instead of added" in " ".join(overwrite)
        assert by_id["gates.py:MultiplyGate.backward:swap#0"]["diagnoses"] == ["the two inputs' gradients are swapped"]
    elif name == "micrograd":  # the terms of the Value's closures; = for += named where a Value is reused
        assert all(m["function"].startswith("Value.") and m["function"].endswith("._backward") for m in data["mutants"])
        overwrite = [m for m in data["mutants"] if m["operator"] == "overwrite"]
        named = [m for m in overwrite if any("overwritten (=) instead of accumulated" in d for d in m["diagnoses"])]
        assert len(named) >= len(overwrite) - 2, [m["id"] for m in overwrite if m not in named]
    else:  # the grader-facing helpers of the reference module (bug gradients, kink distances) are not mutated
        assert {m["function"] for m in data["mutants"]} == {
            f for u in assignment.units if not u.is_model for f in (u.forward_name, u.backward_name) if f
        } | {f"{u.name}.loss" for u in assignment.units if u.is_model}


@pytest.mark.system
def test_a_reference_that_loses_points_exits_1_and_says_where(tmp_path, monkeypatch):
    reference = load_assignment().reference_dir
    broken = tmp_path / "reference"
    shutil.copytree(reference, broken, ignore=shutil.ignore_patterns("__pycache__"))
    gates = broken / "gates.py"
    gates.write_text(
        gates.read_text().replace("return [dz * self.y, dz * self.x]", "return [dz * self.x, dz * self.y]")
    )
    assignment = dataclasses.replace(load_assignment(), reference_dir=broken)
    monkeypatch.setattr(cli, "load_assignment", lambda path: assignment)
    out = tmp_path / "result.json"
    r = run("--seeds", "2", "--json", out)
    assert r.exit_code == 1, r.output
    assert "the assignment is broken: seed 0" in r.output and "gates.MultiplyGate.backward fail" in r.output
    data = json.loads(out.read_text())
    assert not data["reference_ok"] and data["mutants"] == [] and data["score"] is None
    assert [run["seed"] for run in data["reference"]] == [0, 1]
    assert all("gates.MultiplyGate.backward" in [f[0] for f in run["failed"]] for run in data["reference"])
