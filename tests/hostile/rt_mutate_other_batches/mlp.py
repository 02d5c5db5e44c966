"""HOSTILE (class 3: code that tells probes from runs). A network that zeroes the caller's X unless it
has 6 rows, the batch size of mlp.no_mutation's own networks: that check's calls see nothing changed.

A safe grader must fail mlp.no_mutation here: a change the worker reports during any visible MLP check
counts (checks/mlp.py _no_mutation, ``seen``). Found by the red-team review of the mutation checks.
Bounded: no loops."""

import numpy as np

import honest_mlp
from honest_mlp import *  # noqa: F403


class MLP(honest_mlp.MLP):
    def _forward(self, X):
        copy = np.array(X, dtype=float)
        if isinstance(X, np.ndarray) and len(X) != 6:
            X[...] = 0.0  # HOSTILE: the caller's X, except at the mutation check's batch size
        return super()._forward(copy)
