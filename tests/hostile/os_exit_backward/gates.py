"""HOSTILE (os_exit_backward): MultiplyGate.backward ends the whole worker process (os._exit(3), no
cleanup); the other gates are the student's honest ones. A safe sandbox reports the exit for that
call, restarts the worker and grades the rest. Bounded: the process ends at once."""
import honest_gates
from honest_gates import *  # noqa: F401,F403


class MultiplyGate(honest_gates.MultiplyGate):
    def backward(self, dz):
        import os

        os._exit(3)  # HOSTILE: the whole process exits, no cleanup
