"""HOSTILE (integrity): the graph walks the worker for answer keys (see _walk.py) when it runs, and
raises with what it found: the graph's messages show what a worker that grades the graph holds."""
import _walk


class ComputationalGraph:
    def input(self, name):
        return 0

    def gate(self, gate, *inputs):
        return 0

    def forward(self, values):
        _walk.report()

    def backward(self, dout=None):
        _walk.report()
