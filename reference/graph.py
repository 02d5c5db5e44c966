"""A computational graph that runs gates in topological order (forward) and in reverse (backward)."""

import numpy as np


class ComputationalGraph:
    def __init__(self):
        self.nodes = []  # ("input", name) or ("gate", gate, input node ids); a node's id is its index

    def input(self, name):
        self.nodes.append(("input", name, ()))
        return len(self.nodes) - 1

    def gate(self, gate, *inputs):
        self.nodes.append(("gate", gate, tuple(inputs)))
        return len(self.nodes) - 1

    def forward(self, values):
        # nodes are added only after their inputs, so insertion order is a topological order
        self.values = []
        for kind, what, inputs in self.nodes:
            if kind == "input":
                self.values.append(np.asarray(values[what], dtype=float))
            else:
                self.values.append(what.forward(*(self.values[i] for i in inputs)))
        return self.values[-1]

    def backward(self, dout=None):
        out = self.values[-1]
        grads = [None] * len(self.nodes)
        grads[-1] = np.ones_like(out, dtype=float) if dout is None else np.asarray(dout, dtype=float)
        for node in reversed(range(len(self.nodes))):
            kind, what, inputs = self.nodes[node]
            if kind == "input" or grads[node] is None:
                continue
            local = what.backward(grads[node])
            if len(inputs) == 1 and not isinstance(local, (list, tuple)):
                local = [local]
            for i, g in zip(inputs, local):
                grads[i] = g if grads[i] is None else grads[i] + g  # gradients add at branches
        return {
            what: np.zeros_like(self.values[node]) if grads[node] is None else grads[node]
            for node, (kind, what, _) in enumerate(self.nodes)
            if kind == "input"
        }
