"""Prove an assignment: grade its reference on several seeds, then grade mutants of the reference.

``validate(assignment)`` (a) grades a copy of ``assignment.reference_dir`` on every seed through the
normal batch path (``gradcheck.batch.grade_class``: grader processes, the sandbox): it must score
full marks on each, else the result says which seed and check failed and no mutant is graded (the
assignment is broken); (b) writes each mutant of the reference's code that the assignment's units
declare (``mutants.mutants_of_folder``, ``unit_names``: a reference module's helpers stay as they are) as a
submission folder (a copy of the reference folder with the one mutated module) and grades them all
as one class, in parallel, on the first seed; (c) reads their reports: a mutant is caught when a
check did not pass (or it could not be graded at all), and the checks' diagnoses are kept.

Every mutant is student code: it is written to files and runs only in sandbox workers, never in
this process or a grader process (which only compile it, to drop mutants that are not Python).
Everything is written to a private temporary folder, removed at the end, unless ``out`` names a
folder to keep it in.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from .. import batch
from ..errors import ValidationError
from .mutants import mutants_of_folder
from .result import MutantResult, ReferenceRun, ValidationResult

__all__ = ["DEFAULT_SEEDS", "validate"]

#: Seeds the reference is graded on by default (0 .. DEFAULT_SEEDS - 1).
DEFAULT_SEEDS = 5


def _grade_at_seed(seeds_by_name, path, assignment, seed, sandbox):
    """The batch's grade function for the reference's copies: each folder graded on its own seed."""
    from ..grading import grade_submission

    return grade_submission(path, assignment, seeds_by_name.get(Path(path).name, seed), sandbox)


def _seed_list(seeds) -> tuple:
    if isinstance(seeds, int):
        if seeds < 1:
            raise ValidationError(f"seeds must be at least 1, not {seeds}")
        return tuple(range(seeds))
    out = tuple(int(s) for s in seeds)
    if not out or any(s < 0 for s in out):
        raise ValidationError(f"seeds must be one or more seeds >= 0, not {list(out)}")
    return out


def _work_folder(out):
    """(the folder to work in, whether it is ours to remove)."""
    if out is None:
        return Path(tempfile.mkdtemp(prefix="gradcheck-validate-")), True
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValidationError(
            f"{str(out)!r} is not an empty folder; give validate a new or empty folder to keep its files"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValidationError(f"cannot create {str(out)!r}: {e.strerror or e}") from None
    return out, False


def _submission(reference_dir: Path, dst: Path, file=None, source=None) -> None:
    """A submission folder: the reference folder's regular files (what the sandbox stages of a
    submission; not its package marker, hidden files, links or subfolders), with ``file`` replaced by
    ``source`` when given."""
    dst.mkdir(parents=True)
    with os.scandir(reference_dir) as entries:
        for e in entries:
            if e.is_file(follow_symlinks=False) and e.name != "__init__.py" and not e.name.startswith("."):
                shutil.copyfile(e.path, dst / e.name)
    if file is not None:
        (dst / file).write_text(source, encoding="utf-8")


def _reports(rows, reports_dir: Path) -> dict:
    """{submission name: report dict or None (its report could not be written)}."""
    out = {}
    for row in rows:
        name = row["submission"]
        out[name] = json.loads((reports_dir / row["report"]).read_text(encoding="utf-8")) if "report" in row else None
    return out


def _not_passed(report) -> list:
    return [c for c in (report or {}).get("checks", []) if c["status"] != "pass"]


def unit_names(assignment):
    """{module: the top-level names of the code its units declare, or None for the whole module}: what
    students write, and so what is mutated (a reference module's helpers, such as the functions the
    grader computes a bug's gradients or a kink's distance with, are not). None when the assignment
    declares no units (everything is)."""
    units = getattr(assignment, "units", ())
    if not units:
        return None
    names = {}
    for u in units:
        if u.style in ("graph", "model", "scalar_nn"):  # the grader's own checks drive the whole module's API
            names[u.module] = None
        elif u.style == "scalar_engine":  # the Value class, its closures included
            names[u.module] = names.get(u.module, set()) | {u.name} if names.get(u.module, ()) is not None else None
        elif names.get(u.module, ()) is not None:
            own = {u.name} if u.style == "gate" else {u.forward_name, u.backward_name} - {None}
            names[u.module] = names.get(u.module, set()) | own
    return names


def _slug(mutant_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", mutant_id)


def validate(assignment, seeds=DEFAULT_SEEDS, jobs=None, out=None, *, operators=None, progress=None):
    """Validate ``assignment`` (a loaded ``gradcheck.assignment.Assignment``); returns a ValidationResult.

    seeds: how many seeds the reference is graded on (0 .. seeds - 1), or the seeds themselves; the
    mutants are graded on the first. jobs: grader processes (default: ``batch.default_jobs()``).
    out: a new or empty folder that keeps the reference's copies, the mutants and every report
    (default: a temporary folder, removed). operators: the mutation operators to apply (default: all
    of ``mutants.OPERATORS``). progress(line): called with a line of text after each graded folder.

    Raises ValidationError when the assignment has no reference folder (or ``out`` is not empty),
    GraderError when grading itself cannot run (the sandbox cannot start)."""
    t0 = time.monotonic()
    seeds = _seed_list(seeds)
    reference_dir = assignment.reference_dir
    if reference_dir is None or not Path(reference_dir).is_dir():
        raise ValidationError(
            f"assignment {assignment.name!r} ({assignment.path}) has no reference folder to validate"
            + (f": {str(reference_dir)!r} is not a folder" if reference_dir is not None else "")
        )
    reference_dir = Path(reference_dir)
    jobs = jobs or batch.default_jobs()
    say = progress or (lambda line: None)
    work, temporary = _work_folder(out)
    try:
        runs = _grade_reference(assignment, reference_dir, seeds, jobs, work, say)
        result = ValidationResult(
            assignment=assignment.name, reference_dir=str(reference_dir), seeds=seeds, mutant_seed=seeds[0]
        )
        if not all(r.ok for r in runs):
            return dataclasses.replace(result, reference=runs, seconds=time.monotonic() - t0)
        try:
            generated = mutants_of_folder(reference_dir, assignment.modules, operators, unit_names(assignment))
        except SyntaxError as e:  # the reference graded, so this is a file it does not import
            raise ValidationError(f"cannot read the reference's {e.filename}: {e}") from None
        mutants = _grade_mutants(assignment, reference_dir, generated.mutants, seeds[0], jobs, work, say)
        return dataclasses.replace(
            result, reference=runs, mutants=mutants, skipped=generated.skipped, seconds=time.monotonic() - t0
        )
    finally:
        if temporary:
            shutil.rmtree(work, ignore_errors=True)


def _grade_reference(assignment, reference_dir, seeds, jobs, work, say) -> tuple:
    folder, reports_dir = work / "reference", work / "reference-reports"
    names = {f"seed-{s}": s for s in seeds}
    for name in names:
        _submission(reference_dir, folder / name)

    def line(row, done, total):
        say(f"[{done}/{total}] reference, {row['submission']}: {row['score']:g}/{row['max_score']:g} {row['status']}")

    rows = batch.grade_class(
        folder,
        reports_dir,
        assignment,
        seed=seeds[0],
        jobs=min(jobs, len(seeds)),
        grade=functools.partial(_grade_at_seed, names),
        progress=line,
    )
    reports = _reports(rows, reports_dir)
    runs = []
    for name, seed in names.items():
        report = reports.get(name)
        row = next(r for r in rows if r["submission"] == name)
        runs.append(
            ReferenceRun(
                seed=seed,
                status=row["status"],
                score=row["score"],
                max_score=row["max_score"],
                failed=tuple((c["id"], c["status"], c.get("message", "")) for c in _not_passed(report)),
                message=(report or row).get("message", ""),
            )
        )
    return tuple(runs)


def _grade_mutants(assignment, reference_dir, mutants, seed, jobs, work, say) -> tuple:
    if not mutants:
        return ()
    folder, reports_dir = work / "mutants", work / "mutant-reports"
    names = {}
    for i, m in enumerate(mutants):
        name = f"m{i:03d}-{_slug(m.id)}"
        names[name] = m
        _submission(reference_dir, folder / name, m.file, m.source)

    def line(row, done, total):
        m = names.get(row["submission"])
        passed = row["status"] == "graded" and all(c["status"] == "pass" for c in row["checks"].values())
        verdict = "survived" if passed else "caught"
        say(f"[{done}/{total}] {m.id if m else row['submission']}: {verdict}")

    rows = batch.grade_class(folder, reports_dir, assignment, seed=seed, jobs=jobs, progress=line)
    reports = _reports(rows, reports_dir)
    results = []
    for name, m in names.items():
        report = reports.get(name)
        row = next(r for r in rows if r["submission"] == name)
        failing = _not_passed(report)
        diagnoses = dict.fromkeys(
            c["details"]["diagnosis"]
            for c in failing
            if isinstance(c.get("details"), dict) and c["details"].get("diagnosis")
        )
        results.append(
            MutantResult(
                id=m.id,
                operator=m.operator,
                file=m.file,
                function=m.function,
                description=m.description,
                status=row["status"],
                score=row["score"],
                max_score=row["max_score"],
                caught_by=tuple(c["id"] for c in failing),
                diagnoses=tuple(diagnoses),
                message=row.get("message", "") if row["status"] != "graded" else "",
            )
        )
    return tuple(results)
