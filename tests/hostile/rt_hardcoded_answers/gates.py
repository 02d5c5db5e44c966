"""HOSTILE (see graph.py of this case): honest gates, except that AddConstantGate and ScaleGate ignore
their constructor argument and use the one constant the grader's gate checks construct them with."""
from honest_gates import *  # noqa: F401,F403
import honest_gates as honest


class AddConstantGate(honest.AddConstantGate):
    def __init__(self, c):
        super().__init__(0.75)


class ScaleGate(honest.ScaleGate):
    def __init__(self, a):
        super().__init__(-1.5)
