import numpy as np

from layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss


class TwoLayerNet(object):
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        self.reg = reg
        self.params = {}
        self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)

    def loss(self, X, y=None):
        h_pre, cache1 = affine_forward(X, self.params["W1"], self.params["b1"])
        h, cache_relu = relu_forward(h_pre)
        scores, cache2 = affine_forward(h, self.params["W2"], self.params["b2"])
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        for name in ("W1", "W2"):
            W = self.params[name]
            for idx in np.ndindex(*W.shape):
                loss += 0.5 * self.reg * W[idx] * W[idx]

        grads = {}
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        dh_pre = relu_backward(dh, cache_relu)
        _, grads["W1"], grads["b1"] = affine_backward(dh_pre, cache1)
        for name in ("W1", "W2"):
            W = self.params[name]
            for idx in np.ndindex(*W.shape):
                grads[name][idx] += self.reg * W[idx]
        return loss, grads
