"""A two-layer fully-connected network, affine - ReLU - affine - softmax, CS231n style.

The model solution of the "layers" assignment (docs/layers-contract.md). It has its own few lines of
the layers' math (it imports nothing from layers.py), written from the math like the layers.
"""

import numpy as np


class TwoLayerNet:
    """scores = relu(X W1 + b1) W2 + b2 for X (N, d_1, ..., d_k) flattened to (N, D); the loss is the
    mean softmax cross-entropy plus 0.5 * reg * (|W1|^2 + |W2|^2)."""

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        self.reg = reg
        # numpy's global generator, as CS231n: np.random.seed(s) first makes the weights reproducible
        self.params = {
            "W1": weight_scale * np.random.randn(input_dim, hidden_dim),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * np.random.randn(hidden_dim, num_classes),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y=None):
        """The scores (N, C) when y is None; else (loss, grads), grads with the keys and shapes of params.
        The parameters are read from self.params at every call."""
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        x = X.reshape(len(X), -1)
        a = x @ W1 + b1
        h = np.maximum(a, 0.0)
        scores = h @ W2 + b2
        if y is None:
            return scores
        rows = np.arange(len(y))
        shifted = scores - scores.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -logp[rows, y].mean() + 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = np.exp(logp)
        dscores[rows, y] -= 1.0
        dscores /= len(y)
        da = np.where(a > 0, dscores @ W2.T, 0.0)
        grads = {
            "W1": x.T @ da + self.reg * W1,
            "b1": da.sum(axis=0),
            "W2": h.T @ dscores + self.reg * W2,
            "b2": dscores.sum(axis=0),
        }
        return float(loss), grads


def two_layer_net_kink_distance(params, X, y):
    """Grader-facing (the TwoLayerNet unit's accept condition): how far a case, the network's parameters
    and data, is from ReLU's kink: the smallest |hidden pre-activation|."""
    a = X.reshape(len(X), -1) @ params["W1"] + params["b1"]
    return float(np.abs(a).min())
