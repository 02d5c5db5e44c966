"""gradcheck/sandbox/inside/protocol.py: frames round-trip, and every malformed or oversized frame is refused."""

import json
import re
import socket
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck.sandbox.inside import protocol
from gradcheck.sandbox.inside.protocol import ProtocolError, decode, encode, read_frame

PACKAGE = Path(protocol.__file__).parent.parent


def body_of(frame):
    (n,) = struct.unpack(">I", frame[:4])
    assert n == len(frame) - 4
    return frame[4:]


def raw_body(header, arrays=()):
    """A frame body from a header (dict, or raw bytes) and raw arrays given as (description, bytes),
    without any checks."""
    if isinstance(header, dict):
        header = json.dumps({**header, "_arrays": [spec for spec, _ in arrays]}).encode()
    return struct.pack(">I", len(header)) + header + b"".join(data for _, data in arrays)


def raw(descr, shape, data=b""):
    return [descr, list(shape) if isinstance(shape, tuple) else shape], data


dtypes = st.sampled_from([np.float64, np.int64, np.bool_])
arrays = dtypes.flatmap(lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=4, max_side=4)))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(arrays, max_size=5), st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3)
)
def test_round_trip(values, extra):
    header = {"op": "x", "refs": [{"$a": i} for i in range(len(values))], "extra": extra}
    got_header, got = decode(body_of(encode(header, values)))
    assert got_header == header
    assert len(got) == len(values)
    for a, b in zip(values, got):
        assert type(b) is np.ndarray and b.shape == a.shape and b.dtype == a.dtype
        np.testing.assert_array_equal(a, b)


def test_zero_d_and_floats_stay_what_they_are():
    _, (a, b, c) = decode(body_of(encode({}, [np.float64(2.5), 3, np.float32(1.5)])))
    assert a.shape == () and a.dtype == np.float64 and float(a) == 2.5
    assert b.dtype == np.int64 and c.dtype == np.float64


@pytest.mark.parametrize("value", [np.array([object()]), np.array(["text"]), np.array([1 + 2j]), np.zeros((1,) * 5)])
def test_encode_refuses_what_does_not_travel(value):
    with pytest.raises((TypeError, ValueError)):
        encode({}, [value])


BAD_BODIES = [
    ("pickled object array", raw_body({}, [raw("|O", (1,), b"cos\nsystem\n(S'echo PWNED'\ntR.")]), "not allowed"),
    ("big-endian floats", raw_body({}, [raw(">f8", (1,), b"\0" * 8)]), "not allowed"),
    ("float32", raw_body({}, [raw("<f4", (1,), b"\0" * 4)]), "not allowed"),
    ("structured dtype", raw_body({}, [raw([["a", "<f8"]], (1,), b"\0" * 8)]), "not allowed"),
    ("five dimensions", raw_body({}, [raw("<f8", (1, 1, 1, 1, 1), b"\0" * 8)]), "dimensions"),
    ("negative dimension", raw_body({}, [raw("<f8", (-1,), b"")]), "not allowed"),
    ("shape not ints", raw_body({}, [raw("<f8", ["2"], b"\0" * 16)]), "not allowed"),
    ("a shape promising a huge array", raw_body({}, [raw("<f8", (10**12,), b"\0" * 8)]), "exceed the cap"),
    ("bytes shorter than the shapes", raw_body({}, [raw("<f8", (3,), b"\0" * 8)]), "add up"),
    ("bytes longer than the shapes", raw_body({}, [raw("<f8", (1,), b"\0" * 16)]), "add up"),
    ("an .npy blob where raw bytes belong", raw_body(b'{"_arrays": [120]}'), "[dtype, shape]"),
    ("description not a pair", raw_body(b'{"_arrays": [["<f8"]]}'), "[dtype, shape]"),
    ("header not JSON", raw_body(b"{not json"), "not valid JSON"),
    ("header a list", raw_body(b"[1, 2]"), "not an object"),
    ("header too deep", raw_body(b"[" * 100_000 + b"]" * 100_000), "JSON"),
    ("header length past the end", struct.pack(">I", 1000) + b"{}", "runs past the end"),
    ("arrays not a list", raw_body(b'{"_arrays": "x"}'), "_arrays"),
    ("reference out of range", raw_body({"x": {"$a": 0}}), "out of range"),
    ("reference not an int", raw_body({"x": [{"$a": "0"}]}, [raw("<f8", (), b"\0" * 8)]), "out of range"),
    ("too short", b"\0\0", "too short"),
]


@pytest.mark.parametrize("name, body, message", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_decode_refuses(name, body, message):
    with pytest.raises(ProtocolError, match=re.escape(message)):
        decode(body)


def test_header_cap():
    body = raw_body({"pad": "x" * 2000})
    with pytest.raises(ProtocolError, match="exceeds"):
        decode(body, max_header=1000)


def test_read_frame_caps_and_ends():
    a, b = socket.socketpair()
    with a, b:
        a.sendall(encode({"op": "ping"}))
        assert decode(read_frame(b))[0] == {"op": "ping"}
        a.sendall(struct.pack(">I", 2**31))
        with pytest.raises(ProtocolError, match="exceeds"):
            read_frame(b, max_frame=2**20)
    a, b = socket.socketpair()
    with b:
        a.sendall(struct.pack(">I", 10) + b"abc")
        a.close()
        with pytest.raises(ProtocolError, match="ended inside a frame"):
            read_frame(b)
    a, b = socket.socketpair()
    with b:
        a.close()
        assert read_frame(b) is None


def test_no_module_of_gradcheck_unpickles():
    """Nothing in the package may import pickle-like modules (the worker's replies are data only)."""
    pattern = re.compile(r"^\s*(import|from)\s+(pickle|cPickle|_pickle|marshal|dill|shelve|cloudpickle|joblib)\b", re.M)
    offenders = [str(p) for p in PACKAGE.rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []
    for p in PACKAGE.rglob("*.py"):
        assert "allow_pickle=True" not in p.read_text(), p
