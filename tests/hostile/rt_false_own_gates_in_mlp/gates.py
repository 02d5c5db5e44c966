"""NOT HOSTILE - a correct student solution that loses points (class 9, false failure). The reference's
gates, except that AddGate also supports broadcasting: backward sums dz over the broadcast axes, so a
bias (H,) added to a batch (N, H) gets a gradient of shape (H,). On the contract's inputs (two inputs of
the same shape) it is exactly the reference's AddGate, and every gates.AddGate.* check passes.

mlp.py builds the network from these gates, as the lecture does (MatMulGate, AddGate for the bias,
the activation gates, SoftmaxCrossEntropyGate), which the contract allows ("mlp.py may import gates").
The grader runs mlp.py with its stand-in gates instead of the student's: the stand-in AddGate returns dz
of the batch's shape for the bias, so the student's correct MLP gets db of shape (N, H) and loses
mlp.gradients.*, mlp.numerical, mlp.sgd_step and mlp.train.

A safe grader must give full marks: the student's own gates are correct on everything the contract
asks; a stand-in may replace a gate only where the student's gate is wrong (or the stand-in must behave
like the student's gate wherever the student's gate passes its checks), and the contract must say so.
At fault: grading.standins / ops.op_load (session B replaces every contract gate class)."""

import numpy as np


def _sigmoid(x):
    # exp of a non-positive number only: no overflow, no warning, for any x
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class AddGate:
    """z = x + y: the gradient distributor."""

    def forward(self, x, y):
        self.shapes = (np.shape(x), np.shape(y))
        return np.add(x, y)

    def backward(self, dz):
        # also works with broadcasting (a bias row added to a batch): sum dz over the broadcast axes
        dz = np.asarray(dz, dtype=float)
        return [_unbroadcast(dz, s) for s in self.shapes]


def _unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g.copy()


class MultiplyGate:
    """z = x * y: the gradient switcher."""

    def forward(self, x, y):
        self.x, self.y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        return self.x * self.y

    def backward(self, dz):
        return [dz * self.y, dz * self.x]


class MaxGate:
    """z = max(x, y) elementwise: the gradient router."""

    def forward(self, x, y):
        self.x_wins = np.asarray(x) >= np.asarray(y)
        return np.maximum(x, y)

    def backward(self, dz):
        return [np.where(self.x_wins, dz, 0.0), np.where(self.x_wins, 0.0, dz)]


class ExpGate:
    """z = e^x."""

    def forward(self, x):
        self.z = np.exp(x)
        return self.z

    def backward(self, dz):
        return [dz * self.z]


class InverseGate:
    """z = 1 / x."""

    def forward(self, x):
        self.z = 1.0 / np.asarray(x, dtype=float)
        return self.z

    def backward(self, dz):
        return [-dz * self.z**2]


class AddConstantGate:
    """z = c + x."""

    def __init__(self, c):
        self.c = float(c)

    def forward(self, x):
        return self.c + np.asarray(x, dtype=float)

    def backward(self, dz):
        return [np.array(dz, dtype=float)]


class ScaleGate:
    """z = a * x."""

    def __init__(self, a):
        self.a = float(a)

    def forward(self, x):
        return self.a * np.asarray(x, dtype=float)

    def backward(self, dz):
        return [self.a * np.asarray(dz, dtype=float)]


class SigmoidGate:
    """z = 1 / (1 + e^-x); dz/dx = z (1 - z)."""

    def forward(self, x):
        self.z = _sigmoid(np.asarray(x, dtype=float))
        return self.z

    def backward(self, dz):
        return [dz * self.z * (1.0 - self.z)]


class TanhGate:
    """z = tanh(x); dz/dx = 1 - z^2."""

    def forward(self, x):
        self.z = np.tanh(x)
        return self.z

    def backward(self, dz):
        return [dz * (1.0 - self.z**2)]


class ReLUGate:
    """z = max(0, x)."""

    def forward(self, x):
        self.positive = np.asarray(x) > 0
        return np.where(self.positive, x, 0.0)

    def backward(self, dz):
        return [np.where(self.positive, dz, 0.0)]


class MatMulGate:
    """Z = W @ X with W (m, n) and X (n, k)."""

    def forward(self, W, X):
        self.W, self.X = np.asarray(W, dtype=float), np.asarray(X, dtype=float)
        return self.W @ self.X

    def backward(self, dZ):
        return [dZ @ self.X.T, self.W.T @ dZ]


def log_softmax(scores):
    """Row-wise log softmax, shifted by the row max so that exp never overflows."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class SoftmaxCrossEntropyGate:
    """L = mean_i -log softmax(scores_i)[labels_i] (natural log)."""

    def forward(self, scores, labels):
        scores = np.asarray(scores, dtype=float)
        self.labels = np.asarray(labels, dtype=int)
        self.logp = log_softmax(scores)
        rows = np.arange(len(self.labels))
        return float(-self.logp[rows, self.labels].mean())

    def backward(self, dout=1.0):
        n = len(self.labels)
        dscores = np.exp(self.logp)
        dscores[np.arange(n), self.labels] -= 1.0
        return [dout * dscores / n]
