"""Prove an assignment: ``gradcheck validate`` grades the reference on several seeds, then grades
automatic mutants of it and reports which checks catch each one (the assignment's mutation score).

Modules: ``mutants`` (the mutation operators, by AST: ``mutants_of_source``, ``mutants_of_folder``,
``OPERATORS``), ``run`` (``validate``: the reference and the mutants graded through the batch;
``unit_names``: the code an assignment's units declare, the only code mutated), ``result``
(``ValidationResult``, ``render_table``). This package root only re-exports.
"""

from __future__ import annotations

from ..errors import ReferenceFailed, ValidationError
from .mutants import OPERATORS, Generated, Mutant, mutants_of_folder, mutants_of_source
from .result import MutantResult, ReferenceRun, ValidationResult, render_table
from .run import DEFAULT_SEEDS, unit_names, validate

__all__ = [
    "DEFAULT_SEEDS",
    "OPERATORS",
    "Generated",
    "Mutant",
    "MutantResult",
    "ReferenceFailed",
    "ReferenceRun",
    "ValidationError",
    "ValidationResult",
    "mutants_of_folder",
    "mutants_of_source",
    "render_table",
    "unit_names",
    "validate",
]
