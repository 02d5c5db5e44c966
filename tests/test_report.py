"""Reports: the schema contract, atomic writes, what a student sees, the class summary and gradebook."""

import copy
import csv
import io
import json
import os

import jsonschema
import numpy as np
import pytest

from gradcheck import report as rp
from gradcheck.assignment import assignment_digest, load_assignment

A = load_assignment()
SECRET = "SECRET-7f3a"  # planted in every hidden / not-yet-due part of a report


def make_report(submission="alice", failing=("gates.MultiplyGate.backward",)):
    checks = []
    for c in A.checks:
        ok = c.id not in failing
        entry = {
            "id": c.id,
            "status": "pass" if ok else "fail",
            "score": c.points if ok else 0.0,
            "max_score": c.points,
            "visibility": c.visibility,
            "message": "ok" if ok else "the gradient for y is wrong",
        }
        if c.id == "gates.MultiplyGate.backward":
            entry["details"] = {
                "worst": {"input": "y", "index": [1, 2], "expected": 1.5, "got": -1.5, "rel_error": 1.0},
                "counterexample": "f(x, y) = (x * y) + x at x=1.5, y=-2.0: df/dx expected -1.0, got -2.0",
                "diagnosis": "wrong sign",
                "blame": "your MultiplyGate.backward",
                "extra_key": [1, 2],
            }
        if c.visibility != "visible":
            entry["status"], entry["score"] = "fail", 0.0
            entry["message"] = f"loss did not go down on inputs {SECRET}"
            entry["details"] = {
                "counterexample": f"X = {SECRET}",
                "worst": {"input": SECRET, "expected": 3.0, "got": 4.0},
            }
        checks.append(entry)
    return {
        "schema_version": 1,
        "gradcheck_version": "0.1.0",
        "submission": submission,
        "assignment": A.name,
        "seed": 0,
        "status": "graded",
        "message": "ok",
        "score": sum(c["score"] for c in checks),
        "max_score": A.max_score,
        "checks": checks,
        "modules": {"gates": {"ok": True}, "graph": {"ok": True}, "mlp": {"ok": True}},
        "isolation": {"user": "nobody", "network": False},
        "output": {"text": f"debug print {SECRET}\n", "bytes": 20, "truncated": False},
        "timing": {"seconds": 0.4},
    }


def test_schema_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(rp.report_schema())
    assert rp.report_schema()["$defs"]["check"]["properties"]["status"]["enum"] == list(rp.CHECK_STATUSES)


def test_valid_report_passes():
    rp.validate_report(make_report())
    rp.validate_report(rp.to_jsonable(make_report()))
    minimal = {
        k: make_report()[k]
        for k in ("schema_version", "submission", "assignment", "seed", "status", "score", "max_score", "checks")
    }
    rp.validate_report(minimal)


def _set(path, value):
    def mutate(r):
        *parents, last = path
        for p in parents:
            r = r[p]
        if value is _DELETE:
            del r[last]
        else:
            r[last] = value

    return mutate


_DELETE = object()

# (case, mutation, text the error message must contain)
BROKEN = [
    ("missing submission", _set(["submission"], _DELETE), "'submission' is a required property"),
    ("empty submission", _set(["submission"], ""), "submission"),
    ("report status", _set(["status"], "done"), "status"),
    ("check status", _set(["checks", 3, "status"], "passed"), "checks[3].status"),
    ("negative score", _set(["checks", 0, "score"], -1.0), "checks[0].score"),
    ("score as text", _set(["score"], "87"), "score"),
    ("bad visibility", _set(["checks", 2, "visibility"], "secret"), "checks[2].visibility"),
    ("missing message", _set(["checks", 1, "message"], _DELETE), "checks[1]"),
    ("unknown check key", _set(["checks", 1, "points"], 1), "checks[1]"),
    ("unknown top key", _set(["grade"], "A"), "grade"),
    ("bad check id", _set(["checks", 0, "id"], "no dots"), "checks[0].id"),
    ("seed negative", _set(["seed"], -1), "seed"),
    ("seed float", _set(["seed"], 1.5), "seed"),
    ("schema version", _set(["schema_version"], 2), "schema_version"),
    ("worst index", _set(["checks", 5, "details"], {"worst": {"index": ["a"]}}), "checks[5].details.worst.index[0]"),
    ("diagnosis type", _set(["checks", 5, "details"], {"diagnosis": 3}), "checks[5].details.diagnosis"),
    ("details not object", _set(["checks", 5, "details"], "x"), "checks[5].details"),
    ("module without ok", _set(["modules", "gates"], {"error": "x"}), "modules.gates"),
    ("output bytes", _set(["output", "bytes"], -3), "output.bytes"),
    ("error without message", lambda r: (r.update(status="error"), r.pop("message")), "message"),
    ("check over its max", _set(["checks", 0, "score"], 5.0), "more than max_score"),
    ("score not the sum", _set(["score"], 1.0), "not the sum"),
    ("max_score not the sum", _set(["max_score"], 99.0), "not the sum"),
    ("duplicate check", lambda r: r["checks"].append(copy.deepcopy(r["checks"][0])), "appears twice"),
]


@pytest.mark.parametrize("case,mutate,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_report_fails_with_a_clear_message(case, mutate, words):
    r = make_report()
    mutate(r)
    with pytest.raises(rp.ReportError) as info:
        rp.validate_report(r)
    assert words in str(info.value)
    assert "alice" in str(info.value) or case in ("missing submission", "empty submission")


def test_error_report_lists_every_check_with_zero():
    r = rp.error_report("bob", A, 3, "the sandbox failed", seconds=1.23456)
    rp.validate_report(r)
    assert r["status"] == "error" and r["score"] == 0 and r["max_score"] == 100
    assert [c["id"] for c in r["checks"]] == list(A.check_ids)
    assert {c["status"] for c in r["checks"]} == {"error"} and {c["score"] for c in r["checks"]} == {0.0}
    assert r["seed"] == 3 and r["timing"] == {"seconds": 1.235}


def test_to_jsonable_makes_plain_json():
    d = rp.to_jsonable(
        {
            "a": np.float64(1.5),
            "b": np.int64(3),
            "c": np.arange(3),
            "d": (1, 2),
            "e": float("nan"),
            "f": -np.inf,
            "g": np.bool_(True),
        }
    )
    assert d == {"a": 1.5, "b": 3, "c": [0, 1, 2], "d": [1, 2], "e": "nan", "f": "-inf", "g": True}
    json.dumps(d, allow_nan=False)


def test_write_report_is_validated_and_named_by_submission(tmp_path):
    r = make_report()
    r["checks"][5]["details"] = {"worst": {"input": "x", "expected": np.float64(1.0), "got": float("nan")}}
    path = rp.write_report(r, tmp_path)
    assert path == tmp_path / "alice.json"
    back = json.loads(path.read_text())
    rp.validate_report(back)
    assert back["checks"][5]["details"]["worst"]["got"] == "nan"
    assert sorted(os.listdir(tmp_path)) == ["alice.json"]


def test_invalid_report_writes_nothing(tmp_path):
    r = make_report()
    r["status"] = "bogus"
    with pytest.raises(rp.ReportError):
        rp.write_report(r, tmp_path)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_write_is_atomic_no_partial_file(tmp_path, monkeypatch, fail_at):
    rp.write_report(make_report(), tmp_path)
    before = (tmp_path / "alice.json").read_bytes()

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, fail_at, boom)
    changed = make_report(failing=())
    with pytest.raises(OSError):
        rp.write_report(changed, tmp_path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["alice.json"]  # no temporary file left behind
    assert (tmp_path / "alice.json").read_bytes() == before  # the old report is whole
    with pytest.raises(OSError):
        rp.write_report(make_report("carol"), tmp_path / "no-such-dir")
    assert os.listdir(tmp_path) == ["alice.json"]


@pytest.mark.parametrize(
    "sid", ["../../etc/passwd", "a/b", ".hidden", "summary", "SUMMARY", "josé", "a b", "x" * 300, "", "con"]
)
def test_safe_name(sid):
    name = rp.safe_name(sid)
    assert name and "/" not in name and not name.startswith(".") and len(name) <= 120
    assert name.lower() not in ("summary", "gradebook")
    assert all(ch.isalnum() or ch in "._-=" for ch in name) and name.isascii()
    if len(name) < 120:
        assert rp.name_from_safe(name) == sid  # reversible


def test_safe_names_never_collide():
    ids = [
        "a b",
        "a_b",
        "a/b",
        "a\\b",
        "Summary",
        "summary_",
        "x" * 101,
        "x" * 102,
        "x" * 150,
        "x" * 151,
        "John Smith",
        "John_Smith-ef61a579",
        "John=20Smith",
        "=",
        "",
        "caf\udce9",
        "café",
        "caf\\xe9",
        ".a",
        "=2Ea",
    ]
    names = [rp.safe_name(i) for i in ids]
    assert len(set(names)) == len(ids)
    assert rp.safe_name("alice_01-B.v2") == "alice_01-B.v2"
    assert rp.safe_name("John Smith") == "John=20Smith"
    assert rp.safe_name("John_Smith-ef61a579") == "John_Smith-ef61a579"  # the old scheme's name of "John Smith"
    assert rp.safe_name(b"caf\xe9".decode("utf-8", "surrogateescape")) == "caf=E9"  # not UTF-8: its bytes
    for i in ids:
        n = rp.safe_name(i)
        assert len(n) <= 120 and (len(n) == 120 or rp.name_from_safe(n) == i)


def test_exclusive_write_never_overwrites(tmp_path):
    p = tmp_path / "a.json"
    rp.exclusive_write_text(p, "one")
    with pytest.raises(FileExistsError):
        rp.exclusive_write_text(p, "two")
    assert p.read_text() == "one"
    rp.exclusive_write_text(p, "three", may_replace=lambda st: True)  # an earlier run's file may go
    assert p.read_text() == "three" and sorted(os.listdir(tmp_path)) == ["a.json"]


# --- what a student sees ----------------------------------------------------------------------------


def test_student_view_never_contains_hidden_checks_content():
    r = make_report()
    r["message"] = f"77 of 79 checks passed {SECRET}"  # a summary that counts the hidden checks
    view = rp.student_view(r)
    text = json.dumps(view) + rp.render_feedback(view)
    assert SECRET not in text
    withheld = {c["id"]: c for c in view["checks"] if c.get("withheld")}
    assert set(withheld) == {"graph.random_graphs", "mlp.train"}
    for c in withheld.values():
        assert set(c) == {"id", "visibility", "max_score", "withheld", "message"}
    assert "isolation" not in view
    # scores: the visible checks only; what is withheld is said
    visible = [c for c in r["checks"] if c["visibility"] == "visible"]
    assert view["score"] == sum(c["score"] for c in visible) == 91 - 2
    assert view["max_score"] == 91 and view["withheld"] == {"checks": 2, "max_score": 9.0}
    # a visible check keeps its message and details
    mult = next(c for c in view["checks"] if c["id"] == "gates.MultiplyGate.backward")
    assert mult["details"]["diagnosis"] == "wrong sign" and mult["status"] == "fail"
    assert r["message"].startswith("77 of 79")  # the report itself is untouched
    assert "message" not in view
    all_visible = make_report()
    for c in all_visible["checks"]:
        c["visibility"] = "visible"
    assert rp.student_view(all_visible)["message"] == "ok"  # nothing withheld: the summary may show
    failed = rp.student_view(rp.error_report("x", A, 0, "the sandbox failed"))
    assert failed["message"] == "the sandbox failed"  # why grading failed is always said


def test_student_view_after_due_date_and_published():
    r = make_report()
    due = rp.student_view(r, now_due=True)
    assert [c["id"] for c in due["checks"] if c.get("withheld")] == ["mlp.train"]
    shown = next(c for c in due["checks"] if c["id"] == "graph.random_graphs")
    assert SECRET in shown["details"]["counterexample"]
    assert SECRET not in json.dumps([c for c in due["checks"] if c["id"] == "mlp.train"])
    assert SECRET not in json.dumps(due.get("output"))  # mlp.train is still hidden: prints are withheld
    everything = rp.student_view(r, now_due=True, published=True)
    assert SECRET not in json.dumps(next(c for c in everything["checks"] if c["id"] == "mlp.train"))
    r2 = copy.deepcopy(r)
    r2["checks"][-1]["visibility"] = "after_published"
    pub = rp.student_view(r2, now_due=True, published=True)
    assert not any(c.get("withheld") for c in pub["checks"])
    assert pub["output"]["text"].startswith("debug print") and pub["score"] == r2["score"]


def test_student_view_fails_closed_on_unknown_visibility():
    r = make_report()
    r["checks"][0]["visibility"] = "students-only?"
    r["checks"][0]["message"] = "UNKNOWN-VISIBILITY"
    del r["checks"][1]["visibility"]
    r["checks"][1]["details"] = {"counterexample": "NO-VISIBILITY"}
    view = json.dumps(rp.student_view(r, now_due=True, published=True))
    assert "UNKNOWN-VISIBILITY" not in view and "NO-VISIBILITY" not in view


def test_is_shown():
    assert rp.is_shown("visible") and not rp.is_shown("hidden", True, True)
    assert not rp.is_shown("after_due_date") and rp.is_shown("after_due_date", now_due=True)
    assert not rp.is_shown("after_published", now_due=True) and rp.is_shown("after_published", published=True)


def test_render_feedback_lines():
    text = rp.render_feedback(rp.student_view(make_report()))
    lines = text.splitlines()
    assert lines[0].startswith("gradcheck: alice")
    assert "Score: 89 / 91" in text and "Not shown yet: 2 check(s) worth 9 point(s)" in text
    mult = next(i for i, ln in enumerate(lines) if "gates.MultiplyGate.backward" in ln)
    assert lines[mult].split()[:3] == ["FAIL", "gates.MultiplyGate.backward", "0/2"]
    assert "the gradient for y is wrong" in lines[mult]
    follow = "\n".join(lines[mult + 1 : mult + 5])
    assert "diagnosis: wrong sign" in follow and "counterexample: f(x, y) = (x * y) + x" in follow
    assert "worst: y[1, 2]: expected 1.5, got -1.5 (relative error 1)" in follow
    assert any(ln.split()[:2] == ["PASS", "gates.AddGate.forward"] and "1/1" in ln for ln in lines)
    assert any(ln.split()[:3] == ["-", "mlp.train", "?/3"] for ln in lines)


def test_render_feedback_truncates_long_text():
    r = make_report()
    r["checks"][6]["status"], r["checks"][6]["score"] = "error", 0.0
    r["checks"][6]["message"] = "Traceback: " + "x" * 5000
    r["score"] -= 2
    r["modules"]["graph"] = {"ok": False, "error": "\n".join(f"line {i}" for i in range(500))}
    r["output"]["text"] = "\n".join(f"print {i}" for i in range(10_000))
    for c in r["checks"]:
        if c["visibility"] != "visible":
            c["visibility"] = "visible"
    text = rp.render_feedback(rp.student_view(r))
    assert len(text) < 20_000
    assert "more characters]" in text and "lines omitted]" in text
    assert "line 499" in text  # the tail of a traceback is kept
    assert "print 9999" in text


def test_render_feedback_of_an_error_report_and_the_full_report():
    text = rp.render_feedback(rp.error_report("bob", A, 0, "the sandbox could not start"))
    assert "Grading failed: the sandbox could not start" in text and "ERROR" in text
    full = rp.render_feedback(make_report())  # instructor: everything, visibility marked
    assert SECRET in full and "(hidden)" in full and "(after_due_date)" in full


# --- class summary ------------------------------------------------------------------------------------


def _rows():
    reports = [
        make_report("alice"),
        make_report("bob", failing=()),
        make_report('=HYPERLINK("http://evil","x")'),
        make_report("+1+1"),
        make_report("-2"),
        make_report("@SUM(A1)"),
        rp.error_report("dave", A, 0, "the grader crashed"),
    ]
    return [rp.summary_row(r, rp.report_path("out", r["submission"]), 1.0) for r in reports]


def test_gradebook_csv_parses_back(tmp_path):
    rows = _rows()
    js, cs = rp.write_summary(rows, tmp_path, assignment=A, seed=0)
    assert (js.name, cs.name) == ("summary.json", "gradebook.csv")
    table = list(csv.reader(io.StringIO(cs.read_text(encoding="utf-8"), newline="")))
    header, body = table[0], table[1:]
    assert header == ["submission", "score", "max_score", "status", *A.check_ids]
    assert len(body) == len(rows) and all(len(line) == len(header) for line in body)
    by_id = {line[0]: dict(zip(header, line)) for line in body}
    assert by_id["alice"]["score"] == "89.0" and by_id["alice"]["gates.MultiplyGate.backward"] == "0.0"
    assert by_id["bob"]["max_score"] == "100.0" and by_id["bob"]["status"] == "graded"
    assert by_id["dave"]["status"] == "error" and by_id["dave"]["score"] == "0.0"


def test_gradebook_guards_against_formula_injection(tmp_path):
    _, cs = rp.write_summary(_rows(), tmp_path, assignment=A)
    ids = [line[0] for line in csv.reader(io.StringIO(cs.read_text(encoding="utf-8"), newline=""))][1:]
    assert '\'=HYPERLINK("http://evil","x")' in ids
    assert {"'+1+1", "'-2", "'@SUM(A1)"} <= set(ids)
    assert not any(i.startswith(("=", "+", "-", "@")) for i in ids)
    assert rp.csv_safe("\tx") == "'\tx" and rp.csv_safe("alice") == "alice" and rp.csv_safe(-1.0) == -1.0


def test_summary_json(tmp_path):
    js, _ = rp.write_summary(_rows(), tmp_path, assignment=A, seed=4)
    s = json.loads(js.read_text())
    assert s["assignment"] == "backprop" and s["seed"] == 4
    assert s["stats"] == {
        "count": 7,
        "graded": 6,
        "errors": 1,
        "mean": round(536 / 6, 6),
        "median": 89.0,
        "min": 89.0,
        "max": 91.0,
    }
    assert list(s["checks"]) == list(A.check_ids)
    assert s["checks"]["gates.AddGate.forward"] == {"max_score": 1.0, "pass_rate": 1.0, "mean_score": 1.0, "graded": 6}
    assert s["checks"]["gates.MultiplyGate.backward"]["pass_rate"] == round(1 / 6, 6)
    subs = {x["submission"]: x for x in s["submissions"]}
    assert list(subs) == sorted(subs)
    assert subs["alice"]["checks"]["gates.MultiplyGate.backward"] == {"status": "fail", "score": 0.0}
    assert subs["dave"]["status"] == "error" and subs["dave"]["message"] == "the grader crashed"
    assert subs["alice"]["report"] == "alice.json"
    assert "seconds" not in json.dumps(s)  # summary.json does not depend on timing


def test_summary_of_no_graded_submission(tmp_path):
    rows = [rp.summary_row(rp.error_report("x", A, 0, "broken"))]
    s = rp.class_summary(rows, assignment=A)
    assert s["stats"]["mean"] is None and s["checks"]["mlp.train"]["pass_rate"] is None


# --- the one report builder -----------------------------------------------------------------------


class _Verdict:
    def __init__(self, status, message, details=None):
        self.status, self.message, self.details = status, message, details


def test_graded_report_is_built_in_assignment_order_from_the_verdicts():
    results = {c.id: _Verdict("pass", "ok") for c in A.checks}
    results["gates.MultiplyGate.backward"] = _Verdict(
        "fail", "wrong", {"worst": {"got": np.float64("nan"), "index": (1, np.int64(2))}}
    )
    del results["mlp.train"]
    r = rp.graded_report(
        "alice",
        A,
        4,
        results,
        notes=["missing: mlp.py"],
        modules={},
        isolation={"x": 1},
        output={"text": "", "bytes": 0, "truncated": False},
        seconds=1.23456,
        visible_seconds=0.5,
        submission_hash="ab" * 32,
    )
    rp.validate_report(r)
    assert list(r)[:12] == [
        "schema_version",
        "gradcheck_version",
        "submission",
        "assignment",
        "seed",
        "submission_hash",
        "assignment_hash",
        "status",
        "message",
        "score",
        "max_score",
        "checks",
    ]
    assert r["schema_version"] == rp.SCHEMA_VERSION and r["gradcheck_version"] == rp.gradcheck_version()
    assert r["submission_hash"] == "ab" * 32 and r["assignment_hash"] == assignment_digest(A)
    assert [c["id"] for c in r["checks"]] == list(A.check_ids)
    by_id = {c["id"]: c for c in r["checks"]}
    assert (
        by_id["mlp.train"]["status"] == "error"
        and by_id["mlp.train"]["message"] == "this check did not run (grader fault)"
    )
    assert by_id["gates.MultiplyGate.backward"]["details"] == {"worst": {"got": "nan", "index": [1, 2]}}
    assert "details" not in by_id["gates.AddGate.forward"]
    lost = A.check("gates.MultiplyGate.backward").points + A.check("mlp.train").points
    assert r["score"] == A.max_score - lost and r["max_score"] == A.max_score
    assert r["message"] == f"{len(A.checks) - 2} of {len(A.checks)} checks passed (missing: mlp.py)"
    assert r["timing"] == {"seconds": 1.235, "visible_seconds": 0.5} and r["seed"] == 4


def test_graded_and_error_reports_share_the_builder():
    graded = rp.graded_report("bob", A, 0, {}, modules={}, seconds=0.0)
    failed = rp.error_report("bob", A, 0, "the sandbox failed")
    head = ("schema_version", "gradcheck_version", "submission", "assignment", "seed", "assignment_hash", "max_score")
    assert {k: graded[k] for k in head} == {k: failed[k] for k in head}
    assert "submission_hash" not in failed  # only where it is known
    assert rp.error_report("bob", A, 0, "x", submission_hash="0" * 64)["submission_hash"] == "0" * 64
    assert [(c["id"], c["max_score"], c["visibility"]) for c in graded["checks"]] == [
        (c["id"], c["max_score"], c["visibility"]) for c in failed["checks"]
    ]
    assert failed["message"] == "the sandbox failed"
    assert rp.error_report("b", A, 0, "")["message"] == "the grader failed"
    assert {c["message"] for c in failed["checks"]} == {rp.ERROR_CHECK_MESSAGE}


def test_the_student_facing_sentences_keep_their_words():
    from gradcheck.report import messages as m

    assert m.WITHHELD_MESSAGES == {
        "hidden": "hidden check: its result is not shown to students",
        "after_due_date": "result shown after the due date",
        "after_published": "result shown when grades are published",
    }
    assert m.ERROR_CHECK_MESSAGE == "not graded: the grader could not grade this submission"
    assert m.grading_failed("x" * 600, "autograder").startswith("The autograder could not grade this submission: xxx")
    assert m.grading_failed("boom") == "The grader could not grade this submission: boom"
    assert (
        m.not_shown_yet(2, "10", " (hidden)")
        == "Not shown yet: 2 check(s) worth 10 point(s) (hidden); they count in your score."
    )


def test_output_and_import_error_lines():
    out = {"text": "a\nb\n\n", "bytes": 5, "truncated": True}
    assert rp.output_lines(out) == ["Your code printed (truncated):", "  | a", "  | b", "  | "]
    assert rp.output_lines(out, prefix="", blank_tail=False) == ["Your code printed (truncated):", "a", "b"]
    assert rp.output_lines({"withheld": True, "bytes": 7}) == [
        "Your code printed 7 bytes; not shown while some checks are hidden."
    ]
    assert rp.output_lines({"withheld": True}) == [] and rp.output_lines(None) == []
    modules = {"gates": {"ok": True}, "graph": {"ok": False, "error": "SyntaxError: x"}}
    assert rp.import_error_lines(modules) == ["graph.py could not be imported:", "    SyntaxError: x"]
    assert rp.points_text(96.5) == "96.5" and rp.points_text(2.0) == "2"
