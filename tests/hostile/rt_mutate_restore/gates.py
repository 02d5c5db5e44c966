"""HOSTILE (class 2: a check that looks at the wrong moment). Honest gates (the student's
honest_gates), except that forward modifies its first input in place (adds 1000 to it) and backward
puts it back exactly. The caller's array is wrong between forward and backward, which is exactly when
a graph runs the other gates reading the same node (x feeding two gates: the second gate sees
x + 1000). gates.*.no_mutation compares the arguments only after both steps, so it passes (0.5 points
for each of the twelve gates: 6 points; every gate's first input is an array in some case), although
the contract says no method may modify the arrays it is given. (Python floats cannot be modified:
those cases are honest.)

A safe grader must fail gates.*.no_mutation here: compare the inputs right after forward too (and dz
right after backward). At fault: sandbox/inside/ops.op_gates (in_after taken at the end only) and
checks/gates._judge_mutation. Bounded: no loops."""
import numpy as np

import honest_gates


class _Sneaky:
    def forward(self, *inputs):
        out = super().forward(*[np.array(x) for x in inputs])
        first = inputs[0]
        if isinstance(first, np.ndarray) and first.dtype.kind == "f":
            self._saved = first.copy()
            first += 1000.0
            self._restore = first
        return out

    def backward(self, *dz):
        grads = super().backward(*dz)
        if getattr(self, "_restore", None) is not None:
            self._restore[...] = self._saved   # exactly as it was
            self._restore = None
        return grads


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (_Sneaky, _honest), {})
