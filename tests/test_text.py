"""Student text is made safe where it arrives and escaped wherever gradcheck shows it to people:
terminal (grade, check, the pytest plugin), the CI example's Markdown summary, reports on disk.

End-to-end fixtures: a submission whose folder name and exception text carry terminal escapes
(clear screen, clipboard write OSC 52, a forged "100/100 graded" line after a carriage return),
lone surrogates and a bidi override, and a folder whose name is not UTF-8, graded next to a correct
submission that keeps full marks. Each is bounded (a few lines of output, files in its temp folder).
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_corpus import REFERENCE, materialize

from gradcheck import text

REPO = Path(__file__).resolve().parents[1]
FORGED_NAME = "mallory\x1b[2J\r[2 of 2] correct 100 ∕ 100 graded\n\u202e"
ESCAPES = (b"\x1b", b"\x07", b"\r", b"\x9b", "\u202e".encode())


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("plain text", "plain text"),
        ("two\nlines\tand tab", "two\nlines\tand tab"),
        ("\x1b[2Jclear", "\\x1b[2Jclear"),
        ("\x1b]52;c;aGk=\x07", "\\x1b]52;c;aGk=\\a"),
        ("fake\r100/100", "fake\\r100/100"),
        ("crlf\r\nline", "crlf\nline"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("bidi \u202e override", "bidi \\u202e override"),
        ("C1 \x9b31m", "C1 \\x9b31m"),
        ("nul \x00 del \x7f", "nul \\0 del \\x7f"),
        (b"bytes \xff", "bytes \\xff"),
        ("josé ✓", "josé ✓"),
    ],
)
def test_safe(raw, shown):
    assert text.safe(raw) == shown
    assert text.safe(text.safe(raw)) == text.safe(raw)  # safe text stays as it is
    text.safe(raw).encode("utf-8")  # always encodable


def test_safe_caps_length_and_tree():
    long = "x" * 100_000
    cut = text.safe(long, 1000)
    assert len(cut) <= 1000 and cut.endswith("more characters]")
    tree = text.safe_tree({"error": "a\x1bb", "list": ["\ud800", 3, None], "k\x07": 1.5})
    assert tree == {"error": "a\\x1bb", "list": ["\\ud800", 3, None], "k\\a": 1.5}


def test_terminal_and_markdown():
    assert text.terminal(FORGED_NAME) == "mallory\\x1b[2J\\r[2 of 2] correct 100 ∕ 100 graded\\n\\u202e"
    cell = text.markdown_cell("mallory | 100 ∕ 100 | graded |")
    assert cell == "mallory \\| 100 ∕ 100 \\| graded \\|"
    assert (
        text.markdown_cell("<img src=x onerror=alert(1)> **bold** [l](http://x)")
        == "\\<img src=x onerror=alert\\(1\\)\\> \\*\\*bold\\*\\* \\[l\\]\\(http://x\\)"
    )


def _md_cells(row: str) -> list:
    """The cells of a GitHub-flavoured Markdown table row (a backslash-escaped | is not a separator)."""
    cells, cur, i = [], "", 0
    row = row.strip()
    assert row.startswith("|") and row.endswith("|") and not row.endswith("\\|"), row
    row = row[1:-1]
    while i < len(row):
        if row[i] == "\\" and i + 1 < len(row):
            cur += row[i : i + 2]
            i += 2
            continue
        if row[i] == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += row[i]
        i += 1
    return cells + [cur.strip()]


@pytest.mark.system
def test_ci_summary_table_cannot_be_forged(tmp_path):
    """The Markdown summary step of docs/github-actions.yml, run on a summary.json with a forged name."""
    import yaml

    wf = yaml.safe_load((REPO / "docs" / "github-actions.yml").read_text())
    step = next(s for s in wf["jobs"]["grade"]["steps"] if s.get("name") == "Summary")
    script = step["run"].split("<<'EOF' >> \"$GITHUB_STEP_SUMMARY\"\n", 1)[1].rsplit("EOF", 1)[0]
    assert step["run"].lstrip().startswith("python -I -")
    (tmp_path / "reports").mkdir()
    names = ["mallory | 100 ∕ 100 | graded |", "eve\n| eve2 | 100 / 100 | graded |", "alice"]
    (tmp_path / "reports" / "summary.json").write_text(
        json.dumps(
            {"submissions": [{"submission": n, "score": 0.0, "max_score": 100.0, "status": "graded"} for n in names]}
        )
    )
    p = subprocess.run(
        [sys.executable, "-I", "-"], input=script, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr
    rows = p.stdout.strip().splitlines()
    assert len(rows) == 2 + len(names)  # header, rule, one line per submission
    for row in rows[2:]:
        cells = _md_cells(row)
        assert len(cells) == 3 and cells[1] == "0 / 100" and cells[2] == "graded", row


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("text-class")
    klass = base / "class"
    klass.mkdir()
    shutil.copytree(REFERENCE, klass / "correct", ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    materialize("control_characters", klass / FORGED_NAME)
    bad = os.path.join(os.fsencode(klass), b"not-utf8-\xff\xfe")
    shutil.copytree(REFERENCE, os.fsdecode(bad), ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    return base, klass


def _gradcheck(*args, cwd):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "gradcheck", *map(str, args)], cwd=cwd, env=env, capture_output=True, timeout=300
    )


@pytest.mark.system
def test_grade_prints_and_writes_student_text_safely(hostile_class):
    base, klass = hostile_class
    out = base / "reports"
    p = _gradcheck("grade", klass, "--out", out, "--format", "junit", "--format", "gradescope", cwd=base)
    assert p.returncode == 0, (p.stdout + p.stderr).decode(errors="replace")
    for stream in (p.stdout, p.stderr):
        for esc in ESCAPES:
            assert esc not in stream, (esc, stream.decode(errors="replace"))
    table = p.stdout.decode()
    assert "mallory\\x1b[2J\\r[2 of 2] correct 100 ∕ 100 graded\\n\\u202e" in table
    assert table.count("graded") >= 3 and "[2 of 2] correct 100 ∕ 100 graded\n" not in table
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    scores = {s["submission"]: (s["status"], s["score"]) for s in summary["submissions"]}
    # a name that is not UTF-8 is shown with its bytes escaped (report.display_name)
    assert scores["correct"] == ("graded", 100.0) and scores["not-utf8-\\xff\\xfe"] == ("graded", 100.0)
    assert scores[FORGED_NAME][0] == "graded" and scores[FORGED_NAME][1] < 100
    # the report of the hostile submission: its exception text arrived made safe
    report_file = next(out / s["report"] for s in summary["submissions"] if s["submission"] == FORGED_NAME)
    report = json.loads(report_file.read_text(encoding="utf-8"))
    add = next(c for c in report["checks"] if c["id"] == "gates.AddGate.forward")
    assert add["status"] == "error" and "\\ud800 lone surrogate \\x1b[2J" in add["message"]
    assert "\x1b" not in json.dumps(report, ensure_ascii=False) and "\\x1b]52" in report["output"]["text"]
    # the gradebook, JUnit and Gradescope files were written for everyone
    book = list(csv.reader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8"))))
    assert len(book) == 4 and not any("\x1b" in cell for row in book for cell in row)
    assert (out / "junit.xml").read_text(encoding="utf-8").count("<testsuite ") == 3
    assert len(list((out / "gradescope").iterdir())) == 3


@pytest.mark.system
def test_check_does_not_pass_escapes_to_the_terminal(hostile_class):
    base, klass = hostile_class
    p = _gradcheck("check", "--all", klass / FORGED_NAME, cwd=base)
    assert p.returncode == 0, (p.stdout + p.stderr).decode(errors="replace")
    for stream in (p.stdout, p.stderr):
        for esc in ESCAPES:
            assert esc not in stream, (esc, stream.decode(errors="replace"))
    shown = p.stdout.decode()
    assert "\\x1b]52;c;cm0gLXJmIH4K\\a" in shown  # the clipboard write, shown, not done
    assert "Score: 9" in shown


@pytest.mark.system
def test_gradescope_results_written_despite_surrogates(hostile_class, tmp_path):
    base, klass = hostile_class
    results = tmp_path / "results" / "results.json"
    p = _gradcheck("gradescope", "--submission", klass / FORGED_NAME, "--results", results, cwd=base)
    assert p.returncode == 0, (p.stdout + p.stderr).decode(errors="replace")
    data = json.loads(results.read_text(encoding="utf-8"))
    assert 0 < data["score"] < 100 and len(data["tests"]) > 50
    assert b"\x1b" not in p.stdout and b"\x1b" not in results.read_bytes()


def test_json_is_safe_is_the_quick_test_of_safe_tree():
    import json as _json

    for value in [
        {"a": "x", "b": [1, 2.5, None]},
        {"a": "\x1b"},
        {"k\u202e": 1},
        {"a": "é"},
        {"a": "x" * 30_000},
        {"a": ["x"] * 30_000},
        {"a": "\ud800"},
        {"a": 'quote " and \\ backslash'},
        {"a": "del \x7f"},
    ]:
        for ensure_ascii in (True, False):
            try:
                data = _json.dumps(value, ensure_ascii=ensure_ascii).encode("utf-8")
            except UnicodeEncodeError:
                continue
            if text.json_is_safe(data):
                assert text.safe_tree(_json.loads(data)) == _json.loads(data), value
    assert not text.json_is_safe(b'{"a": "del \x7f"}')
