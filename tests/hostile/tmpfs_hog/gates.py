"""HOSTILE (tmpfs_hog): AddGate.forward runs tmpfs.py (see there); the other gates are the student's honest ones."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        # HOSTILE: writes up to 400 MB into its private /tmp (memory, not address space: only a cgroup counts
        # it), then removes it; returns the MB written (see tmpfs.py)
        import tmpfs

        return np.add(x, y) * 0 + tmpfs.run()
