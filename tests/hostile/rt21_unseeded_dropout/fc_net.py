"""HOSTILE (stand-ins; determinism): every layer of layers.py raises, so dropout_forward is a stand-in
computed by the grader, and this TwoLayerNet's scores go through a train-mode dropout without a
"seed" in dropout_param: the reference's dropout then draws its mask from numpy's global generator of
the grader's process, whose state depends on what that process did before (other submissions, other
stand-in calls, the order of --jobs). The scores are wrong either way (the network is not the
contract's); what matters is that the report of the same submission with the same seed must be the
same every time: two copies graded in one class must get identical checks.

A safe grader runs a stand-in's reference with numpy's global generator in a state that depends only
on the call, and leaves its own generator as it was. Bounded: a few hundred small calls."""

import numpy as np

from layers import *  # noqa: F403


class TwoLayerNet(object):
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        self.reg = reg
        self.params = {
            "W1": weight_scale * np.random.randn(input_dim, hidden_dim),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * np.random.randn(hidden_dim, num_classes),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y=None):
        a, c1 = affine_forward(X, self.params["W1"], self.params["b1"])
        h, c2 = relu_forward(a)
        h, c3 = dropout_forward(h, {"mode": "train", "p": 0.5})
        scores, c4 = affine_forward(h, self.params["W2"], self.params["b2"])
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(self.params["W1"] ** 2) + np.sum(self.params["W2"] ** 2))
        grads = {}
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, c4)
        dh = dropout_backward(dh, c3)
        da = relu_backward(dh, c2)
        _, grads["W1"], grads["b1"] = affine_backward(da, c1)
        grads["W1"] += self.reg * self.params["W1"]
        grads["W2"] += self.reg * self.params["W2"]
        return loss, grads
