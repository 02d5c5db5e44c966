"""grade --resume: up-to-date reports are kept, everything else is graded again, and a run killed with
SIGKILL at a random point and resumed ends with the reports of a run that was never stopped.

The first tests use a fake grade function (injected into grade_class) that builds its report with the
real report builder; the last one kills a real ``gradcheck grade`` (the real grader and sandbox).
"""

import contextlib
import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes import FakeVerdict

from gradcheck import batch
from gradcheck.assignment import load_assignment
from gradcheck.report import CLASS_FILES, graded_report
from gradcheck.resume import up_to_date_report
from gradcheck.submission import submission_digest

pytestmark = pytest.mark.system

A = load_assignment()


def fake_sandbox(assignment, hide):
    return contextlib.nullcontext(type("FakeSandbox", (), {"isolation": {"fake": True}})())


def fake_grade(submission_dir, assignment, seed, sandbox):
    """Every check passes unless the folder's gates.py says "bug"; ``behavior`` "raise" is a grader fault."""
    path = Path(submission_dir)
    if (path / "behavior").exists():
        raise RuntimeError("the grader tripped over this one")
    bug = "bug" in (path / "gates.py").read_text()
    failing = {c.id for c in assignment.checks if bug and c.id.startswith("gates.")}
    results = {c.id: FakeVerdict("fail" if c.id in failing else "pass", "m") for c in assignment.checks}
    return graded_report(path.name, assignment, seed, results, seconds=0.1, submission_hash=submission_digest(path))


def grade(subs, out, assignment=A, seed=0, resume=True):
    made = []
    rows = batch.grade_class(
        subs,
        out,
        assignment,
        seed=seed,
        jobs=2,
        grade=fake_grade,
        sandbox_factory=fake_sandbox,
        resume=resume,
        progress=lambda row, done, total: made.append((row["submission"], done, total)),
    )
    return {r["submission"]: r for r in rows}, made


def files(out):
    return {p.name: (p.stat().st_ino, p.read_text()) for p in sorted(out.glob("*.json")) if p.name != "summary.json"}


def test_resume_keeps_only_reports_of_the_same_files_assignment_seed_and_version(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    for name in ("alice", "bob", "carol", "dave"):
        (subs / name).mkdir(parents=True)
        (subs / name / "gates.py").write_text(f"# {name}\n")
    grade(subs, out, resume=False)
    before = files(out)

    # nothing changed: everything kept, nothing graded, the files untouched; the class files rewritten
    rows, made = grade(subs, out)
    assert made == [] and all(r["resumed"] for r in rows.values()) and files(out) == before
    assert all((out / f).exists() for f in ("summary.json", "gradebook.csv"))

    # one submission edited, one added, one report from an older gradcheck, one report that is an error,
    # a temporary file and the class files a killed run left: those graded again, the rest kept
    (subs / "bob" / "gates.py").write_text("# bob, bug fixed? no: bug\n")
    (subs / "erin").mkdir()
    (subs / "erin" / "gates.py").write_text("# erin\n")
    old = json.loads((out / "carol.json").read_text())
    (out / "carol.json").write_text(json.dumps({**old, "gradcheck_version": "0.0.9"}))
    (subs / "dave" / "behavior").write_text("raise")
    grade(subs, out)
    (subs / "dave" / "behavior").unlink()
    assert json.loads((out / "dave.json").read_text())["status"] == "error"
    (out / ".alice.json.abcd1234.tmp").write_text("half a report")
    for name in CLASS_FILES:
        (out / name).write_text("from the run before")
    rows, made = grade(subs, out)
    assert sorted(n for n, _, _ in made) == ["dave"] and [d for _, d, t in made] == [1] and made[0][2] == 1
    assert not (out / ".alice.json.abcd1234.tmp").exists() and (out / "index.html").exists() is False
    assert json.loads((out / "summary.json").read_text())["stats"]["count"] == 5

    rows, made = grade(subs, out)  # every report is up to date now
    assert made == []
    assert json.loads((out / "bob.json").read_text())["score"] < A.max_score  # the edited file was graded
    assert json.loads((out / "carol.json").read_text())["gradcheck_version"] != "0.0.9"

    # another assignment (a check's points), another seed: nothing is kept, every report is replaced
    first = dataclasses.replace(A.checks[0], points=A.checks[0].points + 1)
    other = dataclasses.replace(A, checks=(first, *A.checks[1:]))
    assert up_to_date_report(out, subs / "alice", A, 0) is not None
    assert up_to_date_report(out, subs / "alice", other, 0) is None
    rows, made = grade(subs, out, seed=3)
    assert len(made) == 5 and not any(r.get("resumed") for r in rows.values())
    assert {json.loads(p.read_text())["seed"] for p in out.glob("[a-z]*.json") if p.name != "summary.json"} == {3}


def test_a_report_of_another_submission_under_the_same_name_is_not_kept(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "gates.py").write_text("x\n")
    grade(subs, out, resume=False)
    report = json.loads((out / "alice.json").read_text())
    (out / "alice.json").write_text(json.dumps({**report, "submission": "mallory"}))
    rows, made = grade(subs, out)
    assert [n for n, _, _ in made] == ["alice"]
    assert json.loads((out / "alice.json").read_text())["submission"] == "alice"


def _reports(out):
    """{file name: report without timing} of a run's folder; the folder's own path (the sandbox hides it:
    the report's isolation names it) written OUT."""
    got = {}
    for p in sorted(out.glob("*.json")):
        if p.name == "summary.json":
            continue
        r = json.loads(p.read_text().replace(json.dumps(str(out))[1:-1], "OUT"))
        r.pop("timing", None)
        got[p.name] = r
    return got


def test_a_run_killed_at_a_random_point_and_resumed_ends_as_a_clean_run(graded_class, tmp_path):
    subs, clean = graded_class["subs"], graded_class["out"]
    n = len([p for p in subs.iterdir() if p.is_dir()])
    seed = int(os.environ.get("GRADCHECK_KILL_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    # reports written before the kill: at least one submission not started yet, so the kill comes mid-run
    kill_after = rng.randint(1, n - 3)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "gradcheck", "grade", str(subs), "--out", str(out), "--jobs", "2"]
    log = open(tmp_path / "killed-run.log", "wb")
    proc = subprocess.Popen(command, cwd=tmp_path, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    why = f"(GRADCHECK_KILL_SEED={seed}: killed after {kill_after} of {n} reports)"
    try:
        deadline = time.monotonic() + 300
        while len([p for p in out.glob("*.json") if p.name != "summary.json"]) < kill_after:
            assert proc.poll() is None, (
                f"the run ended before it could be killed {why}: " + (tmp_path / "killed-run.log").read_text()
            )
            assert time.monotonic() < deadline, f"no {kill_after} reports in 300 s {why}"
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.1))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()
    left = _reports(out)
    assert len(left) < n and not (out / "summary.json").exists(), f"the kill came too late {why}"
    assert all(r["status"] == "graded" for r in left.values()), why  # whole reports only, never an error

    resumed = subprocess.run([*command, "--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"Resumed: skipped {len(left)} submission(s)" in resumed.stdout, why
    assert f"graded {n - len(left)}" in resumed.stdout
    assert _reports(out) == _reports(clean), why  # the same reports, timings aside
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
    assert (out / "index.html").exists() and (out / "summary.json").exists()
