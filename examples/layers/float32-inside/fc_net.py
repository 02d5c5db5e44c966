import numpy as np

from layers import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss


class TwoLayerNet:
    """affine - relu - affine - softmax, on top of the float32 layers."""

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        self.reg = reg
        self.params = {
            "W1": weight_scale * np.random.randn(input_dim, hidden_dim),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * np.random.randn(hidden_dim, num_classes),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y=None):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        a, c1 = affine_forward(X, W1, b1)
        h, c2 = relu_forward(a)
        scores, c3 = affine_forward(h, W2, b2)
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        W1_32, W2_32 = W1.astype(np.float32), W2.astype(np.float32)
        loss += float(0.5 * self.reg * (np.sum(W1_32 * W1_32) + np.sum(W2_32 * W2_32)))
        dh, dW2, db2 = affine_backward(dscores, c3)
        dx, dW1, db1 = affine_backward(relu_backward(dh, c2), c1)
        grads = {
            "W1": dW1 + (self.reg * W1_32).astype(np.float64),
            "b1": db1,
            "W2": dW2 + (self.reg * W2_32).astype(np.float64),
            "b2": db2,
        }
        return loss, grads
