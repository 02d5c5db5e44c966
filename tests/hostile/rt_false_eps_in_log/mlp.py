"""NOT HOSTILE (see gates.py of this case): the reference's MLP (the student's honest_mlp) with the same
textbook change in loss(): the cross-entropy is -log(p + 1e-8), the gradients stay analytic. With the
anchor at float64 tolerance, mlp.numerical (2 points) fails with "your forward/loss disagrees with the
reference near these inputs". A safe grader must give full marks (see gates.py)."""
import numpy as np

import honest_mlp
from honest_mlp import *  # noqa: F401,F403


class MLP(honest_mlp.MLP):
    def loss(self, X, y):
        _, grads = super().loss(X, y)
        scores, y = self.forward(X), np.asarray(y, dtype=int)
        shifted = scores - scores.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-np.log(np.exp(logp)[np.arange(len(y)), y] + 1e-8).mean()), grads
