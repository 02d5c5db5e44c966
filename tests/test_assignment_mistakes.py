"""What an assignment folder gets wrong is said as the assignment's error, and what it holds stays out of
the workers' reach (a red-team review of assignments as data, tests/hostile/rt13_*):

- the model solution is hidden from student code wherever it lives: a folder outside the assignment's,
  or an installed package (which sits next to numpy in the Python installation workers are given: a
  submission that imported it earned 40 of 40 on the layers assignment without a line of its own);
- the container modes (Gradescope, PrairieLearn) load the assignment's modules, not the lecture's (a
  correct layers submission got 0 of 40 there: "layers.py was not found");
- a reference folder without a module's file is refused when the file is loaded; an ``accept``
  condition that no draw meets, or whose function is missing or raises, ends grading with the file's
  name and the unit's field (it was graded on a case near a kink, or every student got 0 points with
  "the grader failed ... please report it").
"""

from pathlib import Path

import pytest

from gradcheck.assignment import AssignmentError, load_assignment
from gradcheck.batch import GraderError, assignment_paths, grade_one
from gradcheck.formats import container
from gradcheck.grading import run_checks

LAYERS = Path(__file__).resolve().parent.parent / "gradcheck" / "assignments" / "layers" / "assignment.toml"
REFERENCE = Path(__file__).resolve().parent.parent / "gradcheck" / "assignments" / "layers" / "reference" / "layers.py"


def _layers_folder(tmp_path, reference_path="reference", edit=lambda text: text, extra=""):
    """A copy of the bundled layers assignment as an instructor's folder, its reference at
    ``reference_path`` (relative to the folder), the reference's text followed by ``extra``."""
    hw = tmp_path / "hw"
    hw.mkdir()
    text = LAYERS.read_text().replace(
        'reference = { path = "reference" }', f'reference = {{ path = "{reference_path}" }}'
    )
    (hw / "assignment.toml").write_text(edit(text))
    folder = (hw / reference_path).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "layers.py").write_text(REFERENCE.read_text() + extra)
    (folder / "fc_net.py").write_text(REFERENCE.with_name("fc_net.py").read_text())
    return hw


def test_the_container_modes_load_the_assignments_modules():
    sandbox = container.container_sandbox(load_assignment("layers"), [])
    assert sandbox.modules == ("layers", "fc_net")
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
    a = load_assignment()  # reference = { package = "gradcheck.reference" }
    assert a.reference_package == "gradcheck.reference" and str(a.reference_dir) in assignment_paths(a)


def test_a_reference_folder_without_a_modules_file_is_refused_at_load(tmp_path):
    hw = _layers_folder(tmp_path)
    (hw / "reference" / "layers.py").rename(hw / "reference" / "layer.py")
    with pytest.raises(AssignmentError, match=r"reference.path: expected layers.py in the model solution's folder"):
        load_assignment(hw)


class _Loaded:
    """A session whose student modules loaded (no call is made: the plans fail first)."""

    standins = None
    modules = {
        "layers": {
            "ok": True,
            "names": [
                f"{n}_{s}"
                for n in ("affine", "relu", "batchnorm", "dropout", "conv", "max_pool")
                for s in ("forward", "backward", "forward_naive", "backward_naive")
            ]
            + ["softmax_loss", "svm_loss"],
        }
    }


@pytest.mark.parametrize(
    "edit, extra, words",
    [
        (
            lambda t: t.replace(
                'function = "svm_loss_kink_distance", min = 0.05', 'function = "svm_loss_kink_distance", min = 5.0'
            ),
            "",
            "units[7].accept: svm_loss: no draw of case 0 in 200 met the condition (svm_loss_kink_distance gave",
        ),
        (
            lambda t: t,
            "\n\ndef svm_loss_kink_distance(x, y):\n    return float('nan')\n",
            "units[7].accept: svm_loss: no draw of case 0 in 200 met the condition (svm_loss_kink_distance gave nan",
        ),
        (
            lambda t: t,
            "\n\ndef max_pool_tie_distance(x, pool_param):\n    raise RuntimeError('instructor typo')\n",
            "units[5].accept: max_pool: the reference's max_pool_tie_distance raised RuntimeError: instructor typo",
        ),
        (
            lambda t: t.replace('"max_pool_tie_distance"', '"max_pool_tie_dist"'),
            "",
            "units[5].accept: max_pool: the reference module layers has no function max_pool_tie_dist",
        ),
    ],
    ids=["impossible bound", "function returns nan", "function raises", "no such function"],
)
def test_an_accept_condition_that_cannot_be_met_is_the_assignments_error(tmp_path, edit, extra, words):
    a = load_assignment(_layers_folder(tmp_path, edit=edit, extra=extra))
    with pytest.raises(AssignmentError) as e:
        run_checks(_Loaded(), _Loaded(), a, seed=0)
    assert str(a.path) in str(e.value) and words in str(e.value), str(e.value)
