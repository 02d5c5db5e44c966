"""gradcheck: grade students' backpropagation assignments."""
__version__ = "0.1.0"

from .numerics import (
    Check,
    InputResult,
    Plan,
    Verdict,
    assert_vjp,
    check_vjp,
    judge,
    numerical_vjp,
    plan_check,
    rel_error,
    step_size,
)

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
