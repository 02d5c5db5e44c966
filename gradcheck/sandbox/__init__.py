"""Run untrusted submissions in isolated worker processes; get plain data back.

Trusted-side API::

    from gradcheck.sandbox import Limits, Sandbox
    with Sandbox(Limits(call_seconds=10), hide=[submissions_root, reports_dir]) as sandbox:
        sandbox.isolation                      # what is actually in force on this machine
        with sandbox.session(submission_dir) as s:
            s.modules                          # the "load" reply: which modules imported, errors by name
            r = s.call({"op": "gates", "trials": [...]}, [arrays...])   # -> CallResult
            s.output, s.budget_left

One ``Sandbox`` per grader process starts a fork server (``zygote.py``) that imported numpy once; each
session forks workers from it lazily. Student code runs only in those workers; they send back JSON and
raw arrays of whitelisted dtypes (``protocol.py``), validated here. Nothing is unpickled. See README.md in this folder
for what is guaranteed where.
"""
import dataclasses
import importlib.util
import itertools
import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

from .. import text as _text
from ..errors import GradcheckError
from .inside import isolation, protocol

__all__ = ["Limits", "Sandbox", "Session", "CallResult", "Output", "SandboxError"]

HERE = os.path.dirname(os.path.abspath(__file__))
ZYGOTE = os.path.join(HERE, "inside", "zygote.py")
MODULES = ("gates", "graph", "mlp")
STAGING_SCAN_LIMIT = 100_000  # entries of a submission folder looked at (the contract's modules always)
STAGING_NAMES_KEPT = 1000  # skipped files named in Session.staged (all are counted)
ALLOWED_ENV = {"PATH", "HOME", "LANG", *isolation.BLAS_ENV}

# messages of CallResult (tests import them)
MSG_TIMEOUT = "exceeded the {seconds:g} s time limit during '{op}'"
MSG_BUDGET = "exceeded the submission's {seconds:g} s time budget during '{op}'"
MSG_BUDGET_SPENT = "the submission's {seconds:g} s time budget is spent; '{op}' was not run"
MSG_EXIT = "worker exited with code {code} during '{op}'"
MSG_SIGNAL = "worker was killed by {signal} during '{op}'"
MSG_CPU = "killed: CPU time limit {seconds:g} s during '{op}'"
MSG_MEMORY = "killed: memory limit {mb} MB during '{op}'"
MSG_MEMORY_CGROUP = "killed: memory limit {mb} MB (all of the worker's processes together) during '{op}'"
MSG_FSIZE = "killed: file size limit {mb} MB during '{op}'"
MSG_INVALID = "invalid reply during '{op}': {detail}"
MSG_TOO_BIG = ("reply of {size} bytes is more than the {cap} bytes this request's shapes allow (a value with far "
               "too many elements?); not read")
MSG_HUNG_UP = "worker closed its channel during '{op}' and did not exit"
MSG_START = "could not start a worker for '{op}': {detail}"
MSG_LOAD = "{message} (while loading the submission before '{op}')"
MSG_IMPORT_SKIPPED = "import of {module} did not finish: {reason}; not imported again"


class SandboxError(GradcheckError, RuntimeError):
    """The sandbox itself failed (could not start the zygote, a required isolation is missing)."""


# ------------------------------------------------------------------------------------------ data


@dataclasses.dataclass(frozen=True)
class Limits:
    """Limits of one submission's workers. Times in seconds, sizes in MB/KB as named."""

    call_seconds: float = 10  #: wall clock of one request (one s.call), load included separately
    submission_seconds: float = 120  #: wall clock of all of a submission's calls together
    cpu_seconds: int = 60  #: CPU time of one worker process (RLIMIT_CPU)
    memory_mb: int = 1024  #: address space of each worker process (RLIMIT_AS)
    processes: int = 32  #: processes/threads of the worker's uid (RLIMIT_NPROC)
    file_size_mb: int = 16  #: largest file a worker may write (RLIMIT_FSIZE)
    open_files: int = 64  #: file descriptors (RLIMIT_NOFILE)
    output_kb: int = 64  #: stdout+stderr kept per session (the rest is counted, not kept)
    disk_mb: int = 64  #: size of the worker's private /tmp (tmpfs, holds the working directory)
    submission_files: int = 64  #: regular files copied from a submission folder
    submission_mb: int = 8  #: bytes copied from a submission folder, all files together
    reply_mb: int = 64  #: largest reply frame accepted from a worker
    cpus: float = 1  #: CPU time per wall-clock second of all of a worker's processes together (cgroup quota)

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"Limits.{field.name} must be a positive number, got {value!r}")
        for name in ("cpu_seconds", "memory_mb", "processes", "file_size_mb", "open_files", "output_kb",
                     "disk_mb", "submission_files", "submission_mb", "reply_mb"):
            if int(getattr(self, name)) != getattr(self, name):
                raise ValueError(f"Limits.{name} must be a whole number, got {getattr(self, name)!r}")
        if self.open_files < 8:
            raise ValueError(f"Limits.open_files must be at least 8, got {self.open_files}")
        if self.memory_mb < 256:
            raise ValueError(f"Limits.memory_mb must be at least 256 (numpy alone maps ~150 MB), got {self.memory_mb}")

    def to_dict(self):
        return dataclasses.asdict(self)


@dataclasses.dataclass
class CallResult:
    """The outcome of one request."""

    status: str  #: "ok" (a reply came back and was valid), "timeout" or "error"
    header: dict | None = None  #: the reply's JSON header (ops' per-item errors are in here), None unless ok
    arrays: list = dataclasses.field(default_factory=list)  #: the reply's arrays, plain ndarrays
    message: str = ""  #: what went wrong, for the report; "" when ok
    op: str = ""  #: the request's op
    seconds: float = 0.0  #: wall clock spent on this call (worker start included)
    progress: list = dataclasses.field(default_factory=list)  #: progress frames seen (load: modules started)

    @property
    def ok(self):
        return self.status == "ok"

    def to_dict(self):
        return {"status": self.status, "message": self.message, "op": self.op, "seconds": round(self.seconds, 4)}


@dataclasses.dataclass(frozen=True)
class Output:
    """Captured stdout+stderr of a session's workers (never parsed: shown to people only)."""

    text: str  #: the first output_kb of it, decoded as UTF-8 with replacement, control characters escaped
    total_bytes: int  #: everything written, counted
    truncated: bool  #: total_bytes is more than what ``text`` holds

    def to_dict(self):
        return dataclasses.asdict(self)


class _OutputCollector:
    """Drains a pipe in a thread: keeps the first ``keep`` bytes, counts all.

    ``snapshot`` drains what is already in the pipe first, so that everything a worker wrote before
    its reply is in the snapshot taken after the reply."""

    def __init__(self, keep):
        self.read_fd, self.write_fd = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(self.read_fd, False)
        self.keep, self.buf, self.total, self.eof = keep, bytearray(), 0, False
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="sandbox-output", daemon=True)
        self.thread.start()

    def _drain(self):
        """Read what is there (caller holds the lock); False at end of stream."""
        while not self.eof:
            try:
                chunk = os.read(self.read_fd, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
                break
            self.total += len(chunk)
            room = self.keep - len(self.buf)
            if room > 0:
                self.buf += chunk[:room]
        return False

    def _run(self):
        while True:
            try:
                select.select([self.read_fd], [], [], 0.5)
            except (OSError, ValueError):
                return
            with self.lock:
                if self.read_fd is None or not self._drain():
                    return

    def snapshot(self):
        with self.lock:
            if self.read_fd is not None:
                self._drain()
            return Output(_text.safe(bytes(self.buf).decode("utf-8", "replace"), None), self.total,
                          self.total > len(self.buf))

    def close(self):
        if self.write_fd is not None:
            os.close(self.write_fd)
            self.write_fd = None
        self.thread.join(5)
        with self.lock:
            if self.read_fd is not None:
                self._drain()
                os.close(self.read_fd)
                self.read_fd = None


class _Worker:
    def __init__(self, pid, uid, sock, setup):
        self.pid, self.uid, self.sock, self.setup = pid, uid, sock, setup


class _Timeout(Exception):
    pass


class _Closed(Exception):
    pass


# --------------------------------------------------------------------------------------- sandbox


def default_hidden():
    """The gradcheck package, the reference, and the source checkout when running from one."""
    import gradcheck

    pkg = os.path.realpath(os.path.dirname(gradcheck.__file__))
    paths = [pkg]
    try:
        spec = importlib.util.find_spec("gradcheck.reference")
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        for loc in spec.submodule_search_locations or [os.path.dirname(spec.origin or "")]:
            if loc:
                paths.append(os.path.realpath(loc))
    root = os.path.dirname(pkg)
    if os.path.isfile(os.path.join(root, "pyproject.toml")) and (
        os.path.isdir(os.path.join(root, ".git")) or os.path.isdir(os.path.join(root, "reference"))
    ):
        paths.append(root)
    return paths


def _numpy_site():
    import numpy

    return os.path.dirname(os.path.dirname(os.path.realpath(numpy.__file__)))


def _sample_file(path, limit=500):
    """A regular file somewhere under ``path`` (to check that a worker cannot read it), or None."""
    if os.path.isfile(path):
        return path
    seen = 0
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if os.path.isfile(full) and not os.path.islink(full):
                return full
        seen += len(filenames) + len(dirnames)
        if seen > limit:
            break
    return None


def _under(path, root):
    return path == root or path.startswith(root.rstrip("/") + "/")


class Sandbox:
    """One fork server for a grader process; makes ``Session`` objects, one per submission.

    ``hide``: more paths the workers must not see (submissions root, reports dir, assignment dir); the
    gradcheck package, the reference and the source checkout are always added. ``namespaces`` and
    ``drop_privileges`` turn isolations off (for tests of the degraded modes). ``require``: names of
    ``isolation`` keys that must be True, else ``SandboxError`` (e.g. ("hidden_paths",) in CI).
    """

    def __init__(self, limits=None, hide=(), *, namespaces=True, drop_privileges=True, staging_root=None,
                 require=(), seccomp=True, cgroups=True):
        self.limits = limits if limits is not None else Limits()
        if not isinstance(self.limits, Limits):
            raise TypeError(f"limits must be a gradcheck.sandbox.Limits, got {type(limits).__name__}")
        if isinstance(hide, (str, os.PathLike)):
            raise TypeError("hide must be a list of paths, not one path")
        self.hide = []
        for p in [*default_hidden(), *hide]:
            real = os.path.realpath(os.fspath(p))
            if real == "/":
                raise ValueError("cannot hide /")
            if not os.path.lexists(real):
                raise ValueError(f"cannot hide {p}: it does not exist (create it before starting the sandbox; "
                                 "only existing paths can be covered)")
            if real not in self.hide:
                self.hide.append(real)
        self.namespaces, self.drop_privileges = bool(namespaces), bool(drop_privileges)
        self.seccomp, self.cgroups = bool(seccomp), bool(cgroups)
        self.staging_root, self.require = staging_root, tuple(require)
        self.isolation = {}
        self.zygote_report = {}
        self._proc = self._ctl = None
        self._lock = threading.Lock()
        self._sessions = set()
        self._uids = set()
        self._required_steps = []
        self._base = None
        self._closed = False
        self.restarts_of_zygote = 0

    # ---------------------------------------------------------------- life cycle

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        if self._base is not None:
            return self
        base = tempfile.mkdtemp(prefix="gradcheck-sandbox-", dir=self.staging_root)
        os.chmod(base, 0o711)
        self._base = os.path.realpath(base)
        for h in self.hide:
            if _under(self._base, h):
                self.close()
                raise ValueError(f"the staging folder {self._base} lies inside hidden path {h}; pass staging_root")
        self._empty = os.path.join(self._base, ".empty")
        with open(self._empty, "w"):
            pass
        os.chmod(self._empty, 0o444)
        try:
            self._start_zygote()
            self._probe()
        except BaseException:
            self.close()
            raise
        missing = [k for k in self.require if not self.isolation.get(k)]
        if missing:
            self.close()
            raise SandboxError(f"required isolation not in force on this machine: {', '.join(missing)} "
                               f"(notes: {'; '.join(self.isolation.get('notes', [])) or 'none'})")
        return self

    def _start_zygote(self):
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **isolation.BLAS_ENV}
        python_dirs = []
        for p in (sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)), _numpy_site()):
            real = os.path.realpath(p)
            if real not in python_dirs:
                python_dirs.append(real)
        keep = python_dirs + [self._base]
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", ZYGOTE, str(child.fileno())],
            pass_fds=[child.fileno()], env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        child.close()
        self._ctl = parent
        cfg = {"env": env, "numpy_site": _numpy_site(), "hide": self.hide, "keep": keep, "python_dirs": python_dirs,
               "empty_file": self._empty, "namespaces": self.namespaces, "drop_user": self.drop_privileges,
               "cgroups": self.cgroups, "parent_pid": os.getpid()}
        parent.settimeout(60)
        parent.send(json.dumps(cfg).encode())
        try:
            ready = json.loads(parent.recv(1 << 16) or b"{}")
        except (OSError, ValueError) as exc:
            raise SandboxError(f"the zygote did not start: {exc}") from None
        if not ready.get("ok"):
            raise SandboxError(f"the zygote did not start (exit code {self._proc.poll()})")
        self.zygote_report = ready["zygote"]

    def _ctl_request(self, msg, fds=()):
        with self._lock:
            if self._ctl is None:
                raise SandboxError("the sandbox is closed")
            try:
                self._ctl.settimeout(60)
                socket.send_fds(self._ctl, [json.dumps(msg).encode()], list(fds))
                data = self._ctl.recv(1 << 16)
            except OSError as exc:
                raise SandboxError(f"lost the zygote: {exc}") from None
            if not data:
                raise SandboxError(f"lost the zygote (exit code {self._proc.poll()})")
            return json.loads(data)

    def _spawn(self, staging, output_fd, required=None):
        """Fork a worker for the submission copy in ``staging``; returns a _Worker."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cfg = {"staging": staging, "limits": self.limits.to_dict(), "fallback_base": self._base,
               "namespaces": self.namespaces, "drop_user": self.drop_privileges, "seccomp": self.seccomp,
               "required": self._required_steps if required is None else required}
        try:
            if self._proc is not None and self._proc.poll() is not None and not self._closed:
                self._restart_zygote()
            reply = self._ctl_request({"op": "spawn", "cfg": cfg}, [theirs.fileno(), output_fd])
        finally:
            theirs.close()
        if not reply.get("ok"):
            ours.close()
            raise SandboxError(reply.get("error", "spawn failed"))
        if reply.get("uid") is not None and reply["uid"] != os.getuid():
            self._uids.add(reply["uid"])
        return _Worker(reply["pid"], reply["uid"], ours, reply.get("setup", {}))

    def _restart_zygote(self):
        """The zygote died (killed from outside?): sweep its workers' uids, start a new one."""
        with self._lock:
            if self._ctl is not None:
                self._ctl.close()
                self._ctl = None
            self._proc.wait()
            if os.geteuid() == 0:
                for uid in self._uids:
                    isolation.kill_uid(uid)
            self._start_zygote()
        self.restarts_of_zygote += 1

    def _kill(self, worker, grace=0.0):
        try:
            worker.sock.close()
        except OSError:
            pass
        try:
            return self._ctl_request({"op": "kill", "pid": worker.pid, "grace": grace})
        except SandboxError as exc:
            return {"ok": False, "error": str(exc)}

    def _probe(self):
        """Start one worker on an empty folder and record what isolation it actually has."""
        staging = tempfile.mkdtemp(dir=self._base)
        collector = _OutputCollector(4096)
        samples = {}
        for h in self.hide:
            samples[h] = _sample_file(h)
        paths = [p for pair in samples.items() for p in pair if p] + [self._base]  # not in the allowlist root
        setup_errors = []
        try:
            wanted = ["pid_ns", "mount_ns", "net_ns", "ipc_ns", "private_tmp", "proc_hidden"] if self.namespaces else []
            wanted += ["cgroup", "session_keyring", "seccomp"]
            w = self._spawn(staging, collector.write_fd, required=[])
            try:
                w.sock.settimeout(30)
                w.sock.sendall(protocol.encode({"op": "_probe", "paths": paths, "_id": 0}))
                body = protocol.read_frame(w.sock)
                info, _ = protocol.decode(body)
            finally:
                self._kill(w)
            self._required_steps = [s for s in wanted if w.setup.get(s)]
            setup_errors = w.setup.get("errors", [])
        finally:
            collector.close()
            shutil.rmtree(staging, ignore_errors=True)
        me = {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in ("mnt", "net", "ipc")}
        root = os.geteuid() == 0
        hidden, not_hidden = [], []
        for h, sample in samples.items():
            seen = info["paths"].get(h, {})
            read = info["paths"].get(sample, {}).get("read") if sample else None
            try:
                st = os.stat(h)
                same_dir = seen.get("stat") == [st.st_dev, st.st_ino]  # the worker sees the very same folder
            except OSError:
                same_dir = False
            # a hidden file is covered by an empty stand-in: readable, but not the same file
            unread = read != "ok" or (sample == h and os.path.isfile(h))
            (hidden if unread and not same_dir else not_hidden).append(h)
        rl = info["rlimits"]
        own_tmp = info["tmp"] == sorted({os.path.basename(isolation.WORKDIR), *self.zygote_report.get("tmp_entries", [])})
        iso = {
            "separate_process": True,
            "zygote": True,
            "unprivileged_user": root and info["uid"] >= isolation.UID_BASE and info["euid"] == info["uid"]
            and info["groups"] == [] and info["gid"] == isolation.NOBODY_GID,
            "network_namespace": info["ns"]["net"] != me["net"] and set(info["interfaces"]) <= {"lo"},
            "mount_namespace": info["ns"]["mnt"] != me["mnt"],
            "ipc_namespace": info["ns"]["ipc"] != me["ipc"],
            "hidden_paths": not not_hidden and bool(self.zygote_report.get("mount_ns")),
            "hidden": hidden,
            "not_hidden": not_hidden,
            "allowlist_root": bool(self.zygote_report.get("allowlist_root") and w.setup.get("allowlist_root"))
            and info["paths"].get(self._base, {}).get("exists") is False,
            "allowed_paths": list(self.zygote_report.get("allowed_paths", [])),
            "private_tmp": own_tmp,
            "process_list_hidden": info["proc_other_users"] == 0 and not info["proc_sees_parent"],
            "rlimits": {k.lower(): v[0] for k, v in rl.items()},
            "scrubbed_env": set(info["env"]) <= ALLOWED_ENV,
            "private_workdir": info["cwd_owner"] == info["uid"] and info["cwd_mode"] == 0o700
            and not any(_under(info["cwd"], h) for h in self.hide)
            and (own_tmp or info["uid"] >= isolation.UID_BASE),
            "no_new_privs": bool(info["no_new_privs"]),
            "pid_namespace": bool(w.setup.get("pid_ns")) and info["pid"] == 1,
            "kill_scope": " + ".join(
                (["pid namespace"] if w.setup.get("pid_ns") else [])
                + (["uid"] if root and info["uid"] >= isolation.UID_BASE else [])) or "process tree",
            "notes": list(self.zygote_report.get("notes", [])) + setup_errors,
        }
        cg = self.zygote_report.get("cgroup") or {}
        if w.setup.get("cgroup"):
            iso["cgroup"] = {"version": cg.get("version"), "memory_mb": self.limits.memory_mb,
                             "pids": self.limits.processes, "cpus": self.limits.cpus}
        else:
            iso["cgroup"] = False
            iso["notes"].append("no per-worker cgroup (" + (cg.get("why") or "joining it failed") + "): memory is "
                                "limited per process (RLIMIT_AS), not per worker; processes by RLIMIT_NPROC only; "
                                "CPU is not shared fairly between workers")
        iso["seccomp"] = bool(w.setup.get("seccomp"))
        if not iso["seccomp"]:
            iso["notes"].append("no seccomp filter: student code may create user namespaces (and mount a tmpfs of "
                                "its own in one), use keyrings, ptrace, bpf and perf_event_open where the kernel "
                                "lets an unprivileged process")
        iso["session_keyring"] = bool(w.setup.get("session_keyring"))
        if not iso["session_keyring"]:
            iso["notes"].append("workers share the grader's session keyring")
        want_rl = {"as": self.limits.memory_mb * 2**20, "cpu": self.limits.cpu_seconds,
                   "fsize": self.limits.file_size_mb * 2**20, "nofile": self.limits.open_files, "core": 0}
        iso["rlimits_in_force"] = all(iso["rlimits"][k] == v for k, v in want_rl.items())
        blocked = isolation.blocking_ancestor(os.path.realpath(sys.base_prefix))
        if iso["unprivileged_user"] and not iso["mount_namespace"] and blocked:
            iso["notes"].append(f"Python lives under {blocked}, which other users cannot enter: workers can use only "
                                "the modules the zygote imported (install Python elsewhere, e.g. /usr/local)")
        if info["uid"] == 0:
            iso["notes"].append("workers run as root: RLIMIT_NPROC is not enforced and every file the "
                                "mount namespace does not hide is readable and writable")
        if not root:
            iso["notes"].append("not running as root: workers run as the grader's own user "
                                "(no per-worker uid; RLIMIT_NPROC counts all of that user's processes)")
        self.isolation = iso
        self._probe_info = info

    # ---------------------------------------------------------------- sessions

    def session(self, submission_dir, standins=None, budget=None):
        """A ``Session`` on a private copy of ``submission_dir`` (its regular files only).

        standins: an object with ``names()`` (the gate classes to replace in module ``gates``, asked when
        a worker loads) and ``handle(request, arrays) -> (header, arrays)``, which computes them here, on
        the trusted side, when the student's code calls them (for sessions that do not grade the gates;
        see gradcheck.standins). budget: a ``Budget`` shared by all sessions of one submission (default:
        its own)."""
        if self._base is None or self._closed:
            raise SandboxError("the sandbox is not running: use it in a with block or call start()")
        s = Session(self, submission_dir, standins, budget)
        self._sessions.add(s)
        return s

    def close(self):
        if self._closed:
            return
        self._closed = True
        for s in list(self._sessions):
            s.close()
        if self._ctl is not None:
            try:
                with self._lock:
                    self._ctl.settimeout(30)
                    self._ctl.send(json.dumps({"op": "shutdown"}).encode())
                    self._ctl.recv(1 << 16)
            except OSError:
                pass
            self._ctl.close()
            self._ctl = None
        if self._proc is not None:
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if os.geteuid() == 0:  # belt and braces: nothing of a worker uid may survive the sandbox
            for uid in self._uids:
                if isolation.uid_processes(uid):
                    isolation.kill_uid(uid)
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)

    @property
    def worker_uids(self):
        """The uids workers ran as (to check that none of their processes is left)."""
        return set(self._uids)


# --------------------------------------------------------------------------------------- session


class Budget:
    """The wall-clock seconds one submission may spend in calls, shared by all its sessions."""

    def __init__(self, seconds):
        self.seconds, self.spent = float(seconds), 0.0

    @property
    def left(self):
        return max(0.0, self.seconds - self.spent)


class Session:
    """One submission: a private copy, workers forked lazily, a wall-clock budget, captured output."""

    def __init__(self, sandbox, submission_dir, standins=None, budget=None):
        self._sandbox, self.limits = sandbox, sandbox.limits
        self.submission_dir = os.fspath(submission_dir)
        if standins is not None and not (callable(getattr(standins, "names", None))
                                         and callable(getattr(standins, "handle", None))):
            raise TypeError("standins must have names() and handle(request, arrays)")
        self.standins = standins
        self.budget = budget if budget is not None else Budget(self.limits.submission_seconds)
        self._staging = tempfile.mkdtemp(prefix="s-", dir=sandbox._base)
        os.chmod(self._staging, 0o700)
        self.staged = self._stage(self.submission_dir, self._staging)
        self._output = _OutputCollector(self.limits.output_kb * 1024)
        self._worker = None
        self._skip = {}
        self._modules = None
        self.load_result = None
        self.restarts = 0  #: workers started so far (the first one included)
        self.uids = set()  #: uids this session's workers ran as
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _stage(self, src, dst):
        """Copy the regular files of ``src`` (no links, no folders) into ``dst``, within the caps.

        Never follows a link: ``src`` itself is opened with O_NOFOLLOW and every file relative to it
        (openat), so a link to the reference, a classmate or /etc is skipped, and named. The
        contract's modules are taken first, then the other files by name; whatever is not copied is
        listed in ``skipped`` (name, why; the first 1000) with names shown as text (bytes that are not
        UTF-8 as \\xNN), and counted by reason in ``skipped_counts``."""
        try:
            src_fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError as exc:
            if os.path.islink(src):
                raise FileNotFoundError(f"{os.path.basename(src)} is a symbolic link; links are not graded") from None
            raise FileNotFoundError(f"submission folder not found: {src} ({exc.strerror})") from None
        copied, skipped, counts, total = [], [], {}, 0
        cap = self.limits.submission_mb * 2**20
        contract = {f"{m}.py": i for i, m in enumerate(MODULES)}

        def skip(name, why, **extra):  # the first STAGING_NAMES_KEPT are named, all are counted
            counts[why] = counts.get(why, 0) + 1
            if len(skipped) < STAGING_NAMES_KEPT:
                skipped.append({"name": os.fsencode(name).decode("utf-8", "backslashreplace"), "why": why, **extra})

        try:
            entries = []
            with os.scandir(src_fd) as it:
                for e in it:
                    if len(entries) >= STAGING_SCAN_LIMIT and e.name not in contract:
                        skip(e.name, f"more than {STAGING_SCAN_LIMIT} entries in the folder; not looked at")
                        continue
                    entries.append((e.name, e.is_symlink(), e.is_file(follow_symlinks=False)))
            entries.sort(key=lambda e: (contract.get(e[0], len(contract)), os.fsencode(e[0])))
            for name, is_link, is_file in entries:  # links and the like first: they are named before the rest
                if is_link:
                    skip(name, "a symbolic link; links are not graded", link=True)
                elif not is_file and name != "__pycache__":   # Python's own cache: not the student's
                    skip(name, "not a regular file")
            for name, is_link, is_file in entries:
                if is_link or not is_file:
                    continue
                if len(copied) >= self.limits.submission_files:
                    skip(name, f"more than {self.limits.submission_files} files")
                    continue
                try:
                    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=src_fd)
                except OSError as exc:
                    skip(name, exc.strerror or str(exc))
                    continue
                with os.fdopen(fd, "rb") as f:
                    if not stat.S_ISREG(os.fstat(fd).st_mode):
                        skip(name, "not a regular file")
                        continue
                    data = f.read(cap - total + 1)
                if total + len(data) > cap:
                    skip(name, f"over the {self.limits.submission_mb} MB cap")
                    continue
                total += len(data)
                out = os.open(os.path.join(dst, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(out, "wb") as f:
                    f.write(data)
                copied.append(os.fsencode(name).decode("utf-8", "backslashreplace"))
        finally:
            os.close(src_fd)
        return {"files": copied, "skipped": skipped, "skipped_counts": counts, "bytes": total}

    # ---------------------------------------------------------------- properties

    @property
    def budget_left(self):
        """Seconds of the submission's wall-clock budget left (time spent inside calls counts)."""
        return self.budget.left

    @property
    def output(self):
        return self._output.snapshot()

    @property
    def modules(self):
        """The "load" reply's modules: {name: {"ok": bool, "error"?: str, "names": [...]}}.

        Loads the submission (starting a worker) if nothing was loaded yet. When the load itself
        failed (the worker hung or died at import), every module is reported with that message."""
        if self._modules is None and self.load_result is None:
            with self._lock:
                if self._worker is None and self.budget_left > 0:
                    self._start("load")
        if self._modules is not None:
            return self._modules
        if self.load_result is not None:
            message = self.load_result.message
        elif self.budget_left <= 0:
            message = MSG_BUDGET_SPENT.format(seconds=self.budget.seconds, op="load")
        else:
            message = "not loaded"
        return {name: {"ok": False, "error": message, "where": f"import {name}"} for name in MODULES}

    # ---------------------------------------------------------------- calls

    def call(self, header, arrays=(), reply_bytes=None):
        """Send one request, wait for one reply: a CallResult. Never raises for what the worker does.

        ``reply_bytes``: the largest reply accepted (default: what the request's shapes allow,
        ``replycap.reply_cap``, at most ``limits.reply_mb``); a bigger one is refused before it is
        read, and the call is an error."""
        if self._closed:
            raise SandboxError("the session is closed")
        if not isinstance(header, dict) or not isinstance(header.get("op"), str):
            raise TypeError("header must be a dict with a string 'op'")
        op = header["op"]
        if op == "load" or op.startswith("_") or "_id" in header or "_arrays" in header:
            raise ValueError(f"op {op!r} / keys _id, _arrays are managed by the session")
        if reply_bytes is None:
            from .replycap import reply_cap
            reply_bytes = reply_cap(header, arrays)
        return self._call(header, arrays, reply_bytes)

    def ping(self):
        """Round trip of the smallest request (starts and loads a worker if none is running)."""
        return self._call({"op": "ping"})

    def probe(self, paths=()):
        """What the current worker sees (uid, rlimits, namespaces, sys.modules, ``paths`` readable?).

        For tests and diagnostics: the reply comes from code running next to the student's."""
        return self._call({"op": "_probe", "paths": [os.fspath(p) for p in paths]})

    def _call(self, header, arrays=(), reply_bytes=None):
        op = header["op"]
        rid, frame = self._prepare(header, arrays)  # caller errors (a bad dtype) raise here
        with self._lock:
            t0 = time.monotonic()
            if self.budget_left <= 0:
                return CallResult("timeout", op=op,
                                  message=MSG_BUDGET_SPENT.format(seconds=self.budget.seconds, op=op))
            if self._worker is None:
                failed = self._start(op)
                if failed is not None:
                    failed.seconds = time.monotonic() - t0
                    return failed
            result = self._roundtrip(rid, frame, op, reply_bytes=reply_bytes)
            result.seconds = time.monotonic() - t0
            return result

    def _prepare(self, header, arrays):
        rid = next(self._ids)
        return rid, protocol.encode({**header, "_id": rid}, arrays)

    def _start(self, op):
        """Start a worker and load the submission; None when ready, else the failed CallResult."""
        for _ in range(len(MODULES) + 1):
            t0 = time.monotonic()
            try:
                self._worker = self._sandbox._spawn(self._staging, self._output.write_fd)
            except SandboxError as exc:
                self.budget.spent += time.monotonic() - t0
                return CallResult("error", op=op, message=MSG_START.format(op=op, detail=exc))
            self.restarts += 1
            if self._worker.uid is not None:
                self.uids.add(self._worker.uid)
            self.budget.spent += time.monotonic() - t0
            load = {"op": "load", "_skip": self._skip}
            if self.standins is not None:
                load["standins"] = {"names": [str(n) for n in self.standins.names()]}
            r = self._roundtrip(*self._prepare(load, []), "load", progress=True)
            self.load_result = r
            if r.ok:
                modules = r.header.get("modules")
                if not isinstance(modules, dict):
                    modules = {name: {"ok": False, "error": f"bad load reply: {r.header.get('error')}"}
                               for name in MODULES}
                for name, reason in self._skip.items():
                    modules[name] = {"ok": False, "error": reason, "where": f"import {name}"}
                self._modules = modules
                return None
            started = [p.get("module") for p in r.progress if p.get("_progress") == "import"]
            culprit = started[-1] if started else None
            if culprit in MODULES and culprit not in self._skip and self.budget_left > 0:
                why = r.message.replace(" during 'load'", "")
                self._skip[culprit] = MSG_IMPORT_SKIPPED.format(module=culprit, reason=why)
                continue
            r.message = MSG_LOAD.format(message=r.message, op=op)
            r.op = op
            return r
        return r

    def _roundtrip(self, rid, frame, op, progress=False, reply_bytes=None):
        w = self._worker
        limit = min(self.limits.call_seconds, self.budget_left)
        by_budget = self.budget_left < self.limits.call_seconds
        t0 = time.monotonic()
        deadline = t0 + limit
        seen = []
        try:
            try:
                self._send(w.sock, frame, deadline)
                while True:
                    body = self._recv(w.sock, deadline, reply_bytes)
                    reply, reply_arrays = protocol.decode(body)
                    # student text is made safe where it arrives (most replies hold nothing to change)
                    if not _text.json_is_safe(bytes(body[4:4 + int.from_bytes(body[:4], "big")])):
                        reply = _text.safe_tree(reply)
                    if progress and "_progress" in reply and len(seen) < 16:
                        seen.append(reply)
                        continue
                    if "_standin" in reply and self.standins is not None and reply.get("_id") == rid:
                        out, out_arrays = self.standins.handle(reply["_standin"], reply_arrays)
                        self._send(w.sock, protocol.encode({**out, "_id": rid}, out_arrays), deadline)
                        continue
                    if reply.pop("_id", None) != rid:
                        raise protocol.ProtocolError("reply does not answer this request")
                    return CallResult("ok", reply, reply_arrays, op=op, progress=seen)
            except _Timeout:
                self._kill_worker()
                template = MSG_BUDGET if by_budget else MSG_TIMEOUT
                seconds = self.budget.seconds if by_budget else self.limits.call_seconds
                return CallResult("timeout", op=op, progress=seen, message=template.format(seconds=seconds, op=op))
            except _Closed:
                info = self._kill_worker(grace=0.5)
                return CallResult("error", op=op, progress=seen, message=self._describe_exit(info, op))
            except protocol.ProtocolError as exc:
                self._kill_worker()
                return CallResult("error", op=op, progress=seen, message=MSG_INVALID.format(op=op, detail=exc))
        finally:
            self.budget.spent += time.monotonic() - t0

    def _send(self, sock, data, deadline):
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Timeout
            sock.settimeout(left)
            try:
                n = sock.send(view)
            except socket.timeout:
                raise _Timeout from None
            except OSError:
                raise _Closed from None
            view = view[n:]

    def _recv_exact(self, sock, n, deadline):
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Timeout
            sock.settimeout(left)
            try:
                k = sock.recv_into(view[got:], n - got)
            except socket.timeout:
                raise _Timeout from None
            except OSError:
                raise _Closed from None
            if k == 0:
                raise _Closed
            got += k
        return buf

    def _recv(self, sock, deadline, reply_bytes=None):
        (n,) = protocol._LEN.unpack(self._recv_exact(sock, 4, deadline))
        cap = min(self.limits.reply_mb * 2**20, protocol.MAX_FRAME)
        if n > cap:
            raise protocol.ProtocolError(f"frame of {n} bytes exceeds the {cap} byte cap")
        if reply_bytes is not None and n > reply_bytes:
            raise protocol.ProtocolError(MSG_TOO_BIG.format(size=n, cap=int(reply_bytes)))
        return self._recv_exact(sock, n, deadline)

    def _kill_worker(self, grace=0.0):
        w, self._worker = self._worker, None
        if w is None:
            return {}
        return self._sandbox._kill(w, grace)

    def _describe_exit(self, info, op):
        lim = self.limits
        if not info.get("ok"):
            return f"worker stopped answering during '{op}' ({info.get('error', 'unknown state')})"
        if info.get("exitcode") is not None:
            return MSG_EXIT.format(code=info["exitcode"], op=op)
        if info.get("killed"):
            return MSG_HUNG_UP.format(op=op)
        sig = info.get("signal")
        try:
            name = signal.Signals(sig).name
        except (ValueError, TypeError):
            name = f"signal {sig}"
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and info.get("cpu", 0) >= lim.cpu_seconds - 0.05):
            return MSG_CPU.format(seconds=lim.cpu_seconds, op=op)
        if sig == signal.SIGXFSZ:
            return MSG_FSIZE.format(mb=lim.file_size_mb, op=op)
        if info.get("oom_kills"):
            return MSG_MEMORY_CGROUP.format(mb=lim.memory_mb, op=op)
        if sig in (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS) and "MemoryError" in self.output.text[-4000:]:
            return MSG_MEMORY.format(mb=lim.memory_mb, op=op)
        return MSG_SIGNAL.format(signal=name, op=op)

    def close(self):
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._kill_worker()
        self._output.close()
        shutil.rmtree(self._staging, ignore_errors=True)
        self._sandbox._sessions.discard(self)
