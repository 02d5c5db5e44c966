"""What runs on a Dask worker: ``SandboxPlugin`` (one gradcheck sandbox per worker process, for the
run that registered it) and ``grade_task`` (one submission, sent as bytes).

The plugin is made by the client with everything a run's grading needs (the assignment, the seed,
the paths to hide, the versions that make reports identical) and registered on every worker, those
that join later included. Its ``setup`` starts the sandbox in the worker's own folder; ``teardown``
(when the run ends, or the worker closes) stops it and removes the folder. A task rebuilds the
submission in a private folder (``snapshot.materialize``) and grades it with the local path's own
function (``batch._grade_here``), one at a time per worker process, whatever its thread count; the
outcome goes back to the client, which writes the report.

The grader here imports no file of a submission (Note [Where a submission is rebuilt]), and the
student's code runs only in the sandbox's workers. The sandbox must give them no network (a network
namespace): student code that could reach the Dask scheduler could run code in the graders; the
plugin refuses to grade without it.

Note [Where a submission is rebuilt]
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
A Dask worker puts its own folder (``worker.local_directory``) first on ``sys.path``. The plugin's
folder is made in it, so that Dask removes what a killed worker leaves, but under a name that no
``import`` can name (``gradcheck-XXXX``: a hyphen), and each submission is rebuilt two levels further
down (``in-XXXX/<name>/``, mode 0700, removed after grading): nothing of it is importable from
``sys.path``. The working directory is dropped from ``sys.path`` too (``python -m`` puts it there),
as in the local grader processes (gradcheck/workdir.py). The sandbox's own folder is made in the
plugin's folder, which is therefore mode 0711 (the sandbox's workers pass through to their copy).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import os
import platform
import shutil
import tempfile
import threading
import traceback
from pathlib import Path

from distributed import WorkerPlugin, get_worker

from .. import batch
from ..workdir import drop_working_directory
from .snapshot import materialize

__all__ = ["SandboxPlugin", "environment", "grade_task", "setup_error"]

NO_PLUGIN = "gradcheck's plugin {name} is not set up on this Dask worker ({worker})"
NO_NETWORK_NAMESPACE = (
    "the sandbox on this Dask worker gives student code network access (no network namespace: {notes}); "
    "it could reach the Dask scheduler, so gradcheck does not grade here (the worker needs user "
    "namespaces, as root or delegated: see docs/cluster.md)"
)
OTHER_ENVIRONMENT = (
    "this Dask worker's software differs from the client's ({differences}); install the same "
    "Python, numpy, Hypothesis and gradcheck on every worker (reports would differ)"
)


@functools.cache
def environment() -> dict:
    """What must be the same on the client and every worker for reports to be identical: Python
    (major.minor), numpy and Hypothesis versions, and a digest of gradcheck's own files (code,
    schemas, the default assignment, the reference)."""
    import hypothesis
    import numpy

    package = Path(batch.__file__).resolve().parent
    reference = importlib.util.find_spec("gradcheck.reference")
    digest = hashlib.sha256()
    for top in [package, *(Path(p).resolve() for p in (reference.submodule_search_locations if reference else []))]:
        for path in sorted(top.rglob("*")):
            if path.suffix in (".py", ".json", ".toml") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(top)).encode() + b"\0" + path.read_bytes() + b"\0")
    return {
        "python": ".".join(platform.python_version_tuple()[:2]),
        "numpy": numpy.__version__,
        "hypothesis": hypothesis.__version__,
        "gradcheck": digest.hexdigest()[:16],
    }


class SandboxPlugin(WorkerPlugin):
    """One run's sandbox on a Dask worker process. ``sandbox_factory(assignment, hide)``: the context
    manager whose value grades (default: ``batch.default_sandbox`` in the worker's own folder, which
    must give workers a network namespace)."""

    def __init__(self, name, assignment, seed, hide, grade=None, sandbox_factory=None, env=None):
        self.name, self.assignment, self.seed = name, assignment, seed
        self.hide, self.grade_fn, self.sandbox_factory = list(hide), grade, sandbox_factory
        self.env = env if env is not None else environment()
        self.reference = _reference_files(assignment)

    def _reference_here(self, hide) -> list:
        """An instructor's reference folder (not an installed package) on this worker: the client's,
        where this machine has the same files; else the files sent, written in the plugin's folder
        (and hidden from the sandbox). Returns ``hide`` with that copy."""
        if not self.reference:
            return hide
        folder = Path(self.assignment.reference_dir)
        if all(_read(folder / n) == data for n, data in self.reference.items()):
            return hide
        copy = Path(self._work) / "reference"
        copy.mkdir(mode=0o700)
        for n, data in self.reference.items():
            (copy / n).write_bytes(data)
        self.assignment = dataclasses.replace(self.assignment, reference_dir=copy)
        return [*hide, str(copy)]

    def setup(self, worker):
        self._lock = threading.Lock()
        self._cm = self.sandbox = self._work = None
        self.init_error = None
        try:
            drop_working_directory()
            batch.limit_grader_memory()  # the stand-ins' work on a student's arguments runs here
            batch.private_hypothesis_storage()
            mine = environment()
            differences = [
                f"{k} {mine.get(k)} here, {v} on the client" for k, v in self.env.items() if mine.get(k) != v
            ]
            if differences:
                raise RuntimeError(OTHER_ENVIRONMENT.format(differences="; ".join(differences)))
            self._work = tempfile.mkdtemp(prefix="gradcheck-", dir=worker.local_directory)
            os.chmod(self._work, 0o711)  # the sandbox's folder is made in it; workers pass through
            hide = [h for h in self.hide if os.path.lexists(h)]  # the client's paths, where this machine has them
            hide = self._reference_here(hide)
            if self.sandbox_factory is None:
                self._cm = batch.default_sandbox(self.assignment, hide, staging_root=self._work)
            else:
                self._cm = self.sandbox_factory(self.assignment, hide)
            self.sandbox = self._cm.__enter__()
            isolation = dict(getattr(self.sandbox, "isolation", {}))  # a test's stand-in sandbox may say nothing
            if (self.sandbox_factory is None or "network_namespace" in isolation) and not isolation.get(
                "network_namespace"
            ):
                notes = "; ".join(isolation.get("notes", [])) or "no notes"
                raise RuntimeError(NO_NETWORK_NAMESPACE.format(notes=notes))
        except BaseException as e:  # noqa: BLE001 - reported with each task; the client stops the run
            self.init_error = {
                "kind": "init_error",
                "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(),
                "seconds": 0.0,
            }
            self.teardown(worker)

    def teardown(self, worker):
        cm, self._cm, self.sandbox = self._cm, None, None
        try:
            if cm is not None:
                cm.__exit__(None, None, None)
        finally:
            if self._work is not None:
                shutil.rmtree(self._work, ignore_errors=True)

    def grade(self, snapshot) -> dict:
        """The outcome of grading one submission (``batch._grade_here``'s), or the set-up error."""
        with self._lock:  # one sandbox, one submission at a time
            if self.init_error is not None:
                return self.init_error
            folder = tempfile.mkdtemp(prefix="in-", dir=self._work)  # mode 0700: the sandbox's workers cannot enter
            try:
                path = materialize(snapshot, folder)
                grade = self.grade_fn if self.grade_fn is not None else batch._default_grade()
                grade = _with_digest(grade, snapshot.get("digest"))
                return batch._grade_here(grade, path, self.assignment, self.seed, self.sandbox)
            finally:
                shutil.rmtree(folder, ignore_errors=True)


def _with_digest(grade, digest):
    """``grade`` whose report hashes the original folder (the client's digest), not the rebuilt one."""

    def graded(path, assignment, seed, sandbox):
        report = grade(path, assignment, seed, sandbox)
        if digest is not None and isinstance(report, dict) and "submission_hash" in report:
            report["submission_hash"] = digest
        return report

    return graded


def _reference_files(assignment) -> dict:
    """{file name: bytes} of the reference modules of an assignment whose model solution is a folder
    of the instructor's (not an installed package): what a worker on another machine needs."""
    folder = getattr(assignment, "reference_dir", None)
    if folder is None or getattr(assignment, "reference_package", None):
        return {}
    return {p.name: p.read_bytes() for p in sorted(Path(folder).glob("*.py")) if p.is_file()}


def _read(path):
    try:
        return path.read_bytes()
    except OSError:
        return None


def setup_error(name, dask_worker=None):
    """The error of plugin ``name``'s set-up on this worker (``Client.run`` passes ``dask_worker``), or None."""
    plugin = dask_worker.plugins.get(name)
    if plugin is None:
        return NO_PLUGIN.format(name=name, worker=dask_worker.address)
    return plugin.init_error["error"] if plugin.init_error else None


def grade_task(name, snapshot) -> dict:
    """Grade one submission (``snapshot.read_submission``'s) with the plugin ``name`` of this worker;
    tells the client when it starts (an event on topic ``name``: the run's clock for this task)."""
    worker = get_worker()
    worker.log_event(name, {"key": str(worker.get_current_task()), "worker": worker.address})
    plugin = worker.plugins.get(name)
    if plugin is None:
        error = NO_PLUGIN.format(name=name, worker=worker.address)
        return {"kind": "init_error", "error": error, "traceback": "", "seconds": 0.0}
    return plugin.grade(snapshot)
