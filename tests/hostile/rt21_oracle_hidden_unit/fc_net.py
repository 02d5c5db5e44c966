"""HOSTILE (stand-ins; an oracle for a withheld unit): graded with an assignment whose layers.affine checks
are withheld until the due date (visible: the rest, TwoLayerNet's included). In the visible round the
grader has no result for affine yet, so the session that grades TwoLayerNet gets a stand-in for it: the
reference, on whatever arguments the student sends. This fc_net.py asks it for affine_forward on inputs
of its own choosing and puts the answer in the exception its TwoLayerNet raises, so the visible
TwoLayerNet messages carry "ORACLE <the reference's out>" before the due date (then the student can
debug affine against the model solution, the check meant to stay hidden). In the student's own session
affine raises and nothing is learnt.

A safe grader must not answer, in a session whose messages students see, a unit whose checks are
withheld from them. Bounded: one small call at import."""
import numpy as np

import layers

try:
    _OUT = layers.affine_forward(np.arange(6.0).reshape(2, 3), np.ones((3, 2)), np.array([0.5, -0.5]))[0]
    ORACLE = "ORACLE " + " ".join(f"{v:g}" for v in np.ravel(_OUT))
except Exception as exc:  # noqa: BLE001 - the student's own affine raises
    ORACLE = f"NO ORACLE {type(exc).__name__}"


class TwoLayerNet(object):
    def __init__(self, *args, **kwargs):
        raise RuntimeError(ORACLE)
