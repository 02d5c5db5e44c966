"""Platform formats: Gradescope and PrairieLearn results (validated against JSON Schemas written from
their documentation), JUnit XML (parsed), the container modes, and what students may see.

Real reports come from the real grader and sandbox (one sandbox for the module): a copy of the
reference (all pass), swapped-multiply (MultiplyGate fails), and a copy of the reference whose
``train`` ascends and prints -- mlp.train is hidden in the default assignment, so nothing of it may
reach student-facing text.
"""

import contextlib
import copy
import functools
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner
from fakes import fake_report

from gradcheck import batch, cli
from gradcheck.assignment import load_assignment
from gradcheck.formats import (
    PL_MAX_BYTES,
    FormatError,
    container,
    dumps,
    format_schema,
    to_gradescope,
    to_junit,
    to_prairielearn,
    validate_gradescope,
    validate_prairielearn,
)
from gradcheck.report import error_report, student_view, validate_report

REPO = Path(__file__).resolve().parents[1]
A = load_assignment()
# what the hidden mlp.train check says about the broken train (and what that train prints)
HIDDEN_MARKERS = ("separable blobs", "a correct train at least halves it", "TRAIN-SECRET-7f3a")


def _copy_reference(dst: Path) -> Path:
    dst.mkdir(parents=True)
    for m in ("gates.py", "graph.py", "mlp.py"):
        shutil.copy(REPO / "reference" / m, dst / m)
    return dst


def _break_train(folder: Path) -> None:
    mlp = folder / "mlp.py"
    text = mlp.read_text()
    old = "        losses.append(net.sgd_step(X[rows], y[rows], lr))"
    assert old in text
    mlp.write_text(
        text.replace(
            old,
            "        print('TRAIN-SECRET-7f3a', X[rows][:1].tolist())\n"
            "        losses.append(net.sgd_step(X[rows], y[rows], -lr))",
        )
    )


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Real reports: correct (reference copy), swapped (MultiplyGate), train (hidden check fails)."""
    from gradcheck.grading import grade_submission
    from gradcheck.sandbox import Limits, Sandbox

    root = tmp_path_factory.mktemp("subs")
    correct = _copy_reference(root / "correct")
    swapped = root / "swapped"
    shutil.copytree(REPO / "submissions" / "swapped-multiply", swapped)
    train = _copy_reference(root / "train")
    _break_train(train)
    out = {}
    with Sandbox(Limits(**A.limits), hide=[str(root)]) as sandbox:
        for name, path in (("correct", correct), ("swapped", swapped), ("train", train)):
            out[name] = grade_submission(path, A, 0, sandbox)
            validate_report(out[name])
    return out


def _failed(report):
    return {c["id"] for c in report["checks"] if c["status"] != "pass"}


@pytest.mark.system
def test_the_fixture_reports_are_what_the_tests_assume(reports):
    assert _failed(reports["correct"]) == set()
    assert _failed(reports["swapped"]) == {"gates.MultiplyGate.backward", "gates.MultiplyGate.numerical"}
    assert _failed(reports["train"]) == {"mlp.train"}
    train = next(c for c in reports["train"]["checks"] if c["id"] == "mlp.train")
    assert train["visibility"] == "hidden" and HIDDEN_MARKERS[0] in train["message"]
    assert HIDDEN_MARKERS[2] in reports["train"]["output"]["text"]  # the instructor report keeps the prints


# --- schemas --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gradescope", "prairielearn"])
def test_schemas_are_valid_draft_2020_12(name):
    jsonschema.Draft202012Validator.check_schema(format_schema(name))


def test_schema_command_prints_the_platform_schemas():
    for name in ("gradescope", "prairielearn"):
        r = _run("schema", f"--{name}")
        assert r.exit_code == 0 and json.loads(r.stdout) == format_schema(name)


@pytest.mark.parametrize(
    "doc, ok",
    [
        ({"score": 44.0}, True),  # Gradescope's smallest file
        ({"tests": [{"score": 1, "max_score": 2, "name": "t", "status": "passed"}]}, True),
        ({"tests": [{"max_score": 2, "name": "t"}]}, False),  # no score anywhere
        ({"score": 1, "visibility": "secret"}, False),
        ({"score": 1, "tests": [{"score": 1, "status": "ok"}]}, False),
        ({"score": 1, "tests": [{"score": 1, "number": 3}]}, False),  # number is a string
        ({"score": 1, "stdout_visibility": "after_due_date", "output_format": "md"}, True),
        ({"score": 1, "scroe": 2}, False),  # a typo is refused
    ],
)
def test_gradescope_schema_accepts_and_refuses(doc, ok):
    if ok:
        validate_gradescope(doc)
    else:
        with pytest.raises(FormatError):
            validate_gradescope(doc)


@pytest.mark.parametrize(
    "doc, ok",
    [
        ({"score": 0.25}, True),
        ({"gradable": False, "message": "syntax error"}, True),  # no score needed then
        ({"gradable": True}, False),
        ({"score": 1.5}, False),
        ({"score": -0.1}, False),
        (
            {
                "score": 1,
                "tests": [{"name": "t", "points": 1, "max_points": 1, "message": "", "output": "", "description": "d"}],
            },
            True,
        ),
        ({"score": 1, "tests": [{"points": 1}]}, False),  # a test needs a name
        ({"score": 1, "tests": [{"name": "t", "pionts": 1}]}, False),
        ({"score": 1, "tests": [{"name": "t", "points": 2, "max_points": 1}]}, False),
    ],
)
def test_prairielearn_schema_accepts_and_refuses(doc, ok):
    if ok:
        validate_prairielearn(doc)
    else:
        with pytest.raises(FormatError):
            validate_prairielearn(doc)


# --- Gradescope -----------------------------------------------------------------------------------


@pytest.mark.system
def test_gradescope_results_of_real_reports(reports):
    for report in reports.values():
        g = to_gradescope(report, A)
        validate_gradescope(g)
        assert g["score"] == report["score"] and g["stdout_visibility"] == "hidden"
        assert [t["name"] for t in g["tests"]] == list(A.check_ids)
        assert len({t["number"] for t in g["tests"]}) == len(g["tests"])
        for t, c, spec in zip(g["tests"], report["checks"], A.checks):
            assert t["visibility"] == spec.visibility
            assert (t["score"], t["max_score"]) == (c["score"], float(spec.points))
            assert t["status"] == ("passed" if c["status"] == "pass" else "failed")
        assert sum(t["score"] for t in g["tests"]) == pytest.approx(g["score"])
    g = to_gradescope(reports["swapped"], A)
    bwd = next(t for t in g["tests"] if t["name"] == "gates.MultiplyGate.backward")
    assert bwd["tags"] == ["gates", "gates.MultiplyGate"] and bwd["number"] == "1.7"
    assert "diagnosis: the two inputs' gradients are swapped" in bwd["output"]
    assert "gates.MultiplyGate.backward" in g["output"] and "Visible checks: 77 of 79 passed" in g["output"]
    assert "Not shown yet: 2 check(s) worth 9 point(s)" in g["output"]


@pytest.mark.system
def test_gradescope_hidden_check_details_only_in_the_hidden_test(reports):
    g = to_gradescope(reports["train"], A)
    train = next(t for t in g["tests"] if t["name"] == "mlp.train")
    assert train["visibility"] == "hidden" and train["status"] == "failed"
    assert HIDDEN_MARKERS[0] in train["output"]  # instructors see it; Gradescope never shows it to students
    visible_text = json.dumps({k: v for k, v in g.items() if k != "tests"}) + json.dumps(
        [t for t in g["tests"] if t["visibility"] == "visible"]
    )
    for marker in HIDDEN_MARKERS:
        assert marker not in visible_text
    assert "mlp.train" not in g["output"]  # not even which hidden check failed
    assert "Visible checks: 79 of 79 passed" in g["output"]


def test_gradescope_error_report_is_valid_and_says_so():
    g = to_gradescope(error_report("bob", A, 0, "the sandbox could not start"), A)
    validate_gradescope(g)
    assert g["score"] == 0 and "could not grade this submission: the sandbox could not start" in g["output"]
    assert all(t["score"] == 0 and t["status"] == "failed" for t in g["tests"])
    assert {t["visibility"] for t in g["tests"]} == {"visible", "hidden", "after_due_date"}


def _noisy(report):
    """A report whose texts are huge: a long traceback, long messages, a flood of prints."""
    r = copy.deepcopy(report)
    for c in r["checks"]:
        c["visibility"] = "visible"
        c["status"], c["score"] = "error", 0.0
        c["message"] = "Traceback (most recent call last):\n" + "  File x\n" * 3000 + "ValueError: boom " + "z" * 50_000
        c["details"] = {"counterexample": "q" * 100_000, "blame": "b" * 20_000}
    r["score"] = 0.0
    r["modules"] = {"gates": {"ok": False, "error": "\n".join(f"trace line {i}" for i in range(5000))}}
    r["output"] = {"text": "\n".join(f"print {i}" for i in range(60_000)), "bytes": 10**7, "truncated": True}
    return r


@pytest.mark.system
def test_student_facing_text_is_truncated(reports):
    r = _noisy(reports["correct"])
    g = to_gradescope(r, A)
    validate_gradescope(g)
    assert len(g["output"]) <= 8000 and "lines omitted]" in g["output"] and "trace line 4999" in g["output"]
    assert all(len(t["output"]) <= 4000 for t in g["tests"])
    assert len(dumps(g)) < 400_000
    p = to_prairielearn(r, A)
    validate_prairielearn(p)
    assert "print 59999" in p["output"] and "more characters]" in p["tests"][0]["message"]


# --- PrairieLearn ---------------------------------------------------------------------------------


@pytest.mark.system
def test_prairielearn_results_of_real_reports(reports):
    for report in reports.values():
        p = to_prairielearn(report, A)
        validate_prairielearn(p)
        assert p["gradable"] is True and p["score"] == pytest.approx(report["score"] / report["max_score"])
        names = [t["name"] for t in p["tests"]]
        assert "mlp.train" not in names and "graph.random_graphs" not in names and len(names) == 79
        assert "2 more check(s) worth 9 point(s) are not shown yet" in p["message"]
    p = to_prairielearn(reports["swapped"], A)
    bwd = next(t for t in p["tests"] if t["name"] == "gates.MultiplyGate.backward")
    assert (bwd["points"], bwd["max_points"]) == (0.0, 2.0) and "dx is" in bwd["message"]
    assert "swapped" in bwd["output"] and bwd["description"].startswith("MultiplyGate: backward")
    due = to_prairielearn(reports["swapped"], A, now_due=True)
    assert "graph.random_graphs" in [t["name"] for t in due["tests"]]
    assert "mlp.train" not in [t["name"] for t in due["tests"]]


@pytest.mark.system
def test_prairielearn_never_contains_a_hidden_check(reports):
    for now_due, published in ((False, False), (True, True)):
        text = dumps(to_prairielearn(reports["train"], A, now_due=now_due, published=published))
        for marker in HIDDEN_MARKERS:
            assert marker not in text
        assert "mlp.train" not in text
    assert to_prairielearn(reports["train"], A)["score"] == pytest.approx(0.97)  # the grade counts it


@pytest.mark.system
def test_prairielearn_stays_under_the_size_limit(reports):
    r = _noisy(reports["correct"])
    # 8 x 81 checks of ~170 KB of text each: clipped to ~2 KB each, still more than 1 MB in all
    r["checks"] = [dict(c, id=f"{c['id']}.{k}") for k in range(8) for c in r["checks"]]
    p = to_prairielearn(r, A)
    validate_prairielearn(p)
    size = len(dumps(p).encode())
    assert size <= PL_MAX_BYTES and "shortened" in p["message"]
    small = to_prairielearn(r, A, max_bytes=20_000)
    validate_prairielearn(small, max_bytes=20_000)
    assert "shortened" in small["message"]
    with pytest.raises(FormatError):
        validate_prairielearn({"score": 1, "output": "x" * (PL_MAX_BYTES + 1)})


def test_prairielearn_grader_failure_is_not_gradable():
    p = to_prairielearn(error_report("bob", A, 0, "the grader crashed"), A)
    validate_prairielearn(p)
    assert p["gradable"] is False and "the grader crashed" in p["message"] and p["score"] == 0


# --- student views stay clean -----------------------------------------------------------------------


@pytest.mark.system
def test_student_view_and_student_junit_of_a_failed_hidden_check(reports):
    view_text = json.dumps(student_view(reports["train"]))
    junit_text = to_junit(reports["train"], student=True)
    for marker in HIDDEN_MARKERS:
        assert marker not in view_text and marker not in junit_text
    root = ET.fromstring(junit_text)
    skipped = [c.get("name") for c in root.iter("testcase") if c.find("skipped") is not None]
    assert skipped == ["graph.random_graphs", "mlp.train"]
    assert HIDDEN_MARKERS[0] in to_junit(reports["train"])  # the instructor's JUnit keeps it


# --- JUnit ------------------------------------------------------------------------------------------


@pytest.mark.system
def test_junit_parses_and_has_one_testcase_per_check(reports):
    text = to_junit([reports["correct"], reports["swapped"]])
    root = ET.fromstring(text.encode())
    assert root.tag == "testsuites" and root.get("tests") == str(2 * len(A.checks))
    assert root.get("failures") == "2" and root.get("errors") == "0"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [reports["correct"]["submission"], reports["swapped"]["submission"]]
    cases = suites[1].findall("testcase")
    assert [c.get("name") for c in cases] == list(A.check_ids)
    by_name = {c.get("name"): c for c in cases}
    assert by_name["gates.MultiplyGate.backward"].get("classname") == "gates.MultiplyGate"
    assert by_name["graph.branches"].get("classname") == "graph"
    assert by_name["mlp.forward.relu"].get("classname") == "mlp.forward"
    failure = by_name["gates.MultiplyGate.backward"].find("failure")
    assert failure.get("type") == "fail" and "dx is" in failure.get("message")
    assert "diagnosis: the two inputs' gradients are swapped" in failure.text
    props = {p.get("name"): p.get("value") for p in suites[1].find("properties")}
    assert props["score"] == "97" and props["max_score"] == "100" and props["seed"] == "0"


@pytest.mark.system
def test_junit_errors_and_hostile_text(reports):
    r = copy.deepcopy(reports["correct"])
    r["checks"][0].update(status="timeout", score=0.0, message="exceeded the 10 s time limit \x00\x1b[31m")
    r["checks"][1].update(status="error", score=0.0, message="ZeroDivisionError: <&> \ud800 ]]>")
    r["score"] -= 3.0
    r["output"] = {"text": "bell \x07 and NUL \x00 and ]]> done", "bytes": 30, "truncated": False}
    root = ET.fromstring(to_junit(r).encode("utf-8", "surrogatepass"))
    errors = [c.find("error") for c in root.iter("testcase") if c.find("error") is not None]
    assert [e.get("type") for e in errors] == ["timeout", "error"]
    assert "<&>" in errors[1].get("message") and "]]>" in root.find("testsuite/system-out").text
    failed = to_junit(error_report("bob", A, 0, "the grader crashed"))
    suite = ET.fromstring(failed).find("testsuite")
    assert suite.get("errors") == str(len(A.checks)) and "the grader crashed" in suite.find("system-err").text


# --- the CLI: grade --format ---------------------------------------------------------------------------


def _fake_grade(submission_dir, assignment, seed, sandbox):
    name = Path(submission_dir).name
    if name.startswith("crash"):
        raise RuntimeError("grader bug")
    bad = name.startswith("bad")
    checks = [
        {
            "id": c.id,
            "status": "fail" if bad else "pass",
            "score": 0.0 if bad else float(c.points),
            "max_score": float(c.points),
            "visibility": c.visibility,
            "message": "HIDDEN-DETAIL" if bad and c.visibility != "visible" else ("wrong" if bad else "ok"),
        }
        for c in assignment.checks
    ]
    return fake_report(name, assignment, seed, checks)


def _fake_sandbox(assignment, hide):
    return contextlib.nullcontext(type("S", (), {"isolation": {"fake": True}})())


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(
        batch, "grade_class", functools.partial(batch.grade_class, grade=_fake_grade, sandbox_factory=_fake_sandbox)
    )
    monkeypatch.setattr(
        batch, "grade_one", functools.partial(batch.grade_one, grade=_fake_grade, sandbox_factory=_fake_sandbox)
    )


def _run(*args):
    return CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.system
def test_grade_with_formats_writes_every_platform_file(tmp_path, fake):
    for n in ("alice", "bad-bob"):
        (tmp_path / "subs" / n).mkdir(parents=True)
    out = tmp_path / "out"
    r = _run(
        "grade",
        tmp_path / "subs",
        "--out",
        out,
        "--jobs",
        "1",
        "--format",
        "gradescope",
        "--format",
        "prairielearn",
        "--format",
        "junit",
    )
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "alice.json",
        "bad-bob.json",
        "gradebook.csv",
        "gradescope",
        "index.html",
        "junit.xml",
        "pages",
        "prairielearn",
        "summary.json",
    ]
    for n in ("alice", "bad-bob"):
        g = json.loads((out / "gradescope" / f"{n}.json").read_text())
        validate_gradescope(g)
        p = json.loads((out / "prairielearn" / f"{n}.json").read_text())
        validate_prairielearn(p)
        assert "HIDDEN-DETAIL" not in json.dumps(p) and "HIDDEN-DETAIL" not in g["output"]
    assert json.loads((out / "gradescope" / "alice.json").read_text())["score"] == 100
    root = ET.parse(out / "junit.xml").getroot()
    assert [s.get("name") for s in root] == ["alice", "bad-bob"] and root.get("failures") == str(len(A.checks))
    assert "--format" in _run("grade", "--help").output


# --- container modes -----------------------------------------------------------------------------------


def _results(path):
    return json.loads(Path(path).read_text())


def test_gradescope_mode_without_a_submission_folder_still_writes_results(tmp_path):
    results = tmp_path / "results" / "results.json"
    r = _run("gradescope", "--submission", tmp_path / "nope", "--results", results)
    assert r.exit_code == 0, r.output
    g = _results(results)
    validate_gradescope(g)
    assert g["score"] == 0 and "no submission found" in g["output"] and len(g["tests"]) == len(A.checks)


def test_gradescope_mode_when_grading_raises(tmp_path, monkeypatch):
    sub = _copy_reference(tmp_path / "sub")

    def broken(*a, **k):
        raise RuntimeError("grader exploded")

    monkeypatch.setattr(batch, "grade_one", broken)
    results = tmp_path / "res" / "results.json"
    r = _run("gradescope", "--submission", sub, "--results", results)
    assert r.exit_code == 0 and "grader exploded" in r.stderr
    g = _results(results)
    validate_gradescope(g)
    assert g["score"] == 0 and "internal grader error: RuntimeError: grader exploded" in g["output"]


def test_gradescope_mode_when_the_grade_function_or_sandbox_fails(tmp_path, monkeypatch):
    sub = _copy_reference(tmp_path / "sub")
    monkeypatch.setattr(container, "container_sandbox", _fake_sandbox)
    monkeypatch.setattr(
        batch,
        "grade_one",
        functools.partial(batch.grade_one, grade=lambda *a: (_ for _ in ()).throw(ValueError("bad grade"))),
    )
    results = tmp_path / "a" / "results.json"
    assert _run("gradescope", "--submission", sub, "--results", results).exit_code == 0
    g = _results(results)
    validate_gradescope(g)
    assert g["score"] == 0 and "ValueError: bad grade" in g["output"]

    def no_sandbox(assignment, hide):
        raise OSError("no namespaces for you")

    monkeypatch.setattr(container, "container_sandbox", no_sandbox)
    monkeypatch.setattr(batch, "grade_one", functools.partial(batch.grade_one, grade=_fake_grade))
    results = tmp_path / "b" / "results.json"
    assert _run("gradescope", "--submission", sub, "--results", results).exit_code == 0
    g = _results(results)
    validate_gradescope(g)
    assert g["score"] == 0 and "no namespaces for you" in g["output"]


def test_gradescope_mode_with_a_broken_assignment_file(tmp_path):
    bad = tmp_path / "course.toml"
    bad.write_text('name = "x"\n[[checks]]\nid = "mlp.train"\npoints = 1\nvisibility = "secret"\n')
    results = tmp_path / "r" / "results.json"
    r = _run("gradescope", "--submission", tmp_path, "--results", results, "--assignment", bad)
    assert r.exit_code == 0
    g = _results(results)
    validate_gradescope(g)
    assert g["score"] == 0 and "misconfigured" in g["output"] and "checks[0].visibility" in g["output"]


def test_container_mode_exits_1_when_results_cannot_be_written(tmp_path):
    (tmp_path / "file").write_text("")
    r = _run("gradescope", "--submission", tmp_path, "--results", tmp_path / "file" / "results.json")
    assert r.exit_code == 1


def test_prairielearn_mode_without_a_submission(tmp_path):
    results = tmp_path / "results" / "results.json"
    r = _run("prairielearn", "--submission", tmp_path / "nope", "--results", results)
    assert r.exit_code == 0
    p = _results(results)
    validate_prairielearn(p)
    assert p["gradable"] is False and "no submission found" in p["message"]


def test_prairielearn_mode_grades_a_folder_holding_the_submission(tmp_path, fake, monkeypatch):
    monkeypatch.setattr(container, "container_sandbox", _fake_sandbox)
    sub = tmp_path / "student"
    _copy_reference(sub / "homework")
    results = tmp_path / "results" / "results.json"
    r = _run("prairielearn", "--submission", sub, "--results", results)
    assert r.exit_code == 0, r.output
    p = _results(results)
    validate_prairielearn(p)
    assert p["gradable"] is True and p["score"] == 1.0 and "gradcheck: student" in r.stdout


# --- the Gradescope files ---------------------------------------------------------------------------------


@pytest.mark.system
def test_run_autograder_end_to_end(tmp_path):
    """docs/gradescope/run_autograder with the real grader, paths moved to a temporary /autograder."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    shutil.copytree(REPO / "submissions" / "swapped-multiply", root / "submission")
    gradcheck_bin = shutil.which("gradcheck") or str(Path(sys.executable).with_name("gradcheck"))
    env = dict(os.environ, AUTOGRADER=str(root), GRADCHECK=gradcheck_bin)
    p = subprocess.run(
        ["bash", str(REPO / "docs" / "gradescope" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    results = root / "results" / "results.json"
    g = _results(results)
    validate_gradescope(g)
    assert g["score"] == 97 and "Sandbox: unprivileged_user=yes" in p.stdout  # instructors' stdout
    assert (root / "source").stat().st_mode & 0o007 == 0 and (root / "results").stat().st_mode & 0o007 == 0
    # gradcheck cannot even start: run_autograder writes a minimal valid file itself
    env["GRADCHECK"] = str(tmp_path / "missing-gradcheck")
    p = subprocess.run(
        ["bash", str(REPO / "docs" / "gradescope" / "run_autograder")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0
    g = _results(results)
    validate_gradescope(g)
    assert g["score"] == 0 and "failed to run" in g["output"]


@pytest.mark.system
def test_make_autograder_zip_layout(tmp_path):
    course = tmp_path / "course.toml"
    course.write_text((REPO / "gradcheck" / "assignments" / "lecture" / "assignment.toml").read_text())
    out = tmp_path / "autograder.zip"
    p = subprocess.run(
        ["bash", str(REPO / "docs" / "gradescope" / "make_autograder.sh"), "--assignment", str(course), str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHON=sys.executable),
    )
    assert p.returncode == 0, p.stderr
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in z.infolist()}
    assert {
        "setup.sh",
        "run_autograder",
        "pyproject.toml",
        "README.md",
        "assignment.toml",
        "gradcheck/cli.py",
        "gradcheck/formats/schemas/gradescope-results.schema.json",
        "reference/gates.py",
    } <= names
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert not any("__pycache__" in n for n in names)


def test_github_actions_workflow_is_yaml_and_keeps_the_reports():
    import yaml

    wf = yaml.safe_load((REPO / "docs" / "github-actions.yml").read_text())
    steps = wf["jobs"]["grade"]["steps"]
    run = "\n".join(s.get("run", "") for s in steps)
    assert 'gradcheck)" grade submissions/' in run
    assert "--format junit" in run
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == "reports/" and upload["if"] == "always()"
