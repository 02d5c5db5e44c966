"""gradcheck: grade students' backpropagation assignments.

The numerical core is the public face of the package: ``from gradcheck import assert_vjp``. Its
names are loaded on first use, so that merely importing gradcheck (as the pytest plugin does in
every test run) costs nothing.
"""

__version__ = "0.1.0"

__all__ = [
    "Check",
    "InputResult",
    "Plan",
    "Verdict",
    "assert_vjp",
    "check_vjp",
    "judge",
    "numerical_vjp",
    "plan_check",
    "rel_error",
    "step_size",
]


def _without_working_directory(paths, cwd=None) -> list:
    """``paths`` without the working directory ('' or '.' or the folder itself, as ``python -m`` and
    ``python -c`` put it first), unless gradcheck itself is imported from there. Used before a
    command imports anything (``python -m gradcheck``) and for the grader processes it starts: a
    submission folder named like a module is never imported by the grader."""
    import os

    here = os.path.realpath(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        cwd = os.path.realpath(cwd or os.getcwd())
    except OSError:  # the working directory is gone: '' finds nothing there
        return [p for p in paths if p not in ("", ".")]
    return [p for p in paths if os.path.realpath(p or ".") != cwd or os.path.realpath(p or ".") == here]


def _drop_working_directory() -> None:
    import sys

    sys.path[:] = _without_working_directory(sys.path)


def __getattr__(name):
    if name in __all__:
        from . import numerics

        return getattr(numerics, name)
    raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
