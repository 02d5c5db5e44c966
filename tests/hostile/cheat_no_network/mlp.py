"""HOSTILE (integrity): an MLP with no network at all. params has the right keys and shapes (that much
is real), but forward returns constant scores, loss is the cross-entropy of those constants with zero
gradients, sgd_step changes nothing, and train returns a made-up decreasing list. It may earn
mlp.params and nothing else."""
import numpy as np


class MLP:
    def __init__(self, sizes, activation="sigmoid", seed=0):
        self.sizes = list(sizes)
        self.params = {}
        for i, (n, o) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = np.zeros((o, n))
            self.params[f"b{i}"] = np.zeros(o)

    def forward(self, X):
        return np.zeros((len(X), self.sizes[-1]))

    def loss(self, X, y):
        return float(np.log(self.sizes[-1])), {k: np.zeros_like(v) for k, v in self.params.items()}

    def sgd_step(self, X, y, lr):
        return self.loss(X, y)[0]


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    return [1.1 / (1 + 0.1 * t) for t in range(steps)]
