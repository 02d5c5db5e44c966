"""Grade one submission: open its worker sessions, run every part's checks, build the report."""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from . import __version__
from .checks import gates, graph, mlp
from .checks.common import Result
from .replay import NotRecorded

PARTS = (gates, graph, mlp)


class Context:
    """What a part's checks get: two worker sessions, tolerances, settings, and seeded randomness.

    session_a runs the student's own modules; session_b the same with correct stand-in gates, for the
    checks that must not depend on the student's gates. Both start their worker lazily."""

    def __init__(self, session_a, session_b, assignment, seed, missing=()):
        self.session_a, self.session_b = session_a, session_b
        self.missing = set(missing)  # contract modules with no file in the submission
        self.seed = int(seed)
        self.tolerances = dict(assignment.tolerances)
        self.settings = dict(assignment.settings)
        self._modules = {}

    @property
    def modules_a(self):
        return self._load("a", self.session_a)

    @property
    def modules_b(self):
        return self._load("b", self.session_b)

    def _load(self, key, session):
        if key not in self._modules:
            modules = dict(session.modules or {})
            for name in self.missing:  # say so plainly rather than "No module named 'gates'"
                if not modules.get(name, {}).get("ok"):
                    modules[name] = {"ok": False, "error": f"{name}.py is not in the submission folder"}
            self._modules[key] = modules
        return self._modules[key]

    def rng(self, label: str) -> np.random.Generator:
        """A generator that depends only on the seed and the label: reports do not depend on the
        order in which checks or submissions run."""
        digest = hashlib.sha256(label.encode()).digest()
        return np.random.default_rng([self.seed, int.from_bytes(digest[:8], "little")])


MODULE_FILES = ("gates.py", "graph.py", "mlp.py")


def find_submission(path: Path) -> Path:
    """The folder holding the student's modules: ``path`` itself, or its only subfolder that holds
    them (students often hand in a zip of their folder)."""
    path = Path(path)
    if any((path / m).is_file() for m in MODULE_FILES):
        return path
    try:
        inner = [p for p in path.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))
                 and any((p / m).is_file() for m in MODULE_FILES)]
    except OSError:
        return path
    return inner[0] if len(inner) == 1 else path


def run_checks(session_a, session_b, assignment, seed, missing=()) -> dict[str, Result]:
    ctx = Context(session_a, session_b, assignment, seed, missing)
    wanted = {c.id for c in assignment.checks}
    results = {}
    for part in PARTS:
        try:
            results.update(part.run(ctx, wanted))
        except NotRecorded as exc:  # only in a student build (gradcheck pack --student): no expected values
            prefix = part.__name__.rsplit(".", 1)[-1] + "."
            results.update({i: Result(i, "error", str(exc)) for i in wanted if i.startswith(prefix)})
    return results


def grade_submission(submission_dir, assignment, seed, sandbox) -> dict:
    """The report of one submission (see docs/design.md). Student faults become check statuses;
    only a fault of the grader itself raises."""
    submission_dir = Path(submission_dir)
    started = time.monotonic()
    root = find_submission(submission_dir)
    missing = [m[:-3] for m in MODULE_FILES if not (root / m).is_file()]
    with sandbox.session(root, standin_gates=False) as a, sandbox.session(root, standin_gates=True) as b:
        results = run_checks(a, b, assignment, seed, missing)
        modules = {name: {k: v for k, v in status.items() if k in ("ok", "error")}
                   for name, status in (a.modules or {}).items()}
        output = _output(a, b)
    checks = []
    for spec in assignment.checks:
        r = results.get(spec.id) or Result(spec.id, "error", "this check did not run (grader fault)")
        entry = {"id": spec.id, "status": r.status, "score": float(spec.points) if r.status == "pass" else 0.0,
                 "max_score": float(spec.points), "visibility": spec.visibility, "message": r.message}
        if r.details:
            entry["details"] = _plain(r.details)
        checks.append(entry)
    score = sum(c["score"] for c in checks)
    max_score = sum(c["max_score"] for c in checks)
    failed = sum(c["status"] != "pass" for c in checks)
    return {
        "schema_version": 1,
        "gradcheck_version": __version__,
        "submission": submission_dir.name,
        "assignment": assignment.name,
        "seed": int(seed),
        "status": "graded",
        "message": f"{len(checks) - failed} of {len(checks)} checks passed" + _where(submission_dir, root, missing),
        "score": round(score, 6),
        "max_score": round(max_score, 6),
        "checks": checks,
        "modules": modules,
        "isolation": dict(sandbox.isolation),
        "output": output,
        "timing": {"seconds": round(time.monotonic() - started, 3)},
    }


def _where(submission_dir, root, missing):
    notes = []
    if root != submission_dir:
        notes.append(f"graded the files in {root.relative_to(submission_dir)}/, the only folder holding them")
    if missing:
        notes.append("missing: " + ", ".join(f"{m}.py" for m in missing))
    return f" ({'; '.join(notes)})" if notes else ""


def _output(*sessions):
    """The captured stdout/stderr of both sessions (sandbox.Output), for people to read."""
    texts, total, truncated = [], 0, False
    for s in sessions:
        out = getattr(s, "output", None)
        if out is None:
            continue
        if out.text:
            texts.append(out.text)
        total += int(out.total_bytes)
        truncated = truncated or bool(out.truncated)
    return {"text": "".join(texts), "bytes": total, "truncated": truncated}


def _plain(obj):
    """Details as JSON-safe plain data (numpy scalars and arrays to Python numbers and lists)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return str(obj)
    return obj
