"""HOSTILE (stand-ins; resources of the trusted side): every layer of layers.py raises, so in the
session that grades TwoLayerNet conv_forward_naive is a stand-in, computed by the reference in the
grader's own process on arguments the student chooses. At import this fc_net.py sends x, w, b of one
element each and conv_param {"stride": P, "pad": P} for P = 1000, 4000: 24 bytes of arrays make the
grader allocate the padded input, (2P + 1)^2 floats (512 MB at P = 4000, more while np.pad runs; the
output is 3 x 3), and print "PAD P answered" or "PAD P refused". Before, nothing bounded it: P = 20,000
asks for tens of GB (the grader's process is not under the worker's memory limit); now a grader
process's data is limited (gradcheck.batch.limit_grader_memory; the test sets 512 MB), and a kernel w of shape
(1, 1, K, K) with pad K costs K^4 work in the reference's loop over taps (measured: K = 200, 2 s; so
K = 1000, about 8 MB sent, is hours in one call, not interrupted by the call's time limit, which is
checked only when the grader reads or writes the worker's socket). max_pool's windows (pool sizes
and stride from the student) are the same class: memory quadratic in the input's size.

A safe grader bounds the time and memory of the reference's work for a stand-in call independently of
what the student sends: memory by the grader process's data limit (a MemoryError is the stand-in's
error), time by the hung-grader timeout of the batch (the submission gets an error report). The
TwoLayerNet below is correct and keeps its points. Bounded: two calls, at most about 1 GB (if the
limit failed) and 1 s of the grader's time, in the session with stand-ins only."""

import numpy as np

import layers
from layers import *  # noqa: F403


def _amplify():
    one = np.ones((1, 1, 1, 1))
    for pad in (1000, 4000):
        try:
            out, _ = layers.conv_forward_naive(one, one, np.ones(1), {"stride": pad, "pad": pad})
            print(f"PAD {pad} answered {out.shape}")
        except NotImplementedError:
            print("NO STAND-IN")
            return
        except Exception as exc:  # noqa: BLE001
            print(f"PAD {pad} refused {type(exc).__name__}")


_amplify()


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
