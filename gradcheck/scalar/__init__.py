"""Scalar autograd engines (micrograd's ``Value``) as the grader sees them: programs of operations
drawn on the trusted side, run in the worker through the student's own class and judged here.

Modules: ``program`` (``Program``: leaves and instructions as data, how a formula reads, the request
a worker runs, the reference's values and gradients, the domain rules), ``bugs`` (the classic bugs'
gradients, for the diagnosis), ``strategies`` (random programs from Hypothesis, favouring Values used
several times, and their shrinking). This package root only re-exports.
"""

from __future__ import annotations

from .bugs import BUG_MODELS, bug_gradients
from .program import Const, Program, in_domain, reference_run

__all__ = ["BUG_MODELS", "Const", "Program", "bug_gradients", "in_domain", "reference_run"]
