"""JUnit XML from gradcheck reports, so CI systems show the checks as test results.

One ``<testsuite>`` per submission (its name), one ``<testcase>`` per check: ``classname`` is the
check id's prefix (``gates.MultiplyGate``), ``name`` the check id. A failed check has a
``<failure>``, a check that raised, timed out or is missing an ``<error>`` (``type`` says which),
each with the check's message as ``message`` and message plus details as text. The suite's
``<properties>`` hold score, max_score, status, assignment and seed; ``<system-out>`` the captured
output of the student's code (clipped), ``<system-err>`` why grading failed, if it did.

By default the file is the instructor's: every check, with details. ``student=True`` writes what
``student_view`` shows: a withheld check is a ``<skipped>`` test case with no message but the
withheld notice, and the captured output is left out while any check is withheld.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..report import clip, clip_block, student_view
from ..report import points_text as _num
from .common import check_prefix, check_text, xml_text

__all__ = ["to_junit"]


def _suite(report, student, now_due, published):
    r = student_view(report, now_due=now_due, published=published) if student else report
    checks = r.get("checks", [])
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    seconds = float((report.get("timing") or {}).get("seconds") or 0.0)
    suite = ET.Element("testsuite", {"name": xml_text(r.get("submission", "?")), "tests": str(len(checks))})
    props = ET.SubElement(suite, "properties")
    for key in ("assignment", "seed", "status", "score", "max_score", "gradcheck_version"):
        if key in r:
            value = _num(r[key]) if key in ("score", "max_score") else str(r[key])
            ET.SubElement(props, "property", {"name": key, "value": xml_text(value)})
    for c in checks:
        cid = str(c.get("id", "?"))
        case = ET.SubElement(
            suite, "testcase", {"classname": xml_text(check_prefix(cid)), "name": xml_text(cid), "time": "0"}
        )
        if c.get("withheld"):
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", {"message": xml_text(c.get("message", "not shown"))})
            continue
        status = c.get("status")
        if status == "pass":
            continue
        tag = "failure" if status == "fail" else "error"
        counts["failures" if tag == "failure" else "errors"] += 1
        message = clip(" ".join(str(c.get("message", "")).split()), 500)
        el = ET.SubElement(case, tag, {"message": xml_text(message), "type": xml_text(status or "error")})
        el.text = xml_text(
            check_text(c, message_chars=4000) + f"\nscore: {_num(c.get('score', 0))} / {_num(c.get('max_score', 0))}"
        )
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{seconds:.3f}")
    out = r.get("output")
    if isinstance(out, dict) and out.get("text") and not out.get("withheld"):
        ET.SubElement(suite, "system-out").text = xml_text(clip_block(out["text"], 200, 64_000))
    if report.get("status") == "error":
        ET.SubElement(suite, "system-err").text = xml_text("grading failed: " + clip(r.get("message", ""), 2000))
    return suite, counts, len(checks), seconds


def to_junit(reports, *, student=False, now_due=False, published=False, name="gradcheck") -> str:
    """JUnit XML text for one report or a list of reports (one testsuite each)."""
    if isinstance(reports, dict):
        reports = [reports]
    root = ET.Element("testsuites", {"name": xml_text(name)})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for report in reports:
        suite, counts, n, seconds = _suite(report, student, now_due, published)
        root.append(suite)
        totals["tests"] += n
        for k, v in counts.items():
            totals[k] += v
        total_time += seconds
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", f"{total_time:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
