"""HOSTILE (integrity, class 3/"nothing of the named property"): no backward anywhere. Every gate's
forward is honest; its backward never applies a local derivative: it re-runs forward on perturbed
copies of the saved inputs and returns centered differences, dz-weighted. (graph.py and mlp.py of
this case do the same: a graph engine whose backward never calls a gate's backward, an MLP whose
loss() gradients are finite differences of its own loss.) The assignment is backpropagation; this
submission contains none.

A safe grader must not award the backward/gradient checks (gates.*.backward, gates.*.numerical,
graph.* gradients, mlp.gradients.*, mlp.numerical) to code with no backward pass, e.g. by noticing
that backward calls forward (call counts of the stand-in gates, or of the student's own forward),
or by timing/counting evaluations. Bounded: inputs have at most a dozen elements."""
import numpy as np

import honest_gates

H = 1e-5


class _FD:
    def __init__(self, *args):
        self._ctor = args
        super().__init__(*args)

    def forward(self, *inputs):
        self._saved = [np.array(x, dtype=float) if np.asarray(x).dtype.kind == "f" else np.array(x)
                       for x in inputs]
        self._args = getattr(self, "_ctor", ())
        return super().forward(*inputs)

    def _f(self, xs):
        return np.asarray(self._honest(*self._ctor).forward(*xs), dtype=float)

    def backward(self, dz=1.0):
        dz = np.asarray(dz, dtype=float)
        xs, out = self._saved, []
        for i, x in enumerate(xs):
            if x.dtype.kind != "f":
                out.append(np.zeros(x.shape))
                continue
            g = np.zeros(x.shape)
            for j in np.ndindex(x.shape):
                h = H * max(1.0, abs(float(x[j])))
                plus = [a.copy() for a in xs]
                minus = [a.copy() for a in xs]
                plus[i][j] += h
                minus[i][j] -= h
                g[j] = np.sum(dz * (self._f(plus) - self._f(minus))) / (2 * h)
            out.append(g)
        return out


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (_FD, _honest), {"_honest": _honest})
