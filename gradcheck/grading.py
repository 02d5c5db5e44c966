"""Grade one submission: open its worker sessions, run every part's checks, build the report."""
from __future__ import annotations

import contextlib
import os
import stat
import time
from pathlib import Path

import numpy as np

from .checks import gates, graph, mlp
from .checks.common import Result, seeded_rng
from .replay import NotRecorded
from .report import display_name, graded_report
from .sandbox import Budget
from .standins import StandIns

PARTS = (gates, graph, mlp)


class Context:
    """What a part's checks get: two worker sessions, tolerances, settings, seeded randomness, and the
    results of the parts judged before (the graph's blame reads the gates' results).

    session_a runs the student's own modules; session_b the same with stand-ins for their wrong gates, for the
    checks that must not depend on the student's gates. Both start their worker lazily."""

    def __init__(self, session_a, session_b, assignment, seed, missing=(), results=None):
        self.session_a, self._session_b, self._b = session_a, session_b, None
        self.missing = set(missing)  # contract modules with no file in the submission
        self.seed = int(seed)
        self.tolerances = dict(assignment.tolerances)
        self.settings = dict(assignment.settings)
        self.results = results if results is not None else {}
        self.shrink = True   # random graphs: shrink a failure to a minimal graph
        self._modules = {}

    @property
    def session_b(self):
        """Session B, or session A itself when no gate needs a stand-in (every gate check passed): then
        the two would run the same code, and one worker fewer is started. Decided at first use (after
        the gates were judged)."""
        if self._b is None:
            standins = getattr(self._session_b, "standins", None)
            self._b = self.session_a if standins is not None and not standins.names() else self._session_b
        return self._b

    @property
    def modules_a(self):
        return self._load("a", self.session_a)

    @property
    def modules_b(self):
        return self._load("b", self.session_b)

    def _load(self, key, session):
        if key not in self._modules:
            modules = dict(session.modules or {})
            for name in self.missing:  # say so plainly rather than "No module named 'gates'"
                if not modules.get(name, {}).get("ok"):
                    modules[name] = {"ok": False, "error": f"{name}.py is not in the submission folder"}
            self._modules[key] = modules
        return self._modules[key]

    def rng(self, label: str) -> np.random.Generator:
        """A generator that depends only on the seed and the label (``seeded_rng``)."""
        return seeded_rng(self.seed, label)


MODULE_FILES = ("gates.py", "graph.py", "mlp.py")
LINK_NOTE = "{name} is a symbolic link; links are not graded"


class SubmissionRefused(Exception):
    """A submission the grader will not look into (its folder is a symbolic link): the message says
    why, and becomes the submission's error report."""


def _lstat_kind(path):
    """"file", "dir", "link" or None (missing or something else), never following a link."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    return "link" if stat.S_ISLNK(mode) else "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else None


def inspect_submission(path: Path) -> tuple[Path, list[str]]:
    """(the folder holding the student's modules, notes for the report), never following a link.

    The folder is ``path`` itself, or its only real subfolder (not a link) that holds module files
    (students often hand in a zip of their folder). Links are named in the notes ("hw is a symbolic
    link; links are not graded"): a link to the reference, to a classmate's folder or to /etc is
    never read on the trusted side. Raises SubmissionRefused when ``path`` itself is a link."""
    path = Path(path)
    if _lstat_kind(path) == "link":
        raise SubmissionRefused(LINK_NOTE.format(name=display_name(path.name)))
    if any(_lstat_kind(path / m) == "file" for m in MODULE_FILES):
        return path, []  # what is not copied (links among it) the sandbox's staging names
    inner, links = [], []
    try:
        with os.scandir(path) as entries:
            for e in entries:
                if e.name.startswith((".", "_")):
                    continue
                if e.is_symlink():
                    links.append(e.name)
                elif e.is_dir(follow_symlinks=False) and any(_lstat_kind(Path(e.path) / m) == "file"
                                                             for m in MODULE_FILES):
                    inner.append(e.name)
    except OSError:
        return path, []
    if len(inner) == 1:  # links beside the folder graded are not staged: name them here
        return path / inner[0], [LINK_NOTE.format(name=display_name(n)) for n in sorted(links)[:10]]
    return path, []


def find_submission(path: Path) -> Path:
    """The folder holding the student's modules (see inspect_submission), never through a link."""
    return inspect_submission(path)[0]


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


def run_checks(session_a, session_b, assignment, seed, missing=(), wanted=None, results=None,
               session_c=None) -> dict[str, Result]:
    """The results of the ``wanted`` check ids (default: all of the assignment's). A part whose
    judging raises (it should not: replies are validated) gets error results, never a crash.

    session_c (optional): a session with stand-ins for every gate (or a callable that makes it, on first
    need). Graph and MLP run with the
    student's own gates where all of them passed their checks (session B is then A); if a graph or
    MLP check fails that way, the part is judged again with every gate a stand-in, and that verdict
    counts: gates that pass their checks can still compose less precisely (float32 arithmetic in a
    long chain), and a graph or network is graded with correct gates."""
    results = {} if results is None else results
    ctx = Context(session_a, session_b, assignment, seed, missing, results)
    wanted = {c.id for c in assignment.checks} if wanted is None else set(wanted)
    for part in PARTS:
        prefix = part.__name__.rsplit(".", 1)[-1] + "."
        ids = {i for i in wanted if i.startswith(prefix)}
        if not ids:
            continue
        try:
            results.update(part.run(ctx, ids))
            # re-judged with correct gates: what imprecise (float32) gates can explain; a change made to the
            # caller's arrays is the graph's or network's own, whatever gates it runs
            failing = {i for i in ids if i in results and results[i].status != "pass" and not i.endswith(".no_mutation")}
            if part is not gates and session_c is not None and ctx.session_b is session_a and failing:
                again = Context(session_a, session_c() if callable(session_c) else session_c, assignment, seed,
                                missing, dict(results))
                again.shrink = False   # a failure stays the first run's (already shrunk) counterexample
                retried = part.run(again, failing)
                results.update({i: r for i, r in retried.items() if r.status == "pass"})
        except NotRecorded as exc:  # only in a student build (gradcheck pack --student): no expected values
            results.update({i: Result(i, "error", str(exc)) for i in ids if i not in results})
        except Exception as exc:  # noqa: BLE001 - a grader fault is contained to this part's checks
            message = f"the grader failed while judging {prefix[:-1]} ({type(exc).__name__}: {exc}); please report it"
            results.update({i: Result(i, "error", message, {"grader_fault": True}) for i in ids if i not in results})
    return results


def grade_submission(submission_dir, assignment, seed, sandbox) -> dict:
    """The report of one submission (see docs/design.md). Student faults become check statuses;
    only a fault of the grader itself raises.

    Sessions: the visible checks run first, in session A (the student's modules) and session B (stand-ins,
    computed here, for the gates the student got wrong; A itself when there are none); the checks not shown to students yet (hidden, after the due date, after
    publishing) run after them, in fresh sessions of their own, so nothing the student's code sees or
    does during a withheld check can reach a visible message. All sessions share one time budget."""
    submission_dir = Path(submission_dir)
    started = time.monotonic()
    root, notes = inspect_submission(submission_dir)
    missing = [m[:-3] for m in MODULE_FILES if _lstat_kind(root / m) != "file"]
    budget = Budget(sandbox.limits.submission_seconds)
    withheld = {c.id for c in assignment.checks if c.visibility != "visible"}
    visible = {c.id for c in assignment.checks} - withheld
    results, sessions, modules, visible_seconds = {}, [], {}, 0.0
    for wanted in (visible, withheld):
        if not wanted:
            continue
        standins = StandIns(gates.GATES, results)
        with contextlib.ExitStack() as stack:
            a = stack.enter_context(sandbox.session(root, budget=budget))
            b = stack.enter_context(sandbox.session(root, standins=standins, budget=budget))
            made = []

            def all_standins():   # made only when a graph or MLP check failed with the student's own gates
                if not made:
                    made.append(stack.enter_context(sandbox.session(
                        root, standins=StandIns(gates.GATES, results, everyone=True), budget=budget)))
                return made[0]

            if not sessions:
                notes += staging_notes(getattr(a, "staged", None))
            run_checks(a, b, assignment, seed, missing, wanted, results, session_c=all_standins)
            if not sessions:
                modules = {name: {k: v for k, v in status.items() if k in ("ok", "error")}
                           for name, status in (a.modules or {}).items()}
            sessions += [a.output, b.output] + [s.output for s in made]
        if wanted is visible:
            visible_seconds = time.monotonic() - started
    output = _output(*sessions, keep=sandbox.limits.output_kb * 1024)
    return graded_report(display_name(submission_dir.name), assignment, seed, results,
                         notes=_where(submission_dir, root, missing, notes), modules=modules,
                         isolation=dict(sandbox.isolation), output=output, seconds=time.monotonic() - started,
                         visible_seconds=visible_seconds)


def _where(submission_dir, root, missing, more=()) -> list:
    """The report message's notes on where the files were and what is missing, then ``more``."""
    notes = []
    if root != submission_dir:
        notes.append(f"graded the files in {display_name(str(root.relative_to(submission_dir)))}/, "
                     "the only folder holding them")
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
