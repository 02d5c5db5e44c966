"""HOSTILE (integrity): tries to carry a hidden check's inputs into a visible message. train (the
hidden mlp.train check) records its arguments in a file of the private /tmp and in a class attribute;
every forward and loss raises an exception carrying what was recorded, if anything was. If hidden
checks ran in the same worker as (or before) visible ones, the seed, batch size and data of the hidden
check would appear in visible feedback. Otherwise this is the reference MLP.

train records after it has trained (so that it works itself). A visible check calls train too
(mlp.no_mutation, on data of its own, as the last call of its round): its record must not reach a
visible message either, so no visible call may come after it."""
import json
import os

import numpy as np

import honest_mlp as honest

RECORD = "/tmp/hidden_leak.json"


def _leak():
    found = getattr(honest.MLP, "_leaked", None)
    if found is None and os.path.exists(RECORD):
        with open(RECORD) as f:
            found = f.read(2000)
    if found:
        raise RuntimeError("LEAKED-HIDDEN-INPUTS " + str(found))


class MLP(honest.MLP):
    def forward(self, X):
        _leak()
        return super().forward(X)

    def loss(self, X, y):
        _leak()
        return super().loss(X, y)


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    losses = honest.train(net, X, y, lr=lr, batch_size=batch_size, steps=steps, seed=seed)
    record = json.dumps({"seed": seed, "batch_size": batch_size, "lr": lr, "steps": steps,
                         "X0": np.asarray(X)[0].tolist(), "n": len(X)})
    honest.MLP._leaked = record
    try:
        with open(RECORD, "w") as f:
            f.write(record)
    except OSError:
        pass
    return losses
