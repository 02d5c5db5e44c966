"""Every reply answers exactly what was asked: the worker's replies checked against our own request.

Student code runs in the same process as the worker's handlers and can replace any of them (the
reply writer, numpy, builtins), so a reply may have any structure. ``validated(request, reply,
n_arrays)`` returns the reply rebuilt from what the request allows: the same number of entries as
the request has items, only the keys and types each item may have, and array references that exist.
A part that does not fit becomes ``{"error": MALFORMED}`` at the smallest level that holds it (one
value, one call, one run, one network), so it is an error of the checks that needed it and never of
the grader; ``ReplyMismatch`` when the reply as a whole does not answer the request.
"""

from __future__ import annotations

MALFORMED = "the worker's reply does not answer the request (was the worker's own code replaced?)"


class ReplyMismatch(Exception):
    """The reply as a whole does not fit the request (wrong op, wrong number of entries)."""


def _text(x, limit=2000):
    return x[:limit] if isinstance(x, str) else None


def error_entry(entry):
    """``{"error": text, "where": text}`` when ``entry`` is a well-formed error, else None."""
    if isinstance(entry, dict) and isinstance(entry.get("error"), str):
        out = {"error": _text(entry["error"])}
        if isinstance(entry.get("where"), str):
            out["where"] = _text(entry["where"], 200)
        return out
    return None


def value(entry, n_arrays):
    """A value reference ``{"$a": index, "kind": text}`` (index of an array of the reply) or an error."""
    if isinstance(entry, dict) and "$a" in entry:
        index = entry["$a"]
        if type(index) is int and 0 <= index < n_arrays:
            kind = entry.get("kind")
            return {"$a": index, "kind": kind[:40] if isinstance(kind, str) else ""}
        return {"error": MALFORMED}
    return error_entry(entry) or {"error": MALFORMED}


def _values(entries, n_arrays, length=None):
    if not isinstance(entries, list) or (length is not None and len(entries) != length):
        raise ReplyMismatch
    return [value(e, n_arrays) for e in entries]


def _named_values(entries, n_arrays):
    if not isinstance(entries, dict) or not all(isinstance(k, str) for k in entries):
        raise ReplyMismatch
    return {k: value(v, n_arrays) for k, v in entries.items()}


def _list(reply, key, length):
    if not isinstance(reply, dict) or not isinstance(reply.get(key), list) or len(reply[key]) != length:
        raise ReplyMismatch(f"expected {length} entries under {key!r}")
    return reply[key]


def _entry(build, entry, *args):
    """One entry rebuilt by ``build``, or an error entry (its own error, or MALFORMED)."""
    try:
        return build(entry, *args)
    except (ReplyMismatch, TypeError, KeyError, ValueError, AttributeError):
        return {"error": MALFORMED}


# --------------------------------------------------------------------------------------- ops


def _gate_call(entry, call, n):
    if not isinstance(entry, dict):
        raise ReplyMismatch
    out = error_entry(entry) or {}
    if "out" in entry:
        out["out"] = value(entry["out"], n)
    if "grads" in entry:
        out["grads"] = _values(entry["grads"], n)
    if "changed" in entry:
        allowed = (
            {f"{t}{i}" for t in "fb" for i in range(len(call["inputs"]))}
            | {"dz"}
            | ({"p"} if "param" in call else set())
        )
        changed = entry["changed"]
        if not isinstance(changed, list) or len(changed) > len(allowed) or not set(changed) <= allowed:
            raise ReplyMismatch
        out["changed"] = list(changed)
    if "param" in entry:  # a function pair's mutable param keys, right after forward
        if not isinstance(entry["param"], dict) or not set(entry["param"]) <= set(call.get("mutable", ())):
            raise ReplyMismatch
        out["param"] = {k: value(v, n) for k, v in entry["param"].items()}
    if "out" not in out and "error" not in out:
        raise ReplyMismatch
    return out


def gates(request, reply, n):
    calls = request["calls"]
    return {"calls": [_entry(_gate_call, e, c, n) for e, c in zip(_list(reply, "calls", len(calls)), calls)]}


def _changed(changed, allowed):
    """A list of tags, each one the request allows, each argument named once (the caller's arrays
    that changed: "<when>/<argument>" or, for the call itself, "<argument>")."""
    if (
        not isinstance(changed, list)
        or not all(isinstance(t, str) for t in changed)
        or not set(changed) <= allowed
        or len({t.split("/", 1)[-1] for t in changed}) != len(changed)
    ):
        raise ReplyMismatch
    return list(changed)


def graph_tags(run, forward_returned=True):
    """The "changed" tags a graph run may report: "<when>/<argument>" (see ops.op_graph); backward
    runs only when asked to and after a forward that returned."""
    args = [f"feed.{k}" for k in run["feed"]]
    tags = {f"{when}/{a}" for when in ("forward", "later") for a in args}
    if run.get("backward") is not False and forward_returned:
        args += ["dout"] if run.get("dout") is not None else []
        tags |= {f"{when}/{a}" for when in ("backward", "later") for a in args}
    return tags


def _graph_run(entry, run, n):
    err = error_entry(entry)
    if err and "out" not in entry:
        out = err
    else:
        out = {"out": value(entry["out"], n)}
        if "grads" in entry:
            out["grads"] = _named_values(entry["grads"], n)
        if err:
            out.update(err)
    if "changed" in entry:
        out["changed"] = _changed(entry["changed"], graph_tags(run, "out" in out))
    return out


def _graph(entry, graph, n):
    err = error_entry(entry)
    if err and "runs" not in entry:
        return err
    runs = graph["runs"]
    return {"runs": [_entry(_graph_run, e, run, n) for e, run in zip(_list(entry, "runs", len(runs)), runs)]}


def graph(request, reply, n):
    graphs = request["graphs"]
    return {"graphs": [_entry(_graph, e, g, n) for e, g in zip(_list(reply, "graphs", len(graphs)), graphs)]}


#: the arrays each kind of script item hands to the student's method (what "changed" may name)
MLP_ARRAYS = {"forward": ("X",), "loss": ("X", "y"), "sgd_step": ("X", "y"), "train": ("X", "y")}


def _mlp_result(entry, item, n):
    err = error_entry(entry)
    key = next(iter(item))
    if err and key not in entry:
        out = err
    elif key == "set":
        if entry.get("ok") is not True:
            raise ReplyMismatch
        out = {"ok": True}
    elif key == "forward":
        out = {"scores": value(entry["scores"], n)}
    elif key == "loss":
        out = {"loss": value(entry["loss"], n), "grads": _named_values(entry["grads"], n)}
    elif key == "sgd_step":
        out = {"loss": value(entry["loss"], n)}
    elif key == "params":
        out = {"params": _named_values(entry["params"], n)}
    elif key == "train":
        out = {"losses": value(entry["losses"], n)}
    else:
        raise ReplyMismatch
    if "changed" in entry:
        names = MLP_ARRAYS.get(key)
        if names is None:
            raise ReplyMismatch
        out["changed"] = _changed(entry["changed"], set(names) | {f"later/{k}" for k in names})
    return out


def _net(entry, net, n):
    err = error_entry(entry)
    if err and "results" not in entry:
        return err
    script = net["script"]
    return {
        "results": [_entry(_mlp_result, e, item, n) for e, item in zip(_list(entry, "results", len(script)), script)]
    }


def mlp(request, reply, n):
    nets = request["nets"]
    return {"nets": [_entry(_net, e, net, n) for e, net in zip(_list(reply, "nets", len(nets)), nets)]}


#: the most entries of a model's params or grads dict, and the longest name (the worker's MAX_KEYS, MAX_KEY_CHARS)
MODEL_KEYS, MODEL_KEY_CHARS = 64, 100


def _model_values(entries, n):
    if not isinstance(entries, dict) or len(entries) > MODEL_KEYS:
        raise ReplyMismatch
    if not all(isinstance(k, str) and len(k) <= MODEL_KEY_CHARS for k in entries):
        raise ReplyMismatch
    return {k: value(v, n) for k, v in entries.items()}


def model_tags(item, set_before) -> set:
    """The "changed" tags a model script item may report (see ops.op_model): a set item its own
    parameters changed later ("later/p.<name>"); a scores or loss call its arguments ("a<i>", "later/a<i>")
    and the parameters set before it in its network ("p.<name>")."""
    key = next(iter(item))
    if key == "set":
        return {f"later/p.{k}" for k in item["set"]}
    if key in ("scores", "loss"):
        args = {f"a{i}" for i in range(len(item[key]))}
        return args | {f"later/{a}" for a in args} | {f"p.{k}" for k in set_before}
    return set()


def _model_result(entry, item, n, set_before):
    err = error_entry(entry)
    key = next(iter(item))
    if err and not any(k in entry for k in ("ok", "params", "scores", "loss")):
        out = err
    elif key == "set":
        if entry.get("ok") is not True:
            raise ReplyMismatch
        out = {"ok": True}
    elif key == "params":
        out = {"params": _model_values(entry["params"], n)}
    elif key == "scores":
        out = {"scores": value(entry["scores"], n)}
    elif key == "loss":
        out = {"loss": value(entry["loss"], n), "grads": _model_values(entry["grads"], n)}
    else:
        raise ReplyMismatch
    if "changed" in entry:
        out["changed"] = _changed(entry["changed"], model_tags(item, set_before))
    return out


def _model_net(entry, net, n):
    err = error_entry(entry)
    if err and "results" not in entry:
        return err
    script = net["script"]
    results, set_before = [], set()
    for e, item in zip(_list(entry, "results", len(script)), script):
        results.append(_entry(_model_result, e, item, n, frozenset(set_before)))
        if "set" in item:
            set_before |= set(item["set"])
    return {"results": results}


def model(request, reply, n):
    nets = request["nets"]
    return {"nets": [_entry(_model_net, e, net, n) for e, net in zip(_list(reply, "nets", len(nets)), nets)]}


def _scalar_run(entry, program, n):
    err = error_entry(entry)
    if err and "data" not in entry:
        return err
    out = {"data": value(entry["data"], n)}
    if program.get("backward") is not None:
        for key in ("grads", "rerun") if program.get("rerun") else ("grads",):
            if key in entry:
                out[key] = value(entry[key], n)
    if err:
        out.update(err)
    return out


def _scalar_program(entry, program, n):
    err = error_entry(entry)
    if err and "runs" not in entry:
        return err
    runs = int(program.get("runs", 1))
    return {"runs": [_entry(_scalar_run, e, program, n) for e in _list(entry, "runs", runs)]}


def scalar(request, reply, n):
    """A scalar engine's programs (ops.op_scalar): one entry per program, one run per run asked for,
    each with the values the program reads (data; grads and rerun only when it calls backward)."""
    programs = request["programs"]
    return {
        "programs": [
            _entry(_scalar_program, e, p, n) for e, p in zip(_list(reply, "programs", len(programs)), programs)
        ]
    }


#: what each kind of scalar_nn script item answers (ops.op_scalar_nn)
SCALAR_NN_VALUES = {"parameters": ("data",), "call": ("out", "grads"), "zero_grad": ("grads",), "train": ("losses",)}


def _scalar_nn_result(entry, item, n):
    err = error_entry(entry)
    key = next(iter(item))
    if err and not any(k in entry for k in ("ok", "data", "out", "grads", "losses")):
        return err
    if key == "set":
        if entry.get("ok") is not True:
            raise ReplyMismatch
        return {"ok": True}
    if key not in SCALAR_NN_VALUES:
        raise ReplyMismatch
    out = {k: value(entry[k], n) for k in SCALAR_NN_VALUES[key]}
    if key == "parameters":
        if type(entry.get("count")) is not int or entry["count"] < 0:
            raise ReplyMismatch
        out["count"] = entry["count"]
    return out


def _scalar_net(entry, net, n):
    err = error_entry(entry)
    if err and "results" not in entry:
        return err
    script = net["script"]
    return {
        "results": [
            _entry(_scalar_nn_result, e, item, n) for e, item in zip(_list(entry, "results", len(script)), script)
        ]
    }


def scalar_nn(request, reply, n):
    nets = request["nets"]
    return {"nets": [_entry(_scalar_net, e, net, n) for e, net in zip(_list(reply, "nets", len(nets)), nets)]}


# (a function's calls are a gate's)
VALIDATORS = {
    "gates": gates,
    "functions": gates,
    "graph": graph,
    "mlp": mlp,
    "model": model,
    "scalar": scalar,
    "scalar_nn": scalar_nn,
}


def validated(request: dict, reply, n_arrays: int) -> dict:
    """The reply rebuilt from what ``request`` allows (see the module's docstring)."""
    check = VALIDATORS[request["op"]]
    try:
        return check(request, reply, n_arrays)
    except (ReplyMismatch, TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ReplyMismatch(MALFORMED) from exc
