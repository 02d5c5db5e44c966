"""HOSTILE (see graph.py of this case): MLP(...) raises the next piece of the stand-in source."""
import graph


class MLP:
    def __init__(self, sizes, activation="sigmoid", seed=0):
        raise RuntimeError(graph.piece())


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    raise RuntimeError(graph.piece())
