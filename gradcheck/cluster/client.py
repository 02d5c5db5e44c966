"""Grade a class on a Dask cluster: the client side of ``batch.grade_class(..., cluster=...)``.

The client (the ``gradcheck grade`` process) reads each submission (``snapshot.read_submission``:
bytes, read with the local grader's rules), sends it as a Dask task (``worker.grade_task``) and hands
each task's outcome to ``grade_class``, which writes the report as it does for its own grader
processes (the same report from the same outcome). A run registers its own ``worker.SandboxPlugin``
on the cluster and removes it at the end.

No submission is lost (Note [Faults on a cluster]). Tasks in flight are at most the cluster's worker
processes (each grades one submission at a time), so a task starts as soon as it is sent and a
worker that dies takes only its own task with it.

Note [Faults on a cluster]
~~~~~~~~~~~~~~~~~~~~~~~~~~
- A Dask worker that dies while grading (a submission that kills its grader): Dask's scheduler
  runs the task again on another worker; when that worker dies too, the task fails with
  ``KilledWorker`` and the submission gets the local grader's "died twice" error report. That takes
  ``distributed.scheduler.allowed-failures`` = 1 on the scheduler, and ``worker-saturation`` = 1.0
  (a task waits on the scheduler, not queued on a busy worker, so a worker's death counts against
  the task it was running only); ``local.SCHEDULER_CONFIG`` sets both, and a scheduler configured
  otherwise is refused before anything is sent.
- A task that runs longer than ``timeout`` seconds (counted from when it starts on a worker, which
  the task tells the client through an event; again when it is run again elsewhere): an error
  report, the task is cancelled and its worker process ended (its thread cannot be stopped
  otherwise); its nanny starts a new one, as after any death (``dask worker`` and ``local:N`` start
  workers with a nanny), and the run goes on. (``Client.restart_workers`` was tried first: under
  load its nanny sometimes killed the worker and did not start another within a minute.)
- A task that fails otherwise (the submission could not be rebuilt on the worker): an error report
  with the exception, as for a grader's exception.
- A worker whose sandbox cannot start (``SandboxPlugin``): the run stops with GraderError, as when
  a local grader process cannot start its sandbox. So does a cluster without workers for
  ``NO_WORKER_SECONDS``.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import os
import time
import traceback
from pathlib import Path

from ..contract import MODULES
from ..errors import BatchError, GraderError
from ..grading import SubmissionRefused
from ..sandbox import Limits
from ..text import safe
from .local import SCHEDULER_CONFIG, local_cluster
from .snapshot import read_submission
from .spec import parse_cluster, require_dask

__all__ = ["grade_on_cluster"]

PLUGIN_PREFIX = "gradcheck-sandbox-"
CONNECT_SECONDS = 30
NO_WORKER_SECONDS = 120
#: the scheduler's settings gradcheck needs (Note [Faults on a cluster]): its attribute -> the config key
SCHEDULER_SETTINGS = {
    "allowed_failures": "distributed.scheduler.allowed-failures",
    "WORKER_SATURATION": "distributed.scheduler.worker-saturation",
}
WRONG_SETTINGS = (
    "the Dask scheduler at {address} is not configured for gradcheck ({wrong}): start it with {env} dask scheduler ..."
)


def grade_on_cluster(
    cluster, subs, assignment, seed, *, hide, timeout, on_outcome, start_dir, grade=None, sandbox_factory=None
) -> None:
    """Grade the submission folders ``subs`` on ``cluster`` (a ``--cluster`` value or ClusterSpec),
    calling ``on_outcome(path, outcome)`` here for each, as ``batch.grade_class``'s own pool does.

    hide: the paths the sandboxes must hide (where a worker's machine has them); timeout: seconds one
    submission may take on a worker; start_dir: an empty private folder where a local cluster starts;
    grade, sandbox_factory: as for ``grade_class`` (default: the real grader and sandbox).
    Raises BatchError for a bad cluster value, a missing Dask or a scheduler configured otherwise,
    GraderError when the cluster cannot be reached or its workers cannot grade."""
    spec = parse_cluster(cluster)
    require_dask()
    limits, modules = Limits(**assignment.limits), assignment.modules or MODULES
    with contextlib.ExitStack() as stack:
        address = spec.address or stack.enter_context(local_cluster(spec.local, start_dir))
        client = stack.enter_context(_connect(address))
        _check_scheduler(client, address)
        name = PLUGIN_PREFIX + client.id
        stack.callback(_tear_down_workers, client, name)  # also when setting up fails half-way
        _set_up_workers(client, address, name, assignment, seed, hide, grade, sandbox_factory)
        _Run(client, name, address, (limits, modules), timeout, on_outcome).run(subs)


@contextlib.contextmanager
def _connect(address):
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise GraderError(f"could not reach the Dask scheduler at {address}: {type(e).__name__}: {e}") from None
    try:
        try:
            client.wait_for_workers(1, timeout=NO_WORKER_SECONDS)
        except TimeoutError:
            raise GraderError(
                f"no Dask worker joined the scheduler at {address} within {NO_WORKER_SECONDS} s"
            ) from None
        yield client
    finally:
        with contextlib.suppress(Exception):  # closing a client whose scheduler is gone: nothing left to do
            client.close(timeout=10)


def _check_scheduler(client, address):
    """BatchError unless the scheduler has SCHEDULER_SETTINGS as ``local.SCHEDULER_CONFIG`` sets them."""
    names = list(SCHEDULER_SETTINGS)
    try:
        have = client.run_on_scheduler(lambda dask_scheduler: [getattr(dask_scheduler, n, None) for n in names])
    except Exception as e:  # noqa: BLE001 - any failure to ask is the scheduler's, named here
        raise GraderError(f"could not ask the Dask scheduler at {address} for its settings: {e}") from None
    want = [SCHEDULER_CONFIG[SCHEDULER_SETTINGS[n]] for n in names]
    if have != want:
        wrong = ", ".join(f"{SCHEDULER_SETTINGS[n]} is {h}, not {w}" for n, h, w in zip(names, have, want) if h != w)
        env = " ".join(
            f"DASK_{SCHEDULER_SETTINGS[n].upper().replace('.', '__').replace('-', '_')}={w}"
            for n, w in zip(names, want)
        )
        raise BatchError(WRONG_SETTINGS.format(address=address, wrong=wrong, env=env))


def _set_up_workers(client, address, name, assignment, seed, hide, grade, sandbox_factory):
    """Remove the plugins of runs whose client is gone (killed before it could), register this run's."""
    from .worker import SandboxPlugin, setup_error

    def stale(dask_scheduler, prefix=PLUGIN_PREFIX):
        return [
            p
            for p in dask_scheduler.worker_plugins
            if p.startswith(prefix) and p[len(prefix) :] not in dask_scheduler.clients
        ]

    with contextlib.suppress(Exception):  # best effort: a left-over plugin only holds an idle sandbox
        for old in client.run_on_scheduler(stale):
            client.unregister_worker_plugin(old)
    plugin = SandboxPlugin(name, assignment, seed, hide, grade=grade, sandbox_factory=sandbox_factory)
    try:
        client.register_plugin(plugin, name=name)
        errors = client.run(setup_error, name)
    except Exception as e:  # noqa: BLE001 - e.g. a worker without gradcheck cannot load the plugin
        raise GraderError(
            f"could not set up gradcheck on the Dask workers of {address} (is gradcheck[dask] installed "
            f"there?): {type(e).__name__}: {e}"
        ) from None
    for worker, error in sorted(errors.items()):
        if error:  # a worker that joins later says so with its first task
            raise GraderError(f"could not start the sandbox on the Dask worker {worker}: {error}")


def _tear_down_workers(client, name):
    with contextlib.suppress(Exception):  # a worker that is gone has nothing to tear down
        client.unregister_worker_plugin(name)


class _Run:
    """One run's tasks: at most one per worker process in flight, each with its clock."""

    def __init__(self, client, name, address, reading, timeout, on_outcome):
        self.client, self.name, self.address = client, name, address
        self.reading, self.timeout, self.on_outcome = reading, timeout, on_outcome  # reading: (limits, modules)
        self.started = {}  # task key -> (monotonic time it started on a worker, that worker's address)
        self._workers, self._asked, self._no_worker_since = 0, -1.0, None
        self._count = 0

    def _on_start(self, event):  # runs in the client's event loop thread
        _, msg = event
        if isinstance(msg, dict) and "key" in msg:
            self.started[msg["key"]] = (time.monotonic(), msg.get("worker"))

    def capacity(self) -> int:
        """Worker processes of the cluster (asked at most once a second); GraderError after
        NO_WORKER_SECONDS without any."""
        now = time.monotonic()
        if now - self._asked >= 1.0:
            self._workers, self._asked = len(self.client.nthreads()), now
            if self._workers:
                self._no_worker_since = None
            elif self._no_worker_since is None:
                self._no_worker_since = now
            elif now - self._no_worker_since > NO_WORKER_SECONDS:
                raise GraderError(f"the Dask cluster at {self.address} has had no worker for {NO_WORKER_SECONDS} s")
        return self._workers

    def run(self, subs):
        from distributed import wait

        queue = collections.deque(subs)
        inflight = {}  # key -> (future, path, time sent)
        self.client.subscribe_topic(self.name, self._on_start)
        try:
            self._loop(queue, inflight, wait)
        except (OSError, concurrent.futures.CancelledError) as e:  # Dask's CommClosedError is an OSError
            first = (str(e).strip().splitlines() or [""])[0]
            raise GraderError(f"lost the Dask scheduler at {self.address}: {type(e).__name__}: {first}") from None
        finally:
            with contextlib.suppress(Exception):  # a scheduler that is gone has nothing left to cancel
                self.client.cancel([f for f, _, _ in inflight.values()])
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(self.name)

    def _loop(self, queue, inflight, wait):
        while queue or inflight:
            while queue and len(inflight) < self.capacity():
                self._send(queue.popleft(), inflight)
            if not inflight:
                if queue:
                    time.sleep(0.2)  # no worker yet
                continue
            futures = [f for f, _, _ in inflight.values()]
            try:
                with self.client.as_current():
                    done, _ = wait(futures, timeout=1.0, return_when="FIRST_COMPLETED")
            except TimeoutError:  # none finished within the second
                done = set()
            for key in [k for k, (f, _, _) in inflight.items() if f in done]:
                future, path, sent = inflight.pop(key)
                self._finished(future, path, time.monotonic() - sent)
                future.release()  # its result is no longer the cluster's to keep (or recompute)
                self.started.pop(key, None)
            del futures, done
            self._stop_late(inflight)

    def _send(self, path, inflight):
        from .worker import grade_task

        t0 = time.monotonic()
        try:
            snapshot = read_submission(Path(os.path.abspath(path)), *self.reading)
        except SubmissionRefused as e:
            self.on_outcome(path, {"kind": "refused", "error": str(e), "seconds": 0.0})
            return
        except Exception as e:  # noqa: BLE001 - this submission's fault or its folder's: its error report
            self.on_outcome(path, _exception(e, time.monotonic() - t0))
            return
        self._count += 1
        key = f"{self.name}-{self._count}"
        future = self.client.submit(grade_task, self.name, snapshot, key=key, pure=False)
        inflight[key] = (future, path, time.monotonic())

    def _finished(self, future, path, seconds):
        from distributed import KilledWorker

        if future.status == "finished":
            try:
                outcome = future.result()
            except Exception as e:  # noqa: BLE001 - the result could not be fetched: this submission's error
                outcome = _exception(e, seconds)
            if isinstance(outcome, dict) and outcome.get("kind") == "init_error":
                raise GraderError(
                    f"could not start the sandbox on a Dask worker of {self.address}: {outcome['error']}\n"
                    + outcome.get("traceback", "")
                )
        elif future.status == "error":
            error = future.exception()
            if isinstance(error, KilledWorker):  # the second worker died: Note [Faults on a cluster]
                outcome = {"kind": "crashed", "seconds": None}
            else:
                outcome = _exception(error, seconds, future.traceback())
        else:  # cancelled, and not by this run: the scheduler restarted or was lost
            raise GraderError(f"the Dask scheduler at {self.address} dropped the grading of {str(path)!r} (lost?)")
        self.on_outcome(path, outcome)

    def _stop_late(self, inflight):
        """Stop the tasks past ``timeout`` on a worker (or not started within NO_WORKER_SECONDS more)."""
        now = time.monotonic()
        for key in list(inflight):
            future, path, sent = inflight[key]
            began, worker = self.started.get(key, (None, None))
            late = now - began > self.timeout if began is not None else now - sent > self.timeout + NO_WORKER_SECONDS
            if not late or future.done():
                continue
            del inflight[key]
            self.started.pop(key, None)
            self.on_outcome(path, {"kind": "too_long", "limit": self.timeout, "seconds": now - (began or sent)})
            with contextlib.suppress(Exception):  # gone already: nothing to stop
                self.client.cancel([future])
            if worker is not None:  # its thread is still busy with it: the worker process ends, its nanny starts
                with contextlib.suppress(Exception):  # another (Note [Faults on a cluster]); gone already: done
                    self.client.run(os._exit, 1, workers=[worker], wait=False)


def _exception(error, seconds, tb=None) -> dict:
    """The outcome of a grader's exception (as ``batch._grade_here`` makes it)."""
    return {
        "kind": "exception",
        "error": safe(f"{type(error).__name__}: {error}", 2000),
        "traceback": safe("".join(traceback.format_exception(type(error), error, tb or error.__traceback__))),
        "seconds": seconds,
    }
