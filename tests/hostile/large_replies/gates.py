"""HOSTILE (large_replies): every gate's forward returns a large but valid array (900,000 float64,
7.2 MB) whatever its inputs: replies a grader process would hold gate after gate. Bounded by the
worker's own memory limit; the array is built once and shared. Otherwise the student's honest gates."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403

# HOSTILE: every gate's forward returns the same 7.2 MB array (after running the real forward, so
# backward still works)
_BIG = np.full(900_000, 0.5)


def _large(forward):
    def patched(self, *args):
        forward(self, *args)
        return _BIG
    return patched


for _cls in [v for v in vars(honest_gates).values() if isinstance(v, type) and hasattr(v, "forward")]:
    _cls.forward = _large(_cls.forward)
