"""pytest plugin: ``pytest --gradcheck-submission=DIR`` runs the assignment's visible checks on one
submission, one test item per check id, with the verdicts the grader gives.

Installed with gradcheck (entry point ``pytest11``), or loaded with ``-p gradcheck.pytest_plugin``.

    pytest --gradcheck-submission=my_homework/                    # the packaged assignment
    pytest --gradcheck-submission=my_homework/ --gradcheck-assignment course.toml --gradcheck-seed 3
    pytest --gradcheck-submission=my_homework/ -k MultiplyGate    # select checks like any tests

Only checks the assignment shows to students now (visibility ``visible``) become items; hidden,
after-due-date and after-published checks are neither collected nor run. The real grader runs once
per session, in its sandbox (student code runs in isolated worker processes, never in the pytest
process), for the collected checks only; each item then passes or fails with the check's feedback
(message, diagnosis, counterexample, worst error). Items are named ``gradcheck/<folder>::<check id>``;
the check's points are recorded as ``user_properties`` (score, max_score), so ``--junitxml`` keeps them.

Without ``--gradcheck-submission`` the plugin only registers its options: normal test runs are not
changed (nothing is collected, nothing heavy is imported).
"""
from __future__ import annotations

from pathlib import Path

import pytest

_STATE = pytest.StashKey()   # the session's _State, when --gradcheck-submission is given
_WANTED = pytest.StashKey()  # the check ids selected for this run


def pytest_addoption(parser):
    group = parser.getgroup("gradcheck", "gradcheck: run an assignment's visible checks on a submission")
    group.addoption("--gradcheck-submission", metavar="DIR", default=None,
                    help="grade this submission folder (gates.py, graph.py, mlp.py): one test per visible check")
    group.addoption("--gradcheck-assignment", metavar="FILE", default=None,
                    help="assignment TOML file (default: the packaged backprop assignment)")
    group.addoption("--gradcheck-seed", metavar="N", type=int, default=0,
                    help="seed of the checks' random inputs (default 0, as the grader's default)")


class _State:
    """What a session shares: the submission, the visible assignment, and (once run) the report."""

    def __init__(self, submission: Path, assignment, seed: int, withheld):
        self.submission, self.assignment, self.seed = submission, assignment, seed
        self.withheld = withheld  # CheckSpecs not collected
        self.report = None
        self.failure = None       # why the grader could not run, if it could not
        self.seconds = None

    def run(self, wanted_ids):
        """Grade once, for the checks selected in this session."""
        if self.report is not None or self.failure is not None:
            return
        import dataclasses

        from . import batch
        sub = dataclasses.replace(self.assignment,
                                  checks=tuple(c for c in self.assignment.checks if c.id in wanted_ids))
        try:
            self.report, self.seconds, trace = batch.grade_one(self.submission, sub, self.seed)
        except batch.GraderError as e:
            self.failure = str(e)
            return
        if self.report.get("status") == "error":
            self.failure = "the grader could not grade this submission: " + str(self.report.get("message", ""))
            if trace:
                self.failure += "\n" + trace


def pytest_configure(config):
    config.addinivalue_line("markers", "gradcheck: a check of the gradcheck grader (added by --gradcheck-submission)")
    folder = config.getoption("--gradcheck-submission", default=None)
    if not folder:
        return
    from .assignment import AssignmentError, load_assignment
    from .report import is_shown
    path = Path(folder)
    if not path.is_dir():
        raise pytest.UsageError(f"--gradcheck-submission: {folder!r} is not a folder")
    try:
        assignment = load_assignment(config.getoption("--gradcheck-assignment"))
    except AssignmentError as e:
        raise pytest.UsageError(f"--gradcheck-assignment: {e}") from None
    seed = config.getoption("--gradcheck-seed")
    if seed < 0:
        raise pytest.UsageError("--gradcheck-seed: expected an integer >= 0")
    visible = tuple(c for c in assignment.checks if is_shown(c.visibility))
    withheld = [c for c in assignment.checks if not is_shown(c.visibility)]
    import dataclasses
    state = _State(path.resolve(), dataclasses.replace(assignment, checks=visible), seed, withheld)
    config.stash[_STATE] = state



class GradcheckFailure(Exception):
    """A check that did not pass; its text is the grader's feedback."""


class GradcheckSubmission(pytest.Collector):
    """The checks of one submission."""

    def __init__(self, *, state, **kw):
        super().__init__(**kw)
        self.state = state

    def collect(self):
        for spec in self.state.assignment.checks:
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
        wanted = self.session.stash.get(_WANTED, None) or {c.id for c in state.assignment.checks}
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
    status = check.get("status", "?")
    lines = [clip(" ".join(str(check.get("message", "")).split()), 2000) or status]
    lines += check_detail_lines(check)
    lines.append(f"{check['id']}: {status} ({check.get('score', 0):g}/{check.get('max_score', 0):g} points)")
    return "\n".join(lines)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Add the checks' items (first, so -k, -m and deselection apply to them like to any test)."""
    state = config.stash.get(_STATE, None)
    if state is None:
        return
    name = f"gradcheck/{state.submission.name}"  # no brackets: JUnit XML reports take them for parameters
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
    tr = terminalreporter
    tr.section("gradcheck")
    if state.failure is not None:
        tr.write_line(f"{state.submission.name}: not graded: {state.failure.splitlines()[0]}")
    elif state.report is not None:
        r = state.report
        passed = sum(c["status"] == "pass" for c in r["checks"])
        secs = f" in {state.seconds:.1f} s" if state.seconds is not None else ""
        tr.write_line(f"{state.submission.name}: {passed} of {len(r['checks'])} checks run here passed, "
                      f"{r['score']:g} / {r['max_score']:g} points (seed {state.seed}){secs}")
    if state.withheld:
        pts = sum(float(c.points) for c in state.withheld)
        tr.write_line(f"not run here: {len(state.withheld)} check(s) worth {pts:g} point(s) that the assignment does "
                      "not show to students yet (hidden or after the due date); the grader runs them")
