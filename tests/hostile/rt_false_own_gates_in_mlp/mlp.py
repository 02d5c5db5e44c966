"""NOT HOSTILE (see gates.py of this case): an MLP built from the student's own gates, as in the
lecture: scores = act(h @ W.T + b) ... via MatMulGate (W @ h.T, transposed), AddGate for the bias
(broadcast over the batch), the activation gates and SoftmaxCrossEntropyGate; backward runs the gates
in reverse; sgd_step and train are those of the student's honest_mlp. Correct with the student's
gates; it needs AddGate's broadcasting for the bias."""
import numpy as np

import honest_mlp
from honest_mlp import train  # noqa: F401

from gates import AddGate, MatMulGate, ReLUGate, SigmoidGate, SoftmaxCrossEntropyGate, TanhGate

ACTS = {"sigmoid": SigmoidGate, "tanh": TanhGate, "relu": ReLUGate}


class MLP:
    def __init__(self, sizes, activation="sigmoid", seed=0):
        if len(sizes) < 2 or activation not in ACTS:
            raise ValueError("bad sizes or activation")
        self.act, self.n = ACTS[activation], len(sizes) - 1
        rng = np.random.default_rng(seed)
        self.params = {}
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = rng.standard_normal((b, a)) / np.sqrt(a)
            self.params[f"b{i}"] = np.zeros(b)

    def _forward(self, X):
        h, tape = np.asarray(X, dtype=float), []
        for i in range(1, self.n + 1):
            mm, add = MatMulGate(), AddGate()
            a = add.forward(mm.forward(self.params[f"W{i}"], h.T).T, self.params[f"b{i}"])
            act = self.act() if i < self.n else None
            h = act.forward(a) if act else a
            tape.append((mm, add, act))
        return h, tape

    def forward(self, X):
        return self._forward(X)[0]

    def loss(self, X, y):
        scores, tape = self._forward(X)
        ce = SoftmaxCrossEntropyGate()
        loss = ce.forward(scores, np.asarray(y, dtype=int))
        d = ce.backward(1.0)[0]
        grads = {}
        for i in range(self.n, 0, -1):
            mm, add, act = tape[i - 1]
            if act is not None:
                d = act.backward(d)[0]
            d, grads[f"b{i}"] = add.backward(d)
            dW, dhT = mm.backward(d.T)
            grads[f"W{i}"], d = dW, dhT.T
        return loss, grads

    sgd_step = honest_mlp.MLP.sgd_step   # the student's usual step: loss(), then params -= lr * grads
