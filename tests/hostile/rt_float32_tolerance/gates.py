"""HOSTILE (class 5, choosing your own tolerance): every backward is 0.04 % too large, and every value
(forward and gradients) is rounded to float32 so that the forward's roundoff looks like float32
arithmetic. The same 0.04 % error in float64 fails gates.*.numerical for all twelve gates; rounded to
float32, the numerical check switches to float32 steps/tolerance and passes it for 9 of 12 gates
(AddGate, ExpGate, InverseGate, AddConstantGate, SigmoidGate, TanhGate, ReLUGate, MatMulGate,
SoftmaxCrossEntropyGate): +9 points for rounding the output. mlp.py of this case does the same to
the MLP (gradients 0.04 % off, loss and scores as float32): mlp.numerical passes (+2), its float64 twin
fails it.

A safe grader must fail gates.*.numerical here exactly as for the float64 twin (a float32-looking
forward may make a slope inconclusive, never a pass at a looser tolerance than the backward check's),
or at least not award more than the float64 twin gets. At fault: numerics.check_vjp's float32 redo
(precision measured from the values' roundoff) as used by checks/common.numerical_verdict. Bounded:
the reference's inputs only."""
import numpy as np

import honest_gates

FACTOR = 1.0004


class _F32:
    def forward(self, *inputs):
        out = super().forward(*inputs)
        return np.float32(out) if np.ndim(out) == 0 else np.asarray(out, dtype=np.float32)

    def backward(self, *dz):
        return [np.asarray(np.asarray(g, dtype=float) * FACTOR, dtype=np.float32) for g in super().backward(*dz)]


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (_F32, _honest), {})
