"""No file of a submission is imported or executed in a grader process, whatever the working
directory, the folder names, or how gradcheck was started (console script, ``python -m gradcheck``,
``python -m gradcheck.cli``).

The fixture is a course folder holding a ``numpy.py``, a ``json.py`` and submissions named like
standard-library modules (``selectors``, ``types``, each a package with a poisoned
``__init__.py``) next to a correct one. Every poisoned module, if a grader process imported it,
writes a marker file outside the course folder and raises. Every hostile file is bounded: it only
writes one small file in the test's own temporary folder. The submissions hold the reference's
modules: all of them keep full marks, and no marker appears.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODULES = ("gates.py", "graph.py", "mlp.py")
POISON = """import os
with open({marker!r}, "a") as f:
    f.write("{name} imported by pid %d uid %d\\n" % (os.getpid(), os.getuid()))
raise ImportError("poisoned {name} imported by the grader")
"""


def _submission(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for m in MODULES:
        shutil.copy(REPO / "reference" / m, folder / m)
    return folder


@pytest.fixture
def course(tmp_path):
    """(course folder, marker file)."""
    marker = tmp_path / "imported-by-grader.txt"
    root = tmp_path / "course"
    _submission(root / "correct")
    for name in ("selectors", "types"):
        (_submission(root / name) / "__init__.py").write_text(POISON.format(marker=str(marker), name=name))
    for name in ("numpy", "json", "jsonschema", "click"):
        (root / f"{name}.py").write_text(POISON.format(marker=str(marker), name=name))
    return root, marker


def _env():
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}


def _console_script() -> str:
    script = Path(sys.executable).with_name("gradcheck")
    return str(script) if script.exists() else shutil.which("gradcheck")


STARTS = {
    "console script": lambda: [_console_script()],
    "python -m gradcheck": lambda: [sys.executable, "-m", "gradcheck"],
    "python -m gradcheck.cli": lambda: [sys.executable, "-m", "gradcheck.cli"],
    "python -I -m gradcheck": lambda: [sys.executable, "-I", "-m", "gradcheck"],
}


@pytest.mark.system
@pytest.mark.parametrize("start", list(STARTS))
def test_grade_from_inside_the_submissions_folder_imports_nothing_of_it(course, tmp_path, start):
    root, marker = course
    out = tmp_path / "reports"
    p = subprocess.run(
        [*STARTS[start](), "grade", ".", "--out", str(out), "--jobs", "2"],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert not marker.exists(), marker.read_text()
    assert p.returncode == 0, p.stdout + p.stderr
    summary = json.loads((out / "summary.json").read_text())
    scores = {s["submission"]: (s["status"], s["score"]) for s in summary["submissions"]}
    assert scores == {name: ("graded", 100.0) for name in ("correct", "selectors", "types")}, scores


@pytest.mark.system
@pytest.mark.parametrize("start", ["python -m gradcheck", "python -m gradcheck.cli"])
def test_check_inside_a_submission_with_its_own_numpy_py(course, tmp_path, start):
    root, marker = course
    sub = root / "correct"
    (sub / "numpy.py").write_text(POISON.format(marker=str(marker), name="numpy"))
    (sub / "__init__.py").write_text("")
    p = subprocess.run(
        [*STARTS[start](), "check", "."], cwd=sub, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert not marker.exists(), marker.read_text()
    # the student's own numpy.py shadows numpy in their own worker only: their code, their result
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Score:" in p.stdout


def test_working_directory_is_left_out_of_the_grader_processes_path(tmp_path, monkeypatch):
    from gradcheck.workdir import without_working_directory

    here = str(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert without_working_directory(["", here, ".", "/usr/lib/python3"]) == ["/usr/lib/python3"]
    # gradcheck imported from the working directory (a source checkout): that entry stays
    monkeypatch.chdir(REPO)
    assert without_working_directory([str(REPO), "/x"]) == [str(REPO), "/x"]


@pytest.mark.system
@pytest.mark.parametrize("start", ["console script", "python -I -m gradcheck"])
def test_a_submission_named_gradcheck(course, tmp_path, start):
    """A submission folder named like the grader's own package. (Plain ``python -m gradcheck`` in its
    parent folder would import it: Python imports the package named on its command line before any
    of gradcheck's code runs; the README says to use the console script or ``python -I -m``.)"""
    root, marker = course
    (_submission(root / "gradcheck") / "__init__.py").write_text(POISON.format(marker=str(marker), name="gradcheck"))
    out = tmp_path / "reports"
    p = subprocess.run(
        [*STARTS[start](), "grade", ".", "--out", str(out)],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert not marker.exists(), marker.read_text()
    assert p.returncode == 0, p.stdout + p.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert {s["submission"]: s["score"] for s in summary["submissions"]}["gradcheck"] == 100.0


@pytest.mark.system
def test_pytest_plugin_from_the_course_folder(course, tmp_path):
    """The pytest plugin from the course folder (its numpy.py, jsonschema.py, click.py and
    stdlib-named submission folders next to the graded one). ``python -m pytest`` puts that folder
    first on sys.path, and pytest itself then imports a folder named ``selectors`` before any plugin
    runs (Python's rule, not gradcheck's); without such a folder the plugin refuses and says how to
    run it. ``python -I -m pytest`` (the documented way)
    imports nothing of the folder, and the correct submission keeps full marks on the visible checks."""
    root, marker = course
    args = [
        "-m",
        "pytest",
        "-p",
        "gradcheck.pytest_plugin",
        "-p",
        "no:cacheprovider",
        "--gradcheck-submission=correct",
        "-q",
    ]
    p = subprocess.run([sys.executable, *args], cwd=root, env=_env(), capture_output=True, text=True, timeout=300)
    # here the poisoned "selectors" breaks pytest itself, before any plugin; without it, the plugin refuses
    assert p.returncode != 0 and " passed" not in p.stdout, p.stdout + p.stderr
    marker.unlink(missing_ok=True)
    poisons = {p: p.read_text() for p in root.rglob("*.py") if "poisoned" in p.read_text()}
    for path in poisons:
        path.rename(path.with_suffix(".off"))
    p = subprocess.run([sys.executable, *args], cwd=root, env=_env(), capture_output=True, text=True, timeout=300)
    assert p.returncode == 4 and "python -I -m pytest" in p.stderr, p.stdout + p.stderr
    for path in poisons:
        path.with_suffix(".off").rename(path)
    p = subprocess.run([sys.executable, "-I", *args], cwd=root, env=_env(), capture_output=True, text=True, timeout=300)
    assert not marker.exists(), marker.read_text()
    assert p.returncode == 0, p.stdout + p.stderr
    assert "91 / 91 points" in p.stdout
