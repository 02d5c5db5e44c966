"""A small neural network on the scalar engine: a ``Neuron`` (weights, a bias, an optional ReLU), a
``Layer`` of neurons, an ``MLP`` of layers; every one a ``Module`` with ``parameters()`` and
``zero_grad()``.

The model solution of the "micrograd" assignment (docs/micrograd-contract.md). It imports the engine
by its plain name, as a student's nn.py does.
"""

import random

from engine import Value


class Module:
    def parameters(self):
        return []

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """relu(w . x + b), or the linear w . x + b when ``nonlin`` is false; x a list of floats or Values."""

    def __init__(self, nin, nonlin=True):
        self.w = [Value(random.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class Layer(Module):
    """``nout`` neurons on the same inputs; kwargs go to each Neuron. Returns the list of their outputs,
    or the one Value when nout == 1."""

    def __init__(self, nin, nout, **kwargs):
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]


class MLP(Module):
    """Layers of sizes nin -> nouts[0] -> ... -> nouts[-1]: ReLU on every layer but the last (linear)."""

    def __init__(self, nin, nouts):
        sizes = [nin] + list(nouts)
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i < len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]
