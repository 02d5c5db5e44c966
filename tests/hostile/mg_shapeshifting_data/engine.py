"""HOSTILE (micrograd; lying objects): the honest engine inside; outside, a Value's data and grad change
at every read. Its own code reads true numbers; any other reader (the grader's worker) gets the true
number plus 0.01 times the count of such reads so far (the first read of all is true, every later one
is off by more than the tolerance); its float subclass's repr still shows the true number.

A safe grader reads each number once and judges what it read: it must award no check that compares a
value or a gradient after the first read (every engine check, nn.parameters, nn.forward, nn.gradients,
nn.zero_grad, nn.train). Bounded: no loop of its own."""
import os
import sys

from honest_engine import Value

_OWN = ("engine.py", "honest_engine.py", "nn.py", "honest_nn.py")
_reads = [0]


class _Shown(float):
    """A float that looks like the true number when printed."""

    def __new__(cls, value, true):
        obj = super().__new__(cls, value)
        obj.true = true
        return obj

    def __repr__(self):
        return repr(self.true)

    __str__ = __repr__


def _read(true):
    if os.path.basename(sys._getframe(2).f_code.co_filename) in _OWN:
        return true
    drift = 0.01 * _reads[0]
    _reads[0] += 1
    return _Shown(float(true) + drift, true)


def _get_data(self):
    return _read(self._d)


def _set_data(self, value):
    self._d = value


def _get_grad(self):
    return _read(self._g)


def _set_grad(self, value):
    self._g = value


Value.data = property(_get_data, _set_data)
Value.grad = property(_get_grad, _set_grad)
