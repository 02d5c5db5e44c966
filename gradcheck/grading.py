"""Grade one submission: open its worker sessions, run every part's checks, build the report.

``Context`` (what the checks get) lives in ``checks.context``, where the checks can import it; it is
importable from here too. Where a submission's files are, and their digest, is ``gradcheck.submission``'s
(``inspect_submission``, ``find_submission`` and ``SubmissionRefused`` are importable from here too)."""

from __future__ import annotations

import contextlib
import functools
import time
from pathlib import Path

from . import contract
from .assignment.reference import reference_module
from .checks import gates, graph, mlp, models, scalar, scalar_nn
from .checks.common import CheckResult
from .checks.context import Context
from .errors import AssignmentError
from .replay import NotRecorded
from .report import display_name, graded_report
from .sandbox import Budget
from .standins import StandIns
from .submission import (
    LINK_NOTE,
    SubmissionRefused,
    entry_kind,
    find_submission,
    inspect_submission,
    submission_digest,
    submission_modules,
)
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

PARTS = (gates, graph, mlp, models, scalar, scalar_nn)


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
    whose checks did not pass (see ``Context``; function pairs and loss functions have stand-ins too).
    all_standins (optional): a session with stand-ins for every such unit (or a callable that makes it,
    on first need). Graph and MLP run with the student's own gates where all of them passed their checks
    (``with_standins`` is then ``own``); if a graph or MLP check fails that way (its values differ, or it
    timed out; an error stays an error), the part is judged again with every gate a stand-in, and that
    verdict counts: gates that pass their checks can still compose less precisely (float32 arithmetic in
    a long chain), and a graph or network is graded with correct gates. (An assignment without such
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
        scalar: {u.id for u in ctx.units if u.style == "scalar_engine"},
        scalar_nn: {u.id for u in ctx.units if u.style == "scalar_nn"},
    }
    claimed = {i for i in wanted if any(i.rsplit(".", 1)[0] in prefixes for prefixes in by_unit.values())}
    has_standins = any(u.style in DIFFERENTIABLE for u in ctx.units)
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
            # re-judged with correct gates: what imprecise (float32) gates can explain, values that differ
            # (or a run too slow); not an error (the part raised or could not be checked with the student's
            # own units: that is no imprecision, tests/hostile/rt21_affine_3d_only), and not a change made
            # to the caller's arrays (the graph's or network's own, whatever gates it runs)
            failing = {
                i
                for i in ids
                if i in results and results[i].status in ("fail", "timeout") and not i.endswith(".no_mutation")
            }
            if part is not gates and has_standins and all_standins is not None and ctx.with_standins is own and failing:
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


def _standins(assignment, results, wanted, everyone=False) -> StandIns:
    """Stand-ins for the assignment's gates, function pairs and loss functions (one replaces a unit its
    student got wrong, or every one with ``everyone``), computed by the assignment's reference; while the
    ``wanted`` checks are visible ones, none for a unit with a withheld check (Note [Stand-ins and
    withheld checks] in gradcheck.standins)."""
    units = getattr(assignment, "units", ()) or contract.UNITS
    visibility = {c.id: c.visibility for c in getattr(assignment, "checks", ())}
    shown = all(visibility.get(i, "visible") == "visible" for i in wanted)
    withheld = {i.rsplit(".", 1)[0] for i, v in visibility.items() if v != "visible"} if shown else set()
    reference = functools.partial(reference_module, assignment)
    return StandIns(units, results, reference, everyone=everyone, withheld=withheld)


def _grade_in_fresh_sessions(root, assignment, seed, sandbox, budget, missing, wanted, results, first):
    """Run the ``wanted`` checks in sessions of their own, adding to ``results``: the student's own
    modules, the same with stand-ins for their wrong gates, and (made only when a graph or MLP check
    failed with the student's own gates) with every gate a stand-in. Returns the sessions' outputs
    and, for the ``first`` sessions of a submission, what staging did not copy (notes) and the load
    status of the student's modules (else [] and None)."""
    with contextlib.ExitStack() as stack:
        own = stack.enter_context(sandbox.session(root, budget=budget))
        with_standins = stack.enter_context(
            sandbox.session(root, standins=_standins(assignment, results, wanted), budget=budget)
        )
        made = []

        def all_standins():
            if not made:
                made.append(
                    stack.enter_context(
                        sandbox.session(
                            root, standins=_standins(assignment, results, wanted, everyone=True), budget=budget
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
    modules = submission_modules(assignment)
    digest = submission_digest(submission_dir, modules)  # before anything is read: an edit makes it stale, not wrong
    root, notes = inspect_submission(submission_dir, modules)
    missing = [m for m in modules if entry_kind(root / f"{m}.py") != "file"]
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
        submission_hash=digest,
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
