"""The hostile corpus (tests/hostile/<case>/) driven through the Sandbox with real ops requests.

For every case: the call gives a clear status/message, the next call works (the worker is restarted
when it had to be), hidden files stay unread and unmodified, the sibling submission is unchanged, the
reports folder stays empty, and no process of the session's worker uids is left afterwards.
"""

import contextlib
import functools
import hashlib
import json
import math
import os
import secrets
import shutil
import socket
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hostile_corpus import materialize

from gradcheck import contract
from gradcheck.assignment.reference import reference_module
from gradcheck.sandbox import MSG_BUDGET, MSG_BUDGET_SPENT, MSG_EXIT, MSG_TIMEOUT, Limits, Sandbox
from gradcheck.sandbox.inside import isolation
from gradcheck.standins import StandIns

REFERENCE_MODULE = functools.partial(reference_module, None)  # the lecture's: gradcheck.reference

pytestmark = pytest.mark.system  # every test here starts real processes (tests/README.md)

HERE = Path(__file__).parent
REFERENCE = HERE.parent / "reference"
AS_ROOT = os.geteuid() == 0

LIMITS = Limits(
    call_seconds=3,
    submission_seconds=40,
    cpu_seconds=20,
    memory_mb=512,
    processes=16,
    file_size_mb=4,
    open_files=64,
    output_kb=16,
    disk_mb=16,
)


# ------------------------------------------------------------------------------------- helpers


def gates_request(cls, inputs, dout, args=()):
    arrays = [np.asarray(v, dtype=float) for v in inputs] + [np.asarray(dout, dtype=float)]
    call = {
        "cls": cls,
        "args": list(args),
        "inputs": [{"$a": i} for i in range(len(inputs))],
        "dout": {"$a": len(inputs)},
    }
    return {"op": "gates", "calls": [call], "order": [[0, "f"], [0, "b"]]}, arrays


def resolve(node, arrays):
    if isinstance(node, dict):
        if "$a" in node:
            return arrays[node["$a"]]
        return {k: resolve(v, arrays) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, arrays) for v in node]
    return node


def first_run(result):
    assert result.ok, result.message
    entry = result.header["calls"][0]
    assert "out" in entry or "error" in entry, entry
    return resolve(entry, result.arrays)


def call_gate(s, cls, inputs, dout, args=()):
    return s.call(*gates_request(cls, inputs, dout, args))


def assert_add_works(s):
    run = first_run(call_gate(s, "AddGate", [2.0, 3.0], 1.0))
    assert "error" not in run, run
    assert float(run["out"]) == 5.0


def assert_multiply_works(s):
    run = first_run(call_gate(s, "MultiplyGate", [2.0, 3.0], 1.0))
    assert "error" not in run, run
    assert [float(run["out"])] + [float(g) for g in run["grads"]] == [6.0, 3.0, 2.0]


def tree_hashes(*roots):
    out = {}
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file():
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def unlisted_folder(fallback):
    """A temporary folder next to the checkout (outside every temp folder a worker gets privately), where
    another checkout of the course would be; ``fallback`` when the checkout's parent is not writable."""
    parent = REFERENCE.resolve().parent.parent
    try:
        if parent == Path("/"):
            raise OSError("the checkout is at the top level")
        return Path(tempfile.mkdtemp(prefix=".gradcheck-decoy-", dir=parent))
    except OSError:
        return Path(tempfile.mkdtemp(prefix="decoy-", dir=fallback))


class World:
    """Folders of one test module: submissions (with an honest sibling), reports, a hidden secret, and an
    unlisted copy of the reference that no one passes in hide= (only the allowlist root keeps it out)."""

    def __init__(self, root):
        self.root = root
        self.subs, self.reports, self.secret = root / "submissions", root / "reports", root / "secret"
        for d in (self.subs, self.reports, self.secret / "reference"):
            d.mkdir(parents=True)
        self.token = "secret-" + secrets.token_hex(16)
        (self.secret / "token.txt").write_text(self.token)
        (self.secret / "reference" / "gates.py").write_text(f"# {self.token}\n" + (REFERENCE / "gates.py").read_text())
        self.unlisted = unlisted_folder(root)
        (self.unlisted / "main" / "reference").mkdir(parents=True)
        (self.unlisted / "main" / "reference" / "gates.py").write_text(
            f"# {self.token}\n" + (REFERENCE / "gates.py").read_text()
        )
        self.sibling = self.subs / "honest_sibling"
        shutil.copytree(REFERENCE, self.sibling, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.protected = [self.sibling, self.reports, self.secret, REFERENCE]

    def submission(self, case):
        dst = self.subs / case
        if dst.exists():
            shutil.rmtree(dst)
        materialize(case, dst)
        target = {
            "reports": str(self.reports),
            "sibling": str(self.sibling),
            "port": self.port,
            "token": self.token,
            "hidden": [str(self.secret), str(self.reports), str(self.subs), str(REFERENCE.resolve())],
            "guesses": [
                str(REFERENCE / "gates.py"),
                str(self.secret / "token.txt"),
                str(self.unlisted / "main" / "reference" / "gates.py"),
            ],
        }
        (dst / "target.json").write_text(json.dumps(target))
        return dst


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("hostile"))
    try:
        yield w
    finally:
        w.listener.close()
        shutil.rmtree(w.unlisted)


@pytest.fixture(scope="module")
def sandbox(world):
    with Sandbox(LIMITS, hide=[world.subs, world.reports, world.secret]) as sb:
        yield sb


@contextlib.contextmanager
def hostile(sandbox, world, case, standins=None):
    before = tree_hashes(*world.protected)
    s = sandbox.session(world.submission(case), standins=standins)
    try:
        yield s
    finally:
        s.close()
    assert tree_hashes(*world.protected) == before, "a protected file changed"
    assert list(world.reports.iterdir()) == [], "something was written into the reports folder"
    if AS_ROOT:
        assert s.uids and all(uid >= isolation.UID_BASE for uid in s.uids)
        left = {uid: isolation.uid_processes(uid) for uid in s.uids}
        assert not any(left.values()), f"processes left behind: {left}"


# --------------------------------------------------------------------------------------- cases


def test_syntax_error(sandbox, world):
    with hostile(sandbox, world, "syntax_error") as s:
        assert not s.modules["gates"]["ok"] and "SyntaxError" in s.modules["gates"]["error"]
        assert s.modules["graph"]["ok"] and s.modules["mlp"]["ok"]
        r = call_gate(s, "MultiplyGate", [2.0, 3.0], 1.0)
        assert r.ok and "error" in r.header["calls"][0]  # reported per item, not a crash
    with hostile(
        sandbox, world, "syntax_error", standins=StandIns(contract.UNITS, {}, REFERENCE_MODULE)
    ) as s:  # the graph can still be graded
        arrays = [np.array(2.0), np.array(3.0)]
        r = s.call(
            {
                "op": "graph",
                "graphs": [
                    {
                        "nodes": [{"input": "x"}, {"input": "y"}, {"gate": "MultiplyGate", "in": [0, 1]}],
                        "runs": [{"feed": {"x": {"$a": 0}, "y": {"$a": 1}}, "dout": None}],
                    }
                ],
            },
            arrays,
        )
        run = resolve(r.header["graphs"][0]["runs"][0], r.arrays)
        assert float(run["out"]) == 6.0 and float(run["grads"]["x"]) == 3.0


def test_missing_module(sandbox, world):
    with hostile(sandbox, world, "missing_module") as s:
        assert "torch_is_not_installed_here" in s.modules["mlp"]["error"]
        assert s.modules["gates"]["ok"] and s.modules["graph"]["ok"]
        assert_add_works(s)


def test_missing_class(sandbox, world):
    with hostile(sandbox, world, "missing_class") as s:
        r = call_gate(s, "MatMulGate", [np.eye(2), np.ones((2, 1))], np.ones((2, 1)))
        assert r.ok and "MatMulGate" in r.header["calls"][0]["error"]
        assert_add_works(s)


def test_infinite_loop_times_out_and_worker_restarts(sandbox, world):
    with hostile(sandbox, world, "infinite_loop") as s:
        t0 = time.monotonic()
        r = call_gate(s, "MultiplyGate", [2.0, 3.0], 1.0)
        assert r.status == "timeout"
        assert r.message == MSG_TIMEOUT.format(seconds=LIMITS.call_seconds, op="gates")
        assert time.monotonic() - t0 < LIMITS.call_seconds + 2
        assert_add_works(s)
        assert s.restarts == 2


def test_cpu_limit(world):
    with Sandbox(Limits(call_seconds=10, cpu_seconds=1, memory_mb=512), hide=[world.subs]) as sb:
        with hostile(sb, world, "infinite_loop") as s:
            r = call_gate(s, "MultiplyGate", [2.0, 3.0], 1.0)
            assert r.status == "error" and r.message == "killed: CPU time limit 1 s during 'gates'"
            assert r.seconds < 5
            assert_add_works(s)


def test_sleep_at_import_costs_only_that_module(sandbox, world):
    with hostile(sandbox, world, "sleep_at_import") as s:
        modules = s.modules
        assert modules["gates"]["ok"] and modules["graph"]["ok"]
        assert not modules["mlp"]["ok"]
        assert "import of mlp did not finish" in modules["mlp"]["error"]
        assert "time limit" in modules["mlp"]["error"]
        assert_add_works(s)
        assert s.budget_left < LIMITS.submission_seconds - LIMITS.call_seconds + 0.5


def test_exit_at_import(sandbox, world):
    with hostile(sandbox, world, "exit_at_import") as s:
        assert not s.modules["graph"]["ok"] and "SystemExit" in s.modules["graph"]["error"]
        assert s.modules["gates"]["ok"]
        assert_add_works(s)


def test_os_exit_in_backward(sandbox, world):
    with hostile(sandbox, world, "os_exit_backward") as s:
        r = call_gate(s, "MultiplyGate", [2.0, 3.0], 1.0)
        assert r.status == "error" and r.message == MSG_EXIT.format(code=3, op="gates")
        assert_add_works(s)
        assert s.restarts == 2


def test_huge_allocation_hits_the_memory_limit(sandbox, world):
    with hostile(sandbox, world, "huge_allocation") as s:
        run = first_run(call_gate(s, "ExpGate", [1.0], 1.0))
        assert "MemoryError" in run["error"] or "Unable to allocate" in run["error"], run
        assert_add_works(s)
        assert s.restarts == 1  # the worker survived its failed allocation


def test_many_children_are_limited_and_killed(sandbox, world):
    with hostile(sandbox, world, "many_children") as s:
        run = first_run(call_gate(s, "AddGate", [2.0, 3.0], 1.0))
        started = float(run["out"])
        if AS_ROOT:
            assert 0 < started < LIMITS.processes  # RLIMIT_NPROC of the worker's own uid
            (uid,) = s.uids
            assert len(isolation.uid_processes(uid)) > 1  # the sleepers are alive until the session ends
        assert_multiply_works(s)
    # hostile() checked that no process of the worker's uid survived the session, setsid ones included


def test_print_flood_is_capped_and_never_parsed(sandbox, world):
    with hostile(sandbox, world, "print_flood") as s:
        t0 = time.monotonic()
        assert_add_works(s)
        assert time.monotonic() - t0 < LIMITS.call_seconds
        out = s.output
        assert out.truncated and out.total_bytes > 30_000_000
        assert len(out.text.encode()) <= LIMITS.output_kb * 1024
        assert "ALL TESTS PASSED" in out.text  # captured as text for people; grading never reads it


def test_nan_and_inf_travel_as_numbers(sandbox, world):
    with hostile(sandbox, world, "nan_inf") as s:
        run = first_run(call_gate(s, "ExpGate", [[1.0, 2.0]], [1.0, 1.0]))
        assert np.isnan(run["out"]).all() and run["out"].dtype == np.float64
        run = first_run(call_gate(s, "MultiplyGate", [2.0, 3.0], 1.0))
        assert math.isinf(float(run["grads"][0])) and float(run["grads"][1]) == -math.inf


def test_lying_objects_become_plain_numbers(sandbox, world):
    with hostile(sandbox, world, "lying_objects") as s:
        run = first_run(call_gate(s, "AddGate", [2.0, 3.0], 1.0))
        assert "not numbers" in run["out"]["error"]  # __eq__ == True does not make it a number
        run = first_run(call_gate(s, "MultiplyGate", [2.0, 3.0], 1.0))
        assert type(run["out"]) is np.ndarray and float(run["out"]) == 7.0  # x*y+1: the lie shows
        assert not np.allclose(run["out"], 6.0)
        run = first_run(call_gate(s, "ExpGate", [0.0], 1.0))
        assert type(run["out"]) is np.ndarray and float(run["out"]) == 42.0  # what __array__ said


def test_monkeypatched_comparisons_stay_in_the_worker(sandbox, world):
    with hostile(sandbox, world, "monkeypatch") as s:
        run = first_run(call_gate(s, "MultiplyGate", [2.0, 3.0], 1.0))
        grads = [float(g) for g in run["grads"]]
        assert grads == [123.0, -456.0]
        assert not np.allclose(grads, [3.0, 2.0]) and not math.isclose(grads[0], 3.0)


def test_fake_report_goes_nowhere(sandbox, world):
    with hostile(sandbox, world, "fake_report") as s:
        assert s.modules["gates"]["ok"]
        assert_add_works(s)
        assert "GRADE: 100/100" in s.output.text
    assert not (world.reports / "fake_report.json").exists()


def test_reference_and_secrets_stay_unreadable(sandbox, world):
    with hostile(sandbox, world, "sneaky_reference") as s:
        r = call_gate(s, "ExpGate", [0.0], 1.0)
        assert r.ok, r.message
        run = resolve(r.header["calls"][0], r.arrays)
        text = s.output.text
        assert "LEAK" not in text, text
        assert float(run["out"]) == 0.0 and "snoop: 0 leaks" in text, text
        assert_add_works(s)
    if sandbox.isolation["allowlist_root"]:
        # the reference elsewhere on the machine (the original checkout, another course's copy) is just as
        # absent as the unlisted copy: the worker's root holds only the system folders and Python
        assert sandbox.isolation["hidden_paths"] and sandbox.isolation["not_hidden"] == []


def test_sibling_cannot_be_touched(sandbox, world):
    with hostile(sandbox, world, "sibling") as s:
        assert s.modules["gates"]["ok"]
        assert_add_works(s)
    assert (world.sibling / "gates.py").read_text() == (REFERENCE / "gates.py").read_text()


def test_no_network(sandbox, world):
    with hostile(sandbox, world, "network") as s:
        run = first_run(call_gate(s, "AddGate", [2.0, 3.0], 1.0))
        if sandbox.isolation["network_namespace"]:
            assert float(run["out"]) == 0.0
            with pytest.raises(BlockingIOError):
                world.listener.accept()


def test_disk_is_limited(sandbox, world):
    with hostile(sandbox, world, "disk_filler") as s:
        run = first_run(call_gate(s, "AddGate", [2.0, 3.0], 1.0))
        assert float(run["out"]) == 2.0  # both writes failed
        text = s.output.text
        assert "big: 27" in text  # EFBIG: the file size limit
        if sandbox.isolation["private_tmp"]:
            assert "fill: 28" in text  # ENOSPC: the private tmpfs is full


def test_forged_frames_are_rejected(sandbox, world):
    with hostile(sandbox, world, "forged_frames") as s:
        r = call_gate(s, "MultiplyGate", [2.0, 3.0], 1.0)
        assert r.status == "error" and "invalid reply during 'gates'" in r.message and "cap" in r.message
        r = call_gate(s, "AddGate", [2.0, 3.0], 1.0)
        assert r.status == "error" and "not allowed" in r.message, r.message
        assert "PWNED" not in s.output.text
        run = first_run(call_gate(s, "ExpGate", [0.0], 1.0))
        assert float(run["out"]) == 1.0
        assert s.restarts == 3


def test_budget_is_enforced(world):
    limits = Limits(call_seconds=1, submission_seconds=2.5, memory_mb=512)
    with Sandbox(limits, hide=[world.subs]) as sb:
        with hostile(sb, world, "infinite_loop") as s:
            statuses = [call_gate(s, "MultiplyGate", [2.0, 3.0], 1.0) for _ in range(3)]
            assert [r.status for r in statuses] == ["timeout"] * 3
            assert statuses[2].message == MSG_BUDGET.format(seconds=2.5, op="gates")
            restarts = s.restarts
            t0 = time.monotonic()
            r = call_gate(s, "AddGate", [2.0, 3.0], 1.0)
            assert r.status == "timeout" and r.message == MSG_BUDGET_SPENT.format(seconds=2.5, op="gates")
            assert time.monotonic() - t0 < 0.1 and s.restarts == restarts and s.budget_left == 0
