"""HOSTILE (setsid_busy): AddGate.forward runs busy.py (see there); the other gates are the student's honest ones."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        # HOSTILE: six children that setsid and busy-loop for 4 s each (they end by themselves), started in
        # the background; returns 6 (see busy.py)
        import busy

        return np.add(x, y) * 0 + busy.run()
