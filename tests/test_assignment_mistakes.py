"""What an assignment folder gets wrong is said as the assignment's error, and what it holds stays out of
the workers' reach (a red-team review of assignments as data, tests/hostile/rt13_*):

- the model solution is hidden from student code wherever it lives: a folder outside the assignment's,
  or an installed package (which sits next to numpy in the Python installation workers are given: a
  submission that imported it earned 40 of 40 on the layers assignment without a line of its own);
- the container modes (Gradescope, PrairieLearn) load the assignment's modules, not the lecture's (a
  correct layers submission got 0 of 40 there: "layers.py was not found").
"""

from pathlib import Path

import pytest

from gradcheck.assignment import load_assignment
from gradcheck.batch import GraderError, assignment_paths, grade_one
from gradcheck.formats import container

LAYERS = Path(__file__).resolve().parent.parent / "gradcheck" / "assignments" / "layers" / "assignment.toml"
REFERENCE = Path(__file__).resolve().parent.parent / "reference" / "layers" / "layers.py"


def _layers_folder(tmp_path, reference_path="reference", edit=lambda text: text, extra=""):
    """A copy of the bundled layers assignment as an instructor's folder, its reference at
    ``reference_path`` (relative to the folder), the reference's text followed by ``extra``."""
    hw = tmp_path / "hw"
    hw.mkdir()
    text = LAYERS.read_text().replace(
        'reference = { package = "gradcheck.reference.layers" }', f'reference = {{ path = "{reference_path}" }}'
    )
    (hw / "assignment.toml").write_text(edit(text))
    folder = (hw / reference_path).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "layers.py").write_text(REFERENCE.read_text() + extra)
    return hw


def test_the_container_modes_load_the_assignments_modules():
    sandbox = container.container_sandbox(load_assignment("layers"), [])
    assert sandbox.modules == ("layers",)
    assert container.container_sandbox(load_assignment(), []).modules == ("gates", "graph", "mlp")


@pytest.mark.parametrize("where", ["reference", "../solution"], ids=["inside the folder", "outside it"])
def test_the_model_solution_is_hidden_from_the_workers_wherever_it_is(tmp_path, where):
    a = load_assignment(_layers_folder(tmp_path, where))
    assert str(a.reference_dir) in assignment_paths(a)
    seen = []

    def factory(assignment, hide):
        seen.extend(hide)
        raise OSError("no sandbox needed")

    with pytest.raises(GraderError):
        grade_one(tmp_path, a, sandbox_factory=factory)
    assert str(a.reference_dir) in seen and str((tmp_path / "hw").resolve()) in seen


def test_an_installed_reference_package_is_hidden_too():
    a = load_assignment("layers")  # reference = { package = "gradcheck.reference.layers" }
    assert a.reference_dir.name == "layers" and str(a.reference_dir) in assignment_paths(a)
