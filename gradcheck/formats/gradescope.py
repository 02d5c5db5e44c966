"""Gradescope's results.json (Autograder Specifications) from a gradcheck report.

One Gradescope test per check: ``name`` the check id, ``score``/``max_score`` the check's points,
``status`` passed/failed, ``output`` the check's message and details, ``tags`` its groups, and
``visibility`` the assignment's visibility of the check (Gradescope shows a test to students
according to it; instructors always see every test).

The top-level ``output`` is shown to students whenever the results are, so it is built from
``student_view`` only: the visible checks' summary, how many checks are not shown yet, import
errors, never anything of a hidden or after-due-date check (no ids of failed hidden checks, no
inputs, no counterexamples) and never the student's captured prints while any check is withheld
(their code may have printed a hidden check's inputs). ``stdout_visibility`` stays "hidden": the
stdout of run_autograder (gradcheck's full instructor feedback) is for instructors.
"""

from __future__ import annotations

from ..report import clip, error_report, student_seconds, student_view
from ..report import points_text as _pts
from ..report.messages import GRADESCOPE_NO_POINTS, WITHHELD_WHEN, grading_failed, not_shown_yet
from .common import FormatError, check_prefix, check_text, student_code_lines, validate_against

__all__ = ["GRADESCOPE_VISIBILITIES", "gradescope_failure_results", "to_gradescope", "validate_gradescope"]

GRADESCOPE_VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
TEST_OUTPUT_CHARS = 4000
TOP_OUTPUT_CHARS = 8000
NOT_GRADED = GRADESCOPE_NO_POINTS


def _visibility(check) -> str:
    vis = check.get("visibility")
    return vis if vis in GRADESCOPE_VISIBILITIES else "hidden"  # unknown or missing: fail closed


def _numbers(checks) -> list:
    """'part.k' numbers: gates 1.x, graph 2.x, mlp 3.x (parts in order of appearance)."""
    parts, counts, out = {}, {}, []
    for c in checks:
        part = str(c.get("id", "")).split(".", 1)[0]
        parts.setdefault(part, len(parts) + 1)
        counts[part] = counts.get(part, 0) + 1
        out.append(f"{parts[part]}.{counts[part]}")
    return out


def _tags(check) -> list:
    cid = str(check.get("id", ""))
    tags = [cid.split(".", 1)[0]]
    prefix = check_prefix(cid)
    if prefix not in tags:
        tags.append(prefix)
    if check.get("status") in ("error", "timeout", "missing"):
        tags.append(check["status"])
    return tags


def _top_output(report) -> str:
    """The submission-level text a student may see: from the student view only."""
    view = student_view(report)
    lines = [
        f"gradcheck {report.get('gradcheck_version', '')}: assignment {report.get('assignment', '?')}, "
        f"seed {report.get('seed', '?')}"
    ]
    if report.get("status") == "error":
        lines.append(grading_failed(view.get("message", ""), "autograder"))
        lines.append(NOT_GRADED)
        return "\n".join(lines)
    shown = [c for c in view["checks"] if not c.get("withheld")]
    passed = sum(c.get("status") == "pass" for c in shown)
    lines.append(
        f"Visible checks: {passed} of {len(shown)} passed, {_pts(view['score'])} / {_pts(view['max_score'])} points."
    )
    withheld = view.get("withheld") or {}
    if withheld.get("checks"):
        kinds = sorted({c["visibility"] for c in view["checks"] if c.get("withheld")})
        words = " or ".join(WITHHELD_WHEN.get(k, k) for k in kinds)
        lines.append(not_shown_yet(withheld["checks"], _pts(withheld["max_score"]), f" ({words})"))
    failed = [c["id"] for c in shown if c.get("status") != "pass"]
    if failed:
        lines.append(clip(f"Not passed ({len(failed)}): " + ", ".join(failed), 1500) + " (details in the tests below)")
    lines.extend(student_code_lines(view, max_lines=40, max_chars=4000, prefix="  | "))
    return clip("\n".join(lines), TOP_OUTPUT_CHARS)


def to_gradescope(report, assignment=None, *, visibility="visible", stdout_visibility="hidden") -> dict:
    """Gradescope's results.json content for one report (validated by the caller with
    ``validate_gradescope``). ``assignment`` (optional) adds each check's description to its test's
    output. ``visibility``: of the whole result (Gradescope's top-level field; each test's own
    visibility overrides it)."""
    descriptions = {c.id: c.description for c in assignment.checks} if assignment is not None else {}
    checks = list(report.get("checks", []))
    tests = []
    for c, number in zip(checks, _numbers(checks)):
        text = check_text(c)
        if descriptions.get(c.get("id")):
            text = f"{descriptions[c['id']]}\n{text}" if text else descriptions[c["id"]]
        if report.get("status") == "error":
            text += "\n" + NOT_GRADED
        tests.append(
            {
                "name": str(c.get("id", "?")),
                "number": number,
                "score": float(c.get("score", 0.0)),
                "max_score": float(c.get("max_score", 0.0)),
                "status": "passed" if c.get("status") == "pass" else "failed",
                "output": clip(text, TEST_OUTPUT_CHARS),
                "tags": _tags(c),
                "visibility": _visibility(c),
            }
        )
    seconds = student_seconds(report, withheld=any(c.get("visibility") != "visible" for c in checks))
    results = {
        "score": float(report.get("score", 0.0)) if report.get("status") != "error" else 0.0,
        "output": _top_output(report),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": visibility,
        "stdout_visibility": stdout_visibility,
        "extra_data": {
            "gradcheck_version": str(report.get("gradcheck_version", "")),
            "assignment": str(report.get("assignment", "")),
            "seed": report.get("seed"),
            "status": str(report.get("status", "")),
        },
        "tests": tests,
    }
    if isinstance(seconds, (int, float)):
        results["execution_time"] = max(0, int(round(seconds)))
    return results


def gradescope_failure_results(message, assignment=None, *, submission="submission", seed=0) -> dict:
    """Valid results for a run where grading itself broke: score 0, an output saying so, and (when the
    assignment is known) every check listed as a failed test with its visibility."""
    if assignment is not None:
        return to_gradescope(error_report(submission, assignment, seed, message), assignment)
    return {
        "score": 0.0,
        "output": grading_failed(message, "autograder") + "\n" + NOT_GRADED,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
    }


def validate_gradescope(results) -> None:
    """Raise FormatError unless results follow Gradescope's documented results.json format (the
    schema in gradcheck/formats/schemas/) and every test's score lies in [0, max_score]."""
    validate_against("gradescope", results)
    for i, t in enumerate(results.get("tests", [])):
        if "max_score" in t and "score" in t and not (0 <= t["score"] <= t["max_score"] + 1e-9):
            raise FormatError(
                f"invalid gradescope results:\n  tests[{i}].score: {t['score']} is outside [0, {t['max_score']}]"
            )
