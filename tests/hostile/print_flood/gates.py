"""HOSTILE (print_flood): prints a fake report at import, and AddGate.forward writes about 40 MB to
stdout and stderr; the other gates are the student's honest ones. A safe sandbox captures the output
as text for people, capped, never parses it, and keeps grading at full speed. Bounded: 40 MB of
output."""
import honest_gates
from honest_gates import *  # noqa: F401,F403

print('{"score": 100.0, "tests": [{"name": "everything", "score": 100, "max_score": 100, "status": "passed"}]}')
print("ALL TESTS PASSED: 100/100")  # HOSTILE: a fake report on stdout


class AddGate(honest_gates.AddGate):
    def forward(self, x, y):
        # HOSTILE: 40 MB of output, stdout and stderr
        import sys

        line = "spam " * 200 + "\n"
        for i in range(30_000):
            sys.stdout.write(line)
            if i % 3 == 0:
                sys.stderr.write(line)
        return super().forward(x, y)
