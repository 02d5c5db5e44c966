"""gradcheck's errors: one base, the builtin each one also is, and the exit status the CLI takes from it."""

import click
import pytest

from gradcheck import cli, errors
from gradcheck.assignment import AssignmentError
from gradcheck.batch import BatchError, GraderError
from gradcheck.formats import FormatError
from gradcheck.formats.container import ResultsNotWritten
from gradcheck.pack import PackError
from gradcheck.pytest_plugin import GradcheckFailure
from gradcheck.report import ReportError
from gradcheck.sandbox import SandboxError
from gradcheck.testing import GradcheckAssertionError

# (class, the builtin it also is, its exit status)
ERRORS = [
    (AssignmentError, ValueError, 2),
    (BatchError, ValueError, 2),
    (GraderError, RuntimeError, 1),
    (ReportError, ValueError, 1),
    (FormatError, ValueError, 1),
    (ResultsNotWritten, Exception, 1),
    (SandboxError, RuntimeError, 1),
    (PackError, RuntimeError, 1),
    (GradcheckAssertionError, AssertionError, 1),
    (GradcheckFailure, Exception, 1),
]


@pytest.mark.parametrize("cls,builtin,code", ERRORS, ids=[e[0].__name__ for e in ERRORS])
def test_every_error_has_the_common_base_and_keeps_its_builtin(cls, builtin, code):
    assert issubclass(cls, errors.GradcheckError) and issubclass(cls, builtin)
    assert cls.exit_code == code


def test_the_errors_defined_in_gradcheck_errors_are_the_ones_their_modules_export():
    assert AssignmentError is errors.AssignmentError and BatchError is errors.BatchError
    assert GraderError is errors.GraderError and ReportError is errors.ReportError
    assert FormatError is errors.FormatError and ResultsNotWritten is errors.ResultsNotWritten


def test_except_valueerror_still_catches_a_malformed_assignment(tmp_path):
    from gradcheck.assignment import load_assignment

    with pytest.raises(ValueError) as info:
        load_assignment(tmp_path / "nope.toml")
    assert isinstance(info.value, errors.GradcheckError) and info.value.field == ""


def test_assignment_error_message_names_file_and_fields():
    one = AssignmentError("a.toml", [("checks[0].id", "expected x; got 'y'")])
    assert str(one) == "a.toml: checks[0].id: expected x; got 'y'" and one.field == "checks[0].id"
    whole = AssignmentError("a.toml", [("", "file not found"), ("name", "missing")])
    assert str(whole) == "a.toml: 2 problems:\n  file not found\n  name: missing" and whole.expected == "file not found"


def test_the_cli_takes_the_exit_status_from_the_error_class():
    usage = cli._exit(BatchError("no submission folders"))
    assert isinstance(usage, click.UsageError) and usage.exit_code == 2  # shown with the usage line
    assert usage.format_message() == "no submission folders"
    grader = cli._exit(GraderError("cannot write reports"), "prefix: ")
    assert not isinstance(grader, click.UsageError) and grader.exit_code == 1
    assert grader.format_message() == "prefix: cannot write reports"


def test_exit_status_help_is_made_from_the_classes_and_unchanged():
    assert (
        cli.EXIT_CODES
        == """\b
Exit status:
  0  grading completed, whatever the students scored
  1  the grader itself could not do its job (cannot write the reports folder,
     cannot start the sandbox, every submission ended in a grader error)
  2  usage error: bad option or path, malformed assignment file (the message
     names the file and the field)"""
    )
    assert "\n  1  the results file itself could not be written\n  2  usage error" in cli._CONTAINER_EXIT
