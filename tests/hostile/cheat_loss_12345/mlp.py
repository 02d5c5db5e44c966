"""HOSTILE (integrity): scores of the wrong shape (one column too many) and a loss of 12345.0 with
gradients of the right shapes: a loss check that skips cases whose scores it cannot use compares
nothing and passes. The loss must not pass."""
import numpy as np


class MLP:
    def __init__(self, sizes, activation="sigmoid", seed=0):
        self.sizes = list(sizes)
        rng = np.random.default_rng(seed)
        self.params = {}
        for i, (n, o) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = rng.standard_normal((o, n))
            self.params[f"b{i}"] = np.zeros(o)

    def forward(self, X):
        return np.ones((len(X), self.sizes[-1] + 1))

    def loss(self, X, y):
        return 12345.0, {k: np.ones_like(v) for k, v in self.params.items()}

    def sgd_step(self, X, y, lr):
        return 12345.0


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    return [12345.0] * steps
