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


def __getattr__(name):
    if name in __all__:
        from . import numerics

        return getattr(numerics, name)
    raise AttributeError(f"module 'gradcheck' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
