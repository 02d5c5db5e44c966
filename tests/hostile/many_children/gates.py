"""HOSTILE (many_children): AddGate.forward starts about 40 short-lived sleepers and returns how many
started; every other one escapes into its own session (setsid), a few are separate programs
(/bin/sleep). The other gates are the student's honest ones. A safe sandbox limits how many
processes the worker may start and kills every one of them, setsid ones included, when the session
ends. Bounded: 40 children, each exits by itself after 5 s."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        # HOSTILE: ~40 short-lived sleepers (each exits by itself after 5 s); every other one escapes
        # into its own session (setsid), a few are separate programs (/bin/sleep)
        import os
        import subprocess
        import time

        started = 0
        for i in range(40):
            try:
                if i % 10 == 9:
                    subprocess.Popen(["/bin/sleep", "5"], start_new_session=True)
                    started += 1
                    continue
                pid = os.fork()
            except OSError:
                continue  # the process limit: expected
            if pid == 0:
                try:
                    if i % 2:
                        os.setsid()
                    time.sleep(5)
                finally:
                    os._exit(0)
            started += 1
        return np.add(x, y) * 0 + started
