"""HOSTILE (integrity): every gate's forward walks the worker for answer keys (see _walk.py) and
raises with what it found: the gates' messages show what a worker that grades gates holds."""
import _walk


class _Walker:
    def __init__(self, *args):
        pass

    def forward(self, *inputs):
        _walk.report()

    def backward(self, dz=1.0):
        _walk.report()


for _name in ["AddGate", "MultiplyGate", "MaxGate", "ExpGate", "InverseGate", "AddConstantGate", "ScaleGate",
              "SigmoidGate", "TanhGate", "ReLUGate", "MatMulGate", "SoftmaxCrossEntropyGate"]:
    globals()[_name] = type(_name, (_Walker,), {})
