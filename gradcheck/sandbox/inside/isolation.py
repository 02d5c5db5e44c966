"""Process isolation: namespaces, hidden paths, rlimits, privilege drop, cleanup (Linux, stdlib only).

Imported by the zygote as the top-level module ``isolation`` (and by the trusted side as
``gradcheck.sandbox.isolation``): it must not import anything from the ``gradcheck`` package.

Two set-ups:
- ``setup_zygote`` runs once in the zygote: a mount namespace (plus a user namespace when not root)
  in which every hidden path is covered by an empty read-only tmpfs; directories the worker needs (the
  Python installation) are bound back where a hidden or unreadable directory covers them. Then it
  builds the workers' *allowlist root* (``build_root``): a fresh tmpfs holding only the system
  directories (``/usr``, ``/etc``, ``/bin``...), a minimal ``/dev``, and the Python installation,
  all bound read-only at their own paths. Everything else on the machine does not exist in it.
- ``setup_child`` runs in each forked worker before any student code: new session, per-worker mount,
  network and IPC namespaces, a private tmpfs on ``/tmp``, ``/var/tmp`` and ``/dev/shm`` (the private
  working directory lives in the new ``/tmp``), a ``/proc`` that shows only the worker's own
  processes, ``pivot_root`` into the allowlist root (the old root is detached), rlimits, an
  unprivileged uid, no_new_privs, a scrubbed environment, output to the capture pipe.
When the allowlist root cannot be built, workers see the host's tree minus the hidden paths (the
zygote says why in its notes). Every step reports whether it took effect; the steps listed in
``required`` fail the spawn instead (entering the allowlist root, once built, is always required).
"""

import ctypes
import os
import resource
import signal
import sys
import time

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
MNT_DETACH = 2
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC = 1, 2, 4, 8
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
# syscalls glibc has no wrapper for: {machine: (pivot_root, mount_setattr)}
_SYSCALLS = {
    "x86_64": (155, 442),
    "aarch64": (41, 442),
    "riscv64": (41, 442),
    "ppc64le": (203, 442),
    "s390x": (217, 442),
    "i686": (217, 442),
    "i386": (217, 442),
    "armv7l": (218, 442),
}

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38

NOBODY_GID = 65534
UID_BASE = 1_000_000  # worker uid = UID_BASE + the worker's pid: unique among live workers
WORKDIR = "/tmp/submission"  # the private working directory when /tmp is a private tmpfs
BLAS_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TMP_CANDIDATES = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")
# the allowlist root: system folders bound read-only (or the same symlink when the host has one),
# device nodes bound into an otherwise empty /dev, and the per-worker private tmpfs mount points
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc")
DEVICES = ("null", "zero", "full", "random", "urandom")
DEV_LINKS = {
    "fd": "/proc/self/fd",
    "stdin": "/proc/self/fd/0",
    "stdout": "/proc/self/fd/1",
    "stderr": "/proc/self/fd/2",
}
ROOT_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
ROOT_DIRS = ("proc", "tmp", "var/tmp", "dev/shm")

_libc = None


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        _libc.unshare.argtypes = [ctypes.c_int]
        _libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        _libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        _libc.syscall.restype = ctypes.c_long
    return _libc


def _check(ret, what):
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def _b(s):
    return None if s is None else os.fsencode(s)


def unshare(flags):
    _check(libc().unshare(flags), f"unshare({flags:#x})")


def mount(source, target, fstype, flags, data=None):
    _check(libc().mount(_b(source), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")


def prctl(option, arg=0):
    _check(libc().prctl(option, arg, 0, 0, 0), f"prctl({option})")


def umount(target, flags=MNT_DETACH):
    _check(libc().umount2(_b(target), flags), f"umount {target}")


def _syscall_nr(index, name):
    import platform

    nrs = _SYSCALLS.get(platform.machine())
    if nrs is None:
        raise OSError(38, f"{name}: syscall number unknown on {platform.machine()}")
    return nrs[index]


def pivot_root(new_root, put_old):
    nr = _syscall_nr(0, "pivot_root")
    _check(libc().syscall(ctypes.c_long(nr), ctypes.c_char_p(_b(new_root)), ctypes.c_char_p(_b(put_old))), "pivot_root")


class _MountAttr(ctypes.Structure):
    _fields_ = [
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    ]


def mount_setattr(path, attr_set, recursive):
    nr = _syscall_nr(1, "mount_setattr")
    attr = _MountAttr(attr_set, 0, 0, 0)
    _check(
        libc().syscall(
            ctypes.c_long(nr),
            ctypes.c_int(AT_FDCWD),
            ctypes.c_char_p(_b(path)),
            ctypes.c_uint(AT_RECURSIVE if recursive else 0),
            ctypes.byref(attr),
            ctypes.c_size_t(ctypes.sizeof(attr)),
        ),
        f"mount_setattr {path}",
    )


def make_readonly(path, recursive=True, extra=MOUNT_ATTR_NOSUID):
    """Make the mount at ``path`` (and, with ``recursive``, every mount under it) read-only.

    ``mount_setattr`` (Linux 5.12) does the whole subtree and leaves locked flags alone; older kernels
    get a remount of the top mount that keeps its flags (a user namespace may not clear them)."""
    try:
        return mount_setattr(path, MOUNT_ATTR_RDONLY | extra, recursive)
    except OSError:
        pass
    st = os.statvfs(path).f_flag
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | (MS_NOSUID if extra & MOUNT_ATTR_NOSUID else 0)
    flags |= st & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME)
    if st & os.ST_RELATIME:
        flags |= MS_RELATIME
    mount(None, path, None, flags)


# Note [Capability version]
# ~~~~~~~~~~~~~~~~~~~~~~~~~
# capset(2) reads a header whose version (a date, as hex digits) says how the capability sets that
# follow are laid out (linux/capability.h). _LINUX_CAPABILITY_VERSION_3 = 0x20080522 (2008-05-22)
# means two _CapData structs: the low and the high 32 bits of each set. Capabilities are numbered
# beyond 31 (CAP_SYSLOG, CAP_PERFMON, CAP_BPF, ...), so dropping all of them takes both structs:
# hence ``_CapData * 2``, all zeros. Version 1 (0x19980330, one struct of 32 bits) is legacy (the
# kernel logs a warning for it) and version 2 (0x20071026) is deprecated. A version the kernel
# does not know fails with EINVAL (and the kernel writes the version it prefers into the header),
# so a mistyped constant makes drop_capabilities raise instead of doing something else.

_LINUX_CAPABILITY_VERSION_3 = 0x20080522  # see Note [Capability version]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities():
    """Clear the effective, permitted and inheritable capability sets of this process (all 64
    bits of each: Note [Capability version])."""
    header, data = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _check(libc().capset(ctypes.byref(header), data), "capset")


# ------------------------------------------------------------------------------- keyring, seccomp

KEYCTL_JOIN_SESSION_KEYRING = 1
_KEYCTL = {"x86_64": 250, "aarch64": 219}


def new_session_keyring():
    """Join a fresh, empty, anonymous session keyring: keys of the grader's session (and of other
    workers) are out of reach. Returns its serial."""
    import platform

    nr = _KEYCTL.get(platform.machine())
    if nr is None:
        raise OSError(38, f"keyctl: syscall number unknown on {platform.machine()}")
    ret = libc().syscall(ctypes.c_long(nr), ctypes.c_long(KEYCTL_JOIN_SESSION_KEYRING), ctypes.c_void_p(None))
    if ret < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"keyctl(JOIN_SESSION_KEYRING): {os.strerror(e)}")
    return ret


# The worker's seccomp filter: a classic BPF program, written out here so that it can be read in one
# sitting (see README.md for why not libseccomp). Denied calls fail with EPERM (clone3 with ENOSYS,
# so that the C library falls back to clone, whose flags the filter can see); everything else is
# allowed. Any other architecture (i386 or x32 calls on x86_64 included) is killed.
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_BIT = 0x40000000
# name: (x86_64, aarch64)
DENIED_SYSCALLS = {
    # namespaces and mounts: no user namespace (and so no tmpfs of its own), no mount at all
    "unshare": (272, 97),
    "setns": (308, 268),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "chroot": (161, 51),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "move_mount": (429, 429),
    "open_tree": (428, 428),
    "mount_setattr": (442, 442),
    # kernel keyrings
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    # other processes' memory, the kernel's programs and counters
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "pidfd_getfd": (438, 438),
    "bpf": (321, 280),
    "perf_event_open": (298, 241),
    "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    # the machine itself (capabilities already stop these; belt and braces)
    "kexec_load": (246, 104),
    "kexec_file_load": (320, 294),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "reboot": (169, 142),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "acct": (163, 89),
    "quotactl": (179, 60),
    "open_by_handle_at": (304, 265),
    "name_to_handle_at": (303, 264),
    "sethostname": (170, 161),
    "setdomainname": (171, 162),
    "settimeofday": (164, 170),
    "clock_adjtime": (305, 266),
    "adjtimex": (159, 171),
    "vhangup": (153, 58),
    "fanotify_init": (300, 262),
    "lookup_dcookie": (212, 18),
}
CLONE = (56, 220)
CLONE3 = (435, 435)
# clone with any of these makes a new namespace: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x80000000, 0x7FFF0000, 0x00050000
EPERM, ENOSYS = 1, 38
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
# BPF opcodes: load word at absolute offset, jump if equal / greater or equal / any bit set, return
_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_NR, _ARCH, _ARG0 = 0, 4, 16  # offsets in struct seccomp_data (arg0: its low 32 bits, little-endian)


def seccomp_program():
    """The filter as a list of (code, jt, jf, k), for x86_64 and aarch64 (see DENIED_SYSCALLS)."""
    prog, fixups, labels = [], [], {}

    def op(code, k=0, jt=None, jf=None):
        fixups.append((len(prog), jt, jf))
        prog.append([code, 0, 0, k])

    def label(name):
        labels[name] = len(prog)

    op(_LD, _ARCH)
    op(_JEQ, AUDIT_ARCH["x86_64"], jf="aarch64")
    op(_LD, _NR)
    op(_JGE, X32_BIT, jt="kill")  # x32 ABI calls carry this bit
    for i in range(2):  # x86_64, then aarch64
        if i:
            label("aarch64")
            op(_JEQ, AUDIT_ARCH["aarch64"], jf="kill")
            op(_LD, _NR)
        for nrs in DENIED_SYSCALLS.values():
            op(_JEQ, nrs[i], jt="eperm")
        op(_JEQ, CLONE3[i], jt="enosys")
        op(_JEQ, CLONE[i], jf="allow")
        op(_LD, _ARG0)
        op(_JSET, CLONE_NAMESPACES, jt="eperm", jf="allow")
    label("allow")
    op(_RET, SECCOMP_RET_ALLOW)
    label("eperm")
    op(_RET, SECCOMP_RET_ERRNO | EPERM)
    label("enosys")
    op(_RET, SECCOMP_RET_ERRNO | ENOSYS)
    label("kill")
    op(_RET, SECCOMP_RET_KILL_PROCESS)
    for at, jt, jf in fixups:
        for slot, target in ((1, jt), (2, jf)):
            if target is not None:
                off = labels[target] - at - 1
                if not 0 <= off < 256:
                    raise ValueError(f"seccomp jump out of range at {at}: {off}")
                prog[at][slot] = off
    return [tuple(x) for x in prog]


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def install_seccomp():
    """Install the filter on this process (and every process it starts). Needs no_new_privs (or
    CAP_SYS_ADMIN); irreversible. Raises OSError on an architecture it does not know."""
    import platform

    if platform.machine() not in AUDIT_ARCH:
        raise OSError(38, f"no seccomp filter for {platform.machine()}")
    prog = seccomp_program()
    arr = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
    fprog = _SockFprog(len(prog), ctypes.cast(arr, ctypes.POINTER(_SockFilter)))
    _check(libc().prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "seccomp")


# -------------------------------------------------------------------------------------- cgroups
# One cgroup per worker (memory, pids, CPU) under a folder of the zygote's own:
#   v1: <memory|pids|cpu mount><the zygote's cgroup>/gradcheck-<zygote pid>/w<worker pid>
#   v2: <cgroup2 mount><the zygote's cgroup>/gradcheck-<zygote pid>/w<worker pid>
# The zygote makes the folders (setup_cgroups), a worker joins its own before anything else runs
# (join_cgroup, as root, before the privilege drop), the zygote reads the memory kills and removes
# the worker's folder when it is gone (worker_cgroup_done), and the whole folder at shutdown.

CGROUP_PREFIX = "gradcheck-"
CGROUP_CONTROLLERS = ("memory", "pids", "cpu")
CPU_PERIOD_US = 100_000


def _cgroup_mounts():
    """{"v1": {controller: mount point}, "v2": mount point or None} from /proc/self/mountinfo."""
    v1, v2 = {}, None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rest = left.split(), right.split()
            if len(fields) < 5 or len(rest) < 3:
                continue
            if fields[3] != "/":  # a bind of a sub-folder: its paths do not match /proc/self/cgroup
                continue
            if rest[0] == "cgroup2":
                v2 = v2 or fields[4]
            elif rest[0] == "cgroup":
                for opt in rest[2].split(","):
                    if opt in CGROUP_CONTROLLERS and opt not in v1:
                        v1[opt] = fields[4]
    return {"v1": v1, "v2": v2}


def _own_cgroups():
    """{controller or "": this process's cgroup path} from /proc/self/cgroup ("" is the v2 one)."""
    out = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in ctrls.split(",") if ctrls else [""]:
                out[c] = path
    return out


def _write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def _read(path):
    with open(path) as f:
        return f.read()


def cgroup_procs(folder):
    """Pids in a cgroup folder (the zygote's view), or [] if it is gone."""
    try:
        pids = [int(x) for x in _read(os.path.join(folder, "cgroup.procs")).split()]
    except (OSError, ValueError):
        return []
    return [p for p in pids if p > 0 and p != os.getpid()]


def _remove_cgroup_tree(folder, kill=True):
    """Remove ``folder`` and its sub-folders (deepest first); with ``kill``, kill what is left in them
    first (this zygote's own folders only). A folder still in use (EBUSY) is waited for a moment;
    one this process may not remove is left alone."""
    import errno

    for dirpath, _, _ in list(os.walk(folder, topdown=False)):
        for _ in range(200 if kill else 0):
            pids = cgroup_procs(dirpath)
            if not pids:
                break
            sent = 0
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    sent += 1
                except OSError:
                    pass
            if not sent:
                break
            time.sleep(0.005)
        for _ in range(200 if kill else 1):
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError as exc:
                if exc.errno != errno.EBUSY:
                    break
                time.sleep(0.005)


def sweep_stale_cgroups(parent):
    """Empty folders of zygotes that are gone (a grader killed with SIGKILL): removed. Processes in
    them are never killed here (a zygote of another pid namespace could look gone)."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if not name.startswith(CGROUP_PREFIX):
            continue
        try:
            pid = int(name[len(CGROUP_PREFIX) :])
        except ValueError:
            continue
        if os.path.exists(f"/proc/{pid}"):
            continue
        _remove_cgroup_tree(os.path.join(parent, name), kill=False)


def setup_cgroups(enabled=True, mounts=None, own=None):
    """In the zygote, before its own namespaces: the folder under which each worker gets its cgroup.

    Returns {"version": 1|2, "dirs": {controller: folder}} (v2: one folder under "unified"), or
    {"version": None, "why": "..."} when no usable cgroup (as root or delegated) is found."""
    if not enabled:
        return {"version": None, "why": "cgroups disabled by configuration"}
    try:  # ``mounts``, ``own``: for tests (a v2 tree where the machine has v1)
        mounts = _cgroup_mounts() if mounts is None else mounts
        own = _own_cgroups() if own is None else own
    except OSError as exc:
        return {"version": None, "why": f"cannot read the cgroup mounts: {exc}"}
    name = f"{CGROUP_PREFIX}{os.getpid()}"
    errors = []
    if all(c in mounts["v1"] for c in CGROUP_CONTROLLERS):
        made = {}
        try:
            for c in CGROUP_CONTROLLERS:
                parent = mounts["v1"][c] + own.get(c, "/").rstrip("/")
                sweep_stale_cgroups(parent)
                os.mkdir(os.path.join(parent, name), 0o755)
                made[c] = os.path.join(parent, name)
            return {"version": 1, "dirs": made}
        except OSError as exc:
            for d in made.values():
                _remove_cgroup_tree(d)
            errors.append(f"v1: {exc}")
    if mounts["v2"]:
        parent = mounts["v2"] + own.get("", "/").rstrip("/")
        folder = os.path.join(parent, name)
        try:
            available = set(_read(os.path.join(parent, "cgroup.controllers")).split())
            missing = [c for c in CGROUP_CONTROLLERS if c not in available]
            if missing:
                raise OSError(95, f"controllers not delegated to {parent}: {', '.join(missing)}")
            enabled_here = set(_read(os.path.join(parent, "cgroup.subtree_control")).split())
            if not set(CGROUP_CONTROLLERS) <= enabled_here:
                # fails (EBUSY) when the zygote's own cgroup holds processes and is not the root
                _write(
                    os.path.join(parent, "cgroup.subtree_control"),
                    " ".join("+" + c for c in CGROUP_CONTROLLERS if c not in enabled_here),
                )
            sweep_stale_cgroups(parent)
            os.mkdir(folder, 0o755)
            _write(os.path.join(folder, "cgroup.subtree_control"), " ".join("+" + c for c in CGROUP_CONTROLLERS))
            return {"version": 2, "dirs": {"unified": folder}}
        except OSError as exc:
            if os.path.isdir(folder):
                _remove_cgroup_tree(folder)
            errors.append(f"v2: {exc}")
    if not errors:
        errors.append("no cgroup hierarchy with the memory, pids and cpu controllers is mounted")
    return {"version": None, "why": "; ".join(errors)}


def join_cgroup(plan, name, memory_mb, processes, cpus):
    """In a new worker (still root): make its own cgroup ``name`` in every folder of ``plan``, set
    the limits, move this process into it. Its children are born in it."""
    mem = memory_mb * 2**20
    for c, base in plan["dirs"].items():
        d = os.path.join(base, name)
        os.makedirs(d, 0o755, exist_ok=True)  # exists: left by an earlier worker of this pid (its limits are reset)
        if plan["version"] == 2:
            _write(os.path.join(d, "memory.max"), mem)
            try:
                _write(os.path.join(d, "memory.swap.max"), 0)
            except OSError:
                pass  # no swap accounting
            _write(os.path.join(d, "pids.max"), processes)
            _write(os.path.join(d, "cpu.max"), f"{int(cpus * CPU_PERIOD_US)} {CPU_PERIOD_US}")
        elif c == "memory":
            _write(os.path.join(d, "memory.limit_in_bytes"), mem)
            try:
                _write(os.path.join(d, "memory.memsw.limit_in_bytes"), mem)
            except OSError:
                pass  # no swap accounting
        elif c == "pids":
            _write(os.path.join(d, "pids.max"), processes)
        elif c == "cpu":
            _write(os.path.join(d, "cpu.cfs_period_us"), CPU_PERIOD_US)
            _write(os.path.join(d, "cpu.cfs_quota_us"), int(cpus * CPU_PERIOD_US))
        _write(os.path.join(d, "cgroup.procs"), 0)  # 0: this process


def worker_cgroup_done(plan, name):
    """After the worker is gone: kill what is left in its cgroup, count its memory kills, remove it.
    Returns the number of processes the kernel killed for memory (None if unknown)."""
    if not plan or not plan.get("version"):
        return None
    oom = None
    for c, base in plan["dirs"].items():
        d = os.path.join(base, name)
        if not os.path.isdir(d):
            continue
        if c in ("memory", "unified"):
            try:
                text = _read(os.path.join(d, "memory.events" if plan["version"] == 2 else "memory.oom_control"))
                for line in text.splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        oom = int(value)
            except (OSError, ValueError):
                pass
        if plan["version"] == 2 and os.path.exists(os.path.join(d, "cgroup.kill")):
            try:
                _write(os.path.join(d, "cgroup.kill"), 1)
            except OSError:
                pass
        _remove_cgroup_tree(d)
    return oom


def remove_cgroups(plan):
    """At the zygote's shutdown: its cgroup folders, with anything left in them."""
    if plan and plan.get("version"):
        for d in plan["dirs"].values():
            _remove_cgroup_tree(d)


# --------------------------------------------------------------------------------------- paths


def _under(path, root):
    return path == root or path.startswith(root.rstrip("/") + "/")


def _others_can_enter(path):
    st = os.stat(path)
    return bool(st.st_mode & 0o001)


def blocking_ancestor(path):
    """The topmost directory on the way to ``path`` that other users cannot enter, or None."""
    parts = path.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        d = "/" + "/".join(parts[:i])
        try:
            if not _others_can_enter(d):
                return d
        except OSError:
            return None
    return None


def plan_overlays(hide, keep, as_root):
    """Which paths get an empty tmpfs, and which kept directories are bound back inside them.

    Returns (overlays, notes): overlays is a list of (path, is_dir, keeps inside) outermost first.
    A kept directory (the Python installation, the staging area) that lies under a hidden path or
    under a directory other users cannot enter stays reachable through a bind mount.
    """
    notes = []
    roots = {}
    for h in hide:
        if os.path.lexists(h):
            roots[h] = os.path.isdir(h) and not os.path.islink(h)
        else:
            notes.append(f"hidden path does not exist: {h}")
    if as_root:
        for k in keep:
            a = blocking_ancestor(k)
            if a is not None and a not in roots:
                roots[a] = True
    overlays = []
    for root in sorted(roots, key=lambda p: (p.count("/"), p)):
        # an overlay under another overlay is needed only if a kept directory brings it back into view
        covering = [r for r, _, _ in overlays if _under(root, r) and r != root]
        if covering and not any(_under(root, k) for k in keep):
            continue
        inside = [k for k in keep if _under(k, root) and k != root] if roots[root] else []
        if any(_under(k, root) for k in keep) and not inside:
            notes.append(f"hidden path {root} holds a directory the worker needs; not hidden")
            continue
        for k in inside:
            if not as_root or root in hide:
                notes.append(f"{k} stays visible inside hidden path {root}")
        overlays.append((root, roots[root], inside))
    return overlays, notes


def apply_overlays(overlays, empty_file):
    """Mount the planned overlays (in a private mount namespace); returns the paths that got one."""
    keep_fds = {}
    for _, _, inside in overlays:
        for k in inside:
            if k not in keep_fds:
                keep_fds[k] = os.open(k, os.O_PATH | os.O_DIRECTORY)
    done = []
    for root, is_dir, inside in overlays:
        if not is_dir:
            mount(empty_file, root, None, MS_BIND)
            mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
            done.append(root)
            continue
        opts = "size=64k,nr_inodes=512,mode=0755"
        mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, opts)
        for k in inside:
            os.makedirs(k, mode=0o755, exist_ok=True)
            mount(f"/proc/self/fd/{keep_fds[k]}", k, None, MS_BIND | MS_REC)
        mount("tmpfs", root, "tmpfs", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, opts)
        done.append(root)
    for fd in keep_fds.values():
        os.close(fd)
    return done


def outermost(paths):
    """The paths none of the others contains, in order."""
    paths = list(dict.fromkeys(paths))
    return [p for p in paths if not any(q != p and _under(p, q) for q in paths)]


def _mkdirs(root, path):
    """Create ``root + path`` (mode 0755) component by component, never following a symlink."""
    cur = root
    for part in path.strip("/").split("/"):
        cur = os.path.join(cur, part)
        try:
            os.mkdir(cur, 0o755)
            os.chmod(cur, 0o755)
        except FileExistsError:
            if os.path.islink(cur) or not os.path.isdir(cur):
                raise OSError(17, f"{cur} exists and is not a folder") from None
    return cur


def plan_root(allowed):
    """Which folders a worker's allowlist root binds: (system dirs, {name: symlink target}, Python dirs)."""
    system, links = [], {}
    for name in SYSTEM_DIRS:
        src = "/" + name
        if os.path.islink(src):
            links[name] = os.readlink(src)
        elif os.path.isdir(src):
            system.append(src)
    reserved = ["/" + n for n in (*SYSTEM_DIRS, "dev", "proc")]
    extra = []
    for k in outermost(os.path.realpath(p) for p in allowed):
        if any(_under(k, r) for r in system):
            continue  # already there (a Python in /usr)
        if k == "/" or any(_under(k, r) for r in reserved) or any(_under(t, k) for t in ROOT_TMP_DIRS):
            raise OSError(22, f"cannot bind {k} into the allowlist root")
        extra.append(k)
    return system, links, extra


def build_root(root, allowed):
    """Mount the workers' allowlist root at ``root`` (in the zygote's mount namespace).

    A fresh tmpfs holding: the system folders (read-only binds, or the host's symlinks), a ``/dev``
    with only null, zero, full, random, urandom, the mount points of the per-worker ``/proc``,
    ``/tmp``, ``/var/tmp``, ``/dev/shm``, and ``allowed`` (the Python installation) bound read-only
    at its own path. Binds are recursive, so the hidden-path overlays of the zygote's namespace that
    fall inside an allowed folder stay in force. Returns (bound paths, those under a per-worker tmp dir).
    """
    system, links, extra = plan_root(allowed)
    opts = "size=1m,nr_inodes=4096,mode=0755"
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, opts)
    try:
        os.chmod(root, 0o755)
        for name, target in links.items():
            os.symlink(target, os.path.join(root, name))
        for d in ROOT_DIRS:
            _mkdirs(root, d)
        for src in system + extra:
            dst = _mkdirs(root, src)
            mount(src, dst, None, MS_BIND | MS_REC)
            make_readonly(dst)
        for name in DEVICES:
            src = "/dev/" + name
            if not os.path.exists(src):
                continue
            dst = os.path.join(root, "dev", name)
            os.close(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            mount(src, dst, None, MS_BIND)
            try:
                mount_setattr(dst, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, False)
            except OSError:
                pass
        for name, target in DEV_LINKS.items():
            os.symlink(target, os.path.join(root, "dev", name))
        mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, opts)
    except BaseException:
        umount(root)
        raise
    keep = [k for k in extra if any(_under(k, t) for t in ROOT_TMP_DIRS)]
    return system + extra, keep


def tmp_entries(dirs):
    """Names the worker's private /tmp shows besides the working folder: where a kept dir lies in it."""
    return sorted({k[len("/tmp/") :].split("/")[0] for k in dirs if _under(k, "/tmp") and k != "/tmp"})


def _mount_proc(target):
    error = None
    for opts in ("hidepid=invisible", "hidepid=2", None):
        try:
            return mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts)
        except OSError as exc:
            error = exc
    raise error


def enter_root(root, keep, disk_mb, proc=None):
    """In a worker's own mount namespace: private tmpfs mounts inside the allowlist ``root``, then
    ``pivot_root`` into it and detach the old root. ``keep``: bound folders under a tmp dir (a
    virtualenv under /tmp) to bind again over the fresh tmpfs. ``proc``: a callable mounting /proc
    at the path it is given (its failure is the caller's business), or None."""
    fds = {k: os.open(root + k, os.O_PATH | os.O_DIRECTORY) for k in keep}
    try:
        for d in ROOT_TMP_DIRS:
            size = disk_mb if d == "/tmp" else 1
            mount("tmpfs", root + d, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,nr_inodes=4096,mode=1777")
            for k, fd in fds.items():
                if _under(k, d):
                    mount(f"/proc/self/fd/{fd}", _mkdirs(root + d, k[len(d) :]), None, MS_BIND | MS_REC)
    finally:
        for fd in fds.values():
            os.close(fd)
    if proc is not None:
        proc(root + "/proc")  # before the pivot: a user namespace may mount proc only while one is visible
    os.chdir(root)
    try:
        pivot_root(".", ".")  # the old root ends up on top of the new one; detach it with all its mounts
        umount(".")
    except OSError:
        # / is not a mount point (the grader runs in a chroot or an initramfs): move the new root over it
        mount(".", "/", None, MS_MOVE)
        os.chroot(".")
    os.chdir("/")


def _selftest_root(root, keep):
    """Fork a child that enters the allowlist root as a worker would; None if it worked, else why."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            unshare(CLONE_NEWNS)
            enter_root(root, keep, 1)
            top = set(os.listdir("/"))
            if os.path.exists(root):
                raise OSError(0, f"{root} is still reachable")
            with open("/tmp/probe", "w") as f:
                f.write("x")
            for k in keep:
                os.listdir(k)
            if not {"usr", "tmp", "dev", "proc"} <= top:
                raise OSError(0, f"unexpected root: {sorted(top)}")
            code = 0
        except BaseException as exc:  # noqa: BLE001
            os.write(w, f"{type(exc).__name__}: {exc}".encode()[:2000])
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(r, "rb") as f:
        why = f.read().decode(errors="replace")
    return None if status == 0 else (why or f"test worker ended with status {status}")


def setup_allowlist_root(cfg, report):
    """In the zygote, after the hidden-path overlays: build and test the allowlist root (see build_root).

    Fills report["allowlist_root"], ["allowed_paths"], ["root"], ["root_keep"]; a failure leaves the
    zygote as it was and says why in report["notes"]."""
    report["allowlist_root"] = False
    if not cfg.get("allowlist_root", True):
        report["notes"].append(
            "allowlist root disabled by configuration: workers see the whole file tree minus the hidden paths"
        )
        return
    root = cfg.get("root_dir") or os.path.join(os.path.dirname(cfg["empty_file"]), ".root")
    made = False
    try:
        if not os.path.isdir(root):
            os.mkdir(root, 0o700)
            made = True
        bound, keep = build_root(root, cfg.get("allowed", []))
    except OSError as exc:
        if made:
            os.rmdir(root)
        report["notes"].append(f"no allowlist root ({exc}): workers see the whole file tree minus the hidden paths")
        return
    why = _selftest_root(root, keep)
    if why is not None:
        umount(root)
        report["notes"].append(
            f"no allowlist root (a test worker could not enter it: {why}): workers see the "
            "whole file tree minus the hidden paths"
        )
        return
    report.update(
        {
            "allowlist_root": True,
            "root": root,
            "allowed_paths": bound,
            "root_keep": keep,
            "tmp_entries": tmp_entries(keep),
        }
    )


def setup_zygote(cfg):
    """Once, in the zygote: a private mount namespace with the hidden paths covered. Returns a report."""
    report = {
        "as_root": os.geteuid() == 0,
        "userns": False,
        "mount_ns": False,
        "hidden": [],
        "notes": [],
        "allowlist_root": False,
        "tmp_entries": tmp_entries(cfg.get("python_dirs", [])),
    }
    if not cfg.get("namespaces", True):
        report["notes"].append("namespaces disabled by configuration")
        return report
    try:
        if report["as_root"]:
            unshare(CLONE_NEWNS)
        else:
            uid, gid = os.getuid(), os.getgid()
            unshare(CLONE_NEWUSER | CLONE_NEWNS)
            with open("/proc/self/setgroups", "w") as f:
                f.write("deny")
            with open("/proc/self/uid_map", "w") as f:
                f.write(f"{uid} {uid} 1")
            with open("/proc/self/gid_map", "w") as f:
                f.write(f"{gid} {gid} 1")
            report["userns"] = True
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        report["mount_ns"] = True
    except OSError as exc:
        report["notes"].append(f"no mount namespace: {exc}")
        return report
    overlays, notes = plan_overlays(cfg.get("hide", []), cfg.get("keep", []), report["as_root"])
    report["notes"].extend(notes)
    for root, is_dir, inside in overlays:
        try:
            report["hidden"].extend(apply_overlays([(root, is_dir, inside)], cfg["empty_file"]))
        except OSError as exc:
            report["notes"].append(f"could not hide {root}: {exc}")
    setup_allowlist_root(cfg, report)
    return report


# --------------------------------------------------------------------------------------- child


def world_writable_dirs():
    out = []
    for d in TMP_CANDIDATES:
        try:
            st = os.stat(d)
        except OSError:
            continue
        if os.path.isdir(d) and st.st_mode & 0o002:
            out.append(d)
    return out


def _copy_submission(src_fd, dst, uid, gid):
    for name in os.listdir(src_fd):
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=src_fd)
        try:
            out = os.open(os.path.join(dst, name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                while True:
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        break
                    os.write(out, chunk)
                if uid is not None:
                    os.fchown(out, uid, gid)
            finally:
                os.close(out)
        finally:
            os.close(fd)


def _count_threads(uid):
    n = 0
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/status") as f:
                    fields = dict(line.split(":", 1) for line in f if ":" in line)
                if int(fields["Uid"].split()[0]) == uid:
                    n += int(fields["Threads"])
            except (OSError, KeyError, ValueError):
                pass
    return n


def _status_field(name):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def global_pid():
    """This process's pid as the zygote's /proc shows it (read before /proc is replaced)."""
    pid = _status_field("NSpid")
    return os.getpid() if pid is None else pid


def global_ppid():
    """The parent's pid as the zygote's /proc shows it (getppid() says 0 across a pid namespace)."""
    return _status_field("PPid")


def setup_child(cfg, keep_fds, report):
    """In the freshly forked worker, before student code: everything of the module docstring.

    ``cfg``: staging (dir with the submission copy), limits (dict), required (step names that must
    succeed), drop_user, namespaces, sys_path, fallback_base, tmp_dirs, python_dirs, new_root and
    root_keep (the allowlist root built by the zygote, if any). ``report`` (a dict) is filled
    with the steps that took effect. Returns the working directory. Raises when a required step fails.
    """
    required = set(cfg.get("required", ()))
    limits = cfg["limits"]
    errors = report.setdefault("errors", [])

    def step(name, fn):
        try:
            fn()
            report[name] = True
        except Exception as exc:
            report[name] = False
            errors.append(f"{name}: {exc}")
            if name in required:
                raise RuntimeError(f"required isolation step {name!r} failed: {exc}") from exc

    os.setsid()
    as_root = os.geteuid() == 0
    drop = bool(cfg.get("drop_user")) and as_root
    report["global_pid"] = pid = global_pid()
    uid = UID_BASE + pid if drop else os.getuid()
    gid = NOBODY_GID if drop else os.getgid()
    report["uid"], report["gid"] = uid, gid
    # with a shared uid, RLIMIT_NPROC counts the user's other processes too: count them now, while
    # /proc still shows them all (an overestimate only loosens the limit)
    nproc = limits["processes"] + (0 if drop else _count_threads(uid))
    # first: everything this worker and its children do is counted in its own cgroup
    cgroup = cfg.get("cgroup") or {}
    if cgroup.get("version"):
        step(
            "cgroup",
            lambda: join_cgroup(cgroup, f"w{pid}", limits["memory_mb"], limits["processes"], limits.get("cpus", 1)),
        )
    else:
        report["cgroup"] = False
    src_fd = os.open(cfg["staging"], os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)

    new_root = cfg.get("new_root") if cfg.get("namespaces") else None
    if new_root:
        required |= {"mount_ns", "allowlist_root"}  # the zygote's own view is not what a worker may see
    if cfg.get("namespaces"):
        step("mount_ns", lambda: unshare(CLONE_NEWNS))
        step("net_ns", lambda: unshare(CLONE_NEWNET))
        step("ipc_ns", lambda: unshare(CLONE_NEWIPC))
    if "pid_ns" in required and not report.get("pid_ns"):
        raise RuntimeError("required isolation step 'pid_ns' failed")

    def proc(target="/proc"):
        step("proc_hidden", lambda: _mount_proc(target))

    with_proc = as_root or report.get("pid_ns")
    if new_root:
        step(
            "allowlist_root",
            lambda: enter_root(new_root, cfg.get("root_keep", []), limits["disk_mb"], proc if with_proc else None),
        )
        report["private_tmp"] = report["allowlist_root"]
    elif report.get("mount_ns"):

        def private_tmp():
            mount(None, "/", None, MS_REC | MS_PRIVATE)
            tmp_dirs = cfg.get("tmp_dirs", [])
            # the Python installation may live under /tmp (a virtualenv): keep it visible
            keep = {
                k: os.open(k, os.O_PATH | os.O_DIRECTORY)
                for k in cfg.get("python_dirs", [])
                if any(_under(k, d) for d in tmp_dirs) and os.path.isdir(k)
            }
            for d in tmp_dirs:
                size = limits["disk_mb"] if d == "/tmp" else 1
                mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,nr_inodes=4096,mode=1777")
                for k, fd in keep.items():
                    if _under(k, d):
                        os.makedirs(k, mode=0o755, exist_ok=True)
                        mount(f"/proc/self/fd/{fd}", k, None, MS_BIND | MS_REC)
            for fd in keep.values():
                os.close(fd)

        step("private_tmp", private_tmp)
        if with_proc:
            proc()
    if report.get("private_tmp") and os.path.isdir("/tmp"):
        workdir = WORKDIR
        os.mkdir(workdir, 0o700)
    else:
        import tempfile

        workdir = tempfile.mkdtemp(prefix="w-", dir=cfg["fallback_base"])
    if drop:
        os.chown(workdir, uid, gid)
    os.chmod(workdir, 0o700)
    _copy_submission(src_fd, workdir, uid if drop else None, gid)
    os.close(src_fd)
    report["workdir"] = workdir

    # file descriptors: only the channel, the capture pipe and the report pipe survive
    keep = sorted(set(keep_fds))
    last = 2
    for fd in keep + [os.sysconf("SC_OPEN_MAX") if os.sysconf("SC_OPEN_MAX") > 0 else 65536]:
        if fd > last + 1:
            os.closerange(last + 1, fd)
        last = max(last, fd)

    mb = 2**20
    rl = {
        "CORE": 0,
        "FSIZE": limits["file_size_mb"] * mb,
        "NOFILE": limits["open_files"],
        "NPROC": nproc,
        "CPU": (limits["cpu_seconds"], limits["cpu_seconds"] + 1),
        "AS": limits["memory_mb"] * mb,
    }
    for name, value in rl.items():
        soft, hard = value if isinstance(value, tuple) else (value, value)
        resource.setrlimit(getattr(resource, "RLIMIT_" + name), (soft, hard))
    report["rlimits"] = True

    if drop:
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        try:
            os.setuid(0)
        except PermissionError:
            pass
        else:
            raise RuntimeError("could still become root after dropping privileges")
        report["dropped_user"] = True
    elif report.get("mount_ns") and os.geteuid() != 0:
        step("capabilities_dropped", drop_capabilities)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    report["no_new_privs"] = True
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # set after setuid, which clears it
    except OSError:
        pass
    # keys of the grader's session keyring (and of earlier workers) are not this worker's
    step("session_keyring", new_session_keyring)

    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": workdir, "LANG": "C.UTF-8", **BLAS_ENV})
    os.chdir(workdir)
    sys.path[:] = [workdir] + list(cfg["sys_path"])
    sys.argv[:] = ["worker"]
    sys.dont_write_bytecode = True
    for sig in (signal.SIGXFSZ,):
        signal.signal(sig, signal.SIG_IGN)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):
        signal.signal(sig, signal.SIG_DFL)
    # last: the filter would stop the set-up above (mounts, the keyring); it holds from here on
    if cfg.get("seccomp", True):
        step("seccomp", install_seccomp)
    else:
        report["seccomp"] = False
    return workdir


def redirect_output(out_fd):
    """fd 1 and 2 to the capture pipe, fd 0 from /dev/null, line-buffered Python streams."""
    import io

    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    os.close(out_fd)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = io.TextIOWrapper(
            io.FileIO(fd, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True
        )
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")


# ------------------------------------------------------------------------------------- cleanup


def _proc_table():
    """{pid: (ppid, real uid, state)} of every process."""
    table = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                stat = f.read()
            rest = stat[stat.rindex(b")") + 2 :].split()
            st = os.stat(f"/proc/{p}")
            table[int(p)] = (int(rest[1]), st.st_uid, rest[0].decode())
        except (OSError, ValueError, IndexError):
            pass
    return table


def uid_processes(uid, zombies=False):
    """Pids of live (and, with ``zombies``, dead but unreaped) processes owned by ``uid``."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            if os.stat(f"/proc/{p}").st_uid != uid:
                continue
            with open(f"/proc/{p}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        if zombies or stat[stat.rindex(b")") + 2 :][:1] != b"Z":
            out.append(int(p))
    return out


def kill_uid(uid, tries=50):
    """SIGKILL every process of ``uid`` from a short-lived helper that becomes that uid (root only).

    kill(-1) as ``uid`` reaches exactly the processes whose real or saved uid is ``uid``; it is
    atomic with respect to fork, so a forking process cannot outrun it. Returns True when none is left.
    """
    if uid < UID_BASE:
        raise ValueError(f"refusing to kill every process of uid {uid}: not a worker uid")
    for attempt in range(tries):
        if not uid_processes(uid):
            return True
        if attempt:
            time.sleep(0.002)
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setgid(NOBODY_GID)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            except BaseException:  # noqa: BLE001 - ESRCH: nothing left
                pass
            os._exit(0)
        os.waitpid(pid, 0)
    return not uid_processes(uid)


def kill_tree(root_pid, extra_roots=()):
    """Without a dedicated uid: stop, then kill, ``root_pid`` and all its descendants."""
    stopped = set()
    for _ in range(20):
        table = _proc_table()
        children = {}
        for pid, (ppid, _, _) in table.items():
            children.setdefault(ppid, []).append(pid)
        todo, found = [p for p in (root_pid, *extra_roots) if p is not None], set()
        while todo:
            p = todo.pop()
            if p in found or p not in table:
                continue
            found.add(p)
            todo.extend(children.get(p, []))
        new = found - stopped
        if not new:
            break
        for p in new:
            try:
                os.kill(p, signal.SIGSTOP)
            except OSError:
                pass
        stopped |= new
    for p in stopped:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    return sorted(stopped)
