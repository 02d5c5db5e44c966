"""The trusted side's file handling, graded as a class with the real grader: symbolic links are never
followed (to the reference, to a classmate, to /etc, the submission folder itself), report names
cannot collide, any name the file system allows is graded (one that is not UTF-8 too), a folder with
thousands of files has its modules graded and the rest named, a fault in the parent is that
submission's error report, and grading writes nothing outside --out and the temp folder.
Correct neighbours keep full marks throughout."""

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_batch import A, fake_grade, fake_sandbox, make_class

from gradcheck import batch
from gradcheck.assignment import DEFAULT_PATH, load_assignment
from gradcheck.report import name_from_safe, safe_name, validate_report

pytestmark = pytest.mark.system  # real sandbox; its few in-process tests run with it (tests/README.md)

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"
NON_UTF8 = os.fsdecode(b"caf\xe9")
LINK_NOTE = "{} is a symbolic link; links are not graded"


def copy_reference(dst):
    shutil.copytree(REFERENCE, dst, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    return dst


def small_assignment(base):
    text = DEFAULT_PATH.read_text()
    for key, value in (("call_seconds", 5), ("submission_seconds", 40)):
        text = text.replace(f"\n{key} = ", f"\n{key} = {value}  # was ", 1)
    (base / "small.toml").write_text(text)
    return load_assignment(base / "small.toml")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("files")
    subs, out = base / "class", base / "reports"
    subs.mkdir()
    copy_reference(subs / "correct")
    copy_reference(subs / "John Smith")
    shutil.copytree(
        ROOT / "submissions" / "swapped-multiply",
        subs / "John_Smith-ef61a579",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    copy_reference(subs / NON_UTF8)
    for name, target in (
        ("to_reference", REFERENCE),
        ("to_sibling", Path("..") / ".." / "correct"),
        ("to_etc", Path("/etc")),
    ):
        (subs / name).mkdir()
        os.symlink(target, subs / name / "hw")
    (subs / "linked_modules").mkdir()
    for m in ("gates.py", "graph.py", "mlp.py"):
        os.symlink(REFERENCE / m, subs / "linked_modules" / m)
    os.symlink("/etc/passwd", subs / "to_etc" / "notes.txt")
    os.symlink("correct", subs / "alias")  # the submission folder itself is a link
    many = copy_reference(subs / "many_files")
    for i in range(3000):  # names that sort before the modules
        (many / f"a{i:04d}.txt").write_text("x")
    assignment = small_assignment(base)
    cwd = base / "cwd"
    cwd.mkdir()
    before = set(os.listdir(cwd)), set(os.listdir(subs))
    old = os.getcwd()
    os.chdir(cwd)
    try:
        rows = batch.grade_class(subs, out, assignment, seed=0, jobs=2)
    finally:
        os.chdir(old)
    reports = {name_from_safe(p.stem): json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}
    return {"rows": rows, "reports": reports, "out": out, "subs": subs, "cwd": cwd, "before": before}


def test_every_folder_gets_its_own_report(graded):
    names = {
        "correct",
        "John Smith",
        "John_Smith-ef61a579",
        NON_UTF8,
        "to_reference",
        "to_sibling",
        "to_etc",
        "linked_modules",
        "alias",
        "many_files",
    }
    assert set(graded["reports"]) == names
    for name, report in graded["reports"].items():
        validate_report(report)
        assert report["submission"] == os.fsencode(name).decode("utf-8", "backslashreplace")
    assert len(graded["rows"]) == len(names)
    files = {r["report"] for r in graded["rows"]}
    assert len(files) == len(names) and "John=20Smith.json" in files and "John_Smith-ef61a579.json" in files


def test_correct_neighbours_keep_full_marks(graded):
    for name in ("correct", "John Smith", NON_UTF8, "many_files"):
        assert graded["reports"][name]["score"] == 100.0, (name, graded["reports"][name]["message"])
    assert graded["reports"]["John_Smith-ef61a579"]["score"] < 100  # the planted bug, in its own report


def test_non_utf8_name_is_graded_and_reversible(graded):
    report = graded["reports"][NON_UTF8]
    assert report["status"] == "graded" and report["submission"] == "caf\\xe9"
    assert (graded["out"] / f"{safe_name(NON_UTF8)}.json").is_file() and safe_name(NON_UTF8) == "caf=E9"
    gradebook = (graded["out"] / "gradebook.csv").read_text(encoding="utf-8")
    assert "caf\\xe9" in gradebook


@pytest.mark.parametrize("name", ["to_reference", "to_sibling", "to_etc"])
def test_links_are_not_followed(graded, name):
    report = graded["reports"][name]
    assert report["score"] < 5, report["score"]  # graded as a folder without modules: nothing passes
    assert LINK_NOTE.format("hw") in report["message"]
    assert not any(c["status"] == "pass" and c["id"].startswith("gates.") for c in report["checks"])
    text = json.dumps(report)
    assert "root:x:0:0" not in text


def test_linked_module_files_are_not_graded(graded):
    report = graded["reports"]["linked_modules"]
    assert report["score"] < 5
    for m in ("gates.py", "graph.py", "mlp.py"):
        assert LINK_NOTE.format(m) in report["message"]


def test_a_linked_submission_folder_is_an_error_report(graded):
    report = graded["reports"]["alias"]
    assert report["status"] == "error" and report["message"] == LINK_NOTE.format("alias")


def test_thousands_of_files_modules_first_skipped_named(graded):
    report = graded["reports"]["many_files"]
    assert report["score"] == 100.0
    assert "not graded (more than 64 files): a00" in report["message"]
    assert "more" in report["message"]


def test_nothing_written_outside_out_and_temp(graded):
    assert set(os.listdir(graded["cwd"])) == graded["before"][0]  # no .hypothesis/ in the current folder
    assert set(os.listdir(graded["subs"])) == graded["before"][1]
    for p in graded["subs"].rglob("*"):
        assert p.name not in ("__pycache__", ".hypothesis"), p


def test_discover_lists_links_and_odd_names(tmp_path):
    subs = make_class(tmp_path, {"bob": "ok", NON_UTF8: "ok"})
    os.symlink(subs / "bob", subs / "link")
    assert [p.name for p in batch.discover_submissions(subs)] == ["bob", NON_UTF8, "link"]


def test_a_fault_in_the_parent_is_that_submissions_error_report(tmp_path, monkeypatch):
    subs = make_class(tmp_path, {"alice": "ok", "bob": "ok", "carol": "ok", NON_UTF8: "ok"})
    real = batch._checked_report

    def flaky(outcome, path, assignment, seed):
        if path.name == "bob":
            raise UnicodeEncodeError("utf-8", "x", 0, 1, "planted fault")
        return real(outcome, path, assignment, seed)

    monkeypatch.setattr(batch, "_checked_report", flaky)
    out = tmp_path / "out"
    rows = batch.grade_class(subs, out, A, seed=1, jobs=2, grade=fake_grade, sandbox_factory=fake_sandbox)
    status = {r["submission"]: r["status"] for r in rows}
    assert status == {"alice": "graded", "bob": "error", "carol": "graded", "caf\\xe9": "graded"}
    bob = json.loads((out / "bob.json").read_text())
    assert "planted fault" in bob["message"] and "internal grader error" in bob["message"]
    assert (out / "gradebook.csv").exists() and (out / "summary.json").exists()


def test_a_colliding_report_name_is_an_error_never_an_overwrite(tmp_path, monkeypatch):
    subs = make_class(tmp_path, {"alice": "ok", "bob": "ok"})
    # as on a file system that ignores case: two names, one file
    monkeypatch.setattr(batch, "report_path", lambda out, name: Path(out) / "same.json")
    out = tmp_path / "out"
    rows = batch.grade_class(subs, out, A, seed=1, jobs=1, grade=fake_grade, sandbox_factory=fake_sandbox)
    by = {r["submission"]: r for r in rows}
    assert by["alice"]["status"] == "graded" and by["alice"]["report"] == "same.json"
    assert by["bob"]["status"] == "error" and "report" not in by["bob"]
    assert "already holds the report of another submission" in by["bob"]["message"]
    assert json.loads((out / "same.json").read_text())["submission"] == "alice"  # not overwritten


def test_a_rerun_replaces_its_own_earlier_reports(tmp_path):
    subs = make_class(tmp_path, {"alice": "ok", "bob": "ok"})
    out = tmp_path / "out"
    grade = functools.partial(batch.grade_class, subs, out, A, jobs=1, grade=fake_grade, sandbox_factory=fake_sandbox)
    grade(seed=1)
    rows = grade(seed=2)
    assert {r["status"] for r in rows} == {"graded"}
    assert json.loads((out / "alice.json").read_text())["seed"] == 2


def test_check_writes_nothing_in_the_current_folder(tmp_path):
    sub = copy_reference(tmp_path / "sub")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPOTHESIS")}
    p = subprocess.run(
        [sys.executable, "-m", "gradcheck.cli", "check", str(sub)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    assert os.listdir(cwd) == []
    assert sorted(os.listdir(sub)) == ["gates.py", "graph.py", "mlp.py"]


def test_staging_takes_modules_first_and_counts_what_it_skips(tmp_path):
    from gradcheck.grading import staging_notes
    from gradcheck.sandbox import Limits, Sandbox

    d = copy_reference(tmp_path / "sub")
    for i in range(1500):
        (d / f"a{i:04d}.txt").write_text("x")
    for i in range(12):
        os.symlink("/etc/passwd", d / f"link{i:02d}")
    os.mkfifo(d / "fifo")
    with Sandbox(Limits(), cgroups=False) as sb:  # (and the degraded mode without cgroups says so)
        assert sb.isolation["cgroup"] is False
        assert any("no per-worker cgroup (cgroups disabled by configuration)" in n for n in sb.isolation["notes"])
        with sb.session(d) as s:
            staged = s.staged
            assert s.modules["gates"]["ok"] and s.modules["mlp"]["ok"]
    assert staged["files"][:3] == ["gates.py", "graph.py", "mlp.py"] and len(staged["files"]) == 64
    assert staged["skipped_counts"] == {
        "a symbolic link; links are not graded": 12,
        "not a regular file": 1,
        "more than 64 files": 1500 - 61,
    }
    assert len(staged["skipped"]) == 1000
    notes = staging_notes(staged)
    assert notes[0] == LINK_NOTE.format("link00") and "2 more symbolic links were not graded" in notes
    assert "not graded (not a regular file): fifo" in notes
    assert notes[-1].startswith("not graded (more than 64 files): a0061.txt") and notes[-1].endswith("and 1434 more")


def test_display_names_never_collide():
    from gradcheck.report import display_name

    names = ["alice", "café", "a\\b", "a\\\\b", NON_UTF8, "caf\\xe9", "caf\\\\xe9", os.fsdecode(b"caf\\\xe9")]
    shown = [display_name(n) for n in names]
    assert len(set(shown)) == len(names)
    assert shown[:2] == ["alice", "café"] and display_name(NON_UTF8) == "caf\\xe9"
