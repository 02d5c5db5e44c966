"""The layers assignment attacked (a red-team review of assignments as data: tests/hostile/rt13_*), graded
as a class with the real grader next to the honest examples: each hostile layers.py earns nothing at its
hostile spot, the honest submissions (and the unusual correct one) keep full marks, and what is known to
be open is marked xfail, strictly, so that a fix shows. Every fixture is a complete layers.py, bounded by
itself (its docstring says what it does and what a safe grader must do)."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradcheck import cli
from gradcheck.assignment import load_assignment

pytestmark = pytest.mark.system  # every test here starts real processes (tests/README.md)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LAYERS = ROOT / "gradcheck" / "assignments" / "layers" / "assignment.toml"
UNITS = ("affine", "relu", "batchnorm", "dropout", "conv", "max_pool", "softmax_loss", "svm_loss")


def ids(units, *aspects):
    return [f"layers.{u}.{a}" for u in units for a in aspects]


# case -> the check ids that must earn nothing
UNDESERVED = {
    "rt13_probe_detect": ids(["affine"], "backward", "numerical"),
    "rt13_global_cache": ids(["affine"], "backward", "numerical"),
    "rt13_param_tricks": ids(["dropout", "conv", "batchnorm"], "no_mutation"),
    "rt13_nasty_returns": ids(["relu", "conv", "affine"], "forward", "backward", "numerical", "shapes", "no_mutation"),
    "rt13_borrow_solution": ids(UNITS, "forward", "backward", "numerical", "shapes", "no_mutation"),
    "rt13_bn_no_running_averages": ids(["dropout"], "forward", "backward", "numerical") + ids(["batchnorm"], "forward"),
}
# what is still earned without the work: each fixture's docstring says why
KNOWN_OPEN = {
    "rt13_finite_differences": ids(UNITS, "backward", "numerical"),
    "rt13_forge_mutation": ids(["relu", "dropout", "max_pool"], "no_mutation"),
}
# unhurt: the checks that must still pass next to the hostile spots
KEEP = {
    "rt13_nasty_returns": ids(["batchnorm", "dropout", "max_pool", "softmax_loss", "svm_loss"], "forward", "backward"),
    "rt13_param_tricks": ids(UNITS, "forward", "backward", "numerical"),
}
HONEST = {
    **{n: ROOT / "examples" / "layers" / n for n in ("correct", "float32-inside", "dict-caches", "loops-everywhere")},
    "rt13_false_star_import": HERE / "hostile" / "rt13_false_star_import",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("layers-hostile")
    klass, out = base / "class", base / "reports"
    klass.mkdir()
    for name, src in HONEST.items():
        shutil.copytree(src, klass / name, ignore=shutil.ignore_patterns("__pycache__"))
    for case in {*UNDESERVED, *KNOWN_OPEN}:
        shutil.copytree(HERE / "hostile" / case, klass / case, ignore=shutil.ignore_patterns("__pycache__"))
    for folder in klass.iterdir():  # a hostile layers.py under the correct example's TwoLayerNet (fc_net.py)
        if not (folder / "fc_net.py").exists():
            shutil.copy(ROOT / "examples" / "layers" / "correct" / "fc_net.py", folder / "fc_net.py")
    reference = f'reference = {{ path = "{LAYERS.parent / "reference"}" }}'  # the bundled one, from elsewhere
    text = (
        LAYERS.read_text().replace('reference = { path = "reference" }', reference) + "\n[limits]\ncall_seconds = 5\n"
    )
    (base / "layers.toml").write_text(text)
    assignment = load_assignment(base / "layers.toml")
    assert assignment.limits["call_seconds"] == 5
    from gradcheck.batch import grade_class

    grade_class(klass, out, assignment, seed=3, jobs=2)
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}


def _earned(report, check_ids):
    return {c["id"]: c["message"] for c in report["checks"] if c["id"] in check_ids and c["score"] > 0}


def test_honest_layers_keep_full_marks(graded):
    for name in HONEST:
        report = graded[name]
        lost = {c["id"]: c["message"] for c in report["checks"] if c["score"] < c["max_score"]}
        assert report["score"] == report["max_score"] == load_assignment("layers").max_score, (name, lost)


@pytest.mark.parametrize("case", sorted(UNDESERVED))
def test_no_point_without_proof(graded, case):
    report = graded[case]
    assert report["status"] == "graded", report.get("message")
    assert not _earned(report, UNDESERVED[case]), f"{case} earned points it does not deserve"
    kept = [c["id"] for c in report["checks"] if c["id"] in KEEP.get(case, ()) and c["status"] != "pass"]
    assert not kept, f"{case}: its hostile part cost other checks: {kept}"


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, marks=pytest.mark.xfail(strict=True, reason="known and open: see the fixture"))
        for c in KNOWN_OPEN
    ],
)
def test_known_open(graded, case):
    assert not _earned(graded[case], KNOWN_OPEN[case])


def test_no_grader_fault(graded):
    for name, report in graded.items():
        assert not any(c.get("details", {}).get("grader_fault") for c in report["checks"]), name


def test_gradescope_mode_grades_the_layers_modules(tmp_path):
    """The container modes load the assignment's modules (they loaded the lecture's: 0 of 40)."""
    results = tmp_path / "results" / "results.json"
    r = CliRunner().invoke(
        cli.main,
        [
            "gradescope",
            "--submission",
            str(ROOT / "examples" / "layers" / "correct"),
            "--results",
            str(results),
            "--assignment",
            "layers",
        ],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    data = json.loads(results.read_text())
    assert data["score"] == load_assignment("layers").max_score, [
        t["output"] for t in data["tests"] if t["score"] < t["max_score"]
    ][:3]
