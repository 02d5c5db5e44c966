"""HOSTILE (monkeypatch): at import, replaces numpy's and math's comparisons in this process so that
everything compares "equal"; MultiplyGate.backward is wrong (123, -456), hoping a patched comparison
passes it. The other gates are the student's honest ones. A safe grader compares on the trusted side,
never in the worker: the patches stay in the worker and the backward fails. Bounded: no loops."""
import math

import numpy as np
import numpy.testing

import honest_gates
from honest_gates import *  # noqa: F401,F403

# HOSTILE: every comparison says "equal" from now on, in this process
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, dtype=bool)
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_almost_equal = lambda *args, **kwargs: None
numpy.testing.assert_almost_equal = lambda *args, **kwargs: None
math.isclose = lambda *args, **kwargs: True


class MultiplyGate(honest_gates.MultiplyGate):
    def backward(self, dz):
        return [dz * 0.0 + 123.0, dz * 0.0 - 456.0]  # HOSTILE: wrong, hoping a patched comparison passes it
