"""Correct gates that stand in for a student's own where a scored check must not depend on them.

When the grader checks a student's graph or MLP, the contract's gate classes in the student's
``gates`` module are replaced by these, so that one wrong gate costs points under that gate's
checks only. Loaded only in worker sessions that never grade the student's gates.
Standard library and numpy only: this file runs inside the worker.
"""
import numpy as np


class _Elementwise:
    """A gate z = f(inputs) whose local derivatives are elementwise: dinput_i = dz * partial_i."""

    def forward(self, *inputs):
        self._inputs = [np.array(x, dtype=float) for x in inputs]
        out, self._partials = self.rule(*self._inputs)
        return out

    def backward(self, dz):
        dz = np.asarray(dz, dtype=float)
        return [dz * p for p in self._partials]


def _gate(name, rule):
    return type(name, (_Elementwise,), {"rule": staticmethod(rule)})


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


AddGate = _gate("AddGate", lambda x, y: (x + y, (np.ones_like(x), np.ones_like(y))))
MultiplyGate = _gate("MultiplyGate", lambda x, y: (x * y, (y, x)))
MaxGate = _gate("MaxGate", lambda x, y: (np.maximum(x, y), ((x >= y) * 1.0, (x < y) * 1.0)))
ExpGate = _gate("ExpGate", lambda x: (np.exp(x), (np.exp(x),)))
InverseGate = _gate("InverseGate", lambda x: (1.0 / x, (-1.0 / x**2,)))
SigmoidGate = _gate("SigmoidGate", lambda x: (_sigmoid(x), (_sigmoid(x) * _sigmoid(-x),)))
TanhGate = _gate("TanhGate", lambda x: (np.tanh(x), (1.0 / np.cosh(x) ** 2,)))
ReLUGate = _gate("ReLUGate", lambda x: (x * (x > 0), ((x > 0) * 1.0,)))


class AddConstantGate(_Elementwise):
    def __init__(self, c):
        self.rule = lambda x: (x + float(c), (np.ones_like(x),))


class ScaleGate(_Elementwise):
    def __init__(self, a):
        self.rule = lambda x: (float(a) * x, (np.full_like(x, float(a)),))


class MatMulGate:
    def forward(self, W, X):
        self._W, self._X = np.array(W, dtype=float), np.array(X, dtype=float)
        return np.matmul(self._W, self._X)

    def backward(self, dZ):
        dZ = np.asarray(dZ, dtype=float)
        return [np.matmul(dZ, self._X.T), np.matmul(self._W.T, dZ)]


class SoftmaxCrossEntropyGate:
    def forward(self, scores, labels):
        s = np.array(scores, dtype=float)
        s -= s.max(axis=1, keepdims=True)
        self._p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
        self._onehot = np.eye(s.shape[1])[np.asarray(labels, dtype=int)]
        return float(-np.mean(np.sum(self._onehot * (s - np.log(np.exp(s).sum(axis=1, keepdims=True))), axis=1)))

    def backward(self, dout=1.0):
        return [float(dout) * (self._p - self._onehot) / len(self._p)]


CONTRACT_GATES = [
    "AddGate", "MultiplyGate", "MaxGate", "ExpGate", "InverseGate", "AddConstantGate", "ScaleGate",
    "SigmoidGate", "TanhGate", "ReLUGate", "MatMulGate", "SoftmaxCrossEntropyGate",
]
