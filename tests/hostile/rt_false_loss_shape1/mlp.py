"""NOT HOSTILE - a correct student solution that loses points (class 9, false failure). The reference's
MLP (the student's honest_mlp), except that loss() returns the mean as a one-element array (as
``.mean(keepdims=True)`` gives it, shape (1,)) instead of a Python float; train() is the reference's and
so returns a list of such arrays. The contract allows values as "numpy float64 arrays of any shape ...
or Python floats", and the grader accepts the (1,) loss everywhere else: mlp.loss, mlp.numerical and
mlp.sgd_step pass. mlp.train fails (3 points) with the self-contradicting message "train returned 100
losses for steps=100": the list of 100 one-element arrays becomes a (100, 1) array, and _train requires
shape (steps,).

A safe grader must give full marks (treat train's losses like every other loss: one number each,
whatever its shape of size 1), or say in the contract that a loss is a Python float. At fault:
checks/mlp._train (``losses.shape != (steps,)``, while _loss/_sgd/_Net.losses reshape size-1 values)."""
import numpy as np

import honest_mlp
from honest_mlp import *  # noqa: F401,F403


class MLP(honest_mlp.MLP):
    def loss(self, X, y):
        loss, grads = super().loss(X, y)
        return np.array([loss]), grads
