"""HOSTILE (class 1: scoring without the work). A TwoLayerNet (layers assignment) whose params are
built as the contract says, and whose loss returns values of exactly the reference's shapes (scores
(N, C), a float loss, a gradient of each parameter's shape) filled with random numbers. It holds no
correct network.

A safe grader must give it the params check only: scores, loss and gradients fail against the
reference, numerical fails (its loss has no slope, let alone the reference's), and no_mutation has no
working network to vouch for (an error, no point). Bounded: a few small random arrays per call."""

import numpy as np


class TwoLayerNet:
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        self.params = {
            "W1": weight_scale * np.random.randn(input_dim, hidden_dim),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * np.random.randn(hidden_dim, num_classes),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y=None):
        scores = np.random.randn(len(X), len(self.params["b2"]))  # HOSTILE: the right shape, no network
        if y is None:
            return scores
        return float(np.random.rand()), {k: np.random.randn(*v.shape) for k, v in self.params.items()}
