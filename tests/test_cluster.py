"""Grading on a Dask cluster (gradcheck.cluster): the reports are the local grader's, whatever happens to
the cluster's workers.

Fast tests: what ``--cluster`` accepts (a usage error otherwise, or when Dask is missing), and a
submission sent as bytes and rebuilt on a worker, which the grader's own rules (inspect_submission,
staging) must see exactly as the original: links, folders, files past the caps, odd names, nothing
read through a link and nothing more than the caps. System tests: a real LocalCluster of 2 worker
processes over TCP on localhost grades a class (the bundled submissions and hostile layouts) with
reports identical to a local ``--jobs 2`` run; a worker SIGKILLed mid-run loses no report; a
submission that kills its grader twice or hangs gets an error report and the run goes on; student
code cannot reach the scheduler's port; a sandbox with network access and a scheduler that retries
otherwise are refused; ``gradcheck grade --cluster local:2`` started in the submissions folder
imports none of them.
"""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hostile_corpus import materialize as hostile_case
from test_batch import fake_grade, fake_sandbox, load_reports, make_class, without_timing

from gradcheck import batch, cli
from gradcheck.assignment import load_assignment
from gradcheck.cluster import ClusterSpec, parse_cluster
from gradcheck.cluster.snapshot import SnapshotError, materialize, read_submission
from gradcheck.contract import MODULE_FILES
from gradcheck.errors import BatchError, GraderError
from gradcheck.sandbox import Limits
from gradcheck.sandbox.staging import stage
from gradcheck.submission import SubmissionRefused, inspect_submission

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"
A = load_assignment()
LIMITS = Limits(submission_files=20, submission_mb=1)


# ------------------------------------------------------------------------------ --cluster values


@pytest.mark.parametrize(
    "value, spec",
    [
        ("local:2", ClusterSpec(local=2)),
        ("tcp://127.0.0.1:8786", ClusterSpec(address="tcp://127.0.0.1:8786")),
        ("tls://grader.example.edu:8786", ClusterSpec(address="tls://grader.example.edu:8786")),
        ("tcp://[::1]:8786", ClusterSpec(address="tcp://[::1]:8786")),
    ],
)
def test_cluster_values(value, spec):
    assert parse_cluster(value) == spec


@pytest.mark.parametrize(
    "value", ["local:0", "local:", "local:two", "8786", "tcp://host", "tcp://host:0", "tcp://host:99999", "http://h:1"]
)
def test_bad_cluster_value_is_a_usage_error_naming_it(value, tmp_path):
    with pytest.raises(BatchError, match="local:N") as info:
        parse_cluster(value)
    assert repr(value) in str(info.value)
    subs = make_class(tmp_path, {"alice": "ok"})
    result = CliRunner().invoke(cli.main, ["grade", str(subs), "--out", str(tmp_path / "out"), "--cluster", value])
    assert result.exit_code == 2, result.output
    assert "--cluster takes local:N" in result.output and value in result.output
    assert not (tmp_path / "out").exists()  # nothing written


def test_cluster_without_dask_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    subs = make_class(tmp_path, {"alice": "ok"})
    result = CliRunner().invoke(cli.main, ["grade", str(subs), "--out", str(tmp_path / "out"), "--cluster", "local:2"])
    assert result.exit_code == 2, result.output
    assert "pip install 'gradcheck[dask]'" in result.output
    assert not (tmp_path / "out").exists()


def test_jobs_with_cluster_is_a_usage_error(tmp_path):
    subs = make_class(tmp_path, {"alice": "ok"})
    result = CliRunner().invoke(cli.main, ["grade", str(subs), "--jobs", "2", "--cluster", "local:2"])
    assert result.exit_code == 2 and "--jobs" in result.output


# ------------------------------------------------------------------------------ a submission as bytes


def reference_modules(folder):
    folder.mkdir(parents=True)
    for m in MODULE_FILES:
        shutil.copy(REFERENCE / m, folder / m)
    return folder


def hostile_layouts(base):
    """Submission folders holding everything the grader looks at: {name: path}."""
    flat = reference_modules(base / "flat")
    os.symlink("/etc/passwd", flat / "notes.txt")
    os.symlink("../inner", flat / "classmate")  # a link to another submission
    os.mkfifo(flat / "pipe")
    (flat / "folder").mkdir()
    (flat / "__pycache__").mkdir()
    for i in range(15):  # past submission_files: named, not copied
        (flat / f"a{i:02d}.txt").write_text(f"{i}")
    with open(flat / "big.bin", "wb") as f:  # past submission_mb (sparse: nothing stored)
        f.truncate(50 * 2**20)
    (flat / os.fsdecode(b"caf\xe9.py")).write_text("x = 1\n")  # a name that is not UTF-8
    (flat / "new\nline\\and-back.py").write_text("y = 2\n")
    (flat / "-rf").write_text("")
    inner = base / "inner"  # the modules one folder down (a zipped folder), links beside it
    reference_modules(inner / "hw")
    (inner / "hw" / "helper.py").write_text("z = 3\n")
    os.symlink("/etc", inner / "etc")
    os.symlink(REFERENCE, inner / "_ref")
    os.symlink("hw/gates.py", inner / "gates.py")
    (inner / "readme.txt").write_text("beside")
    links = base / "linked"  # every module a link: all missing
    links.mkdir()
    for m in MODULE_FILES:
        os.symlink(REFERENCE / m, links / m)
    bigmod = reference_modules(base / "bigmod")  # a module past the byte cap
    with open(bigmod / "gates.py", "ab") as f:
        f.truncate(3 * 2**20)
    two = base / "two-inner"  # two folders with modules: neither is chosen
    reference_modules(two / "v1")
    reference_modules(two / "v2")
    (base / "empty").mkdir()
    return {p.name: p for p in (flat, inner, links, bigmod, two, base / "empty")}


def seen_by_the_grader(path, where):
    """What the local grader looks at in a submission folder: inspect_submission's folder (relative)
    and notes, the modules it finds, and staging's decisions and copied bytes."""
    root, notes = inspect_submission(path)
    dst = where / "staged"
    dst.mkdir()
    staged = stage(root, dst, LIMITS)
    copied = {p.name: p.read_bytes() for p in dst.iterdir()}
    shutil.rmtree(dst)
    modules = [m for m in MODULE_FILES if os.path.lexists(root / m) and stat.S_ISREG(os.lstat(root / m).st_mode)]
    return {"root": root.relative_to(path), "notes": notes, "modules": modules, "staged": staged, "copied": copied}


def test_a_rebuilt_submission_is_seen_as_the_original(tmp_path):
    for name, path in hostile_layouts(tmp_path / "class").items():
        snapshot = read_submission(path, LIMITS)
        rebuilt_in = tmp_path / "rebuilt" / name
        rebuilt_in.mkdir(parents=True)
        rebuilt = materialize(snapshot, rebuilt_in)
        assert rebuilt.name == path.name
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        original, copy = seen_by_the_grader(path, tmp_path / "a"), seen_by_the_grader(rebuilt, tmp_path / "b")
        os.rmdir(tmp_path / "a"), os.rmdir(tmp_path / "b")
        assert copy == original, name
        sent = [p for _, kind, p in snapshot["entries"] if kind == "file"]
        assert sum(len(p) for p in sent) <= LIMITS.submission_mb * 2**20, name
        assert not any(b"root:" in p for p in sent)  # nothing read through a link
    flat = seen_by_the_grader(tmp_path / "class" / "flat", tmp_path)
    whys = flat["staged"]["skipped_counts"]
    assert whys == {
        "a symbolic link; links are not graded": 2,
        "not a regular file": 2,  # the pipe and the folder (__pycache__ is left out silently)
        "over the 1 MB cap": 1,
        "more than 20 files": 1,
    }


def test_a_linked_submission_is_refused_before_anything_is_read(tmp_path):
    reference_modules(tmp_path / "real")
    os.symlink(tmp_path / "real", tmp_path / "alias")
    with pytest.raises(SubmissionRefused, match="alias is a symbolic link"):
        read_submission(tmp_path / "alias", LIMITS)


@pytest.mark.parametrize("name", [b"", b".", b"..", b"../escape", b"a/b", b"nul\0"])
def test_a_snapshot_cannot_write_outside_its_folder(tmp_path, name):
    good = {"name": b"alice", "inner": None, "beside": [], "entries": [(b"gates.py", "file", b"")]}
    for bad in (
        {**good, "name": name},
        {**good, "entries": [(name, "file", b"")]},
        {**good, "inner": b"hw", "beside": [name]},
    ):
        folder = tmp_path / "in"
        folder.mkdir()
        with pytest.raises((SnapshotError, FileExistsError)):
            materialize(bad, folder)
        assert sorted(os.listdir(tmp_path)) == ["in"]
        shutil.rmtree(folder)


def test_plugin_refuses_a_worker_with_other_software(tmp_path):
    from gradcheck.cluster.worker import SandboxPlugin, environment

    class FakeWorker:
        local_directory = str(tmp_path)

    plugin = SandboxPlugin("p", A, 0, [], env={**environment(), "numpy": "0.0.1"})
    plugin.setup(FakeWorker())
    outcome = plugin.grade({"name": b"alice", "inner": None, "beside": [], "entries": []})
    assert outcome["kind"] == "init_error" and "numpy" in outcome["error"] and "0.0.1 on the client" in outcome["error"]
    assert os.listdir(tmp_path) == []  # nothing left of the worker's folder


# ------------------------------------------------------------------------------ on a real cluster


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 worker processes (one thread each) over TCP on 127.0.0.1, configured as
    gradcheck needs a scheduler (a task is retried once when its worker dies); closed at the end."""
    import dask
    from distributed import Client, LocalCluster

    from gradcheck.cluster.local import SCHEDULER_CONFIG

    with dask.config.set({**SCHEDULER_CONFIG, "distributed.worker.daemon": False}):
        with (
            LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            ) as c,
            Client(c, set_as_default=False) as client,
        ):
            assert c.scheduler_address.startswith("tcp://127.0.0.1:")
            yield c.scheduler_address, client


def copy_class(base, port):
    """The bundled submissions, hostile file layouts, a submission that tries the scheduler's port
    from inside the sandbox, one whose name is not UTF-8 and one named like a module (``distributed``)."""
    subs = base / "class"
    shutil.copytree(ROOT / "submissions", subs, ignore=shutil.ignore_patterns("__pycache__"))
    layouts = hostile_layouts(base / "layouts")
    for name in ("flat", "inner", "linked"):
        shutil.move(layouts[name], subs / name)
    os.symlink("correct", subs / "alias")  # the submission folder itself is a link
    hostile_case("network", subs / "network")
    (subs / "network" / "target.json").write_text(json.dumps({"port": port}))
    reference_modules(subs / os.fsdecode(b"caf\xe9"))  # a name that is not UTF-8
    reference_modules(subs / "distributed")
    (subs / "distributed" / "__init__.py").write_text("raise SystemExit('a grader imported a submission')\n")
    return subs


@pytest.fixture(scope="module")
def graded_locally(cluster, tmp_path_factory):
    """The class graded with --jobs 2 (seed 3): (class folder, reports folder, reports)."""
    base = tmp_path_factory.mktemp("cluster-class")
    subs = copy_class(base, int(cluster[0].rsplit(":", 1)[1]))
    out = base / "reports"  # every run writes here (its path is in the reports' isolation.hidden)
    batch.grade_class(subs, out, A, seed=3, jobs=2)
    reports = load_reports(out)
    shutil.rmtree(out)
    return subs, out, reports


@pytest.mark.system
def test_reports_are_identical_to_a_local_run(cluster, graded_locally):
    subs, out, local = graded_locally
    rows = batch.grade_class(subs, out, A, seed=3, cluster=cluster[0])
    remote = load_reports(out)
    regraded = []  # --resume keeps every graded report the cluster wrote: they hash the submissions as they are
    batch.grade_class(subs, out, A, seed=3, jobs=2, resume=True, progress=lambda row, *_: regraded.append(row))
    shutil.rmtree(out)
    assert [r["submission"] for r in regraded] == ["alias"]  # an error report is always graded again
    assert len(rows) == len(local) == 14
    assert {k: without_timing(v) for k, v in remote.items()} == {k: without_timing(v) for k, v in local.items()}
    assert remote["correct"]["score"] == 100.0 and remote["flat"]["score"] == 100.0
    assert "alias is a symbolic link" in remote["alias"]["message"]
    assert "notes.txt is a symbolic link" in remote["flat"]["message"]
    assert remote["distributed"]["status"] == "graded"
    assert remote["flat"]["submission_hash"] == local["flat"]["submission_hash"]  # the original folder's
    # student code found no network in the sandbox: the scheduler's port was out of reach
    assert "no connection" in remote["network"]["output"]["text"]


@pytest.mark.system
def test_a_worker_killed_mid_run_loses_no_report(cluster, graded_locally):
    address, client = cluster
    subs, out, local = graded_locally
    pids = client.run(os.getpid)
    killed = []

    def kill_a_busy_worker(row, done, total):
        if killed:
            return
        busy = [w for w, keys in client.processing().items() if keys and w in pids]
        if busy:
            os.kill(pids[busy[0]], signal.SIGKILL)  # mid-task: the worker is grading a submission
            killed.append(pids[busy[0]])

    batch.grade_class(subs, out, A, seed=3, cluster=address, progress=kill_a_busy_worker)
    remote = load_reports(out)
    shutil.rmtree(out)
    assert killed and killed[0] not in client.run(os.getpid).values()
    assert {k: without_timing(v) for k, v in remote.items()} == {k: without_timing(v) for k, v in local.items()}


@pytest.mark.system
def test_a_submission_that_kills_or_hangs_its_grader_gets_an_error_report(cluster, tmp_path):
    subs = make_class(tmp_path, {"alice": "ok", "carol": "exit", "dave": "ok", "hangs": "hang", "zed": "raise"})
    out = tmp_path / "out"
    t0 = time.monotonic()
    rows = batch.grade_class(
        subs, out, A, seed=1, grade=fake_grade, sandbox_factory=fake_sandbox, timeout=4, cluster=cluster[0]
    )
    assert time.monotonic() - t0 < 60
    status = {r["submission"]: r["status"] for r in rows}
    assert status == {"alice": "graded", "carol": "error", "dave": "graded", "hangs": "error", "zed": "error"}
    reports = load_reports(out)
    assert "died twice" in reports["carol"]["message"]
    assert "longer than 4 s" in reports["hangs"]["message"]
    assert "RuntimeError: the grader tripped over this one" in reports["zed"]["message"]
    cluster[1].wait_for_workers(2, timeout=60)  # the hung worker's nanny started another


def sandbox_with_network(assignment, hide):
    from gradcheck.sandbox import Sandbox

    return Sandbox(Limits(**assignment.limits), hide=hide, namespaces=False)


@pytest.mark.system
def test_refused_a_sandbox_with_network_or_a_scheduler_that_retries_otherwise(cluster, tmp_path):
    address, client = cluster
    subs = make_class(tmp_path, {"alice": "ok"})
    with pytest.raises(GraderError, match="network access"):
        batch.grade_class(
            subs, tmp_path / "out", A, grade=fake_grade, sandbox_factory=sandbox_with_network, cluster=address
        )
    client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 3))
    try:
        with pytest.raises(BatchError, match="ALLOWED_FAILURES=1"):
            batch.grade_class(
                subs, tmp_path / "out2", A, grade=fake_grade, sandbox_factory=fake_sandbox, cluster=address
            )
    finally:
        client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 1))
    assert not [
        p
        for p in client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.worker_plugins))
        if "gradcheck" in p
    ]


@pytest.mark.system
def test_local_cluster_from_the_submissions_folder_imports_no_submission(tmp_path):
    subs = tmp_path / "class"
    for name in ("correct", "multiprocessing"):  # spawned Python processes import multiprocessing first
        reference_modules(subs / name)
    marker = tmp_path / "imported"
    (subs / "multiprocessing" / "__init__.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    p = subprocess.run(
        [sys.executable, "-m", "gradcheck", "grade", ".", "--out", str(tmp_path / "reports"), "--cluster", "local:2"],
        cwd=subs,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    assert not marker.exists()
    reports = load_reports(tmp_path / "reports")
    assert {n: r["score"] for n, r in reports.items()} == {"correct": 100.0, "multiprocessing": 100.0}


def test_plugin_sends_an_instructors_reference_folder(tmp_path):
    """A reference folder of the instructor's travels with the plugin: a worker whose machine has
    other files at that path grades with the files sent, kept in its own folder and hidden."""
    import dataclasses

    from gradcheck.cluster.worker import SandboxPlugin

    class FakeWorker:
        local_directory = str(tmp_path / "worker")

    (tmp_path / "worker").mkdir()
    reference = tmp_path / "course" / "solution"
    reference.mkdir(parents=True)
    (reference / "layers.py").write_text("ANSWER = 42\n")
    assignment = dataclasses.replace(load_assignment("layers"), reference_dir=reference)
    plugin = SandboxPlugin("p", assignment, 0, [], sandbox_factory=fake_sandbox)
    (reference / "layers.py").write_text("ANSWER = 'another machine'\n")  # what the worker's machine holds
    plugin.setup(FakeWorker())
    try:
        assert plugin.init_error is None
        here = Path(plugin.assignment.reference_dir)
        assert here != reference and (here / "layers.py").read_text() == "ANSWER = 42\n"
        assert str(here) in plugin.sandbox.hide
    finally:
        plugin.teardown(FakeWorker())
    assert os.listdir(tmp_path / "worker") == []
