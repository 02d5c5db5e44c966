"""HOSTILE (class 1: a check that trusts what it should verify). A correct TwoLayerNet that keeps the
parameters it was made with and computes with them, whatever the caller sets in net.params: a grader
that compared only shapes, or read back net.params, would see a working network.

A safe grader must fail scores, loss, gradients and numerical (the grader sets its own parameters
before every call, the contract allows it), with the diagnosis that loss ignores net.params, and
no_mutation is an error (no working network). Bounded: one copy of the parameters per network."""

import honest_fc_net


class TwoLayerNet(honest_fc_net.TwoLayerNet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mine = {k: v.copy() for k, v in self.params.items()}

    def loss(self, X, y=None):
        given, self.params = self.params, self.mine  # HOSTILE: the caller's parameters set aside
        try:
            return super().loss(X, y)
        finally:
            self.params = given
