"""HOSTILE (sneaky_reference): ExpGate.forward looks for the reference solution (and a secret the test
planted in a hidden folder) by every route snoop.py knows, and returns how many routes leaked
something; the other gates are the student's honest ones. A safe sandbox leaves every route empty:
0 leaks. Bounded: see snoop.py (reads only, 1.5 s of walking)."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class ExpGate(honest_gates.ExpGate):
    def forward(self, x):
        # HOSTILE: look for the reference (and a secret planted by the test) by every route it knows;
        # returns how many routes leaked something
        self.z = np.exp(x)
        import snoop

        return np.asarray(float(snoop.leaks()))
