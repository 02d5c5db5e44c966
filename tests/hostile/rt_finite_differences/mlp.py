"""HOSTILE (see gates.py of this case): an MLP whose loss() returns the reference's loss and, as
gradients, centered differences of that loss in every parameter (no backward pass; the perturbed
networks are evaluated as one batch, so it is fast). sgd_step and train are the reference's, on top
of it. A safe grader must not award mlp.gradients.* or mlp.numerical to it."""
import numpy as np

import honest_mlp as honest

H = 1e-5


def _ce(scores, y):
    """Mean cross-entropy over the last two axes: scores (..., N, C) -> (...)."""
    shifted = scores - scores.max(axis=-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -logp[..., np.arange(len(y)), y].mean(axis=-1)


class MLP(honest.MLP):
    def _losses(self, X, y, key, stack):
        """The loss with params[key] replaced by each entry of ``stack`` (B, *shape): (B,) losses."""
        h = X[None]
        for i in range(1, self.n_layers + 1):
            W, b = self.params[f"W{i}"], self.params[f"b{i}"]
            if key == f"W{i}":
                W = stack
            if key == f"b{i}":
                b = stack[:, None, :]
            a = h @ np.swapaxes(W, -1, -2) + b
            h = a if i == self.n_layers else self.act(a)
        return np.broadcast_to(_ce(h, y), (len(stack),))

    def loss(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=int)
        value = float(_ce(self.forward(X), y))
        grads = {}
        for k, p in self.params.items():
            p = np.asarray(p, dtype=float)
            n = p.size
            steps = H * np.maximum(1.0, np.abs(p.ravel()))
            eye = np.eye(n) * steps[:, None]
            plus = (p.ravel()[None, :] + eye).reshape((n,) + p.shape)
            minus = (p.ravel()[None, :] - eye).reshape((n,) + p.shape)
            grads[k] = ((self._losses(X, y, k, plus) - self._losses(X, y, k, minus)) / (2 * steps)).reshape(p.shape)
        return value, grads


train = honest.train
