"""NOT HOSTILE - a correct student solution that loses points (class 9, false failure; contract-ambiguous).
The reference's gates (the student's honest_gates), except that TanhGate takes tanh from the student's
own helper package ``mathutil/`` (``mathutil/__init__.py``, ``mathutil/act.py``) next to gates.py, a
common way to organise code. The sandbox stages only the regular files at the top of the submission
and drops folders without a word, so gates.py cannot be imported: every gates.* check is an error (60
points) with "No module named 'mathutil'" although mathutil/ is in the submission. A helper *file*
(mathutil.py) would work.

A safe grader must either stage the submission's subfolders (within the caps) and give full marks, or
say in the contract that only top-level .py files are used and name the dropped folder in the report
and in the import error. At fault: sandbox.Session._stage (skips folders; the "skipped" list reaches
no message the student sees)."""
from mathutil import act

import honest_gates
from honest_gates import *  # noqa: F401,F403


class TanhGate(honest_gates.TanhGate):
    def forward(self, x):
        self.z = act.tanh(x)
        return self.z
