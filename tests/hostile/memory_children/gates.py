"""HOSTILE (memory_children): AddGate.forward runs hog.py (see there); the other gates are the student's honest ones."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        # HOSTILE: six children, each touching 100 MB and sleeping 2 s (600 MB in all, bounded); returns how
        # many finished (see hog.py)
        import hog

        return np.add(x, y) * 0 + hog.run()
