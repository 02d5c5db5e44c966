"""HOSTILE (class 2/4: checks that compare against values known in advance). No graph engine at all:
forward/backward recognise the two lecture examples by their (fixed, published) input values and return
the lecture's answers; anything else raises. graph.lecture_example and graph.sigmoid_neuron always use
the same feed, so they pass (4 points) with nothing computed.

gates.py of this case: AddConstantGate ignores its constructor argument and always adds 0.75, ScaleGate
always multiplies by -1.5: the only constants the gates checks ever construct them with, so all ten
AddConstantGate/ScaleGate points are earned by gates that are wrong for every other constant.

A safe grader must fail graph.lecture_example and graph.sigmoid_neuron here (e.g. also run the same
graph at a second, random feed within the check) and the AddConstantGate/ScaleGate checks (draw the
constant per case). Bounded: no loops."""
import math

LECTURE = ({"x": -2.0, "y": 5.0, "z": -4.0}, -12.0, {"x": -4.0, "y": -4.0, "z": 3.0})
_s = 1.0 / (1.0 + math.exp(-(2.0 * -1.0 + -3.0 * -2.0 + -3.0)))
NEURON = ({"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}, _s,
          {k: v * _s * (1 - _s) for k, v in {"w0": -1.0, "x0": 2.0, "w1": -2.0, "x1": -3.0, "w2": 1.0}.items()})


class ComputationalGraph:
    def input(self, name):
        return name

    def gate(self, gate, *inputs):
        return None

    def forward(self, values):
        for feed, out, grads in (LECTURE, NEURON):
            if {k: float(v) for k, v in values.items()} == feed:
                self.grads = grads
                return out
        raise NotImplementedError("no graph engine")

    def backward(self, dout=None):
        return dict(self.grads)
