"""HOSTILE (infinite_loop): MultiplyGate.forward spins; the other gates are the student's honest ones.
A safe sandbox stops the call at its time limit (or its CPU limit), restarts the worker and grades
the rest. Bounded: gives up by itself after 60 s."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class MultiplyGate(honest_gates.MultiplyGate):
    def forward(self, x, y):
        # HOSTILE: spins (bounded: gives up by itself after 60 s)
        import time
        t0 = time.time()
        while time.time() < t0 + 60:
            pass
        return np.multiply(x, y)
