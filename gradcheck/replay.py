"""Recorded reference calls: what a student build (``gradcheck pack --student``) has instead of the
reference solution.

The checks get their ground truth by calling the reference's classes (``gradcheck.reference``:
gates, ``ComputationalGraph``, ``MLP``). ``gradcheck pack --student`` runs the real grader on the
visible checks with every reference class replaced by a *recording* stand-in (:class:`Proxy` in
recording mode): each call's result is stored under a hash of what was called and its exact inputs,
including everything done to the object before (its constructor's arguments, attributes set, earlier
calls). The student build ships, instead of the reference's code, stand-ins of the same names that
*replay* those results. A call that was not recorded (inputs that depend on the student's own
results, another seed, another numpy) raises :class:`NotRecorded`; the grader then reports the checks
that needed it as "can only be checked by your course's grader", never as failed.

Only the results of calls are stored, never code: the build carries the expected values of the
visible checks on their fixed inputs, nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct

import numpy as np

__all__ = [
    "NOT_RECORDED",
    "NotRecorded",
    "Proxy",
    "Recording",
    "load_answers",
    "make_function",
    "make_proxy",
    "recorded_seed",
]

NOT_RECORDED = (
    "can only be checked by your course's grader: this local build of gradcheck has no expected "
    "values for these inputs (they depend on your own results, or another seed); this says "
    "nothing about your code"
)


class NotRecorded(LookupError):
    """A reference call whose result was not recorded in this student build."""

    def __init__(self, what=""):
        super().__init__(NOT_RECORDED + (f" ({what})" if what else ""))


# --- hashing what was called ------------------------------------------------------------------------


def _feed(h, value) -> None:
    """Feed a canonical encoding of ``value`` into hash ``h``."""
    if isinstance(value, Proxy):
        h.update(b"P" + object.__getattribute__(value, "_gc_key"))
    elif isinstance(value, np.ndarray):
        arr = np.array(value, order="C", copy=True)
        h.update(b"A" + arr.dtype.str.encode() + repr(arr.shape).encode() + arr.tobytes())
    elif isinstance(value, np.generic):
        h.update(b"G" + value.dtype.str.encode() + value.tobytes())
    elif isinstance(value, bool) or value is None:
        h.update(b"B" + repr(value).encode())
    elif isinstance(value, int):
        h.update(b"I" + str(value).encode() + b";")
    elif isinstance(value, float):
        h.update(b"F" + struct.pack("<d", value))
    elif isinstance(value, str):
        data = value.encode("utf-8", "surrogatepass")
        h.update(b"S" + str(len(data)).encode() + b":" + data)
    elif isinstance(value, (list, tuple)):
        h.update(b"L" if isinstance(value, list) else b"T")
        h.update(str(len(value)).encode() + b"[")
        for v in value:
            _feed(h, v)
        h.update(b"]")
    elif isinstance(value, dict):
        h.update(b"D" + str(len(value)).encode() + b"{")
        for k in sorted(value, key=repr):
            _feed(h, k)
            _feed(h, value[k])
        h.update(b"}")
    else:
        raise TypeError(f"cannot record a call with an argument of type {type(value).__name__}")


def _step(key: bytes, *event) -> bytes:
    h = hashlib.sha256(key)
    _feed(h, list(event))
    return h.digest()


# --- storing results --------------------------------------------------------------------------------


def _dump(value):
    if isinstance(value, np.ndarray):
        arr = np.array(value, order="C", copy=True)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"cannot record an array of dtype {arr.dtype}")
        return {"$nd": [arr.dtype.str, list(arr.shape), base64.b64encode(arr.tobytes()).decode()]}
    if isinstance(value, np.generic):
        return {"$sc": [value.dtype.str, base64.b64encode(value.tobytes()).decode()]}
    if isinstance(value, float):
        return {"$f": value.hex()}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, tuple):
        return {"$t": [_dump(v) for v in value]}
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {"$d": [[_dump(k), _dump(v)] for k, v in value.items()]}
    raise TypeError(f"cannot record a result of type {type(value).__name__}")


def _load(data):
    if isinstance(data, list):
        return [_load(v) for v in data]
    if isinstance(data, dict):
        if "$nd" in data:
            dtype, shape, b64 = data["$nd"]
            return np.frombuffer(base64.b64decode(b64), dtype=np.dtype(dtype)).reshape(shape).copy()
        if "$sc" in data:
            dtype, b64 = data["$sc"]
            return np.frombuffer(base64.b64decode(b64), dtype=np.dtype(dtype))[0]
        if "$f" in data:
            return float.fromhex(data["$f"])
        if "$t" in data:
            return tuple(_load(v) for v in data["$t"])
        if "$d" in data:
            return {_load(k): _load(v) for k, v in data["$d"]}
    return data


class Recording:
    """Where a recording stand-in stores results (``answers``: hex key -> stored result), or where a
    replaying one finds them."""

    def __init__(self, answers=None, seed=None):
        self.answers = dict(answers or {})
        self.seed = seed  #: the seed the results were recorded with
        self.real = {}  # qualified name -> the real class or function (recording only)
        self.recording = False

    def record(self, key: bytes, result):
        self.answers.setdefault(key.hex(), _dump(result))
        return result

    def replay(self, key: bytes, what: str):
        try:
            stored = self.answers[key.hex()]
        except KeyError:
            raise NotRecorded(what) from None
        return _load(stored)

    def dumps(self) -> str:
        return json.dumps(
            {"format": 1, "seed": self.seed, "answers": self.answers}, sort_keys=True, separators=(",", ":")
        )


def load_answers(text: str) -> Recording:
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != 1:
        raise ValueError("not a gradcheck answers file")
    return Recording(data["answers"], data.get("seed"))


def recorded_seed(default: int = 0) -> int:
    """The seed a student build recorded its results with (its default seed); ``default`` elsewhere."""
    import importlib.util

    try:
        if importlib.util.find_spec("gradcheck.reference._answers") is None:
            return default
        from .reference._answers import STORE
    except Exception:  # noqa: BLE001 - not a student build
        return default
    return STORE.seed if isinstance(STORE.seed, int) else default


# --- stand-ins --------------------------------------------------------------------------------------


class Proxy:
    """A stand-in for a reference class: records (or replays) every call made on its instances.

    Subclasses set ``_gc_qual`` (e.g. "gates:AddGate"), ``_gc_methods`` (the names that are methods)
    and ``_gc_store`` (the Recording)."""

    _gc_qual = ""
    _gc_methods = frozenset()
    _gc_store: Recording = None

    def __init__(self, *args, **kwargs):
        cls = type(self)
        key = _step(b"", "new", cls._gc_qual, list(args), kwargs)
        object.__setattr__(self, "_gc_key", key)
        real = None
        if cls._gc_store.recording:
            real = cls._gc_store.real[cls._gc_qual](*args, **kwargs)
        object.__setattr__(self, "_gc_real", real)

    def __setattr__(self, name, value):
        key = _step(object.__getattribute__(self, "_gc_key"), "set", name, value)
        object.__setattr__(self, "_gc_key", key)
        real = object.__getattribute__(self, "_gc_real")
        if real is not None:
            setattr(real, name, value)

    def __getattr__(self, name):  # only for names not found the usual way
        if name.startswith("_gc_"):
            raise AttributeError(name)
        cls = type(self)
        if name in cls._gc_methods:

            def method(*args, **kwargs):
                key = _step(object.__getattribute__(self, "_gc_key"), "call", name, list(args), kwargs)
                object.__setattr__(self, "_gc_key", key)
                what = f"{cls._gc_qual.replace(':', '.')}.{name}"
                if cls._gc_store.recording:
                    real = object.__getattribute__(self, "_gc_real")
                    return cls._gc_store.record(key, getattr(real, name)(*_unwrap(args), **_unwrap(kwargs)))
                return cls._gc_store.replay(key, what)

            return method
        key = _step(object.__getattribute__(self, "_gc_key"), "get", name)
        if cls._gc_store.recording:
            return cls._gc_store.record(key, getattr(object.__getattribute__(self, "_gc_real"), name))
        return cls._gc_store.replay(key, f"{cls._gc_qual.replace(':', '.')}.{name}")


def _unwrap(value):
    if isinstance(value, Proxy):
        return object.__getattribute__(value, "_gc_real")
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def make_proxy(qual: str, methods, store: Recording) -> type:
    """A stand-in class for the reference class ``qual`` ("module:Class")."""
    name = qual.split(":", 1)[1]
    return type(
        name,
        (Proxy,),
        {
            "_gc_qual": qual,
            "_gc_methods": frozenset(methods),
            "_gc_store": store,
            "__module__": "gradcheck.reference." + qual.split(":", 1)[0],
            "__doc__": f"Recorded results of the reference's {name} (no code).",
        },
    )


def make_function(qual: str, store: Recording):
    """A stand-in for the reference function ``qual`` ("module:function")."""

    def function(*args, **kwargs):
        key = _step(b"", "fn", qual, list(args), kwargs)
        if store.recording:
            return store.record(key, store.real[qual](*_unwrap(args), **_unwrap(kwargs)))
        return store.replay(key, qual.replace(":", "."))

    function.__name__ = qual.split(":", 1)[1]
    function.__qualname__ = function.__name__
    return function
