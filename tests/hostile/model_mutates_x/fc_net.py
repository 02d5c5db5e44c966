"""HOSTILE (class 2: the caller's data changed). A correct TwoLayerNet whose loss, once its values are
computed, normalises the caller's X in place (a "preprocessing" step done where it was given).

A safe grader must fail no_mutation only, naming TwoLayerNet.loss and its argument 0 (X), and keep
every other check of the network: each call gets its own copy of X. Bounded: one pass over X."""

import honest_fc_net


class TwoLayerNet(honest_fc_net.TwoLayerNet):
    def loss(self, X, y=None):
        out = super().loss(X, y)
        X -= X.mean(axis=0)  # HOSTILE: the caller's array
        return out
