"""One submission's workers: ``Session`` (made by ``Sandbox.session``).

A session works on a private copy of the submission folder (``staging.stage``), forks its workers
from the sandbox's zygote lazily (one at a time; a new one after a timeout, a crash or an invalid
reply), loads the student's modules into each (``load``: the contract's module names, those that hung
or crashed at import left out), sends requests and reads their replies within the time limits and
the submission's budget, and collects what the workers print. It never raises for what a worker does:
every request ends in a ``CallResult``.
"""

import itertools
import os
import shutil
import signal
import tempfile
import threading
import time

from .. import text as _text
from .errors import SandboxError
from .inside import protocol
from .limits import Budget
from .messages import (
    ERR_SESSION_CLOSED,
    MSG_BAD_LOAD,
    MSG_BUDGET,
    MSG_BUDGET_SPENT,
    MSG_CPU,
    MSG_EXIT,
    MSG_FSIZE,
    MSG_HUNG_UP,
    MSG_IMPORT_SKIPPED,
    MSG_INVALID,
    MSG_LOAD,
    MSG_LOST,
    MSG_MEMORY,
    MSG_MEMORY_CGROUP,
    MSG_NOT_LOADED,
    MSG_SIGNAL,
    MSG_START,
    MSG_TIMEOUT,
    MSG_TOO_BIG,
)
from .replycap import reply_cap
from .results import CallResult, OutputCollector
from .staging import stage


class _Timeout(Exception):
    pass


class _Closed(Exception):
    pass


class Session:
    """One submission: a private copy, workers forked lazily, a wall-clock budget, captured output."""

    def __init__(self, sandbox, submission_dir, standins=None, budget=None):
        self._sandbox, self.limits = sandbox, sandbox.limits
        self.submission_dir = os.fspath(submission_dir)
        if standins is not None and not (
            callable(getattr(standins, "names", None))
            and callable(getattr(standins, "request", None))
            and callable(getattr(standins, "handle", None))
        ):
            raise TypeError("standins must have names(), request() and handle(request, arrays)")
        self.standins = standins
        self.budget = budget if budget is not None else Budget(self.limits.submission_seconds)
        self._staging = tempfile.mkdtemp(prefix="s-", dir=sandbox.folder)
        os.chmod(self._staging, 0o700)
        self.staged = stage(self.submission_dir, self._staging, self.limits, sandbox.modules)
        self._output = OutputCollector(self.limits.output_kb * 1024)
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
            message = MSG_NOT_LOADED
        return {name: {"ok": False, "error": message, "where": f"import {name}"} for name in self._sandbox.modules}

    # ---------------------------------------------------------------- calls

    def call(self, header, arrays=(), reply_bytes=None):
        """Send one request, wait for one reply: a CallResult. Never raises for what the worker does.

        ``reply_bytes``: the largest reply accepted (default: what the request's shapes allow,
        ``replycap.reply_cap``, at most ``limits.reply_mb``); a bigger one is refused before it is
        read, and the call is an error."""
        if self._closed:
            raise SandboxError(ERR_SESSION_CLOSED)
        if not isinstance(header, dict) or not isinstance(header.get("op"), str):
            raise TypeError("header must be a dict with a string 'op'")
        op = header["op"]
        if op == "load" or op.startswith("_") or "_id" in header or "_arrays" in header:
            raise ValueError(f"op {op!r} / keys _id, _arrays are managed by the session")
        if reply_bytes is None:
            reply_bytes = reply_cap(header, arrays)
        return self._call(header, arrays, reply_bytes)

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
                return CallResult("timeout", op=op, message=MSG_BUDGET_SPENT.format(seconds=self.budget.seconds, op=op))
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
        for _ in range(len(self._sandbox.modules) + 1):
            t0 = time.monotonic()
            try:
                self._worker = self._sandbox.spawn(self._staging, self._output.write_fd)
            except SandboxError as exc:
                self.budget.spent += time.monotonic() - t0
                return CallResult("error", op=op, message=MSG_START.format(op=op, detail=exc))
            self.restarts += 1
            if self._worker.uid is not None:
                self.uids.add(self._worker.uid)
            self.budget.spent += time.monotonic() - t0
            load = {"op": "load", "modules": list(self._sandbox.modules), "_skip": self._skip}
            if self.standins is not None:
                load["standins"] = self.standins.request()
            r = self._roundtrip(*self._prepare(load, []), "load", progress=True)
            self.load_result = r
            if r.ok:
                modules = r.header.get("modules")
                if not isinstance(modules, dict):
                    modules = {
                        name: {"ok": False, "error": MSG_BAD_LOAD.format(error=r.header.get("error"))}
                        for name in self._sandbox.modules
                    }
                for name, reason in self._skip.items():
                    modules[name] = {"ok": False, "error": reason, "where": f"import {name}"}
                self._modules = modules
                return None
            started = [p.get("module") for p in r.progress if p.get("_progress") == "import"]
            culprit = started[-1] if started else None
            if culprit in self._sandbox.modules and culprit not in self._skip and self.budget_left > 0:
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
                    if not _text.json_is_safe(bytes(body[4 : 4 + int.from_bytes(body[:4], "big")])):
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
            except TimeoutError:
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
            except TimeoutError:
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
        return self._sandbox.kill(w, grace)

    def _describe_exit(self, info, op):
        lim = self.limits
        if not info.get("ok"):
            return MSG_LOST.format(op=op, detail=info.get("error", "unknown state"))
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
        self._sandbox.forget(self)
