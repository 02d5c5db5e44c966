"""PrairieLearn's external-grader results.json from a gradcheck report.

PrairieLearn shows the whole results file to the student at once: it has no per-test visibility.
So the file is made from ``student_view``: a check the assignment does not show yet (hidden; after
the due date unless ``now_due``; after publishing unless ``published``) is left out of ``tests``,
and ``message`` says how many checks and points are not shown. Nothing of a withheld check (its
message, inputs, expected values, counterexample) and none of the student's captured prints while a
check is withheld get into the file.

``score`` (in [0, 1]) is the grade: it counts every check, withheld ones included (a student can
infer the total of the withheld points from it, never which check failed or why).

A grader failure gives ``gradable: false`` (no attempt used, no points awarded or lost).

The file stays under ``max_bytes`` (PrairieLearn's limit: 1 MB): long texts are clipped to their
head and tail first; if the file is still too large the per-test texts are shortened step by step
(and dropped as a last resort), and the message says so.
"""

from __future__ import annotations

from ..report import clip, student_view
from ..report import points_text as _pts
from ..report.messages import PRAIRIELEARN_NO_ATTEMPT, grading_failed, import_failed
from .common import FormatError, check_text, dumps, student_code_lines, validate_against

__all__ = ["PL_MAX_BYTES", "prairielearn_failure_results", "to_prairielearn", "validate_prairielearn"]

PL_MAX_BYTES = 1_000_000  # PrairieLearn: "this file should be limited to 1 MB"
SHORTENED = "Some texts were shortened to keep these results under PrairieLearn's size limit ({limit})."


def _message(report, view) -> str:
    if report.get("status") == "error":
        return grading_failed(view.get("message", "")) + "\n" + PRAIRIELEARN_NO_ATTEMPT
    shown = [c for c in view["checks"] if not c.get("withheld")]
    passed = sum(c.get("status") == "pass" for c in shown)
    lines = [
        f"{passed} of {len(shown)} checks shown here passed ({_pts(view['score'])} / {_pts(view['max_score'])} points)."
    ]
    withheld = view.get("withheld") or {}
    if withheld.get("checks"):
        lines.append(
            f"{withheld['checks']} more check(s) worth {_pts(withheld['max_score'])} point(s) are not "
            "shown yet; they count in your score."
        )
    for name, m in (view.get("modules") or {}).items():
        if isinstance(m, dict) and not m.get("ok", True):
            lines.append(import_failed(name) + " (see the output).")
    return "\n".join(lines)


def _output(view, limit) -> str:
    parts = student_code_lines(view, max_lines=60, max_chars=limit, prefix="")
    return clip("\n".join(parts), limit)


def _build(report, view, descriptions, limits) -> dict:
    msg_chars, out_chars, top_chars = limits
    tests = []
    for c in view["checks"]:
        if c.get("withheld"):
            continue
        test = {
            "name": str(c.get("id", "?")),
            "points": float(c.get("score", 0.0)),
            "max_points": float(c.get("max_score", 0.0)),
        }
        if descriptions.get(c.get("id")) and msg_chars:
            test["description"] = clip(descriptions[c["id"]], min(300, msg_chars))
        if msg_chars:
            test["message"] = clip(" ".join(str(c.get("message", "")).split()), msg_chars)
        if out_chars:
            text = check_text(c, message=False)
            if text:
                test["output"] = clip(text, out_chars)
        tests.append(test)
    max_score = float(report.get("max_score") or 0.0)
    score = float(report.get("score", 0.0)) / max_score if max_score > 0 else 0.0
    results = {
        "gradable": report.get("status") != "error",
        "score": min(1.0, max(0.0, round(score, 6))) if report.get("status") != "error" else 0.0,
        "message": _message(report, view),
        "output": _output(view, top_chars),
        "tests": tests,
    }
    return results


def to_prairielearn(report, assignment=None, *, now_due=False, published=False, max_bytes=PL_MAX_BYTES) -> dict:
    """PrairieLearn's results.json content for one report: what ``student_view(report, now_due,
    published)`` shows, at most ``max_bytes`` bytes as written by ``gradcheck.formats.dumps``."""
    view = student_view(report, now_due=now_due, published=published)
    descriptions = {c.id: c.description for c in assignment.checks} if assignment is not None else {}
    limits = (1000, 4000, 16000)
    results = _build(report, view, descriptions, limits)
    shortened, budget = False, max_bytes
    while len(dumps(results).encode("utf-8")) > budget:
        shortened, budget = True, max_bytes - 300  # room for the note below
        msg, out, top = limits
        if limits == (0, 0, 0):
            results["tests"] = results["tests"][: max(0, len(results["tests"]) // 2)]
            if not results["tests"]:
                results["message"] = clip(results["message"], 2000)
                break
            continue
        limits = (msg // 2 if msg > 120 else 0, out // 2 if out > 120 else 0, top // 2 if top > 200 else 0)
        results = _build(report, view, descriptions, limits)
    if shortened:
        limit = "1 MB" if max_bytes == PL_MAX_BYTES else f"{max_bytes} bytes"
        results["message"] += "\n" + SHORTENED.format(limit=limit)
    return results


def prairielearn_failure_results(message) -> dict:
    """Valid results for a run where grading itself broke: not gradable (no attempt used), saying why."""
    return {
        "gradable": False,
        "score": 0.0,
        "message": grading_failed(message) + "\n" + PRAIRIELEARN_NO_ATTEMPT,
        "output": "",
        "tests": [],
    }


def validate_prairielearn(results, max_bytes=PL_MAX_BYTES) -> None:
    """Raise FormatError unless results follow PrairieLearn's documented format (the schema in
    gradcheck/formats/schemas/), stay under max_bytes as written, and every test's points lie in
    [0, max_points]."""
    validate_against("prairielearn", results)
    size = len(dumps(results).encode("utf-8"))
    if size > max_bytes:
        raise FormatError(f"invalid prairielearn results: {size} bytes, more than {max_bytes}")
    for i, t in enumerate(results.get("tests", [])):
        if "points" in t and "max_points" in t and t["points"] > t["max_points"] + 1e-9:
            raise FormatError(
                f"invalid prairielearn results:\n  tests[{i}].points: {t['points']} is more than "
                f"max_points {t['max_points']}"
            )
