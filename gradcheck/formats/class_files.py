"""The platform files of a graded class, made from the reports the batch wrote (``grade --format``)."""

from __future__ import annotations

import json
from pathlib import Path

from ..report import atomic_write_text
from .common import write_json
from .gradescope import to_gradescope, validate_gradescope
from .junit import to_junit
from .prairielearn import to_prairielearn, validate_prairielearn

__all__ = ["FORMATS", "write_class_formats"]

#: The formats ``write_class_formats`` makes.
FORMATS = ("gradescope", "prairielearn", "junit")


def write_class_formats(rows, out_dir, assignment, formats):
    """The platform files of a graded class, made from the reports written in out_dir: one results
    file per report under OUT/gradescope/ and OUT/prairielearn/, OUT/junit.xml for all. Returns the
    lines that say where they are."""
    reports, names = [], []
    for row in sorted(rows, key=lambda r: r["submission"]):
        name = row.get("report")
        if not name:  # its report could not be written (its file name was taken): nothing to convert
            continue
        reports.append(json.loads((Path(out_dir) / name).read_text(encoding="utf-8")))
        names.append(name)
    lines = []
    for fmt in dict.fromkeys(formats):
        if fmt == "junit":
            path = Path(out_dir) / "junit.xml"
            atomic_write_text(path, to_junit(reports))
            lines.append(f"JUnit XML: {path}")
            continue
        folder = Path(out_dir) / fmt
        folder.mkdir(exist_ok=True)
        for report, name in zip(reports, names):
            if fmt == "gradescope":
                results = to_gradescope(report, assignment)
                validate_gradescope(results)
            else:
                results = to_prairielearn(report, assignment)
                validate_prairielearn(results)
            write_json(results, folder / name)  # the report's own (collision-free) file name
        lines.append(f"{'Gradescope' if fmt == 'gradescope' else 'PrairieLearn'} results: {folder}/")
    return lines
