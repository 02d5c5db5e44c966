"""HOSTILE (class 1: a check that looks at the wrong moment). A graph engine that keeps the caller's feed
arrays in a module-level stash and overwrites them during a call on ANOTHER graph: each graph's arrays
are right when its own calls return and when its own later calls are done, so a worker that compared
them only per graph passed graph.no_mutation (a buffer shared between instances is a realistic bug).

A safe grader must fail graph.no_mutation here: the worker compares every run's arrays once more at
the end of the whole request (ops.op_graph, "later"). Found by the red-team review of the mutation
checks. Bounded: a stash of a few small arrays."""

import numpy as np

import honest_graph
from honest_graph import *  # noqa: F403

_STASH = []  # (graph, the caller's feed arrays it was given)


class ComputationalGraph(honest_graph.ComputationalGraph):
    def forward(self, values):
        out = super().forward({k: np.array(v, dtype=float) for k, v in values.items()})
        for g, arrays in list(_STASH):
            if g is not self:
                for v in arrays:
                    v[...] = -7.0  # HOSTILE: another graph's caller's arrays
                _STASH.remove((g, arrays))
        _STASH.append((self, [v for v in values.values() if isinstance(v, np.ndarray)]))
        return out
