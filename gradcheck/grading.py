"""Grade one submission: open its worker sessions, run every part's checks, build the report.

``Context`` (what the checks get) lives in ``checks.context``, where the checks can import it; it is
importable from here too."""

from __future__ import annotations

import contextlib
import os
import stat
import time
from pathlib import Path

from . import contract
from .checks import gates, graph, mlp, models
from .checks.common import CheckResult
from .checks.context import Context
from .errors import AssignmentError
from .replay import NotRecorded
from .report import display_name, graded_report
from .sandbox import Budget
from .standins import StandIns
from .units import DIFFERENTIABLE

__all__ = [
    "Context",
    "SubmissionRefused",
    "find_submission",
    "grade_submission",
    "inspect_submission",
    "run_checks",
    "staging_notes",
]

PARTS = (gates, graph, mlp, models)
LINK_NOTE = "{name} is a symbolic link; links are not graded"


class SubmissionRefused(Exception):
    """A submission the grader will not look into (its folder is a symbolic link): the message says
    why, and becomes the submission's error report."""


def _lstat_kind(path):
    """ "file", "dir", "link" or None (missing or something else), never following a link."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return "link" if stat.S_ISLNK(mode) else "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else None


def inspect_submission(path: Path, modules=contract.MODULES) -> tuple[Path, list[str]]:
    """(the folder holding the student's modules, notes for the report), never following a link.

    The folder is ``path`` itself, or its only real subfolder (not a link) that holds module files
    (students often hand in a zip of their folder). Links are named in the notes ("hw is a symbolic
    link; links are not graded"): a link to the reference, to a classmate's folder or to /etc is
    never read on the trusted side. Raises SubmissionRefused when ``path`` itself is a link.
    ``modules``: the assignment's module names."""
    path = Path(path)
    files = tuple(f"{m}.py" for m in modules)
    if _lstat_kind(path) == "link":
        raise SubmissionRefused(LINK_NOTE.format(name=display_name(path.name)))
    if any(_lstat_kind(path / m) == "file" for m in files):
        return path, []  # what is not copied (links among it) the sandbox's staging names
    inner, links = [], []
    try:
        with os.scandir(path) as entries:
            for e in entries:
                if e.name.startswith((".", "_")):
                    continue
                if e.is_symlink():
                    links.append(e.name)
                elif e.is_dir(follow_symlinks=False) and any(_lstat_kind(Path(e.path) / m) == "file" for m in files):
                    inner.append(e.name)
    except OSError:
        return path, []
    if len(inner) == 1:  # links beside the folder graded are not staged: name them here
        return path / inner[0], [LINK_NOTE.format(name=display_name(n)) for n in sorted(links)[:10]]
    return path, []


def find_submission(path: Path, modules=contract.MODULES) -> Path:
    """The folder holding the student's modules (see inspect_submission), never through a link."""
    return inspect_submission(path, modules)[0]


def staging_notes(staged) -> list[str]:
    """What the sandbox did not copy from the submission folder (Session.staged), for the message."""
    skipped = staged.get("skipped", []) if isinstance(staged, dict) else []
    if not skipped:
        return []
    counts = dict(staged.get("skipped_counts") or {})
    names = {}
    for item in skipped:
        names.setdefault(item["why"], []).append(item["name"])
        counts.setdefault(item["why"], 0)
    out = []
    for why, n in sorted(counts.items(), key=lambda kv: not kv[0].startswith("a symbolic link")):  # links first
        named = names.get(why, [])
        n = max(n, len(named))
        if why.startswith("a symbolic link"):
            out += [LINK_NOTE.format(name=x) for x in named[:10]]
            if n > min(10, len(named)):
                out.append(f"{n - min(10, len(named))} {'more ' if named else ''}symbolic links were not graded")
            continue
        shown = ", ".join(named[:5]) + (f" and {n - min(5, len(named))} more" if n > len(named[:5]) else "")
        out.append(f"not graded ({why}): {shown}" if named else f"not graded ({why}): {n} entries")
    return out


def run_checks(
    own, with_standins, assignment, seed, missing=(), wanted=None, results=None, all_standins=None
) -> dict[str, CheckResult]:
    """The results of the ``wanted`` check ids (default: all of the assignment's). A part whose
    judging raises (it should not: replies are validated) gets error results, never a crash.

    ``own`` runs the student's own modules, ``with_standins`` the same with stand-ins for the gates
    whose checks did not pass (see ``Context``). all_standins (optional): a session with stand-ins for
    every gate (or a callable that makes it, on first need). Graph and MLP run with the student's own
    gates where all of them passed their checks (``with_standins`` is then ``own``); if a graph or MLP
    check fails that way, the part is judged again with every gate a stand-in, and that verdict
    counts: gates that pass their checks can still compose less precisely (float32 arithmetic in a
    long chain), and a graph or network is graded with correct gates. (An assignment without gate
    units has no stand-ins: nothing is judged again.) Declared models (``checks.models``) run like the
    MLP, in ``with_standins``."""
    results = {} if results is None else results
    ctx = Context(own, with_standins, assignment, seed, missing, results)
    wanted = {c.id for c in assignment.checks} if wanted is None else set(wanted)
    # every gate, function pair and loss function, and every declared model, whatever its prefix; the
    # lecture's graph and MLP by theirs
    by_unit = {
        gates: {u.id for u in ctx.units if u.style in DIFFERENTIABLE},
        models: {u.id for u in ctx.units if u.is_model},
    }
    claimed = {i for i in wanted if any(i.rsplit(".", 1)[0] in prefixes for prefixes in by_unit.values())}
    has_gates = any(u.style == "gate" for u in ctx.units)
    for part in PARTS:
        prefix = part.__name__.rsplit(".", 1)[-1] + "."
        if part in by_unit:
            ids = {i for i in wanted if i.rsplit(".", 1)[0] in by_unit[part]}
        else:
            ids = {i for i in wanted if i.startswith(prefix)} - claimed
        if not ids:
            continue
        try:
            results.update(part.run(ctx, ids))
            # re-judged with correct gates: what imprecise (float32) gates can explain; a change made to the
            # caller's arrays is the graph's or network's own, whatever gates it runs
            failing = {
                i for i in ids if i in results and results[i].status != "pass" and not i.endswith(".no_mutation")
            }
            if part is not gates and has_gates and all_standins is not None and ctx.with_standins is own and failing:
                again = Context(
                    own,
                    all_standins() if callable(all_standins) else all_standins,
                    assignment,
                    seed,
                    missing,
                    dict(results),
                )
                again.shrink = False  # a failure stays the first run's (already shrunk) counterexample
                retried = part.run(again, failing)
                results.update({i: r for i, r in retried.items() if r.status == "pass"})
        except NotRecorded as exc:  # only in a student build (gradcheck pack --student): no expected values
            results.update({i: CheckResult(i, "error", str(exc)) for i in ids if i not in results})
        except AssignmentError:  # the instructor's file asks what cannot be done: no student is graded by it
            raise
        except Exception as exc:  # noqa: BLE001 - a grader fault is contained to this part's checks
            message = f"the grader failed while judging {prefix[:-1]} ({type(exc).__name__}: {exc}); please report it"
            results.update(
                {i: CheckResult(i, "error", message, {"grader_fault": True}) for i in ids if i not in results}
            )
    return results


def _gate_names(assignment) -> list:
    """The assignment's gate classes (a stand-in replaces one its student got wrong)."""
    units = getattr(assignment, "units", ()) or contract.UNITS
    return [u.name for u in units if u.style == "gate"]


def _grade_in_fresh_sessions(root, assignment, seed, sandbox, budget, missing, wanted, results, first):
    """Run the ``wanted`` checks in sessions of their own, adding to ``results``: the student's own
    modules, the same with stand-ins for their wrong gates, and (made only when a graph or MLP check
    failed with the student's own gates) with every gate a stand-in. Returns the sessions' outputs
    and, for the ``first`` sessions of a submission, what staging did not copy (notes) and the load
    status of the student's modules (else [] and None)."""
    with contextlib.ExitStack() as stack:
        own = stack.enter_context(sandbox.session(root, budget=budget))
        with_standins = stack.enter_context(
            sandbox.session(root, standins=StandIns(_gate_names(assignment), results), budget=budget)
        )
        made = []

        def all_standins():
            if not made:
                made.append(
                    stack.enter_context(
                        sandbox.session(
                            root, standins=StandIns(_gate_names(assignment), results, everyone=True), budget=budget
                        )
                    )
                )
            return made[0]

        notes = staging_notes(getattr(own, "staged", None)) if first else []
        run_checks(own, with_standins, assignment, seed, missing, wanted, results, all_standins=all_standins)
        modules = None
        if first:
            modules = {
                name: {k: v for k, v in status.items() if k in ("ok", "error")}
                for name, status in (own.modules or {}).items()
            }
        return [own.output, with_standins.output] + [s.output for s in made], notes, modules


def grade_submission(submission_dir, assignment, seed, sandbox) -> dict:
    """The report of one submission (see docs/design.md). Student faults become check statuses;
    only a fault of the grader itself raises.

    Sessions: the visible checks run first, in a session of the student's own modules and one with
    stand-ins (computed here) for the gates the student got wrong (the first itself when there are
    none); the checks not shown to students yet (hidden, after the due date, after publishing) run
    after them, in fresh sessions of their own, so nothing the student's code sees or does during a
    withheld check can reach a visible message. All sessions share one time budget."""
    submission_dir = Path(submission_dir)
    started = time.monotonic()
    modules = assignment.modules or contract.MODULES
    root, notes = inspect_submission(submission_dir, modules)
    missing = [m for m in modules if _lstat_kind(root / f"{m}.py") != "file"]
    budget = Budget(sandbox.limits.submission_seconds)
    withheld = {c.id for c in assignment.checks if c.visibility != "visible"}
    visible = {c.id for c in assignment.checks} - withheld
    results, sessions, modules, visible_seconds = {}, [], {}, 0.0
    for wanted in (visible, withheld):
        if not wanted:
            continue
        outputs, staged, loaded = _grade_in_fresh_sessions(
            root, assignment, seed, sandbox, budget, missing, wanted, results, first=not sessions
        )
        if not sessions:
            notes += staged
            modules = loaded
        sessions += outputs
        if wanted is visible:
            visible_seconds = time.monotonic() - started
    output = _output(*sessions, keep=sandbox.limits.output_kb * 1024)
    return graded_report(
        display_name(submission_dir.name),
        assignment,
        seed,
        results,
        notes=_where(submission_dir, root, missing, notes),
        modules=modules,
        isolation=dict(sandbox.isolation),
        output=output,
        seconds=time.monotonic() - started,
        visible_seconds=visible_seconds,
    )


def _where(submission_dir, root, missing, more=()) -> list:
    """The report message's notes on where the files were and what is missing, then ``more``."""
    notes = []
    if root != submission_dir:
        notes.append(
            f"graded the files in {display_name(str(root.relative_to(submission_dir)))}/, the only folder holding them"
        )
    if missing:
        notes.append("missing: " + ", ".join(f"{m}.py" for m in missing))
    notes.extend(more)
    return notes


def _output(*outputs, keep):
    """The captured stdout/stderr of all sessions (sandbox.Output), for people to read: the first
    ``keep`` bytes of them all together."""
    texts, total, truncated = [], 0, False
    for out in outputs:
        if out is None:
            continue
        if out.text:
            texts.append(out.text)
        total += int(out.total_bytes)
        truncated = truncated or bool(out.truncated)
    text = "".join(texts)
    if len(text.encode("utf-8", "surrogateescape")) > keep:
        text = text.encode("utf-8", "surrogateescape")[:keep].decode("utf-8", "ignore")
        truncated = True
    return {"text": text, "bytes": total, "truncated": truncated}
