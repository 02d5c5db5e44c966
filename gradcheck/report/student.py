"""What a student may see of a report: ``student_view``.

The checks their assignment's visibility allows keep status, score, message and details; the other
checks are reduced to placeholders that carry no status, score, message or details.
"""

from __future__ import annotations

import copy

from .clipping import clip, clip_detail, clip_lines
from .messages import WITHHELD_MESSAGES

__all__ = ["is_shown", "student_seconds", "student_view"]


def is_shown(visibility, now_due=False, published=False) -> bool:
    """Whether a check of this visibility is shown to a student: visible always, after_due_date once
    due, after_published once published, hidden never (nor anything unknown or missing)."""
    return (
        visibility == "visible"
        or (visibility == "after_due_date" and now_due)
        or (visibility == "after_published" and published)
    )


def student_view(report, now_due=False, published=False) -> dict:
    """What the student may see of a report.

    Checks the visibility allows keep status, score, message and details (long text clipped). Any
    other check becomes a placeholder ``{"id", "visibility", "max_score", "withheld": true,
    "message"}`` with no status, score or details, so nothing of a hidden check's inputs, expected
    values or counterexamples can leak. ``score``/``max_score`` of the view count the shown checks
    only; ``withheld`` says how many checks and points are not shown. The captured output of the
    student's code is left out while any check is withheld (code may print a hidden check's inputs),
    and so is the report's summary message of a graded report (it may count the withheld checks).
    A check without a visibility counts as hidden."""
    view = {
        k: copy.deepcopy(report[k])
        for k in ("schema_version", "gradcheck_version", "submission", "assignment", "seed", "status")
        if k in report
    }
    view["view"] = {"student": True, "now_due": bool(now_due), "published": bool(published)}
    checks, score, max_score, n_withheld, pts_withheld = [], 0.0, 0.0, 0, 0.0
    for c in report.get("checks", []):
        vis = c.get("visibility", "hidden")
        if is_shown(vis, now_due, published):
            item = {
                k: copy.deepcopy(c[k])
                for k in ("id", "status", "score", "max_score", "visibility", "message")
                if k in c
            }
            if "message" in item:
                item["message"] = clip(item["message"], 1000)
            if c.get("details"):
                item["details"] = clip_detail(copy.deepcopy(c["details"]))
            checks.append(item)
            score += float(c.get("score", 0.0))
            max_score += float(c.get("max_score", 0.0))
        else:
            checks.append(
                {
                    "id": c.get("id", "?"),
                    "visibility": vis if vis in WITHHELD_MESSAGES else "hidden",
                    "max_score": float(c.get("max_score", 0.0)),
                    "withheld": True,
                    "message": WITHHELD_MESSAGES.get(vis, WITHHELD_MESSAGES["hidden"]),
                }
            )
            n_withheld += 1
            pts_withheld += float(c.get("max_score", 0.0))
    # the report's own message may sum up every check ("77 of 79 checks passed"): kept only when it
    # cannot tell anything about a withheld check, or when it says why grading failed
    if "message" in report and (n_withheld == 0 or report.get("status") == "error"):
        view["message"] = clip(report["message"], 1000)
    view["score"] = round(score, 6)
    view["max_score"] = round(max_score, 6)
    view["withheld"] = {"checks": n_withheld, "max_score": round(pts_withheld, 6)}
    view["checks"] = checks
    if "modules" in report:
        view["modules"] = {
            name: {
                k: ("\n".join(clip_lines(v, max_lines=30, max_chars=3000)) if isinstance(v, str) else v)
                for k, v in m.items()
                if k in ("ok", "error")
            }
            for name, m in report["modules"].items()
        }
    out = report.get("output")
    if isinstance(out, dict):
        if n_withheld:  # not even its size: code may print while a withheld check runs
            view["output"] = {"withheld": True}
        else:
            text = "\n".join(clip_lines(out.get("text", ""), max_lines=40, max_chars=4000))
            view["output"] = {
                "text": text,
                "bytes": out.get("bytes", 0),
                "truncated": bool(out.get("truncated")) or text != out.get("text", ""),
            }
    seconds = student_seconds(report, withheld=bool(n_withheld))
    if seconds is not None:
        view["timing"] = {"seconds": seconds}
    return view


def student_seconds(report, withheld=True):
    """The grading time a student may see: while checks are withheld, only the time the visible
    checks took (they run first; what the student's code does during a withheld check could
    otherwise be read from the total)."""
    timing = report.get("timing") or {}
    key = "visible_seconds" if withheld else "seconds"
    value = timing.get(key)
    return value if isinstance(value, (int, float)) else None
