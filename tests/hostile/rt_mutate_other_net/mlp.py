"""HOSTILE (class 1: a check that looks at the wrong moment). A network that keeps the caller's X in a
module-level stash and zeroes it during a call on ANOTHER network: each network's arrays are right
after its own calls, so a worker that compared them only per network passed mlp.no_mutation.

A safe grader must fail mlp.no_mutation here: the worker compares every item's arrays once more at the
end of the whole request (ops.op_mlp, "later"). Found by the red-team review of the mutation checks.
Bounded: a stash of a few small arrays."""

import numpy as np

import honest_mlp
from honest_mlp import *  # noqa: F403

_STASH = []  # (network, the caller's X it was given)


class MLP(honest_mlp.MLP):
    def _forward(self, X):
        for net, arr in list(_STASH):
            if net is not self:
                arr[...] = 0.0  # HOSTILE: another network's caller's X
                _STASH.remove((net, arr))
        if isinstance(X, np.ndarray) and not any(a is X for _, a in _STASH):
            _STASH.append((self, X))
        return super()._forward(np.array(X, dtype=float))
