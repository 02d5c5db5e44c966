"""The worker's main loop: read a request frame, carry it out, write one reply frame.

Runs in a process forked from the zygote, after the isolation set-up (``isolation.setup_child``), as
the top-level module ``worker``: it imports only the standard library, numpy, ``protocol`` and
``ops``. Student code runs inside ``ops.dispatch``; everything that goes back is re-encoded here and
validated again on the trusted side.

Besides the ops of ``ops.py`` the worker itself answers:
  ``ping``    -> {"pong": true}
  ``_probe``  -> what this process can see and do (uid, rlimits, namespaces, ...): the trusted side
                 uses it to record which isolations are in force, and the tests to check them.
``load`` goes to ``ops`` with two additions: before each student module starts importing the worker
sends a progress frame ``{"_progress": "import", "module": name}`` (so that a hang or a crash at
import is put on the right module), and the modules named in ``"_skip"`` are made to fail importing
with the given message (so that one module that hangs at import does not take the others with it).
"""

import os
import socket
import sys

import ops
import protocol

_encode, _decode, _read_frame = protocol.encode, protocol.decode, protocol.read_frame


class _ImportWatch:
    """A meta path finder: reports progress of the student modules' imports, blocks skipped ones.

    The student modules are those the load request named (``ops.MODULES``, set by ``ops.op_load``)."""

    def __init__(self):
        self.skip = {}
        self.send = None  # set during a load only

    def find_spec(self, name, path=None, target=None):
        if path is None and name in ops.MODULES:
            if name in self.skip:
                raise ImportError(self.skip[name])
            if self.send is not None:
                self.send({"_progress": "import", "module": name})
        return None


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a student may have replaced or closed it
            pass


def _probe(header):
    """What this process sees: answers the trusted side's isolation checks."""
    import resource

    info = {
        "pid": os.getpid(),
        "uid": os.getuid(),
        "euid": os.geteuid(),
        "gid": os.getgid(),
        "groups": os.getgroups(),
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "sys_path": list(sys.path),
    }
    st = os.stat(".")
    info["cwd_owner"], info["cwd_mode"] = st.st_uid, st.st_mode & 0o7777
    info["rlimits"] = {
        name: list(resource.getrlimit(getattr(resource, "RLIMIT_" + name)))
        for name in ("AS", "CPU", "NPROC", "FSIZE", "NOFILE", "CORE")
    }
    info["ns"] = {}
    for ns in ("mnt", "net", "ipc", "pid", "user"):
        try:
            info["ns"][ns] = os.readlink(f"/proc/self/ns/{ns}")
        except OSError as exc:
            info["ns"][ns] = f"error: {exc}"
    try:
        info["interfaces"] = sorted(name for _, name in socket.if_nameindex())
    except OSError as exc:
        info["interfaces"] = f"error: {exc}"
    try:
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
        others = []
        for p in pids:
            try:
                if os.stat(f"/proc/{p}").st_uid != os.getuid():
                    others.append(p)
            except OSError:
                pass
        info["proc_other_users"] = len(others)
    except OSError as exc:
        info["proc_other_users"] = f"error: {exc}"
    info["proc_sees_parent"] = os.path.exists(f"/proc/{os.getppid()}")
    try:
        with open("/proc/self/status") as f:
            info["no_new_privs"] = any(line.split() == ["NoNewPrivs:", "1"] for line in f)
    except OSError:
        info["no_new_privs"] = None
    info["tmp"] = sorted(os.listdir("/tmp")) if os.path.isdir("/tmp") else None
    info["tmp_writable"] = os.access("/tmp", os.W_OK) if os.path.isdir("/tmp") else None
    paths = {}
    for path in header.get("paths", []):
        entry = {"exists": os.path.lexists(path)}
        try:
            st = os.stat(path)
            entry["stat"] = [st.st_dev, st.st_ino]
        except OSError as exc:
            entry["stat"] = type(exc).__name__
        try:
            entry["listdir"] = len(os.listdir(path)) if os.path.isdir(path) else None
        except OSError as exc:
            entry["listdir"] = type(exc).__name__
        try:
            with open(path, "rb") as f:
                f.read(1)
            entry["read"] = "ok"
        except OSError as exc:
            entry["read"] = type(exc).__name__
        paths[path] = entry
    info["paths"] = paths
    info["modules"] = sorted(sys.modules)
    info["module_files"] = {name: getattr(sys.modules.get(name), "__file__", None) for name in ops.MODULES}
    return info


def main(channel_fd):
    """Serve requests on the channel until it closes; returns when the trusted side hangs up."""
    sock = socket.socket(fileno=channel_fd)
    sock.setblocking(True)
    state = ops.State()
    watch = _ImportWatch()
    sys.meta_path.insert(0, watch)

    def send(header, arrays=()):
        sock.sendall(_encode(header, arrays))

    current = [None]  # the id of the request being served

    def send_and_wait(header, arrays):
        """One frame to the trusted side within the current request, and its answer (stand-in gates)."""
        sock.sendall(_encode({**header, "_id": current[0]}, arrays))
        body = _read_frame(sock)
        if body is None:
            raise EOFError("the grader closed the channel")
        return _decode(body)

    state.remote.send_and_wait = send_and_wait

    while True:
        try:
            body = _read_frame(sock)
        except (OSError, protocol.ProtocolError):
            return
        if body is None:
            return
        rid = None
        try:
            header, arrays = _decode(body)
            rid = current[0] = header.pop("_id", None)
            op = header.get("op")
            if op == "ping":
                reply = {"pong": True}, []
            elif op == "_probe":
                reply = _probe(header), []
            elif op == "load":
                watch.skip = {str(k): str(v) for k, v in dict(header.pop("_skip", {})).items()}
                watch.send = lambda h, rid=rid: send({**h, "_id": rid})
                try:
                    reply = ops.dispatch(state, header, arrays)
                finally:
                    watch.send = None
            else:
                reply = ops.dispatch(state, header, arrays)
        except protocol.ProtocolError as exc:
            reply = {"error": f"bad request: {exc}"}, []
        except BaseException as exc:  # noqa: BLE001 - ops should not raise; keep serving if it does
            reply = {"error": f"worker error: {type(exc).__name__}: {str(exc)[:500]}"}, []
        _flush()
        out_header, out_arrays = reply
        try:
            frame = _encode({**dict(out_header), "_id": rid}, list(out_arrays))
        except BaseException as exc:  # noqa: BLE001 - e.g. a reply over the frame cap
            frame = _encode(
                {"error": f"reply could not be encoded: {type(exc).__name__}: {str(exc)[:500]}", "_id": rid}
            )
        try:
            sock.sendall(frame)
        except OSError:
            return
