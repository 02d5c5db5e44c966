"""The layers of a student who has not written affine_forward/affine_backward (they raise); the other
layers are the correct example's. With rt21_oracle_hidden_unit/fc_net.py (see there)."""
import numpy as np


def affine_forward(x, w, b):
    raise NotImplementedError("not written yet")


def affine_backward(dout, cache):
    raise NotImplementedError("not written yet")


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = x.shape[0]
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    return -np.sum(log_probs[np.arange(n), y]) / n, dx / n
