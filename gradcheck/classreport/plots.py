"""The class report's plots, drawn with matplotlib and written as SVG text to put inline in the page.

Each plot is a ``Plot(name, title, svg)``; the page shows every one. Text stays text in the SVG
(``svg.fonttype: none``: small, and drawn in the page's own fonts, nothing fetched), the output is
the same for the same data (no date, fixed ids), and the figures are drawn with matplotlib's object
API (no pyplot, no GUI backend, no global state). Nothing a student wrote is drawn: check ids,
diagnoses (the grader's own words), scores and times only.
"""

from __future__ import annotations

import io
import os
import re
import stat
import sys
import tempfile
import textwrap
from dataclasses import dataclass

from ..text import html_text

__all__ = ["Plot", "diagnosis_plot", "pass_rate_plots", "score_plot", "time_plot"]


@dataclass(frozen=True)
class Plot:
    name: str  #: an id for the page (``data-plot``) and the tests
    title: str  #: what it shows, in words (the figure's caption and the SVG's label)
    svg: str  #: the ``<svg>`` element


def _config_dir() -> str:
    """Where matplotlib keeps its font cache: the operator's MPLCONFIGDIR, else a folder of this user's
    in the system temp folder (kept between runs: the cache takes a second to build), never the home
    folder (grading writes nothing outside --out and the temp folder). A folder there that is not
    this user's own (or a link) is not used: then a fresh one."""
    where = os.path.join(tempfile.gettempdir(), f"gradcheck-matplotlib-{os.getuid()}")
    try:
        os.mkdir(where, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return tempfile.mkdtemp(prefix="gradcheck-matplotlib-")
    st = os.lstat(where)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        return tempfile.mkdtemp(prefix="gradcheck-matplotlib-")
    return where


def _matplotlib():
    if "MPLCONFIGDIR" not in os.environ and "matplotlib" not in sys.modules:
        os.environ["MPLCONFIGDIR"] = _config_dir()
    import matplotlib
    from matplotlib.figure import Figure

    return matplotlib, Figure


_STYLE = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_BLUE, _GREY, _RED = "#3a6ea5", "#888888", "#c0392b"
_HEADER = re.compile(r"\A.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)


def _svg(fig, name, title) -> Plot:
    """The figure as an inline ``<svg>`` element: no XML prolog, no metadata, labelled for people and
    tests. Ids made from ``name`` so that the page's plots never share one."""
    matplotlib, _ = _matplotlib()
    buf = io.StringIO()
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": name}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = _METADATA.sub("", _HEADER.sub("", buf.getvalue()))
    label = f'role="img" aria-label="{html_text(title)}" data-plot="{html_text(name)}"'
    text = text.replace("<svg ", f"<svg {label} ", 1)
    return Plot(name, title, text)


def _figure(width, height):
    matplotlib, Figure = _matplotlib()
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(width, height))
        ax = fig.add_subplot()
    return fig, ax


def _empty(ax, text):
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=_GREY)
    ax.set_xticks([])
    ax.set_yticks([])


def score_plot(scores, max_score, errors=0) -> Plot:
    """Histogram of the graded submissions' scores (0 to the assignment's maximum)."""
    matplotlib, _ = _matplotlib()
    with matplotlib.rc_context(_STYLE):
        fig, ax = _figure(6.0, 3.2)
        top = max_score if max_score and max_score > 0 else max(scores or [1.0])
        if scores:
            ax.hist(scores, bins=20, range=(0, top), color=_BLUE, edgecolor="white")
            ax.set_xlim(0, top)
            ax.set_ylabel("submissions")
        else:
            _empty(ax, "no graded submission")
        ax.set_xlabel(f"score (of {top:g})")
        note = f"; {errors} not graded" if errors else ""
        ax.set_title(f"Scores of {len(scores)} graded submissions{note}")
        return _svg(fig, "scores", "Score histogram")


def pass_rate_plots(parts) -> list:
    """One plot per part of the assignment (``parts``: {part: [(check id, pass rate or None)]}, in the
    assignment's order): a grid of units by aspect when every check of the part is ``part.unit.aspect``
    (the gates), else one bar per check."""
    matplotlib, _ = _matplotlib()
    out = []
    with matplotlib.rc_context(_STYLE):
        for part, checks in parts.items():
            names = [cid.split(".") for cid, _ in checks]
            if len(checks) > 4 and all(len(n) == 3 for n in names):
                out.append(_grid_plot(part, checks))
            else:
                out.append(_bar_plot(part, checks))
    return out


def _grid_plot(part, checks) -> Plot:
    import numpy as np

    units = list(dict.fromkeys(cid.split(".")[1] for cid, _ in checks))
    aspects = list(dict.fromkeys(cid.split(".")[2] for cid, _ in checks))
    rates = np.full((len(units), len(aspects)), np.nan)
    for cid, rate in checks:
        _, unit, aspect = cid.split(".")
        if rate is not None:
            rates[units.index(unit), aspects.index(aspect)] = rate
    fig, ax = _figure(1.6 + 1.05 * len(aspects), 0.9 + 0.3 * len(units))
    mesh = ax.pcolormesh(
        np.ma.masked_invalid(rates) * 100, cmap="RdYlGn", vmin=0, vmax=100, edgecolors="white", linewidth=1
    )
    for i in range(len(units)):
        for j in range(len(aspects)):
            r = rates[i, j]
            text = "-" if np.isnan(r) else f"{100 * r:.0f}%"
            dark = not np.isnan(r) and (r < 0.2 or r > 0.85)
            ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xticks(np.arange(len(aspects)) + 0.5, aspects)
    ax.set_yticks(np.arange(len(units)) + 0.5, units)
    ax.invert_yaxis()
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.xaxis.tick_top()
    fig.colorbar(mesh, ax=ax, label="pass rate (%)", shrink=0.8)
    ax.set_title(f"Pass rate per check: {part}", pad=22)
    return _svg(fig, f"pass-rate-{part}", f"Pass rate per check of {part}")


def _bar_plot(part, checks) -> Plot:
    labels = [cid.split(".", 1)[1] if "." in cid else cid for cid, _ in checks]
    rates = [0.0 if r is None else 100 * r for _, r in checks]
    fig, ax = _figure(6.0, 0.8 + 0.24 * len(checks))
    y = range(len(checks))
    colors = [_GREY if r is None else (_BLUE if r >= 0.8 else _RED) for _, r in checks]
    ax.barh(list(y), rates, color=colors, height=0.7)
    for i, (_, r) in enumerate(checks):
        ax.text((0 if r is None else 100 * r) + 1, i, "-" if r is None else f"{100 * r:.0f}%", va="center", fontsize=8)
    ax.set_yticks(list(y), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 110)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("pass rate (% of graded submissions)")
    ax.set_title(f"Pass rate per check: {part}")
    return _svg(fig, f"pass-rate-{part}", f"Pass rate per check of {part}")


def diagnosis_plot(counts, graded, most=12) -> Plot:
    """How many graded submissions got each diagnosis (on at least one check), the most frequent first."""
    matplotlib, _ = _matplotlib()
    with matplotlib.rc_context(_STYLE):
        top = counts.most_common(most)
        fig, ax = _figure(6.0, 1.0 + 0.5 * max(len(top), 2))
        if top and graded:
            labels = [textwrap.fill(d, 38) for d, _ in top]
            shares = [100 * n / graded for _, n in top]
            ax.barh(range(len(top)), shares, color=_BLUE, height=0.7)
            for i, (share, (_, n)) in enumerate(zip(shares, top)):
                ax.text(share + 1, i, f"{share:.0f}% ({n})", va="center", fontsize=8)
            ax.set_yticks(range(len(top)), labels, fontsize=8.5)
            ax.invert_yaxis()
            ax.set_xlim(0, max(shares) * 1.25 + 5)
            ax.set_xlabel("% of graded submissions")
            more = f" (the {most} most frequent of {len(counts)})" if len(counts) > most else ""
            ax.set_title(f"Diagnoses across the class{more}")
        else:
            _empty(ax, "no failing check was diagnosed")
            ax.set_title("Diagnoses across the class")
        return _svg(fig, "diagnoses", "Frequency of each diagnosis")


def time_plot(seconds) -> Plot:
    """Histogram of the grading time per submission, with its median."""
    matplotlib, _ = _matplotlib()
    with matplotlib.rc_context(_STYLE):
        fig, ax = _figure(6.0, 3.2)
        if seconds:
            import statistics

            ax.hist(seconds, bins=30, color=_BLUE, edgecolor="white")
            med = statistics.median(seconds)
            ax.axvline(med, color=_RED, linewidth=1.2)
            ax.text(med, 1.0, f" median {med:.2f} s", color=_RED, transform=ax.get_xaxis_transform(), va="top")
            ax.set_xlabel("seconds")
            ax.set_ylabel("submissions")
        else:
            _empty(ax, "no timing recorded")
        ax.set_title(f"Grading time per submission ({len(seconds)} with a time)")
        return _svg(fig, "times", "Time per submission")
