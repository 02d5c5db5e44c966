"""HOSTILE (integrity, class 3: self-consistency without an anchor). An MLP with no network at all:
params of the right shapes, forward returns zeros, loss() returns an invented 12345.0 and gradients
that are all ones, sgd_step subtracts lr * ones and returns 12345.0, train returns a made-up falling
curve. Nothing is computed from X or y.

mlp.sgd_step checks the step against the student's own loss() output (returned loss == their loss,
params moved by -lr * their gradients, gradients not all zero) and never against ground truth, so it
passes with 3 points. A safe grader must fail mlp.sgd_step (and everything but mlp.params): an
sgd_step is only evidence when the loss/gradients it steps by are anchored (e.g. the step must be the
reference's step where the student's gradients match the reference, or the loss it returns must be
the reference's loss at those parameters). Bounded: trivial arithmetic."""
import numpy as np


class MLP:
    def __init__(self, sizes, activation="sigmoid", seed=0):
        self.sizes = list(sizes)
        self.params = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = np.zeros((b, a))
            self.params[f"b{i}"] = np.zeros(b)

    def forward(self, X):
        return np.zeros((len(X), self.sizes[-1]))

    def loss(self, X, y):
        return 12345.0, {k: np.ones_like(v) for k, v in self.params.items()}

    def sgd_step(self, X, y, lr):
        for k in self.params:
            self.params[k] = self.params[k] - lr * np.ones_like(self.params[k])
        return 12345.0


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    return list(2.0 * np.exp(-np.arange(steps) / 10.0))
