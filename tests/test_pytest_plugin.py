"""The pytest plugin, run in a subprocess: `pytest -p gradcheck.pytest_plugin --gradcheck-submission=DIR`
collects one item per visible check and gives the grader's verdicts (the real grader and sandbox)."""
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gradcheck.assignment import load_assignment
from gradcheck.report import is_shown

REPO = Path(__file__).resolve().parents[1]
A = load_assignment()
VISIBLE = [c.id for c in A.checks if is_shown(c.visibility)]
WITHHELD = [c.id for c in A.checks if not is_shown(c.visibility)]


def pytest_run(cwd, *args, timeout=180, python_flags=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run([sys.executable, *python_flags, "-m", "pytest", "-p", "gradcheck.pytest_plugin",
                           "-p", "no:cacheprovider", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def workdir(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    return run


def _reference_copy(dst: Path) -> Path:
    dst.mkdir()
    for m in ("gates.py", "graph.py", "mlp.py"):
        shutil.copy(REPO / "reference" / m, dst / m)
    return dst


def _outcomes(junit: Path) -> dict:
    root = ET.parse(junit).getroot()
    out = {}
    for case in root.iter("testcase"):
        status = "failed" if case.find("failure") is not None or case.find("error") is not None else (
            "skipped" if case.find("skipped") is not None else "passed")
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        out[case.get("name")] = (status, props, case)
    return out


def test_correct_submission_all_visible_checks_pass(tmp_path, workdir):
    sub = _reference_copy(tmp_path / "correct")
    junit = tmp_path / "junit.xml"
    p = pytest_run(workdir, f"--gradcheck-submission={sub}", f"--junitxml={junit}", "-q")
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{len(VISIBLE)} passed" in p.stdout
    results = _outcomes(junit)
    assert sorted(results) == sorted(VISIBLE)            # one item per visible check id, nothing else
    assert not set(WITHHELD) & set(results) and "mlp.train" not in p.stdout.replace("not run here", "")
    assert all(status == "passed" for status, _, _ in results.values())
    status, props, _ = results["gates.MultiplyGate.backward"]
    assert props == {"max_score": "2.0", "score": "2.0"}
    assert f"not run here: {len(WITHHELD)} check(s)" in p.stdout and "91 / 91 points" in p.stdout


def test_buggy_submission_fails_exactly_the_multiply_gate_checks(tmp_path, workdir):
    junit = tmp_path / "junit.xml"
    p = pytest_run(workdir, f"--gradcheck-submission={REPO / 'submissions' / 'swapped-multiply'}",
                   "--gradcheck-seed", "0", f"--junitxml={junit}", "-q")
    assert p.returncode == 1, p.stdout + p.stderr
    results = _outcomes(junit)
    failed = {name for name, (status, _, _) in results.items() if status == "failed"}
    assert failed == {"gates.MultiplyGate.backward", "gates.MultiplyGate.numerical"}
    assert f"2 failed, {len(VISIBLE) - 2} passed" in p.stdout
    # the failure reads like the report's feedback, with no pytest traceback
    assert "diagnosis: the two inputs' gradients are swapped" in p.stdout
    assert "gates.MultiplyGate.backward: fail (0/2 points)" in p.stdout
    assert "FAILED gradcheck/swapped-multiply::gates.MultiplyGate.backward - backward on" in p.stdout
    assert "Traceback" not in p.stdout and "runtest" not in p.stdout
    assert results["gates.MultiplyGate.backward"][1]["score"] == "0.0"


def test_selection_runs_only_the_selected_checks(tmp_path, workdir):
    p = pytest_run(workdir, f"--gradcheck-submission={REPO / 'submissions' / 'swapped-multiply'}", "-k", "AddGate",
                   "-v")
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"5 passed, {len(VISIBLE) - 5} deselected" in p.stdout
    assert "gradcheck/swapped-multiply::gates.AddGate.forward PASSED" in p.stdout
    assert "5 of 5 checks run here passed" in p.stdout   # the grader ran only those


def test_without_the_option_the_plugin_does_nothing(workdir):
    (workdir / "test_plain.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    p = pytest_run(workdir, "-q")
    assert p.returncode == 0 and "1 passed" in p.stdout
    assert "gradcheck" not in p.stdout
    help_text = pytest_run(workdir, "--help").stdout
    assert "--gradcheck-submission=DIR" in help_text and "--gradcheck-seed" in help_text


def test_usage_errors(tmp_path, workdir):
    p = pytest_run(workdir, f"--gradcheck-submission={tmp_path / 'missing'}")
    assert p.returncode == 4 and "is not a folder" in p.stderr
    bad = tmp_path / "course.toml"
    bad.write_text('name = "x"\n[[checks]]\nid = "mlp.trian"\npoints = 1\nvisibility = "visible"\n')
    (tmp_path / "sub").mkdir()
    p = pytest_run(workdir, f"--gradcheck-submission={tmp_path / 'sub'}", f"--gradcheck-assignment={bad}")
    assert p.returncode == 4 and "did you mean 'mlp.train'" in p.stderr


# --- student files never run in the grading process ---------------------------------------------
# Each hostile file below is bounded: it only writes a small marker file in the test's own
# temporary folder, or changes what this one pytest run reports.

FORGE_PASSES = """import pytest
open({marker!r}, "a").write("conftest ran\\n")

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    rep.outcome = "passed"     # every check "passes": a buggy submission shows full marks
"""
SABOTAGE = """import sys
open({marker!r}, "a").write("classmate conftest ran\\n")
import numpy
numpy.allclose = lambda *a, **k: False
numpy.isclose = lambda a, b, *r, **k: numpy.zeros(numpy.broadcast(a, b).shape, bool)
import gradcheck.report
gradcheck.report.validate_report = lambda d: (_ for _ in ()).throw(ValueError("sabotaged"))
"""
TEST_FILE = """open({marker!r}, "a").write("student test file imported\\n")

def test_fake():
    assert True
"""
PLUGIN = """open({marker!r}, "a").write("plugin from the ini imported\\n")
import pytest

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
"""
LENIENT = 'name = "lenient"\n[[checks]]\nid = "gates.AddGate.forward"\npoints = 90\nvisibility = "visible"\n'


def _buggy_copy(dst: Path) -> Path:
    shutil.copytree(REPO / "submissions" / "swapped-multiply", dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def _refused(p):
    assert p.returncode == 4, p.stdout + p.stderr
    assert "gradcheck: not grading" in p.stderr and "python -I -m pytest" in p.stderr, p.stderr
    assert " passed" not in p.stdout


@pytest.mark.parametrize("extra", [[], ["--noconftest"]])
def test_refuses_inside_a_submission_with_conftest_ini_and_plugin(tmp_path, extra):
    marker = tmp_path / "marker"
    sub = _buggy_copy(tmp_path / "mallory")
    (sub / "conftest.py").write_text(FORGE_PASSES.format(marker=str(marker)))
    (sub / "test_mine.py").write_text(TEST_FILE.format(marker=str(marker)))
    (sub / "mallory_plugin.py").write_text(PLUGIN.format(marker=str(marker)))
    (sub / "lenient.toml").write_text(LENIENT)
    (sub / "pytest.ini").write_text("[pytest]\npythonpath = .\naddopts = -p mallory_plugin "
                                    "--gradcheck-assignment=lenient.toml\n")
    (sub / "numpy.py").write_text(f"open({str(marker)!r}, 'a').write('numpy.py imported\\n')\n")
    p = pytest_run(sub, "--gradcheck-submission=.", *extra)
    _refused(p)
    ran = marker.read_text() if marker.exists() else ""
    # refused before pytest imports the submission's conftest.py; its ini's -p plugin is imported by
    # pytest before any plugin can act (hence: never run pytest inside the submission)
    assert "student test file imported" not in ran and "numpy.py imported" not in ran and "conftest ran" not in ran


def test_refuses_a_conftest_of_the_submission_loaded_as_an_argument(tmp_path, workdir):
    marker = tmp_path / "marker"
    sub = _buggy_copy(tmp_path / "mallory")
    (sub / "conftest.py").write_text(FORGE_PASSES.format(marker=str(marker)))
    _refused(pytest_run(workdir, str(sub), f"--gradcheck-submission={sub}"))


def test_refuses_an_assignment_file_inside_the_submission(tmp_path, workdir):
    sub = _buggy_copy(tmp_path / "mallory")
    (sub / "lenient.toml").write_text(LENIENT)
    _refused(pytest_run(workdir, f"--gradcheck-submission={sub}", f"--gradcheck-assignment={sub / 'lenient.toml'}"))


def test_course_folder_with_a_classmates_conftest_and_test_files(tmp_path):
    """From a course folder holding a classmate's conftest.py (which patches numpy and gradcheck in
    the pytest process) and the submission's own test file and numpy.py: refused (the conftest ran
    in the pytest process), and nothing of the submission ran. From an empty folder the same
    submission gets full marks: grading happens in a separate isolated interpreter."""
    marker = tmp_path / "marker"
    course = tmp_path / "course"
    course.mkdir()
    sub = _reference_copy(course / "alice")
    (sub / "test_alice.py").write_text(TEST_FILE.format(marker=str(marker)))
    (sub / "numpy.py").write_text(f"open({str(marker)!r}, 'a').write('alice numpy imported\\n')\n"
                                  "raise ImportError('poison')\n")
    (course / "conftest.py").write_text(SABOTAGE.format(marker=str(marker)))
    _refused(pytest_run(course, "--gradcheck-submission=alice", "-q"))
    assert marker.read_text() == "classmate conftest ran\n"   # nothing of alice's ran here
    (course / "bob").mkdir()
    (course / "bob" / "test_bob.py").write_text(TEST_FILE.format(marker=str(marker)))
    (course / "conftest.py").unlink()
    junit = tmp_path / "junit.xml"
    p = pytest_run(course, f"--gradcheck-submission={sub}", f"--junitxml={junit}", "-q", python_flags=["-I"])
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{len(VISIBLE)} passed" in p.stdout and "91 / 91 points" in p.stdout
    assert marker.read_text() == "classmate conftest ran\n"   # no test file was collected
    assert sorted(_outcomes(junit)) == sorted(VISIBLE)


def test_course_folder_ini_loading_a_classmates_plugin(tmp_path):
    """A course folder's pytest.ini that loads a plugin from a classmate's folder: it cannot reach the
    grading; an ini that points the plugin at a lenient assignment inside the graded submission is
    refused."""
    marker = tmp_path / "marker"
    course = tmp_path / "course"
    course.mkdir()
    buggy = _buggy_copy(course / "mallory")
    (buggy / "lenient.toml").write_text(LENIENT)
    (course / "pytest.ini").write_text("[pytest]\naddopts = --gradcheck-assignment=mallory/lenient.toml\n")
    _refused(pytest_run(course, "--gradcheck-submission=mallory"))
    (course / "pytest.ini").write_text("[pytest]\npythonpath = mallory\n")
    (buggy / "mallory_plugin.py").write_text(PLUGIN.format(marker=str(marker)))
    _refused(pytest_run(course, "--gradcheck-submission=mallory", "-p", "mallory_plugin"))


def test_safe_invocation_from_an_empty_folder(tmp_path, workdir):
    """The documented invocation: from an empty folder, ``python -I -m pytest``; the submission's
    own conftest.py, test files and pytest.ini are inert there and the buggy checks still fail."""
    marker = tmp_path / "marker"
    sub = _buggy_copy(tmp_path / "mallory")
    (sub / "conftest.py").write_text(FORGE_PASSES.format(marker=str(marker)))
    (sub / "test_mine.py").write_text(TEST_FILE.format(marker=str(marker)))
    (sub / "pytest.ini").write_text("[pytest]\naddopts = -p no:gradcheck.pytest_plugin\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    p = subprocess.run([sys.executable, "-I", "-m", "pytest", "-p", "gradcheck.pytest_plugin", "-p", "no:cacheprovider",
                        f"--gradcheck-submission={sub}", "-q"], cwd=workdir, env=env, capture_output=True, text=True,
                       timeout=180)
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"2 failed, {len(VISIBLE) - 2} passed" in p.stdout
    assert not marker.exists()
