"""The hostile corpus graded as a class, next to innocent submissions, with the real grader: the run
completes, every submission gets a valid report, the innocent ones get exactly the grades they get
alone, the reports are the grader's own, and each hostile submission earns nothing at its hostile spot.

Every fixture is bounded by itself (see tests/hostile/); small limits keep the run short.
"""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from hostile_corpus import materialize

from gradcheck.assignment import DEFAULT_PATH, load_assignment
from gradcheck.batch import grade_class
from gradcheck.report import validate_report

pytestmark = pytest.mark.system  # every test here starts real processes (tests/README.md)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# case -> check-id prefixes that must not pass (the hostile spot); None: only completion is asserted
NOT_EARNED = {
    "syntax_error": ["gates."],
    "missing_module": ["mlp."],
    "missing_class": ["gates.MatMulGate."],
    "exit_at_import": ["graph."],
    "sleep_at_import": ["mlp."],
    "infinite_loop": ["gates.MultiplyGate.forward", "gates.MultiplyGate.backward"],
    "os_exit_backward": ["gates.MultiplyGate.backward"],
    "huge_allocation": ["gates.ExpGate.forward"],
    "many_children": None,
    "print_flood": None,
    "nan_inf": ["gates.ExpGate.forward"],
    "lying_objects": ["gates.AddGate.forward", "gates.MultiplyGate.forward", "gates.ExpGate.forward"],
    "monkeypatch": ["gates.MultiplyGate.backward"],
    "fake_report": None,
    "forged_frames": ["gates.AddGate.forward", "gates.MultiplyGate.forward"],
    "sneaky_reference": ["gates.ExpGate.forward"],
    "sibling": None,
    "disk_filler": None,
    "keyring": ["gates.AddGate.forward"],
    "userns_mount": ["gates.AddGate.forward"],
    "tmpfs_hog": ["gates.AddGate.forward"],
    "setsid_busy": ["gates.AddGate.forward"],
    "control_characters": ["gates.AddGate.forward"],
    "large_replies": ["gates.AddGate.forward", "gates.MultiplyGate.forward"],
}
INNOCENT = {"correct": ROOT / "reference", "victim": ROOT / "submissions" / "swapped-multiply"}


def tree_hash(folder):
    h = hashlib.sha256()
    for p in sorted(Path(folder).rglob("*")):
        h.update(str(p.relative_to(folder)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile-class")
    klass, out, alone_dir = base / "class", base / "reports", base / "alone"
    klass.mkdir(), out.mkdir(), alone_dir.mkdir()
    for name, src in INNOCENT.items():
        shutil.copytree(src, klass / name, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    target = {"reports": str(out), "sibling": str(klass / "victim")}
    for case in NOT_EARNED:
        materialize(case, klass / case)
        (klass / case / "target.json").write_text(json.dumps(target))
    text = DEFAULT_PATH.read_text()
    for key, value in (("call_seconds", 3), ("submission_seconds", 40), ("memory_mb", 768)):
        text = text.replace(f"\n{key} = ", f"\n{key} = {value}  # was ", 1)
    (base / "small-limits.toml").write_text(text)
    assignment = load_assignment(base / "small-limits.toml")
    assert assignment.limits["call_seconds"] == 3
    # the innocent submissions graded alone, for comparison
    for name in INNOCENT:
        shutil.copytree(klass / name, alone_dir / name)
    alone_out = base / "alone-reports"
    grade_class(alone_dir, alone_out, assignment, seed=3, jobs=1)
    victim_before = tree_hash(klass / "victim")
    rows = grade_class(klass, out, assignment, seed=3, jobs=2)
    reports = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}
    alone = {p.stem: json.loads(p.read_text()) for p in alone_out.glob("*.json") if p.stem != "summary"}
    return {
        "rows": rows,
        "reports": reports,
        "alone": alone,
        "class": klass,
        "out": out,
        "victim_before": victim_before,
    }


def test_every_submission_gets_a_valid_report(graded):
    expected = set(NOT_EARNED) | set(INNOCENT)
    assert set(graded["reports"]) == expected
    assert {r["submission"] for r in graded["rows"]} == expected
    for name, report in graded["reports"].items():
        validate_report(report)
        assert report["submission"] == name and report["seed"] == 3
        assert len(report["checks"]) == 81


def test_innocent_submissions_get_the_grades_they_get_alone(graded):
    for name in INNOCENT:
        together = {c["id"]: (c["status"], c["score"]) for c in graded["reports"][name]["checks"]}
        alone = {c["id"]: (c["status"], c["score"]) for c in graded["alone"][name]["checks"]}
        assert together == alone, name
    assert graded["reports"]["correct"]["score"] == 100.0


def test_sibling_submission_is_untouched(graded):
    assert tree_hash(graded["class"] / "victim") == graded["victim_before"]


def test_reports_folder_holds_only_the_graders_files(graded):
    names = {p.name for p in graded["out"].iterdir()}
    assert names == {f"{n}.json" for n in graded["reports"]} | {"summary.json", "gradebook.csv"}
    fake = graded["reports"]["fake_report"]
    assert fake["status"] == "graded" and "tests" not in fake  # the grader's report, not the forged one


@pytest.mark.parametrize("case", sorted(c for c, spots in NOT_EARNED.items() if spots))
def test_hostile_submission_earns_nothing_at_its_hostile_spot(graded, case):
    report = graded["reports"][case]
    for check in report["checks"]:
        if any(check["id"].startswith(prefix) for prefix in NOT_EARNED[case]):
            assert check["status"] != "pass" and check["score"] == 0, (check["id"], check["message"])
    assert report["score"] < 100


def test_printed_flood_is_captured_and_capped(graded):
    output = graded["reports"]["print_flood"]["output"]
    assert output["truncated"] and output["bytes"] > 10_000_000
    assert len(output["text"].encode()) <= 2 * 64 * 1024


def test_reference_was_not_found(graded):
    """sneaky_reference's ExpGate.forward returns how many routes to the reference leaked."""
    check = next(c for c in graded["reports"]["sneaky_reference"]["checks"] if c["id"] == "gates.ExpGate.forward")
    if check["status"] == "fail":
        assert check["details"]["worst"]["got"] == 0.0, check["message"]
