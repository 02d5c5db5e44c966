"""The default assignment's student contract (docs/contract.md) as the grader reads it: module names,
gates (the ``gate`` units declared in the bundled ``assignments/lecture/assignment.toml``: their inputs and what their
backward returns), and the MLP's names.

The worker side (``sandbox/inside``) imports nothing of gradcheck: the trusted side tells it the
module names in each ``load`` request.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .units import Unit, parse_units

#: The packaged default assignment, whose ``[[units]]`` declare what this contract's modules hold.
DEFAULT_FILE = Path(__file__).resolve().parent / "assignments" / "lecture" / "assignment.toml"


def _default_units() -> tuple:
    with open(DEFAULT_FILE, "rb") as f:
        return parse_units(tomllib.load(f)["units"])


#: The modules a submission hands in, in import order (mlp may import graph and gates).
MODULES = ("gates", "graph", "mlp")
MODULE_FILES = tuple(f"{m}.py" for m in MODULES)

#: A gate of gates.py is a ``gate`` unit of the default assignment (``gradcheck.units.Unit``): its
#: name, inputs (named, with the domains the grader draws from), constructor constant, labels (the
#: input that gets no gradient), extra_grads (backward may return further items) and batch_mean.
Gate = Unit

#: Every unit of the default assignment, in its order.
UNITS = _default_units()
GATES = {u.name: u for u in UNITS if u.style == "gate"}
GATE_NAMES = tuple(GATES)

GRAPH_CLASS = "ComputationalGraph"
MLP_CLASS = "MLP"
TRAIN_FUNCTION = "train"
ACTIVATIONS = ("sigmoid", "tanh", "relu")


def layer_params(layer: int) -> tuple[str, str]:
    """The keys of layer ``layer``'s (from 1) weight and bias in ``MLP.params``: ("W1", "b1")."""
    return f"W{layer}", f"b{layer}"


def gate(name: str) -> Gate:
    """The contract's gate of this name (KeyError for a name the contract does not have)."""
    return GATES[name]
