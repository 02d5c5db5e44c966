"""What the class report needs of a run's reports, read one at a time: a small entry per submission
and counts per check (the reports themselves are not kept: a class of 500 fits in a few MB)."""

from __future__ import annotations

import collections
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ReportError
from ..report import read_report, read_summary, run_report_files
from ..report.clipping import clip

__all__ = ["CheckStats", "ClassData", "Entry", "collect"]


@dataclass
class Entry:
    """One submission, as the class report shows it."""

    name: str  #: the report's ``submission`` (student text: escaped where shown)
    stem: str  #: its report file's name without ``.json``: its page is ``pages/<stem>.html``
    status: str
    score: float
    max_score: float
    message: str
    seconds: float | None
    lost: list  #: the ids of the checks it lost points on, in report order
    digests: dict  #: check id -> got_digest of its failing checks that recorded one
    seed: int
    assignment_hash: str | None


@dataclass
class CheckStats:
    """One check across the graded submissions."""

    id: str
    max_score: float
    graded: int = 0
    passed: int = 0
    statuses: collections.Counter = field(default_factory=collections.Counter)
    diagnoses: collections.Counter = field(default_factory=collections.Counter)
    examples: dict = field(default_factory=dict)  #: diagnosis (or None) -> (entry, text) of the first failure

    @property
    def failed(self) -> int:
        return self.graded - self.passed

    @property
    def pass_rate(self):
        return self.passed / self.graded if self.graded else None

    @property
    def top_diagnosis(self):
        return self.diagnoses.most_common(1)[0] if self.diagnoses else None

    def representative(self):
        """(entry, text) of one failure: the first (by name) with the most common diagnosis, else the
        first failure."""
        top = self.top_diagnosis
        if top is not None and top[0] in self.examples:
            return self.examples[top[0]]
        return next(iter(self.examples.values()), None)


@dataclass
class ClassData:
    out_dir: Path
    entries: list  #: Entry, in the run's order (by name)
    checks: dict  #: check id -> CheckStats, in report order
    diagnoses: collections.Counter  #: diagnosis -> graded submissions that got it at least once
    summary: dict | None  #: the run's summary.json, None when there is none (a run that was killed)
    unreadable: list  #: (file name, why) of the report files that could not be read
    assignments: tuple  #: the reports' assignment names
    seeds: tuple
    versions: tuple  #: gradcheck versions

    @property
    def graded(self) -> list:
        return [e for e in self.entries if e.status == "graded"]

    def parts(self) -> dict:
        """{part: [(check id, pass rate)]}: the checks grouped by the first part of their id (gates,
        graph, mlp), in report order."""
        out = {}
        for cid, stats in self.checks.items():
            out.setdefault(cid.split(".", 1)[0], []).append((cid, stats.pass_rate))
        return out

    def score_stats(self) -> dict:
        scores = [e.score for e in self.graded]
        return {
            "count": len(self.entries),
            "graded": len(scores),
            "mean": statistics.fmean(scores) if scores else None,
            "median": statistics.median(scores) if scores else None,
        }


def _example_text(check) -> str:
    details = check.get("details") or {}
    if isinstance(details, dict) and details.get("counterexample"):
        return clip(" ".join(str(details["counterexample"]).split()), 300)
    return clip(" ".join(str(check.get("message", "")).split()), 300)


def _entry(report, stem) -> Entry:
    lost, digests = [], {}
    for c in report["checks"]:
        if c["score"] < c["max_score"]:
            lost.append(c["id"])
        worst = (c.get("details") or {}).get("worst")
        if c["status"] == "fail" and isinstance(worst, dict) and isinstance(worst.get("got_digest"), str):
            digests[c["id"]] = worst["got_digest"]
    seconds = (report.get("timing") or {}).get("seconds")
    return Entry(
        name=report["submission"],
        stem=stem,
        status=report["status"],
        score=float(report["score"]),
        max_score=float(report["max_score"]),
        message=str(report.get("message", "")),
        seconds=float(seconds) if isinstance(seconds, (int, float)) else None,
        lost=lost,
        digests=digests,
        seed=int(report["seed"]),
        assignment_hash=report.get("assignment_hash"),
    )


def collect(out_dir, on_report=None) -> ClassData:
    """Read the run in ``out_dir`` (``report.run_report_files``), one report at a time; ``on_report(report,
    stem)`` is called with each (the submission pages are written from it). Raises RunFolderError when
    ``out_dir`` is not a run's folder; a report that cannot be read is listed in ``unreadable``."""
    out_dir = Path(out_dir)
    files = run_report_files(out_dir)
    summary = read_summary(out_dir)
    entries, checks, unreadable = [], {}, []
    diagnoses = collections.Counter()
    assignments, seeds, versions = {}, {}, {}
    for file in files:
        try:
            report = read_report(file, validate=False)
        except ReportError as e:
            unreadable.append((file.name, str(e)))
            continue
        entry = _entry(report, file.name[: -len(".json")])
        entries.append(entry)
        assignments[report["assignment"]] = None
        seeds[report["seed"]] = None
        versions[report.get("gradcheck_version", "?")] = None
        if on_report is not None:
            on_report(report, entry.stem)
        graded = report["status"] == "graded"
        seen = set()
        for c in report["checks"]:
            stats = checks.get(c["id"])
            if stats is None:
                stats = checks[c["id"]] = CheckStats(c["id"], float(c["max_score"]))
            if not graded:
                continue
            stats.graded += 1
            stats.statuses[c["status"]] += 1
            if c["status"] == "pass":
                stats.passed += 1
                continue
            diagnosis = (c.get("details") or {}).get("diagnosis")
            diagnosis = diagnosis if isinstance(diagnosis, str) and diagnosis else None
            if diagnosis:
                stats.diagnoses[diagnosis] += 1
                seen.add(diagnosis)
            if diagnosis not in stats.examples:
                stats.examples[diagnosis] = (entry, _example_text(c))
        diagnoses.update(seen)
    return ClassData(
        out_dir=out_dir,
        entries=entries,
        checks=checks,
        diagnoses=diagnoses,
        summary=summary,
        unreadable=unreadable,
        assignments=tuple(assignments),
        seeds=tuple(seeds),
        versions=tuple(versions),
    )
