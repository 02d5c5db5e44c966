"""The student build (``gradcheck pack --student ASSIGNMENT OUT``): what students install carries no
answers. It holds no reference code, no correct stand-in gates, no hidden or after-due-date check
(not even its id), and still gives a correct submission full marks on the visible checks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gradcheck.assignment import DEFAULT_PATH, KNOWN_CHECKS, load_assignment
from gradcheck.replay import NOT_RECORDED
from gradcheck.report import is_shown

pytestmark = pytest.mark.system  # every test here starts real processes (tests/README.md)

REPO = Path(__file__).resolve().parents[1]
A = load_assignment()
VISIBLE = [c.id for c in A.checks if is_shown(c.visibility)]
WITHHELD = [c.id for c in A.checks if not is_shown(c.visibility)]


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "student-build"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    p = subprocess.run(
        [sys.executable, "-m", "gradcheck", "pack", "--student", str(DEFAULT_PATH), str(out)],
        cwd=out.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{len(VISIBLE)} visible checks, {len(WITHHELD)} withheld" in p.stdout
    return out


def _check(build, submission, *args):
    """`python -m gradcheck check` run from the build's folder: the build's gradcheck, not this one."""
    report_dir = build.parent / f"reports-{submission.name}-{'-'.join(args) or 'default'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHON"))}
    p = subprocess.run(
        [sys.executable, "-m", "gradcheck", "check", str(submission), "--out", str(report_dir), *args],
        cwd=build,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(next(report_dir.glob("*.json")).read_text())


def test_it_is_the_builds_own_gradcheck_that_runs(build):
    p = subprocess.run([sys.executable, "-m", "gradcheck", "--version"], cwd=build, capture_output=True, text=True)
    code = "import gradcheck.reference.gates as g, gradcheck; print(gradcheck.__file__, g.AddGate.__mro__[1].__name__)"
    p = subprocess.run([sys.executable, "-c", code], cwd=build, capture_output=True, text=True, timeout=60)
    assert p.stdout.split() == [str(build / "gradcheck" / "__init__.py"), "Proxy"], p.stderr


@pytest.mark.parametrize("submission", [REPO / "reference", REPO / "submissions" / "correct"])
def test_correct_submissions_get_full_marks_on_the_visible_checks(build, submission):
    report = _check(build, submission)
    assert [c["id"] for c in report["checks"]] == VISIBLE
    assert report["score"] == report["max_score"] == sum(c.points for c in A.checks if c.id in VISIBLE)
    assert all(c["status"] == "pass" for c in report["checks"])


def test_a_bug_is_still_found_and_diagnosed(build):
    report = _check(build, REPO / "submissions" / "swapped-multiply")
    check = next(c for c in report["checks"] if c["id"] == "gates.MultiplyGate.backward")
    assert check["status"] == "fail" and "swapped" in check["details"]["diagnosis"]


def test_values_that_were_not_recorded_are_never_a_silent_failure(build):
    """Another seed: nothing was recorded for it. Checks say so; none fails."""
    report = _check(build, REPO / "reference", "--seed", "1")
    statuses = {c["status"] for c in report["checks"]}
    assert "fail" not in statuses and report["status"] == "graded"
    unchecked = [c for c in report["checks"] if c["status"] == "error"]
    assert unchecked and all(c["message"].startswith(NOT_RECORDED[:60]) for c in unchecked)


def test_the_build_reveals_no_answer(build):
    files = [p for p in build.rglob("*") if p.is_file()]
    texts = {p: p.read_bytes().decode("utf-8", "replace") for p in files}
    hidden = WITHHELD + [c for c in KNOWN_CHECKS if c not in VISIBLE]
    # grep: no withheld check id anywhere (code, docs, assignment, recorded answers)
    for path, text in texts.items():
        for cid in hidden:
            assert cid not in text, (path, cid)
    # grep: no reference source (no file like a reference module, no three of its lines in a row)
    for module in ("gates.py", "graph.py", "mlp.py"):
        ref = [
            ln.strip()
            for ln in (REPO / "reference" / module).read_text().splitlines()
            if ln.strip() and not ln.strip().startswith(("#", '"""'))
        ]
        runs = ["\n".join(ref[i : i + 3]) for i in range(len(ref) - 2) if sum(map(len, ref[i : i + 3])) >= 60]
        for path, text in texts.items():
            code = "\n".join(ln.strip() for ln in text.splitlines() if ln.strip())
            assert not any(run in code for run in runs), (path, module)
    assert "return [dz * self.y, dz * self.x]" not in "".join(texts.values())
    # no stand-in gates: the build's gradcheck.standins names none and computes nothing
    standin = texts[build / "gradcheck" / "standins.py"]
    assert "return []" in standin and "np." not in standin and "reference" not in standin
    # the assignment: the visible checks only
    shipped = load_assignment(build / "gradcheck" / "assignments" / "lecture" / "assignment.toml")
    assert [c.id for c in shipped.checks] == VISIBLE
    assert not (build / "gradcheck" / "pack.py").exists()
    assert (build / "pyproject.toml").exists() and "visible" in (build / "README.md").read_text()


def test_a_build_checks_with_the_seed_it_was_recorded_with(tmp_path):
    from gradcheck.pack import build_student

    out = tmp_path / "seed-5"
    summary = build_student(DEFAULT_PATH, out, seed=5, submissions=[])
    assert summary["seed"] == 5 and summary["graded"] == {"reference-solution": 91.0}
    report = _check(out, REPO / "submissions" / "correct")  # no --seed: the build's own
    assert report["seed"] == 5 and report["score"] == report["max_score"] == 91.0
