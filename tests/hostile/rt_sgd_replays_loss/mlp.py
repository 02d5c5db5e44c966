"""HOSTILE (integrity, class 3: an sgd_step that fakes its step). sgd_step computes nothing: it ignores
X, y and the current parameters and replays the loss and gradients of the most recent loss() call
(a stale step; before any loss() call it returns 0.0 and moves nothing). The grader calls
loss(X, y) and then sgd_step(X, y, lr) on the same parameters, so the replay looks exact. train is
honest (it calls loss() itself and updates), so only sgd_step is fake.

A safe grader must fail mlp.sgd_step: e.g. call sgd_step on parameters or data that no preceding
loss() call saw (a fresh network after set, or other X, y), and compare with the reference step.
Bounded: a few small networks."""
import numpy as np

import _honest_mlp as honest


class MLP(honest.MLP):
    def loss(self, X, y):
        loss, grads = super().loss(X, y)
        MLP._last = (loss, {k: np.array(g) for k, g in grads.items()})
        return loss, grads

    def sgd_step(self, X, y, lr):
        last = getattr(MLP, "_last", None)
        if last is None:
            return 0.0
        loss, grads = last
        for k, g in grads.items():
            self.params[k] = self.params[k] - lr * g
        return loss


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    rng = np.random.default_rng(seed)
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=int)
    losses = []
    for _ in range(steps):
        rows = rng.choice(len(X), size=min(batch_size, len(X)), replace=False)
        loss, grads = net.loss(X[rows], y[rows])
        for k, g in grads.items():
            net.params[k] = net.params[k] - lr * g
        losses.append(loss)
    return losses
