"""pytest plugin: ``pytest --gradcheck-submission=DIR`` runs the assignment's visible checks on one
submission, one test item per check id, with the verdicts the grader gives.

Installed with gradcheck (entry point ``pytest11``), or loaded with ``-p gradcheck.pytest_plugin``.

    pytest --gradcheck-submission=my_homework/                    # the packaged assignment
    pytest --gradcheck-submission=my_homework/ --gradcheck-assignment course.toml --gradcheck-seed 3
    pytest --gradcheck-submission=my_homework/ -k MultiplyGate    # select checks like any tests

Only checks the assignment shows to students now (visibility ``visible``) become items; hidden,
after-due-date and after-published checks are neither collected nor run. The real grader runs once
per session, for the collected checks only; each item then passes or fails with the check's feedback
(message, diagnosis, counterexample, worst error). Items are named ``gradcheck/<folder>::<check id>``;
the check's points are recorded as ``user_properties`` (score, max_score), so ``--junitxml`` keeps them.

Safety: student files never run in this process. The plugin grades in a separate, isolated
interpreter (``python -I`` started in an empty folder, :mod:`gradcheck.isolated`; student code runs
only in that grader's sandbox workers) and imports nothing of the grader here. It refuses to run (a
usage error, exit status 4, nothing graded) when pytest has loaded something of the submission:
pytest's rootdir or ini file inside the submission folder, a conftest.py or plugin module from it,
any module imported from it, a folder holding it on ``sys.path`` (``python -m pytest`` run from the
folder that holds the submission), or an assignment file inside it. A grading run collects no test
file at all (neither the submission's nor a classmate's): the checks are its only items. The safe
way to run it, in CI or in a GitHub Classroom repository (where the submission is the checked-out
repository)::

    cd "$(mktemp -d)" && python -I -m pytest -p gradcheck.pytest_plugin --gradcheck-submission="$SUBMISSION"

Without ``--gradcheck-submission`` the plugin only registers its options: normal test runs are not
changed (nothing is collected, nothing heavy is imported).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from .errors import GradcheckError

_STATE = pytest.StashKey()  # the session's _State, when --gradcheck-submission is given
_WANTED = pytest.StashKey()  # the check ids selected for this run

#: How to run the plugin so that pytest loads nothing of the submission (in messages and docs).
SAFE_INVOCATION = (
    'cd "$(mktemp -d)" && python -I -m pytest -p gradcheck.pytest_plugin --gradcheck-submission=/path/to/submission'
)
#: The usage error when pytest has loaded something of the submission.
REFUSAL = (
    "gradcheck: not grading {folder}: {why}. The submission's own files (conftest.py, pytest.ini, "
    "test files, plugins) would run in the grading pytest process and could change its results. "
    "Run pytest from a folder outside the submission, with no ini file or conftest.py of the "
    "submission, for example:\n    " + SAFE_INVOCATION
)


def pytest_addoption(parser):
    group = parser.getgroup("gradcheck", "gradcheck: run an assignment's visible checks on a submission")
    group.addoption(
        "--gradcheck-submission",
        metavar="DIR",
        default=None,
        help="grade this submission folder (gates.py, graph.py, mlp.py): one test per visible check",
    )
    group.addoption(
        "--gradcheck-assignment",
        metavar="FILE",
        default=None,
        help="the assignment: a folder holding assignment.toml, a TOML file, or a bundled assignment's name "
        "(default: the packaged backprop assignment)",
    )
    group.addoption(
        "--gradcheck-seed",
        metavar="N",
        type=int,
        default=None,
        help="seed of the checks' random inputs (default 0, as the grader's default; in a student "
        "build, the seed its expected values were recorded with)",
    )


class _Check:
    """What the plugin knows of a check (from the isolated grader's plan)."""

    def __init__(self, id, points, visibility):
        self.id, self.points, self.visibility = id, points, visibility


class _State:
    """What a session shares: the submission, the visible checks, and (once run) the report."""

    def __init__(self, submission: Path, assignment_file, seed: int, checks, withheld, timeout):
        self.submission, self.assignment_file, self.seed = submission, assignment_file, seed
        self.checks = checks  # the _Checks collected (the visible ones)
        self.withheld = withheld  # the _Checks not collected
        self.timeout = timeout
        self.report = None
        self.failure = None  # why the grader could not run, if it could not
        self.seconds = None

    def run(self, wanted_ids):
        """Grade once, for the checks selected in this session, in a separate isolated process."""
        if self.report is not None or self.failure is not None:
            return
        from .isolated import IsolatedError, run
        from .text import safe

        try:
            answer = run(
                {
                    "op": "grade",
                    "submission": str(self.submission),
                    "assignment": self.assignment_file,
                    "seed": self.seed,
                    "checks": sorted(wanted_ids),
                },
                timeout=self.timeout,
            )
        except IsolatedError as e:
            self.failure = safe(e)
            return
        if not answer.get("ok"):
            self.failure = safe(answer.get("failure") or answer.get("usage") or "the grader failed")
            return
        self.report, self.seconds = answer["report"], answer.get("seconds")
        if self.report.get("status") == "error":
            self.failure = "the grader could not grade this submission: " + safe(self.report.get("message", ""))
            if answer.get("trace"):
                self.failure += "\n" + safe(answer["trace"])


def _inside(path, folder: Path) -> bool:
    if path is None:
        return False
    try:
        p = Path(os.path.realpath(path))
    except (OSError, ValueError):
        return False
    return p == folder or folder in p.parents


def _loaded_from(config, folder: Path):
    """Why this pytest process has loaded something of ``folder`` (the real path), or None."""
    if _inside(config.rootpath, folder):
        return f"pytest's rootdir {str(config.rootpath)!r} is inside the submission"
    if _inside(config.inipath, folder):
        return f"pytest's ini file {str(config.inipath)!r} is in the submission"
    for plugin in config.pluginmanager.get_plugins():
        file = getattr(plugin, "__file__", None)
        if isinstance(file, str) and _inside(file, folder):
            kind = "conftest.py" if os.path.basename(file) == "conftest.py" else "plugin"
            return f"a {kind} from the submission was loaded ({file!r})"
    here = os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for entry in list(sys.path):
        real = os.path.realpath(entry or ".")
        if real != here and (Path(real) == folder or Path(real) in folder.parents):
            return (
                f"{real!r}, which holds the submission, is on sys.path (python -m pytest puts the working "
                "directory there, and pytest a conftest.py's folder): files next to the submission can be "
                "imported in place of real modules"
            )
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and _inside(file, folder):
            return f"module {name!r} was imported from the submission ({file!r})"
    return None


def _refuse(state_folder, why):
    from .text import terminal

    raise pytest.UsageError(REFUSAL.format(folder=terminal(str(state_folder)), why=terminal(why)))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Refuse before pytest imports any conftest.py when its rootdir or ini file is in the submission
    (the usual case: pytest started inside the submission folder)."""
    folder = getattr(early_config.known_args_namespace, "gradcheck_submission", None)
    if not folder or not os.path.isdir(folder):
        return
    real = Path(os.path.realpath(folder))
    if _inside(early_config.rootpath, real):
        _refuse(folder, f"pytest's rootdir {str(early_config.rootpath)!r} is inside the submission")
    if _inside(early_config.inipath, real):
        _refuse(folder, f"pytest's ini file {str(early_config.inipath)!r} is in the submission")


def pytest_configure(config):
    config.addinivalue_line("markers", "gradcheck: a check of the gradcheck grader (added by --gradcheck-submission)")
    folder = config.getoption("--gradcheck-submission", default=None)
    if not folder:
        return
    from .text import terminal

    path = Path(folder)
    if not path.is_dir():
        raise pytest.UsageError(f"--gradcheck-submission: {terminal(repr(folder))} is not a folder")
    real = Path(os.path.realpath(path))
    assignment_file = config.getoption("--gradcheck-assignment")
    why = _loaded_from(config, real)
    if why is None and assignment_file and _inside(assignment_file, real):
        why = "the assignment file is inside the submission"
    if why is not None:
        _refuse(path, why)
    seed = config.getoption("--gradcheck-seed")
    if seed is not None and seed < 0:
        raise pytest.UsageError("--gradcheck-seed: expected an integer >= 0")
    from .isolated import IsolatedError, run

    if assignment_file and os.path.exists(assignment_file):  # else the name of a bundled assignment
        assignment_file = os.path.abspath(assignment_file)
    try:
        plan = run({"op": "plan", "assignment": assignment_file}, timeout=120)
    except IsolatedError as e:
        raise pytest.UsageError(f"gradcheck: the grader could not start: {terminal(e)}") from None
    if not plan.get("ok"):
        raise pytest.UsageError(f"--gradcheck-assignment: {plan.get('usage')}")
    if seed is None:
        seed = int(plan.get("seed", 0))
    checks = [_Check(c["id"], c["points"], c["visibility"]) for c in plan["checks"] if c["shown"]]
    withheld = [_Check(c["id"], c["points"], c["visibility"]) for c in plan["checks"] if not c["shown"]]
    config.stash[_STATE] = _State(real, assignment_file, seed, checks, withheld, plan.get("timeout", 600))


@pytest.hookimpl(tryfirst=True)
def pytest_ignore_collect(collection_path, config):
    """A grading run collects no file: the submission's test files and conftest.py never load, nor
    those of any other folder (a classmate's, in a course folder); the checks are its only items."""
    if config.stash.get(_STATE, None) is not None:
        return True
    return None


class GradcheckFailure(GradcheckError):
    """A check that did not pass; its text is the grader's feedback."""


class GradcheckSubmission(pytest.Collector):
    """The checks of one submission."""

    def __init__(self, *, state, **kw):
        super().__init__(**kw)
        self.state = state

    def collect(self):
        for spec in self.state.checks:
            yield GradcheckItem.from_parent(self, name=spec.id, spec=spec)

    def reportinfo(self):
        return self.state.submission, None, self.name


class GradcheckItem(pytest.Item):
    """One check of the assignment on the submission."""

    def __init__(self, *, spec, **kw):
        super().__init__(**kw)
        self.spec = spec
        self.add_marker("gradcheck")
        self.user_properties.append(("max_score", float(spec.points)))

    def runtest(self):
        state = self.parent.state
        wanted = self.session.stash.get(_WANTED, None) or {c.id for c in state.checks}
        state.run(wanted)
        if state.failure is not None:
            self.user_properties.append(("score", 0.0))
            raise GradcheckFailure(state.failure)
        check = next((c for c in state.report["checks"] if c["id"] == self.spec.id), None)
        if check is None:
            self.user_properties.append(("score", 0.0))
            raise GradcheckFailure(f"{self.spec.id}: the grader did not report this check")
        self.user_properties.append(("score", float(check.get("score", 0.0))))
        if check.get("status") != "pass":
            raise GradcheckFailure(_feedback(check))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, GradcheckFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.parent.state.submission, None, f"gradcheck {self.spec.id}"


def _feedback(check) -> str:
    from .report import check_detail_lines, clip
    from .text import safe

    status = check.get("status", "?")
    lines = [clip(" ".join(str(check.get("message", "")).split()), 2000) or status]
    lines += check_detail_lines(check)
    lines.append(f"{check['id']}: {status} ({check.get('score', 0):g}/{check.get('max_score', 0):g} points)")
    return safe("\n".join(lines))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Add the checks' items (first, so -k, -m and deselection apply to them like to any test)."""
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    # conftest.py files met while collecting: none may come from the submission (never collected),
    # and a module imported from it by anything else stops the run as well
    why = _loaded_from(config, state.submission)
    if why is not None:
        _refuse(state.submission, why)
    from .text import terminal

    # no brackets: JUnit XML reports take them for parameters
    name = "gradcheck/" + terminal(state.submission.name, 100).replace("[", "(").replace("]", ")")
    node = GradcheckSubmission.from_parent(session, name=name, nodeid=name, state=state)
    items.extend(session.genitems(node))


def pytest_collection_finish(session):
    """Grade only the checks that survived selection (-k, -m, deselect)."""
    if session.config.stash.get(_STATE, None) is None:
        return
    session.stash[_WANTED] = {i.spec.id for i in session.items if isinstance(i, GradcheckItem)}


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    from .text import terminal

    tr = terminalreporter
    tr.section("gradcheck")
    name = terminal(state.submission.name, 200)
    if state.failure is not None:
        tr.write_line(f"{name}: not graded: {terminal((state.failure.splitlines() or [''])[0])}")
    elif state.report is not None:
        r = state.report
        passed = sum(c["status"] == "pass" for c in r["checks"])
        secs = f" in {state.seconds:.1f} s" if state.seconds is not None else ""
        tr.write_line(
            f"{name}: {passed} of {len(r['checks'])} checks run here passed, "
            f"{r['score']:g} / {r['max_score']:g} points (seed {state.seed}){secs}"
        )
    if state.withheld:
        pts = sum(float(c.points) for c in state.withheld)
        tr.write_line(
            f"not run here: {len(state.withheld)} check(s) worth {pts:g} point(s) that the assignment does "
            "not show to students yet (hidden or after the due date); the grader runs them"
        )
