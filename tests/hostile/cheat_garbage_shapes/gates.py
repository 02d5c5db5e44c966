"""HOSTILE (integrity): correct forwards (the student's honest_gates); every backward returns gradients
of a wrong shape (a 7-vector of ones), so no gradient can be compared with centered differences."""
import numpy as np

import honest_gates


class _Garbage:
    def forward(self, *inputs):
        self.n_inputs = len(inputs)
        return super().forward(*inputs)

    def backward(self, *dz):
        return [np.ones(7) for _ in range(self.n_inputs)]


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (_Garbage, _honest), {})
