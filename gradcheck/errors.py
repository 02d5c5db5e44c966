"""gradcheck's errors: one base class, the builtin each error also is, and each error's exit status.

Every error gradcheck raises on purpose is a ``GradcheckError``. Each also derives from the builtin
exception it was before the common base existed (as Hypothesis' ``errors.py`` does), so code that
catches the builtin keeps working: ``except ValueError`` still catches a malformed assignment file.

``exit_code`` (as in click's ``exceptions.py``) is the command line's exit status when the error
ends a command: 1, the grader could not do its job; 2, the caller's mistake (a usage error, as
click's own). The CLI reads it from the class and declares none of its own.

Defined here, and importable from the module that raises them as before: ``AssignmentError``
(``gradcheck.assignment``), ``BatchError`` and ``GraderError`` (``gradcheck.batch``),
``ReportError`` and ``RunFolderError`` (``gradcheck.report``), ``FormatError`` (``gradcheck.formats``),
``ResultsNotWritten`` (``gradcheck.formats.container``), ``ValidationError`` and ``ReferenceFailed``
(``gradcheck.validate``). Defined in their own modules on this
base: ``SandboxError(GradcheckError, RuntimeError)`` (``gradcheck.sandbox``),
``PackError(GradcheckError, RuntimeError)`` (``gradcheck.pack``),
``GradcheckAssertionError(GradcheckError, AssertionError)`` (``gradcheck.testing``) and
``GradcheckFailure(GradcheckError)`` (``gradcheck.pytest_plugin``).

This module imports nothing: every part of gradcheck (the sandbox, the pytest plugin) can use it.
"""

from __future__ import annotations

__all__ = [
    "AssignmentError",
    "BatchError",
    "FormatError",
    "GRADER_FAILED",
    "GradcheckError",
    "GraderError",
    "ReferenceFailed",
    "ReportError",
    "ResultsNotWritten",
    "RunFolderError",
    "USAGE",
    "ValidationError",
]

#: Exit status: the grader itself could not do its job.
GRADER_FAILED = 1
#: Exit status: the caller's mistake (click's usage errors exit with it too).
USAGE = 2


class GradcheckError(Exception):
    """The base of every error gradcheck raises on purpose."""

    #: The command line's exit status when this error ends a command.
    exit_code = GRADER_FAILED


class AssignmentError(GradcheckError, ValueError):
    """A malformed assignment file. ``str()`` names the file, the field and what was expected.

    Attributes (of the first problem found): ``file``, ``field`` (e.g. ``checks[3].visibility``,
    empty for the file as a whole), ``expected``, and ``problems``: every problem as
    ``(field, expected)`` pairs.
    """

    exit_code = USAGE

    def __init__(self, file, problems):
        self.file = str(file)
        self.problems = list(problems)
        self.field, self.expected = self.problems[0]
        lines = [f"{f}: {e}" if f else e for f, e in self.problems]
        super().__init__(
            f"{self.file}: {lines[0]}"
            if len(lines) == 1
            else f"{self.file}: {len(lines)} problems:\n" + "\n".join("  " + ln for ln in lines)
        )


class BatchError(GradcheckError, ValueError):
    """The caller's mistake: a submissions path that does not exist or holds no submission folder."""

    exit_code = USAGE


class GraderError(GradcheckError, RuntimeError):
    """The grader itself could not do its job (could not write reports, could not start a sandbox)."""


class ReportError(GradcheckError, ValueError):
    """A report that does not follow the report contract (a grader bug, never a student's fault)."""


class RunFolderError(GradcheckError, ValueError):
    """The caller's mistake: a path given as a grading run's output folder that is not one (missing, not
    a folder, no report in it), or a report in it that cannot be read. ``str()`` names the path."""

    exit_code = USAGE


class FormatError(GradcheckError, ValueError):
    """Output that does not follow a platform's documented format (a gradcheck bug)."""


class ResultsNotWritten(GradcheckError):
    """The results file itself could not be written (the one failure a platform run cannot report)."""


class ValidationError(GradcheckError, ValueError):
    """The caller's mistake in ``gradcheck validate``: an assignment without a reference folder, a
    folder to keep its files in that is not empty, no seed."""

    exit_code = USAGE


class ReferenceFailed(GradcheckError):
    """``gradcheck validate``: the assignment's own reference did not score full marks (the
    assignment is broken: its checks or its reference are wrong)."""
