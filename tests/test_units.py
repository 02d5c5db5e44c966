"""Assignments as data: units declared in TOML (gradcheck.units), their problems named, and a new unit
added by a TOML entry and a reference class, graded like the bundled ones."""

import pytest

from gradcheck.assignment import AssignmentError, load_assignment
from gradcheck.batch import grade_one
from gradcheck.units import Domain

LEAKY_TOML = """
name = "leaky"
modules = ["gates"]

[[units]]
name = "LeakyReLUGate"
style = "gate"
module = "gates"
inputs = [{ name = "x", domain = { away_from_zero = [0.1, 2.0] } }]
constant = { name = "slope", domain = { uniform = [0.01, 0.3] } }
"""

LEAKY_REFERENCE = """
import numpy as np


class LeakyReLUGate:
    def __init__(self, slope):
        self.slope = slope

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.slope * x)

    def backward(self, dz):
        return [dz * np.where(self.x > 0, 1.0, self.slope)]
"""


def _folder(tmp_path, toml=LEAKY_TOML, reference=LEAKY_REFERENCE):
    hw = tmp_path / "hw"
    (hw / "reference").mkdir(parents=True)
    (hw / "assignment.toml").write_text(toml)
    (hw / "reference" / "gates.py").write_text(reference)
    return hw


def test_a_new_unit_is_a_toml_entry_with_its_checks_and_reference(tmp_path):
    a = load_assignment(_folder(tmp_path))
    assert a.name == "leaky" and a.modules == ("gates",)
    assert a.check_ids == tuple(
        f"gates.LeakyReLUGate.{x}" for x in ("forward", "backward", "numerical", "shapes", "no_mutation")
    )
    (unit,) = a.units
    assert unit.constant.name == "slope" and unit.inputs[0].domain == Domain("away_from_zero", (0.1, 2.0))
    assert a.reference_dir == (tmp_path / "hw" / "reference").resolve()
    assert a.max_score == 1 + 2 + 1 + 1 + 1  # [points] by aspect, the defaults


@pytest.mark.system
def test_the_new_unit_grades_a_correct_and_a_wrong_submission(tmp_path):
    a = load_assignment(_folder(tmp_path))
    good = tmp_path / "good"
    good.mkdir()
    (good / "gates.py").write_text(LEAKY_REFERENCE)
    bad = tmp_path / "bad"
    bad.mkdir()  # the slope forgotten in backward: a ReLU's gradient
    (bad / "gates.py").write_text(LEAKY_REFERENCE.replace("np.where(self.x > 0, 1.0, self.slope)", "(self.x > 0)"))
    report = grade_one(good, a, seed=3)[0]
    assert report["score"] == report["max_score"] == 6, report
    report = grade_one(bad, a, seed=3)[0]
    status = {c["id"].rsplit(".", 1)[1]: c["status"] for c in report["checks"]}
    expected = {"forward": "pass", "backward": "fail", "numerical": "fail", "shapes": "pass", "no_mutation": "pass"}
    assert status == expected


@pytest.mark.parametrize(
    "change, field, words",
    [
        (('module = "gates"\ninputs', 'module = "nn"\ninputs'), "units[0].module", "one of the file's modules"),
        (('modules = ["gates"]\n', ""), "modules", "missing"),
        (('{ name = "x", domain', '{ name = "x", near = "y", gap = [0.1, 1.0], domain'), "units[0].inputs[0]", ""),
        (('inputs = [{ name = "x", domain', 'inputs = [{ name = "x", shape = ["N"], domain'), "units[0].cases", "N"),
        (('style = "gate"', 'style = "model"'), "units[0].style", "MLP"),
        (('style = "gate"', 'style = "scalar"'), "units[0].style", "one of gate, function_pair"),
    ],
    ids=["module not listed", "no modules", "near a later input", "size not bound", "other model", "unknown style"],
)
def test_a_malformed_unit_is_named_with_its_field(tmp_path, change, field, words):
    hw = _folder(tmp_path, toml=LEAKY_TOML.replace(*change))
    with pytest.raises(AssignmentError) as e:
        load_assignment(hw)
    assert f"{field}" in str(e.value) and words in str(e.value), str(e.value)


def test_a_missing_reference_folder_is_named(tmp_path):
    hw = _folder(tmp_path)
    (hw / "reference" / "gates.py").unlink()
    (hw / "reference").rmdir()
    with pytest.raises(AssignmentError, match="reference.path: expected a folder holding the model solution"):
        load_assignment(hw)


def test_a_bundled_assignment_loads_by_name_and_an_unknown_name_is_a_missing_file():
    assert load_assignment("layers").name == "layers"
    with pytest.raises(AssignmentError, match="file not found"):
        load_assignment("no-such-assignment")


def test_the_lecture_units_keep_the_contracts_gates_in_order():
    a = load_assignment()
    gates = [u.name for u in a.units if u.style == "gate"]
    assert gates[0] == "AddGate" and gates[-1] == "SoftmaxCrossEntropyGate" and len(gates) == 12
    assert [u.style for u in a.units[-2:]] == ["graph", "model"]
    assert a.units[-1].id == "mlp"


@pytest.mark.parametrize("name", ["json", "numpy", "gradcheck"])
def test_a_module_named_like_one_the_worker_imports_is_refused(tmp_path, name):
    toml = LEAKY_TOML.replace('modules = ["gates"]', f'modules = ["{name}"]').replace(
        'module = "gates"', f'module = "{name}"'
    )
    hw = _folder(tmp_path, toml=toml)
    with pytest.raises(AssignmentError) as e:
        load_assignment(hw)
    assert "modules[0]" in str(e.value) and f"{name!r} is a module the worker imports itself" in str(e.value)
