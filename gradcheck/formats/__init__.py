"""Grading results in the formats of the platforms where grading happens.

- ``to_gradescope(report, assignment)``: Gradescope's ``results.json`` (per-test visibility from the
  assignment; the top-level output carries only what a student may see);
- ``to_prairielearn(report, assignment)``: PrairieLearn's external grader ``results.json`` (no
  per-test visibility there, so withheld checks are left out; at most 1 MB);
- ``to_junit(reports)``: JUnit XML for CI, one test case per check.

``validate_gradescope`` and ``validate_prairielearn`` check results against JSON Schemas written
from the platforms' documentation (``gradcheck/formats/schemas/``); ``format_schema(name)`` returns
them. ``write_json`` writes a results file atomically. ``class_files`` makes the files of a graded
class (``FORMATS``); ``container`` grades one submission inside a platform's container.
This package root only re-exports.
"""

from __future__ import annotations

from .class_files import FORMATS
from .common import FormatError, check_prefix, dumps, format_schema, write_json
from .gradescope import GRADESCOPE_VISIBILITIES, gradescope_failure_results, to_gradescope, validate_gradescope
from .junit import to_junit
from .prairielearn import PL_MAX_BYTES, prairielearn_failure_results, to_prairielearn, validate_prairielearn

__all__ = [
    "FORMATS",
    "FormatError",
    "GRADESCOPE_VISIBILITIES",
    "PL_MAX_BYTES",
    "check_prefix",
    "dumps",
    "format_schema",
    "gradescope_failure_results",
    "prairielearn_failure_results",
    "to_gradescope",
    "to_junit",
    "to_prairielearn",
    "validate_gradescope",
    "validate_prairielearn",
    "write_json",
]
