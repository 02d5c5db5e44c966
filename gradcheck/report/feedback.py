"""Feedback as text for a person: ``render_feedback`` of a report or a student view.

Also the pieces the platforms' files reuse (``gradcheck.formats``): the lines that explain a check's
verdict (``check_detail_lines``) and the lines about the student's own code run (modules that did
not import, what the code printed: ``import_error_lines``, ``output_lines``).
"""

from __future__ import annotations

from .. import text as _text
from .builder import CHECK_STATUSES
from .clipping import clip, clip_lines
from .messages import ERROR_CHECK_MESSAGE, FEEDBACK_NO_POINTS, OUTPUT_WITHHELD, import_failed, not_shown_yet

__all__ = ["check_detail_lines", "import_error_lines", "output_lines", "points_text", "render_feedback"]


def points_text(x) -> str:
    """Points as people read them: ``2``, ``0.5``, ``96.5``."""
    return f"{float(x):g}"


def _pts(x) -> str:
    try:
        return points_text(x)
    except (TypeError, ValueError):
        return "?"


_MARKS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "timeout": "TIMEOUT", "missing": "MISSING"}


def _worst_line(w) -> str | None:
    if not isinstance(w, dict):
        return None
    where = str(w.get("input", ""))
    if w.get("index") not in (None, []):
        where += "[" + ", ".join(map(str, w["index"])) + "]"
    parts = []
    if "expected" in w:
        parts.append(f"expected {w['expected']}")
    if "got" in w:
        parts.append(f"got {w['got']}")
    text = ", ".join(parts)
    if w.get("rel_error") is not None:
        text += (
            f" (relative error {w['rel_error']:.3g})"
            if isinstance(w["rel_error"], (int, float))
            else f" (relative error {w['rel_error']})"
        )
    return clip(f"{where}: {text}" if where else text, 300) if text else None


def check_detail_lines(check) -> list:
    """The lines that explain a check's verdict beneath its message: diagnosis, counterexample,
    blame and the worst error, each on one line and clipped (empty when the check has no details,
    e.g. a withheld placeholder of a student view)."""
    details = check.get("details") if isinstance(check, dict) else None
    lines = []
    if isinstance(details, dict):
        for key in ("diagnosis", "counterexample", "blame"):
            if details.get(key):
                lines.append(f"{key}: {clip(' '.join(str(details[key]).split()), 500)}")
        worst = _worst_line(details.get("worst"))
        if worst:
            lines.append(f"worst: {worst}")
    return lines


def _block(text, max_lines, max_chars, prefix, blank_tail) -> list:
    lines = clip_lines(text, max_lines=max_lines, max_chars=max_chars)
    if not blank_tail and lines and lines[-1] == "":
        lines = lines[:-1]
    return [prefix + ln for ln in lines]


def import_error_lines(modules, *, blank_tail=True) -> list:
    """For each module that did not import: ``gates.py could not be imported:`` and its error
    (clipped, indented). ``blank_tail=False`` leaves out a last line that is empty."""
    lines = []
    for name, m in (modules or {}).items():
        if isinstance(m, dict) and not m.get("ok", True):
            lines.append(import_failed(name) + ":")
            lines.extend(_block(m.get("error", ""), 12, 1500, "    ", blank_tail))
    return lines


def output_lines(out, *, max_lines=40, max_chars=4000, prefix="  | ", blank_tail=True) -> list:
    """What the student's code printed (a report's or a view's ``output``), clipped, each line after
    ``prefix``; while some check is withheld only how many bytes it was (if the view says).
    ``blank_tail=False`` leaves out a last line that is empty."""
    if not isinstance(out, dict):
        return []
    if out.get("withheld"):
        return [OUTPUT_WITHHELD.format(bytes=out["bytes"])] if out.get("bytes") else []
    if not out.get("text"):
        return []
    head = "Your code printed" + (" (truncated):" if out.get("truncated") else ":")
    return [head, *_block(out["text"], max_lines, max_chars, prefix, blank_tail)]


def render_feedback(report_or_view) -> str:
    """Text for a human: header with the score, one line per check (status mark, id, points,
    message) with diagnosis, counterexample, worst error and blame beneath when present, import
    errors and captured output, all clipped to a readable length."""
    r = report_or_view
    lines = []
    head = (
        f"gradcheck: {_text.terminal(r.get('submission', '?'), 200)} - assignment "
        f"{_text.terminal(r.get('assignment', '?'), 200)} (seed {_text.terminal(r.get('seed', '?'), 40)})"
    )
    lines.append(head)
    lines.append(f"Score: {_pts(r.get('score'))} / {_pts(r.get('max_score'))}")
    withheld = r.get("withheld") or {}
    if withheld.get("checks"):
        lines.append(not_shown_yet(withheld["checks"], _pts(withheld.get("max_score")), counts_in="your final grade"))
    if r.get("status") == "error":
        lines.append("Grading failed: " + clip(r.get("message", ""), 500))
        lines.append(FEEDBACK_NO_POINTS)
    elif r.get("message"):
        lines.append(clip(r["message"], 500))
    lines.extend(import_error_lines(r.get("modules")))
    lines.append("")
    checks = r.get("checks", [])
    not_graded = [c for c in checks if c.get("status") == "error" and c.get("message") == ERROR_CHECK_MESSAGE]
    if r.get("status") == "error" and not_graded:  # one line, not one per check
        lines.append(
            f"  {'ERROR':<8} {len(not_graded)} check(s) worth "
            f"{_pts(sum(float(c.get('max_score', 0)) for c in not_graded))} point(s): not graded"
        )
        checks = [c for c in checks if c not in not_graded]
    width = min(max((len(str(c.get("id", ""))) for c in checks), default=10), 48)
    counts = {}
    for c in checks:
        if c.get("withheld"):
            mark, pts = "-", f"?/{_pts(c.get('max_score'))}"
            counts["not shown"] = counts.get("not shown", 0) + 1
        else:
            status = c.get("status", "?")
            mark = _MARKS.get(status, str(status).upper())
            pts = f"{_pts(c.get('score'))}/{_pts(c.get('max_score'))}"
            counts[status] = counts.get(status, 0) + 1
        cid = _text.terminal(c.get("id", "?"), 200)
        tag = "" if c.get("withheld") or c.get("visibility", "visible") == "visible" else f" ({c['visibility']})"
        msg = clip(" ".join(str(c.get("message", "")).split()), 300) if c.get("message") else ""
        lines.append(f"  {mark:<8} {cid:<{width}} {pts:>8}  {msg}{tag}".rstrip())
        lines.extend(f"  {'':<8} {ln}" for ln in check_detail_lines(c))
    lines.append("")
    if not_graded and r.get("status") == "error":
        counts["error"] = counts.get("error", 0) + len(not_graded)
    order = [s for s in CHECK_STATUSES if s in counts] + [s for s in counts if s not in CHECK_STATUSES]
    lines.append("Checks: " + ", ".join(f"{counts[s]} {_MARKS.get(s, s).lower()}" for s in order))
    lines.extend(output_lines(r.get("output")))
    # whatever a student controlled in there (names, messages, prints): no control character reaches
    # the reader's terminal
    return _text.safe("\n".join(lines), None) + "\n"
