"""HOSTILE (stand-ins; resources of the trusted side): every layer of layers.py raises, so in the session
that grades TwoLayerNet each is a stand-in whose calls the grader computes, keeping a function pair's
cache (the reference's, which holds copies of the inputs) until a backward may ask for it. At import,
this fc_net.py calls the affine stand-in 8 times with x (1, 2M) and w (2M, 1): 32 MB sent each time,
the grader keeps 256 MB of caches for a submission that never calls backward on them (a worker of
1 GB could hand it 20,000 of them). It then asks backward for the first cache and prints whether
the grader still held it ("FIRST CACHE KEPT" / "FIRST CACHE DROPPED").

A safe grader bounds the memory it keeps for a submission's stand-ins (it may drop the oldest caches:
a backward then fails, in the student's own code). The TwoLayerNet below is correct and keeps its
points (a model built from stand-ins is graded as the student's composition). Bounded: 8 calls of
32 MB at import, in the session with stand-ins only (in the student's own session the layers raise)."""

import numpy as np

import layers
from layers import *  # noqa: F403


def _flood():
    x, w, b = np.ones((1, 2_000_000)), np.ones((2_000_000, 1)), np.ones(1)
    try:
        caches = [layers.affine_forward(x, w, b)[1] for _ in range(8)]
    except Exception as exc:  # noqa: BLE001 - the student's own layers raise: nothing to flood
        print("NO STAND-IN", type(exc).__name__)
        return
    try:
        layers.affine_backward(np.ones((1, 1)), caches[0])
        print("FIRST CACHE KEPT")
    except Exception as exc:  # noqa: BLE001
        print("FIRST CACHE DROPPED", str(exc)[:80])


_flood()


def affine_relu_forward(x, w, b):
    """Convenience layer that performs an affine transform followed by a ReLU."""
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    cache = (fc_cache, relu_cache)
    return out, cache


def affine_relu_backward(dout, cache):
    """Backward pass for the affine-relu convenience layer."""
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    return dx, dw, db


class TwoLayerNet(object):
    """
    A two-layer fully-connected neural network with ReLU nonlinearity and
    softmax loss that uses a modular layer design.

    The architecure should be affine - relu - affine - softmax.

    The learnable parameters of the model are stored in the dictionary
    self.params that maps parameter names to numpy arrays.
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        self.params = {}
        self.reg = reg
        self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)

    def loss(self, X, y=None):
        """
        Compute loss and gradient for a minibatch of data.

        Returns:
        If y is None, then run a test-time forward pass of the model and return:
        - scores: Array of shape (N, C) giving classification scores

        If y is not None, then run a training-time forward and backward pass and
        return a tuple of:
        - loss: Scalar value giving the loss
        - grads: Dictionary with the same keys as self.params
        """
        scores = None
        h1, cache1 = affine_relu_forward(X, self.params["W1"], self.params["b1"])
        scores, cache2 = affine_forward(h1, self.params["W2"], self.params["b2"])

        # If y is None then we are in test mode so just return scores
        if y is None:
            return scores

        loss, grads = 0, {}
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(self.params["W1"] ** 2) + np.sum(self.params["W2"] ** 2))

        dh1, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        dx, grads["W1"], grads["b1"] = affine_relu_backward(dh1, cache1)
        grads["W1"] += self.reg * self.params["W1"]
        grads["W2"] += self.reg * self.params["W2"]

        return loss, grads
