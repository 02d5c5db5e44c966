"""A computational graph: nodes in the order they were added, which is a topological order."""
import numpy as np


class Node:
    def __init__(self, gate=None, parents=(), name=None):
        self.gate = gate
        self.parents = list(parents)
        self.name = name
        self.value = None
        self.grad = None


class ComputationalGraph:
    def __init__(self):
        self.nodes = []
        self.inputs = {}

    def input(self, name):
        node = Node(name=name)
        self.nodes.append(node)
        self.inputs[name] = node
        return node

    def gate(self, gate, *parents):
        node = Node(gate, parents)
        self.nodes.append(node)
        return node

    def forward(self, values):
        for node in self.nodes:
            if node.gate is None:
                node.value = values[node.name]
            else:
                node.value = node.gate.forward(*[p.value for p in node.parents])
        return self.nodes[-1].value

    def backward(self, dout=None):
        for node in self.nodes:
            node.grad = np.zeros_like(np.asarray(node.value, dtype=float))
        last = self.nodes[-1]
        last.grad = np.ones_like(last.grad) if dout is None else dout
        for node in reversed(self.nodes):
            if node.gate is None:
                continue
            grads = node.gate.backward(node.grad)
            if not isinstance(grads, (list, tuple)):
                grads = [grads]
            for parent, g in zip(node.parents, grads):
                parent.grad = parent.grad + g
        return {name: node.grad for name, node in self.inputs.items()}
