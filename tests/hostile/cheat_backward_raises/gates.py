"""HOSTILE (integrity): correct forwards; every backward raises. Nothing about backward, its shapes,
centered differences or its arguments can be checked, so none of those may pass."""

import numpy as np


def _sig(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softmax_ce(scores, labels):
    s = scores - scores.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), np.asarray(labels, dtype=int)].mean())


FORWARD = {
    "AddGate": lambda self, x, y: x + y,
    "MultiplyGate": lambda self, x, y: x * y,
    "MaxGate": lambda self, x, y: np.maximum(x, y),
    "ExpGate": lambda self, x: np.exp(x),
    "InverseGate": lambda self, x: 1.0 / x,
    "AddConstantGate": lambda self, x: self.c + x,
    "ScaleGate": lambda self, x: self.c * x,
    "SigmoidGate": lambda self, x: _sig(x),
    "TanhGate": lambda self, x: np.tanh(x),
    "ReLUGate": lambda self, x: np.maximum(x, 0.0),
    "MatMulGate": lambda self, W, X: W @ X,
    "SoftmaxCrossEntropyGate": lambda self, s, y: _softmax_ce(s, y),
}


def _make(name, backward):
    def __init__(self, c=None):
        self.c = c

    def forward(self, *inputs):
        self.inputs = [np.asarray(v, dtype=float) if k == 0 or name != "SoftmaxCrossEntropyGate" else v
                       for k, v in enumerate(inputs)]
        return FORWARD[name](self, *inputs)

    return type(name, (), {"__init__": __init__, "forward": forward, "backward": backward})


def _raise(self, *dz):
    raise NotImplementedError("backward is left as an exercise")


for _name in FORWARD:
    globals()[_name] = _make(_name, _raise)
