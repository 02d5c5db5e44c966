"""HOSTILE (integrity): graph.py with no engine of its own. It looks for any graph engine the worker
holds (in sys.modules or known to the garbage collector: anything with input, gate, forward and
backward) and delegates to it. Bounded: one scan per graph."""
import gc
import sys


def _engine():
    seen = []
    for mod in list(sys.modules.values()):
        seen.extend(v for v in vars(mod).values() if isinstance(v, type)) if hasattr(mod, "__dict__") else None
    seen.extend(o for o in gc.get_objects() if isinstance(o, type))
    for cls in seen:
        if cls.__module__ != __name__ and all(hasattr(cls, m) for m in ("input", "gate", "forward", "backward")):
            return cls
    raise RuntimeError("no engine to borrow")


class ComputationalGraph:
    def __init__(self):
        self._g = _engine()()

    def input(self, name):
        return self._g.input(name)

    def gate(self, gate, *inputs):
        return self._g.gate(gate, *inputs)

    def forward(self, values):
        return self._g.forward(values)

    def backward(self, dout=None):
        return self._g.backward(dout)
