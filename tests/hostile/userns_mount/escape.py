"""HOSTILE: kernel state outside every namespace the worker got. A new user namespace gives a
process all capabilities in it; there it can mount a tmpfs of its own (up to half the machine's
RAM: not counted by disk_mb or RLIMIT_AS). Also keyctl, ptrace, bpf and perf_event_open. Returns
how many of these got through (0 when each was refused). Bounded: the tmpfs is mounted with
size=8m and never written; every child exits at once."""
import ctypes
import os
import platform
import subprocess

ARCH = platform.machine()
NR = {"x86_64": {"clone": 56, "keyctl": 250, "ptrace": 101, "bpf": 321, "perf_event_open": 298},
      "aarch64": {"clone": 220, "keyctl": 219, "ptrace": 117, "bpf": 280, "perf_event_open": 241}}[ARCH]
CLONE_NEWUSER, CLONE_NEWNS, SIGCHLD = 0x10000000, 0x00020000, 17
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


def _err():
    return os.strerror(ctypes.get_errno())


def _in_child(fn):
    """Run fn in a forked child (the namespace changes stay there); True if it said it got through."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        ok = b"0"
        try:
            os.close(r)
            ok = b"1" if fn() else b"0"
        except BaseException:  # noqa: BLE001
            pass
        finally:
            os.write(w, ok)
            os._exit(0)
    os.close(w)
    got = os.read(r, 1)
    os.close(r)
    os.waitpid(pid, 0)
    return got == b"1"


def _unshare_and_mount():
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        print("unshare(CLONE_NEWUSER | CLONE_NEWNS):", _err())
        return False
    print("unshare(CLONE_NEWUSER | CLONE_NEWNS): GOT THROUGH")
    os.makedirs("/tmp/own", exist_ok=True)
    if libc.mount(b"none", b"/tmp/own", b"tmpfs", 0, b"size=8m") != 0:
        print("mount tmpfs in the new user namespace:", _err())
        return True
    print("mount tmpfs in the new user namespace: GOT THROUGH")
    return True


def run():
    through = 0
    through += _in_child(_unshare_and_mount)
    # clone with CLONE_NEWUSER (what fork would do with that flag)
    pid = libc.syscall(ctypes.c_long(NR["clone"]), ctypes.c_ulong(CLONE_NEWUSER | SIGCHLD), None, None, None, None)
    if pid == 0:
        os._exit(0)
    if pid > 0:
        print("clone(CLONE_NEWUSER): GOT THROUGH")
        os.waitpid(pid, 0)
        through += 1
    else:
        print("clone(CLONE_NEWUSER):", _err())
    try:
        p = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"], capture_output=True, timeout=5)
        print("unshare program:", p.returncode, p.stderr.decode(errors="replace").strip()[:200])
        through += p.returncode == 0
    except (OSError, subprocess.SubprocessError) as exc:
        print("unshare program:", exc)
    if libc.mount(b"none", b"/tmp", b"tmpfs", 0, b"size=8m") == 0:
        print("mount: GOT THROUGH")
        through += 1
    else:
        print("mount:", _err())
    for name, args in (("keyctl", (0, -3, 0)), ("ptrace", (0, 0, 0)), ("bpf", (0, 0, 0)),
                       ("perf_event_open", (0, 0, -1))):
        ret = libc.syscall(ctypes.c_long(NR[name]), *[ctypes.c_long(a) for a in args])
        # refused by the filter: EPERM; EFAULT/EINVAL/EBADF mean the kernel looked at the call
        errno = ctypes.get_errno() if ret < 0 else 0
        print(f"{name}: {'refused' if errno == 1 else 'reached the kernel'} ({os.strerror(errno) if errno else ret})")
        through += errno != 1
    return through
