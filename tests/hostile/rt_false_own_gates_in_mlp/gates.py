"""NOT HOSTILE - a correct student solution that loses points (class 9, false failure). The reference's
gates (the student's honest_gates), except that AddGate also supports broadcasting: backward sums dz
over the broadcast axes, so a bias (H,) added to a batch (N, H) gets a gradient of shape (H,). On the
contract's inputs (two inputs of the same shape) it is exactly the reference's AddGate, and every
gates.AddGate.* check passes.

mlp.py builds the network from these gates, as the lecture does (MatMulGate, AddGate for the bias,
the activation gates, SoftmaxCrossEntropyGate), which the contract allows ("mlp.py may import gates").
The grader runs mlp.py with its stand-in gates instead of the student's: the stand-in AddGate returns dz
of the batch's shape for the bias, so the student's correct MLP gets db of shape (N, H) and loses
mlp.gradients.*, mlp.numerical, mlp.sgd_step and mlp.train.

A safe grader must give full marks: the student's own gates are correct on everything the contract
asks; a stand-in may replace a gate only where the student's gate is wrong (or the stand-in must behave
like the student's gate wherever the student's gate passes its checks), and the contract must say so.
At fault: grading.standins / ops.op_load (session B replaces every contract gate class)."""

import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        self.shapes = (np.shape(x), np.shape(y))
        return super().forward(x, y)

    def backward(self, dz):
        # also works with broadcasting (a bias row added to a batch): sum dz over the broadcast axes
        dz = np.asarray(dz, dtype=float)
        return [_unbroadcast(dz, s) for s in self.shapes]


def _unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g.copy()
