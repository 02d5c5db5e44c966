"""HOSTILE: memory across processes. RLIMIT_AS bounds each process; six children of 100 MB each
(600 MB in all) pass it. Each touches its 100 MB, sleeps 2 s and exits; the worker waits for them
(at most 20 s) and returns how many finished. Bounded by itself: 600 MB, 7 processes, 20 s."""
import os
import time


def run(children=6, mb=100):
    pids = []
    for _ in range(children):
        try:
            pid = os.fork()
        except OSError:
            continue
        if pid == 0:
            code = 2
            try:
                block = bytearray(mb * 2**20)
                for i in range(0, len(block), 4096):
                    block[i] = 1
                time.sleep(2)
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    finished, deadline = 0, time.monotonic() + 20
    for pid in pids:
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                finished += os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
                break
            time.sleep(0.05)
    print(f"{finished} of {len(pids)} children touched {mb} MB each")
    return finished
