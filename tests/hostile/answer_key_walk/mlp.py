"""HOSTILE (integrity): the network walks the worker for answer keys (see _walk.py) when it runs, and
raises with what it found: the MLP's messages show what a worker that grades the MLP holds."""
import _walk


class MLP:
    def __init__(self, sizes, activation="sigmoid", seed=0):
        _walk.report()


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    _walk.report()
