"""HOSTILE (syntax_error): the student's honest gates, with an unbalanced parenthesis in
MultiplyGate.forward: the module does not compile. A safe grader reports the SyntaxError for the
gates' checks, and still grades graph.py and mlp.py (with stand-in gates). Bounded: nothing runs."""
import honest_gates
from honest_gates import *  # noqa: F401,F403


class MultiplyGate(honest_gates.MultiplyGate):
    def forward(self, x, y):
        return super().forward(x, y))  # HOSTILE: unbalanced parenthesis
