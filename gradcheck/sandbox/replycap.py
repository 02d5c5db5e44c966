"""How big a reply may be, from the request's shapes (trusted side).

A worker answers a request with arrays whose sizes the request determines: a gate's output has at
most the elements its inputs can broadcast or multiply to, its gradients the shapes of its inputs,
an MLP's gradients the shapes of its parameters (``sizes``), a model's those of the parameters its
script sets. ``reply_cap(header, arrays)`` bounds
the reply's bytes from that, with room to spare (twice the bound, plus the JSON header: value
entries, error texts); ``Session.call`` refuses a bigger reply before reading it (the call is an
error of the checks that needed it). A grader process's memory therefore follows the requests the
grader makes, never what a submission sends back. Correct code is far below the cap; only values
with far too many elements reach it.

Ops this module does not know get None: the sandbox's own cap (``Limits.reply_mb``) applies.
"""

from __future__ import annotations

import math

__all__ = ["reply_cap"]

SLACK = 64 * 1024  #: bytes of any reply beyond its values (the JSON around them)
PER_VALUE = 1024  #: JSON bytes per value entry (a reference, or an error text of <= ~600 chars)
MAX_HEADER = 4 * 2**20  #: the protocol's cap on a header (gradcheck.sandbox.inside.protocol.MAX_HEADER)


class _Bound:
    def __init__(self):
        self.elements = 0
        self.values = 0

    def add(self, elements, values=1):
        self.elements += int(elements)
        self.values += int(values)


def _shape(ref, arrays):
    if isinstance(ref, dict) and "$a" in ref:
        i = ref["$a"]
        if isinstance(i, int) and 0 <= i < len(arrays):
            return tuple(getattr(arrays[i], "shape", ()))
    if isinstance(ref, (int, float)):
        return ()
    raise ValueError("not an array reference")


def _size(shape) -> int:
    return math.prod(shape)


def _out_bound(shapes) -> int:
    """Elements a function of arrays of these shapes can sensibly return: what they broadcast to,
    a product of their largest dimensions (a matrix product), or the largest of them."""
    if not shapes:
        return 1
    biggest = max(_size(s) for s in shapes)
    product = math.prod(max(s) if s else 1 for s in shapes)
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    broadcast = math.prod(max(dims) for dims in zip(*padded)) if rank else 1
    return max(1, biggest, product, broadcast)


def _gates(header, arrays, b):
    for c in header["calls"]:
        shapes = [_shape(r, arrays) for r in c["inputs"]]
        out = _out_bound(shapes)
        if c.get("dout") is not None:
            out = max(out, _size(_shape(c["dout"], arrays)))
        # the output, and the gradients (one per input; softmax's backward may add further items)
        b.add(out + 2 * sum(_size(s) for s in shapes), 1 + 2 * len(shapes))
        mutable = c.get("mutable") or ()  # a function pair's param keys sent back (running averages)
        b.add(len(mutable) * max((_size(s) for s in shapes), default=1), len(mutable))


def _graph(header, arrays, b):
    if "graphs" in header:
        for g in header["graphs"]:
            _graph(g, arrays, b)
        return
    for run in header.get("runs", []):
        feeds = [_shape(r, arrays) for r in dict(run.get("feed", {})).values()]
        inputs = sum(_size(s) for s in feeds)
        largest = max([_size(s) for s in feeds] or [1])
        out = max(largest * largest, _out_bound(feeds))
        if run.get("dout") is not None:
            out = max(out, _size(_shape(run["dout"], arrays)))
        b.add(out + inputs, 1 + len(feeds))


def _mlp(header, arrays, b):
    if "nets" in header:
        for net in header["nets"]:
            _mlp(net, arrays, b)
        return
    sizes = [int(s) for s in header["sizes"]]
    params = sum(sizes[i] * sizes[i + 1] + sizes[i + 1] for i in range(len(sizes) - 1))
    n_params = 2 * max(1, len(sizes) - 1)
    widest = max(sizes or [1])
    for item in header.get("script", []):
        if "forward" in item:
            rows = (_shape(item["forward"], arrays) or (1,))[0]
            b.add(rows * widest)
        elif "loss" in item:
            b.add(1 + params, 1 + n_params)
        elif "params" in item:
            b.add(params, n_params)
        elif "train" in item:
            spec = item["train"]
            rows = (_shape(spec.get("X"), arrays) or (1,))[0] if isinstance(spec.get("X"), dict) else 1
            b.add(max(1, int(spec.get("steps", 1) or 1)) * max(1, rows) + params)
        else:
            b.add(1)


def _model(header, arrays, b):
    """A model's network (ops.op_model): its parameters have the shapes of the arrays its script sets
    (the params it was made with, read first, too); its scores one row per row of X, each at most as
    wide as its widest parameter; a loss one value and a gradient per parameter."""
    for net in header["nets"]:
        script = net["script"]
        sets = [[_shape(r, arrays) for r in dict(item["set"]).values()] for item in script if "set" in item]
        params = max([sum(_size(s) for s in shapes) for shapes in sets] or [0])
        n_params = max([len(shapes) for shapes in sets] or [0])
        widest = max([max(s) for shapes in sets for s in shapes if s] or [1])
        for item in script:
            if "params" in item:
                b.add(params, n_params)
            elif "scores" in item:
                rows = (_shape(item["scores"][0], arrays) or (1,))[0] if item["scores"] else 1
                b.add(rows * widest)
            elif "loss" in item:
                b.add(1 + params, 1 + n_params)
            else:
                b.add(0)


def _scalar(header, arrays, b):
    """A scalar engine's programs (ops.op_scalar): per run, the data of the slots it reads and the grads
    of those it reads (twice with a rerun)."""
    for program in header["programs"]:
        grads = len(program.get("grads", [])) * (2 if program.get("rerun") else 1)
        for _ in range(int(program.get("runs", 1))):
            b.add(len(program.get("out", [])) + grads, 3)


def _scalar_nn(header, arrays, b):
    """A scalar nn's networks (ops.op_scalar_nn): as many parameters as the largest array its script
    sets (or, before any, what its sizes allow: every int argument's square, summed), outputs one per
    row and weight, a loss per training step."""
    for net in header["nets"]:
        script = net["script"]
        sets = [_size(_shape(item["set"], arrays)) for item in script if "set" in item]
        sizes = [a for a in net.get("args", []) if isinstance(a, int)]
        sizes += [x for a in net.get("args", []) if isinstance(a, list) for x in a if isinstance(x, int)]
        params = max(sets + [(sum(sizes) + 1) ** 2])
        for item in script:
            if "call" in item:
                b.add(_size(_shape(item["weights"], arrays)) + params, 2)
            elif "train" in item:
                b.add(int(item["train"]["steps"]))
            else:
                b.add(params)


_OPS = {
    "gates": _gates,
    "functions": _gates,
    "graph": _graph,
    "mlp": _mlp,
    "model": _model,
    "scalar": _scalar,
    "scalar_nn": _scalar_nn,
}
# (a function's calls are bounded as a gate's)


def reply_cap(header, arrays) -> int | None:
    """The largest reply (frame bytes) a correct worker could send to this request, with room to
    spare; None for an op this module does not bound."""
    bound_op = _OPS.get(header.get("op") if isinstance(header, dict) else None)
    if bound_op is None:
        return None
    b = _Bound()
    try:
        bound_op(header, list(arrays), b)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None  # a request of a shape this module does not know: the sandbox's own cap
    head = min(MAX_HEADER, SLACK + PER_VALUE * b.values)
    return 8 + head + 2 * 8 * b.elements
