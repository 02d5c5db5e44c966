"""HOSTILE (disk_filler): AddGate.forward writes one file past the file size limit, then files until
the disk is full, and returns how many of the two writes failed; the other gates are the student's
honest ones. A safe sandbox stops both (EFBIG, then ENOSPC in the worker's private tmpfs). Bounded:
64 MB, then at most 200 MB, all in the worker's working directory."""
import numpy as np

import honest_gates
from honest_gates import *  # noqa: F401,F403


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        # HOSTILE: one file past the file size limit, then many files until the disk is full; all in
        # the working directory (the worker's private tmpfs); bounded at 200 MB
        errors = []
        try:
            with open("big.bin", "wb") as f:
                for _ in range(64):
                    f.write(b"\0" * 2**20)
        except OSError as exc:
            errors.append(f"big: {exc.errno}")
        try:
            for i in range(200):
                with open(f"fill{i}.bin", "wb") as f:
                    f.write(b"\0" * 2**20)
        except OSError as exc:
            errors.append(f"fill: {exc.errno}")
        print(errors)
        return np.add(x, y) * 0 + len(errors)
