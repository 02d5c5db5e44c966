"""HOSTILE (micrograd; telling calls apart): the honest engine with every gradient doubled, and a
forward that lies where the grader probes it. Reading a Value's data, it looks at its caller's frame:
when the grader's worker reads it for a program run without backward() (the points of centered
differences), it reports twice the value, so that the differences of what it reports agree with its
doubled gradients; everywhere else it reports the true value.

A safe grader must award no engine check (every gradient is compared with the reference's, and the
differences of the student's forward only after that), no nn.gradients and no nn.train (SGD on doubled
gradients is SGD with twice the learning rate: every step's loss leaves the reference's). nn.py is the
honest one: nn.parameters, nn.forward and nn.zero_grad are honest work. Bounded: no loop beyond the
honest engine's, four frames looked at per read."""
import os
import sys

import honest_engine
from honest_engine import Value

_OWN = ("engine.py", "honest_engine.py", "nn.py", "honest_nn.py")
_honest_backward = Value.backward


def _probed(frame):
    """Whether a caller above is the worker running a program without backward()."""
    for _ in range(4):
        if frame is None:
            return False
        program = frame.f_locals.get("program")
        if isinstance(program, dict) and "code" in program and program.get("backward") is None:
            return True
        frame = frame.f_back
    return False


def _get(self):
    caller = sys._getframe(1)
    if os.path.basename(caller.f_code.co_filename) not in _OWN and _probed(caller):
        return 2.0 * self._d
    return self._d


def _set(self, value):
    self._d = value


def _doubled_backward(self):
    _honest_backward(self)
    seen, stack = set(), [self]
    while stack:  # every Value of the graph: its gradient, doubled
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v is not self:
            v.grad = 2.0 * v.grad
        stack.extend(v._prev)


Value.data = property(_get, _set)
Value.backward = _doubled_backward
assert honest_engine.Value is Value
