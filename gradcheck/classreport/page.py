"""The class report's HTML: the class page (``index.html``) and a page per submission
(``pages/<report file stem>.html``, the instructor's view of its feedback).

Note [Class report HTML]
~~~~~~~~~~~~~~~~~~~~~~~~
- Self-contained: styles inline, plots inline SVG, no script, no image file, no web font, no request
  of any kind; the Content-Security-Policy (``default-src 'none'``) tells the browser so as well, so
  that even markup that slipped through could neither run nor fetch anything. It opens from a file,
  an artifact viewer or a web server alike.
- Every text taken from a report passes through ``text.html_text`` (names, messages, counterexamples,
  the code's output, diagnoses, even check ids and numbers); links are made only from report file
  names (``report.safe_name``: letters, digits, ``.``, ``_``, ``-`` and ``=XX``, and quoted again) and
  check ids (the assignment's pattern), never from anything a student wrote.
- It fits a phone: plots scale to the width, tables scroll inside their own box and long words wrap,
  so the page itself never scrolls sideways.
"""

from __future__ import annotations

from urllib.parse import quote

from ..report.feedback import check_detail_lines, import_error_lines, output_lines, points_text
from ..text import html_text as h

__all__ = ["index_page", "page_href", "submission_page"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STYLE = """
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2329;background:#fff}
main{max-width:1120px;margin:0 auto;padding:12px 16px 48px}
h1{font-size:1.45rem;margin:.4em 0 .2em}
h2{font-size:1.15rem;margin:1.8em 0 .6em;padding-bottom:.2em;border-bottom:1px solid #ddd}
p,li,dd,td,th,figcaption{overflow-wrap:anywhere}
code{overflow-wrap:break-word}
.meta{color:#555;font-size:.9rem}
.note{background:#fff6e0;border:1px solid #f0d48a;padding:8px 12px;border-radius:4px}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr));gap:20px 24px}
figure{margin:0;min-width:0}
figure svg{display:block;width:100%;height:auto;max-width:100%}
figcaption{font-size:.85rem;color:#555;margin-top:2px}
.scroll{overflow-x:auto;max-width:100%;border:1px solid #e4e6e8;border-radius:4px}
table{border-collapse:collapse;width:100%;min-width:560px;font-size:.88rem}
table.wide{min-width:900px}
th,td{padding:4px 8px;border-bottom:1px solid #eef0f2;text-align:left;vertical-align:top}
th{background:#f5f6f7;font-weight:600}
.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.nowrap{white-space:nowrap}
td.name{min-width:9em}
.pass{color:#1e7a34}.fail,.error,.timeout,.missing{color:#a61b1b}
.detail{color:#444;font-size:.85rem}
ul.groups li{margin-bottom:.6em}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f5f6f7;padding:8px 10px;border-radius:4px;font-size:.85rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}
dt{color:#555}dd{margin:0;min-width:0}
a{color:#1f5fa8}
"""


def _document(title, body) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body><main>\n{body}\n</main></body></html>\n"
    )


def page_href(stem, check_id=None, prefix="pages/") -> str:
    """The link to a submission's page (and a check on it), from its report file's stem."""
    href = f"{prefix}{quote(stem, safe='=')}.html"
    return href + (f"#{_anchor(check_id)}" if check_id else "")


def _anchor(check_id) -> str:
    return "c-" + quote(str(check_id), safe="._-")


def _pts(x) -> str:
    return h(points_text(x))


def _cid(check_id) -> str:
    """A check id as code, with line break opportunities after its dots."""
    return "<code>" + h(check_id).replace(".", ".<wbr>") + "</code>"


def _pct(n, d) -> str:
    return f"{100 * n / d:.0f}%" if d else "-"


def _table(head, rows, cls="") -> str:
    """A table in its own scrolling box: ``head`` the header row's cells (HTML), ``rows`` the rows (HTML)."""
    cls = f' class="{cls}"' if cls else ""
    return (
        f'<div class="scroll"><table{cls}>\n<thead><tr>{"".join(head)}</tr></thead>\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table></div>"
    )


def _status(status) -> str:
    return f'<span class="nowrap {h(status)}">{h(status)}</span>'


# --- the class page --------------------------------------------------------------------------------


def _head(data) -> str:
    stats = data.score_stats()
    max_scores = sorted({e.max_score for e in data.entries})
    of = f" (of {_pts(max_scores[-1])})" if max_scores else ""
    scores = (
        f"mean {stats['mean']:.2f}, median {_pts(stats['median'])}{of}" if stats["mean"] is not None else "none graded"
    )
    parts = [
        f"<h1>Class report: {h(', '.join(data.assignments) or '?')}</h1>",
        f'<p class="meta">{stats["count"]} submissions, {stats["graded"]} graded: {scores}. '
        f"Seed {h(', '.join(map(str, data.seeds)))}; gradcheck {h(', '.join(data.versions))}. "
        "Made from the reports in this folder (<code>gradcheck report</code> makes it again).</p>",
    ]
    if data.summary is None:
        parts.append(
            '<p class="note">There is no summary.json in this folder: the run that wrote these reports did '
            "not finish (<code>gradcheck grade --resume</code> finishes it). This page shows every report "
            "file in the folder.</p>"
        )
    if data.unreadable:
        items = "".join(f"<li><code>{h(name)}</code>: {h(why, 500)}</li>" for name, why in data.unreadable[:50])
        parts.append(
            f'<div class="note"><p>{len(data.unreadable)} report file(s) could not be read:</p><ul>{items}</ul></div>'
        )
    return "\n".join(parts)


def _plots(plots) -> str:
    figures = "\n".join(
        f'<figure id="plot-{h(p.name)}">{p.svg}<figcaption>{h(p.title)}</figcaption></figure>' for p in plots
    )
    return f'<h2 id="plots">Plots</h2>\n<div class="plots">\n{figures}\n</div>'


def _checks_table(data) -> str:
    failing = [s for s in data.checks.values() if s.failed]
    failing.sort(key=lambda s: (-(s.failed / s.graded), -s.max_score, s.id))
    rows = []
    for s in failing:
        top = s.top_diagnosis
        diagnosis = f'{h(top[0], 300)} <span class="meta">({top[1]})</span>' if top else ""
        example = s.representative()
        shown = ""
        if example is not None:
            entry, text = example
            shown = f'{h(text, 400)} <a href="{page_href(entry.stem, s.id)}">({h(entry.name, 100)})</a>'
        rows.append(
            f'<tr><td>{_cid(s.id)}</td><td class="num">{_pts(s.max_score)}</td>'
            f'<td class="num">{s.failed} / {s.graded}</td><td class="num">{_pct(s.failed, s.graded)}</td>'
            f"<td>{diagnosis}</td><td>{shown}</td></tr>"
        )
    all_pass = len(data.checks) - len(failing)
    intro = (
        f"<p>{len(failing)} of {len(data.checks)} checks failed for at least one graded submission"
        + (f"; the other {all_pass} passed for every one" if all_pass and failing else "")
        + ". Failed: not passed (fail, error, timeout or missing).</p>"
    )
    title = '<h2 id="checks">Checks by failure rate</h2>'
    if not failing:
        return f"{title}\n{intro}"
    head = [
        "<th>check</th>",
        '<th class="num">points</th>',
        '<th class="num">failed</th>',
        '<th class="num">rate</th>',
        "<th>most common diagnosis</th>",
        "<th>a representative counterexample</th>",
    ]
    return f"{title}\n{intro}\n" + _table(head, rows, "wide")


def _groups(groups, most_groups=50, most_names=100) -> str:
    intro = (
        "<p>Submissions whose failing checks returned bitwise-identical values on the same inputs. "
        "A lead to look at, not a finding: the same common mistake, made the same way, gives the same "
        "numbers.</p>"
    )
    if not groups:
        return f'<h2 id="identical">Identical wrong answers</h2>\n{intro}\n<p>No such group in this class.</p>'
    items = []
    for g in groups[:most_groups]:
        names = ", ".join(f'<a href="{page_href(e.stem)}">{h(e.name, 200)}</a>' for e in g.submissions[:most_names])
        more = f" and {len(g.submissions) - most_names} more" if len(g.submissions) > most_names else ""
        checks = ", ".join(_cid(c) for c in g.checks)
        items.append(
            f"<li>These {len(g.submissions)} submissions failed {len(g.checks)} check(s) with identical values: "
            f'{names}{more}.<br><span class="detail">Checks: {checks}</span></li>'
        )
    more = f"<p>... and {len(groups) - most_groups} more groups.</p>" if len(groups) > most_groups else ""
    return (
        f'<h2 id="identical">Identical wrong answers</h2>\n{intro}\n<ul class="groups">\n'
        + "\n".join(items)
        + f"\n</ul>{more}"
    )


def _submissions_table(data, most_lost=3) -> str:
    rows = []
    for e in data.entries:
        lost = ", ".join(f'<a href="{page_href(e.stem, c)}">{_cid(c)}</a>' for c in e.lost[:most_lost])
        if len(e.lost) > most_lost:
            lost += f" (+{len(e.lost) - most_lost} more)"
        if e.status == "error":
            lost = h(e.message, 300)
        rows.append(
            f'<tr><td class="name"><a href="{page_href(e.stem)}">{h(e.name, 200)}</a></td>'
            f'<td class="num">{_pts(e.score)} / {_pts(e.max_score)}</td>'
            f"<td>{_status(e.status)}</td><td>{lost}</td></tr>"
        )
    head = ["<th>submission</th>", '<th class="num">score</th>', "<th>status</th>", "<th>checks lost</th>"]
    return '<h2 id="submissions">Submissions</h2>\n' + _table(head, rows)


def index_page(data, plots, groups) -> str:
    """The class page: head, plots, checks by failure rate, identical wrong answers, submissions."""
    body = "\n".join([_head(data), _plots(plots), _checks_table(data), _groups(groups), _submissions_table(data)])
    return _document(f"Class report: {h(', '.join(data.assignments) or '?')}", body)


# --- a submission's page ---------------------------------------------------------------------------


def submission_page(report) -> str:
    """The instructor's view of one report: everything in it, every check with its details."""
    r = report
    timing = r.get("timing") or {}
    facts = [
        ("score", f"{_pts(r['score'])} / {_pts(r['max_score'])}"),
        ("status", _status(r["status"])),
        ("message", h(r.get("message", ""), 2000)),
        ("assignment", h(r["assignment"])),
        ("seed", h(r["seed"])),
        ("gradcheck", h(r.get("gradcheck_version", "?"))),
        ("time", h(f"{timing['seconds']:g} s") if isinstance(timing.get("seconds"), (int, float)) else "-"),
        ("submission hash", f"<code>{h(r.get('submission_hash', '-'))}</code>"),
        ("assignment hash", f"<code>{h(r.get('assignment_hash', '-'))}</code>"),
    ]
    parts = [
        '<p><a href="../index.html">&larr; class report</a></p>',
        f"<h1>{h(r['submission'], 300)}</h1>",
        "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>",
    ]
    imports = import_error_lines(r.get("modules"), blank_tail=False)
    if imports:
        parts.append("<h2>Modules</h2>\n<pre>" + h("\n".join(imports), None) + "</pre>")
    rows = []
    for c in r["checks"]:
        details = "".join(f'<div class="detail">{h(line, 1000)}</div>' for line in check_detail_lines(c))
        rows.append(
            f'<tr id="{h(_anchor(c["id"]))}"><td>{_cid(c["id"])}</td><td>{_status(c["status"])}</td>'
            f'<td class="num">{_pts(c["score"])} / {_pts(c["max_score"])}</td>'
            f'<td class="nowrap">{h(c.get("visibility", ""))}</td>'
            f"<td>{h(c.get('message', ''), 2000)}{details}</td></tr>"
        )
    head = ["<th>check</th>", "<th>status</th>", '<th class="num">points</th>', "<th>visibility</th>"]
    head.append("<th>message</th>")
    parts.append("<h2>Checks</h2>\n" + _table(head, rows))
    output = output_lines(r.get("output"), blank_tail=False)
    if output:
        parts.append("<h2>Output</h2>\n<pre>" + h("\n".join(output), None) + "</pre>")
    return _document(f"{h(r['submission'], 200)}: gradcheck report", "\n".join(parts))
