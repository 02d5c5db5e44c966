"""The fork server: imports numpy once, then forks one worker per request (run as a script).

Started by the trusted side (``gradcheck.sandbox.Sandbox``) as
``python -I -S -B zygote.py <control fd>``: no site, no user paths, no ``gradcheck`` package. It puts
only this folder and the standard library on ``sys.path`` (plus numpy's site directory), imports
numpy (with one BLAS thread), ``protocol``, ``ops``, ``worker`` and ``isolation``,
sets up its mount namespace with the hidden paths and the workers' allowlist root (the system folders
and the Python installation only; ``isolation.setup_zygote``), then serves requests
on the control socket (AF_UNIX SOCK_SEQPACKET, JSON messages, file descriptors by SCM_RIGHTS):

  {"op": "spawn", "cfg": {...}} + [channel fd, output fd]
        -> {"ok": true, "pid": pid, "uid": uid, "setup": {...}} | {"ok": false, "error": "..."}
  {"op": "kill", "pid": pid, "grace": seconds}
        -> {"ok": true, "status": wait status, "exitcode": n|null, "signal": n|null, "cpu": s, "maxrss_kb": n,
            "killed": whether it had to be killed (it had not exited by itself within grace)}
  {"op": "shutdown"} -> kills every worker, replies, exits. End of stream on the control socket: same.

Trusted code only: student code runs in the forked children after ``isolation.setup_child``. The
zygote is a child subreaper, so workers' orphaned descendants are reparented to it and reaped here.
"""

import json
import os
import select
import signal
import socket
import sys
import time

MAX_MSG = 1 << 16


def _boot():
    cfg_fd = int(sys.argv[1])
    ctl = socket.socket(fileno=cfg_fd)
    msg = ctl.recv(MAX_MSG)
    cfg = json.loads(msg)
    for key, value in cfg["env"].items():
        os.environ[key] = value
    here = os.path.dirname(os.path.abspath(__file__))
    stdlib = [p for p in sys.path if p and os.path.abspath(p) != here]
    sys.path[:] = [here] + stdlib + [cfg["numpy_site"]]
    return ctl, cfg, stdlib


CTL, CFG, STDLIB = _boot()

import importlib  # noqa: E402,F401
import io  # noqa: E402,F401
import resource  # noqa: E402
import tempfile  # noqa: E402,F401
import traceback  # noqa: E402
import types  # noqa: E402,F401

import isolation  # noqa: E402
import numpy  # noqa: E402  (after the BLAS thread variables are set)
import numpy.linalg  # noqa: E402
import numpy.random  # noqa: E402  (lazy in numpy 2: import once here, not in every worker)
import protocol  # noqa: E402,F401
import worker  # noqa: E402

WORKERS = {}  # pid -> uid, live workers
EXITED = {}  # pid -> (status, rusage) of workers reaped before the trusted side asked


def _reap():
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in WORKERS:
            EXITED[pid] = (status, usage)


def _wait_worker(pid, timeout):
    """Reap ``pid`` (and whatever else exited); its (status, rusage) or None after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        _reap()
        if pid in EXITED:
            return EXITED.pop(pid)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.002)


def _orphans():
    """Live children of the zygote that are not workers: descendants of dead workers."""
    return [
        p
        for p, (ppid, _, state) in isolation._proc_table().items()
        if ppid == os.getpid() and p not in WORKERS and state != "Z"
    ]


def _kill_worker(pid, grace):
    """Let the worker exit by itself for ``grace`` s, then SIGKILL it with everything it started."""
    uid = WORKERS.get(pid)
    if uid is None:
        return {"ok": False, "error": f"no worker {pid}"}
    result = _wait_worker(pid, grace) if grace > 0 else None
    killed = result is None and pid not in EXITED
    if killed:
        # not reaped yet: pid and process group ``pid`` can only be this worker's (it is a session leader)
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
    left = []
    if uid is not None and uid >= isolation.UID_BASE and os.geteuid() == 0:
        if result is None:
            result = _wait_worker(pid, 10.0)  # the worker first: then usually nothing else is left
        if not isolation.kill_uid(uid):
            left = isolation.uid_processes(uid)

        def gone():
            return not isolation.uid_processes(uid, zombies=True)
    else:
        # no uid of its own: stop and kill the worker's tree, then whatever got reparented to this
        # subreaper (a fork may complete after a scan), until two scans in a row find nothing
        stopped = set(isolation.kill_tree(pid, _orphans())) - {pid}
        quiet = 0
        for _ in range(200):
            _reap()
            more = set(isolation.kill_tree(None, _orphans())) if _orphans() else set()
            stopped |= more
            quiet = 0 if more else quiet + 1
            if quiet >= 2:
                break
            time.sleep(0.002)

        def gone():
            return not stopped & set(isolation._proc_table())

    if result is None:
        result = _wait_worker(pid, 10.0)
    # the worker's cgroup: whatever is still in it is killed; the kernel's memory kills are counted
    oom_kills = isolation.worker_cgroup_done(CGROUPS, f"w{pid}")
    deadline = time.monotonic() + 2.0  # reap what was killed: the orphans are this process's children
    while True:
        _reap()
        if gone() or time.monotonic() > deadline:
            break
        time.sleep(0.002)
    del WORKERS[pid]
    if result is None:
        return {"ok": False, "error": f"worker {pid} did not die"}
    status, usage = result
    return {
        "ok": True,
        "status": status,
        "exitcode": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_kb": usage.ru_maxrss,
        "left": left,
        "killed": killed,
        "oom_kills": oom_kills,
    }


def _worker_process(cfg, channel_fd, out_fd, w):
    """In the worker (B): isolation set-up, report on ``w``, then the worker loop. Never returns."""
    code = 70
    try:
        report = {"pid_ns": cfg["pid_ns"]}
        try:
            isolation.setup_child(cfg, [channel_fd, out_fd, w], report)
            isolation.redirect_output(out_fd)
            os.write(w, json.dumps({"ok": True, "setup": report}).encode())
        except BaseException as exc:
            os.write(
                w,
                json.dumps(
                    {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:2000]}", "setup": report}
                ).encode(),
            )
            raise
        os.close(w)
        try:
            worker.main(channel_fd)
            code = 0
        except BaseException:  # noqa: BLE001 - the worker loop itself failed: say why on stderr
            traceback.print_exc()
            sys.stderr.flush()
    finally:
        os._exit(code)


def _read_all(fd, timeout):
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, MAX_MSG)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks)


def _spawn(cfg, fds):
    """Fork A; A enters a new pid namespace and forks the worker B (pid 1 there), reports B's pid, exits.

    B is reparented to this process (a child subreaper). Killing B kills its whole pid namespace:
    every process the student started, setsid or not."""
    channel_fd, out_fd = fds
    pr, pw = os.pipe()  # A -> zygote: the worker's pid
    r, w = os.pipe()  # worker -> zygote: its set-up report
    use_ns = bool(ZYGOTE_REPORT["mount_ns"] and cfg.get("namespaces", True))
    cfg = {
        **cfg,
        "sys_path": STDLIB + [CFG["numpy_site"]],
        "tmp_dirs": TMP_DIRS,
        "namespaces": use_ns,
        "python_dirs": CFG.get("python_dirs", []),
        "cgroup": CGROUPS,
        "new_root": ZYGOTE_REPORT.get("root") if ZYGOTE_REPORT["allowlist_root"] else None,
        "root_keep": ZYGOTE_REPORT.get("root_keep", []),
    }
    a = os.fork()
    if a == 0:  # --------------------------------------------------------------------------- A
        code = 70
        try:
            os.close(pr)
            os.close(r)
            os.close(CTL.detach())
            pid_ns = False
            if use_ns:
                try:
                    isolation.unshare(isolation.CLONE_NEWPID)
                    pid_ns = True
                except OSError:
                    pass
            a_pid = os.getpid()
            b = os.fork()
            if b == 0:
                os.close(pw)
                # wait until A is gone and this process belongs to the zygote: the parent-death signal
                # set later must follow the zygote, not A
                deadline = time.monotonic() + 5
                while isolation.global_ppid() == a_pid and time.monotonic() < deadline:
                    time.sleep(0.0002)
                _worker_process({**cfg, "pid_ns": pid_ns}, channel_fd, out_fd, w)
            os.write(pw, json.dumps({"pid": b}).encode())
            code = 0
        finally:
            os._exit(code)
    # --------------------------------------------------------------------------------- zygote
    os.close(pw)
    os.close(w)
    for fd in fds:
        os.close(fd)
    os.waitpid(a, 0)
    try:
        pid = json.loads(_read_all(pr, 5))["pid"]
    except (ValueError, KeyError):
        os.close(r)
        return {"ok": False, "error": "could not fork a worker"}
    WORKERS[pid] = None
    try:
        reply = json.loads(_read_all(r, 20))
    except ValueError:
        reply = {"ok": False, "error": "worker set-up ended without a report"}
    WORKERS[pid] = reply.get("setup", {}).get("uid")
    if not reply.get("ok"):
        _kill_worker(pid, 0)
        return reply
    return {"ok": True, "pid": pid, "uid": WORKERS[pid], "setup": reply["setup"]}


def _shutdown():
    for pid in list(WORKERS):
        _kill_worker(pid, 0)
    isolation.remove_cgroups(CGROUPS)


def _serve():
    while True:
        ready, _, _ = select.select([CTL], [], [], 0.5)
        _reap()
        if not ready:
            if os.getppid() != PARENT:
                break
            continue
        try:
            msg, fds, _, _ = socket.recv_fds(CTL, MAX_MSG, 4)
        except OSError:
            break
        if not msg:
            break
        try:
            req = json.loads(msg)
            op = req.get("op")
            if op == "spawn":
                reply = _spawn(req["cfg"], fds)
            elif op == "kill":
                reply = _kill_worker(req["pid"], float(req.get("grace", 0)))
            elif op == "shutdown":
                _shutdown()
                CTL.send(json.dumps({"ok": True}).encode())
                return
            else:
                reply = {"ok": False, "error": f"unknown op {op!r}"}
        except Exception as exc:  # noqa: BLE001 - report, keep serving
            reply = {"ok": False, "error": f"zygote: {type(exc).__name__}: {exc}"}
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
        CTL.send(json.dumps(reply).encode())
    _shutdown()


if __name__ == "__main__":
    PARENT = CFG.get("parent_pid") or os.getppid()
    try:
        isolation.prctl(isolation.PR_SET_PDEATHSIG, signal.SIGKILL)  # the grader's end is this process's end
        isolation.prctl(isolation.PR_SET_CHILD_SUBREAPER, 1)
    except OSError:
        pass
    if os.getppid() != PARENT:  # the grader ended before the signal was armed
        os._exit(1)
    TMP_DIRS = isolation.world_writable_dirs()
    _t0 = time.perf_counter()
    # per-worker cgroups: made before the zygote's own namespaces (a user namespace could not write them)
    CGROUPS = isolation.setup_cgroups(CFG.get("cgroups", True))
    # what a worker's allowlist root holds besides the system folders: the Python installation, the
    # standard library and numpy's site directory (never this folder, the gradcheck package)
    ALLOWED = list(CFG.get("python_dirs", []))
    for p in STDLIB + [CFG["numpy_site"]]:
        if os.path.isdir(p) and os.path.realpath(p) not in ALLOWED:
            ALLOWED.append(os.path.realpath(p))
    ZYGOTE_REPORT = isolation.setup_zygote({**CFG, "allowed": ALLOWED})
    ZYGOTE_REPORT["setup_seconds"] = round(time.perf_counter() - _t0, 6)
    ZYGOTE_REPORT["numpy"] = numpy.__version__
    ZYGOTE_REPORT["pid"] = os.getpid()
    ZYGOTE_REPORT["cgroup"] = {
        "version": CGROUPS.get("version"),
        "why": CGROUPS.get("why"),
        "dirs": CGROUPS.get("dirs", {}),
    }
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    import gc

    gc.collect()
    gc.freeze()  # keep the imported modules' pages shared with the workers
    CTL.send(json.dumps({"ok": True, "zygote": ZYGOTE_REPORT}).encode())
    _serve()
