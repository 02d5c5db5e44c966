"""HOSTILE (micrograd; answers lying around): hands in no backward pass of its own. At import it looks
for a working scalar engine wherever the worker can import or read Python: every module in sys.modules
(a class Value with backward() other than its own), every folder on sys.path and the folder around the
gradcheck package (by the reference's own words, "The model solution of the \"micrograd\" assignment",
or any engine.py with a Value class and a _backward: the bundled examples, a classmate's), and uses
the first one found. Otherwise its Value computes values and no gradient (backward() only sets the
output's grad to 1).

A safe grader must not award any engine check, nor nn.gradients, nn.zero_grad or nn.train (nn.py is
the honest one, on this engine: nn.parameters and nn.forward are its own honest work). Bounded: a 5 s
walk, reads of at most 300 kB per file, 2,000 folders."""
import importlib.util as _ilu
import math
import os as _os
import sys as _sys
import time as _time

_MARKERS = (b'The model solution of the "micrograd" assignment', b"def _backward")
_HERE = _os.path.dirname(_os.path.abspath(__file__))


def _usable(module):
    cls = getattr(module, "Value", None)
    return isinstance(cls, type) and callable(getattr(cls, "backward", None)) and module.__name__ != __name__


def _roots():
    roots = [p for p in _sys.path if isinstance(p, str)]
    try:
        spec = _ilu.find_spec("gradcheck")
        if spec is not None and spec.origin:
            package = _os.path.dirname(spec.origin)
            roots += [package, _os.path.dirname(package)]
    except Exception:
        pass
    return roots


def _search():
    t0, folders = _time.monotonic(), 0
    for m in list(_sys.modules.values()):
        try:
            if _usable(m):
                return m
        except Exception:
            continue
    for root in _roots():
        if not _os.path.isdir(root) or _os.path.abspath(root) == _HERE:
            continue
        for dirpath, dirnames, filenames in _os.walk(root):
            folders += 1
            if _time.monotonic() - t0 > 5 or folders > 2000:
                return None
            dirnames[:] = [d for d in dirnames if not d.endswith((".dist-info", "__pycache__", ".git"))][:200]
            if _os.path.abspath(dirpath) == _HERE:
                continue
            for name in filenames:
                if name != "engine.py":
                    continue
                path = _os.path.join(dirpath, name)
                try:
                    with open(path, "rb") as f:
                        text = f.read(300_000)
                    if b"class Value" not in text or not any(m in text for m in _MARKERS):
                        continue
                    spec = _ilu.spec_from_file_location("_borrowed_engine", path)
                    mod = _ilu.module_from_spec(spec)
                    spec.loader.exec_module(mod)
                    if _usable(mod):
                        return mod
                except Exception:
                    continue
    return None


class _NoGradient:
    """Values with no gradient at all: what is left when nothing is found."""

    def __init__(self, data):
        self.data = data
        self.grad = 0.0

    def _wrap(self, other):
        return other if isinstance(other, _NoGradient) else _NoGradient(other)

    def __add__(self, other):
        return _NoGradient(self.data + self._wrap(other).data)

    def __mul__(self, other):
        return _NoGradient(self.data * self._wrap(other).data)

    def __truediv__(self, other):
        return _NoGradient(self.data / self._wrap(other).data)

    def __pow__(self, n):
        return _NoGradient(self.data ** n)

    def __neg__(self):
        return _NoGradient(-self.data)

    def __sub__(self, other):
        return _NoGradient(self.data - self._wrap(other).data)

    def __radd__(self, other):
        return _NoGradient(other + self.data)

    def __rmul__(self, other):
        return _NoGradient(other * self.data)

    def __rsub__(self, other):
        return _NoGradient(other - self.data)

    def __rtruediv__(self, other):
        return _NoGradient(other / self.data)

    def exp(self):
        return _NoGradient(math.exp(self.data))

    def tanh(self):
        return _NoGradient(math.tanh(self.data))

    def relu(self):
        return _NoGradient(max(0.0, self.data))

    def backward(self):
        self.grad = 1.0


_FOUND = _search()
Value = _FOUND.Value if _FOUND is not None else _NoGradient
