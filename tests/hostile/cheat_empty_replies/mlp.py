"""HOSTILE (integrity): an empty network (the handlers are replaced by gates.py)."""


class MLP:
    def __init__(self, sizes, activation="sigmoid", seed=0):
        self.params = {}


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    return []
