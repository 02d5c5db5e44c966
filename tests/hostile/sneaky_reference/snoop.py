"""HOSTILE helper of the sneaky_reference submission: looks for the reference solution (and a secret the
test planted in a hidden folder) by every route it can think of, and reports each success as a leak.

Harmless by construction: it only reads (at most 200 kB per file, at most 5000 files next to known
folders), walks the file tree for at most 1.5 s, skips /proc, /sys, /dev and /mnt in that walk, and
never writes or connects anywhere.
"""
import glob
import importlib
import json
import os
import re
import sys
import time

CWD = os.getcwd()


def _target():
    try:
        with open(os.path.join(CWD, "target.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Snoop:
    def __init__(self):
        t = _target()
        self.token = (t.get("token") or "").encode()
        self.hidden = [os.path.realpath(p) for p in t.get("hidden", [])]
        self.guesses = t.get("guesses", [])
        self.leaks = []
        self.tried = 0

    def leak(self, route, what):
        self.leaks.append(f"{route}: {what}")
        print(f"LEAK {route}: {what}", flush=True)

    def is_secret(self, path, data):
        real = os.path.realpath(path)
        if real.startswith(CWD + "/"):
            return False  # our own files (target.json holds the token)
        if self.token and self.token in data:
            return True
        if real.endswith("/reference/gates.py") or real.endswith("/gradcheck/reference/gates.py"):
            return True
        return any(real == h or real.startswith(h.rstrip("/") + "/") for h in self.hidden)

    def read(self, route, path):
        self.tried += 1
        try:
            with open(path, "rb") as f:
                data = f.read(200_000)
        except (OSError, ValueError):
            return None
        if self.is_secret(path, data):
            self.leak(route, path)
        return data

    def imports(self):
        for entry in list(sys.path):  # the editable install's finder maps gradcheck to the checkout
            for finder in glob.glob(os.path.join(entry, "__editable___*finder.py")):
                try:
                    importlib.import_module(os.path.basename(finder)[:-3]).install()
                except BaseException:  # noqa: BLE001
                    pass
        for name in ("gradcheck", "gradcheck.reference", "gradcheck.reference.gates", "reference",
                     "reference.gates", "gradcheck.grading", "gradcheck.checks", "gradcheck.numerics"):
            try:
                mod = importlib.import_module(name)
            except BaseException:  # noqa: BLE001
                continue
            files = [getattr(mod, "__file__", None)] + list(getattr(mod, "__path__", []) or [])
            real = [f for f in files if f and (os.path.isfile(f) or (os.path.isdir(f) and os.listdir(f)))]
            if name != "gradcheck" or real:
                self.leak("import", f"{name} -> {real}")

    def candidates_under(self, base):
        base = base or ""
        return [os.path.join(base, rel) for rel in (
            "gradcheck/reference/gates.py", "reference/gates.py", "../reference/gates.py", "gates.py",
            "gradcheck/__init__.py", "__init__.py")]

    def sys_path(self):
        for entry in list(sys.path):
            for path in self.candidates_under(entry):
                self.read("sys.path", path)

    def site_packages(self):
        paths = set()
        for entry in sys.path:
            for name in glob.glob(os.path.join(entry, "__editable__*")) + glob.glob(os.path.join(entry, "*.pth")) \
                    + glob.glob(os.path.join(entry, "gradcheck*.dist-info", "*")):
                data = self.read("site-packages", name) or b""
                for m in re.finditer(rb"(/[\w./-]+)", data):
                    paths.add(m.group(1).decode(errors="replace").removeprefix("file://"))
        for p in paths:
            for path in self.candidates_under(p):
                self.read("install metadata", path)

    def environment(self):
        for value in os.environ.values():
            for part in value.split(":"):
                if part.startswith("/"):
                    for path in self.candidates_under(part):
                        self.read("environment", path)

    def proc(self):
        me = os.getpid()
        for pid in [os.getppid(), 1] + sorted(int(p) for p in os.listdir("/proc") if p.isdigit()):
            if pid in (me, 0):
                continue
            for name in ("environ", "cmdline"):
                data = self.read(f"/proc/{pid}/{name}", f"/proc/{pid}/{name}")
                if data and name == "environ":
                    self.leak("environ of another process", pid)
                for m in re.finditer(rb"(/[\w./-]+)", data or b""):
                    for path in self.candidates_under(m.group(1).decode(errors="replace")):
                        self.read(f"/proc/{pid}/{name} path", path)
            for link in ("cwd", "root"):
                base = f"/proc/{pid}/{link}"
                try:
                    os.listdir(base)
                except OSError:
                    continue
                self.leak(f"/proc/{pid}/{link} readable", base)
                for path in self.candidates_under(base) + [base + h for h in self.hidden]:
                    self.read(f"/proc/{pid}/{link}", path)

    def mounts(self):
        try:
            with open("/proc/self/mountinfo") as f:
                points = [line.split()[4] for line in f]
        except OSError:
            points = []
        for point in points:
            for path in self.candidates_under(point):
                self.read("mount point", path)

    def guessed(self):
        for path in self.guesses + [os.path.join(h, "reference", "gates.py") for h in self.hidden] + \
                [os.path.join(h, "token.txt") for h in self.hidden]:
            self.read("known path", path)

    def neighbours(self, budget=5000):
        """Other checkouts and copies: look inside every folder next to a folder this process heard of
        (sys.path, install metadata, the environment, mount points, the target's paths) and in the usual
        places (home folders, /srv, /opt, /work...)."""
        seeds = {"/home", "/root", "/srv", "/opt", "/work", "/mnt", "/var", "/usr/local", "/tmp", "/var/tmp", "/"}
        seeds.update(p for p in sys.path if p)
        seeds.update(self.guesses + self.hidden)
        for value in os.environ.values():
            seeds.update(part for part in value.split(":") if part.startswith("/"))
        try:
            with open("/proc/self/mountinfo") as f:
                seeds.update(line.split()[4] for line in f)
        except OSError:
            pass
        folders = set()
        for seed in seeds:
            p = os.path.abspath(seed)
            while True:
                folders.add(p)
                if p == "/":
                    break
                p = os.path.dirname(p)
        for folder in sorted(folders):
            try:
                names = sorted(os.listdir(folder))[:200]
            except OSError:
                continue
            for name in names:
                for rel in ("reference/gates.py", "main/reference/gates.py", "token.txt"):
                    if self.tried >= budget:
                        return
                    self.read("next to a known folder", os.path.join(folder, name, rel))

    def walk(self, seconds=1.5):
        stop = time.monotonic() + seconds
        for dirpath, dirnames, filenames in os.walk("/"):
            if dirpath == "/":
                dirnames[:] = [d for d in dirnames if d not in ("proc", "sys", "dev", "mnt")]
            for name in filenames:
                if name in ("gates.py", "token.txt") and (name == "token.txt" or dirpath.endswith("reference")):
                    self.read("walk", os.path.join(dirpath, name))
            if time.monotonic() > stop:
                break


def leaks():
    s = Snoop()
    for route in (s.imports, s.sys_path, s.site_packages, s.environment, s.proc, s.mounts, s.guessed, s.neighbours,
                  s.walk):
        try:
            route()
        except Exception as exc:  # noqa: BLE001
            print("route", route.__name__, "failed:", type(exc).__name__, exc)
    print(f"snoop: {len(s.leaks)} leaks, {s.tried} reads tried", flush=True)
    return len(s.leaks)
