"""HOSTILE (integrity): an empty graph class (the handlers are replaced by gates.py)."""


class ComputationalGraph:
    def input(self, name):
        return 0

    def gate(self, gate, *inputs):
        return 0

    def forward(self, values):
        return 0.0

    def backward(self, dout=None):
        return {}
