"""The pytest plugin, run in a subprocess: `pytest -p gradcheck.pytest_plugin --gradcheck-submission=DIR`
collects one item per visible check and gives the grader's verdicts (the real grader and sandbox).
Runs go through pytest's ``pytester``: each in a subprocess started in its own empty folder, unless a
test puts a course or a submission there."""

import shutil
import sys
from pathlib import Path

import pytest

from gradcheck.assignment import load_assignment
from gradcheck.report import is_shown

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.system  # every test here starts real processes (tests/README.md)

REPO = Path(__file__).resolve().parents[1]
SWAPPED = REPO / "submissions" / "swapped-multiply"
A = load_assignment()
VISIBLE = [c.id for c in A.checks if is_shown(c.visibility)]
WITHHELD = [c.id for c in A.checks if not is_shown(c.visibility)]
PLUGIN_ARGS = ("-p", "gradcheck.pytest_plugin", "-p", "no:cacheprovider")


def run(pytester, *args):
    """``python -m pytest`` with the plugin, in a subprocess started in pytester's folder."""
    return pytester.runpytest_subprocess(*PLUGIN_ARGS, *args, timeout=180)


def run_isolated(pytester, *args):
    """The documented safe invocation, ``python -I -m pytest`` with the plugin, started in pytester's folder."""
    return pytester.run(sys.executable, "-I", "-m", "pytest", *PLUGIN_ARGS, *args, timeout=180)


def _reference_copy(dst: Path) -> Path:
    dst.mkdir()
    for m in ("gates.py", "graph.py", "mlp.py"):
        shutil.copy(REPO / "reference" / m, dst / m)
    return dst


def test_correct_submission_all_visible_checks_pass(pytester, tmp_path):
    sub = _reference_copy(tmp_path / "correct")
    result = run(pytester, f"--gradcheck-submission={sub}", "-v")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=len(VISIBLE))  # one item per visible check id, nothing else
    result.stdout.fnmatch_lines([f"gradcheck/correct::{check} PASSED*" for check in VISIBLE])
    for check in WITHHELD:
        result.stdout.no_fnmatch_line(f"*{check}*")
    result.stdout.fnmatch_lines(["*91 / 91 points*", f"not run here: {len(WITHHELD)} check(s)*"])


def test_buggy_submission_fails_exactly_the_multiply_gate_checks(pytester):
    result = run(pytester, f"--gradcheck-submission={SWAPPED}", "--gradcheck-seed", "0", "-q")
    assert result.ret == 1, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(failed=2, passed=len(VISIBLE) - 2)
    result.stdout.fnmatch_lines(
        [
            "FAILED gradcheck/swapped-multiply::gates.MultiplyGate.backward - backward on*",
            "FAILED gradcheck/swapped-multiply::gates.MultiplyGate.numerical*",
        ]
    )
    # the failure reads like the report's feedback, with no pytest traceback
    result.stdout.fnmatch_lines(["*diagnosis: the two inputs' gradients are swapped*"])
    result.stdout.fnmatch_lines(["*gates.MultiplyGate.backward: fail (0/2 points)*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*runtest*")


def test_points_are_recorded_as_user_properties(pytester, tmp_path):
    """Each item records the check's points (max_score, and score once graded) as ``user_properties``,
    which --junitxml keeps. Run in process for the reports themselves; the grading is still done by
    the isolated grader process."""
    sub = _reference_copy(tmp_path / "correct")
    for folder, score in ((sub, 2.0), (SWAPPED, 0.0)):
        reprec = pytester.inline_run(
            *PLUGIN_ARGS, f"--gradcheck-submission={folder}", "--gradcheck-seed", "0", "-k", "MultiplyGate.backward"
        )
        (report,) = [r for r in reprec.getreports("pytest_runtest_logreport") if r.when == "call"]
        assert report.nodeid == f"gradcheck/{folder.name}::gates.MultiplyGate.backward"
        assert dict(report.user_properties) == {"max_score": 2.0, "score": score}


def test_selection_runs_only_the_selected_checks(pytester):
    result = run(pytester, f"--gradcheck-submission={SWAPPED}", "-k", "AddGate", "-v")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=5, deselected=len(VISIBLE) - 5)
    result.stdout.fnmatch_lines(["gradcheck/swapped-multiply::gates.AddGate.forward PASSED*"])
    result.stdout.fnmatch_lines(["*5 of 5 checks run here passed*"])  # the grader ran only those


def test_without_the_option_the_plugin_does_nothing(pytester):
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = run(pytester, "-q")
    assert result.ret == 0
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*gradcheck*")
    run(pytester, "--help").stdout.fnmatch_lines(["*--gradcheck-submission=DIR*", "*--gradcheck-seed*"])


def test_usage_errors(pytester, tmp_path):
    result = run(pytester, f"--gradcheck-submission={tmp_path / 'missing'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*is not a folder*"])
    bad = tmp_path / "course.toml"
    bad.write_text('name = "x"\n[[checks]]\nid = "mlp.trian"\npoints = 1\nvisibility = "visible"\n')
    (tmp_path / "sub").mkdir()
    result = run(pytester, f"--gradcheck-submission={tmp_path / 'sub'}", f"--gradcheck-assignment={bad}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*did you mean 'mlp.train'*"])


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
    shutil.copytree(SWAPPED, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def assert_refused(result):
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines(["*gradcheck: not grading*"])
    result.stderr.fnmatch_lines(["*python -I -m pytest*"])
    result.stdout.no_fnmatch_line("* passed*")


@pytest.mark.parametrize("extra", [[], ["--noconftest"]])
def test_refuses_inside_a_submission_with_conftest_ini_and_plugin(pytester, tmp_path, extra):
    """pytest started in the submission folder (pytester's folder here)."""
    marker = tmp_path / "marker"
    sub = pytester.path
    shutil.copytree(SWAPPED, sub, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    pytester.makeconftest(FORGE_PASSES.format(marker=str(marker)))
    pytester.makepyfile(
        test_mine=TEST_FILE.format(marker=str(marker)),
        mallory_plugin=PLUGIN.format(marker=str(marker)),
        numpy=f"open({str(marker)!r}, 'a').write('numpy.py imported\\n')\n",
    )
    pytester.makefile(".toml", lenient=LENIENT)
    pytester.makefile(
        ".ini", pytest="[pytest]\npythonpath = .\naddopts = -p mallory_plugin --gradcheck-assignment=lenient.toml\n"
    )
    assert_refused(run(pytester, "--gradcheck-submission=.", *extra))
    ran = marker.read_text() if marker.exists() else ""
    # refused before pytest imports the submission's conftest.py; its ini's -p plugin is imported by
    # pytest before any plugin can act (hence: never run pytest inside the submission)
    assert "student test file imported" not in ran and "numpy.py imported" not in ran and "conftest ran" not in ran


def test_refuses_a_conftest_of_the_submission_loaded_as_an_argument(pytester, tmp_path):
    marker = tmp_path / "marker"
    sub = _buggy_copy(tmp_path / "mallory")
    (sub / "conftest.py").write_text(FORGE_PASSES.format(marker=str(marker)))
    assert_refused(run(pytester, str(sub), f"--gradcheck-submission={sub}"))


def test_refuses_an_assignment_file_inside_the_submission(pytester, tmp_path):
    sub = _buggy_copy(tmp_path / "mallory")
    (sub / "lenient.toml").write_text(LENIENT)
    assert_refused(run(pytester, f"--gradcheck-submission={sub}", f"--gradcheck-assignment={sub / 'lenient.toml'}"))


def test_course_folder_with_a_classmates_conftest_and_test_files(pytester, tmp_path):
    """From a course folder (pytester's folder here) holding a classmate's conftest.py (which patches
    numpy and gradcheck in the pytest process) and the submission's own test file and numpy.py:
    refused (the conftest ran in the pytest process), and nothing of the submission ran. From the same
    folder, once the conftest is gone, ``python -I`` grades the same submission with full marks:
    grading happens in a separate isolated interpreter, and no test file is collected."""
    marker = tmp_path / "marker"
    course = pytester.path
    sub = _reference_copy(course / "alice")
    (sub / "test_alice.py").write_text(TEST_FILE.format(marker=str(marker)))
    (sub / "numpy.py").write_text(
        f"open({str(marker)!r}, 'a').write('alice numpy imported\\n')\nraise ImportError('poison')\n"
    )
    conftest = pytester.makeconftest(SABOTAGE.format(marker=str(marker)))
    assert_refused(run(pytester, "--gradcheck-submission=alice", "-q"))
    assert marker.read_text() == "classmate conftest ran\n"  # nothing of alice's ran here
    (course / "bob").mkdir()
    (course / "bob" / "test_bob.py").write_text(TEST_FILE.format(marker=str(marker)))
    conftest.unlink()
    result = run_isolated(pytester, f"--gradcheck-submission={sub}", "-q")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(passed=len(VISIBLE))  # the checks only: no test file was collected
    result.stdout.fnmatch_lines(["*91 / 91 points*"])
    assert marker.read_text() == "classmate conftest ran\n"  # no test file was imported


def test_course_folder_ini_loading_a_classmates_plugin(pytester, tmp_path):
    """A course folder's (pytester's folder here) pytest.ini that loads a plugin from a classmate's
    folder: it cannot reach the grading; an ini that points the plugin at a lenient assignment inside
    the graded submission is refused."""
    marker = tmp_path / "marker"
    buggy = _buggy_copy(pytester.path / "mallory")
    (buggy / "lenient.toml").write_text(LENIENT)
    pytester.makefile(".ini", pytest="[pytest]\naddopts = --gradcheck-assignment=mallory/lenient.toml\n")
    assert_refused(run(pytester, "--gradcheck-submission=mallory"))
    pytester.makefile(".ini", pytest="[pytest]\npythonpath = mallory\n")
    (buggy / "mallory_plugin.py").write_text(PLUGIN.format(marker=str(marker)))
    assert_refused(run(pytester, "--gradcheck-submission=mallory", "-p", "mallory_plugin"))


def test_safe_invocation_from_an_empty_folder(pytester, tmp_path):
    """The documented invocation: from an empty folder, ``python -I -m pytest``; the submission's
    own conftest.py, test files and pytest.ini are inert there and the buggy checks still fail."""
    marker = tmp_path / "marker"
    sub = _buggy_copy(tmp_path / "mallory")
    (sub / "conftest.py").write_text(FORGE_PASSES.format(marker=str(marker)))
    (sub / "test_mine.py").write_text(TEST_FILE.format(marker=str(marker)))
    (sub / "pytest.ini").write_text("[pytest]\naddopts = -p no:gradcheck.pytest_plugin\n")
    result = run_isolated(pytester, f"--gradcheck-submission={sub}", "-q")
    assert result.ret == 1, result.stdout.str() + result.stderr.str()
    result.assert_outcomes(failed=2, passed=len(VISIBLE) - 2)
    assert not marker.exists()
