"""The class report in a real browser: Debian's Chromium (/usr/bin/chromium), headless, driven by Playwright.

For the bundled submissions (graded for real, with a hostile folder among them) and a generated class
of 300, at 1280 px and at phone width (390 px), a page must load with no failed and no external
request (nothing at all but the page itself), show every plot (present, visible, of non-zero size,
inside the viewport's width), never scroll sideways as a whole (a table may scroll inside its own box),
run nothing a student wrote (no dialog opens, their markup shows as text), and keep every table
column wide enough to read. Screenshots are saved (GRADCHECK_SCREENSHOTS=DIR keeps them; docs/class-
report.png was made so). The same checks fail on pages broken the ways a person would notice: a plot
missing or hidden, a table wider than the page, a request for something outside the page.

Without Chromium or Playwright the tests skip, unless GRADCHECK_REQUIRE_BROWSER=1 (set by .ci/run): then
they fail. README: how to install it.
"""

import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import HOSTILE_FOLDER
from fakes import write_fake_class

from gradcheck.assignment import load_assignment
from gradcheck.classreport import write_class_report
from gradcheck.report import INDEX_HTML, PAGES_DIR, safe_name

pytestmark = pytest.mark.system

CHROMIUM = os.environ.get("GRADCHECK_CHROMIUM", "/usr/bin/chromium")
# flags that work on a closed network: nothing in the background reaches out, a fresh profile each launch
# (Playwright makes a new temporary --user-data-dir for every launch)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = {"desktop": 1280, "phone": 390}
A = load_assignment()
PLOTS = [
    "scores",
    *(f"pass-rate-{p}" for p in dict.fromkeys(c.split(".")[0] for c in A.check_ids)),
    "diagnoses",
    "times",
]


@pytest.fixture(scope="module")
def browser():
    required = os.environ.get("GRADCHECK_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = (
        "the playwright package is not installed (pip install -e '.[test]')"
        if sync_playwright is None
        else f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if not os.access(CHROMIUM, os.X_OK)
        else None
    )
    if missing:
        (pytest.fail if required else pytest.skip)(f"{missing}; GRADCHECK_REQUIRE_BROWSER={int(required)}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    where = os.environ.get("GRADCHECK_SCREENSHOTS")
    folder = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# what the page looks like to the browser: sizes after layout, in CSS pixels
_MEASURE = """(plots) => {
  const doc = document.documentElement, width = window.innerWidth;
  const out = {width, scrollWidth: doc.scrollWidth, bodyScrollWidth: document.body.scrollWidth, plots: {},
               narrowCells: [], text: document.body.innerText};
  for (const name of plots) {
    const svg = document.querySelector(`svg[data-plot="${name}"]`);
    if (!svg) { out.plots[name] = null; continue; }
    const r = svg.getBoundingClientRect(), s = getComputedStyle(svg);
    out.plots[name] = {left: r.left, right: r.right, width: r.width, height: r.height,
                       shown: s.display !== 'none' && s.visibility !== 'hidden' && Number(s.opacity) > 0
                              && svg.checkVisibility()};
  }
  for (const td of document.querySelectorAll('td')) {  // text squeezed into a column a few letters wide
    const r = td.getBoundingClientRect(), text = td.textContent.trim();
    if (r.width > 0 && r.width < 40 && text.length > 3)
      out.narrowCells.push(`${text.slice(0, 40)} (${Math.round(r.width)} x ${Math.round(r.height)} px)`);
  }
  return out;
}"""


def page_problems(browser, file, width, plots=(), screenshot=None):
    """What a person would see wrong with the page at ``file`` in a window ``width`` px wide (empty: none)."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    url = Path(file).resolve().as_uri()
    requests, failed, dialogs, errors = [], [], [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url, wait_until="load", timeout=60_000)
        m = page.evaluate(_MEASURE, list(plots))
        if screenshot is not None:  # the whole page, and its top (what a person sees first)
            page.screenshot(path=str(screenshot), full_page=True)
            top = {"x": 0, "y": 0, "width": width, "height": min(1500, page.evaluate("document.body.scrollHeight"))}
            page.screenshot(path=str(screenshot.with_name(f"{screenshot.stem}-top.png")), full_page=True, clip=top)
    finally:
        context.close()
    problems = [f"request for something else than the page: {u}" for u in requests if u != url]
    problems += [f"failed request: {u}" for u in failed]
    problems += [f"a dialog opened: {d!r}" for d in dialogs] + [f"script error: {e}" for e in errors]
    if max(m["scrollWidth"], m["bodyScrollWidth"]) > m["width"]:
        problems.append(f"the page scrolls sideways: {max(m['scrollWidth'], m['bodyScrollWidth'])} px wide in {width}")
    for name, box in m["plots"].items():
        if box is None:
            problems.append(f"plot {name} is missing")
        elif not box["shown"] or box["width"] < 50 or box["height"] < 50:
            problems.append(f"plot {name} is not visible ({box})")
        elif box["left"] < 0 or box["right"] > width + 0.5:
            problems.append(f"plot {name} reaches outside the window ({box['left']:.0f}..{box['right']:.0f} px)")
    problems += [f"a table column too narrow to read: {t!r}" for t in m["narrowCells"][:5]]
    return problems, m["text"]


@pytest.fixture(scope="module")
def class_300(tmp_path_factory):
    out = tmp_path_factory.mktemp("class-300")
    write_fake_class(out, A, 300)
    made = write_class_report(out)
    assert made.plots == tuple(PLOTS)
    return out


@pytest.mark.parametrize("device", WIDTHS)
def test_the_class_report_of_300_loads_with_every_plot(browser, class_300, shots, device):
    problems, text = page_problems(
        browser, class_300 / INDEX_HTML, WIDTHS[device], PLOTS, shots / f"class-300-{device}.png"
    )
    assert problems == []
    assert "300 submissions" in text and "Identical wrong answers" in text
    assert (shots / f"class-300-{device}.png").stat().st_size > 10_000


@pytest.mark.parametrize("device", WIDTHS)
def test_the_bundled_class_loads_and_student_markup_stays_text(browser, graded_class, shots, device):
    out = graded_class["out"]
    problems, text = page_problems(browser, out / INDEX_HTML, WIDTHS[device], PLOTS, shots / f"bundled-{device}.png")
    assert problems == []
    assert HOSTILE_FOLDER in text  # shown as it is, as text
    page = out / PAGES_DIR / f"{safe_name(HOSTILE_FOLDER)}.html"
    problems, text = page_problems(browser, page, WIDTHS[device], (), shots / f"hostile-page-{device}.png")
    assert problems == []
    assert "</textarea></pre><script>alert(4)</script>" in text and 'href="javascript:alert(5)"' in text


def _broken(tmp_path, source, how):
    page = tmp_path / "index.html"
    html = (source / INDEX_HTML).read_text()
    if how == "plot missing":
        html = re.sub(r'<figure id="plot-diagnoses">.*?</figure>', "", html, flags=re.S)
    elif how == "plot hidden":
        html = html.replace("</style>", "#plot-times svg{display:none}</style>", 1)
    elif how == "table wider than the page":
        html = html.replace("</style>", ".scroll{overflow:visible}table{min-width:1800px}</style>", 1)
    elif how == "columns squeezed":
        html = html.replace("</style>", "table,table.wide{min-width:0}</style>", 1)
    elif how == "external request":  # without the page's policy, which would have blocked it
        html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
        html = html.replace("<main>", '<main><img src="http://127.0.0.1:9/pixel.png" alt="">', 1)
    assert html != (source / INDEX_HTML).read_text()
    page.write_text(html)
    shutil.copytree(source / PAGES_DIR, tmp_path / PAGES_DIR)
    return page


@pytest.mark.parametrize(
    "how, device, expected",
    [
        ("plot missing", "desktop", "plot diagnoses is missing"),
        ("plot hidden", "desktop", "plot times is not visible"),
        ("table wider than the page", "desktop", "the page scrolls sideways"),
        ("columns squeezed", "phone", "a table column too narrow to read"),
        ("external request", "desktop", "request for something else than the page: http://127.0.0.1:9/pixel.png"),
    ],
)
def test_the_checks_fail_on_a_broken_page(browser, class_300, tmp_path, how, device, expected):
    problems, _ = page_problems(browser, _broken(tmp_path, class_300, how), WIDTHS[device], PLOTS)
    assert any(p.startswith(expected) for p in problems), problems
