"""HOSTILE (integrity), the answer-key walk: what correct implementations a worker holds besides the
student's own files. Imports every module name in sys.modules and a few a grader might ship, walks
their attributes and every object the garbage collector knows, and sorts what it finds:
gate-impl (a class with forward and backward), graph-impl (input, gate, forward, backward),
mlp-impl (loss and sgd_step, or a function named train), standin-proxy (the worker's shim of a
stand-in gate, whose values are computed on the grader's side), file-impl (a readable .py file outside its own
folder that defines a contract class). Bounded: one walk per process (at its first call), the file
scan at most 3 s and 40,000 files."""
import gc
import importlib
import os
import sys
import time

OWN = os.path.dirname(os.path.abspath(__file__))
EXTRA = ("standin_gates", "reference", "gradcheck", "gradcheck.reference", "harness", "answers")


def _file(obj):
    for candidate in (obj, *(getattr(obj, a, None) for a in ("forward", "backward", "loss", "input"))):
        name = getattr(getattr(candidate, "__code__", None), "co_filename", None)
        if isinstance(name, str):
            return name
    return ""


def _own(obj):
    path = _file(obj)
    return os.path.isabs(path) and os.path.abspath(path).startswith(OWN + os.sep)


def _kind(obj):
    if isinstance(obj, type) and _file(obj).endswith("/ops.py"):
        return "standin-proxy"   # the worker's shim of a stand-in gate: it computes nothing itself
    if isinstance(obj, type):
        has = lambda *names: all(callable(getattr(obj, n, None)) for n in names)  # noqa: E731
        if has("input", "gate", "forward", "backward"):
            return "graph-impl"
        if has("loss", "sgd_step"):
            return "mlp-impl"
        if has("forward", "backward"):
            return "gate-impl"
    elif callable(obj) and getattr(obj, "__name__", "") == "train" and hasattr(obj, "__code__"):
        return "mlp-impl"
    return None


def walk():
    found = {}
    for name in list(sys.modules) + list(EXTRA):
        try:
            mod = importlib.import_module(name)
        except BaseException:  # noqa: BLE001
            continue
        for value in list(vars(mod).values()) if hasattr(mod, "__dict__") else []:
            kind = _kind(value)
            if kind and not _own(value):
                found.setdefault(kind, set()).add(f"{name}.{getattr(value, '__name__', '?')} ({_file(value)})")
    for obj in gc.get_objects():
        kind = _kind(obj) if isinstance(obj, type) or callable(obj) else None
        if kind and not _own(obj):
            found.setdefault(kind, set()).add(f"{getattr(obj, '__qualname__', '?')} ({_file(obj)})")
    return {k: sorted(v)[:5] for k, v in found.items()}


MARKERS = (b"class SoftmaxCrossEntropyGate", b"class ComputationalGraph", b"class MatMulGate")
_FILES = []


def scan_files():
    """Readable .py files outside this folder that define a contract class (once per process)."""
    if _FILES:
        return _FILES[0]
    found, seen, deadline = [], 0, time.monotonic() + 3.0
    roots = ["/"] + [p for p in sys.path if p and os.path.isdir(p)]
    for root in roots:
        for folder, dirs, files in os.walk(root):
            if time.monotonic() > deadline or seen > 40_000:
                break
            if folder.startswith(("/proc", "/sys", "/dev")) or os.path.abspath(folder).startswith(OWN):
                dirs[:] = []
                continue
            for name in files:
                if not name.endswith(".py"):
                    continue
                seen += 1
                path = os.path.join(folder, name)
                try:
                    with open(path, "rb") as f:
                        head = f.read(200_000)
                except OSError:
                    continue
                if any(m in head for m in MARKERS) and path not in found:
                    found.append(path)
    _FILES.append(found[:5])
    return _FILES[0]


_WALKED = []


def report():
    """Raise with what was found (walked at the first call of each process: a request is being served)."""
    if not _WALKED:
        files = scan_files()
        _WALKED.append(("ANSWER-KEY-WALK found file-impl " + repr(files)) if files else
                       ("ANSWER-KEY-WALK found " + repr(sorted(walk().items()))))
    raise RuntimeError(_WALKED[0])
