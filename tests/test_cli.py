"""The command line: output, files written, and exit status (0 done, 1 grader failure, 2 usage).

Grading is faked (injected into gradcheck.batch) except in the end-to-end test at the bottom, which
grades a copy of the reference solution with the real grader and sandbox.
"""

import contextlib
import csv
import functools
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import fake_check, fake_report

from gradcheck import batch, cli
from gradcheck.assignment import assignment_schema, load_assignment
from gradcheck.report import report_schema

REPO = Path(__file__).resolve().parents[1]
SECRET = "SECRET-c41d"


class FakeSandbox:
    isolation = {"fake": True}


def fake_sandbox(assignment, hide):
    return contextlib.nullcontext(FakeSandbox())


def broken_sandbox(assignment, hide):
    raise OSError("no namespaces for you")


def fake_grade(submission_dir, assignment, seed, sandbox):
    """Every check passes, except all of them for a submission named 'bad-*'; 'crash-*' raises."""
    name = Path(submission_dir).name
    if name.startswith("crash"):
        raise RuntimeError("grader bug")
    checks = []
    for c in assignment.checks:
        ok = not name.startswith("bad")
        message = "ok" if ok else (f"wrong on {SECRET}" if c.visibility != "visible" else "wrong")
        details = {} if ok or c.visibility == "visible" else {"details": {"counterexample": SECRET}}
        checks.append(fake_check(c, ok, message, **details))
    return fake_report(name, assignment, seed, checks)


@pytest.fixture
def fake(monkeypatch):
    """Inject the fake grade function and sandbox (the CLI itself stays as it is)."""

    def use(sandbox=fake_sandbox):
        monkeypatch.setattr(
            batch, "grade_class", functools.partial(batch.grade_class, grade=fake_grade, sandbox_factory=sandbox)
        )
        monkeypatch.setattr(
            batch, "grade_one", functools.partial(batch.grade_one, grade=fake_grade, sandbox_factory=sandbox)
        )

    use()
    return use


def make_subs(root: Path, names) -> Path:
    for n in names:
        (root / "subs" / n).mkdir(parents=True)
        (root / "subs" / n / "gates.py").write_text("")
    return root / "subs"


def run(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False)


def test_help_documents_exit_codes():
    for args in ([], ["grade"], ["check"]):
        r = run(*args, "--help")
        assert r.exit_code == 0
        assert "Exit status" in r.output and "0  grading completed" in r.output and "2  usage error" in r.output


def test_schema_command():
    r = run("schema")
    assert r.exit_code == 0 and json.loads(r.stdout) == report_schema()
    r = run("schema", "--assignment")
    assert r.exit_code == 0 and json.loads(r.stdout) == assignment_schema()


@pytest.mark.system
def test_grade_writes_reports_summary_and_gradebook(tmp_path, fake):
    subs = make_subs(tmp_path, ["alice", "bad-bob", "carol"])
    out = tmp_path / "reports"
    r = run("grade", subs, "--out", out, "--jobs", "2", "--seed", "3")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "alice.json",
        "bad-bob.json",
        "carol.json",
        "gradebook.csv",
        "index.html",
        "pages",
        "summary.json",
    ]
    assert json.loads((out / "alice.json").read_text())["seed"] == 3
    # progress on stderr, one line per submission; the table on stdout
    progress = [ln for ln in r.stderr.splitlines() if ln.startswith("[")]
    assert len(progress) == 3 and any("bad-bob" in ln and "0/100" in ln and "graded" in ln for ln in progress)
    table = r.stdout.splitlines()
    assert table[0].split() == ["submission", "score", "status", "points", "lost", "on"]
    assert [ln.split()[0] for ln in table[1:4]] == ["alice", "bad-bob", "carol"]
    assert "gates.AddGate.forward" in table[2] and "more)" in table[2]  # bad-bob lost points on many checks
    assert "mean 66.67" in r.stdout and "median 100" in r.stdout and str(out) in r.stdout
    assert f"Class report: {out / 'index.html'} (3 submissions, 6 plots)" in r.stdout
    assert sorted(p.name for p in (out / "pages").iterdir()) == ["alice.html", "bad-bob.html", "carol.html"]
    rows = list(csv.DictReader((out / "gradebook.csv").open(newline="")))
    assert [row["submission"] for row in rows] == ["alice", "bad-bob", "carol"]


@pytest.mark.system
def test_grade_with_a_grader_error_for_one_submission_still_exits_0(tmp_path, fake):
    subs = make_subs(tmp_path, ["alice", "crash-me"])
    r = run("grade", subs, "--out", tmp_path / "out", "--jobs", "1")
    assert r.exit_code == 0, r.output
    assert "RuntimeError: grader bug" in r.stderr and "1 submission(s) could not be graded" in r.stderr
    assert json.loads((tmp_path / "out" / "crash-me.json").read_text())["status"] == "error"


@pytest.mark.system
def test_grade_exits_1_when_no_submission_could_be_graded(tmp_path, fake):
    subs = make_subs(tmp_path, ["crash-1", "crash-2"])
    r = run("grade", subs, "--out", tmp_path / "out", "--jobs", "2")
    assert r.exit_code == 1 and "no submission could be graded" in r.stderr
    assert (tmp_path / "out" / "crash-1.json").exists()  # the rows are still there


@pytest.mark.parametrize(
    "problem",
    ["missing dir", "a file", "no submissions", "bad assignment", "missing assignment", "bad jobs", "bad seed"],
)
def test_usage_errors_exit_2_and_name_the_culprit(tmp_path, fake, problem):
    subs = make_subs(tmp_path, ["alice"])
    args, named = ["grade", subs, "--out", tmp_path / "out"], None
    if problem == "missing dir":
        args[1] = named = tmp_path / "nope"
    elif problem == "a file":
        args[1] = named = subs / "alice" / "gates.py"
    elif problem == "no submissions":
        args[1] = named = subs / "alice"
    elif problem == "bad assignment":
        bad = tmp_path / "course.toml"
        bad.write_text('name = "x"\n[[checks]]\nid = "mlp.train"\npoints = 1\nvisibility = "secret"\n')
        args += ["--assignment", bad]
        named = "checks[0].visibility: expected one of visible, hidden, after_due_date, after_published"
        assert str(bad) in run(*args).stderr
    elif problem == "missing assignment":
        args += ["--assignment", tmp_path / "missing.toml"]
        named = tmp_path / "missing.toml"
    elif problem == "bad jobs":
        args += ["--jobs", "0"]
        named = "--jobs"
    elif problem == "bad seed":
        args += ["--seed", "-1"]
        named = "--seed"
    r = run(*args)
    assert r.exit_code == 2, r.output
    assert str(named) in r.stderr
    assert not (tmp_path / "out").exists()


def test_unwritable_reports_dir_exits_1(tmp_path, fake):
    subs = make_subs(tmp_path, ["alice"])
    (tmp_path / "file").write_text("")
    r = run("grade", subs, "--out", tmp_path / "file" / "reports")
    assert r.exit_code == 1 and "cannot write reports" in r.stderr


@pytest.mark.system
def test_sandbox_that_cannot_start_exits_1(tmp_path, fake):
    fake(sandbox=broken_sandbox)
    subs = make_subs(tmp_path, ["alice"])
    r = run("grade", subs, "--out", tmp_path / "out", "--jobs", "1")
    assert r.exit_code == 1 and "no namespaces for you" in r.stderr
    r = run("check", subs / "alice")
    assert r.exit_code == 1 and "no namespaces for you" in r.stderr


def test_check_prints_student_feedback_and_writes_nothing(tmp_path, fake, monkeypatch):
    subs = make_subs(tmp_path, ["bad-bob"])
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    r = CliRunner().invoke(cli.main, ["check", str(subs / "bad-bob")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert os.listdir(cwd) == []
    assert "gradcheck: bad-bob" in r.stdout and "Score: 0 / 91" in r.stdout
    assert "FAIL" in r.stdout and "gates.AddGate.forward" in r.stdout
    assert SECRET not in r.output and "hidden check" in r.stdout
    full = run("check", subs / "bad-bob", "--all")
    assert full.exit_code == 0 and SECRET in full.stdout and "Score: 0 / 100" in full.stdout


def test_check_with_out_writes_the_full_report(tmp_path, fake):
    subs = make_subs(tmp_path, ["bad-bob"])
    r = run("check", subs / "bad-bob", "--out", tmp_path / "rep", "--seed", "9")
    assert r.exit_code == 0
    report = json.loads((tmp_path / "rep" / "bad-bob.json").read_text())
    assert report["seed"] == 9 and SECRET in json.dumps(report)  # the instructor's report keeps everything


def test_check_exits_1_when_the_grader_fails(tmp_path, fake):
    subs = make_subs(tmp_path, ["crash-it"])
    r = run("check", subs / "crash-it")
    assert r.exit_code == 1 and "RuntimeError: grader bug" in r.stderr and "Grading failed" in r.stdout


# --- end to end: the real grader and sandbox on the reference solution --------------------------------


@pytest.mark.system
def test_end_to_end_reference_gets_full_marks(tmp_path):
    subs = tmp_path / "class"
    subs.mkdir()
    shutil.copytree(REPO / "reference", subs / "ref", ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    out = tmp_path / "reports"
    r = run("grade", subs, "--out", out, "--jobs", "1")
    assert r.exit_code == 0, r.output
    report = json.loads((out / "ref.json").read_text())
    assert report["status"] == "graded", report.get("message")
    bad = [(c["id"], c["status"], c["message"]) for c in report["checks"] if c["status"] != "pass"]
    assert bad == []
    a = load_assignment()
    assert report["score"] == report["max_score"] == a.max_score
    assert [c["id"] for c in report["checks"]] == list(a.check_ids)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stats"]["max"] == a.max_score
