"""gradcheck's benchmark: class throughput (local and on a Dask cluster), worker start-up, and the cost
of numerical verification.

    python bench/run.py            # N=200 submissions, every measurement (a few minutes)
    python bench/run.py --quick    # N=40, no full per-coordinate loop at 70k parameters (~1 min)

Prints a table and writes bench/results.json (``--json PATH`` to write elsewhere).

1. Class throughput: a class of N submissions (copies of reference/ and five planted-bug variants of
   it, mixed) graded by ``gradcheck grade DIR`` (its default --jobs) in a subprocess pinned to 2 CPUs
   (``--cpus``; the target is for 2 cores whatever the machine has), full isolation on. Wall clock,
   per-submission seconds (the reports' timing.seconds), peak RSS of the grader processes and of the
   workers (sampled from /proc), the same at N/4 (does the grader's memory grow with the class?), and
   the same class graded with --jobs 1: the reports must be identical (timing aside).
2. Worker start-up: asking the zygote for a worker until it answers ``ping`` (ready to import a
   submission), and until it has imported the reference, over a fresh ``python -c "import numpy"``.
3. On a Dask cluster: the same kind of class graded with ``--cluster local:2`` against ``--jobs 2`` and
   ``--cluster local:4`` against ``--jobs 4`` (same CPUs; the reports must be identical), the wall
   clock Dask adds per submission, a task's round trip (empty, and carrying a submission and a
   report) and the cluster's start-up, and submissions per second per core (the sizing rule in
   docs/cluster.md).
4. Numerical verification cost: MLP softmax losses of ~30, ~5,000 and ~70,000 parameters (reference
   MLP, tanh, batch 64): gradcheck's check of all parameters (``gradcheck.numerics.check_vjp`` on the
   loss as a function of the parameter tensors, in-process) and a CS231n-style per-coordinate loop,
   as multiples of one analytic forward+backward (reference ``MLP.loss``), and which planted gradient
   bugs each one catches, plus their verdicts on the correct gradient (false alarms). "gradcheck
   directional" moves each tensor along one random Gaussian direction (4 points: the centered
   difference and a kink test) plus the shared base point: 17 loss evaluations for 4 tensors;
   "auto" adds 8 sampled coordinates per tensor.

Numbers are medians; the load average before and after is recorded (another job on the machine
slows everything down). BLAS runs with one thread (as in the workers) unless OPENBLAS_NUM_THREADS
is set.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"
MODULES = ("gates.py", "graph.py", "mlp.py")
WORKER_UID_BASE = 1_000_000

# planted bugs: (file, text of the reference, replacement); each must occur exactly once
BUGS = {
    "swapped-multiply": ("gates.py", "return [dz * self.y, dz * self.x]", "return [dz * self.x, dz * self.y]"),
    "sigmoid-ignores-dout": ("gates.py", "return [dz * self.z * (1.0 - self.z)]", "return [self.z * (1.0 - self.z)]"),
    "branch-overwrite": ("graph.py", "grads[i] = g if grads[i] is None else grads[i] + g", "grads[i] = g"),
    "softmax-not-mean": ("gates.py", "return [dout * dscores / n]", "return [dout * dscores]"),
    "sgd-wrong-sign": (
        "mlp.py",
        "self.params[k] = self.params[k] - lr * g",
        "self.params[k] = self.params[k] + lr * g",
    ),
}

TARGETS = {
    "submissions_per_second": 8.0,  # on 2 CPUs, default --jobs, full isolation
    "worker_start_over_fresh": 0.2,  # worker start <= 1/5 of python -c "import numpy"
    "numerical_passes_70k": 20.0,  # analytic forward+backward passes
    "worker_rss_mb": 300.0,
}


# ------------------------------------------------------------------------------------ the class


def kinds(n):
    """The kind of each of n submissions: every other one correct, the others cycle through the bugs."""
    bugs = list(BUGS)
    return ["correct" if i % 2 == 0 else bugs[(i // 2) % len(bugs)] for i in range(n)]


def make_class(root, n):
    """Write n submission folders under root (copies of reference/*.py, patched for the bugs);
    returns {submission name: kind}."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    sources = {m: (REFERENCE / m).read_text() for m in MODULES}
    out = {}
    for i, kind in enumerate(kinds(n)):
        files = dict(sources)
        if kind != "correct":
            name, old, new = BUGS[kind]
            if files[name].count(old) != 1:
                raise RuntimeError(f"bug {kind}: {old!r} does not occur exactly once in reference/{name}")
            files[name] = files[name].replace(old, new)
        sub = root / f"s{i:04d}-{kind}"
        sub.mkdir()
        for m, text in files.items():
            (sub / m).write_text(text)
        out[sub.name] = kind
    return out


# ---------------------------------------------------------------------- processes and their memory


_TICK = os.sysconf("SC_CLK_TCK")


def _proc_table():
    """{pid: (ppid, uid, cmdline, rss_kb, hwm_kb, cpu_seconds)} of every process we can read."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            with open(f"/proc/{pid}/status") as f:
                status = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read().rsplit(")", 1)[1].split()
            cpu = (int(stat[11]) + int(stat[12])) / _TICK  # utime + stime
        except OSError:
            continue
        fields = {}
        for line in status.splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.split()
        try:
            table[pid] = (
                int(fields["PPid"][0]),
                int(fields["Uid"][0]),
                cmdline,
                int(fields.get("VmRSS", [0])[0]),
                int(fields.get("VmHWM", [0])[0]),
                cpu,
            )
        except (KeyError, IndexError, ValueError):
            continue
    return table


def classify(pid, root_pid, uid, cmdline):
    """The role of a process of a grading run: cli, grader (pool process), zygote, worker or other."""
    if pid == root_pid:
        return "cli"
    if uid >= WORKER_UID_BASE:
        return "worker"
    if "zygote.py" in cmdline:
        return "zygote"
    if "multiprocessing" in cmdline and "resource_tracker" not in cmdline:
        return "grader"
    return "other"


class MemorySampler:
    """Samples /proc while a process tree runs: the peak RSS (VmHWM) and the CPU time of each
    process of the tree, classified by role (a process that lives shorter than the interval may be
    missed; VmHWM is the peak over its life up to the sample)."""

    def __init__(self, root_pid, interval=0.05):
        self.root, self.interval = root_pid, interval
        self.peaks = {}  # pid -> (role, peak kb)
        self.cpu = {}  # pid -> CPU seconds at the last sample
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        tree = {self.root}
        while not self._stop.is_set():
            table = _proc_table()
            grew = True
            while grew:  # the descendants of the root, whatever their parent died of
                grew = False
                for pid, (ppid, *_rest) in table.items():
                    if pid not in tree and ppid in tree:
                        tree.add(pid)
                        grew = True
            for pid in tree & set(table):
                ppid, uid, cmdline, rss, hwm, cpu = table[pid]
                known, old = self.peaks.get(pid, ("other", 0))
                # the first role that is not "other" sticks: a process about to exit (a zombie)
                # has an empty cmdline
                role = known if known != "other" else classify(pid, self.root, uid, cmdline)
                self.peaks[pid] = (role, max(old, hwm, rss))
                self.cpu[pid] = cpu
            self.samples += 1
            self._stop.wait(self.interval)

    def summary(self):
        by_role = {}
        for role, kb in self.peaks.values():
            by_role.setdefault(role, []).append(kb / 1024)
        out = {"samples": self.samples}
        for role, mbs in sorted(by_role.items()):
            cpu = sum(c for pid, c in self.cpu.items() if self.peaks[pid][0] == role)
            out[role] = {
                "count": len(mbs),
                "peak_mb": round(max(mbs), 1),
                "median_mb": round(statistics.median(mbs), 1),
                "cpu_seconds_seen": round(cpu, 2),
            }
        return out


def grade_cli(sub_dir, out_dir, jobs=None, seed=0, cpus=None, cluster=None):
    """``gradcheck grade SUB_DIR --out OUT_DIR [--jobs JOBS | --cluster CLUSTER]`` in a subprocess (on
    the first ``cpus`` CPUs this process may use, if given: a local cluster's processes too): wall
    clock and memory."""
    cmd = [
        sys.executable,
        "-c",
        "import sys; from gradcheck.cli import main; sys.exit(main())",
        "grade",
        str(sub_dir),
        "--out",
        str(out_dir),
        "--seed",
        str(seed),
    ]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    if cluster:
        cmd += ["--cluster", cluster]
    pin = None
    if cpus:
        chosen = sorted(os.sched_getaffinity(0))[:cpus]
        pin = lambda: os.sched_setaffinity(0, chosen)  # noqa: E731
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=pin)
    lines, reported = [], []  # stderr, and when each progress line ("[k/N] ...": a report written) came

    def read_stderr():
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("["):
                reported.append(time.perf_counter() - t0)

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    with MemorySampler(proc.pid) as sampler:
        proc.stdout.read()
        proc.wait()
        reader.join()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"gradcheck grade exited with {proc.returncode}:\n{''.join(lines)[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_seconds": wall, "cpu_seconds": cpu, "memory": sampler.summary(), "reported": reported}


def steady_rate(reported):
    """Submissions per second between the first and the last report written (start-up and the end's
    tail left out), or None for fewer than 3 reports."""
    if len(reported) < 3 or reported[-1] <= reported[0]:
        return None
    return (len(reported) - 1) / (reported[-1] - reported[0])


def _default_jobs(cpus):
    """gradcheck's default --jobs on ``cpus`` CPUs (what a run pinned to them uses)."""
    from gradcheck.batch import default_jobs

    if not cpus:
        return default_jobs()
    chosen = sorted(os.sched_getaffinity(0))[:cpus]
    saved = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, chosen)
        return default_jobs()
    finally:
        os.sched_setaffinity(0, saved)


def read_reports(out_dir):
    out = {}
    for path in sorted(Path(out_dir).glob("*.json")):
        if path.name != "summary.json":
            out[path.stem] = json.loads(path.read_text())
    return out


def without_timing(report):
    return {k: v for k, v in report.items() if k != "timing"}


def _percentile(values, q):
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


def _mb(memory, role):
    return memory.get(role, {}).get("peak_mb")


def class_throughput(n, jobs=None, small=None, compare_jobs=1, workdir=None, cpus=2):
    """Grade a generated class of n on ``cpus`` CPUs at --jobs ``jobs`` (default: gradcheck's); the
    first ``small`` of it the same way (memory growth); the same class at --jobs ``compare_jobs``
    (identical reports?)."""
    small = small or max(1, n // 4)
    tmp = Path(tempfile.mkdtemp(prefix="gradcheck-bench-", dir=workdir))
    try:
        big_dir, small_dir = tmp / "class", tmp / "class-small"
        kind_of = make_class(big_dir, n)
        make_class(small_dir, small)
        # both runs of the class write to the same --out path: it is recorded in the reports
        # (isolation.hidden), so a different folder would make every report differ
        run = grade_cli(big_dir, tmp / "reports", jobs, cpus=cpus)
        reports = read_reports(tmp / "reports")
        (tmp / "reports").rename(tmp / "reports-first")
        if len(reports) != n:
            raise RuntimeError(f"{len(reports)} reports for {n} submissions")
        seconds = [r["timing"]["seconds"] for r in reports.values()]
        small_run = grade_cli(small_dir, tmp / "reports-small", jobs, cpus=cpus)
        result = {
            "n": n,
            "jobs": jobs or _default_jobs(cpus),
            "cpus": cpus,
            "wall_seconds": round(run["wall_seconds"], 3),
            "submissions_per_second": round(n / run["wall_seconds"], 2),
            "cpu_ms_per_submission": round(run["cpu_seconds"] / n * 1000, 1),  # every process of the run
            "median_seconds": round(statistics.median(seconds), 4),
            "p95_seconds": round(_percentile(seconds, 95), 4),
            "memory": run["memory"],
            "grader_peak_rss_mb": _mb(run["memory"], "grader"),
            "cli_peak_rss_mb": _mb(run["memory"], "cli"),
            "worker_peak_rss_mb": _mb(run["memory"], "worker"),
            "worker_median_rss_mb": run["memory"].get("worker", {}).get("median_mb"),
            "zygote_peak_rss_mb": _mb(run["memory"], "zygote"),
            "small": {
                "n": small,
                "wall_seconds": round(small_run["wall_seconds"], 3),
                "grader_peak_rss_mb": _mb(small_run["memory"], "grader"),
                "cli_peak_rss_mb": _mb(small_run["memory"], "cli"),
                "memory": small_run["memory"],
            },
            "status": sorted({r["status"] for r in reports.values()}),
            "scores": {
                k: sorted({r["score"] for name, r in reports.items() if kind_of[name] == k})
                for k in sorted(set(kind_of.values()))
            },
            "isolation": {k: v for k, v in next(iter(reports.values()))["isolation"].items() if isinstance(v, bool)},
        }
        result["full_isolation"] = bool(result["isolation"]) and all(result["isolation"].values())
        grader_growth = (result["grader_peak_rss_mb"] or 0) - (result["small"]["grader_peak_rss_mb"] or 0)
        cli_growth = (result["cli_peak_rss_mb"] or 0) - (result["small"]["cli_peak_rss_mb"] or 0)
        result["grader_growth_mb"] = round(grader_growth, 1)
        result["cli_growth_mb"] = round(cli_growth, 1)
        # "grows": more than 5 MB and 5% between N/4 and N (sampling noise is well below that)
        result["grader_memory_grows"] = bool(grader_growth > max(5.0, 0.05 * (result["grader_peak_rss_mb"] or 0)))
        if compare_jobs:
            other = grade_cli(big_dir, tmp / "reports", compare_jobs, cpus=cpus)
            other_reports = read_reports(tmp / "reports")
            differ = sorted(
                k
                for k in set(reports) | set(other_reports)
                if k not in reports
                or k not in other_reports
                or without_timing(reports[k]) != without_timing(other_reports[k])
            )
            result[f"jobs{compare_jobs}"] = {
                "wall_seconds": round(other["wall_seconds"], 3),
                "submissions_per_second": round(n / other["wall_seconds"], 2),
                "grader_peak_rss_mb": _mb(other["memory"], "grader"),
                "worker_peak_rss_mb": _mb(other["memory"], "worker"),
            }
            result["identical_across_jobs"] = not differ
            result["differing_reports"] = differ[:10]
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------- on a Dask cluster


def dask_overhead(rounds=40, cpus=2):
    """What a Dask cluster adds per submission, measured on a LocalCluster of 2 worker processes (one
    thread each, TCP on 127.0.0.1) from this process: the round trip of a task that does nothing, and
    of one that carries a real submission (the reference's files, as ``read_submission`` sends them)
    and returns a real report's outcome (serialization, transfer and scheduling, no grading); and how
    long the cluster takes to start. Medians; the cluster's processes run on the first ``cpus`` CPUs."""
    import dask
    from distributed import Client, LocalCluster

    from gradcheck.assignment import load_assignment
    from gradcheck.cluster.local import SCHEDULER_CONFIG
    from gradcheck.cluster.snapshot import read_submission
    from gradcheck.report import dumps_report, error_report
    from gradcheck.sandbox import Limits

    sub = Path(tempfile.mkdtemp(prefix="gradcheck-bench-sub-"))
    saved = os.sched_getaffinity(0)
    try:
        for m in MODULES:
            shutil.copy(REFERENCE / m, sub / m)
        reads = []
        for _ in range(rounds):
            t = time.perf_counter()
            snapshot = read_submission(sub, Limits())
            reads.append(time.perf_counter() - t)
        report_json = dumps_report(error_report("s", load_assignment(), 0, "x" * 20_000))  # ~ a graded report
        reply = {"kind": "report", "json": report_json, "seconds": 0.4}
        if cpus:
            os.sched_setaffinity(0, sorted(saved)[:cpus])
        t0 = time.perf_counter()
        with dask.config.set({**SCHEDULER_CONFIG, "logging.distributed": "error"}):
            with (
                LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster,
                Client(cluster, set_as_default=False) as client,
            ):
                start = time.perf_counter() - t0
                noop, echo = (lambda: None), (lambda snapshot, reply: reply)  # sent by value: nothing to import
                client.submit(noop, pure=False).result()  # warm
                trivial, carried = [], []
                for _ in range(rounds):
                    t = time.perf_counter()
                    client.submit(noop, pure=False).result()
                    trivial.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    client.submit(echo, snapshot, reply, pure=False).result()
                    carried.append(time.perf_counter() - t)
    finally:
        os.sched_setaffinity(0, saved)
        shutil.rmtree(sub, ignore_errors=True)
    return {
        "cluster_start_seconds": round(start, 2),
        "trivial_task_ms": round(statistics.median(trivial) * 1000, 2),
        "submission_task_ms": round(statistics.median(carried) * 1000, 2),
        "read_submission_ms": round(statistics.median(reads) * 1000, 2),  # the grading machine's part
        "submission_bytes": sum(len(p) for _, kind, p in snapshot["entries"] if kind == "file"),
        "report_bytes": len(report_json),
        "rounds": rounds,
    }


def cluster_comparison(n, cpus=2, workdir=None, overhead_rounds=40):
    """The same class of n graded with --jobs 2 and with --cluster local:2 (then local:4 against --jobs
    4), each run on ``cpus`` CPUs: throughput, identical reports, what Dask adds per submission (wall
    clock difference, and ``dask_overhead``), and submissions per second per core for sizing."""
    tmp = Path(tempfile.mkdtemp(prefix="gradcheck-bench-cluster-", dir=workdir))
    try:
        make_class(tmp / "class", n)
        runs, reports, raw = {}, {}, {}
        for label, jobs, cluster in (
            ("jobs2", 2, None),
            ("local2", None, "local:2"),
            ("jobs4", 4, None),
            ("local4", None, "local:4"),
        ):
            run = grade_cli(tmp / "class", tmp / "reports", jobs, cpus=cpus, cluster=cluster)
            reports[label] = read_reports(tmp / "reports")
            shutil.rmtree(tmp / "reports")
            if len(reports[label]) != n:
                raise RuntimeError(f"{label}: {len(reports[label])} reports for {n} submissions")
            steady = steady_rate(run["reported"])
            raw[label] = {"submissions_per_second": n / run["wall_seconds"], "steady_submissions_per_second": steady}
            runs[label] = {
                "wall_seconds": round(run["wall_seconds"], 3),
                "submissions_per_second": round(n / run["wall_seconds"], 2),
                "steady_submissions_per_second": round(steady, 2) if steady else None,
                "first_report_seconds": round(run["reported"][0], 2) if run["reported"] else None,
                "cpu_ms_per_submission": round(run["cpu_seconds"] / n * 1000, 1),
            }
        same = {k: without_timing(v) for k, v in reports["jobs2"].items()}
        identical = all({k: without_timing(v) for k, v in reports[label].items()} == same for label in reports)
        overhead = dask_overhead(overhead_rounds, cpus=cpus)

        def extra_ms(w, rate):  # class wall clock per submission, cluster minus local
            a, b = raw[f"local{w}"][rate], raw[f"jobs{w}"][rate]
            return round((1 / a - 1 / b) * 1000, 1) if a and b else None

        steady = [runs[label]["steady_submissions_per_second"] for label in ("local2", "local4")]
        best = max([r for r in steady if r] or [runs["local4"]["submissions_per_second"]])
        return {
            "n": n,
            "cpus": cpus,
            "runs": runs,
            "identical_reports": identical,
            # class wall clock per submission that the cluster adds (start-up spread over the class)
            "extra_wall_ms_per_submission": {str(w): extra_ms(w, "submissions_per_second") for w in (2, 4)},
            # the same between the first and the last report (start-up left out)
            "extra_steady_ms_per_submission": {str(w): extra_ms(w, "steady_submissions_per_second") for w in (2, 4)},
            "overhead": overhead,
            "submissions_per_second_per_core": round(best / (cpus or os.cpu_count()), 2),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------- worker start-up


def worker_startup(rounds=5, spawns=20):
    """Worker start (fork from the zygote, isolate, answer ping) and worker start + import of the
    reference, each over a fresh ``python -c "import numpy"``, measured in alternation."""
    from gradcheck.sandbox import Limits, Sandbox, measure

    fresh, up, load = [], [], []
    sub = Path(tempfile.mkdtemp(prefix="gradcheck-bench-sub-"))
    try:
        for m in MODULES:
            shutil.copy(REFERENCE / m, sub / m)
        with Sandbox(Limits(), hide=[str(sub)]) as sb:
            isolation = {k: v for k, v in sb.isolation.items() if isinstance(v, bool)}
            for _ in range(rounds):
                fresh += measure.fresh_numpy(1)
                up += measure.spawn_ping(sb, spawns)[0]
                for _ in range(max(1, spawns // 4)):
                    t0 = time.perf_counter()
                    with sb.session(sub) as s:
                        ok = all(v.get("ok") for v in s.modules.values())
                        load.append(time.perf_counter() - t0)
                    if not ok:
                        raise RuntimeError(f"the reference did not load in a worker: {s.modules}")
    finally:
        shutil.rmtree(sub, ignore_errors=True)
    f, u, lo = (statistics.median(v) * 1000 for v in (fresh, up, load))
    return {
        "fresh_import_numpy_ms": round(f, 2),
        "spawn_ping_ms": round(u, 2),
        "spawn_ping_over_fresh": round(u / f, 4),
        "spawn_load_reference_ms": round(lo, 2),
        "spawn_load_over_fresh": round(lo / f, 4),
        "runs": {"fresh": len(fresh), "spawn": len(up), "load": len(load)},
        "isolation": isolation,
    }


# -------------------------------------------------------------------- numerical verification cost


class LossProblem:
    """The softmax loss of a reference MLP (tanh) on a fixed batch, as a function of its parameter
    tensors (sorted names: W1, W2, ..., b1, b2, ...)."""

    def __init__(self, sizes, batch=64, seed=0, activation="tanh"):
        from gradcheck.reference.mlp import MLP

        rng = np.random.default_rng(seed)
        self.sizes = list(sizes)
        self.net = MLP(sizes, activation, seed=seed)
        self.X = rng.standard_normal((batch, sizes[0]))
        self.y = rng.integers(0, sizes[-1], batch)
        self.names = sorted(self.net.params)
        self.params = [self.net.params[k].copy() for k in self.names]
        self.n_params = int(sum(p.size for p in self.params))
        self.rows = np.arange(batch)

    def loss(self, *params):
        """Forward only: the loss at these parameters."""
        self.net.params = dict(zip(self.names, params))
        scores = self.net.forward(self.X)
        shifted = scores - scores.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-logp[self.rows, self.y].mean())

    def analytic(self, dact=None):
        """One analytic forward+backward at the base parameters: (loss, [grads in names' order]).
        ``dact``: a replacement for the activation's derivative (a planted bug)."""
        self.net.params = dict(zip(self.names, self.params))
        if dact is not None:
            saved, self.net.dact = self.net.dact, dact
        try:
            loss, grads = self.net.loss(self.X, self.y)
        finally:
            if dact is not None:
                self.net.dact = saved
        return loss, [grads[k] for k in self.names]


def planted(problem):
    """{case: gradients}: the correct gradient and five planted bugs."""
    _, g = problem.analytic()
    k = {name: i for i, name in enumerate(problem.names)}
    cases = {"correct": g}

    def with_(name, value):
        out = [x.copy() for x in g]
        out[k[name]] = value
        return out

    cases["sign flip (W1)"] = with_("W1", -g[k["W1"]])
    cases["factor 2 (W2)"] = with_("W2", 2 * g[k["W2"]])
    one = g[k["W1"]].copy()
    where = np.unravel_index(np.argmax(np.abs(one)), one.shape)
    one[where] *= 1.1  # the largest entry off by 10%
    cases["one element (W1)"] = with_("W1", one)
    w1 = g[k["W1"]]
    cases["transposed (W1)"] = with_("W1", np.ascontiguousarray(w1.T).reshape(w1.shape))
    cases["no activation derivative"] = problem.analytic(dact=lambda h: np.ones_like(h))[1]
    return cases


def _median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def gradcheck_check(problem, grads, mode="directional", seed=0, n_directions=1):
    """gradcheck's numerical check of every parameter tensor: (verdict, evaluations, seconds)."""
    from gradcheck import numerics

    count = [0]

    def f_batch(points):
        count[0] += len(points)
        return [problem.loss(*p) for p in points]

    t0 = time.perf_counter()
    verdict = numerics.check_vjp(
        f_batch,
        problem.params,
        grads,
        np.array(1.0),
        mode=mode,
        rng=seed,
        names=problem.names,
        n_directions=n_directions,
    )
    return verdict, count[0], time.perf_counter() - t0


def eval_numerical_gradient(f, x, h=1e-5):
    """CS231n-style: the centered difference of f() at every coordinate of x, changed in place."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = f()
        x[ix] = old - h
        minus = f()
        x[ix] = old
        grad[ix] = (plus - minus) / (2 * h)
    return grad


def cs231n_rel_error(x, y):
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def cs231n_loop(problem, limit=None):
    """The numerical gradient of every tensor, one coordinate at a time: (grads, evaluations,
    seconds). With ``limit``: only the first ``limit`` coordinates (for a cost estimate)."""
    params = [p.copy() for p in problem.params]

    def f():
        return problem.loss(*params)

    count, grads = 0, []
    t0 = time.perf_counter()
    if limit is None:
        for x in params:
            grads.append(eval_numerical_gradient(f, x))
            count += 2 * x.size
    else:
        x = params[0]
        flat = x.reshape(-1)
        for i in range(min(limit, flat.size)):
            old = flat[i]
            flat[i] = old + 1e-5
            f()
            flat[i] = old - 1e-5
            f()
            flat[i] = old
            count += 2
        grads = None
    return grads, count, time.perf_counter() - t0


def numerical_cost(sizes, seeds=5, loop_max=None, repeat=5, threshold=1e-5):
    """gradcheck (directional, and auto) vs the CS231n loop on one MLP loss. The loop runs in full
    up to ``loop_max`` parameters (None: always); above, its cost is estimated from 2000 coordinates."""
    problem = LossProblem(sizes)
    full_loop = loop_max is None or problem.n_params <= loop_max
    cases = planted(problem)
    units, forwards = [], []

    def time_passes(n):  # analytic passes and forward evaluations, timed between the checks
        for _ in range(n):
            t0 = time.perf_counter()
            problem.analytic()
            t1 = time.perf_counter()
            problem.loss(*problem.params)
            units.append(t1 - t0)
            forwards.append(time.perf_counter() - t1)

    time_passes(100)
    timed = {}
    verdicts_by_mode = {}
    for mode in ("directional", "auto"):
        verdicts, times, evals = {}, [], set()
        for case, grads in cases.items():
            statuses = []
            for seed in range(seeds):
                runs = repeat if case == "correct" else 1
                for _ in range(runs):
                    verdict, n_eval, seconds = gradcheck_check(problem, grads, mode, seed)
                    if case == "correct":
                        times.append(seconds)
                        evals.add(n_eval)
                        time_passes(5)
                statuses.append(verdict.status)
            verdicts[case] = {s: statuses.count(s) for s in sorted(set(statuses))}
        timed[mode], verdicts_by_mode[mode] = (times, evals), verdicts
    unit, forward = statistics.median(units), statistics.median(forwards)
    out = {
        "sizes": problem.sizes,
        "params": problem.n_params,
        "batch": len(problem.X),
        "analytic_ms": round(unit * 1000, 4),
        "forward_ms": round(forward * 1000, 4),
        "checkers": {},
    }
    bugs = [c for c in cases if c != "correct"]
    for mode, (times, evals) in timed.items():
        cost, verdicts = statistics.median(times), verdicts_by_mode[mode]
        out["checkers"][f"gradcheck {mode}"] = {
            "evaluations": sorted(evals),
            "ms": round(cost * 1000, 3),
            "passes": round(cost / unit, 2),
            # what the loss evaluations alone cost (a floor for any checker making them)
            "evaluations_only_passes": round(max(evals) * forward / unit, 2),
            "seeds": seeds,
            "caught": sum(verdicts[c].get("fail", 0) == seeds for c in bugs),
            "bugs": len(bugs),
            "false_alarm": verdicts["correct"].get("fail", 0) > 0,
            "verdicts": verdicts,
        }
    # the per-coordinate loop, once; its verdicts from the same numerical gradient
    grads, n_eval, seconds = cs231n_loop(problem, limit=None if full_loop else 2000)
    entry = {
        "evaluations": n_eval if full_loop else 2 * problem.n_params,
        "estimated": not full_loop,
        "threshold": threshold,
    }
    if full_loop:
        entry["ms"] = round(seconds * 1000, 1)
        verdicts, errors = {}, {}
        for case, analytic in cases.items():
            err = max(cs231n_rel_error(a, b) for a, b in zip(analytic, grads))
            errors[case] = float(f"{err:.3g}")
            verdicts[case] = "wrong" if err > threshold else "ok"
        entry.update(
            verdicts=verdicts,
            rel_error=errors,
            caught=sum(v == "wrong" for c, v in verdicts.items() if c != "correct"),
            bugs=len(cases) - 1,
            false_alarm=verdicts["correct"] == "wrong",
        )
    else:
        entry["ms"] = round(seconds / n_eval * 2 * problem.n_params * 1000, 1)
    entry["passes"] = round(entry["ms"] / 1000 / unit, 1)
    out["checkers"]["cs231n loop"] = entry
    return out


# ------------------------------------------------------------------------------------------ main


def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def targets(results):
    out = {}
    c = results.get("class")
    if c:
        out["throughput"] = {
            "target": f">= 8 submissions/s on {c.get('cpus')} CPUs",
            "value": c["submissions_per_second"],
            "met": c["submissions_per_second"] >= TARGETS["submissions_per_second"],
        }
        out["worker_rss"] = {
            "target": "worker < 300 MB RSS",
            "value": c["worker_peak_rss_mb"],
            "met": c["worker_peak_rss_mb"] is not None and c["worker_peak_rss_mb"] < TARGETS["worker_rss_mb"],
        }
        out["grader_memory_flat"] = {
            "target": "grader memory does not grow with class size",
            "value": c["grader_growth_mb"],
            "met": not c["grader_memory_grows"],
        }
        if "identical_across_jobs" in c:
            out["jobs_identical"] = {
                "target": f"same reports with --jobs 1 and {c['jobs']}",
                "value": c["identical_across_jobs"],
                "met": c["identical_across_jobs"],
            }
    k = results.get("cluster")
    if k:
        out["cluster_identical"] = {
            "target": "same reports on a local Dask cluster as with --jobs",
            "value": k["identical_reports"],
            "met": k["identical_reports"],
        }
    w = results.get("worker_startup")
    if w:
        out["worker_start"] = {
            "target": "worker start <= 1/5 of python -c 'import numpy'",
            "value": w["spawn_ping_over_fresh"],
            "met": w["spawn_ping_over_fresh"] <= TARGETS["worker_start_over_fresh"],
        }
    for entry in results.get("numerics", []):
        if entry["params"] > 50_000:
            g = entry["checkers"]["gradcheck directional"]
            out["numerical_70k"] = {
                "target": "check all parameters of the 70k MLP in <= 20 forward+backward passes, every bug, "
                "no false alarm",
                "value": g["passes"],
                "met": g["passes"] <= TARGETS["numerical_passes_70k"]
                and g["caught"] == g["bugs"]
                and not g["false_alarm"],
            }
    return out


def table(results):
    lines = []
    c = results.get("class")
    if c:
        iso = (
            "full isolation"
            if c["full_isolation"]
            else "NOT full isolation: " + ", ".join(k for k, v in c["isolation"].items() if not v)
        )
        lines += [
            f"Class of {c['n']} (half correct, half 5 planted bugs), gradcheck grade on {c.get('cpus')} CPUs "
            f"(--jobs {c['jobs']}), {iso}",
            f"  throughput            {c['submissions_per_second']:.2f} submissions/s ({c['wall_seconds']:.1f} s wall)",
            f"  per submission        median {c['median_seconds']:.3f} s, p95 {c['p95_seconds']:.3f} s "
            f"(timing.seconds); CPU {c['cpu_ms_per_submission']:.0f} ms (all processes)",
            f"  peak RSS              grader {c['grader_peak_rss_mb']} MB, worker {c['worker_peak_rss_mb']} MB "
            f"(median {c['worker_median_rss_mb']}), zygote {c['zygote_peak_rss_mb']} MB, "
            f"CLI {c['cli_peak_rss_mb']} MB",
            f"  grader RSS at N={c['small']['n']}   {c['small']['grader_peak_rss_mb']} MB "
            f"(growth to N={c['n']}: {c['grader_growth_mb']} MB; grows: {c['grader_memory_grows']}); "
            f"CLI parent {c['small']['cli_peak_rss_mb']} MB (+{c['cli_growth_mb']} MB)",
        ]
        if "identical_across_jobs" in c:
            lines.append(
                f"  --jobs 1              {c['jobs1']['submissions_per_second']:.2f} submissions/s; "
                f"reports identical to --jobs {c['jobs']}: {str(c['identical_across_jobs']).lower()}"
            )
        lines.append(f"  scores by kind        {c['scores']}")
    k = results.get("cluster")
    if k:
        r, o = k["runs"], k["overhead"]
        lines += [
            f"Class of {k['n']} on a local Dask cluster (--cluster local:N) against --jobs N, on {k['cpus']} CPUs",
            f"  --jobs 2 / local:2    {r['jobs2']['submissions_per_second']:.2f} / "
            f"{r['local2']['submissions_per_second']:.2f} submissions/s "
            f"({r['jobs2']['wall_seconds']:.1f} / {r['local2']['wall_seconds']:.1f} s wall)",
            f"  --jobs 4 / local:4    {r['jobs4']['submissions_per_second']:.2f} / "
            f"{r['local4']['submissions_per_second']:.2f} submissions/s "
            f"({r['jobs4']['wall_seconds']:.1f} / {r['local4']['wall_seconds']:.1f} s wall)",
            f"  reports identical     {str(k['identical_reports']).lower()}",
            f"  first report after    {r['jobs2']['first_report_seconds']} s / {r['local2']['first_report_seconds']} s "
            f"(--jobs 2 / local:2: start-up), {r['jobs4']['first_report_seconds']} s / "
            f"{r['local4']['first_report_seconds']} s (4)",
            f"  Dask per submission   {_ms(k['extra_wall_ms_per_submission']['2'])} of class wall clock with 2 "
            f"workers, {_ms(k['extra_wall_ms_per_submission']['4'])} with 4 (start-up spread over the class); "
            f"{_ms(k['extra_steady_ms_per_submission']['2'])} / {_ms(k['extra_steady_ms_per_submission']['4'])} "
            "between the first and the last report",
            f"  task round trip       {o['trivial_task_ms']:.1f} ms empty, {o['submission_task_ms']:.1f} ms with a "
            f"submission ({o['submission_bytes']} B) and a report ({o['report_bytes']} B); reading a submission "
            f"{o.get('read_submission_ms', 0):.2f} ms; cluster start {o['cluster_start_seconds']:.1f} s",
            f"  sizing                {k['submissions_per_second_per_core']:.2f} submissions/s per core",
        ]
    w = results.get("worker_startup")
    if w:
        lines += [
            "Worker start-up (medians)",
            f"  fresh python -c 'import numpy'   {w['fresh_import_numpy_ms']:.1f} ms",
            f"  worker ready (spawn + ping)      {w['spawn_ping_ms']:.2f} ms = "
            f"{w['spawn_ping_over_fresh']:.3f} x fresh",
            f"  worker with reference imported   {w['spawn_load_reference_ms']:.2f} ms = "
            f"{w['spawn_load_over_fresh']:.3f} x fresh",
        ]
    if results.get("numerics"):
        lines.append("Numerical verification of all parameters (cost in analytic forward+backward passes)")
        lines.append(
            f"  {'params':>7} {'checker':<22} {'evals':>8} {'ms':>10} {'passes':>9} {'bugs caught':>12} "
            f"{'false alarm':>12}"
        )
        for e in results["numerics"]:
            for name, ch in e["checkers"].items():
                evals = ch["evaluations"]
                evals = "/".join(map(str, evals)) if isinstance(evals, list) else str(evals)
                caught = f"{ch['caught']}/{ch['bugs']}" if "caught" in ch else "-"
                alarm = str(ch["false_alarm"]).lower() if "false_alarm" in ch else "-"
                note = " (estimated)" if ch.get("estimated") else ""
                if "evaluations_only_passes" in ch:
                    note = f" (its loss evaluations alone: {ch['evaluations_only_passes']:.1f})"
                lines.append(
                    f"  {e['params']:>7} {name:<22} {evals:>8} {ch['ms']:>10.1f} {ch['passes']:>9.1f} "
                    f"{caught:>12} {alarm:>12}{note}"
                )
            lines.append(
                f"  {'':>7} (one forward+backward: {e['analytic_ms']:.3f} ms; forward only: {e['forward_ms']:.3f} ms)"
            )
    if results.get("targets"):
        lines.append("Targets")
        for t in results["targets"].values():
            lines.append(f"  {'MET    ' if t['met'] else 'NOT MET'} {t['target']}: {t['value']}")
    lines.append(
        f"Load average before {results['machine']['loadavg_before']}, after {results['machine']['loadavg_after']}"
    )
    return "\n".join(lines)


def _ms(value):
    return "-" if value is None else f"{value:.0f} ms"


NUMERIC_SIZES = ([3, 4, 3], [50, 80, 10], [784, 89, 10])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="N=40, 2 seeds, no full per-coordinate loop at 70k")
    ap.add_argument("--n", type=int, default=None, help="class size (default 200, --quick 40)")
    ap.add_argument("--jobs", type=int, default=None, help="grader processes (default: gradcheck's for --cpus)")
    ap.add_argument("--cpus", type=int, default=2, help="CPUs the class is graded on (0: all)")
    ap.add_argument("--seeds", type=int, default=None, help="seeds per gradcheck check (default 5, --quick 2)")
    ap.add_argument("--sizes", default=None, help="MLP sizes to check, e.g. '3,4,3;50,80,10'")
    ap.add_argument("--rounds", type=int, default=None, help="worker start-up rounds (default 5, --quick 3)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: class, cluster, startup, numerics")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results.json"), help="where to write the results")
    args = ap.parse_args(argv)
    n = args.n or (40 if args.quick else 200)
    seeds = args.seeds or (2 if args.quick else 5)
    sizes = (
        [[int(s) for s in part.split(",")] for part in args.sizes.split(";")]
        if args.sizes
        else [list(s) for s in NUMERIC_SIZES]
    )
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    import gradcheck

    results = {
        "command": "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "gradcheck": getattr(gradcheck, "__version__", None),
            "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
            "loadavg_before": loadavg(),
        },
    }
    if "startup" not in skip:
        rounds = args.rounds or (3 if args.quick else 5)
        results["worker_startup"] = worker_startup(rounds=rounds, spawns=20 if rounds > 1 else 4)
    if "numerics" not in skip:
        results["numerics"] = [
            numerical_cost(s, seeds=seeds, loop_max=10_000 if args.quick else None, repeat=3 if args.quick else 5)
            for s in sizes
        ]
    if "class" not in skip:
        results["class"] = class_throughput(n, jobs=args.jobs, cpus=args.cpus or None)
    if "cluster" not in skip:
        results["cluster"] = cluster_comparison(n, cpus=args.cpus or None, overhead_rounds=10 if args.quick else 40)
    results["machine"]["loadavg_after"] = loadavg()
    results["targets"] = targets(results)
    print(table(results))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
