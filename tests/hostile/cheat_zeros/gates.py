"""HOSTILE (integrity): every gate's forward and backward return zeros of the right shapes. A backward
of zeros is consistent with a forward that is constant, so centered differences of the student's own
forward agree with it: only an anchor to the reference can refuse the points."""
import numpy as np


class _Zero:
    def __init__(self, *args):
        pass

    def forward(self, *inputs):
        self.inputs = [np.asarray(x, dtype=float) for x in inputs]
        if len(inputs) == 2 and self.inputs[0].ndim == 2 and self.inputs[1].ndim == 2:   # W @ X
            return np.zeros((self.inputs[0].shape[0], self.inputs[1].shape[1]))
        if len(inputs) == 2 and self.inputs[1].ndim == 1:   # the softmax loss: a float
            return 0.0
        return np.zeros_like(self.inputs[0])

    def backward(self, dz=1.0):
        return [np.zeros_like(x) for x in self.inputs]


for _name in ["AddGate", "MultiplyGate", "MaxGate", "ExpGate", "InverseGate", "AddConstantGate", "ScaleGate",
              "SigmoidGate", "TanhGate", "ReLUGate", "MatMulGate", "SoftmaxCrossEntropyGate"]:
    globals()[_name] = type(_name, (_Zero,), {})
