"""HOSTILE (class 5, choosing your own tolerance by noise injection). Every forward multiplies its value
by (1 + 1e-5 * gaussian noise): far inside the forward check's rtol of 1e-4, so gates.*.forward passes.
Every backward is 5 % too large. The numerical check measures the forward's roundoff, takes the noise
for float32-like arithmetic (anything up to 1e-4 relative is accepted as "roundoff", not as a kink) and
widens its tolerance by the noise over the step: gates.MatMulGate.numerical passes with a backward
that is 5 % wrong (seeds 0 and 5), gates.SoftmaxCrossEntropyGate.numerical too at seed 0 (where it
still passes with 20 % wrong). The other gates' numerical checks call the noise a kink (inconclusive:
no points). mlp.py of this case does the same to the MLP's loss (noise 1e-5,
gradients 5 % too large): mlp.numerical already fails it ("inconclusive"), kept as a regression guard.

A safe grader must fail every gates.*.numerical and mlp.numerical here: noise the student chose may make
a check inconclusive (an error, no points), never widen a passing tolerance beyond what a 5 % error
needs to fail; e.g. cap the roundoff allowance at float32's own, or require the forward's values to be
deterministic (the same input twice gives the same value). At fault: numerics.check_vjp (roundoff
allowance from the measured noise, up to _MAX_ROUNDOFF) used by checks/common.numerical_verdict.
Bounded: the grader's inputs only."""
import numpy as np

import honest_gates

NOISE, FACTOR = 1e-5, 1.05
_rng = np.random.default_rng(7)


class _Noisy:
    def forward(self, *inputs):
        out = np.asarray(super().forward(*inputs), dtype=float)
        return out * (1.0 + NOISE * _rng.standard_normal(out.shape))

    def backward(self, *dz):
        return [np.asarray(g, dtype=float) * FACTOR for g in super().backward(*dz)]


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (_Noisy, _honest), {})
