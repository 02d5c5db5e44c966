"""The student-facing sentences of the gates' checks and of the numerical verdicts (gates and MLP): one
home for each wording, as constants and small builders that the checks fill in.

A check's message is one line a student understands; ``where`` is the case it happened on ("on shape
(2, 3)"), ``name`` a gate's class name, ``what`` the function whose centered differences were taken
("forward", "loss").
"""

from __future__ import annotations

# --- the gates' checks -----------------------------------------------------------------------------

#: The message of each aspect's pass, followed by "(N comparisons)".
GATE_PASS = {
    "forward": "forward matches the reference",
    "backward": "backward matches the reference under random upstream gradients",
    "numerical": "backward matches centered differences of your forward, and your forward has the reference's slope",
    "shapes": "one gradient per input, each of its input's shape",
    "no_mutation": "forward and backward leave their arguments unchanged",
}


def module_not_found(module: str) -> str:
    return f"{module}.py was not found"


GATES_NOT_FOUND = module_not_found("gates")
IGNORES_DZ = "ignores the upstream gradient dz (as if dz were all ones)"
UPSTREAM_GRADIENT = "backward's upstream gradient dz"
NOTHING_COMPARED = "could not be checked: nothing was compared"
NO_WORKING_GATE = (
    "could not be checked: neither forward nor backward matches the reference on any case, so there "
    "is no working gate whose shapes and arguments could be checked"
)
NO_GRADIENT_TO_CHECK = "backward gave no gradient of the input's shape (see the shapes and backward checks)"


#: What a loss function's passing checks say (it has no upstream gradient and one gradient).
LOSS_PASS = {
    "forward": "the loss matches the reference",
    "backward": "the gradient matches the reference",
    "numerical": "the gradient matches centered differences of your loss, and your loss has the reference's slope",
    "shapes": "the gradient has its input's shape",
    "no_mutation": "the function leaves its arguments unchanged",
}


def passed(aspect: str, compared: int, style: str = "gate") -> str:
    return f"{(LOSS_PASS if style == 'loss_function' else GATE_PASS)[aspect]} ({compared} comparisons)"


def no_working(style: str) -> str:
    """Why shapes and no_mutation cannot be judged: nothing of the unit matched the reference."""
    return NO_WORKING_GATE if style == "gate" else NO_WORKING_GATE.replace("working gate", "working function")


def not_imported(module: str, why: str) -> str:
    return f"{module}.py could not be imported: {why}"


def gates_not_imported(why: str) -> str:
    return not_imported("gates", why)


def no_class(name: str, module: str = "gates") -> str:
    return f"{module}.py has no class {name}"


def no_function(name: str, module: str) -> str:
    return f"{module}.py has no function {name}"


def changed_param(name: str, mutable) -> str:
    """How messages name a function's param dict changed beyond what it may change."""
    may = f" (it may change only {', '.join(mutable)})" if mutable else ""
    return f"its argument {name}{may}"


def failed_call(where: str, error: str) -> str:
    """What the worker said of a student call that raised or returned nothing: "MultiplyGate.forward: ..."."""
    return f"{where}: {error}"


def forward_wrong(where: str, mismatch: str) -> str:
    return f"forward {where}: got {mismatch}"


PARAM_KEY_MISSING = "forward did not set it (the reference's forward does, in the dict it was given)"


def param_wrong(where: str, label: str, problem: str) -> str:
    """A param dict's key forward may change (a running average), after forward."""
    return f"forward {where}: {label} after forward: {problem}"


def backward_wrong(where: str, gradient: str, mismatch: str) -> str:
    return f"backward {where}: {gradient} is {mismatch}"


def too_many_gradients(got: int, need: int, where: str) -> str:
    return f"backward returned {got} gradients for {need} input{'s' if need > 1 else ''}: one per input ({where})"


def too_few_gradients(got: int, need: int, where: str) -> str:
    return f"backward returned {got} gradients for {need} inputs ({where})"


def unreadable_gradient(name: str, error, where: str) -> str:
    """A gradient that is not numbers (``error``: why)."""
    return f"{name}.backward {error} ({where})"


def gradient_shape(i: int, gradient: str, shape: str, input_shape: str, where: str) -> str:
    return f"gradient {i} ({gradient}) has shape {shape}, its input {input_shape} ({where})"


def forward_argument(input_label: str, right_after_forward: bool) -> str:
    """How no_mutation names an input of forward: "forward's input 0 (x)", as found after backward or
    right after forward."""
    return f"forward's {input_label}" + (" (right after forward)" if right_after_forward else "")


def mutation_not_checked(failed: str, where: str) -> str:
    """No gradients came back (``failed``: ``failed_call``'s text), so nothing shows what backward changed."""
    return f"could not be checked: {failed} ({where})"


def modified_in_place(argument: str, where: str) -> str:
    return f"{argument} was modified in place ({where}); the caller's arrays must stay as they were"


def not_deterministic(label: str) -> str:
    return (
        f"on {label}: your forward gave different values for the same inputs (it is not deterministic), so "
        "centered differences of it show nothing"
    )


def not_checked(where: str, why: str) -> str:
    """A case of the numerical check that could not be judged."""
    return f"could not be checked {where}: {why}"


# --- numerical verdicts (centered differences of the student's own function, anchored) --------------


def evaluating_for_differences(what: str, error) -> str:
    """A failure while the student's function was evaluated at points near the inputs."""
    return f"evaluating {what} for centered differences: {error}"


def near_the_inputs(what: str, error) -> str:
    return f"your {what} at points near the inputs: {error}"


def wrong_slope(what: str, failures: str) -> str:
    """The student's function does not have the reference's slope: its differences cannot judge backward."""
    return (
        f"your {what} disagrees with the reference near these inputs (its centered differences are not the "
        f"true slope: fix {what} first, then this check can judge your backward): {failures}"
    )


def not_smooth(what: str, problems: str) -> str:
    return (
        f"your {what} gave non-finite values or jumps at points close to the inputs, where the function is "
        f"smooth: {problems}"
    )


# --- model units (checks/models.py): a class with params and loss(X, y) ------------------------------

#: The message of each aspect's pass, followed by "(N comparisons)".
MODEL_PASS = {
    "params": "params holds the declared parameters, of the declared shapes, after construction",
    "scores": "loss(X) gives the reference's scores for the parameters set in net.params",
    "loss": "loss(X, y) gives the reference's loss",
    "gradients": "every gradient loss(X, y) returns matches the reference's",
    "numerical": "the gradients match centered differences of your own loss, and your loss has the reference's slope",
    "no_mutation": "loss leaves X, y and the parameter arrays it was given unchanged",
}
IGNORES_PARAMS = (
    "loss ignores net.params: these are the values of the parameters the network was made with; read "
    "net.params at every call (the grader sets its own parameters there)"
)


def model_passed(aspect: str, compared: int) -> str:
    return f"{MODEL_PASS[aspect]} ({compared} comparisons)"


def params_keys(made: str, got, want) -> str:
    return f"{made}.params has keys {sorted(got)}, expected {list(want)}"


def param_shape(made: str, name: str, shape: str, expected: str) -> str:
    return f"{made}.params['{name}'] has shape {shape}, expected {expected}"


def param_not_zeros(made: str, name: str) -> str:
    return f"{made}.params['{name}'] is not all zeros after construction (it must start at zero)"


def param_scale(made: str, name: str, rms: float, scale_text: str) -> str:
    return (
        f"{made}.params['{name}'] has values of standard deviation {rms:.3g} after construction, expected "
        f"random values of about {scale_text}"
    )


def no_gradient(names, where: str) -> str:
    return f"loss(X, y) returned no gradient for {', '.join(names)} ({where})"


def model_value_wrong(what: str, label: str, mismatch: str) -> str:
    """A value of the student's model that is not the reference's (``what``: "the scores are", "the
    loss is", "dW1 is") on the network ``label``."""
    return f"{label}: {what} {mismatch}"


def model_gradients_unusable(where: str) -> str:
    return (
        f"could not be checked {where}: loss(X, y) gave no gradient of each parameter's shape (see the gradients check)"
    )


def model_argument_changed(cls: str, tag: str, input_names, where: str) -> tuple[str, str]:
    """(message, argument) for one "changed" tag of a model's call (see ops.op_model)."""
    later, _, name = tag.rpartition("/")
    if name.startswith("p."):
        argument = f"params['{name[2:]}'] (an array the grader set in net.params)"
        text = f"{cls}.loss modified {argument} in place" if not later else f"{argument} was modified in place"
    else:
        i = int(name[1:])
        argument = f"{cls}.loss's argument {i} ({input_names[i]})"
        text = (
            f"{argument} was modified in place by a later call (on this network or another)"
            if later
            else f"{cls}.loss modified its argument {i} ({input_names[i]}) in place"
        )
    return f"{text} ({where}); the caller's arrays must stay as they were", argument
