"""Grading a class: every submission gets a report, whatever the grader does; jobs do not change results.

The grade function here is a fake (injected), so these tests do not depend on the checks or the
sandbox: what a fake submission does is written in its `behavior` file.
"""

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

import pytest
from fakes import fake_check, fake_report

from gradcheck import batch
from gradcheck.assignment import load_assignment
from gradcheck.report import validate_report

A = load_assignment()

_SANDBOXES_MADE = []


class FakeSandbox:
    def __init__(self, hide):
        self.hide = list(hide)
        self.isolation = {"fake": True}


def fake_sandbox(assignment, hide):
    """One per grader process; the fake grade reports how many this process made."""
    _SANDBOXES_MADE.append(1)
    return contextlib.nullcontext(FakeSandbox(hide))


def broken_sandbox(assignment, hide):
    raise OSError("cannot create namespaces here")


def fake_grade(submission_dir, assignment, seed, sandbox):
    """A deterministic report from the submission's name and the seed; `behavior` makes it misbehave."""
    submission_dir = Path(submission_dir)
    behavior_file = submission_dir / "behavior"
    behavior = behavior_file.read_text().strip() if behavior_file.exists() else "ok"
    if behavior == "raise":
        raise RuntimeError("the grader tripped over this one")
    if behavior == "exit":
        os._exit(7)  # kills the grader process, every time
    if behavior == "exit-once":
        marker = submission_dir / "exited-once"
        if not marker.exists():
            marker.write_text("")
            os._exit(7)
    if behavior == "hang":
        time.sleep(120)
    if behavior == "invalid":
        return {"submission": submission_dir.name, "status": "weird"}
    if behavior == "slow":
        time.sleep(0.3)
    checks = []
    for c in assignment.checks:
        h = hashlib.sha256(f"{submission_dir.name}/{c.id}/{seed}".encode("utf-8", "surrogateescape")).digest()[0]
        ok = h % 4 != 0
        details = {} if ok else {"details": {"diagnosis": "wrong sign", "worst": {"got": float("nan")}}}
        checks.append(fake_check(c, ok, "ok" if ok else f"wrong (h={h})", **details))
    return fake_report(
        submission_dir.name,
        assignment,
        seed,
        checks,
        gradcheck_version="0.1.0",
        isolation={**sandbox.isolation, "sandboxes_in_this_process": len(_SANDBOXES_MADE), "hide": sandbox.hide},
        timing={"seconds": time.monotonic() % 1},
    )


def make_class(root: Path, behaviors: dict) -> Path:
    subs = root / "submissions"
    for name, behavior in behaviors.items():
        d = subs / name
        d.mkdir(parents=True)
        (d / "gates.py").write_text("")
        if behavior != "ok":
            (d / "behavior").write_text(behavior)
    (subs / ".git").mkdir()
    (subs / "_template").mkdir()
    (subs / "notes.txt").write_text("not a submission")
    return subs


def load_reports(out: Path) -> dict:
    return {p.stem: json.loads(p.read_text()) for p in sorted(out.glob("*.json")) if p.name != "summary.json"}


def without_timing(report):
    """The report minus timing (and the out dir, which differs between the two runs compared)."""
    out = {k: v for k, v in report.items() if k != "timing"}
    out["isolation"] = {k: v for k, v in out.get("isolation", {}).items() if k != "hide"}
    return out


def test_discover_submissions(tmp_path):
    subs = make_class(tmp_path, {"bob": "ok", "alice": "ok"})
    assert [p.name for p in batch.discover_submissions(subs)] == ["alice", "bob"]
    (subs / "reports").mkdir()
    assert [p.name for p in batch.discover_submissions(subs, exclude=[subs / "reports"])] == ["alice", "bob"]


@pytest.mark.parametrize("kind", ["missing", "file", "empty", "single submission"])
def test_discover_submissions_errors_name_the_path(tmp_path, kind):
    path = tmp_path / "subs"
    if kind == "file":
        path.write_text("")
    elif kind != "missing":
        path.mkdir()
        (path / ".hidden").mkdir()
        if kind == "single submission":
            (path / "gates.py").write_text("")
    with pytest.raises(batch.BatchError) as info:
        batch.discover_submissions(path)
    assert str(path) in str(info.value)
    if kind == "single submission":
        assert "gradcheck check" in str(info.value)


@pytest.mark.system
def test_every_submission_gets_a_report_whatever_the_grader_does(tmp_path):
    subs = make_class(
        tmp_path,
        {
            "alice": "ok",
            "bob": "raise",
            "carol": "exit",
            "dave": "ok",
            "erin": "invalid",
            "frank": "exit-once",
            "gina": "ok",
        },
    )
    out = tmp_path / "out"
    seen = []
    rows = batch.grade_class(
        subs,
        out,
        A,
        seed=1,
        jobs=2,
        grade=fake_grade,
        sandbox_factory=fake_sandbox,
        progress=lambda row, done, total: seen.append((row["submission"], done, total)),
    )
    names = ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
    assert [r["submission"] for r in rows] == names
    reports = load_reports(out)
    assert sorted(reports) == names
    for r in reports.values():
        validate_report(r)
        assert [c["id"] for c in r["checks"]] == list(A.check_ids)
    status = {n: r["status"] for n, r in reports.items()}
    assert status == {
        "alice": "graded",
        "bob": "error",
        "carol": "error",
        "dave": "graded",
        "erin": "error",
        "frank": "graded",
        "gina": "graded",
    }
    assert "RuntimeError: the grader tripped over this one" in reports["bob"]["message"]
    assert "died twice" in reports["carol"]["message"]
    assert "invalid report" in reports["erin"]["message"] and "schema_version" in reports["erin"]["message"]
    assert sorted(s for s, _, _ in seen) == names and {t for _, _, t in seen} == {7}
    assert sorted(d for _, d, _ in seen) == list(range(1, 8))
    # the class files
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stats"]["count"] == 7 and summary["stats"]["errors"] == 3
    assert len((out / "gradebook.csv").read_text().splitlines()) == 8
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


@pytest.mark.system
def test_jobs_do_not_change_the_reports(tmp_path):
    subs = make_class(tmp_path, {f"s{i:02d}": ("slow" if i % 3 == 0 else "ok") for i in range(8)})
    one, two = tmp_path / "one", tmp_path / "two"
    rows1 = batch.grade_class(subs, one, A, seed=5, jobs=1, grade=fake_grade, sandbox_factory=fake_sandbox)
    rows2 = batch.grade_class(subs, two, A, seed=5, jobs=2, grade=fake_grade, sandbox_factory=fake_sandbox)
    r1, r2 = load_reports(one), load_reports(two)
    assert len(r1) == 8 and {k: without_timing(v) for k, v in r1.items()} == {
        k: without_timing(v) for k, v in r2.items()
    }
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(rows1) == strip(rows2)
    assert (one / "summary.json").read_text() == (two / "summary.json").read_text()
    assert (one / "gradebook.csv").read_text() == (two / "gradebook.csv").read_text()
    # one sandbox per grader process, reused for every submission it grades; hidden paths passed
    for r in r2.values():
        assert r["isolation"]["sandboxes_in_this_process"] == 1
        assert r["isolation"]["hide"] == [str(subs.resolve()), str(two.resolve()), *batch.assignment_paths(A)]
        assert str(A.reference_dir) in r["isolation"]["hide"]  # the model solution, wherever it is
    # another seed, other reports
    batch.grade_class(subs, tmp_path / "seed6", A, seed=6, jobs=2, grade=fake_grade, sandbox_factory=fake_sandbox)
    assert {k: without_timing(v) for k, v in load_reports(tmp_path / "seed6").items()} != {
        k: without_timing(v) for k, v in r1.items()
    }


@pytest.mark.system
def test_a_hung_grader_is_stopped(tmp_path):
    subs = make_class(tmp_path, {"alice": "ok", "hangs": "hang", "zed": "ok"})
    t0 = time.monotonic()
    rows = batch.grade_class(
        subs, tmp_path / "out", A, jobs=2, grade=fake_grade, sandbox_factory=fake_sandbox, timeout=3
    )
    assert time.monotonic() - t0 < 60
    assert {r["submission"]: r["status"] for r in rows} == {"alice": "graded", "hangs": "error", "zed": "graded"}
    assert "longer than 3 s" in load_reports(tmp_path / "out")["hangs"]["message"]


@pytest.mark.system
def test_a_sandbox_that_cannot_start_stops_the_batch(tmp_path):
    subs = make_class(tmp_path, {"alice": "ok", "bob": "ok"})
    with pytest.raises(batch.GraderError) as info:
        batch.grade_class(subs, tmp_path / "out", A, jobs=2, grade=fake_grade, sandbox_factory=broken_sandbox)
    assert "cannot create namespaces here" in str(info.value)


def test_unwritable_out_dir_is_a_grader_error(tmp_path):
    subs = make_class(tmp_path, {"alice": "ok"})
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(batch.GraderError) as info:
        batch.grade_class(subs, blocker / "reports", A, grade=fake_grade, sandbox_factory=fake_sandbox)
    assert str(blocker / "reports") in str(info.value)


def test_bad_submissions_path_is_a_batch_error(tmp_path):
    with pytest.raises(batch.BatchError):
        batch.grade_class(tmp_path / "nope", tmp_path / "out", A, grade=fake_grade, sandbox_factory=fake_sandbox)
    assert not (tmp_path / "out").exists()


def test_grade_one_in_process(tmp_path):
    subs = make_class(tmp_path, {"alice": "ok", "bob": "raise"})
    report, seconds, trace = batch.grade_one(subs / "alice", A, 2, fake_grade, sandbox_factory=fake_sandbox)
    validate_report(report)
    assert report["status"] == "graded" and trace is None and seconds >= 0
    report, _, trace = batch.grade_one(subs / "bob", A, 2, fake_grade, sandbox_factory=fake_sandbox)
    assert report["status"] == "error" and "RuntimeError" in trace
    with pytest.raises(batch.GraderError):
        batch.grade_one(subs / "alice", A, 2, fake_grade, sandbox_factory=broken_sandbox)


def test_default_jobs():
    assert 1 <= batch.default_jobs() <= 8
