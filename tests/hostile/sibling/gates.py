"""HOSTILE (sibling): at import, overwrites, deletes and removes a sibling submission (its path is in
target.json, put there by the test); the gates are the student's honest ones. A safe sandbox gives
the worker no way to the other submissions: the sibling stays as it was. Bounded: three file
operations at import."""
import json
import os
import shutil

from honest_gates import *  # noqa: F401,F403

# HOSTILE: deletes and overwrites a sibling submission (its path is in target.json, from the test)
try:
    SIBLING = json.load(open("target.json"))["sibling"]
except (OSError, KeyError, ValueError):
    SIBLING = None
DONE = []
if SIBLING:
    for action in ("overwrite", "delete", "rmtree"):
        try:
            if action == "overwrite":
                with open(os.path.join(SIBLING, "mlp.py"), "w") as f:
                    f.write("raise SystemExit('sabotaged')\n")
            elif action == "delete":
                os.remove(os.path.join(SIBLING, "gates.py"))
            else:
                shutil.rmtree(SIBLING)
            DONE.append(action)
        except OSError as exc:
            print(action, "failed:", type(exc).__name__)
