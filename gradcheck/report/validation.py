"""Whether a report follows the report contract: ``report.schema.json`` and the sums it cannot say."""

from __future__ import annotations

from .. import schemas
from ..errors import ReportError

__all__ = ["ReportError", "report_schema", "validate_report"]

_SCHEMA = ("gradcheck", "report.schema.json")


def report_schema() -> dict:
    """The report's JSON Schema (a fresh copy)."""
    return schemas.schema(*_SCHEMA)


def _close(a, b) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def validate_report(d) -> None:
    """Raise ReportError (naming the submission and the field) unless d follows the report contract.

    Beyond the schema: check ids are unique, each check's score is within [0, max_score], and the
    report's score and max_score are the sums over its checks."""
    name = d.get("submission") if isinstance(d, dict) else None
    who = f"report for {name!r}" if isinstance(name, str) else "report"
    invalid = schemas.problems_text(schemas.validator(*_SCHEMA), d, who)
    if invalid:
        raise ReportError(invalid)
    problems, seen = [], set()
    for i, c in enumerate(d["checks"]):
        if c["id"] in seen:
            problems.append(f"checks[{i}].id: {c['id']!r} appears twice")
        seen.add(c["id"])
        if c["score"] > c["max_score"] and not _close(c["score"], c["max_score"]):
            problems.append(f"checks[{i}].score: {c['score']} is more than max_score {c['max_score']}")
    total = sum(c["score"] for c in d["checks"])
    top = sum(c["max_score"] for c in d["checks"])
    if not _close(d["score"], total):
        problems.append(f"score: {d['score']} is not the sum of the checks' scores ({total})")
    if not _close(d["max_score"], top):
        problems.append(f"max_score: {d['max_score']} is not the sum of the checks' max_score ({top})")
    if problems:
        raise ReportError(f"invalid {who}:\n  " + "\n  ".join(problems))
