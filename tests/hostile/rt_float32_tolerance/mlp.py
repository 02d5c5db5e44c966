"""HOSTILE (see gates.py of this case): the reference MLP, but loss() gradients are 0.04 % too large and
the loss (and scores) are rounded to float32. A safe grader fails mlp.numerical as it does for the
float64 twin (the same error without the rounding)."""
import numpy as np

import honest_mlp as honest

FACTOR = 1.0004


class MLP(honest.MLP):
    def forward(self, X):
        return np.asarray(super().forward(X), dtype=np.float32)

    def loss(self, X, y):
        loss, grads = super().loss(X, y)
        return np.float32(loss), {k: np.asarray(g * FACTOR, dtype=np.float32) for k, g in grads.items()}


train = honest.train
