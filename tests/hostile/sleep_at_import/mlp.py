"""HOSTILE (sleep_at_import): mlp.py sleeps while it is imported; the rest is the student's honest MLP.
A safe grader stops the import at its time limit, charges it to the submission's budget, reports it
for the MLP's checks only and grades the gates and the graph. Bounded: 30 s of sleep."""
import time

time.sleep(30)  # HOSTILE: a long sleep at import (bounded: 30 s)

from honest_mlp import *  # noqa: E402,F401,F403
