"""The class: a summary row per report, summary.json and the gradebook CSV.

The batch keeps only a small row per submission (``summary_row``); ``class_summary`` and
``gradebook_csv`` are made from the rows, and ``write_summary`` writes both files atomically.
"""

from __future__ import annotations

import csv
import io
import statistics
from pathlib import Path

from .. import text as _text
from .builder import SCHEMA_VERSION, gradcheck_version
from .clipping import clip
from .files import atomic_write_text
from .names import GRADEBOOK_CSV, SUMMARY_JSON
from .plain import dumps_json

__all__ = ["class_summary", "csv_safe", "gradebook_csv", "summary_row", "write_summary"]


def summary_row(report, report_file=None, seconds=None) -> dict:
    """The little the batch keeps of a report: enough for summary.json, the gradebook and the
    progress line."""
    row = {
        "submission": report["submission"],
        "status": report["status"],
        "score": float(report["score"]),
        "max_score": float(report["max_score"]),
        "checks": {
            c["id"]: {"status": c["status"], "score": float(c["score"]), "max_score": float(c["max_score"])}
            for c in report["checks"]
        },
    }
    if report["status"] == "error":
        row["message"] = clip(report.get("message", ""), 500)
    if report_file is not None:
        row["report"] = Path(report_file).name
    if seconds is not None:
        row["seconds"] = round(float(seconds), 3)
    return row


def _round(x):
    return None if x is None else round(float(x), 6)


def _check_ids(rows, assignment):
    if assignment is not None:
        return list(assignment.check_ids)
    return list(dict.fromkeys(cid for r in rows for cid in r.get("checks", {})))


def class_summary(rows, *, assignment=None, seed=None) -> dict:
    """The content of summary.json. Statistics are over the graded submissions (status "graded");
    submissions with status "error" are counted apart (their score 0 would skew the mean)."""
    rows = sorted(rows, key=lambda r: r["submission"])
    ids = _check_ids(rows, assignment)
    graded = [r for r in rows if r["status"] == "graded"]
    scores = [float(r["score"]) for r in graded]
    stats = {
        "count": len(rows),
        "graded": len(graded),
        "errors": len(rows) - len(graded),
        "mean": _round(statistics.fmean(scores)) if scores else None,
        "median": _round(statistics.median(scores)) if scores else None,
        "min": _round(min(scores)) if scores else None,
        "max": _round(max(scores)) if scores else None,
    }
    per_check = {}
    for cid in ids:
        results = [r["checks"][cid] for r in graded if cid in r.get("checks", {})]
        spec = assignment.check(cid) if assignment is not None else None
        maxes = [c["max_score"] for r in rows for c in [r.get("checks", {}).get(cid)] if c and "max_score" in c]
        max_score = spec.points if spec is not None else (maxes[0] if maxes else None)
        per_check[cid] = {
            "max_score": _round(max_score),
            "pass_rate": _round(sum(c["status"] == "pass" for c in results) / len(results)) if results else None,
            "mean_score": _round(statistics.fmean(c["score"] for c in results)) if results else None,
            "graded": len(results),
        }
    subs = []
    for r in rows:
        s = {
            "submission": r["submission"],
            "status": r["status"],
            "score": _round(r["score"]),
            "max_score": _round(r["max_score"]),
            "checks": {
                cid: {"status": c["status"], "score": _round(c["score"])} for cid, c in r.get("checks", {}).items()
            },
        }
        for k in ("message", "report"):
            if k in r:
                s[k] = r[k]
        subs.append(s)
    head = {"schema_version": SCHEMA_VERSION, "gradcheck_version": gradcheck_version()}
    if assignment is not None:
        head["assignment"] = assignment.name
    if seed is not None:
        head["seed"] = int(seed)
    return {**head, "stats": stats, "checks": per_check, "submissions": subs}


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(cell):
    """A spreadsheet cell that cannot run as a formula: text starting with = + - @ (or tab, CR) gets
    a leading apostrophe. Numbers are left alone."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_START):
        return "'" + cell
    return cell


def _num(x) -> str:
    return "" if x is None else repr(round(float(x), 6))


def gradebook_csv(rows, *, assignment=None) -> str:
    """The gradebook: a header row, then one row per submission (sorted by id): submission, score,
    max_score, status, then one column per check id with its score (empty when not run)."""
    rows = sorted(rows, key=lambda r: r["submission"])
    ids = _check_ids(rows, assignment)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([csv_safe(h) for h in ["submission", "score", "max_score", "status", *ids]])
    for r in rows:
        checks = r.get("checks", {})
        w.writerow(
            [
                csv_safe(_text.safe(r["submission"], 500)),
                _num(r["score"]),
                _num(r["max_score"]),
                csv_safe(r["status"]),
                *(_num(checks[cid]["score"]) if cid in checks else "" for cid in ids),
            ]
        )
    return buf.getvalue()


def write_summary(rows, out_dir, *, assignment=None, seed=None) -> tuple:
    """Write OUT_DIR/summary.json and OUT_DIR/gradebook.csv (atomically); returns both paths.
    With the assignment, its check ids are the gradebook's columns (else every id in the rows)."""
    out_dir = Path(out_dir)
    rows = list(rows)
    summary = class_summary(rows, assignment=assignment, seed=seed)
    js = atomic_write_text(out_dir / SUMMARY_JSON, dumps_json(summary))
    cs = atomic_write_text(out_dir / GRADEBOOK_CSV, gradebook_csv(rows, assignment=assignment))
    return js, cs
