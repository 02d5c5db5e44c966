"""The micrograd assignment attacked (tests/hostile/mg_*), graded as a class with the real grader next to
honest examples: each hostile submission earns nothing at its hostile spot and keeps the points of
what it honestly implements; the honest-but-odd engines (mg_false_*) keep full marks; what is known to
be open is marked xfail, strictly, so that a fix shows. Every fixture holds only the modules it
plants something in (completed with the reference's, hostile_corpus.materialize), is bounded by
itself, and its docstring says what it does and what a safe grader must do."""

import json
import shutil
from pathlib import Path

import pytest
from hostile_corpus import materialize

from gradcheck.assignment import load_assignment

pytestmark = pytest.mark.system  # every test here starts real processes (tests/README.md)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MICROGRAD = ROOT / "gradcheck" / "assignments" / "micrograd"
#: materialize(case, dst, **MG): a case completed with the micrograd reference's modules
MG = {
    "reference": MICROGRAD / "reference",
    "modules": ("engine.py", "nn.py"),
    "honest": {"honest_engine": "engine.py", "honest_nn": "nn.py"},
}
ALL = [c.id for c in load_assignment("micrograd").checks]
ENGINE = [i for i in ALL if i.startswith("engine.")]
NN = [i for i in ALL if i.startswith("nn.")]


def nn(*aspects):
    return [f"nn.{a}" for a in aspects]


NO_GRADIENT = ENGINE + nn("gradients", "zero_grad", "train")  # an engine that computes no gradient
# case -> the check ids that must earn nothing
UNDESERVED = {
    "mg_borrow_reference": NO_GRADIENT,
    "mg_request_sniffer": NO_GRADIENT,
    "mg_probe_detect": ENGINE + nn("gradients", "train"),
    "mg_train_lies": NO_GRADIENT,
    "mg_monkeypatch": NO_GRADIENT,
    "mg_nasty_numbers": ENGINE + nn("forward", "gradients", "zero_grad", "train"),
    "mg_shapeshifting_data": ALL,
    "mg_fresh_parameters": NN,
    "mg_params_detached": NN,
    "mg_recursion_bomb": ["engine.Value.deep_chain"],
    "mg_resource_bombs": ["engine.Value.deep_chain", "nn.zero_grad"],
    "mg_sacrifice_form": ["engine.Value.mul", "engine.Value.dag"],
}
# what is still earned without the work: each fixture's docstring says why
KNOWN_OPEN = {
    "mg_finite_differences": ENGINE + nn("gradients"),
}
# the honest parts of a hostile submission: they must keep their points
KEEP = {
    "mg_borrow_reference": nn("parameters", "forward"),
    "mg_request_sniffer": nn("parameters", "forward"),
    "mg_probe_detect": nn("parameters", "forward", "zero_grad"),
    "mg_train_lies": nn("parameters", "forward"),
    "mg_monkeypatch": nn("parameters", "forward"),
    "mg_nasty_numbers": nn("parameters"),
    "mg_fresh_parameters": ENGINE,
    "mg_params_detached": ENGINE,
    "mg_recursion_bomb": [i for i in ALL if i != "engine.Value.deep_chain"],
    "mg_resource_bombs": [i for i in ALL if i not in ("engine.Value.deep_chain", "nn.zero_grad")],
    "mg_sacrifice_form": [
        i for i in ENGINE if i not in ("engine.Value.mul", "engine.Value.dag", "engine.Value.deep_chain")
    ],
}
HONEST = {
    **{n: ROOT / "examples" / "micrograd" / n for n in ("correct", "dispatch-table")},
    "mg_false_float_value": None,  # NOT HOSTILE: full marks
    "mg_false_eq_hash": None,
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("micrograd-hostile")
    klass, out = base / "class", base / "reports"
    klass.mkdir()
    for name, src in HONEST.items():
        if src is None:
            materialize(name, klass / name, **MG)
        else:
            shutil.copytree(src, klass / name, ignore=shutil.ignore_patterns("__pycache__"))
    for case in {*UNDESERVED, *KNOWN_OPEN}:
        materialize(case, klass / case, **MG)
    toml = MICROGRAD / "assignment.toml"
    reference = f'reference = {{ path = "{MICROGRAD / "reference"}" }}'  # the bundled one, from elsewhere
    text = toml.read_text().replace('reference = { path = "reference" }', reference)
    (base / "micrograd.toml").write_text(text + "\n[limits]\ncall_seconds = 5\n")
    assignment = load_assignment(base / "micrograd.toml")
    assert assignment.limits["call_seconds"] == 5
    from gradcheck.batch import grade_class

    grade_class(klass, out, assignment, seed=3, jobs=2)
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}


def _earned(report, check_ids):
    return {c["id"]: c["message"] for c in report["checks"] if c["id"] in check_ids and c["score"] > 0}


def test_honest_engines_keep_full_marks(graded):
    for name in HONEST:
        report = graded[name]
        lost = {c["id"]: c["message"] for c in report["checks"] if c["score"] < c["max_score"]}
        assert report["score"] == report["max_score"] == load_assignment("micrograd").max_score, (name, lost)


@pytest.mark.parametrize("case", sorted(UNDESERVED))
def test_no_point_without_proof(graded, case):
    report = graded[case]
    assert report["status"] == "graded", report.get("message")
    earned = _earned(report, UNDESERVED[case])
    assert not set(earned) - set(KNOWN_OPEN.get(case, ())), f"{case} earned points it does not deserve: {earned}"
    kept = {c["id"]: c["message"] for c in report["checks"] if c["id"] in KEEP.get(case, ()) and c["status"] != "pass"}
    assert not kept, f"{case}: its hostile part cost the checks of its honest code: {kept}"


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True, reason="known and open: see the fixture"))
        for c in sorted(KNOWN_OPEN)
    ],
)
def test_known_open(graded, case):
    assert not _earned(graded[case], KNOWN_OPEN[case])


def test_no_grader_fault(graded):
    assert set(graded) == {*HONEST, *UNDESERVED, *KNOWN_OPEN}
    for name, report in graded.items():
        assert not any(c.get("details", {}).get("grader_fault") for c in report["checks"]), name
