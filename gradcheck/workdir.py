"""The working directory off ``sys.path`` before the grader imports anything: ``python -m`` and
``python -c`` put it first, and a submission folder named like a module (``numpy/``, ``gradcheck/``)
must never be imported by a grader process."""

import os
import sys

__all__ = ["drop_working_directory", "without_working_directory"]


def without_working_directory(paths, cwd=None) -> list:
    """``paths`` without the working directory ('' or '.' or the folder itself, as ``python -m`` and
    ``python -c`` put it first), unless gradcheck itself is imported from there. Used before a
    command imports anything (``python -m gradcheck``) and for the grader processes it starts: a
    submission folder named like a module is never imported by the grader."""
    here = os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        cwd = os.path.realpath(cwd or os.getcwd())
    except OSError:  # the working directory is gone: '' finds nothing there
        return [p for p in paths if p not in ("", ".")]
    return [p for p in paths if os.path.realpath(p or ".") != cwd or os.path.realpath(p or ".") == here]


def drop_working_directory() -> None:
    sys.path[:] = without_working_directory(sys.path)
