"""HOSTILE (integrity), the answer-key walk: what correct implementations a worker holds besides the
student's own files. Imports every module name in sys.modules and a few a grader might ship, walks
their attributes and every object the garbage collector knows, and sorts what it finds:
gate-impl (a class with forward and backward), graph-impl (input, gate, forward, backward),
mlp-impl (loss and sgd_step, or a function named train). Bounded: one pass over gc per call."""
import gc
import importlib
import os
import sys

OWN = os.path.dirname(os.path.abspath(__file__))
EXTRA = ("standin_gates", "reference", "gradcheck", "gradcheck.reference", "harness", "answers")


def _file(obj):
    code = getattr(obj, "__code__", None)
    if code is None:
        for attr in ("forward", "backward", "loss", "input"):
            code = getattr(getattr(obj, attr, None), "__code__", None)
            if code is not None:
                break
    return code.co_filename if code is not None else ""


def _own(obj):
    return os.path.abspath(_file(obj)).startswith(OWN + os.sep)


def _kind(obj):
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


def report():
    raise RuntimeError("ANSWER-KEY-WALK found " + repr(sorted(walk().items())))
