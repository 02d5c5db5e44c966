"""HOSTILE (userns_mount): AddGate.forward runs escape.py (see there); the other gates are the student's honest ones."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        # HOSTILE: a new user namespace (unshare, clone, the unshare program), then a tmpfs of its own mounted
        # in it (around disk_mb and RLIMIT_AS), keyctl, ptrace, bpf, perf_event_open; returns how many of
        # these got through (see escape.py)
        import escape

        return np.add(x, y) * 0 + escape.run()
