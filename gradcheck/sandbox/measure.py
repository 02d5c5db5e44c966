"""Measure the sandbox's costs on this machine: ``python -m gradcheck.sandbox.measure [--json]``.

- fresh: wall time of ``python -c "import numpy"`` (what a worker would cost without the zygote)
- spawn_ping: from asking the zygote for a worker to that worker answering "ping" (isolation included)
- spawn_ping_no_ns: the same without namespaces (the per-worker namespace cost is the difference)
- kill: killing and reaping a worker (uid sweep included)
- call: round trip of a small "gates" request (one AddGate trial) on a loaded worker
- zygote_start: starting the sandbox (zygote, mount set-up, the isolation probe)
Medians over ``n`` runs, in milliseconds.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from .inside import protocol
from .limits import Limits
from .results import OutputCollector
from .server import Sandbox


def _ms(values):
    return round(statistics.median(values) * 1000, 3)


def fresh_numpy(n=5):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy"], check=True)
        times.append(time.perf_counter() - t0)
    return times


def spawn_ping(sandbox, n=20):
    """(spawn+ping times, kill times) for workers on an empty folder."""
    staging = tempfile.mkdtemp(dir=sandbox.folder)
    out = OutputCollector(1024)
    up, down = [], []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            w = sandbox.spawn(staging, out.write_fd)
            w.sock.sendall(protocol.encode({"op": "ping", "_id": 1}))
            header, _ = protocol.decode(protocol.read_frame(w.sock))
            t1 = time.perf_counter()
            assert header.get("pong") is True, header
            sandbox.kill(w)
            down.append(time.perf_counter() - t1)
            up.append(t1 - t0)
    finally:
        out.close()
        shutil.rmtree(staging, ignore_errors=True)
    return up, down


def call_roundtrip(sandbox, submission, n=200):
    args = [np.array(2.0), np.array(3.0), np.array(1.0)]
    req = {
        "op": "gates",
        "calls": [{"cls": "AddGate", "inputs": [{"$a": 0}, {"$a": 1}], "dout": {"$a": 2}}],
        "order": [[0, "f"], [0, "b"]],
    }
    with sandbox.session(submission) as s:
        assert s.call(req, args).ok
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            r = s.call(req, args)
            times.append(time.perf_counter() - t0)
            assert r.ok, r.message
    return times


def measure(submission=None, n=20):
    submission = submission or os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "reference"
    )
    limits = Limits(call_seconds=10, memory_mb=1024)
    result = {"fresh_import_numpy_ms": _ms(fresh_numpy())}
    t0 = time.perf_counter()
    with Sandbox(limits) as sb:
        result["sandbox_start_ms"] = round((time.perf_counter() - t0) * 1000, 3)
        result["zygote_mount_setup_ms"] = round(sb.zygote_report.get("setup_seconds", 0) * 1000, 3)
        up, down = spawn_ping(sb, n)
        result["spawn_ping_ms"] = _ms(up)
        result["kill_ms"] = _ms(down)
        if os.path.isdir(submission):
            result["call_ms"] = _ms(call_roundtrip(sb, submission))
        result["isolation"] = {k: v for k, v in sb.isolation.items() if isinstance(v, bool)}
    with Sandbox(limits, namespaces=False) as sb:
        up, _ = spawn_ping(sb, n)
        result["spawn_ping_no_ns_ms"] = _ms(up)
    result["namespace_cost_per_worker_ms"] = round(result["spawn_ping_ms"] - result["spawn_ping_no_ns_ms"], 3)
    result["spawn_ping_over_fresh"] = round(result["spawn_ping_ms"] / result["fresh_import_numpy_ms"], 4)
    return result


if __name__ == "__main__":
    res = measure()
    if "--json" in sys.argv:
        print(json.dumps(res, indent=1))
    else:
        for k, v in res.items():
            print(f"{k:34s} {v}")
