"""Framing shared by the trusted side and the worker (standard library and numpy only).

A frame is a 4-byte big-endian length N, then N bytes: a 4-byte big-endian header length H, H bytes of
UTF-8 JSON (the header), then the arrays' raw bytes, one after the other. The header's key
``"_arrays"`` describes each array as ``[dtype, shape]``: dtype one of ``"<f8"``, ``"<i8"``, ``"|b1"``
(little-endian float64, int64, bool), shape a list of at most 4 non-negative ints; an array's byte
length follows from both. In JSON an array is referenced by its index into the frame's array list:
``{"$a": 3}``.

This is as inert as ``.npy`` loaded with ``allow_pickle=False``, and much cheaper for the thousands
of small arrays a grading run sends: the only thing ever built from the bytes is a plain ndarray of
a whitelisted dtype (``np.frombuffer``), after the description was checked here (dtype, ndim,
element cap, the lengths adding up to the frame). Nothing is ever unpickled. ``decode`` validates
everything and raises ``ProtocolError``; the trusted side calls it on every worker reply, the
worker on every request.

This file is imported by the worker as the top-level module ``protocol``: it must not import
anything from the ``gradcheck`` package.
"""

import json
import struct

import numpy as np

MAX_FRAME = 64 * 2**20  # bytes in one frame, header and arrays together
MAX_HEADER = 4 * 2**20  # bytes of JSON header
MAX_ARRAYS = 100_000  # arrays in one frame
MAX_ELEMENTS = 8_000_000  # elements in one array (64 MB of float64)
MAX_NDIM = 4

DTYPES = {"<f8": np.dtype("<f8"), "<i8": np.dtype("<i8"), "|b1": np.dtype("bool")}
_ENCODE_AS = {"f": np.float64, "i": np.int64, "u": np.int64, "b": np.bool_}
_LEN = struct.Struct(">I")


class ProtocolError(ValueError):
    """A frame that breaks the protocol or one of its caps; the message says what and by how much."""


# ------------------------------------------------------------------------------------------ encode


_PLAIN = {np.dtype("<f8"), np.dtype("<i8"), np.dtype("|b1")}


def plain_array(value):
    """``value`` as a plain C-contiguous little-endian float64/int64/bool ndarray (no subclass)."""
    if type(value) is np.ndarray and value.dtype in _PLAIN and value.flags.c_contiguous and value.ndim <= MAX_NDIM:
        return value  # already plain (most arrays): no conversion
    arr = np.asarray(value)
    kind = _ENCODE_AS.get(arr.dtype.kind)
    if kind is None:
        raise TypeError(f"cannot send an array of dtype {arr.dtype}: only float, int and bool arrays travel")
    if arr.ndim > MAX_NDIM:
        raise ValueError(f"cannot send an array of {arr.ndim} dimensions (at most {MAX_NDIM})")
    return np.asarray(arr, dtype=np.dtype(kind).newbyteorder("<"), order="C")  # keeps 0-d arrays 0-d


def encode(header, arrays=()):
    """The whole frame (length prefix included) for a JSON-able dict and a list of arrays."""
    plain = [plain_array(a) for a in arrays]
    head = dict(header)
    head["_arrays"] = [[a.dtype.str, list(a.shape)] for a in plain]
    text = json.dumps(head, separators=(",", ":")).encode("utf-8")
    body_len = 4 + len(text) + sum(a.nbytes for a in plain)
    if len(text) > MAX_HEADER:
        raise ProtocolError(f"header of {len(text)} bytes exceeds the {MAX_HEADER} byte cap")
    if body_len > MAX_FRAME:
        raise ProtocolError(f"frame of {body_len} bytes exceeds the {MAX_FRAME} byte cap")
    return b"".join([_LEN.pack(body_len), _LEN.pack(len(text)), text, *(a.tobytes() for a in plain)])


# ------------------------------------------------------------------------------------------ decode


def _describe(spec, index, max_elements):
    """(dtype, shape, byte length) of one array description ``[dtype, shape]``, validated."""
    if not isinstance(spec, list) or len(spec) != 2 or not isinstance(spec[1], list):
        raise ProtocolError(f"array {index}: description must be [dtype, shape]")
    descr, shape = spec
    if not isinstance(descr, str) or descr not in DTYPES:
        raise ProtocolError(f"array {index}: dtype {descr!r} not allowed (float64, int64 or bool only)")
    if len(shape) > MAX_NDIM or any(type(n) is not int or n < 0 for n in shape):
        raise ProtocolError(f"array {index}: shape {shape} not allowed (at most {MAX_NDIM} dimensions)")
    count = 1
    for n in shape:
        count *= n
    if count > max_elements:
        raise ProtocolError(f"array {index}: {count} elements exceed the cap of {max_elements}")
    dtype = DTYPES[descr]
    return dtype, tuple(shape), count * dtype.itemsize


def _check_refs(header, n_arrays):
    """Every {"$a": i} must name an array of the frame; walks without recursion."""
    stack = [header]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "$a" in node:
                i = node["$a"]
                if type(i) is not int or not 0 <= i < n_arrays:
                    raise ProtocolError(f"array reference {i!r} out of range (frame has {n_arrays} arrays)")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def decode(body, *, max_header=MAX_HEADER, max_elements=MAX_ELEMENTS):
    """``(header, arrays)`` out of one frame body (the bytes after the 4-byte length prefix)."""
    body = memoryview(body)
    if len(body) < 4:
        raise ProtocolError(f"frame of {len(body)} bytes is too short")
    (h_len,) = _LEN.unpack(body[:4])
    if h_len > max_header:
        raise ProtocolError(f"header of {h_len} bytes exceeds the {max_header} byte cap")
    if 4 + h_len > len(body):
        raise ProtocolError(f"header length {h_len} runs past the end of the {len(body)} byte frame")
    try:
        header = json.loads(bytes(body[4 : 4 + h_len]).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"header is not valid JSON ({type(exc).__name__}: {str(exc)[:200]})") from None
    if not isinstance(header, dict):
        raise ProtocolError(f"header is a JSON {type(header).__name__}, not an object")
    specs = header.pop("_arrays", [])
    if not isinstance(specs, list) or len(specs) > MAX_ARRAYS:
        raise ProtocolError("header key _arrays must be a list of [dtype, shape] descriptions")
    described = [_describe(spec, i, max_elements) for i, spec in enumerate(specs)]
    total = sum(n for _, _, n in described)
    if 4 + h_len + total != len(body):
        raise ProtocolError(f"arrays add up to {total} bytes, the frame holds {len(body) - 4 - h_len}")
    arrays, pos = [], 4 + h_len
    for dtype, shape, n in described:
        arrays.append(np.frombuffer(body[pos : pos + n], dtype=dtype).reshape(shape).copy())
        pos += n
    _check_refs(header, len(arrays))
    return header, arrays


# ----------------------------------------------------------------------------- blocking frame I/O


def _recv_exact(sock, n):
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            return None if got == 0 else bytes(buf[:got])
        got += k
    return buf


def read_frame(sock, max_frame=MAX_FRAME):
    """The body of the next frame from a blocking socket; None on end of stream before a frame."""
    prefix = _recv_exact(sock, 4)
    if prefix is None:
        return None
    if len(prefix) < 4:
        raise ProtocolError("stream ended inside a frame's length prefix")
    (n,) = _LEN.unpack(prefix)
    if n > max_frame:
        raise ProtocolError(f"frame of {n} bytes exceeds the {max_frame} byte cap")
    body = _recv_exact(sock, n)
    if body is None or len(body) < n:
        raise ProtocolError("stream ended inside a frame")
    return body
