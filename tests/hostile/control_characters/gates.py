"""HOSTILE (control_characters): AddGate.forward prints and raises text with control characters; the
other gates are the student's honest ones."""
import honest_gates
from honest_gates import *  # noqa: F401,F403


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        # HOSTILE: terminal escapes (clear screen, clipboard write OSC 52, a forged progress line after
        # a carriage return), a lone surrogate and bidi override in the exception text and prints
        import sys
        forged = "\x1b[2J\x1b[H\x1b]52;c;cm0gLXJmIH4K\x07\r[2/2] correct  100/100 graded\u202e"
        sys.stdout.write(forged + "\n")
        sys.stdout.flush()
        raise ValueError("\ud800 lone surrogate " + forged + "\udfff" * 3)
