"""The class report (OUT/index.html and OUT/pages/): built from a generated class of reports, in process.

What an instructor relies on: every plot and table is there, the checks are sorted by failure rate with
their diagnosis and a counterexample, identical wrong answers are grouped (and only those), each
submission links to its page, nothing a student wrote can become markup, and the page stays small.
The same pages in a real browser: test_class_report_browser.py.
"""

import html
import json
import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from fakes import FAKE_BUGS, fake_class_report, write_fake_class

from gradcheck import cli
from gradcheck.assignment import load_assignment
from gradcheck.classreport import collect, identical_answer_groups, write_class_report
from gradcheck.report import INDEX_HTML, PAGES_DIR, SUMMARY_JSON, safe_name

A = load_assignment()

# student text in a folder name (no "/": a folder name cannot hold one) and in an exception message
HOSTILE_NAME = "<script>alert(1)<script>\" onmouseover='alert(2)' javascript:alert(3) &amp;"
HOSTILE_MESSAGE = (
    "ValueError: </textarea></pre><script>alert('x')</script>"
    '<a href="javascript:alert(1)">click</a> "double" \'single\' <img src=x onerror=alert(4)>'
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("class")
    hostile = fake_class_report(
        HOSTILE_NAME, A, 0, "swapped-multiply", digest="feedfacefeedface", message=HOSTILE_MESSAGE
    )
    reports = write_fake_class(out, A, 60, extra=[hostile])
    made = write_class_report(out)
    return {"out": out, "made": made, "reports": reports, "html": (out / INDEX_HTML).read_text()}


def test_every_plot_and_section_is_on_the_page(built):
    html, made = built["html"], built["made"]
    assert made.path == built["out"] / INDEX_HTML and made.submissions == 61 and made.complete
    assert made.plots == ("scores", "pass-rate-gates", "pass-rate-graph", "pass-rate-mlp", "diagnoses", "times")
    for name in made.plots:  # inline SVG, labelled: nothing to fetch
        assert re.search(rf'<svg role="img" aria-label="[^"]+" data-plot="{name}"', html), name
    for section in ("plots", "checks", "identical", "submissions"):
        assert f'<h2 id="{section}">' in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"<(script|img|link|iframe|object)\b", html, re.I)  # nothing runs, nothing is fetched
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)


def test_checks_are_sorted_by_failure_rate_with_their_diagnosis(built):
    html = built["html"]
    table = html[html.index('<h2 id="checks">') : html.index('<h2 id="identical">')]
    rows = re.findall(r"<tr><td><code>(.*?)</code>.*?</tr>", table, re.S)
    ids = [r.replace("<wbr>", "") for r in rows]
    failing = {cid for checks, _, _ in FAKE_BUGS.values() for cid in checks}
    assert set(ids) == failing  # the checks no one failed are only counted
    data = collect(built["out"])
    rates = [data.checks[i].failed / data.checks[i].graded for i in ids]
    assert rates == sorted(rates, reverse=True)
    branches = table[table.index("graph.<wbr>branches") :].split("</tr>")[0]
    assert FAKE_BUGS["branch-overwrite"][1] in branches and "f(x) = x * x at x=0.3" in branches


def test_identical_wrong_answers_are_grouped_neutrally(built):
    data = collect(built["out"])
    groups = identical_answer_groups(data.entries, order=list(data.checks))
    # one group per planted bug (the same wrong values), never the correct ones, never the hostile
    # submission whose values differ, never an ungraded one
    assert sorted(len(g.checks) for g in groups) == sorted(len(c) for c, _, _ in FAKE_BUGS.values())
    for g in groups:
        kinds = {e.name.split("-", 1)[1] for e in g.submissions}
        assert len(kinds) == 1 and kinds != {"correct"} and all(e.status == "graded" for e in g.submissions)
        assert list(g.checks) == [c for c in A.check_ids if c in g.checks]
    html = built["html"]
    section = html[html.index('<h2 id="identical">') : html.index('<h2 id="submissions">')]
    n = sum(r["submission"].endswith("branch-overwrite") and r["status"] == "graded" for r in built["reports"])
    assert f"These {n} submissions failed 3 check(s) with identical values" in section
    assert "not a finding" in section and not re.search(r"cheat|plagiar|copied", section, re.I)


def test_each_submission_links_to_its_page_with_its_checks(built):
    out, index = built["out"], built["html"]
    for r in built["reports"]:
        stem = safe_name(r["submission"])
        assert (out / PAGES_DIR / f"{stem}.html").is_file()
    row = re.search(r'<tr><td class="name"><a href="pages/(s0001-swapped-multiply)\.html">.*?</tr>', index, re.S)
    assert row and 'href="pages/s0001-swapped-multiply.html#c-gates.MultiplyGate.backward"' in row.group(0)
    page = (out / PAGES_DIR / "s0001-swapped-multiply.html").read_text()
    assert '<tr id="c-gates.MultiplyGate.backward">' in page
    assert f"diagnosis: {html.escape(FAKE_BUGS['swapped-multiply'][1])}" in page
    assert 'href="../index.html"' in page and "Content-Security-Policy" in page


class _Tags(HTMLParser):
    """Every element and attribute a browser's parser would make of a page."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text = [], [], []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]

    def handle_data(self, data):
        self.text.append(data)


def test_student_text_renders_inert(built):
    out, index = built["out"], built["html"]
    page = (out / PAGES_DIR / f"{safe_name(HOSTILE_NAME)}.html").read_text()
    for text in (index, page):
        parsed = _Tags(text)
        assert not {"script", "img", "iframe", "object", "textarea"} & set(parsed.tags)
        assert not [a for a in parsed.attrs if a[1].startswith("on")]  # no event handler was opened
        assert not [a for a in parsed.attrs if a[1] in ("href", "src") and not a[2].startswith(("pages/", "../", "#"))]
        assert text.count("</textarea>") == 0 and text.count("</pre>") == text.count("<pre>")
    # shown as text, exactly
    assert HOSTILE_NAME in "".join(_Tags(index).text) and HOSTILE_MESSAGE in "".join(_Tags(page).text)
    # its link is made from the report file's name, never from the name itself
    assert f'href="pages/{safe_name(HOSTILE_NAME)}.html"' in index


def test_pages_of_submissions_no_longer_in_the_run_are_removed_and_a_rebuild_is_identical(tmp_path):
    write_fake_class(tmp_path, A, 6)
    write_class_report(tmp_path)
    first = (tmp_path / INDEX_HTML).read_bytes()
    assert (tmp_path / PAGES_DIR / "s0005-branch-overwrite.html").exists()
    summary = json.loads((tmp_path / SUMMARY_JSON).read_text())
    summary["submissions"] = [s for s in summary["submissions"] if s["submission"] != "s0005-branch-overwrite"]
    (tmp_path / SUMMARY_JSON).write_text(json.dumps(summary))
    (tmp_path / PAGES_DIR / "notes.txt").write_text("mine")
    made = write_class_report(tmp_path)
    assert made.submissions == 5 and not (tmp_path / PAGES_DIR / "s0005-branch-overwrite.html").exists()
    assert (tmp_path / PAGES_DIR / "notes.txt").exists()  # not a page of ours
    summary_back = write_fake_class(tmp_path, A, 6)  # the same class again: the same page, byte for byte
    assert summary_back and write_class_report(tmp_path) and (tmp_path / INDEX_HTML).read_bytes() == first


def test_a_run_that_did_not_finish_shows_every_report_and_says_so(tmp_path):
    write_fake_class(tmp_path, A, 4)
    (tmp_path / SUMMARY_JSON).unlink()
    (tmp_path / "s0002-correct.json").write_text("{not json")
    made = write_class_report(tmp_path)
    html = (tmp_path / INDEX_HTML).read_text()
    assert not made.complete and made.submissions == 3 and made.unreadable == 1
    assert "There is no summary.json in this folder" in html and "s0002-correct.json" in html


def test_a_class_of_500_stays_well_under_one_megabyte(tmp_path):
    write_fake_class(tmp_path, A, 500)
    write_class_report(tmp_path)
    assert (tmp_path / INDEX_HTML).stat().st_size < 500_000


@pytest.mark.parametrize("make", [lambda p: p / "missing", lambda p: p])
def test_report_command_names_a_folder_that_is_not_a_run(tmp_path, make):
    r = CliRunner().invoke(cli.main, ["report", str(make(tmp_path))])
    assert r.exit_code == 2 and str(make(tmp_path)) in r.output and "--out folder" in r.output


def test_report_command_rebuilds_the_page(tmp_path):
    write_fake_class(tmp_path, A, 3)
    r = CliRunner().invoke(cli.main, ["report", str(tmp_path)])
    assert r.exit_code == 0 and f"Class report: {tmp_path / INDEX_HTML} (3 submissions, 6 plots)" in r.output
