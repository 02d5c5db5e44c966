"""The scalar_engine and scalar_nn styles in process (fast): programs and their formulas, the worker's
ops on the bundled micrograd reference as a stand-in for a student's engine (replies validated and
within their cap), the bug models the diagnosis matches, random programs from a seed, the closure
mutants, and malformed declarations. Graded in the sandbox: tests/test_micrograd_assignment.py."""

import json
import sys

import numpy as np
import pytest

from gradcheck.assignment import AssignmentError, load_assignment
from gradcheck.assignment.loading import BUNDLED, FILE_NAME
from gradcheck.checks import replies
from gradcheck.checks.scalar import doubling_dag, generated_programs
from gradcheck.sandbox.inside import ops
from gradcheck.sandbox.replycap import reply_cap
from gradcheck.scalar import Const, Program, bug_gradients, reference_run
from gradcheck.scalar.strategies import simpler
from gradcheck.validate import mutants_of_source

REFERENCE = BUNDLED / "micrograd" / "reference"
TOML = (BUNDLED / "micrograd" / FILE_NAME).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def student():
    """The reference's engine.py and nn.py imported as a student's plain modules would be."""
    saved = {m: sys.modules.pop(m, None) for m in ("engine", "nn")}
    sys.path.insert(0, str(REFERENCE))
    try:
        import engine
        import nn

        yield {"engine": engine, "nn": nn}
    finally:
        sys.path.remove(str(REFERENCE))
        for m, was in saved.items():
            sys.modules.pop(m, None)
            if was is not None:
                sys.modules[m] = was


def _dispatch(modules, header, arrays=()):
    state = ops.State()
    state.modules = dict(modules)
    header = json.loads(json.dumps(header))  # what crosses the wire
    reply, out = ops.dispatch(state, header, [np.array(a) for a in arrays])
    frame = len(json.dumps(reply)) + sum(a.nbytes for a in out)
    cap = reply_cap(header, arrays)
    assert cap is not None and frame <= cap, (frame, cap)
    return replies.validated(header, reply, len(out)), out


# --- programs ----------------------------------------------------------------------------------------

SHARED = Program(("x", "y"), (1.5, -0.5), (("mul", 0, 1), ("mul", 2, 2), ("add", 3, 0)))


def test_a_formula_names_a_shared_subexpression_and_keeps_numbers_on_their_side():
    assert SHARED.formula() == "t1 = x * y; f(x, y) = t1 * t1 + x"
    left = Program(("x",), (2.0,), (("sub", Const(2), 0), ("pow", 1, Const(-1)), ("div", Const(1.5), 2)))
    assert left.formula() == "f(x) = 1.5 / (2 - x) ** (-1)"
    assert doubling_dag(30, 1.0).shown().startswith("a DAG of 30 levels, each reading the one before twice (")


def test_the_reference_runs_a_program_and_a_deep_chain_past_the_recursion_limit():
    cls = load_assignment("micrograd")
    from gradcheck.assignment.reference import reference_module

    Value = reference_module(cls, "engine").Value
    truth = reference_run(Value, SHARED)
    x, y = SHARED.leaves
    assert truth.data == pytest.approx(((x * y) ** 2 + x,))
    assert truth.grads == pytest.approx((2 * x * y * y + 1, 2 * x * y * x))
    chain = Program(("x",), (0.3,), tuple(("neg", k) for k in range(5000)))
    assert reference_run(Value, chain).grads == pytest.approx((1.0,))


def test_the_worker_runs_programs_through_the_students_class_and_reads_numbers_only(student):
    request = {
        "op": "scalar",
        "module": "engine",
        "cls": "Value",
        "programs": [SHARED.request(runs=3, rerun=True), SHARED.request(backward=False)],
    }
    reply, out = _dispatch(student, request)
    runs = reply["programs"][0]["runs"]
    assert len(runs) == 3
    x, y = SHARED.leaves
    for run in runs:
        assert out[run["data"]["$a"]] == pytest.approx([(x * y) ** 2 + x])
        assert out[run["grads"]["$a"]] == pytest.approx([2 * x * y * y + 1, 2 * x * x * y])
        assert out[run["rerun"]["$a"]] == pytest.approx(out[run["grads"]["$a"]])
    assert "grads" not in reply["programs"][1]["runs"][0]


def test_a_missing_operator_and_a_budget_are_errors_of_their_programs(student):
    class NoPow(student["engine"].Value):
        __pow__ = None

    modules = {"engine": type(sys)("engine")}
    modules["engine"].Value = NoPow
    power = Program(("x",), (2.0,), (("pow", 0, Const(2)),))
    reply, _ = _dispatch(modules, {"op": "scalar", "module": "engine", "cls": "Value", "programs": [power.request()]})
    assert "TypeError" in reply["programs"][0]["runs"][0]["error"]
    dags = [doubling_dag(n, 1.0).request() for n in (2, 4)]
    reply, _ = _dispatch(student, {"op": "scalar", "module": "engine", "cls": "Value", "programs": dags, "budget": 0})
    assert reply["programs"][1] == {"error": "not run: the request took more than 0 s", "where": "budget"}


def test_the_nn_op_sets_parameters_calls_zeroes_and_trains(student):
    n = (3 + 1) * 4 + (4 + 1) * 1
    params = np.linspace(-1, 1, n)
    X, w = np.array([[0.1, -0.2, 0.3], [0.5, 0.4, -0.6]]), np.array([1.0, -2.0])
    script = [
        {"parameters": True},
        {"set": {"$a": 0}},
        {"call": {"$a": 1}, "weights": {"$a": 2}},
        {"zero_grad": True},
        {"train": {"X": {"$a": 1}, "y": {"$a": 2}, "steps": 5, "lr": 0.1}},
    ]
    net = {"cls": "MLP", "args": [3, [4, 1]], "kwargs": {}, "script": script}
    reply, out = _dispatch(student, {"op": "scalar_nn", "module": "nn", "nets": [net]}, [params, X, w])
    results = reply["nets"][0]["results"]
    assert results[0]["count"] == n and results[1] == {"ok": True}
    assert np.any(out[results[2]["grads"]["$a"]] != 0) and not np.any(out[results[3]["grads"]["$a"]])
    losses = out[results[4]["losses"]["$a"]]
    assert losses.shape == (5,) and losses[-1] < losses[0]


def test_a_reply_that_does_not_answer_the_request_is_malformed():
    request = {"op": "scalar", "programs": [SHARED.request(runs=2)]}
    with pytest.raises(replies.ReplyMismatch):
        replies.validated(request, {"programs": []}, 0)
    one_run = replies.validated(request, {"programs": [{"runs": [{"data": {"$a": 0}}]}]}, 1)
    assert one_run["programs"][0] == {"error": replies.MALFORMED}


# --- the bug models ----------------------------------------------------------------------------------


def test_each_bug_model_gives_the_gradients_its_bug_gives():
    square = Program(("x",), (1.5,), (("mul", 0, 0),))
    assert bug_gradients(square, "assign_not_accumulate") == [[1.5]]  # one of x's two contributions
    twice = Program(("x", "y"), (2.0, 3.0), (("mul", 0, 1), ("mul", 2, Const(2)), ("mul", 2, Const(3)), ("add", 3, 4)))
    # q = x*y reached by two paths, back-propagated once per path: 2y + 5y or 3y + 5y, by the order of the paths
    assert sorted(g[0] for g in bug_gradients(twice, "topo_no_visited")) == [21.0, 21.0, 24.0, 24.0]
    reflected = Program(("x",), (0.5,), (("mul", Const(2), 0), ("add", 1, 0)))
    assert bug_gradients(reflected, "reflected_no_grad")[0] == [1.0]
    tanh = Program(("x",), (0.5,), (("tanh", 0),))
    assert bug_gradients(tanh, "tanh_grad_from_input") == [[0.75]]
    cube = Program(("x",), (2.0,), (("pow", 0, Const(3)),))
    assert [[24.0], [4.0]] == bug_gradients(cube, "pow_wrong_exponent")[:2]  # n x^n, x^(n-1)


# --- random programs ---------------------------------------------------------------------------------


def test_random_programs_come_from_the_seed_favour_reuse_and_shrink():
    unit = load_assignment("micrograd").units[0]
    drawn = generated_programs(3, unit)
    assert drawn == generated_programs.__wrapped__(3, unit) and len(drawn) == unit.scalar.examples
    assert drawn != generated_programs.__wrapped__(4, unit)
    assert sum(any(u > 1 for u in p.uses()) for p in drawn) >= len(drawn) // 3  # a Value used twice, often
    assert all({f[0] for f in p.forms()} <= set(unit.scalar.operators + unit.scalar.methods) for p in drawn)
    big = max(drawn, key=lambda p: len(p.code))
    assert all(len(s.code) < len(big.code) or s.leaves != big.leaves for s in simpler(big))


# --- mutants of closure-style code -------------------------------------------------------------------

ENGINE = """
class Value:
    def __init__(self, data, _children=()):
        self.data, self.grad, self._prev = data, 0.0, _children
        self._backward = lambda: None

    def __mul__(self, other):
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad -= -self.data * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = (2.718281828 ** (2 * self.data) - 1) / (2.718281828 ** (2 * self.data) + 1)
        out = Value(t, (self,))

        def _backward():
            self.grad += (1 - t ** 2) * out.grad

        out._backward = _backward
        return out
"""


@pytest.mark.parametrize(
    "mutant_id, edit",
    [
        ("Value.__mul__._backward:overwrite#0", "self.grad = other.data * out.grad"),
        ("Value.__mul__._backward:overwrite#1", "other.grad = -(-self.data * out.grad)"),
        ("Value.__mul__._backward:negate#1", "other.grad -= -(-self.data * out.grad)"),
        ("Value.__mul__._backward:double#0", "self.grad += 2 * (other.data * out.grad)"),
        ("Value.__mul__._backward:zero#0", "self.grad += 0.0"),
        ("Value.tanh._backward:at_input#0", "self.grad += (1 - self.data ** 2) * out.grad"),
    ],
)
def test_closure_backward_terms_are_mutated(mutant_id, edit):
    mutants = {m.id: m for m in mutants_of_source(ENGINE, "engine.py").mutants}
    assert set(mutants) >= {f"engine.py:{mutant_id}"}
    assert edit in mutants[f"engine.py:{mutant_id}"].source


# --- malformed declarations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "old, new, field, words",
    [
        ('engine = "Value"', 'engine = "Valu"', "units[1].engine", "expected the name of a scalar_engine unit"),
        ('methods = ["exp", "tanh", "relu"]', 'methods = ["exp", "cosh"]', "units[0].methods[1]", "one of exp, tanh"),
        ("{ nin = 2, nouts = [3, 2] }", "{ nin = 2 }", "units[1].cases[1]", "expected nouts"),
        ('model = "topo_no_visited"', 'gradients = "topo"', "units[0].bugs[4]", "expected model"),
        (
            'modules = ["engine", "nn"]',
            'modules = ["nn", "engine"]',
            "units[1].engine",
            "expected module engine before",
        ),
        ("depth = 300 ", "depth = 300\nweights = { normal = 1.0 }", "units[0].weights", "only a scalar_nn"),
        ('name = "MLP"', 'name = "MLP"\nexponents = [2]', "units[1].exponents", "only a scalar_engine"),
    ],
)
def test_malformed_scalar_declarations_name_the_field(tmp_path, old, new, field, words):
    assert old in TOML
    folder = tmp_path / "hw"
    folder.mkdir()
    text = TOML.replace(old, new, 1).replace('{ path = "reference" }', f'{{ path = "{REFERENCE}" }}')
    (folder / FILE_NAME).write_text(text)
    with pytest.raises(AssignmentError) as e:
        load_assignment(folder)
    assert f"{field}: " in str(e.value) and words in str(e.value), str(e.value)


def test_scalar_fields_are_refused_on_other_styles(tmp_path):
    lecture = (BUNDLED / "lecture" / FILE_NAME).read_text(encoding="utf-8")
    path = tmp_path / "a.toml"
    path.write_text(lecture.replace('name = "AddGate"', 'name = "AddGate"\noperators = ["add"]', 1))
    with pytest.raises(AssignmentError, match=r"units\[0\]\.operators: only a scalar_engine or scalar_nn unit"):
        load_assignment(path)
