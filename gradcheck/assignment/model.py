"""The assignment as the grader uses it: ``Assignment`` and its ``CheckSpec``s (made by loading.py).

No check id is written out here: a student build keeps this module as it is (see gradcheck.pack),
and must not name its withheld checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Assignment", "CheckSpec", "VISIBILITIES"]

#: Who sees a check's result, and when (the report's and the student view's ``visibility``).
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


@dataclass(frozen=True)
class CheckSpec:
    """One check of the assignment."""

    id: str  #: stable id, ``gates.<Gate>.<aspect>``, ``graph.<case>`` or ``mlp.<case>``
    points: float  #: the check's max_score in reports
    visibility: str = "visible"  #: one of VISIBILITIES: who sees the result, and when
    description: str = ""  #: one line for humans


@dataclass(frozen=True)
class Assignment:
    """A validated assignment."""

    name: str  #: machine name, recorded in reports as ``assignment``
    title: str
    path: Path  #: the file it was loaded from (absolute)
    checks: tuple  #: CheckSpec, in report order (the order of KNOWN_CHECKS)
    limits: dict = field(default_factory=dict)  #: keyword arguments of gradcheck.sandbox.Limits
    tolerances: dict = field(default_factory=dict)  #: rtol, atol, float32_rtol, float32_atol
    settings: dict = field(default_factory=dict)  #: example counts: random_graphs, train_steps
    modules: tuple = ()  #: the modules a submission holds, in import order ("gates", "graph", "mlp")
    reference_dir: Path | None = None  #: the model solution's folder, gradable as a submission
    reference_package: str | None = None  #: the installed package that holds it (bundled assignments)
    units: tuple = ()  #: what students implement (gradcheck.assignment.units.Unit), in report order

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.checks))

    @property
    def check_ids(self) -> tuple:
        return tuple(c.id for c in self.checks)

    def check(self, check_id: str) -> CheckSpec | None:
        """The CheckSpec with this id, or None when the assignment leaves that check out."""
        for c in self.checks:
            if c.id == check_id:
                return c
        return None

    def __contains__(self, check_id) -> bool:
        return self.check(check_id) is not None
