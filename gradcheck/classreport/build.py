"""Writing the class report of a run's folder: ``OUT/index.html`` and ``OUT/pages/<stem>.html``.

``write_class_report(out_dir)`` reads the run's reports one at a time (``collect``), writes each
submission's page as it goes, then the plots (``plots``), the identical-answer groups (``groups``) and
the class page (``page``). Every file is written atomically; pages of submissions no longer in the run
are removed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..report import INDEX_HTML, PAGES_DIR, atomic_write_text
from .collect import collect
from .groups import identical_answer_groups
from .page import index_page, submission_page
from .plots import diagnosis_plot, pass_rate_plots, score_plot, time_plot

__all__ = ["ClassReport", "class_plots", "write_class_report"]

_PAGE_NAME = re.compile(r"[A-Za-z0-9._=-]+\.html")  # a report stem (report.safe_name) + .html


@dataclass(frozen=True)
class ClassReport:
    """What ``write_class_report`` wrote."""

    path: Path  #: OUT/index.html
    submissions: int
    plots: tuple  #: the plots' names, in page order
    groups: int  #: groups of identical wrong answers
    unreadable: int  #: report files that could not be read
    complete: bool  #: False when the folder had no summary.json (a run that did not finish)


def class_plots(data) -> list:
    """The page's plots: scores, pass rate per check (one per part), diagnoses, time per submission."""
    graded = data.graded
    return [
        score_plot(
            [e.score for e in graded],
            max((e.max_score for e in data.entries), default=0.0),
            errors=len(data.entries) - len(graded),
        ),
        *pass_rate_plots(data.parts()),
        diagnosis_plot(data.diagnoses, len(graded)),
        time_plot([e.seconds for e in data.entries if e.seconds is not None]),
    ]


def write_class_report(out_dir) -> ClassReport:
    """Write OUT_DIR/index.html and a page per submission in OUT_DIR/pages/ from the run's reports.
    Raises RunFolderError when OUT_DIR is not a run's folder, OSError when a file cannot be written."""
    out_dir = Path(out_dir)
    pages = out_dir / PAGES_DIR
    written = set()

    def page(report, stem):
        if not written:
            pages.mkdir(exist_ok=True)
        name = f"{stem}.html"
        atomic_write_text(pages / name, submission_page(report))
        written.add(name)

    data = collect(out_dir, on_report=page)
    if pages.is_dir():
        with os.scandir(pages) as it:
            stale = [e.name for e in it if _PAGE_NAME.fullmatch(e.name) and e.name not in written and e.is_file()]
        for name in stale:
            os.unlink(pages / name)
    plots = class_plots(data)
    groups = identical_answer_groups(data.entries, order=list(data.checks))
    path = atomic_write_text(out_dir / INDEX_HTML, index_page(data, plots, groups))
    return ClassReport(
        path=path,
        submissions=len(data.entries),
        plots=tuple(p.name for p in plots),
        groups=len(groups),
        unreadable=len(data.unreadable),
        complete=data.summary is not None,
    )
