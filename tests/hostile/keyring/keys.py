"""HOSTILE: kernel keyrings, which no namespace covers. Mode 'write' (the default; a file named
``mode`` in the submission says otherwise) adds a key holding a token to the session, user and
user-session keyrings; mode 'read' searches those keyrings for it (and for ``grader_key``, a key the
grader's own session may hold) and returns how many it found. Bounded: a few system calls."""
import ctypes
import os
import platform

NR = {"x86_64": {"add_key": 248, "keyctl": 250}, "aarch64": {"add_key": 217, "keyctl": 219}}[platform.machine()]
RINGS = {"session": -3, "user": -4, "user_session": -5}
KEYCTL_SEARCH = 10
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def _mode():
    try:
        with open("mode") as f:
            return f.read().strip()
    except OSError:
        return "write"


def run():
    found = 0
    for ring_name, ring in RINGS.items():
        if _mode() == "write":
            data = b"LEAKED-" + ring_name.encode()
            ret = libc.syscall(ctypes.c_long(NR["add_key"]), b"user", b"gradcheck-hostile-key", data,
                               ctypes.c_size_t(len(data)), ctypes.c_long(ring))
            print(f"add_key {ring_name}: {ret if ret >= 0 else os.strerror(ctypes.get_errno())}")
            found += ret >= 0
        else:
            for desc in (b"gradcheck-hostile-key", b"gradcheck-grader-key"):
                ret = libc.syscall(ctypes.c_long(NR["keyctl"]), ctypes.c_long(KEYCTL_SEARCH), ctypes.c_long(ring),
                                   b"user", desc, ctypes.c_long(0))
                print(f"search {ring_name} {desc.decode()}: {ret if ret >= 0 else os.strerror(ctypes.get_errno())}")
                found += ret >= 0
    try:
        with open("/proc/keys") as f:
            text = f.read()
        found += text.count("gradcheck-hostile-key") + text.count("gradcheck-grader-key") if _mode() == "read" else 0
    except OSError:
        pass
    return found
