"""HOSTILE (micrograd; checks that pass on nothing): the honest engine inside, garbage outside. Its
own code reads and writes true numbers; any other reader (the grader's worker) gets, for a Value's
grad, one of NaN, +inf, -inf, 1e308, -1e308, the string "nan", a float subclass whose float() is NaN,
a two-element list, None, in turn; and for the data of a Value made by exp(), the int 10 ** 400
(float() of it overflows), NaN for one made by tanh(), the string "1e999" (inf) for one made by
relu().

A safe grader must award no engine check and no nn.forward (a ReLU neuron's output reads as inf),
nn.gradients, nn.zero_grad or nn.train (every grad it reads is garbage), must not crash or mark a
grader fault, and keeps nn.parameters (the honest nn.py; parameters are leaves, read as true numbers).
Bounded: no loop of its own."""
import os
import sys

from honest_engine import Value


class _NaNFloat(float):
    def __float__(self):
        return float("nan")


_GARBAGE = [float("nan"), float("inf"), float("-inf"), 1e308, -1e308, "nan", _NaNFloat(0.5), [1.0, 2.0], None]
_OWN = ("engine.py", "honest_engine.py")
_turn = [0]


def _outside():
    return os.path.basename(sys._getframe(2).f_code.co_filename) not in _OWN


def _get_grad(self):
    if _outside():
        _turn[0] += 1
        return _GARBAGE[_turn[0] % len(_GARBAGE)]
    return self._g


def _set_grad(self, value):
    self._g = value


def _get_data(self):
    if _outside():
        op = getattr(self, "_op", "")
        if op == "exp":
            return 10**400
        if op == "tanh":
            return float("nan")
        if op == "relu":
            return "1e999"
    return self._d


def _set_data(self, value):
    self._d = value


Value.grad = property(_get_grad, _set_grad)
Value.data = property(_get_data, _set_data)
