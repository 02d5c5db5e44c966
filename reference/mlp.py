"""A multilayer perceptron with a softmax cross-entropy loss, trained with mini-batch SGD."""

import numpy as np


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# activation and its derivative written in terms of the activation's output h
ACTIVATIONS = {
    "sigmoid": (_sigmoid, lambda h: h * (1.0 - h)),
    "tanh": (np.tanh, lambda h: 1.0 - h**2),
    "relu": (lambda a: np.maximum(a, 0.0), lambda h: (h > 0).astype(float)),
}


class MLP:
    def __init__(self, sizes, activation="sigmoid", seed=0):
        if len(sizes) < 2 or activation not in ACTIVATIONS:
            raise ValueError(f"need two or more layer sizes and one of {sorted(ACTIVATIONS)}")
        self.act, self.dact = ACTIVATIONS[activation]
        self.n_layers = len(sizes) - 1
        rng = np.random.default_rng(seed)
        self.params = {}
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = rng.standard_normal((fan_out, fan_in)) / np.sqrt(fan_in)
            self.params[f"b{i}"] = np.zeros(fan_out)

    def _forward(self, X):
        hs = [np.asarray(X, dtype=float)]
        for i in range(1, self.n_layers + 1):
            a = hs[-1] @ self.params[f"W{i}"].T + self.params[f"b{i}"]
            hs.append(a if i == self.n_layers else self.act(a))
        return hs  # hs[-1] are the scores

    def forward(self, X):
        return self._forward(X)[-1]

    def loss(self, X, y):
        hs = self._forward(X)
        y = np.asarray(y, dtype=int)
        n = len(y)
        shifted = hs[-1] - hs[-1].max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(-logp[np.arange(n), y].mean())
        da = np.exp(logp)
        da[np.arange(n), y] -= 1.0
        da /= n
        grads = {}
        for i in range(self.n_layers, 0, -1):
            grads[f"W{i}"] = da.T @ hs[i - 1]
            grads[f"b{i}"] = da.sum(axis=0)
            if i > 1:
                da = (da @ self.params[f"W{i}"]) * self.dact(hs[i - 1])
        return loss, grads

    def sgd_step(self, X, y, lr):
        loss, grads = self.loss(X, y)
        for k, g in grads.items():
            self.params[k] = self.params[k] - lr * g
        return loss


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    """Mini-batch SGD: each step samples batch_size rows without replacement (all rows if fewer)."""
    rng = np.random.default_rng(seed)
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=int)
    losses = []
    for _ in range(steps):
        rows = rng.choice(len(X), size=min(batch_size, len(X)), replace=False)
        losses.append(net.sgd_step(X[rows], y[rows], lr))
    return losses
