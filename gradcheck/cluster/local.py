"""``--cluster local:N``: a Dask ``LocalCluster`` of N worker processes on this machine, for one run.

The cluster lives in a helper process of its own, started like the local grader processes
(``batch.neutral_start``: in an empty private folder, without the working directory on ``sys.path``)
and dying with the grader (``batch.die_with_parent``). Its scheduler and its worker processes (and
those its nannies start again after a worker died) start there too: Dask starts worker processes
with ``python -c``, which puts the working directory first on ``sys.path``, so a cluster started in
the folder of the submissions could import a submission folder named ``multiprocessing`` or
``distributed`` into a grader. The scheduler listens on 127.0.0.1 only and is configured as
gradcheck needs it (``SCHEDULER_CONFIG``: a task whose worker died is retried once).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal

from ..errors import GraderError

__all__ = ["SCHEDULER_CONFIG", "local_cluster"]

#: the Dask configuration gradcheck needs of a scheduler: a task is retried once when its worker
#: dies (the second death is its own: an error report), and a worker gets one task at a time
SCHEDULER_CONFIG = {
    "distributed.scheduler.allowed-failures": 1,
    "distributed.scheduler.worker-saturation": 1.0,
}
START_SECONDS = 120
QUIET = {"logging": {"distributed": "error"}}  # a worker killed mid-run is in the report, not on stderr


def _serve(n, conn, parent_pid):
    """The helper process: start the cluster, send its address, keep it until told to stop (or the
    parent is gone), close it."""
    import logging

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from ..batch import die_with_parent

    die_with_parent(parent_pid)
    import dask

    logging.getLogger("distributed").setLevel(logging.ERROR)
    with dask.config.set({**SCHEDULER_CONFIG, **QUIET}):
        from distributed import LocalCluster

        try:
            cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                scheduler_port=0,
                dashboard_address=None,
            )
        except Exception as e:  # noqa: BLE001 - sent to the parent, which reports it
            conn.send({"error": f"{type(e).__name__}: {e}"})
            return
        try:
            conn.send({"address": cluster.scheduler_address})
            with contextlib.suppress(EOFError, OSError):
                conn.recv()  # "stop", or the parent's end closed
        finally:
            cluster.close(timeout=30)


@contextlib.contextmanager
def local_cluster(n, start_dir):
    """A LocalCluster of ``n`` worker processes in a helper process started in ``start_dir`` (an
    empty private folder): yields its scheduler's address; stops it (and everything it started) on
    exit. GraderError when it does not start."""
    from ..batch import neutral_start

    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    with neutral_start(start_dir):
        proc = ctx.Process(target=_serve, args=(n, theirs, os.getpid()))  # not a daemon: it starts processes
        proc.start()
    theirs.close()
    try:
        if not ours.poll(START_SECONDS):
            raise GraderError(f"the local Dask cluster (local:{n}) did not start within {START_SECONDS} s")
        try:
            reply = ours.recv()
        except EOFError:
            raise GraderError(f"the local Dask cluster (local:{n}) did not start (exit code {proc.exitcode})") from None
        if "error" in reply:
            raise GraderError(f"the local Dask cluster (local:{n}) did not start: {reply['error']}")
        yield reply["address"]
    finally:
        with contextlib.suppress(OSError):
            ours.send("stop")
        ours.close()
        proc.join(45)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
