"""HOSTILE (class 7, hidden stays hidden): carries a hidden check's inputs out through side channels
that the student view still shows while checks are withheld. train() runs only for the hidden
mlp.train check (in the withheld sessions); it prints exactly 1000 + (seed % 9000) bytes (the student
view says "Your code printed N bytes") and sleeps 0.2 * (seed % 8) seconds (the student view shows the
report's timing). From the visible feedback the student reads the hidden check's seed, digit by digit
over several submissions (or the size of the data, whether the hidden check raised, ...).
Otherwise the reference MLP: full marks are deserved.

A safe grader must not let anything a withheld session does reach the student view: no byte count of
withheld sessions' output, no timing that includes them (or a timing rounded/clamped so it carries
nothing). Bounded: under 10 kB of output and under 1.5 s of sleep."""
import sys
import time

import honest_mlp as honest

MLP = honest.MLP


def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
    sys.stdout.write("." * (1000 + int(seed) % 9000))
    sys.stdout.flush()
    time.sleep(0.2 * (int(seed) % 8))
    return honest.train(net, X, y, lr=lr, batch_size=batch_size, steps=steps, seed=seed)
