"""The isolation probe: what a worker can actually see and do on this machine (``Sandbox.isolation``).

When the sandbox starts, one worker is forked on an empty folder and asked ``_probe`` (answered by
the worker loop itself, ``inside/worker.py``): its uid, rlimits, namespaces, environment and working
folder, and whether it can read a sample file of every hidden path. ``probe_isolation`` turns the
answer into ``Sandbox.isolation``: one key per isolation, true only where it took effect, and notes on
what is missing. The set-up steps that took effect in the probe worker are then required of every
worker (``Sandbox.spawn``), so that none gets less than the report says.
"""

import os
import shutil
import sys
import tempfile

from .hiding import is_under
from .inside import isolation, protocol
from .messages import (
    NOTE_NO_CGROUP,
    NOTE_NO_SECCOMP,
    NOTE_NOT_ROOT,
    NOTE_PYTHON_BLOCKED,
    NOTE_SHARED_KEYRING,
    NOTE_WORKERS_ROOT,
)
from .results import OutputCollector

ALLOWED_ENV = {"PATH", "HOME", "LANG", *isolation.BLAS_ENV}


def probe_isolation(sandbox):
    """Fork one worker on an empty folder and find what isolation it actually has.

    Returns ``(isolation, required)``: the ``Sandbox.isolation`` dict, and the set-up steps that took
    effect in that worker."""
    samples = {h: _sample_file(h) for h in sandbox.hide}
    paths = [p for pair in samples.items() for p in pair if p] + [sandbox.folder]  # not in the allowlist root
    info, setup = _ask_a_worker(sandbox, paths)
    wanted = ["pid_ns", "mount_ns", "net_ns", "ipc_ns", "private_tmp", "proc_hidden"] if sandbox.namespaces else []
    wanted += ["cgroup", "session_keyring", "seccomp"]
    required = [s for s in wanted if setup.get(s)]
    iso = _isolation(sandbox, info, setup, *_hidden_paths(samples, info))
    _add_optional(iso, sandbox, info, setup)
    return iso, required


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


def _ask_a_worker(sandbox, paths):
    """Fork a worker on an empty folder (nothing loaded) and ask it ``_probe`` about ``paths``; returns
    (its answer, the report of its set-up)."""
    staging = tempfile.mkdtemp(dir=sandbox.folder)
    collector = OutputCollector(4096)
    try:
        w = sandbox.spawn(staging, collector.write_fd, required=[])
        try:
            w.sock.settimeout(30)
            w.sock.sendall(protocol.encode({"op": "_probe", "paths": paths, "_id": 0}))
            body = protocol.read_frame(w.sock)
            info, _ = protocol.decode(body)
        finally:
            sandbox.kill(w)
    finally:
        collector.close()
        shutil.rmtree(staging, ignore_errors=True)
    return info, w.setup


def _hidden_paths(samples, info):
    """(hidden, not hidden): each hidden path by whether the worker could read its sample file or saw
    the very same folder."""
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
    return hidden, not_hidden


def _isolation(sandbox, info, setup, hidden, not_hidden):
    """The isolations every worker gets, or not, on this machine (see README.md's table)."""
    zygote = sandbox.zygote_report
    me = {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in ("mnt", "net", "ipc")}
    root = os.geteuid() == 0
    own_tmp = info["tmp"] == sorted({os.path.basename(isolation.WORKDIR), *zygote.get("tmp_entries", [])})
    return {
        "separate_process": True,
        "zygote": True,
        "unprivileged_user": root
        and info["uid"] >= isolation.UID_BASE
        and info["euid"] == info["uid"]
        and info["groups"] == []
        and info["gid"] == isolation.NOBODY_GID,
        "network_namespace": info["ns"]["net"] != me["net"] and set(info["interfaces"]) <= {"lo"},
        "mount_namespace": info["ns"]["mnt"] != me["mnt"],
        "ipc_namespace": info["ns"]["ipc"] != me["ipc"],
        "hidden_paths": not not_hidden and bool(zygote.get("mount_ns")),
        "hidden": hidden,
        "not_hidden": not_hidden,
        "allowlist_root": bool(zygote.get("allowlist_root") and setup.get("allowlist_root"))
        and info["paths"].get(sandbox.folder, {}).get("exists") is False,
        "allowed_paths": list(zygote.get("allowed_paths", [])),
        "private_tmp": own_tmp,
        "process_list_hidden": info["proc_other_users"] == 0 and not info["proc_sees_parent"],
        "rlimits": {k.lower(): v[0] for k, v in info["rlimits"].items()},
        "scrubbed_env": set(info["env"]) <= ALLOWED_ENV,
        "private_workdir": info["cwd_owner"] == info["uid"]
        and info["cwd_mode"] == 0o700
        and not any(is_under(info["cwd"], h) for h in sandbox.hide)
        and (own_tmp or info["uid"] >= isolation.UID_BASE),
        "no_new_privs": bool(info["no_new_privs"]),
        "pid_namespace": bool(setup.get("pid_ns")) and info["pid"] == 1,
        "kill_scope": " + ".join(
            (["pid namespace"] if setup.get("pid_ns") else [])
            + (["uid"] if root and info["uid"] >= isolation.UID_BASE else [])
        )
        or "process tree",
        "notes": list(zygote.get("notes", [])) + setup.get("errors", []),
    }


def _add_optional(iso, sandbox, info, setup):
    """The isolations a kernel or a configuration may lack (cgroup, seccomp, keyring), whether the
    rlimits are in force, and notes on what is missing."""
    limits = sandbox.limits
    cg = sandbox.zygote_report.get("cgroup") or {}
    if setup.get("cgroup"):
        iso["cgroup"] = {
            "version": cg.get("version"),
            "memory_mb": limits.memory_mb,
            "pids": limits.processes,
            "cpus": limits.cpus,
        }
    else:
        iso["cgroup"] = False
        iso["notes"].append(NOTE_NO_CGROUP.format(why=cg.get("why") or "joining it failed"))
    iso["seccomp"] = bool(setup.get("seccomp"))
    if not iso["seccomp"]:
        iso["notes"].append(NOTE_NO_SECCOMP)
    iso["session_keyring"] = bool(setup.get("session_keyring"))
    if not iso["session_keyring"]:
        iso["notes"].append(NOTE_SHARED_KEYRING)
    want_rl = {
        "as": limits.memory_mb * 2**20,
        "cpu": limits.cpu_seconds,
        "fsize": limits.file_size_mb * 2**20,
        "nofile": limits.open_files,
        "core": 0,
    }
    iso["rlimits_in_force"] = all(iso["rlimits"][k] == v for k, v in want_rl.items())
    blocked = isolation.blocking_ancestor(os.path.realpath(sys.base_prefix))
    if iso["unprivileged_user"] and not iso["mount_namespace"] and blocked:
        iso["notes"].append(NOTE_PYTHON_BLOCKED.format(blocked=blocked))
    if info["uid"] == 0:
        iso["notes"].append(NOTE_WORKERS_ROOT)
    if os.geteuid() != 0:
        iso["notes"].append(NOTE_NOT_ROOT)
