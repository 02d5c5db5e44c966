"""The instructor's view of a graded class: ``OUT/index.html``, written by every ``gradcheck grade``
run and again by ``gradcheck report OUT``.

One self-contained page (no script, no request: Note [Class report HTML] in ``page``) with plots
(score histogram, pass rate per check by part, diagnoses across the class, time per submission), the
checks by failure rate with their most common diagnosis and a representative counterexample, groups
of submissions with identical wrong answers (a lead, never a verdict: Note [Identical wrong answers]
in ``groups``), and the submissions, each linking to its own page (the instructor's view of its
feedback).

Modules: ``collect`` (the run's reports read into small entries and counts), ``plots`` (matplotlib,
inline SVG), ``groups`` (identical wrong answers), ``page`` (the HTML), ``build``
(``write_class_report``). This package root only re-exports.
"""

from __future__ import annotations

from .build import ClassReport, class_plots, write_class_report
from .collect import ClassData, collect
from .groups import identical_answer_groups

__all__ = ["ClassData", "ClassReport", "class_plots", "collect", "identical_answer_groups", "write_class_report"]
