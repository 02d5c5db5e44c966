"""What a part's checks get from the grader (``Context``): the worker sessions they run the student's
code in, the assignment's tolerances and settings, seeded randomness, and the results judged so far.

Here, not in ``gradcheck.grading`` (which imports every part), so that the checks can name its type.
"""

from __future__ import annotations

import numpy as np

from .. import contract
from ..assignment.reference import reference_module
from .common import CheckResult, seeded_rng


class Context:
    """What a part's checks get: two worker sessions, tolerances, settings, seeded randomness, and the
    results of the parts judged before (the graph's blame reads the gates' results).

    ``own`` runs the student's own modules; ``with_standins`` the same modules with stand-ins for their
    wrong gates (``gradcheck.standins``), for the checks that must not depend on the student's gates.
    Both start their worker lazily."""

    def __init__(self, own, with_standins, assignment, seed, missing=(), results=None):
        self.own = own
        self._with_standins, self._chosen = with_standins, None
        self.missing = set(missing)  # contract modules with no file in the submission
        self.seed = int(seed)
        self.tolerances = dict(assignment.tolerances)
        self.settings = dict(assignment.settings)
        self.results: dict[str, CheckResult] = results if results is not None else {}
        self.shrink = True  # random graphs: shrink a failure to a minimal graph
        self._modules = {}
        # what the assignment's students implement (an assignment object without units: the default's)
        self.units = tuple(getattr(assignment, "units", ()) or contract.UNITS)
        self._assignment = assignment

    @property
    def assignment_file(self):
        """The assignment's file (what an AssignmentError names)."""
        return getattr(self._assignment, "path", "the assignment")

    def reference(self, module: str):
        """The assignment's reference module of this name (ground truth, imported in this process)."""
        return reference_module(self._assignment, module)

    @property
    def with_standins(self):
        """The session with stand-ins, or ``own`` itself when no gate needs a stand-in (every gate check
        passed): then the two would run the same code, and one worker fewer is started. Decided at
        first use (after the gates were judged)."""
        if self._chosen is None:
            standins = getattr(self._with_standins, "standins", None)
            self._chosen = self.own if standins is not None and not standins.names() else self._with_standins
        return self._chosen

    @property
    def own_modules(self) -> dict:
        """The load status of the student's modules in ``own`` (name -> {"ok", "names" | "error"})."""
        return self._load("own", self.own)

    @property
    def standin_modules(self) -> dict:
        """The load status of the student's modules in ``with_standins``."""
        return self._load("with_standins", self.with_standins)

    def _load(self, key, session):
        if key not in self._modules:
            modules = dict(session.modules or {})
            for name in self.missing:  # say so plainly rather than "No module named 'gates'"
                if not modules.get(name, {}).get("ok"):
                    modules[name] = {"ok": False, "error": f"{name}.py is not in the submission folder"}
            self._modules[key] = modules
        return self._modules[key]

    def rng(self, label: str) -> np.random.Generator:
        """A generator that depends only on the seed and the label (``seeded_rng``)."""
        return seeded_rng(self.seed, label)
