"""Kernel state that no namespace covers: keyrings, user namespaces and mounts (seccomp), memory and CPU
of all of a worker's processes together (cgroups). Each hostile fixture is bounded by itself (time,
memory, processes, files only in its own private /tmp) even when the defence under test is missing;
the tests assert the defence where ``sandbox.isolation`` says it is in force."""

import os
import shutil
import time
from pathlib import Path

import pytest
from hostile_corpus import materialize
from test_sandbox_hostile import call_gate, first_run

from gradcheck.sandbox import MSG_MEMORY_CGROUP, Limits, Sandbox
from gradcheck.sandbox.inside import isolation

pytestmark = pytest.mark.system  # real sandbox; its few in-process tests run with it (tests/README.md)

REFERENCE = Path(__file__).resolve().parent.parent / "reference"
AS_ROOT = os.geteuid() == 0
LIMITS = Limits(
    call_seconds=20,
    submission_seconds=60,
    cpu_seconds=20,
    memory_mb=400,
    processes=16,
    file_size_mb=512,
    open_files=64,
    output_kb=16,
    disk_mb=512,
)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(LIMITS) as sb:
        yield sb
    if sb.zygote_report.get("cgroup", {}).get("version"):
        for d in sb.zygote_report["cgroup"]["dirs"].values():
            assert not os.path.exists(d), f"cgroup folder left behind: {d}"


@pytest.fixture(scope="module")
def no_seccomp():
    """Only the fresh session keyring (no filter): what stops a keyring pair on its own."""
    with Sandbox(LIMITS, seccomp=False) as sb:
        yield sb


def run_add(sandbox, folder):
    with sandbox.session(folder) as s:
        r = call_gate(s, "AddGate", [2.0, 3.0], 1.0)
        out = float(first_run(r)["out"]) if r.ok else None
        text = s.output.text
        if r.ok:
            assert_add_works_or_hostile(s)
        uids = set(s.uids)
    if AS_ROOT:
        assert not any(isolation.uid_processes(u) for u in uids), "processes left behind"
    return r, out, text


def assert_add_works_or_hostile(s):
    run = first_run(call_gate(s, "MultiplyGate", [2.0, 3.0], 1.0))  # the worker still answers
    assert float(run["out"]) == 6.0


def test_isolation_records_seccomp_keyring_and_cgroup(sandbox, no_seccomp):
    iso = sandbox.isolation
    for key in ("seccomp", "session_keyring", "cgroup"):
        assert key in iso
    assert no_seccomp.isolation["seccomp"] is False
    assert any("no seccomp filter" in n for n in no_seccomp.isolation["notes"])
    if AS_ROOT:
        assert iso["seccomp"] and iso["session_keyring"]
    if iso["cgroup"]:
        assert iso["cgroup"] == {"version": iso["cgroup"]["version"], "memory_mb": 400, "pids": 16, "cpus": 1}
    else:
        assert any("no per-worker cgroup" in n for n in iso["notes"])


def test_seccomp_program_handles_both_architectures():
    prog = isolation.seccomp_program()
    arch_checks = [k for code, _, _, k in prog if code == 0x15 and k in isolation.AUDIT_ARCH.values()]
    assert sorted(arch_checks) == sorted(isolation.AUDIT_ARCH.values())
    ks = {k for _, _, _, k in prog}
    for name in (
        "unshare",
        "mount",
        "umount2",
        "pivot_root",
        "fsopen",
        "fsmount",
        "move_mount",
        "open_tree",
        "keyctl",
        "add_key",
        "request_key",
        "ptrace",
        "bpf",
        "perf_event_open",
    ):
        x86, arm = isolation.DENIED_SYSCALLS[name]
        assert x86 in ks and arm in ks, name
    assert prog[-1] == (0x06, 0, 0, isolation.SECCOMP_RET_KILL_PROCESS)  # an unknown architecture


def test_keyring_write_then_read_finds_nothing(sandbox, no_seccomp, tmp_path):
    for sb in (sandbox, no_seccomp):
        writer = materialize("keyring", tmp_path / f"writer-{id(sb)}")
        reader = materialize("keyring", tmp_path / f"reader-{id(sb)}")
        (reader / "mode").write_text("read")
        r, wrote, text = run_add(sb, writer)
        assert r.ok, r.message
        if sb.isolation["seccomp"]:
            assert wrote == 0.0 and text.count("Operation not permitted") == 3, text
        r, found, text = run_add(sb, reader)
        assert r.ok, r.message
        if sb.isolation["session_keyring"] and AS_ROOT:
            assert found == 0.0, text  # another worker's key is out of reach, with or without the filter


def test_user_namespace_mount_keyctl_ptrace_bpf_perf_are_refused(sandbox, tmp_path):
    r, through, text = run_add(sandbox, materialize("userns_mount", tmp_path / "userns"))
    assert r.ok, r.message
    if sandbox.isolation["seccomp"]:
        assert through == 0.0, text
        assert "GOT THROUGH" not in text and "reached the kernel" not in text, text


def test_memory_of_many_processes_is_limited_together(sandbox, tmp_path):
    r, finished, text = run_add(sandbox, materialize("memory_children", tmp_path / "children"))
    assert r.ok, r.message
    if sandbox.isolation["cgroup"]:
        assert finished < 4, text  # 6 x 100 MB do not fit in 400 MB (each alone passes RLIMIT_AS)


def test_memory_in_tmpfs_is_counted_and_its_kill_reported(sandbox, tmp_path):
    r, written, text = run_add(sandbox, materialize("tmpfs_hog", tmp_path / "tmpfs"))
    if sandbox.isolation["cgroup"]:
        assert r.status == "error", (written, text)
        assert r.message == MSG_MEMORY_CGROUP.format(mb=400, op="gates")
    else:
        assert r.ok and written == 400.0


def _meter(folder):
    """A correct submission whose AddGate.forward does a fixed amount of work and returns its wall time."""
    shutil.copytree(REFERENCE, folder, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    text = (
        (folder / "gates.py")
        .read_text()
        .replace(
            "    def forward(self, x, y):\n        return np.add(x, y)\n",
            "    def forward(self, x, y):\n        import time\n        t0 = time.perf_counter()\n        s = 0\n"
            "        for i in range(1_500_000):\n            s += i\n"
            "        return np.add(x, y) * 0 + (time.perf_counter() - t0)\n",
            1,
        )
    )
    (folder / "gates.py").write_text(text)
    return folder


def test_setsid_busy_loops_do_not_starve_a_neighbour(sandbox, tmp_path):
    meter = _meter(tmp_path / "meter")
    with sandbox.session(meter) as m:

        def work():
            return float(first_run(call_gate(m, "AddGate", [2.0, 3.0], 1.0))["out"])

        work()
        alone = min(work() for _ in range(3))
        with sandbox.session(materialize("setsid_busy", tmp_path / "busy")) as b:
            started = float(first_run(call_gate(b, "AddGate", [2.0, 3.0], 1.0))["out"])
            assert started == 6.0
            time.sleep(0.3)
            busy = min(work() for _ in range(3))
            if sandbox.isolation["cgroup"] and AS_ROOT:  # the six loops share one cgroup with a CPU quota
                cpu = os.path.join(
                    sandbox.zygote_report["cgroup"]["dirs"].get("cpu", "/nonexistent"), f"w{b._worker.pid}"
                )
                if os.path.isdir(cpu):
                    assert len(isolation.cgroup_procs(cpu)) >= 7
                    assert int(Path(cpu, "cpu.cfs_quota_us").read_text()) == int(LIMITS.cpus * 100_000)
        print(f"neighbour: {alone:.3f} s alone, {busy:.3f} s next to six setsid busy loops ({busy / alone:.2f}x)")
        if sandbox.isolation["cgroup"]:
            # six loops in one cgroup of one CPU, on a machine of two: the neighbour keeps a CPU
            # (generous bound: the machine may be shared; without cgroups it is 3-7x)
            assert busy < 3.0 * alone, (alone, busy)


def test_pids_limit_counts_every_process_of_the_worker(sandbox, tmp_path):
    r, started, text = run_add(sandbox, materialize("many_children", tmp_path / "many"))
    assert r.ok, r.message
    assert 0 < started < LIMITS.processes


def test_cgroup_folders_are_removed_with_their_workers(sandbox, tmp_path):
    if not sandbox.isolation["cgroup"]:
        pytest.skip("no per-worker cgroups here")
    folder = materialize("syntax_error", tmp_path / "plain")
    with sandbox.session(folder) as s:
        assert s.call({"op": "ping"}).ok  # starts a worker
        pid = s._worker.pid
        dirs = [os.path.join(d, f"w{pid}") for d in sandbox.zygote_report["cgroup"]["dirs"].values()]
        assert all(os.path.isdir(d) for d in dirs)
        procs = isolation.cgroup_procs(dirs[0])
        assert pid in procs
    assert not any(os.path.exists(d) for d in dirs)


GRADER_KEY_SCRIPT = r"""
import ctypes, json, os, platform, sys
sys.path[:0] = [sys.argv[1]]
from hostile_corpus import materialize
from test_sandbox_hostile import call_gate, first_run
from gradcheck.sandbox import Limits, Sandbox
NR = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
# this process (the grader) gets a session keyring of its own, discarded when it ends, with a secret key
assert libc.syscall(ctypes.c_long(NR[1]), ctypes.c_long(1), b"gradcheck-test-session") >= 0
assert libc.syscall(ctypes.c_long(NR[0]), b"user", b"gradcheck-grader-key", b"SECRET", ctypes.c_size_t(6),
                    ctypes.c_long(-3)) >= 0
folder = materialize("keyring", sys.argv[2])
(folder / "mode").write_text("read")
with Sandbox(Limits(call_seconds=20), seccomp=sys.argv[3] == "1") as sb:
    with sb.session(folder) as s:
        r = call_gate(s, "AddGate", [2.0, 3.0], 1.0)
        print(json.dumps({"found": float(first_run(r)["out"]), "keyring": sb.isolation["session_keyring"],
                          "output": s.output.text}))
"""


@pytest.mark.skipif(not AS_ROOT, reason="the worker's uid differs from the grader's only as root")
@pytest.mark.parametrize("seccomp", [True, False])
def test_workers_cannot_read_the_graders_session_keyring(tmp_path, seccomp):
    import json
    import subprocess
    import sys

    tests = str(Path(__file__).resolve().parent)
    p = subprocess.run(
        [sys.executable, "-c", GRADER_KEY_SCRIPT, tests, str(tmp_path / "reader"), str(int(seccomp))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    if out["keyring"]:
        assert out["found"] == 0.0, out["output"]


def test_cgroup_v2_plan_limits_and_memory_kills(tmp_path):
    """cgroup v2 as the code drives it, on a folder tree standing in for a delegated cgroup2 mount
    (this machine mounts v1): controllers enabled for the zygote's folder, a worker's limits, its
    memory kills read back, a gone zygote's empty folder swept."""
    root = tmp_path / "cg2"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    (root / f"{isolation.CGROUP_PREFIX}999999999").mkdir()  # a zygote that is gone, its folder empty
    plan = isolation.setup_cgroups(mounts={"v1": {}, "v2": str(root)}, own={"": "/"})
    assert plan["version"] == 2, plan
    base = Path(plan["dirs"]["unified"])
    assert base == root / f"{isolation.CGROUP_PREFIX}{os.getpid()}"
    assert not (root / f"{isolation.CGROUP_PREFIX}999999999").exists()
    assert (root / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    assert (base / "cgroup.subtree_control").read_text() == "+memory +pids +cpu"
    isolation.join_cgroup(plan, "w42", 300, 16, 0.5)
    w = base / "w42"
    assert (w / "memory.max").read_text() == str(300 * 2**20) and (w / "memory.swap.max").read_text() == "0"
    assert (w / "pids.max").read_text() == "16" and (w / "cpu.max").read_text() == "50000 100000"
    assert (w / "cgroup.procs").read_text() == "0"  # "0": the process writing it
    (w / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert isolation.worker_cgroup_done(plan, "w42") == 1


def test_no_cgroup_is_said_why(tmp_path):
    plan = isolation.setup_cgroups(mounts={"v1": {"memory": str(tmp_path)}, "v2": None}, own={})
    assert plan["version"] is None and "no cgroup hierarchy" in plan["why"]
    root = tmp_path / "cg2"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpu io\n")
    plan = isolation.setup_cgroups(mounts={"v1": {}, "v2": str(root)}, own={"": "/"})
    assert plan["version"] is None and "not delegated" in plan["why"] and "memory" in plan["why"]
    assert isolation.setup_cgroups(False)["why"] == "cgroups disabled by configuration"
