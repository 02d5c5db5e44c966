"""Grade a class: every submission folder, in parallel, each report written as soon as it is done.

``grade_class`` runs the per-submission grade function in a pool of grader processes
(``concurrent.futures.ProcessPoolExecutor``, spawn context). Each grader process makes ONE sandbox in
its initializer and reuses it for every submission it grades. The parent keeps only summary rows
(never reports), validates each report and writes it atomically, then writes summary.json and
gradebook.csv.

No submission is lost:
- an exception while grading a submission -> an error report for it;
- a grader process that dies (BrokenProcessPool) -> the submissions that were in flight are re-run
  one at a time in a fresh pool, so a second death is surely theirs -> an error report; the others
  go on in a fresh parallel pool;
- a submission whose grading outlives ``timeout`` seconds (a hung grader) -> its pool is stopped, it
  gets an error report, and the others in flight are re-run.
The grader processes are started with the spawn method: code that calls grade_class must be
importable without side effects (the usual ``if __name__ == "__main__":`` guard). They start in an
empty private folder, with the working directory left out of the ``sys.path`` they get (unless
gradcheck itself is imported from there): a submission folder named like a module (``selectors``,
``numpy``) is never imported into a grader process, whatever folder the grader was started from.
The caller's working directory is changed only while a grader process starts (multiprocessing
takes the child's start folder from it), so grade_class is not for a program whose other threads
use relative paths meanwhile.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import functools
import json
import multiprocessing
import multiprocessing.util
import os
import shutil
import signal
import stat
import sys
import tempfile
import time
import traceback
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from .contract import MODULE_FILES
from .errors import BatchError, GraderError
from .report import (
    CLASS_FILES,
    ReportError,
    display_name,
    dumps_report,
    error_report,
    exclusive_write_text,
    remove_temporaries,
    report_path,
    summary_row,
    to_jsonable,
    validate_report,
    write_summary,
)
from .submission import submission_digest, submission_modules

__all__ = [
    "BatchError",
    "GraderError",
    "assignment_paths",
    "default_jobs",
    "default_sandbox",
    "discover_submissions",
    "grade_class",
    "grade_one",
]

CRASHED_TWICE = (
    "the grader process died twice while grading this submission (for example killed for "
    "using too much memory); it was not graded"
)
INTERNAL_ERROR = "internal grader error: {error}"
INVALID_REPORT = "internal grader error: the grader made an invalid report ({error})"
TOO_LONG = "grading this submission took longer than {seconds:g} s and was stopped"
LINK_REFUSED = "{name} is a symbolic link; links are not graded"
PARENT_FAULT = "internal grader error while writing this submission's report: {error}"
NAME_TAKEN = (
    "its report file {file} already holds the report of another submission of this run ({other}); "
    "names that differ only in case share a file here"
)


_HYPOTHESIS_HOME = None


def private_hypothesis_storage() -> str:
    """Point Hypothesis' storage (its example database, its caches) into a private temporary folder,
    removed at exit: grading writes nothing outside --out and the system temp folder (Hypothesis
    would otherwise create ``.hypothesis/`` in the current directory). An operator's own
    HYPOTHESIS_STORAGE_DIRECTORY is kept. Processes started afterwards (the grader pool) inherit it."""
    global _HYPOTHESIS_HOME
    where = os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY")
    if not where:
        if _HYPOTHESIS_HOME is None:
            _HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="gradcheck-hypothesis-")
            import atexit

            atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, True)
        where = os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = _HYPOTHESIS_HOME
    try:  # when Hypothesis already decided where its storage is
        from hypothesis.configuration import set_hypothesis_home_dir

        set_hypothesis_home_dir(where)
    except ImportError:
        pass
    return where


def default_jobs() -> int:
    """Grader processes to use by default: two per CPU this process may run on, at most 8. A grader and
    its sandbox worker take turns (each waits while the other computes), so one grader per CPU leaves
    CPUs idle: on 2 CPUs the benchmark's class goes at 7.98 submissions/s with 3 graders and 8.61 with
    4 (bench/run.py). At most 8: each grader has a worker beside it that may use up to the
    assignment's memory limit."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(2 * cpus, 8))


def assignment_paths(assignment) -> list:
    """What of the assignment the workers must not see: the folder of its file, and its model
    solution's folder wherever that is (``reference = {path = "../solutions"}`` outside it, or an
    installed package, which sits next to numpy in the Python installation the workers are given)."""
    paths = [str(Path(assignment.path).resolve().parent)]
    reference = getattr(assignment, "reference_dir", None)
    if reference is not None and str(Path(reference).resolve()) not in paths:
        paths.append(str(Path(reference).resolve()))
    return paths


def default_sandbox(assignment, hide, staging_root=None):
    """The real sandbox of a grader process: ``Sandbox(Limits(**assignment.limits), hide=hide)``."""
    from .contract import MODULES
    from .sandbox import Limits, Sandbox

    return Sandbox(
        Limits(**assignment.limits), hide=list(hide), staging_root=staging_root, modules=assignment.modules or MODULES
    )


def _default_grade():
    from .grading import grade_submission

    return grade_submission


def discover_submissions(submissions_dir, exclude=()) -> list:
    """The submission folders: every immediate subdirectory whose name does not start with '.' or
    '_', sorted by name (paths in ``exclude``, e.g. the reports folder, are skipped). Any name the
    file system allows counts (one that is not UTF-8 too). A symbolic link to a folder is listed as
    well, and gets an error report saying that links are not graded (it is never followed). Raises
    BatchError naming the path when it is not a directory or holds no submission folder."""
    root = Path(submissions_dir)
    if not root.exists():
        raise BatchError(f"submissions folder {str(root)!r} does not exist")
    if not root.is_dir():
        raise BatchError(f"{str(root)!r} is not a folder; expected a folder with one subfolder per submission")
    skip = {Path(p).resolve() for p in exclude}
    try:
        subs = []
        with os.scandir(root) as entries:
            for e in entries:
                if e.name.startswith((".", "_")):
                    continue
                if (e.is_dir(follow_symlinks=False) or (e.is_symlink() and e.is_dir())) and (
                    root / e.name
                ).resolve() not in skip:
                    subs.append(root / e.name)
        subs.sort(key=lambda p: os.fsencode(p.name))
    except OSError as e:
        raise BatchError(f"cannot list submissions folder {str(root)!r}: {e.strerror}") from None
    if not subs:
        hint = ""
        if any((root / f).exists() for f in MODULE_FILES):
            hint = f"; it looks like one submission: use `gradcheck check {root}`"
        raise BatchError(
            f"no submission folders in {str(root)!r} (expected one subfolder per submission, "
            f"names not starting with '.' or '_'){hint}"
        )
    return subs


# --- the grader process ---------------------------------------------------------------------------

_WORKER = {}


def die_with_parent(parent_pid):
    """This process ends when ``parent_pid`` (its parent) ends, whatever signal killed it (SIGKILL
    too): the kernel's parent-death signal, and a thread that watches for the parent's end (in case
    the signal was armed too late or for a thread that has ended). The sandbox's fork server, made in
    this process, dies with it in turn (its own parent-death signal), and its workers with it."""
    try:
        from .sandbox.inside import isolation

        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError, ImportError):
        pass
    if os.getppid() != parent_pid:  # gone before the signal was armed
        os._exit(1)

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(0.25)
        os._exit(1)

    import threading

    threading.Thread(target=watch, name="gradcheck-parent-watch", daemon=True).start()


#: The data a grader process may hold (RLIMIT_DATA, soft): about 10 times what grading needs (160 MB
#: measured after grading a layers submission). What a stand-in computes on a student's arguments runs
#: here (gradcheck.standins): a convolution asked for with pad 20,000 would ask for tens of GB; under
#: this limit it is a MemoryError, the stand-in's error, not a machine out of memory. Its time is the
#: hung-grader timeout's. GRADCHECK_GRADER_MEMORY_MB sets another value.
GRADER_MEMORY_MB = 2048


def limit_grader_memory():
    """Hold this (grader) process's data to GRADER_MEMORY_MB (or GRADCHECK_GRADER_MEMORY_MB), never
    above a hard limit already set. The sandbox's workers set their own, lower, limits."""
    import resource

    mb = int(os.environ.get("GRADCHECK_GRADER_MEMORY_MB") or GRADER_MEMORY_MB)
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = mb << 20 if hard == resource.RLIM_INFINITY else min(mb << 20, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def _worker_init(grade, sandbox_factory, assignment, hide, parent_pid=None):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if parent_pid is not None:
        die_with_parent(parent_pid)
    limit_grader_memory()
    private_hypothesis_storage()
    _WORKER.clear()
    _WORKER["assignment"] = assignment
    try:
        _WORKER["grade"] = grade if grade is not None else _default_grade()
        cm = (sandbox_factory or default_sandbox)(assignment, hide)
        _WORKER["sandbox"] = cm.__enter__()
        # runs when the pool shuts this process down (multiprocessing does not run atexit handlers)
        multiprocessing.util.Finalize(None, cm.__exit__, args=(None, None, None), exitpriority=10)
    except BaseException as e:  # noqa: BLE001 - reported with the first task; the parent stops the batch
        _WORKER["init_error"] = f"{type(e).__name__}: {e}"
        _WORKER["init_traceback"] = traceback.format_exc()


def _grade_in_worker(path, seed):
    if "init_error" in _WORKER:
        return {
            "kind": "init_error",
            "error": _WORKER["init_error"],
            "traceback": _WORKER["init_traceback"],
            "seconds": 0.0,
        }
    return _grade_here(_WORKER["grade"], Path(path), _WORKER["assignment"], seed, _WORKER["sandbox"])


def _grade_here(grade, path, assignment, seed, sandbox):
    """Grade one submission in this process; the report travels as JSON text."""
    from .submission import SubmissionRefused

    t0 = time.monotonic()
    if os.path.islink(path):  # never followed: not even handed to the grade function
        return {"kind": "refused", "error": LINK_REFUSED.format(name=display_name(path.name)), "seconds": 0.0}
    try:
        report = grade(path, assignment, seed, sandbox)
        return {"kind": "report", "json": dumps_report(report), "seconds": time.monotonic() - t0}
    except KeyboardInterrupt:
        raise
    except SubmissionRefused as e:
        return {"kind": "refused", "error": str(e), "seconds": time.monotonic() - t0}
    except BaseException as e:  # noqa: BLE001 - a grader bug (SystemExit too): the parent makes an error report of it
        from .text import safe

        return {
            "kind": "exception",
            "error": safe(f"{type(e).__name__}: {e}", 2000),
            "traceback": safe(traceback.format_exc()),
            "seconds": time.monotonic() - t0,
        }


# --- the parent -----------------------------------------------------------------------------------


def _report_from(outcome, path, assignment, seed):
    """(report dict, traceback or None) for one outcome of grading."""
    report, trace, _ = _checked_report(outcome, path, assignment, seed)
    return report, trace


def _checked_report(outcome, path, assignment, seed):
    """(report dict, traceback or None, text): ``text`` is the grader's own JSON text of a report
    that was validated here (what write_report would write for it, byte for byte), else None."""
    kind, sub = outcome["kind"], display_name(path.name)

    def failed(message, seconds=None):
        digest = submission_digest(path, submission_modules(assignment))
        return error_report(sub, assignment, seed, message, seconds=seconds, submission_hash=digest)

    if kind == "report":
        try:
            report = json.loads(outcome["json"])
            text = outcome["json"]
            if isinstance(report, dict) and report.get("submission") == path.name != sub:
                report["submission"], text = sub, None  # a folder name that is not UTF-8, as text
            if not isinstance(report, dict) or report.get("submission") != sub:
                got = report.get("submission") if isinstance(report, dict) else type(report).__name__
                raise ReportError(f"it names submission {got!r}, not {sub!r}")
            validate_report(report)
            return report, None, text
        except (ReportError, ValueError) as e:
            return failed(INVALID_REPORT.format(error=_one_line(e)), outcome["seconds"]), str(e), None
    if kind == "exception":
        return failed(INTERNAL_ERROR.format(error=outcome["error"]), outcome["seconds"]), outcome["traceback"], None
    if kind == "refused":
        return failed(outcome["error"], outcome["seconds"]), None, None
    if kind == "crashed":
        return failed(CRASHED_TWICE), None, None
    if kind == "too_long":
        return failed(TOO_LONG.format(seconds=outcome["limit"]), outcome["seconds"]), None, None
    raise AssertionError(kind)


def _compact(row):
    """The row with its check ids and statuses interned: the parent keeps a row per submission,
    and every row repeats the same strings."""
    checks = row.get("checks")
    if isinstance(checks, dict):
        row["checks"] = {
            sys.intern(k): {f: sys.intern(v) if isinstance(v, str) else v for f, v in c.items()}
            if isinstance(c, dict)
            else c
            for k, c in checks.items()
        }
    return row


def _one_line(e) -> str:
    first, *rest = [ln.strip() for ln in str(e).splitlines() if ln.strip()] or [type(e).__name__]
    text = f"{first} {'; '.join(rest[:2])}".strip() if first.endswith(":") else "; ".join([first, *rest[:2]])
    return text if len(text) <= 300 else text[:297] + "..."


def _stop(pool):
    """Stop a pool now: cancel what has not started, kill its processes."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # private, but stable since 3.2
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        try:
            p.kill()
        except Exception:  # noqa: BLE001 - already gone or closed: nothing left to stop
            pass
    for p in procs:
        try:
            p.join(5)
        except Exception:  # noqa: BLE001 - likewise
            pass


@contextlib.contextmanager
def neutral_start(folder):
    """While processes start: the working directory is ``folder`` (an empty private folder, where a
    spawned interpreter begins and stays) and sys.path holds no working directory (the children
    copy it)."""
    from .workdir import without_working_directory

    old_cwd, old_path = os.getcwd(), list(sys.path)
    sys.path[:] = without_working_directory(old_path, old_cwd)
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path


class _Runner:
    def __init__(self, initargs, timeout, on_outcome, start_dir):
        self.initargs, self.timeout, self.on_outcome = initargs, timeout, on_outcome
        self.ctx = multiprocessing.get_context("spawn")
        self.start_dir = start_dir

    def _handle(self, fut, path, start) -> bool:
        """Pass a finished future's outcome on; False when its grader process died."""
        try:
            outcome = fut.result(timeout=0)
        except BrokenProcessPool:
            return False
        except Exception as e:  # noqa: BLE001 - e.g. the result could not be sent back
            outcome = {
                "kind": "exception",
                "error": f"{type(e).__name__}: {e}",
                "traceback": "".join(traceback.format_exception(e)),
                "seconds": time.monotonic() - start,
            }
        if outcome["kind"] == "init_error":
            raise GraderError(
                "could not start the sandbox in a grader process: " + outcome["error"] + "\n" + outcome["traceback"]
            )
        self.on_outcome(path, outcome)
        return True

    def run(self, items, jobs, seed):
        """Grade items in one pool with at most `jobs` in flight. Returns (crashed, requeue): the
        items in flight when a grader process died, and the items to run again through no fault of
        their own (not started, or stopped because another one took too long)."""
        queue = collections.deque(items)
        inflight = {}  # future -> (path, start time)
        crashed, requeue = [], []
        broken = False
        with neutral_start(self.start_dir):  # the pool's resource tracker starts here too
            pool = cf.ProcessPoolExecutor(
                max_workers=jobs, mp_context=self.ctx, initializer=_worker_init, initargs=self.initargs
            )
        try:
            while (queue or inflight) and not broken:
                while queue and len(inflight) < jobs:
                    try:
                        where = os.path.abspath(queue[0])  # before neutral_start changes folder
                        with neutral_start(self.start_dir):  # submit starts the grader processes
                            fut = pool.submit(_grade_in_worker, where, seed)
                    except BrokenProcessPool:
                        broken = True
                        break
                    inflight[fut] = (queue.popleft(), time.monotonic())
                if broken:
                    break
                now = time.monotonic()
                wait = max(0.05, min(t for _, t in inflight.values()) + self.timeout - now)
                done, _ = cf.wait(list(inflight), timeout=min(wait, 5.0), return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    path, start = inflight.pop(fut)
                    if not self._handle(fut, path, start):
                        crashed.append(path)
                        broken = True
                if broken:
                    break
                now = time.monotonic()
                late = [f for f, (_, t) in inflight.items() if now - t > self.timeout and not f.done()]
                if late:
                    for fut in late:
                        path, start = inflight.pop(fut)
                        self.on_outcome(path, {"kind": "too_long", "limit": self.timeout, "seconds": now - start})
                    _stop(pool)
                    pool = None
                    # the others in flight were stopped with it: run them again, no fault of theirs
                    requeue.extend(p for p, _ in inflight.values())
                    inflight.clear()
                    break
            if broken:
                # a grader process died: the others in flight fail the same way (unless they just
                # finished); all of them are suspects
                cf.wait(list(inflight), timeout=30)
                for fut, (path, start) in inflight.items():
                    if not (fut.done() and self._handle(fut, path, start)):
                        crashed.append(path)
                inflight.clear()
            requeue.extend(queue)
        except BaseException:
            if pool is not None:
                _stop(pool)
                pool = None
            raise
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        return crashed, requeue


def grade_class(
    submissions_dir,
    out_dir,
    assignment,
    seed=0,
    jobs=1,
    progress=None,
    grade=None,
    *,
    sandbox_factory=None,
    timeout=None,
    resume=False,
    cluster=None,
) -> list:
    """Grade every submission folder of submissions_dir; write OUT_DIR/<submission>.json for each
    (validated, atomically, as soon as it is done), then summary.json and gradebook.csv.

    resume: keep the reports of OUT_DIR that are up to date (``gradcheck.resume``: same files,
    assignment, seed and gradcheck version) and grade only the other submissions; their rows say
    ``"resumed": True``. Before grading, a run removes the temporary files a killed run left in
    OUT_DIR and the class files of the run before (summary.json, gradebook.csv, index.html), so that
    none of them describes reports this run replaces.

    grade(submission_dir, assignment, seed, sandbox) -> report dict (default:
    gradcheck.grading.grade_submission); sandbox_factory(assignment, hide) -> the context manager
    whose value is passed as ``sandbox`` (default: default_sandbox), entered once per grader process.
    progress(row, done, total) is called in the parent after each report is written (``total``: the
    submissions this run grades, without those kept by ``resume``). timeout: the
    seconds one submission may take before its grading is stopped (default: 3 x the assignment's
    submission_seconds + 60). cluster: grade on a Dask cluster instead of local grader processes
    (``local:N`` or a scheduler's ``tcp://HOST:PORT``; ``jobs`` is then unused; see gradcheck.cluster).
    Returns the summary rows, sorted by submission id.

    Raises BatchError for a bad submissions path and GraderError when the reports cannot be written
    or a sandbox cannot be started."""
    submissions_dir, out_dir = Path(submissions_dir), Path(out_dir)
    if cluster is not None:  # a usage error before anything is written
        from .cluster import parse_cluster, require_dask

        cluster = parse_cluster(cluster)
        require_dask()
    private_hypothesis_storage()
    subs = discover_submissions(submissions_dir, exclude=[out_dir])
    _prepare_out_dir(out_dir)
    _start_run(out_dir)
    kept = []
    if resume:
        from .resume import split_up_to_date

        subs, kept = split_up_to_date(subs, out_dir, assignment, seed)
    if timeout is None:
        timeout = 3 * float(assignment.limits.get("submission_seconds", 120)) + 60
    jobs = max(1, min(int(jobs), len(subs)))
    hide = [str(submissions_dir.resolve()), str(out_dir.resolve()), *assignment_paths(assignment)]
    rows = []
    staging = None
    if sandbox_factory is None:
        # the sandboxes' private folders live in one folder of this run, removed at the end: a grader
        # process that dies cannot clean up its own
        staging = tempfile.mkdtemp(prefix="gradcheck-batch-")
        os.chmod(staging, 0o711)
        sandbox_factory = functools.partial(default_sandbox, staging_root=staging)

    written = {}  # (st_dev, st_ino) of every report file this run created or kept -> its submission
    for _, report, file in kept:
        st = os.lstat(file)
        written[(st.st_dev, st.st_ino)] = report["submission"]
        seconds = (report.get("timing") or {}).get("seconds")
        rows.append(_compact(dict(summary_row(report, file, seconds), resumed=True)))

    def may_replace(st):  # a report left by an earlier run may be replaced; one of this run, never
        return stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) not in written

    def write(report, text, path):
        """Create the report file of ``path`` exclusively; (file or None, error report or None)."""
        file = report_path(out_dir, path.name)  # from the folder's own bytes: reversible, collision-free
        try:
            exclusive_write_text(file, text, may_replace)
        except FileExistsError:
            st = os.lstat(file)
            other = written.get((st.st_dev, st.st_ino), "?")
            return None, error_report(
                report["submission"],
                assignment,
                seed,
                NAME_TAKEN.format(file=file.name, other=other),
                submission_hash=report.get("submission_hash"),
            )
        st = os.lstat(file)
        written[(st.st_dev, st.st_ino)] = report["submission"]
        return file, None

    def handle(path, outcome):
        report, trace, text = _checked_report(outcome, path, assignment, seed)
        if text is None:  # validated above: write the grader's text, not validate it twice
            plain = to_jsonable(report)
            validate_report(plain)
            text = dumps_report(plain)
        file, taken = write(report, text, path)
        if taken is not None:
            report, trace = taken, None
        return report, trace, file

    def on_outcome(path, outcome):
        try:
            report, trace, file = handle(path, outcome)
        except Exception as e:  # noqa: BLE001 - a fault here is this submission's, not the batch's
            report = error_report(
                display_name(path.name),
                assignment,
                seed,
                PARENT_FAULT.format(error=_one_line(f"{type(e).__name__}: {e}")),
                submission_hash=submission_digest(path, submission_modules(assignment)),
            )
            trace = traceback.format_exc()
            try:
                file, taken = write(report, dumps_report(report), path)
            except OSError as e2:
                raise GraderError(
                    f"could not write the report of {display_name(path.name)!r} in {str(out_dir)!r}: {e2}"
                ) from e2
        row = _compact(summary_row(report, file, outcome.get("seconds")))
        del report
        rows.append(row)
        if progress is not None:
            try:
                progress(dict(row, traceback=trace) if trace else row, len(rows) - len(kept), len(subs))
            except Exception:  # noqa: BLE001 - a progress line that cannot be shown stops nothing
                pass

    start_dir = tempfile.mkdtemp(prefix="gradcheck-cwd-")  # empty: where grader processes start
    runner = _Runner((grade, sandbox_factory, assignment, hide, os.getpid()), timeout, on_outcome, start_dir)
    queue = list(subs)
    try:
        if cluster is not None:  # the cluster's workers grade; the reports are written here all the same
            from .cluster import grade_on_cluster

            factory = sandbox_factory if staging is None else None  # None: the workers' own default sandbox
            grade_on_cluster(
                cluster,
                queue,
                assignment,
                seed,
                hide=hide,
                timeout=timeout,
                on_outcome=on_outcome,
                start_dir=start_dir,
                grade=grade,
                sandbox_factory=factory,
            )
            queue = []
        while queue:
            crashed, queue = runner.run(queue, jobs, seed)
            isolated = crashed  # each suspect alone: a second death is its own
            while isolated:
                again, isolated = runner.run(isolated, 1, seed)
                for path in again:
                    on_outcome(path, {"kind": "crashed", "seconds": None})
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(start_dir, ignore_errors=True)
    try:
        write_summary(rows, out_dir, assignment=assignment, seed=seed)
    except OSError as e:
        raise GraderError(f"could not write the class summary in {str(out_dir)!r}: {e}") from e
    return sorted(rows, key=lambda r: r["submission"])


def _start_run(out_dir: Path) -> None:
    """What a run clears in OUT_DIR before it grades: the temporary files a killed run left, and the
    class files (summary.json, gradebook.csv, index.html) of the run before, which would describe
    reports this run is replacing (until it writes its own; a killed run leaves none)."""
    remove_temporaries(out_dir)
    for name in CLASS_FILES:
        try:
            os.unlink(out_dir / name)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise GraderError(f"cannot remove {str(out_dir / name)!r} of the run before: {e.strerror or e}") from e


def _prepare_out_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / f".gradcheck-write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise GraderError(f"cannot write reports to {str(out_dir)!r}: {e.strerror or e}") from e


def grade_one(submission_dir, assignment, seed=0, grade=None, *, sandbox_factory=None, hide=()) -> tuple:
    """Grade one submission in this process (for ``gradcheck check``): (report, seconds, traceback or
    None). An exception of the grader becomes an error report. Raises GraderError when the sandbox
    cannot be started."""
    path = Path(submission_dir).resolve()
    private_hypothesis_storage()
    grade = grade if grade is not None else _default_grade()
    hide = [str(path.resolve()), *assignment_paths(assignment), *map(str, hide)]
    try:
        cm = (sandbox_factory or default_sandbox)(assignment, hide)
        sandbox = cm.__enter__()
    except Exception as e:
        raise GraderError(f"could not start the sandbox: {type(e).__name__}: {e}") from e
    try:
        outcome = _grade_here(grade, path, assignment, seed, sandbox)
    finally:
        cm.__exit__(None, None, None)
    report, trace = _report_from(outcome, path, assignment, seed)
    return report, outcome["seconds"], trace
