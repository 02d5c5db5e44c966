"""What ``gradcheck validate`` found: the reference's runs, each mutant's verdict, the mutation score.

``ValidationResult`` holds it (``to_dict()`` for JSON); ``render_table(result)`` is the text an
instructor reads: per mutant one line (id, the checks that caught it, the diagnosis they gave), then
the score per operator and in total. Nothing here grades: ``run.validate`` fills these from reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..text import terminal
from .mutants import OPERATORS

__all__ = ["MutantResult", "ReferenceRun", "ValidationResult", "render_table"]

_CHECKS_SHOWN = 2  #: check ids a table line names before "(+N more)"


@dataclass(frozen=True)
class ReferenceRun:
    """The reference graded on one seed."""

    seed: int
    status: str  #: the report's status: "graded" or "error"
    score: float
    max_score: float
    failed: tuple = ()  #: (check id, status, message) of every check that did not pass
    message: str = ""  #: the report's message (why it could not be graded)

    @property
    def ok(self) -> bool:
        return self.status == "graded" and not self.failed and self.score == self.max_score


@dataclass(frozen=True)
class MutantResult:
    """One mutant, graded like a student's submission."""

    id: str
    operator: str
    file: str
    function: str
    description: str
    status: str  #: the report's status: "graded" or "error" (could not be graded: it counts as caught)
    score: float
    max_score: float
    caught_by: tuple = ()  #: the ids of the checks that did not pass, in report order
    diagnoses: tuple = ()  #: the distinct diagnoses those checks gave (details.diagnosis)
    message: str = ""  #: the report's message when it could not be graded

    @property
    def caught(self) -> bool:
        return self.status != "graded" or bool(self.caught_by)


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of validating an assignment."""

    assignment: str  #: the assignment's name
    reference_dir: str
    seeds: tuple  #: the seeds the reference was graded on
    mutant_seed: int  #: the seed the mutants were graded on
    reference: tuple = ()  #: ReferenceRun per seed
    mutants: tuple = ()  #: MutantResult per mutant (empty when the reference failed)
    skipped: tuple = ()  #: (mutant id, why it was not graded): duplicates, equivalent sources
    seconds: float = 0.0

    @property
    def reference_ok(self) -> bool:
        return bool(self.reference) and all(r.ok for r in self.reference)

    @property
    def caught(self) -> int:
        return sum(m.caught for m in self.mutants)

    @property
    def total(self) -> int:
        return len(self.mutants)

    @property
    def score(self) -> float | None:
        """Caught / total (None without mutants)."""
        return self.caught / self.total if self.total else None

    @property
    def survived(self) -> tuple:
        return tuple(m for m in self.mutants if not m.caught)

    def per_operator(self) -> dict:
        """{operator: (caught, total)} for every operator that made a mutant, in OPERATORS order."""
        out = {}
        for op in OPERATORS:
            ms = [m for m in self.mutants if m.operator == op]
            if ms:
                out[op] = (sum(m.caught for m in ms), len(ms))
        return out

    def reference_problem(self) -> str:
        """One line: why the reference did not get full marks ("" when it did)."""
        for r in self.reference:
            if r.ok:
                continue
            if r.status != "graded":
                return f"seed {r.seed}: the reference could not be graded: {r.message}"
            shown = "; ".join(f"{cid} {status}: {msg}" for cid, status, msg in r.failed[:3])
            more = f" (+{len(r.failed) - 3} more)" if len(r.failed) > 3 else ""
            return f"seed {r.seed}: the reference scored {r.score:g}/{r.max_score:g}: {shown}{more}"
        return "" if self.reference else "the reference was not graded"

    def to_dict(self) -> dict:
        """Plain JSON-able data: every field, the verdicts and the scores."""
        return {
            "assignment": self.assignment,
            "reference_dir": self.reference_dir,
            "seeds": list(self.seeds),
            "mutant_seed": self.mutant_seed,
            "reference_ok": self.reference_ok,
            "reference_problem": self.reference_problem(),
            "reference": [dict(asdict(r), failed=[list(f) for f in r.failed]) for r in self.reference],
            "mutants": [
                dict(asdict(m), caught=m.caught, caught_by=list(m.caught_by), diagnoses=list(m.diagnoses))
                for m in self.mutants
            ],
            "skipped": [list(s) for s in self.skipped],
            "caught": self.caught,
            "total": self.total,
            "score": self.score,
            "per_operator": {op: {"caught": c, "total": t} for op, (c, t) in self.per_operator().items()},
            "seconds": round(self.seconds, 3),
        }


def _caught_cell(m: MutantResult) -> str:
    if not m.caught:
        return "SURVIVED"
    if m.status != "graded":
        return f"not gradable: {m.message}"
    shown = ", ".join(m.caught_by[:_CHECKS_SHOWN])
    more = len(m.caught_by) - _CHECKS_SHOWN
    return shown + (f" (+{more} more)" if more > 0 else "")


def _diagnosis_cell(m: MutantResult) -> str:
    if not m.diagnoses:
        return "-"
    more = len(m.diagnoses) - 1
    return m.diagnoses[0] + (f" (+{more} more)" if more else "")


def render_table(result: ValidationResult) -> str:
    """The result as text for a terminal (every line escaped: one line per item)."""
    lines = []
    seeds = ", ".join(str(s) for s in result.seeds)
    if not result.reference_ok:
        lines.append(f"The assignment is broken: its reference did not score full marks ({seeds} tried).")
        lines.append(terminal(result.reference_problem(), 2000))
        return "\n".join(lines) + "\n"
    full = result.reference[0].max_score
    lines.append(f"Reference {terminal(result.reference_dir)}: full marks ({full:g}) on seeds {seeds}.")
    lines.append(f"Mutants (graded on seed {result.mutant_seed}):")
    width = max([len("mutant")] + [len(terminal(m.id)) for m in result.mutants])
    cells = [_caught_cell(m) for m in result.mutants]
    cwidth = min(60, max([len("caught by")] + [len(c) for c in cells]))
    lines.append(f"  {'mutant':<{width}}  {'caught by':<{cwidth}}  diagnosis")
    for m, cell in zip(result.mutants, cells):
        why = m.description if not m.caught else _diagnosis_cell(m)
        lines.append(f"  {terminal(m.id):<{width}}  {terminal(cell, 200):<{cwidth}}  {terminal(why, 300)}")
    if result.skipped:
        lines.append(f"Not graded ({len(result.skipped)}): " + "; ".join(f"{i}: {why}" for i, why in result.skipped))
    lines.append("")
    lines.append(f"  {'operator':<10}  {'caught':>7}  score")
    for op, (c, t) in result.per_operator().items():
        lines.append(f"  {op:<10}  {f'{c}/{t}':>7}  {100 * c / t:5.1f} %")
    if result.total:
        lines.append(f"  {'total':<10}  {f'{result.caught}/{result.total}':>7}  {100 * result.score:5.1f} %")
    else:
        lines.append("  no mutant: the reference has no function the operators apply to")
    survived = result.survived
    if survived:
        lines.append(
            f"{len(survived)} mutant(s) survived: the assignment lets these bugs through (or they change nothing)."
        )
    lines.append(f"({result.total} mutants, {result.seconds:.1f} s)")
    return "\n".join(lines) + "\n"
