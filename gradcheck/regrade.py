"""What a regrade changed: two grading runs' reports compared submission by submission
(``gradcheck diff OLD_OUT NEW_OUT``).

For each submission: its score before and after, its status when that changed, and the checks whose
status changed, with the new message; a submission graded in only one of the runs is named as such.
``RunDiff.changed`` says whether anything a student's grade depends on changed (a score, or a
submission on one side only): the command's exit status 1, for a CI step before publishing a regrade.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ReportError, RunFolderError
from .report import points_text, read_report, run_report_files
from .report.clipping import clip
from .text import terminal

__all__ = ["CheckChange", "RunDiff", "SubmissionDiff", "diff_lines", "diff_runs", "read_run"]


@dataclass(frozen=True)
class CheckChange:
    id: str
    old: str | None  #: the status before (None: the check was not in the old report)
    new: str | None  #: the status after (None: not in the new report)
    message: str  #: the new report's message for the check (the old one's when it is gone)


@dataclass
class SubmissionDiff:
    submission: str
    old: dict | None  #: {"score", "max_score", "status"} before, None when graded only in the new run
    new: dict | None
    checks: list = field(default_factory=list)  #: CheckChange, in the new report's check order

    @property
    def score_changed(self) -> bool:
        if self.old is None or self.new is None:
            return True
        return (
            abs(self.old["score"] - self.new["score"]) > 1e-9
            or abs(self.old["max_score"] - self.new["max_score"]) > 1e-9
        )


@dataclass
class RunDiff:
    submissions: list  #: SubmissionDiff of every submission in either run, by name

    @property
    def both(self) -> list:
        return [d for d in self.submissions if d.old is not None and d.new is not None]

    @property
    def changed(self) -> bool:
        """A score changed, or a submission was graded in one run only."""
        return any(d.score_changed for d in self.submissions)


def _compact(report) -> dict:
    return {
        "score": float(report["score"]),
        "max_score": float(report["max_score"]),
        "status": report["status"],
        "checks": {c["id"]: (c["status"], c.get("message", "")) for c in report["checks"]},
    }


def read_run(out_dir) -> dict:
    """{submission: compact report} of the grading run in ``out_dir`` (its summary's reports, or every
    report file of a run that has none). Raises RunFolderError naming the folder or the report that
    cannot be read."""
    run = {}
    for file in run_report_files(out_dir):
        try:
            report = read_report(file, validate=False)
        except ReportError as e:
            raise RunFolderError(str(e)) from None
        run[report["submission"]] = _compact(report)
    return run


def diff_runs(old_dir, new_dir) -> RunDiff:
    """Compare the grading runs in two reports folders (``read_run`` of each)."""
    old, new = read_run(old_dir), read_run(new_dir)
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        d = SubmissionDiff(name, _head(a), _head(b))
        if a is not None and b is not None:
            ids = list(b["checks"]) + [i for i in a["checks"] if i not in b["checks"]]
            for cid in ids:
                before, after = a["checks"].get(cid), b["checks"].get(cid)
                if (before or (None,))[0] != (after or (None,))[0]:
                    d.checks.append(CheckChange(cid, before and before[0], after and after[0], (after or before)[1]))
        out.append(d)
    return RunDiff(out)


def _head(run_entry):
    return None if run_entry is None else {k: run_entry[k] for k in ("score", "max_score", "status")}


def _score(entry) -> str:
    return f"{points_text(entry['score'])} / {points_text(entry['max_score'])}"


def diff_lines(diff: RunDiff, old_name="OLD", new_name="NEW") -> list:
    """The diff for people, one line per changed submission and per changed check beneath it, then a
    summary line. Names and messages are shown on one line each, escaped for a terminal."""
    lines = []
    up = down = checks = 0
    for d in diff.submissions:
        name = terminal(d.submission, 200)
        if d.old is None or d.new is None:
            side, entry = (new_name, d.new) if d.old is None else (old_name, d.old)
            lines.append(f"{name}: only in {side} ({_score(entry)}, {entry['status']})")
            continue
        if not d.score_changed and not d.checks and d.old["status"] == d.new["status"]:
            continue
        delta = d.new["score"] - d.old["score"]
        up, down = up + (delta > 1e-9), down + (delta < -1e-9)
        change = f"{delta:+g}" if d.score_changed else "score unchanged"
        status = f", {d.old['status']} -> {d.new['status']}" if d.old["status"] != d.new["status"] else ""
        lines.append(f"{name}: {_score(d.old)} -> {_score(d.new)} ({change}{status})")
        for c in d.checks:
            checks += 1
            lines.append(f"    {c.id}: {c.old or 'absent'} -> {c.new or 'absent'}: {terminal(clip(c.message, 300))}")
    both = diff.both
    scored = sum(d.score_changed for d in both)
    only_old = sum(d.new is None for d in diff.submissions)
    only_new = sum(d.old is None for d in diff.submissions)
    summary = (
        f"{len(both)} submissions in both runs: {scored} score(s) changed ({up} up, {down} down), "
        f"{checks} check(s) changed status"
    )
    if only_old or only_new:
        summary += f"; {only_old} only in {old_name}, {only_new} only in {new_name}"
    lines.append(summary)
    return lines
