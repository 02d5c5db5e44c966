"""Stand-ins attacked (a red-team review of gradcheck/standins.py and the worker's stand-ins: tests/hostile/rt21_*).

Each fixture's layers.py fails its own checks (so the session that grades TwoLayerNet computes the layers
on the grader's side) and its fc_net.py, or its layers.py, uses that channel against the grader: to keep
the grader's memory, to make a report depend on the grading order, to make the grader allocate what the
student chooses, or to have the layers graded with the grader's values. Graded once as a class (seed 3,
two jobs), like tests/test_layers_hostile.py; what is known to be open is a strict xfail, so that a fix
shows. The trusted side's half of each fix is also tested directly (fast)."""

import contextlib
import functools
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from gradcheck import standins as standins_module
from gradcheck.assignment import load_assignment
from gradcheck.assignment.reference import reference_module
from gradcheck.report.student import student_view
from gradcheck.standins import StandIns

HERE = Path(__file__).resolve().parent
LAYERS_TOML = HERE.parent / "gradcheck" / "assignments" / "layers" / "assignment.toml"
LAYERS = load_assignment("layers")
RAISING = ("rt21_standin_memory", "rt21_unseeded_dropout", "rt21_standin_amplify", "rt21_channel_in_own")
FIXTURES = (*RAISING, "rt21_affine_3d_only")
COPIES = ("rt21_unseeded_dropout", "rt21_unseeded_dropout_2", "rt21_unseeded_dropout_3")
MODEL_POINTS = 6.0  # TwoLayerNet's checks: a model built from stand-ins is the student's composition


def standins():
    return StandIns(LAYERS.units, {}, functools.partial(reference_module, LAYERS))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("standins-hostile")
    klass, out = base / "class", base / "reports"
    klass.mkdir()
    for case in FIXTURES:
        shutil.copytree(HERE / "hostile" / case, klass / case, ignore=shutil.ignore_patterns("__pycache__"))
    for copy in COPIES[1:]:  # three copies over two jobs: two of them are graded by the same process
        shutil.copytree(klass / COPIES[0], klass / copy)
    for folder in klass.iterdir():
        if not (folder / "fc_net.py").exists():
            shutil.copy(HERE.parent / "examples" / "layers" / "correct" / "fc_net.py", folder / "fc_net.py")
    reference = f'reference = {{ path = "{LAYERS_TOML.parent / "reference"}" }}'
    text = LAYERS_TOML.read_text().replace('reference = { path = "reference" }', reference)
    (base / "layers.toml").write_text(text)  # the default limits: a model on stand-ins makes ~2,000 round trips
    from gradcheck.batch import grade_class

    # the grader processes' data limit (gradcheck.batch.limit_grader_memory) at 512 MB, so that
    # rt21_standin_amplify's second call (a 512 MB padded input) exceeds it
    with _environ(GRADCHECK_GRADER_MEMORY_MB="512"):
        grade_class(klass, out, load_assignment(base / "layers.toml"), seed=3, jobs=2)
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}


@contextlib.contextmanager
def _environ(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _points(report, prefix):
    return sum(c["score"] for c in report["checks"] if c["id"].startswith(prefix))


@pytest.mark.system
@pytest.mark.parametrize("case", RAISING)
def test_the_layers_earn_nothing(graded, case):
    """Every fixture's layers raise or ask the channel for the grader's values: no layer point."""
    report = graded[case]
    assert report["status"] == "graded", report.get("message")
    assert _points(report, "layers.") == 0, [c["id"] for c in report["checks"] if c["score"] > 0]


@pytest.mark.system
@pytest.mark.parametrize("case", ["rt21_standin_memory", "rt21_channel_in_own", "rt21_standin_amplify"])
def test_a_correct_model_keeps_its_points(graded, case):
    """Their TwoLayerNet is correct: graded with stand-ins for the failing layers, it keeps its 6 points
    (the network's points are for composing the layers, which the student did)."""
    assert _points(graded[case], "fc_net.TwoLayerNet.") == MODEL_POINTS, graded[case]["output"]["text"]


@pytest.mark.system
def test_a_model_that_raises_with_the_students_own_layers_is_not_credited(graded):
    """rt21_affine_3d_only's TwoLayerNet raises with its own affine (3-D x only): re-judging it with
    stand-ins must not turn those errors into passes."""
    report = graded["rt21_affine_3d_only"]
    earned = {c["id"]: c["status"] for c in report["checks"] if c["id"].startswith("fc_net.") and c["score"] > 0}
    assert set(earned) <= {"fc_net.TwoLayerNet.params"}, earned  # its constructor is right
    assert _points(report, "layers.relu.") == 5  # the rest of its layers are the correct example's


@pytest.mark.system
def test_the_memory_kept_for_stand_ins_is_bounded(graded):
    """rt21_standin_memory makes the grader keep 8 caches of 32 MB: the oldest are dropped."""
    text = graded["rt21_standin_memory"]["output"]["text"]
    assert "FIRST CACHE DROPPED" in text and "FIRST CACHE KEPT" not in text, text


@pytest.mark.system
def test_a_stand_in_that_draws_random_numbers_is_reproducible(graded):
    """Three copies of rt21_unseeded_dropout (a dropout stand-in without a seed) get the same checks."""
    checks = [
        [{k: c.get(k) for k in ("id", "status", "score", "message", "details")} for c in graded[n]["checks"]]
        for n in COPIES
    ]
    assert checks[0] == checks[1] == checks[2]
    assert _points(graded[COPIES[0]], "fc_net.TwoLayerNet.") < MODEL_POINTS  # it is not the contract's network


@pytest.mark.system
def test_the_grader_does_not_allocate_what_the_student_chooses(graded):
    """The grader process's data limit turns rt21_standin_amplify's large padding into the stand-in's
    error (its time is bounded by the hung-grader timeout: not tested here)."""
    text = graded["rt21_standin_amplify"]["output"]["text"]
    assert "PAD 1000 answered" in text, text  # the stand-in was reached
    assert "PAD 4000 refused RuntimeError" in text, text


@pytest.mark.system
def test_no_grader_fault(graded):
    for name, report in graded.items():
        assert not any(c.get("details", {}).get("grader_fault") for c in report["checks"]), name


@pytest.fixture(scope="module")
def withheld_affine(tmp_path_factory):
    """rt21_oracle_hidden_unit graded with layers.affine's checks withheld until the due date."""
    base = tmp_path_factory.mktemp("standins-withheld")
    klass, out = base / "class", base / "reports"
    shutil.copytree(HERE / "hostile" / "rt21_oracle_hidden_unit", klass / "rt21_oracle_hidden_unit")
    checks = "".join(
        f'\n[[checks]]\nid = "{c.id}"\npoints = {c.points}\n'
        f'visibility = "{"after_due_date" if c.id.startswith("layers.affine.") else "visible"}"\n'
        for c in LAYERS.checks
    )
    reference = f'reference = {{ path = "{LAYERS_TOML.parent / "reference"}" }}'
    text = LAYERS_TOML.read_text().replace('reference = { path = "reference" }', reference)
    (base / "layers.toml").write_text(text + checks)
    from gradcheck.batch import grade_class

    assignment = load_assignment(base / "layers.toml")
    grade_class(klass, out, assignment, seed=3, jobs=1)
    return assignment, json.loads((out / "rt21_oracle_hidden_unit.json").read_text())


@pytest.mark.system
def test_a_withheld_unit_has_no_stand_in_in_the_visible_checks(withheld_affine):
    """The visible TwoLayerNet messages do not carry the reference's affine (its checks are withheld)."""
    assignment, report = withheld_affine
    assert report["status"] == "graded", report.get("message")
    assert any(c.visibility == "after_due_date" for c in assignment.checks)
    shown = student_view(report)
    messages = [c.get("message", "") for c in shown["checks"] if c["id"].startswith("fc_net.")]
    assert messages and not any("ORACLE 3.5" in m for m in messages), messages
    assert any("NO ORACLE NotImplementedError" in m for m in messages), messages  # its own affine ran


def test_an_unseeded_dropout_stand_in_does_not_depend_on_the_graders_generator():
    x = np.ones((4, 6))
    request = {"id": 5, "unit": "layers.dropout", "step": "f", "values": 1, "param": {"mode": "train", "p": 0.5}}
    masks = []
    for state in (0, 1):
        np.random.seed(state)  # what the grader's process happened to do before
        head, out = standins().handle({**request, "param_arrays": []}, [x])
        assert "error" not in head, head
        masks.append(out[0])
    assert np.array_equal(masks[0], masks[1]) and 0 < masks[0].sum() < x.size * 2


def test_what_stand_ins_keep_is_bounded_in_bytes(monkeypatch):
    monkeypatch.setattr(standins_module, "MAX_KEPT_BYTES", 3 * 8000 + 100)
    s, x, w, b = standins(), np.ones((1, 500)), np.ones((500, 1)), np.ones(1)  # a cache of x and w: 8000 bytes
    for ident in range(1, 6):
        assert "error" not in s.handle({"id": ident, "unit": "layers.affine", "step": "f", "values": 3}, [x, w, b])[0]
    assert s.kept_bytes <= standins_module.MAX_KEPT_BYTES and sorted(s.caches) == [3, 4, 5]
    head, _ = s.handle({"id": 1, "unit": "layers.affine", "step": "b", "values": 1}, [np.ones((1, 1))])
    assert "cache" in head["error"]  # dropped: its backward is refused
    head, grads = s.handle({"id": 5, "unit": "layers.affine", "step": "b", "values": 1}, [np.ones((1, 1))])
    assert "error" not in head and grads[1].shape == (500, 1)


def test_a_withheld_unit_is_never_replaced_nor_answered():
    s = StandIns(LAYERS.units, {}, functools.partial(reference_module, LAYERS), withheld={"layers.affine"})
    assert "layers.affine" not in s.names() and "layers.relu" in s.names()
    head, out = s.handle({"id": 1, "unit": "layers.affine", "step": "f", "values": 3}, [np.ones((2, 3))] * 3)
    assert "malformed" in head["error"] and out == []
