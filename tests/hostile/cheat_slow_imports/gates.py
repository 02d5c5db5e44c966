"""HOSTILE (integrity): gates.py takes 2.5 s to import, in every worker session of the submission.
With one time budget per session, four sessions spend four budgets' worth of a classmate's time;
with one budget per submission, grading stops at the submission's budget."""
import time

time.sleep(2.5)

from honest_gates import *  # noqa: E402,F401,F403
