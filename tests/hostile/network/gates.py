"""HOSTILE (network): AddGate.forward tries to reach a listener the test opened on this machine and
returns 1 when a connection got through, 0 otherwise; the other gates are the student's honest ones.
A safe sandbox gives the worker no network (its own network namespace): nothing connects. Bounded:
one connection attempt of at most 1 s, loopback only."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        # HOSTILE: tries to reach a listener the test opened on this machine (loopback only; the port is
        # in target.json); returns 1 when a connection got through
        import json
        import socket

        port = json.load(open("target.json"))["port"]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"exfiltrated")
            return np.add(x, y) * 0 + 1.0
        except OSError as exc:
            print("no connection:", type(exc).__name__, exc)
            return np.add(x, y) * 0
