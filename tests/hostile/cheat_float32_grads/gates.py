"""HOSTILE (integrity): every backward is 0.15 % too large and returned as float32 (the forward is
honest float64): the gradients' dtype must not loosen any tolerance."""
import numpy as np

import honest_gates


class _F32Grads:
    def backward(self, *dz):
        return [np.asarray(np.asarray(g, dtype=float) * 1.0015, dtype=np.float32) for g in super().backward(*dz)]


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (_F32Grads, _honest), {})
