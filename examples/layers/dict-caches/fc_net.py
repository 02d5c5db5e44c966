import numpy as np

import layers


class TwoLayerNet:
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        self.reg = reg
        self.params = {
            "W1": np.random.normal(0.0, weight_scale, (input_dim, hidden_dim)),
            "b1": np.zeros(hidden_dim),
            "W2": np.random.normal(0.0, weight_scale, (hidden_dim, num_classes)),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y=None):
        caches = {}
        a, caches["fc1"] = layers.affine_forward(X, self.params["W1"], self.params["b1"])
        h, caches["relu"] = layers.relu_forward(a)
        scores, caches["fc2"] = layers.affine_forward(h, self.params["W2"], self.params["b2"])
        if y is None:
            return scores

        data_loss, dscores = layers.softmax_loss(scores, y)
        W1, W2 = self.params["W1"], self.params["W2"]
        loss = data_loss + 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

        grads = {}
        dh, grads["W2"], grads["b2"] = layers.affine_backward(dscores, caches["fc2"])
        da = layers.relu_backward(dh, caches["relu"])
        _, grads["W1"], grads["b1"] = layers.affine_backward(da, caches["fc1"])
        grads["W1"] = grads["W1"] + self.reg * W1
        grads["W2"] = grads["W2"] + self.reg * W2
        return loss, grads
