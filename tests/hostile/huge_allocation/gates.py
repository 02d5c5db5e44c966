"""HOSTILE (huge_allocation): ExpGate.forward allocates about 4 GB and touches it; the other gates are
the student's honest ones. A safe sandbox's memory limit makes the allocation fail (a MemoryError
reported for that call) and the worker goes on. Bounded: one allocation of 4 GB."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class ExpGate(honest_gates.ExpGate):
    def forward(self, x):
        # HOSTILE: about 4 GB (500 million float64), touched so that it is really used
        big = np.ones(500_000_000)
        self.z = np.exp(x) + big[0] - 1.0
        return self.z
