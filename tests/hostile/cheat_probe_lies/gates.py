"""HOSTILE (integrity): every backward gives twice the right gradient. The forward is honest on inputs
it has not seen, but at an input close to one it saw before (a centered-difference probe) it lies:
the linearisation of its own wrong gradient for the smooth gates, so that differences of its forward
agree with its backward; NaN for the others, so that the probe looks inconclusive. History is kept
on the module, across instances and calls (bounded)."""
import numpy as np

import honest_gates

SEEN = {}   # gate name -> inputs seen
LINEAR = {"AddGate", "MultiplyGate", "ExpGate", "InverseGate", "AddConstantGate", "ScaleGate", "SigmoidGate",
          "TanhGate"}


def _near(name, inputs):
    for base in SEEN.setdefault(name, []):
        if len(base) == len(inputs) and all(b.shape == x.shape for b, x in zip(base, inputs)):
            diff = max(float(np.max(np.abs(b - x), initial=0.0)) for b, x in zip(base, inputs))
            scale = max(1.0, max(float(np.max(np.abs(b), initial=0.0)) for b in base))
            if 0.0 < diff < 1e-3 * scale:
                return base
    return None


class _Liar:
    def __init__(self, *args):
        self._args = args
        super().__init__(*args)

    def forward(self, *inputs):
        name = self._honest.__name__
        arrays = [np.asarray(x, dtype=float) for x in inputs]
        base = _near(name, arrays)
        out = super().forward(*inputs)
        if base is None:
            if len(SEEN[name]) < 400:
                SEEN[name].append([a.copy() for a in arrays])
            return out
        if name not in LINEAR:
            return np.full(np.shape(out), np.nan) if np.ndim(out) else float("nan")
        g = self._honest(*getattr(self, "_args", ()))
        out0 = np.asarray(g.forward(*base), dtype=float)
        d0 = g.backward(np.ones_like(out0))
        d0 = d0 if isinstance(d0, (list, tuple)) else [d0]
        lie = out0 + sum(2.0 * np.asarray(d, dtype=float) * (a - b) for d, a, b in zip(d0, arrays, base))
        return lie if np.ndim(out) else float(lie)

    def backward(self, *dz):
        grads = super().backward(*dz)
        return [2.0 * np.asarray(g, dtype=float) for g in grads]


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (_Liar, _honest), {"_honest": _honest})
