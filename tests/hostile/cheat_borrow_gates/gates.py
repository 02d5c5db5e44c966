"""HOSTILE (integrity): gates.py with no gate code of its own. It borrows correct gates from wherever
the grader might keep them: a ``standin_gates`` module, any module in sys.modules, any class the
garbage collector knows, at import and again at every call. Bounded: a few scans per call."""
import gc
import sys

try:
    from standin_gates import *  # noqa: F401,F403
except ImportError:
    pass

NAMES = ["AddGate", "MultiplyGate", "MaxGate", "ExpGate", "InverseGate", "AddConstantGate", "ScaleGate",
         "SigmoidGate", "TanhGate", "ReLUGate", "MatMulGate", "SoftmaxCrossEntropyGate"]


def _borrow(name):
    for mod in list(sys.modules.values()):
        cls = getattr(mod, name, None)
        if isinstance(cls, type) and getattr(cls, "_mine", False) is False and cls.__module__ != __name__:
            return cls
    for obj in gc.get_objects():
        if isinstance(obj, type) and obj.__name__ == name and obj.__module__ != __name__ \
                and not getattr(obj, "_mine", False):
            return obj
    raise RuntimeError(f"no {name} to borrow")


def _delegate(name):
    class Borrowed:
        _mine = True

        def __init__(self, *args):
            self._inner = _borrow(name)(*args)

        def forward(self, *inputs):
            return self._inner.forward(*inputs)

        def backward(self, *dz):
            return self._inner.backward(*dz)
    Borrowed.__name__ = Borrowed.__qualname__ = name
    return Borrowed


for _n in NAMES:
    if _n not in globals():
        globals()[_n] = _delegate(_n)
