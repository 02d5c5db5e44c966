"""The fork server's control: ``Sandbox`` (one per grader process).

``Sandbox`` starts the zygote (``inside/zygote.py``: a fork server that imported numpy once and set
up the hidden paths and the workers' allowlist root), finds what isolation its workers actually get
(``probe.py``), forks and kills workers through it (restarting it if it died), and makes a
``Session`` per submission. It talks to the zygote over a control socket (JSON messages, file
descriptors by SCM_RIGHTS); it never talks to student code itself: sessions do.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

from ..contract import MODULES
from .errors import SandboxError
from .hiding import default_hidden, is_under
from .inside import isolation
from .limits import Limits
from .messages import (
    ERR_NOT_RUNNING,
    ERR_REQUIRED,
    ERR_SANDBOX_CLOSED,
    ERR_SPAWN,
    ERR_ZYGOTE_EXIT,
    ERR_ZYGOTE_GONE,
    ERR_ZYGOTE_LOST,
    ERR_ZYGOTE_START,
)
from .probe import probe_isolation
from .session import Session

ZYGOTE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inside", "zygote.py")


class Worker:
    """A worker forked by the zygote: its ``pid``, the ``uid`` it runs as, our end of its channel
    (``sock``) and the report of its isolation set-up (``setup``: which steps took effect, and the
    errors of those that did not)."""

    def __init__(self, pid, uid, sock, setup):
        self.pid, self.uid, self.sock, self.setup = pid, uid, sock, setup


def _numpy_site():
    import numpy

    return os.path.dirname(os.path.dirname(os.path.realpath(numpy.__file__)))


class Sandbox:
    """One fork server for a grader process; makes ``Session`` objects, one per submission.

    ``hide``: more paths the workers must not see (submissions root, reports dir, assignment dir); the
    gradcheck package, the reference and the source checkout are always added (``hiding.default_hidden``).
    ``namespaces``, ``drop_privileges``, ``seccomp`` and ``cgroups`` turn isolations off (for tests of the
    degraded modes). ``require``: names of ``isolation`` keys that must be True, else ``SandboxError``
    (e.g. ("hidden_paths",) in CI). ``staging_root``: where the sandbox's own folder is made (default:
    the system's temporary folder). ``modules``: the module names a submission holds, in import order
    (the assignment's; default the default assignment's).
    """

    def __init__(
        self,
        limits=None,
        hide=(),
        *,
        namespaces=True,
        drop_privileges=True,
        staging_root=None,
        require=(),
        seccomp=True,
        cgroups=True,
        modules=MODULES,
    ):
        self.limits = limits if limits is not None else Limits()
        self.modules = tuple(modules)  # the modules a submission holds, in import order
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
                raise ValueError(
                    f"cannot hide {p}: it does not exist (create it before starting the sandbox; "
                    "only existing paths can be covered)"
                )
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
            if is_under(self._base, h):
                self.close()
                raise ValueError(f"the staging folder {self._base} lies inside hidden path {h}; pass staging_root")
        self._empty = os.path.join(self._base, ".empty")
        with open(self._empty, "w"):
            pass
        os.chmod(self._empty, 0o444)
        try:
            self._start_zygote()
            self.isolation, self._required_steps = probe_isolation(self)
        except BaseException:
            self.close()
            raise
        missing = [k for k in self.require if not self.isolation.get(k)]
        if missing:
            self.close()
            raise SandboxError(
                ERR_REQUIRED.format(
                    missing=", ".join(missing), notes="; ".join(self.isolation.get("notes", [])) or "none"
                )
            )
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
            pass_fds=[child.fileno()],
            env=env,
            cwd="/",
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        child.close()
        self._ctl = parent
        cfg = {
            "env": env,
            "numpy_site": _numpy_site(),
            "hide": self.hide,
            "keep": keep,
            "python_dirs": python_dirs,
            "empty_file": self._empty,
            "namespaces": self.namespaces,
            "drop_user": self.drop_privileges,
            "cgroups": self.cgroups,
            "parent_pid": os.getpid(),
        }
        parent.settimeout(60)
        parent.send(json.dumps(cfg).encode())
        try:
            ready = json.loads(parent.recv(1 << 16) or b"{}")
        except (OSError, ValueError) as exc:
            raise SandboxError(ERR_ZYGOTE_START.format(detail=exc)) from None
        if not ready.get("ok"):
            raise SandboxError(ERR_ZYGOTE_EXIT.format(code=self._proc.poll()))
        self.zygote_report = ready["zygote"]

    def _ctl_request(self, msg, fds=()):
        with self._lock:
            if self._ctl is None:
                raise SandboxError(ERR_SANDBOX_CLOSED)
            try:
                self._ctl.settimeout(60)
                socket.send_fds(self._ctl, [json.dumps(msg).encode()], list(fds))
                data = self._ctl.recv(1 << 16)
            except OSError as exc:
                raise SandboxError(ERR_ZYGOTE_LOST.format(detail=exc)) from None
            if not data:
                raise SandboxError(ERR_ZYGOTE_GONE.format(code=self._proc.poll()))
            return json.loads(data)

    # ---------------------------------------------------------------- workers

    @property
    def folder(self):
        """The sandbox's own folder (mode 0711, None until started, removed by ``close``): the copies of
        the submissions are made in it. Workers never see it."""
        return self._base

    def spawn(self, staging, output_fd, required=None):
        """Fork a worker for the submission copy in ``staging`` (a folder inside ``folder``); returns a
        ``Worker``. ``output_fd`` becomes its stdout and stderr (``OutputCollector.write_fd``);
        ``required``: the set-up steps that must take effect (default: those that took effect in the
        isolation probe). The worker has loaded nothing: requests go over ``worker.sock`` as
        ``protocol`` frames, and ``kill`` ends it. ``Session`` does all of this for a submission."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cfg = {
            "staging": staging,
            "limits": self.limits.to_dict(),
            "fallback_base": self._base,
            "namespaces": self.namespaces,
            "drop_user": self.drop_privileges,
            "seccomp": self.seccomp,
            "required": self._required_steps if required is None else required,
        }
        try:
            if self._proc is not None and self._proc.poll() is not None and not self._closed:
                self._restart_zygote()
            reply = self._ctl_request({"op": "spawn", "cfg": cfg}, [theirs.fileno(), output_fd])
        finally:
            theirs.close()
        if not reply.get("ok"):
            ours.close()
            raise SandboxError(reply.get("error", ERR_SPAWN))
        if reply.get("uid") is not None and reply["uid"] != os.getuid():
            self._uids.add(reply["uid"])
        return Worker(reply["pid"], reply["uid"], ours, reply.get("setup", {}))

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

    def kill(self, worker, grace=0.0):
        """End ``worker`` and everything it started (after ``grace`` seconds to exit by itself); returns
        the zygote's report of how it ended ({"ok", "exitcode", "signal", "cpu", "killed", ...})."""
        try:
            worker.sock.close()
        except OSError:
            pass
        try:
            return self._ctl_request({"op": "kill", "pid": worker.pid, "grace": grace})
        except SandboxError as exc:
            return {"ok": False, "error": str(exc)}

    # ---------------------------------------------------------------- sessions

    def session(self, submission_dir, standins=None, budget=None):
        """A ``Session`` on a private copy of ``submission_dir`` (its regular files only).

        standins: an object with ``names()`` (the gate classes to replace in module ``gates``, asked when
        a worker loads) and ``handle(request, arrays) -> (header, arrays)``, which computes them here, on
        the trusted side, when the student's code calls them (for sessions that do not grade the gates;
        see gradcheck.standins). budget: a ``Budget`` shared by all sessions of one submission (default:
        its own)."""
        if self._base is None or self._closed:
            raise SandboxError(ERR_NOT_RUNNING)
        s = Session(self, submission_dir, standins, budget)
        self._sessions.add(s)
        return s

    def forget(self, session):
        """Called by ``Session.close``: the sandbox no longer has ``session`` to close."""
        self._sessions.discard(session)

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
