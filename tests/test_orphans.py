"""Killing the grader (SIGKILL, mid-run) leaves no gradcheck process behind within a few seconds: grader
pool processes, fork servers and workers (and what those started) all die with it; a re-run completes."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradcheck.assignment import DEFAULT_PATH

pytestmark = pytest.mark.system  # every test here starts real processes (tests/README.md)

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"


def proc_table():
    """{pid: (ppid, start time)} of every process."""
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                stat = f.read()
            rest = stat[stat.rindex(b")") + 2 :].split()
            out[int(p)] = (int(rest[1]), int(rest[19]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def descendants(root):
    """{pid: start time} of every process below ``root``."""
    table = proc_table()
    children = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = {}, list(children.get(root, []))
    while todo:
        p = todo.pop()
        if p in found or p not in table:
            continue
        found[p] = table[p][1]
        todo.extend(children.get(p, []))
    return found


def alive(procs):
    table = proc_table()
    return {p: s for p, s in procs.items() if p in table and table[p][1] == s}


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_kill_9_of_the_grader_leaves_nothing_and_a_rerun_completes(tmp_path):
    subs, out = tmp_path / "class", tmp_path / "reports"
    subs.mkdir()
    shutil.copytree(REFERENCE, subs / "correct", ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    for name in ("slow-1", "slow-2"):  # bounded: each import of gates sleeps 0.5 s (the grader is mid-run longer)
        shutil.copytree(REFERENCE, subs / name, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
        text = (subs / name / "gates.py").read_text()
        (subs / name / "gates.py").write_text("import time\ntime.sleep(0.5)\n" + text)
    text = DEFAULT_PATH.read_text().replace("\ncall_seconds = ", "\ncall_seconds = 5  # was ", 1)
    (tmp_path / "small.toml").write_text(text)
    cmd = [
        sys.executable,
        "-m",
        "gradcheck.cli",
        "grade",
        str(subs),
        "--out",
        str(out),
        "--jobs",
        "2",
        "--assignment",
        str(tmp_path / "small.toml"),
    ]
    grader = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # mid-run: fork servers are up and at least one worker is grading
        deadline = time.monotonic() + 120
        seen = {}
        while time.monotonic() < deadline:
            seen.update(descendants(grader.pid))
            zygotes = [p for p in seen if "zygote.py" in cmdline(p)]
            workers = [p for p in descendants(grader.pid) if any(p in descendants(z) for z in zygotes)]
            if len(zygotes) >= 2 and workers:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("the grader never got to grading")
        seen.update(descendants(grader.pid))
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        left = alive(seen)
        deadline = time.monotonic() + 5
        while left and time.monotonic() < deadline:
            time.sleep(0.05)
            left = alive(seen)
        assert not left, {p: cmdline(p) for p in left}
        print(f"{len(seen)} processes below the grader before kill -9; {len(left)} left 5 s later")
    finally:
        if grader.poll() is None:
            grader.kill()
            grader.wait()
        for p in alive(descendants(grader.pid)):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
    p = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    reports = {f.stem: json.loads(f.read_text()) for f in out.glob("*.json") if f.stem != "summary"}
    assert set(reports) == {"correct", "slow-1", "slow-2"}
    assert all(r["score"] == 100.0 for r in reports.values()), {n: r["score"] for n, r in reports.items()}
    assert sorted(os.listdir(tmp_path)) == ["class", "reports", "small.toml"]
