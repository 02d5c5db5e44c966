"""HOSTILE (see gates.py of this case): the reference MLP, but loss() is multiplied by (1 + 1e-5 noise)
and its gradients are 5 % too large. A safe grader fails mlp.numerical (and mlp.gradients.*);
today it does (contained), kept as a regression guard."""
import numpy as np

import honest_mlp as honest

NOISE, FACTOR = 1e-5, 1.05
_rng = np.random.default_rng(11)


class MLP(honest.MLP):
    def loss(self, X, y):
        loss, grads = super().loss(X, y)
        return loss * (1.0 + NOISE * _rng.standard_normal()), {k: g * FACTOR for k, g in grads.items()}


train = honest.train
