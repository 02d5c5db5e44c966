"""gradcheck diff OLD NEW: what a regrade changed, per submission, and an exit status CI can use.

In process on generated runs, then end to end: a bundled submission edited and regraded with --resume.
"""

import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner
from fakes import fake_class_report, write_fake_class

from gradcheck import cli
from gradcheck.assignment import load_assignment
from gradcheck.regrade import diff_lines, diff_runs
from gradcheck.report import SUMMARY_JSON, write_report

A = load_assignment()


def diff(old, new):
    return CliRunner().invoke(cli.main, ["diff", str(old), str(new)])


@pytest.fixture
def runs(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    write_fake_class(old, A, 6)
    write_fake_class(new, A, 6)
    return old, new


def test_the_same_run_twice_changes_nothing(runs):
    r = diff(*runs)
    assert r.exit_code == 0
    assert r.output.splitlines() == [
        "6 submissions in both runs: 0 score(s) changed (0 up, 0 down), 0 check(s) changed status"
    ]


def test_a_changed_score_names_the_checks_with_their_new_message(runs):
    old, new = runs
    write_report(fake_class_report("s0001-swapped-multiply", A, 0), new)  # the bug fixed
    write_report(fake_class_report("s0002-correct", A, 0, "sgd-wrong-sign", message="train: loss went up <b>"), new)
    r = diff(old, new)
    assert r.exit_code == 1
    lines = r.output.splitlines()
    assert lines[0] == "s0001-swapped-multiply: 97 / 100 -> 100 / 100 (+3)"
    assert lines[1] == "    gates.MultiplyGate.backward: fail -> pass: matches the reference"
    assert lines[3] == "s0002-correct: 100 / 100 -> 95 / 100 (-5)"
    assert "    mlp.train: pass -> fail: train: loss went up <b>" in lines
    assert lines[-1] == "6 submissions in both runs: 2 score(s) changed (1 up, 1 down), 4 check(s) changed status"


def test_submissions_in_one_run_only_are_named_and_count_as_a_change(runs):
    old, new = runs
    (new / "s0005-branch-overwrite.json").unlink()
    summary = json.loads((new / SUMMARY_JSON).read_text())
    summary["submissions"] = [s for s in summary["submissions"] if s["submission"] != "s0005-branch-overwrite"]
    summary["submissions"].append({"submission": "zoe\x1b[2J", "report": "zoe.json"})
    (new / SUMMARY_JSON).write_text(json.dumps(summary))
    write_report(fake_class_report("zoe\x1b[2J", A, 0), new)
    (new / "zoe=1B=5B2J.json").rename(new / "zoe.json")
    r = diff(old, new)
    assert r.exit_code == 1
    assert f"s0005-branch-overwrite: only in {old} (90 / 100, graded)" in r.output
    assert f"zoe\\x1b[2J: only in {new} (100 / 100, graded)" in r.output  # shown on one line, escaped
    assert r.output.splitlines()[-1].endswith(f"; 1 only in {old}, 1 only in {new}")
    d = diff_runs(old, new)
    assert d.changed and [x.submission for x in d.submissions if x.old is None] == ["zoe\x1b[2J"]
    assert diff_lines(d, "A", "B")[-1].endswith("1 only in A, 1 only in B")


def test_a_status_change_without_a_score_change_is_shown_and_exits_0(runs):
    old, new = runs
    report = json.loads((new / "s0001-swapped-multiply.json").read_text())
    check = next(c for c in report["checks"] if c["id"] == "gates.MultiplyGate.backward")
    check.update(status="timeout", message="your backward took longer than 10 s")
    write_report(report, new)
    r = diff(old, new)
    assert r.exit_code == 0
    assert r.output.splitlines()[:2] == [
        "s0001-swapped-multiply: 97 / 100 -> 97 / 100 (score unchanged)",
        "    gates.MultiplyGate.backward: fail -> timeout: your backward took longer than 10 s",
    ]


@pytest.mark.parametrize("which", ["old", "new"])
def test_a_path_that_is_not_a_run_exits_2_and_is_named(runs, tmp_path, which):
    old, new = runs
    missing = tmp_path / "nowhere"
    args = (missing, new) if which == "old" else (old, missing)
    r = diff(*args)
    assert r.exit_code == 2 and str(missing) in r.output
    (tmp_path / "empty").mkdir()
    r = diff(tmp_path / "empty", new)
    assert r.exit_code == 2 and "no reports in" in r.output
    (old / "s0003-sigmoid-ignores-dout.json").write_text("{")
    r = diff(old, new)
    assert r.exit_code == 2 and "s0003-sigmoid-ignores-dout.json" in r.output


@pytest.mark.system
def test_diff_shows_the_change_after_editing_one_example_submission(graded_class, tmp_path):
    subs, new = tmp_path / "subs", tmp_path / "new"
    shutil.copytree(graded_class["subs"], subs)
    shutil.copytree(graded_class["out"], new)
    gates = subs / "swapped-multiply" / "gates.py"
    gates.write_text(gates.read_text().replace("return dz * self.x, dz * self.y", "return dz * self.y, dz * self.x"))
    run = subprocess.run(
        [sys.executable, "-m", "gradcheck", "grade", str(subs), "--out", str(new), "--resume"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    n = len([p for p in subs.iterdir() if p.is_dir()])
    assert f"Resumed: skipped {n - 1} submission(s)" in run.stdout  # only the edited one graded again
    r = subprocess.run(
        [sys.executable, "-m", "gradcheck", "diff", str(graded_class["out"]), str(new)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "swapped-multiply: 97 / 100 -> 100 / 100 (+3)"
    assert lines[1].startswith("    gates.MultiplyGate.backward: fail -> pass: ")
    assert lines[-1] == f"{n} submissions in both runs: 1 score(s) changed (1 up, 0 down), 2 check(s) changed status"
