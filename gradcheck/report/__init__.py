"""Reports: build, validate, write atomically, show to a student, summarize a class.

A report is the plain dict of docs/design.md, validated against ``report.schema.json``. Only the
trusted grader writes reports, and only after validation; every write goes to a temporary file in
the same directory and is moved into place with ``os.replace`` (a reader never sees half a file).

What a student sees is ``student_view(report)``: the checks their assignment's visibility allows,
with the other checks reduced to placeholders that carry no status, score, message or details.
``render_feedback`` turns a report or a view into text.

Modules, one concept each (this package root only re-exports them): ``builder`` (the one report
builder: ``graded_report`` and its failed constructor ``error_report``), ``plain`` (plain JSON),
``validation``, ``names`` (display names, report file names), ``files`` (atomic and exclusive
writes), ``student`` (the student view), ``feedback`` (the text for people), ``clipping``,
``messages`` (the student-facing sentences), ``summary`` (summary.json and the gradebook), ``reading``
(a run's folder read back: its reports and summary).
"""

from __future__ import annotations

from ..errors import ReportError, RunFolderError
from .builder import CHECK_STATUSES, SCHEMA_VERSION, error_report, gradcheck_version, graded_report
from .clipping import clip, clip_block
from .feedback import check_detail_lines, import_error_lines, output_lines, points_text, render_feedback
from .files import atomic_write_text, exclusive_write_text, remove_temporaries, write_report
from .messages import ERROR_CHECK_MESSAGE, WITHHELD_MESSAGES
from .names import (
    CLASS_FILES,
    GRADEBOOK_CSV,
    INDEX_HTML,
    PAGES_DIR,
    SUMMARY_JSON,
    display_name,
    name_from_safe,
    report_path,
    safe_name,
)
from .plain import dumps_json, dumps_report, to_jsonable
from .reading import read_json, read_report, read_summary, run_report_files
from .student import is_shown, student_seconds, student_view
from .summary import class_summary, csv_safe, gradebook_csv, summary_row, write_summary
from .validation import report_schema, validate_report

__all__ = [
    "CHECK_STATUSES",
    "CLASS_FILES",
    "ERROR_CHECK_MESSAGE",
    "GRADEBOOK_CSV",
    "INDEX_HTML",
    "PAGES_DIR",
    "ReportError",
    "RunFolderError",
    "SCHEMA_VERSION",
    "SUMMARY_JSON",
    "WITHHELD_MESSAGES",
    "atomic_write_text",
    "check_detail_lines",
    "class_summary",
    "clip",
    "clip_block",
    "csv_safe",
    "display_name",
    "dumps_json",
    "dumps_report",
    "error_report",
    "exclusive_write_text",
    "gradcheck_version",
    "graded_report",
    "gradebook_csv",
    "import_error_lines",
    "is_shown",
    "name_from_safe",
    "output_lines",
    "points_text",
    "read_json",
    "read_report",
    "read_summary",
    "remove_temporaries",
    "render_feedback",
    "report_path",
    "report_schema",
    "run_report_files",
    "safe_name",
    "student_seconds",
    "student_view",
    "summary_row",
    "to_jsonable",
    "validate_report",
    "write_report",
    "write_summary",
]
