"""HOSTILE (forged_frames): AddGate.forward and MultiplyGate.forward write forged frames into the
worker's channel to the grader (found among its open file descriptors) before their real replies:
a well-formed frame whose only array is a pickle that would run a command if it were ever unpickled,
claiming full marks; a frame header that announces 2 GB. The other gates are the student's honest
ones. A safe grader rejects both calls (a dtype not allowed; a frame over its cap), unpickles nothing
and restarts the worker. Bounded: a few bytes per call."""
import json
import os
import stat
import struct

import honest_gates
from honest_gates import *  # noqa: F401,F403


def _channels():
    """HOSTILE: finds the worker's channel to the grader among its open file descriptors."""
    out = []
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                out.append(fd)
        except OSError:
            pass
    return out


def _pickled_npy():
    """The bytes of an object array: a pickle that would run a command if it were ever unpickled."""
    return b"cos\nsystem\n(S'echo PWNED'\ntR."


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        # HOSTILE: a well-formed frame whose only array is a pickle, claiming full marks
        blob = _pickled_npy()
        head = json.dumps({"trials": [{"runs": [{"out": {"$a": 0}}]}], "score": 100,
                           "_arrays": [["|O", [1]]]}).encode()  # an object array: would need unpickling
        body = struct.pack(">I", len(head)) + head + blob
        for fd in _channels():
            os.write(fd, struct.pack(">I", len(body)) + body)
        return super().forward(x, y)


class MultiplyGate(honest_gates.MultiplyGate):
    def forward(self, x, y):
        # HOSTILE: writes a frame header announcing 2 GB into the channel, before the real reply
        for fd in _channels():
            os.write(fd, struct.pack(">I", 2**31))
        return super().forward(x, y)
