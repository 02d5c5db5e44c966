"""NOT HOSTILE - a correct student solution that loses points (class 9, false failure). The reference's
gates (the student's honest_gates) with one textbook change: the cross-entropy is computed as
-log(p + 1e-7) (the epsilon in the log that CS231n-style code and Keras use), the backward/gradient stays
analytic (p - onehot) / N. Its loss is within 1e-6 relative of the exact one, far inside every
forward/loss check's rtol of 1e-4, and all the forward, loss, backward and gradients checks pass. But
the numerical check's anchor compares the slope of this forward with the reference's gradient at
float64 tolerance (about 1e-6), far tighter than the forward check: gates.SoftmaxCrossEntropyGate.numerical
(1 point) fails with "your forward/loss disagrees with the reference near these inputs".
(Measured at seed 0: 1e-7 in both fails both checks; 1e-8 in the gate passes its check; 1e-9 passes all.)

A safe grader must give full marks: the anchor (the student's slope vs the reference's) may not be
stricter than the forward/loss comparison, or it must blame only a slope error a wrong forward could
explain. At fault: checks/common.py numerical_verdict (anchor = check_vjp with the reference's grads at
numerics' float64 tolerance).
"""

import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class SoftmaxCrossEntropyGate(honest_gates.SoftmaxCrossEntropyGate):
    def forward(self, scores, labels):
        super().forward(scores, labels)
        p = np.exp(self.logp)
        return float(-np.log(p[np.arange(len(self.labels)), self.labels] + 1e-7).mean())
