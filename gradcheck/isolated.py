"""Grading from a process that may have loaded untrusted files (pytest): in a fresh interpreter.

``run(request)`` starts ``python -I`` (running :func:`main` of the gradcheck this module belongs to)
in an empty private folder (``-I``: no
PYTHONPATH, no user site, no working directory on ``sys.path``), sends it one JSON request on stdin
and returns its JSON answer. The child loads the assignment and grades with the real grader and
sandbox; the caller imports nothing of the grader (no numpy, no jsonschema, no reference) and so
cannot be fooled by a module a submission or a classmate planted next to it.

Requests:
- ``{"op": "plan", "assignment": FILE|null}`` -> ``{"ok": true, "checks": [{"id", "points",
  "visibility", "shown"}], "timeout": seconds}`` or ``{"ok": false, "usage": message}``;
- ``{"op": "grade", "submission": DIR, "assignment": FILE|null, "seed": N, "checks": [ids]}`` ->
  ``{"ok": true, "report": {...}, "seconds": s, "trace": str|null}`` or ``{"ok": false, "failure": message}``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

__all__ = ["IsolatedError", "run"]


# the folder this gradcheck was imported from (an installed package's site-packages, or a checkout or
# student build that is not installed): the child imports the same gradcheck, and nothing else of it
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_START = "import sys; sys.path.insert(0, sys.argv[1]); from gradcheck.isolated import main; main()"


class IsolatedError(RuntimeError):
    """The child could not answer (it crashed, timed out or wrote something that is not an answer)."""


def run(request: dict, timeout: float = 600.0) -> dict:
    """Send ``request`` to a fresh isolated interpreter; its answer (a dict)."""
    with tempfile.TemporaryDirectory(prefix="gradcheck-isolated-") as cwd:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        try:
            p = subprocess.run(
                [sys.executable, "-I", "-c", _START, _ROOT],
                input=json.dumps(request),
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                cwd=cwd,
                env=env,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise IsolatedError(f"the grader did not finish within {timeout:g} s") from None
    try:
        answer = json.loads(p.stdout)
        if not isinstance(answer, dict):
            raise ValueError("not an object")
    except ValueError:
        tail = (p.stderr or p.stdout or "").strip().splitlines()[-15:]
        raise IsolatedError(
            f"the grader process ended with status {p.returncode} without an answer"
            + ("\n" + "\n".join(tail) if tail else "")
        ) from None
    return answer


def _answer(request: dict) -> dict:
    from .assignment import AssignmentError, load_assignment
    from .report import is_shown

    try:
        assignment = load_assignment(request.get("assignment"))
    except AssignmentError as e:
        return {"ok": False, "usage": str(e)}
    if request["op"] == "plan":
        from .replay import recorded_seed

        return {
            "ok": True,
            "timeout": 3 * float(assignment.limits.get("submission_seconds", 120)) + 60,
            "seed": recorded_seed(),
            "checks": [
                {"id": c.id, "points": float(c.points), "visibility": c.visibility, "shown": is_shown(c.visibility)}
                for c in assignment.checks
            ],
        }
    import dataclasses

    from . import batch

    wanted = set(request["checks"])
    sub = dataclasses.replace(
        assignment, checks=tuple(c for c in assignment.checks if c.id in wanted and is_shown(c.visibility))
    )
    try:
        report, seconds, trace = batch.grade_one(request["submission"], sub, int(request["seed"]))
    except batch.GraderError as e:
        return {"ok": False, "failure": str(e)}
    return {"ok": True, "report": report, "seconds": seconds, "trace": trace}


def main() -> None:
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else printed goes to stderr: stdout carries the answer only
    sys.stdout = sys.stderr
    from .report import dumps_json, to_jsonable

    out.write(dumps_json(to_jsonable(_answer(json.load(sys.stdin))), indent=None))
    out.close()


if __name__ == "__main__":
    main()
