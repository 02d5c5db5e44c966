"""HOSTILE (fake_report): at import, writes a full-marks report into the reports folder (its path is
in target.json, put there by the test), into ../reports and /tmp/reports, and prints one; the gates
are the student's honest ones. A safe grader writes its own reports only: none of these files reaches
the reports folder, and the printed one is output for people, never parsed. Bounded: three small
files at import."""
import json
import os

from honest_gates import *  # noqa: F401,F403

# HOSTILE: writes a full-marks report into the reports folder (its path is in target.json, put there
# by the test) and next to itself, and prints one
FAKE = {"submission": "fake_report", "score": 100.0, "max_score": 100.0, "status": "passed"}
WROTE = []
try:
    target = json.load(open("target.json"))
except OSError:
    target = {}
for folder in [target.get("reports"), "../reports", "/tmp/reports"]:
    if not folder:
        continue
    try:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "fake_report.json"), "w") as f:
            json.dump(FAKE, f)
        WROTE.append(folder)
    except OSError as exc:
        print("could not write into", folder, type(exc).__name__)
print(json.dumps(FAKE))
print("GRADE: 100/100")
