"""Every check the grader knows how to run, by id, in report order.

A gate's checks are ``gates.<Gate>.<aspect>`` for every gate of the contract (``gradcheck.contract``);
the graph's and the MLP's are listed here. An assignment file names the checks it runs among these.
"""

from __future__ import annotations

from .. import contract

__all__ = ["GATES", "GATE_ASPECTS", "GRAPH_CHECKS", "KNOWN_CHECKS", "MLP_CHECKS"]

GATES = contract.GATE_NAMES
GATE_ASPECTS = ("forward", "backward", "numerical", "shapes", "no_mutation")
GRAPH_CHECKS = (
    "graph.lecture_example",
    "graph.sigmoid_neuron",
    "graph.branches",
    "graph.same_node_twice",
    "graph.upstream_gradient",
    "graph.second_forward",
    "graph.unused_input",
    "graph.no_mutation",
    "graph.random_graphs",
)
MLP_CHECKS = (
    "mlp.params",
    "mlp.forward.sigmoid",
    "mlp.forward.tanh",
    "mlp.forward.relu",
    "mlp.loss",
    "mlp.gradients.sigmoid",
    "mlp.gradients.tanh",
    "mlp.gradients.relu",
    "mlp.numerical",
    "mlp.sgd_step",
    "mlp.no_mutation",
    "mlp.train",
)
#: Every check the grader knows how to run, in report order.
KNOWN_CHECKS = tuple(f"gates.{g}.{a}" for g in GATES for a in GATE_ASPECTS) + GRAPH_CHECKS + MLP_CHECKS
