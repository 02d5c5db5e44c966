"""Grading end to end through the real sandbox: the reference and correct students get full marks
on several seeds; each planted bug fails the right checks, with the right diagnosis, and costs
nothing elsewhere."""

import json
import shutil
from pathlib import Path

import pytest

from gradcheck.assignment import load_assignment
from gradcheck.grading import grade_submission
from gradcheck.sandbox import Limits, Sandbox

pytestmark = pytest.mark.system  # every test here starts real processes (tests/README.md)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "submissions"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ASSIGNMENT = load_assignment()


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(Limits(**ASSIGNMENT.limits)) as sb:
        yield sb


def grade(sandbox, path, seed=0):
    return grade_submission(path, ASSIGNMENT, seed, sandbox)


def failing(report):
    return {c["id"]: c for c in report["checks"] if c["status"] != "pass"}


@pytest.mark.parametrize("seed", [0, 1, 12345])
@pytest.mark.parametrize(
    "path",
    [ROOT / "reference", EXAMPLES / "correct", FIXTURES / "float32", FIXTURES / "loops"],
    ids=["reference", "correct-student", "float32-student", "loops-student"],
)
def test_correct_submissions_get_full_marks(sandbox, path, seed):
    report = grade(sandbox, path, seed)
    assert failing(report) == {}
    assert report["score"] == report["max_score"] == 100.0
    assert report["seed"] == seed and report["status"] == "graded"


# planted bug -> (check ids that must fail, substring of the diagnosis of the first)
PLANTED = {
    "swapped-multiply": ({"gates.MultiplyGate.backward", "gates.MultiplyGate.numerical"}, "swapped"),
    "sigmoid-ignores-dout": ({"gates.SigmoidGate.backward", "gates.SigmoidGate.numerical"}, "ignores the upstream"),
    # no gradient of the input's shape: centered differences have nothing to compare with (an error, no point)
    "matmul-transposed": (
        {"gates.MatMulGate.backward", "gates.MatMulGate.shapes", "gates.MatMulGate.numerical"},
        "transposed",
    ),
    "softmax-sum-not-mean": (
        {"gates.SoftmaxCrossEntropyGate.backward", "gates.SoftmaxCrossEntropyGate.numerical"},
        "N = ",
    ),
    "branch-overwrite": (
        {"graph.branches", "graph.same_node_twice", "graph.random_graphs"},
        "overwritten instead of added",
    ),
    "sgd-wrong-sign": ({"mlp.sgd_step", "mlp.train"}, "wrong sign"),
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_planted_bug_fails_exactly_its_checks_with_its_diagnosis(sandbox, name):
    expected, diagnosis = PLANTED[name]
    report = grade(sandbox, EXAMPLES / name)
    bad = failing(report)
    assert set(bad) == expected, {k: v["message"] for k, v in bad.items()}
    first = next(c for c in report["checks"] if c["id"] in expected and c.get("details", {}).get("diagnosis"))
    assert diagnosis in first["details"]["diagnosis"]
    assert all(
        c["status"] == "fail" or (c["status"] == "error" and c["message"].startswith("could not be checked"))
        for c in bad.values()
    )


def test_one_wrong_gate_costs_only_that_gates_points(sandbox):
    """A student whose MLP and graph use a wrong gate loses that gate's points and nothing else."""
    report = grade(sandbox, EXAMPLES / "softmax-sum-not-mean")
    lost = {c["id"] for c in report["checks"] if c["score"] < c["max_score"]}
    assert lost and all(i.startswith("gates.SoftmaxCrossEntropyGate.") for i in lost)


def test_random_graph_failure_is_shrunk_to_a_readable_formula(sandbox):
    report = grade(sandbox, EXAMPLES / "branch-overwrite")
    check = failing(report)["graph.random_graphs"]
    example = check["details"]["counterexample"]
    assert example.startswith("f(") and "expected" in example and "got" in example
    assert len(example) < 300


def test_same_seed_same_report(sandbox):
    a, b = (grade(sandbox, EXAMPLES / "swapped-multiply", seed=7) for _ in range(2))
    a.pop("timing"), b.pop("timing")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_broken_module_affects_only_checks_that_need_it(sandbox, tmp_path):
    sub = tmp_path / "broken-mlp"
    shutil.copytree(ROOT / "reference", sub)
    (sub / "mlp.py").write_text("def oops(:\n")
    report = grade(sandbox, sub)
    for c in report["checks"]:
        if c["id"].startswith("mlp."):
            assert c["status"] == "error" and "SyntaxError" in c["message"], c
        else:
            assert c["status"] == "pass", c
    assert report["modules"]["mlp"]["ok"] is False


def test_missing_class_is_reported_by_name(sandbox, tmp_path):
    sub = tmp_path / "no-max"
    shutil.copytree(ROOT / "reference", sub)
    text = (sub / "gates.py").read_text().replace("class MaxGate:", "class MaxGateRenamed:")
    (sub / "gates.py").write_text(text)
    bad = failing(grade(sandbox, sub))
    assert set(bad) == {f"gates.MaxGate.{a}" for a in ("forward", "backward", "numerical", "shapes", "no_mutation")}
    assert all(c["status"] == "missing" and "MaxGate" in c["message"] for c in bad.values())


def test_float32_student_with_a_planted_bug_is_still_caught(sandbox, tmp_path):
    sub = tmp_path / "float32-swapped"
    shutil.copytree(FIXTURES / "float32", sub)
    text = (sub / "gates.py").read_text()
    assert "return dz * self.y, dz * self.x" in text
    (sub / "gates.py").write_text(text.replace("return dz * self.y, dz * self.x", "return dz * self.x, dz * self.y"))
    bad = failing(grade(sandbox, sub))
    assert {"gates.MultiplyGate.backward", "gates.MultiplyGate.numerical"} <= set(bad)
    assert "swapped" in bad["gates.MultiplyGate.backward"]["details"]["diagnosis"]


def test_mlp_that_ignores_net_params_is_diagnosed(sandbox, tmp_path):
    sub = tmp_path / "frozen-params"
    shutil.copytree(ROOT / "reference", sub)
    text = (sub / "mlp.py").read_text()
    text = text.replace(
        '            self.params[f"b{i}"] = np.zeros(fan_out)\n',
        '            self.params[f"b{i}"] = np.zeros(fan_out)\n        self.frozen = dict(self.params)\n',
    )
    text = text.replace(
        'a = hs[-1] @ self.params[f"W{i}"].T + self.params[f"b{i}"]',
        'a = hs[-1] @ self.frozen[f"W{i}"].T + self.frozen[f"b{i}"]',
    )
    (sub / "mlp.py").write_text(text)
    bad = failing(grade(sandbox, sub))
    assert "mlp.forward.tanh" in bad
    assert "ignores net.params" in bad["mlp.forward.tanh"]["details"]["diagnosis"]


def test_a_folder_holding_the_submission_folder_is_graded_and_missing_files_are_named(sandbox, tmp_path):
    outer = tmp_path / "alice"
    shutil.copytree(ROOT / "reference", outer / "homework")
    report = grade(sandbox, outer)
    assert report["score"] == 100.0 and report["submission"] == "alice"
    assert "graded the files in homework/" in report["message"]
    empty = tmp_path / "bob"
    empty.mkdir()
    (empty / "gates.py").write_text((ROOT / "reference" / "gates.py").read_text())
    report = grade(sandbox, empty)
    assert "missing: graph.py, mlp.py" in report["message"]
    mlp = next(c for c in report["checks"] if c["id"] == "mlp.loss")
    assert mlp["status"] == "error" and "mlp.py is not in the submission folder" in mlp["message"]
