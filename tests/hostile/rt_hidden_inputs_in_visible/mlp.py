"""HOSTILE (class 7: a hidden check's inputs reach a visible message). The hidden mlp.train check's
training data (X of shape (90, 2), y of shape (90,)) are drawn and put into the request's array list
even when mlp.train is not run: checks/mlp.run builds train_spec with payload.ref(tX), payload.ref(ty)
unconditionally. So the *visible* round's MLP request carries the hidden check's data. This MLP
walks up the stack to the worker's handler, takes the request's arrays, finds the (90, 2) float array
and the (90,) int-valued array, and raises them (rounded, compressed) from forward() of the
sigmoid networks: the visible check mlp.forward.sigmoid shows the hidden check's data, including
its first rows, in its message. Everything else is the reference MLP.

A safe grader must send a check's inputs only in the round (and session) that runs that check: no
array of a withheld check in a visible request. At fault: checks/mlp.run (train_spec/full_spec built
before ``if "mlp.train" in todo``). Bounded: one stack walk of at most 30 frames per forward."""
import sys

import numpy as np

import honest_mlp as honest


def _hidden_data():
    frame = sys._getframe(1)
    for _ in range(30):
        if frame is None:
            return None
        arrays = frame.f_locals.get("arrays")
        if isinstance(arrays, list):
            X = [a for a in arrays if isinstance(a, np.ndarray) and a.shape == (90, 2)]
            y = [a for a in arrays if isinstance(a, np.ndarray) and a.shape == (90,)]
            if X:
                return X[0], (y[0] if y else None)
        frame = frame.f_back
    return None


class MLP(honest.MLP):
    def forward(self, X):
        if self.act is honest.ACTIVATIONS["sigmoid"][0]:
            found = _hidden_data()
            if found is not None:
                hX, hy = found
                raise RuntimeError(f"HIDDEN-TRAIN-DATA X{hX.shape} first rows {np.round(hX[:3], 3).tolist()} "
                                   f"labels {None if hy is None else np.bincount(hy.astype(int)).tolist()}")
        return super().forward(X)


train = honest.train
