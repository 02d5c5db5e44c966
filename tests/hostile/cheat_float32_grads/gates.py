"""HOSTILE (integrity): every backward is 0.15 % too large and returned as float32 (the forward is
honest float64): the gradients' dtype must not loosen any tolerance."""
import numpy as np

import honest_gates as honest


def _float32(name):
    Honest = getattr(honest, name)

    class F32(Honest):
        def backward(self, *dz):
            return [np.asarray(np.asarray(g, dtype=float) * 1.0015, dtype=np.float32) for g in super().backward(*dz)]
    F32.__name__ = F32.__qualname__ = name
    return F32


for _name in ["AddGate", "MultiplyGate", "MaxGate", "ExpGate", "InverseGate", "AddConstantGate", "ScaleGate",
              "SigmoidGate", "TanhGate", "ReLUGate", "MatMulGate", "SoftmaxCrossEntropyGate"]:
    globals()[_name] = _float32(_name)
