"""HOSTILE (keyring): AddGate.forward runs keys.py (see there); the other gates are the student's honest ones."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        # HOSTILE: a keyring write/read pair: with mode 'write' (default) it puts a key in every keyring it
        # can name; with mode 'read' it looks for that key (and for the grader's own) and returns how many it
        # found (see keys.py)
        import keys

        return np.add(x, y) * 0 + keys.run()
