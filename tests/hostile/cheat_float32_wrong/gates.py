"""HOSTILE (integrity): every backward is 0.15 % too large, and every value comes back as float32 (the
gradients, and the forward's values too, rounded to float32 so that their roundoff looks like float32
arithmetic) so that the grader might switch to float32 tolerances. A grader that takes the precision
from the dtype a student returns gives it full marks; the backward and numerical checks must fail."""
import numpy as np

import honest_gates


class _F32:
    def forward(self, *inputs):
        return np.float32(super().forward(*inputs)) if np.ndim(super().forward(*inputs)) == 0 \
            else np.asarray(super().forward(*inputs), dtype=np.float32)

    def backward(self, *dz):
        return [np.asarray(np.asarray(g, dtype=float) * 1.0015, dtype=np.float32) for g in super().backward(*dz)]


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (_F32, _honest), {})
