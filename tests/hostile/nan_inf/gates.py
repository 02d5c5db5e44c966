"""HOSTILE (nan_inf): NaN and inf instead of numbers: ExpGate.forward returns NaN, MultiplyGate.backward
returns inf and -inf; the other gates are the student's honest ones. A safe grader carries them as
float64 numbers (never as "equal" to anything) and fails those checks. Bounded: no loops."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class MultiplyGate(honest_gates.MultiplyGate):
    def backward(self, dz):
        return [dz * np.inf, -np.inf * np.ones_like(self.x)]


class ExpGate(honest_gates.ExpGate):
    def forward(self, x):
        # HOSTILE: NaN and inf instead of numbers
        self.z = np.exp(x)
        return np.full(np.shape(x), np.nan)
