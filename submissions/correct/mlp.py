"""An MLP built from the gates, one graph per call (slow but clear), trained with mini-batch SGD."""
import numpy as np

from gates import (AddGate, MatMulGate, ReLUGate, SigmoidGate, SoftmaxCrossEntropyGate, TanhGate)
from graph import ComputationalGraph

ACT = {"sigmoid": SigmoidGate, "tanh": TanhGate, "relu": ReLUGate}


class MLP:
    def __init__(self, sizes, activation="sigmoid", seed=0):
        rng = np.random.RandomState(seed)
        self.sizes = sizes
        self.activation = activation
        self.params = {}
        for i in range(1, len(sizes)):
            self.params["W%d" % i] = 0.1 * rng.randn(sizes[i], sizes[i - 1])
            self.params["b%d" % i] = np.zeros(sizes[i])

    def _build(self, n):
        g = ComputationalGraph()
        h = g.input("X")  # X^T: (D, N), so each layer is W @ h
        for i in range(1, len(self.sizes)):
            W = g.input("W%d" % i)
            b = g.input("b%d" % i)  # fed as a (fan_out, N) column block
            h = g.gate(AddGate(), g.gate(MatMulGate(), W, h), b)
            if i < len(self.sizes) - 1:
                h = g.gate(ACT[self.activation](), h)
        return g

    def _feed(self, X):
        feed = {"X": np.asarray(X, dtype=float).T}
        for k, v in self.params.items():
            feed[k] = np.tile(v[:, None], (1, len(X))) if k.startswith("b") else v
        return feed

    def forward(self, X):
        g = self._build(len(X))
        return g.forward(self._feed(X)).T

    def loss(self, X, y):
        scores = self.forward(X)
        sm = SoftmaxCrossEntropyGate()
        loss = sm.forward(scores, y)
        dscores = sm.backward()[0]
        g = self._build(len(X))
        g.forward(self._feed(X))
        grads = g.backward(dscores.T)
        out = {}
        for k in self.params:
            out[k] = grads[k].sum(axis=1) if k.startswith("b") else grads[k]
        return loss, out

    def sgd_step(self, X, y, lr):
        loss, grads = self.loss(X, y)
        for k in self.params:
            self.params[k] -= lr * grads[k]
        return loss


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    rng = np.random.RandomState(seed)
    losses = []
    for step in range(steps):
        idx = rng.randint(0, len(X), size=batch_size) if batch_size < len(X) else np.arange(len(X))
        losses.append(net.sgd_step(X[idx], y[idx], lr))
    return losses
