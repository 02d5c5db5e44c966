"""gradcheck.sandbox: the trusted-side API, what a worker can see, start-up cost, cleanup."""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hostile_corpus import materialize

import gradcheck
from gradcheck.sandbox import CallResult, Limits, Output, Sandbox, SandboxError
from gradcheck.sandbox.hiding import is_under
from gradcheck.sandbox.inside import isolation
from gradcheck.sandbox.measure import spawn_ping

pytestmark = pytest.mark.system  # real sandbox; its few in-process tests run with it (tests/README.md)

HERE = Path(__file__).parent
REFERENCE = HERE.parent / "reference"
AS_ROOT = os.geteuid() == 0
LIMITS = Limits(call_seconds=3, submission_seconds=30, memory_mb=512, processes=16, output_kb=4)


def resolve(node, arrays):
    if isinstance(node, dict):
        return arrays[node["$a"]] if "$a" in node else {k: resolve(v, arrays) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, arrays) for v in node]
    return node


def multiply_request(x=2.0, y=3.0, dout=1.0):
    arrays = [np.asarray(x, float), np.asarray(y, float), np.asarray(dout, float)]
    call = {"cls": "MultiplyGate", "inputs": [{"$a": 0}, {"$a": 1}], "dout": {"$a": 2}}
    return {"op": "gates", "calls": [call], "order": [[0, "f"], [0, "b"]]}, arrays


def copy_submission(src, dst):
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    return dst


@pytest.fixture(scope="module")
def hidden_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("grader_files")
    (d / "answers.txt").write_text("the hidden answers")
    return d


@pytest.fixture(scope="module")
def unlisted_dir(tmp_path_factory):
    """Another copy of the reference that nobody passes in hide=, outside every temp folder (next to the
    checkout, where another checkout of the course would be): only the allowlist root keeps it out."""
    parent = REFERENCE.resolve().parent.parent
    try:
        if parent == Path("/"):
            raise OSError("the checkout is at the top level")
        d = Path(tempfile.mkdtemp(prefix=".gradcheck-decoy-", dir=parent))
    except OSError:
        d = tmp_path_factory.mktemp("decoy")
    try:
        (d / "reference").mkdir()
        shutil.copy(REFERENCE / "gates.py", d / "reference" / "gates.py")
        (d / "answers.txt").write_text("answers nobody listed")
        yield d
    finally:
        shutil.rmtree(d)


@pytest.fixture(scope="module")
def sandbox(hidden_dir):
    with Sandbox(LIMITS, hide=[hidden_dir]) as sb:
        yield sb


@pytest.fixture
def submission(tmp_path):
    return copy_submission(REFERENCE, tmp_path / "alice")


# ------------------------------------------------------------------------------------------- api


def test_limits_are_validated():
    assert Limits().call_seconds == 10 and Limits().memory_mb == 1024
    for bad in (
        {"call_seconds": 0},
        {"memory_mb": -1},
        {"processes": 2.5},
        {"output_kb": True},
        {"memory_mb": 64},
        {"open_files": 3},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Limits(**bad)
    with pytest.raises(TypeError):
        Sandbox({"call_seconds": 1})
    with pytest.raises(TypeError):
        Sandbox(LIMITS, hide="/tmp")


def test_reference_round_trip(sandbox, submission):
    with sandbox.session(submission) as s:
        assert all(s.modules[m]["ok"] for m in ("gates", "graph", "mlp")), s.modules
        assert "MultiplyGate" in s.modules["gates"]["names"]
        r = s.call(*multiply_request(2.0, 3.0, 1.0))
        assert isinstance(r, CallResult) and r.ok and r.message == ""
        run = resolve(r.header["calls"][0], r.arrays)
        assert float(run["out"]) == 6.0 and [float(g) for g in run["grads"]] == [3.0, 2.0]
        graph = {
            "op": "graph",
            "graphs": [
                {
                    "nodes": [
                        {"input": "x"},
                        {"input": "y"},
                        {"input": "z"},
                        {"gate": "AddGate", "in": [0, 1]},
                        {"gate": "MultiplyGate", "in": [3, 2]},
                    ],
                    "runs": [{"feed": {"x": {"$a": 0}, "y": {"$a": 1}, "z": {"$a": 2}}, "dout": None}],
                }
            ],
        }
        r = s.call(graph, [np.array(-2.0), np.array(5.0), np.array(-4.0)])
        run = resolve(r.header["graphs"][0]["runs"][0], r.arrays)
        assert float(run["out"]) == -12.0
        assert {k: float(v) for k, v in run["grads"].items()} == {"x": -4.0, "y": -4.0, "z": 3.0}
        X, y = np.random.default_rng(0).standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
        r = s.call(
            {
                "op": "mlp",
                "sizes": [3, 4, 2],
                "activation": "tanh",
                "seed": 0,
                "script": [{"loss": [{"$a": 0}, {"$a": 1}]}, {"params": True}],
            },
            [X, y],
        )
        assert r.ok and "loss" in r.header["results"][0]
        assert s.output == Output("", 0, False)
        assert 0 < s.budget_left <= LIMITS.submission_seconds


def test_call_rejects_caller_mistakes(sandbox, submission):
    with sandbox.session(submission) as s:
        for header in ({"op": "load"}, {"op": "_probe"}, {"nop": 1}, {"op": "gates", "_id": 3}):
            with pytest.raises((ValueError, TypeError)):
                s.call(header)
        with pytest.raises(TypeError):
            s.call({"op": "gates", "calls": [], "order": []}, [np.array(["text"])])
    with pytest.raises(FileNotFoundError):
        sandbox.session(submission.parent / "nobody")


def test_worker_imports_nothing_of_the_grader(sandbox, submission):
    """In a worker: no gradcheck package module, no reference; gates is the submission's own file."""
    with sandbox.session(submission) as s:
        r = s.probe()
        assert r.ok, r.message
        info = r.header
    bad = [m for m in info["modules"] if m.split(".")[0] in ("gradcheck", "reference")]
    assert bad == []
    assert info["module_files"]["gates"] == os.path.join(info["cwd"], "gates.py")
    assert info["module_files"]["mlp"] == os.path.join(info["cwd"], "mlp.py")
    assert info["sys_path"][0] == info["cwd"]
    assert not any("gradcheck" in p or p.rstrip("/").endswith("/reference") for p in info["sys_path"])
    assert "ops" in info["modules"] and "protocol" in info["modules"]


def test_isolation_in_force(sandbox, hidden_dir, unlisted_dir, submission):
    iso = sandbox.isolation
    assert iso["separate_process"] and iso["scrubbed_env"] and iso["rlimits_in_force"]
    assert iso["rlimits"]["as"] == LIMITS.memory_mb * 2**20 and iso["rlimits"]["core"] == 0
    if not AS_ROOT:
        pytest.skip("privilege drop and namespaces are checked when running as root")
    for key in (
        "unprivileged_user",
        "network_namespace",
        "mount_namespace",
        "hidden_paths",
        "private_tmp",
        "process_list_hidden",
        "private_workdir",
        "no_new_privs",
        "pid_namespace",
        "allowlist_root",
    ):
        assert iso[key] is True, (key, iso)
    assert str(hidden_dir) in iso["hidden"] and iso["kill_scope"] == "pid namespace + uid"
    assert os.path.realpath(sys.base_prefix) in iso["allowed_paths"] or "/usr" in iso["allowed_paths"]
    pkg = Path(gradcheck.__file__).resolve().parent
    secrets = [
        hidden_dir / "answers.txt",
        pkg / "__init__.py",
        REFERENCE / "gates.py",
        pkg / "sandbox" / "ops.py",
        unlisted_dir / "reference" / "gates.py",
        unlisted_dir / "answers.txt",
    ]
    with sandbox.session(submission) as s:
        info = s.probe(secrets + [hidden_dir]).header
    assert info["uid"] >= isolation.UID_BASE and info["euid"] == info["uid"] and info["groups"] == []
    for path in secrets:
        assert info["paths"][str(path)]["read"] != "ok", path
    assert info["paths"][str(hidden_dir)]["listdir"] in (0, "PermissionError", None)
    assert set(info["env"]) == {"PATH", "HOME", "LANG", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"}
    assert info["interfaces"] == ["lo"]


def test_worker_sees_only_the_allowlist_root(sandbox, unlisted_dir, submission):
    """Nothing but the system folders, the Python installation and its own temp folders exists for a
    worker: not the checkout, not another copy of the reference that no one listed, not /home or /opt."""
    if not sandbox.isolation.get("allowlist_root"):
        pytest.skip(f"no allowlist root here: {sandbox.isolation['notes']}")
    repo = REFERENCE.resolve().parent
    host = [
        repo,
        repo / "tests",
        repo.parent,
        unlisted_dir,
        unlisted_dir / "reference" / "gates.py",
        Path(sandbox.folder),
        *(Path(p) for p in ("/home", "/srv", "/opt", "/mnt", "/var/lib", "/run", "/sys", "/boot", "/work")),
    ]
    host = [
        p
        for p in host
        if p.exists()
        and not any(is_under(str(p), a) or is_under(a, str(p)) for a in sandbox.isolation["allowed_paths"])
    ]
    python = [
        Path(sys.base_prefix).resolve() / "lib",
        Path(np.__file__).resolve(),
        Path("/usr/bin"),
        Path("/etc/passwd"),
    ]
    with sandbox.session(submission) as s:
        info = s.probe(host + python + [Path("/dev/null"), Path("/dev/urandom")]).header
    assert host and all(not info["paths"][str(p)]["exists"] for p in host), {
        str(p): info["paths"][str(p)] for p in host if info["paths"][str(p)]["exists"]
    }
    assert all(info["paths"][str(p)]["exists"] for p in python)
    assert info["paths"]["/dev/null"]["read"] == "ok" and info["paths"]["/dev/urandom"]["read"] == "ok"
    assert info["tmp"] == sorted({"submission", *sandbox.zygote_report["tmp_entries"]})


def test_hidden_paths_inside_the_allowlist_stay_hidden(tmp_path):
    """hide= still counts inside an allowed folder: a package of the Python installation can be hidden."""
    import _pytest

    pkg_dir = Path(_pytest.__file__).resolve().parent
    a_file = Path(pytest.__file__).resolve().parent / "__main__.py"
    sub = copy_submission(REFERENCE, tmp_path / "dave")
    with Sandbox(LIMITS, hide=[pkg_dir, a_file]) as sb:
        iso = sb.isolation
        if not AS_ROOT or not iso.get("mount_namespace"):
            pytest.skip("needs mount namespaces")
        assert iso["hidden_paths"] and {str(pkg_dir), str(a_file)} <= set(iso["hidden"]), iso
        with sb.session(sub) as s:
            assert s.call(*multiply_request()).ok
            info = s.probe([pkg_dir / "__init__.py", a_file, Path(np.__file__).resolve()]).header
    assert info["paths"][str(pkg_dir / "__init__.py")]["read"] != "ok"
    assert info["paths"][str(a_file)]["read"] == "ok" and info["paths"][str(a_file)]["stat"] != list(
        (a_file.stat().st_dev, a_file.stat().st_ino)
    )  # an empty file stands in for it
    assert info["paths"][str(Path(np.__file__).resolve())]["read"] == "ok"


LAZY_IMPORTS = """
import collections, decimal, fractions, functools, itertools, json, math, random, statistics
import csv, heapq, string, dataclasses, copy, pprint, difflib, unittest
import numpy.linalg, numpy.random, numpy.testing, numpy.fft, numpy.polynomial

AT_IMPORT = float(fractions.Fraction(1, 3) * 3) + statistics.mean([1, 2, 3]) - 2  # 1.0


class ExpGate:
    def forward(self, x):
        import bisect, fractions, statistics, decimal, textwrap, uuid
        import numpy.testing as npt
        from numpy.polynomial import polynomial
        npt.assert_allclose(numpy.linalg.inv(numpy.eye(2)), numpy.eye(2))
        rng = numpy.random.default_rng(0)
        v = rng.standard_normal(3)
        total = (AT_IMPORT + float(fractions.Fraction(1, 2)) + statistics.median([1, 5, 3])
                 + float(decimal.Decimal("0.25")) + bisect.bisect([1, 2, 3], 2)
                 + float(numpy.fft.fft(numpy.ones(4))[0].real) + float(polynomial.polyval(2.0, [1, 1]))
                 + len(json.dumps(collections.OrderedDict(a=1))) + math.factorial(3)
                 + functools.reduce(lambda a, b: a + b, itertools.repeat(1, 2)) + float(v.shape[0]))
        self.x = numpy.asarray(x, dtype=float)
        return numpy.asarray(total + 0 * self.x)

    def backward(self, dz):
        return [numpy.zeros_like(self.x)]
"""


def test_student_code_imports_stdlib_and_numpy_modules_lazily(sandbox, tmp_path):
    """Modules the zygote never imported load from the (read-only) Python installation, at import and later."""
    with sandbox.session(REFERENCE) as s:
        preloaded = set(s.probe().header["modules"])
    lazy = [
        m
        for m in (
            "fractions",
            "decimal",
            "statistics",
            "csv",
            "numpy.testing",
            "numpy.fft",
            "numpy.polynomial",
            "unittest",
            "difflib",
            "uuid",
        )
        if m not in preloaded
    ]
    assert len(lazy) >= 5, lazy  # the test would prove nothing if the zygote had imported them all
    sub = copy_submission(REFERENCE, tmp_path / "erin")
    (sub / "gates.py").write_text((sub / "gates.py").read_text() + LAZY_IMPORTS)
    with sandbox.session(sub) as s:
        assert s.modules["gates"]["ok"], s.modules["gates"]
        r = s.call(
            {
                "op": "gates",
                "calls": [{"cls": "ExpGate", "inputs": [{"$a": 0}], "dout": {"$a": 1}}],
                "order": [[0, "f"], [0, "b"]],
            },
            [np.array(0.0), np.array(1.0)],
        )
        run = resolve(r.header["calls"][0], r.arrays)
        assert "error" not in run, (run, s.output.text)
    expected = 1.0 + 0.5 + 3 + 0.25 + 2 + 4.0 + 3.0 + len('{"a": 1}') + 6 + 2 + 3
    assert float(run["out"]) == expected


def _in_private_mount_namespace(fn):
    """Run ``fn`` in a forked child that has its own mount namespace (never touches the host's); its JSON result."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            isolation.unshare(isolation.CLONE_NEWNS)
            isolation.mount(None, "/", None, isolation.MS_REC | isolation.MS_PRIVATE)
            os.write(w, json.dumps(fn()).encode())
            code = 0
        except BaseException as exc:  # noqa: BLE001
            os.write(w, json.dumps({"error": repr(exc)}).encode())
        finally:
            os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data)


@pytest.mark.skipif(not AS_ROOT, reason="mount namespaces of the test process need root")
def test_allowlist_root_is_built_and_tested_or_reported(tmp_path):
    (tmp_path / ".empty").write_text("")
    numpy_site = str(Path(np.__file__).resolve().parent.parent)

    def build(allowed):
        def fn():
            report = {"notes": []}
            isolation.setup_allowlist_root({"empty_file": str(tmp_path / ".empty"), "allowed": allowed}, report)
            report["mounted"] = os.path.ismount(tmp_path / ".root")
            return report

        return fn

    good = _in_private_mount_namespace(build([os.path.realpath(sys.base_prefix), numpy_site]))
    assert good["allowlist_root"] is True and good["mounted"] and good["notes"] == [], good
    assert "/usr" in good["allowed_paths"] and os.path.realpath(sys.base_prefix) in good["allowed_paths"] + ["/usr"]
    # a folder that holds a per-worker temp folder cannot be bound: no root, today's behaviour, and a note
    bad = _in_private_mount_namespace(build(["/var"]))
    assert bad["allowlist_root"] is False and not bad["mounted"], bad
    assert "no allowlist root" in bad["notes"][0] and "minus the hidden paths" in bad["notes"][0]
    assert not (tmp_path / ".root").exists() or not os.listdir(tmp_path / ".root")


def test_output_is_captured_and_capped(sandbox, tmp_path):
    sub = copy_submission(REFERENCE, tmp_path / "chatty")
    gates = sub / "gates.py"
    gates.write_text(gates.read_text() + "\nprint('hello from gates')\nimport sys\nsys.stderr.write('x' * 10000)\n")
    with sandbox.session(sub) as s:
        assert s.modules["gates"]["ok"]
        assert s.call(*multiply_request()).ok
        out = s.output
    assert out.text.startswith("hello from gates\n") and out.truncated
    assert out.total_bytes == len("hello from gates\n") + 10000
    assert len(out.text) == LIMITS.output_kb * 1024


def test_crash_restarts_with_load_replayed(sandbox, tmp_path):
    sub = materialize("os_exit_backward", tmp_path / "crashy")
    with sandbox.session(sub) as s:
        bad = s.call(*multiply_request())
        assert bad.status == "error" and "exited with code 3" in bad.message
        header, arrays = multiply_request()
        header["calls"][0]["cls"] = "AddGate"
        good = s.call(header, arrays)
        assert good.ok and s.restarts == 2 and s.modules["gates"]["ok"]
        assert len(s.uids) == (2 if AS_ROOT else 1)


def test_no_process_survives_the_sandbox(tmp_path):
    sub = materialize("many_children", tmp_path / "forky")
    with Sandbox(LIMITS) as sb:
        zygote = sb._proc.pid
        s = sb.session(sub)
        header, arrays = multiply_request()
        header["calls"][0]["cls"] = "AddGate"
        assert s.call(header, arrays).ok
        uids = sb.worker_uids
        if AS_ROOT:
            assert any(isolation.uid_processes(uid) for uid in uids)  # sleepers alive, session still open
    assert sb._proc.poll() is not None and not os.path.exists(f"/proc/{zygote}")
    assert not os.path.exists(sb.folder)  # the private copies are gone too
    if AS_ROOT:
        assert uids and not any(isolation.uid_processes(uid) for uid in uids)
    # no zombie left among this process's children
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    assert str(zygote) not in children


def test_degraded_mode_still_works_and_says_so(tmp_path):
    sub = copy_submission(REFERENCE, tmp_path / "bob")
    with Sandbox(LIMITS, namespaces=False, drop_privileges=False) as sb:
        iso = sb.isolation
        assert iso["network_namespace"] is False and iso["hidden_paths"] is False
        assert iso["unprivileged_user"] is False and iso["kill_scope"] == "process tree"
        assert iso["notes"]
        with sb.session(sub) as s:
            assert s.call(*multiply_request()).ok
        with pytest.raises(SandboxError, match="hidden_paths"):
            Sandbox(LIMITS, namespaces=False, require=["hidden_paths"]).start()


def test_degraded_mode_kills_the_process_tree(tmp_path):
    sub = materialize("many_children", tmp_path / "forky")
    with Sandbox(LIMITS, namespaces=False, drop_privileges=False) as sb:
        with sb.session(sub) as s:
            header, arrays = multiply_request()
            header["calls"][0]["cls"] = "AddGate"
            r = s.call(header, arrays)
            assert r.ok
            (pid,) = [s._worker.pid]
        table = isolation._proc_table()
        left = {p: table[p] for p in table if table[p][0] in (sb._proc.pid, pid)}
        assert left == {}, {p: (v, Path(f"/proc/{p}/cmdline").read_bytes()[:80]) for p, v in left.items()}


def test_staging_inside_a_hidden_path_is_refused(tmp_path):
    with pytest.raises(ValueError, match="staging"):
        Sandbox(LIMITS, hide=[tmp_path], staging_root=tmp_path).start()


def test_startup_is_cheap(sandbox):
    """Fork+isolate+ping from the zygote costs at most 1/5 of a fresh ``python -c 'import numpy'``."""
    fresh = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import numpy"], check=True)
        fresh.append(time.perf_counter() - t0)
    up, _ = spawn_ping(sandbox, 10)
    ratio = statistics.median(up) / statistics.median(fresh)
    print(
        f"spawn+ping {statistics.median(up) * 1000:.1f} ms, fresh numpy {statistics.median(fresh) * 1000:.1f} ms, "
        f"ratio {ratio:.3f}"
    )
    assert ratio <= 0.2


def test_a_dead_zygote_is_replaced(tmp_path):
    sub = copy_submission(REFERENCE, tmp_path / "carol")
    with Sandbox(LIMITS) as sb:
        with sb.session(sub) as s:
            assert s.call(*multiply_request()).ok
            os.kill(sb._proc.pid, 9)
            sb._proc.wait()
            r = s.call(*multiply_request())  # the worker died with its zygote
            assert r.status == "error"
            assert s.call(*multiply_request()).ok and sb.restarts_of_zygote == 1


def test_hidden_paths_must_exist(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        Sandbox(LIMITS, hide=[tmp_path / "reports-not-made-yet"])


def test_overlay_plan(tmp_path):
    """Hidden paths get an empty tmpfs; kept folders inside them are bound back; nested ones skipped."""
    for d in ("repo/.venv/lib", "repo/reference", "repo/src/pkg", "subs/a", "outside"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "answers.txt").write_text("x")
    t = str(tmp_path)
    hide = [f"{t}/repo", f"{t}/repo/reference", f"{t}/repo/.venv/lib/pkg-missing", f"{t}/subs", f"{t}/answers.txt"]
    overlays, notes = isolation.plan_overlays(hide, [f"{t}/repo/.venv"], as_root=False)
    assert overlays == [
        (f"{t}/answers.txt", False, []),
        (f"{t}/repo", True, [f"{t}/repo/.venv"]),
        (f"{t}/subs", True, []),
    ]
    assert any("does not exist" in n for n in notes) and any(".venv stays visible" in n for n in notes)
    # a hidden folder that is itself needed by the worker is not hidden, and says so
    overlays, notes = isolation.plan_overlays([f"{t}/repo/.venv"], [f"{t}/repo/.venv"], as_root=False)
    assert overlays == [] and "not hidden" in notes[0]


def test_sessions_in_threads(sandbox, tmp_path):
    """One Sandbox, several sessions used at the same time from threads (as a --jobs grader may)."""
    import concurrent.futures

    subs = [copy_submission(REFERENCE, tmp_path / f"s{i}") for i in range(4)]

    def grade(sub):
        with sandbox.session(sub) as s:
            results = [s.call(*multiply_request(float(i), 2.0, 1.0)) for i in range(10)]
            return [float(resolve(r.header["calls"][0], r.arrays)["out"]) for r in results]

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        outs = list(pool.map(grade, subs))
    assert outs == [[2.0 * i for i in range(10)]] * 4
