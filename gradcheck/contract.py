"""The default assignment's student contract (docs/contract.md) as data: the one place the grader
reads module names, gates, their inputs and what their backward returns, and the MLP's names from.

The worker side (``sandbox/inside``) imports nothing of gradcheck: the trusted side tells it the
module names in each ``load`` request.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The modules a submission hands in, in import order (mlp may import graph and gates).
MODULES = ("gates", "graph", "mlp")
MODULE_FILES = tuple(f"{m}.py" for m in MODULES)


@dataclass(frozen=True)
class Gate:
    """One gate class of gates.py.

    inputs: the names of forward's inputs, in order (messages say "input 1 (labels)").
    constant: the name of the constructor's float argument, if it has one.
    labels: the index of an integer input that gets no gradient (softmax's labels), else None.
    extra_grads: backward may return further items after the gradients it must return
    (softmax: "any further item is ignored"); otherwise one gradient per input, no more.
    batch_mean: the output is a mean over the rows of input 0 (the loss over a batch)."""

    name: str
    inputs: tuple = ("x",)
    constant: str | None = None
    labels: int | None = None
    extra_grads: bool = False
    batch_mean: bool = False

    @property
    def arity(self) -> int:
        return len(self.inputs)

    @property
    def gradients(self) -> int:
        """How many gradients backward must return: one per input that is not labels."""
        return self.arity - (self.labels is not None)

    def input_name(self, i: int) -> str:
        return self.inputs[i]

    def input_label(self, i: int) -> str:
        """How messages name input i: numbered from 0 and named, "input 1 (labels)"."""
        return f"input {i} ({self.inputs[i]})"


GATES = {
    g.name: g
    for g in (
        Gate("AddGate", ("x", "y")),
        Gate("MultiplyGate", ("x", "y")),
        Gate("MaxGate", ("x", "y")),
        Gate("ExpGate"),
        Gate("InverseGate"),
        Gate("AddConstantGate", constant="c"),
        Gate("ScaleGate", constant="a"),
        Gate("SigmoidGate"),
        Gate("TanhGate"),
        Gate("ReLUGate"),
        Gate("MatMulGate", ("W", "X")),
        Gate("SoftmaxCrossEntropyGate", ("scores", "labels"), labels=1, extra_grads=True, batch_mean=True),
    )
}
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
