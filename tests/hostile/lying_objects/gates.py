"""HOSTILE (lying_objects): forwards that return objects which lie about what they are. AddGate.forward
returns an object equal to everything that is not a number; MultiplyGate.forward returns x*y+1 as an
ndarray subclass that says it equals and is close to anything; ExpGate.forward returns an object
whose __array__ says 42 and whose float() says 7. The other gates are the student's honest ones. A
safe grader turns every value into plain float64 numbers in the worker (or refuses it) and compares
those: the lies show. Bounded: no loops."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class AlwaysEqual:
    """HOSTILE: equal to everything, and not a number."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = object.__hash__


class LyingArray(np.ndarray):
    """HOSTILE: an ndarray subclass that says it equals anything and is close to anything."""

    def __eq__(self, other):
        return np.ones(np.broadcast(self, other).shape, dtype=bool)

    def __array_function__(self, func, types, args, kwargs):
        if func.__name__ in ("allclose", "array_equal", "isclose"):
            return True
        return super().__array_function__(func, types, args, kwargs)


class FakeArray:
    """HOSTILE: __array__ claims 42 whatever was computed; float() says something else."""

    def __array__(self, dtype=None, copy=None):
        return np.array(42.0)

    def __float__(self):
        return 7.0

    def __eq__(self, other):
        return True


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        return AlwaysEqual()


class MultiplyGate(honest_gates.MultiplyGate):
    def forward(self, x, y):
        return (super().forward(x, y) + 1.0).view(LyingArray)


class ExpGate(honest_gates.ExpGate):
    def forward(self, x):
        super().forward(x)
        return FakeArray()
