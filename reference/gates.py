"""Gates with a forward()/backward() API, as in the lecture.

forward() computes the output and keeps what backward() needs; backward(dz) applies the chain rule
and returns dL/dinput for each input, in input order. Inputs are never modified.
"""

import numpy as np


def _sigmoid(x):
    # exp of a non-positive number only: no overflow, no warning, for any x
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


class AddGate:
    """z = x + y: the gradient distributor."""

    def forward(self, x, y):
        return np.add(x, y)

    def backward(self, dz):
        dz = np.asarray(dz, dtype=float)
        return [dz.copy(), dz.copy()]


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
