"""HOSTILE (missing_class): the student's honest gates, but MatMulGate is missing (the student named it
otherwise). A safe grader reports the missing class for MatMulGate's checks only and grades the rest.
Bounded: no code runs."""
import honest_gates
from honest_gates import *  # noqa: F401,F403

del MatMulGate  # noqa: F821


class MatMulGateRenamed(honest_gates.MatMulGate):  # HOSTILE: MatMulGate is missing
    pass
