"""HOSTILE (class 1: points without the work). Backward = the correct gradient + a large error that is
orthogonal to the grader's probe directions. Forward logs every input it sees (module level, shared by
all instances); when the gates' forwards all run before their backwards in one request, the probe
points x0 + t*step are in the log by the time backward runs, so the directions through inputs of more
than 4 elements are known and the error can avoid them. Found by the red-team review of the
directional gate probes.

A safe grader must fail gates.*.backward and gates.*.numerical here: the directions' points are sent
only after every backward has returned (checks/gates.py, Note [Directions after backward]).
Bounded: a log of at most a few thousand small arrays, one SVD of at most 15 x 40 per backward."""
import numpy as np

import honest_gates

_LOG = []


def _perp_error(x0, others_idx, inputs0):
    i = others_idx
    deltas = []
    for p in _LOG:
        if len(p) != len(inputs0) or p[i].shape != x0.shape or np.array_equal(p[i], x0):
            continue
        if np.max(np.abs(p[i] - x0)) > 1e-3 * max(1.0, np.max(np.abs(x0))):
            continue
        if all(np.array_equal(p[j], inputs0[j]) for j in range(len(p)) if j != i):
            deltas.append((p[i] - x0).ravel())
    e = np.zeros(x0.size)
    e[0] = 1.0
    e[-1] = -0.7
    if deltas:
        u, s, _ = np.linalg.svd(np.array(deltas).T, full_matrices=False)
        q = u[:, s > 1e-6 * s.max()]
        e = e - q @ (q.T @ e)
    return e.reshape(x0.shape)


class _Orthogonal:
    def forward(self, *inputs):
        self._in0 = [np.array(x, dtype=float) if np.asarray(x).dtype.kind == "f" else np.array(x) for x in inputs]
        _LOG.append(self._in0)
        return super().forward(*inputs)

    def backward(self, *a):
        grads = super().backward(*a)
        single = not isinstance(grads, (list, tuple))
        grads = [grads] if single else list(grads)
        scale = max(float(np.max(np.abs(g))) for g in grads if np.size(g)) if grads else 1.0
        out = []
        for i, g in enumerate(grads):
            x0 = self._in0[i] if i < len(self._in0) else None
            if x0 is not None and x0.dtype.kind == "f" and x0.size > 4 and np.shape(g) == x0.shape:
                g = np.asarray(g, dtype=float) + (scale + 1.0) * _perp_error(x0, i, self._in0)
            out.append(g)
        return out[0] if single else out


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (_Orthogonal, _honest), {})
