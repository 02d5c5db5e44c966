"""HOSTILE: CPU across scheduling groups. Six children escape into sessions of their own (setsid:
with autogroup scheduling each session is a group as heavy as a whole other submission) and
busy-loop, in the background, while the grader goes on. Each ends by itself after 4 s."""
import os
import time


def run(children=6, seconds=4.0):
    started = 0
    for _ in range(children):
        try:
            pid = os.fork()
        except OSError:
            continue
        if pid == 0:
            try:
                os.setsid()
                end = time.monotonic() + seconds
                x = 0
                while time.monotonic() < end:
                    x += 1
            finally:
                os._exit(0)
        started += 1
    return started
