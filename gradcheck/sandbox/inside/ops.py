"""What a worker does with a student's modules: plain data in, plain data out.

Runs inside the worker process, next to untrusted code: it imports only the standard library and
numpy. It holds no correct implementation of anything a student writes (stand-in gates are computed
on the trusted side, see ``_Remote``) and computes no verdict; every value it returns is converted to a float64 array
(or reported as an error) and judged on the trusted side. See docs/design.md for the requests.
"""

import importlib
import sys
import traceback
import types

import numpy as np

MODULES = ()  # the student's modules in import order, as the load request names them (set by op_load)
MAX_MODULES = 8  # a load request names at most this many
MAX_ELEMENTS = 5_000_000
_asarray, _array, _float64 = np.asarray, np.array, np.float64  # kept before student code can patch numpy
_seed_global = np.random.seed  # numpy's global generator, seeded before a model is made (its initial weights)
MAX_KEYS = 64  # entries of a model's params or grads dict sent back
MAX_KEY_CHARS = 100
_KINDS = {}  # dtype -> its name (str(dtype) is slow)


class State:
    def __init__(self):
        self.modules = {}  # name -> module, for the modules that imported
        self.remote = _Remote()


class _Reply:
    """Collects the arrays of one reply; values go into the JSON as {"$a": index, "kind": ...}."""

    def __init__(self):
        self.arrays = []

    def value(self, obj):
        """A student value as a float64 array reference, or an error entry."""
        try:
            kind = type(obj).__name__
            if isinstance(obj, (np.ndarray, np.generic)):
                kind = _KINDS.get(obj.dtype) or _KINDS.setdefault(obj.dtype, str(obj.dtype))
            arr = _asarray(obj)
            if arr.dtype == object or arr.dtype.kind not in "biuf":
                return {"error": f"returned {type(obj).__name__} (dtype {arr.dtype}), not numbers"}
            if arr.size > MAX_ELEMENTS:
                return {"error": f"returned an array of {arr.size} elements"}
            arr = _array(arr, dtype=_float64).view(np.ndarray)
            self.arrays.append(arr)
            return {"$a": len(self.arrays) - 1, "kind": kind}
        except BaseException as exc:  # noqa: BLE001 - a student object may raise anything
            return {"error": f"returned a value that is not numbers: {_describe(exc)}"}

    def values(self, seq):
        return [self.value(v) for v in seq]


def _describe(exc):
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 500 else text[:500] + "..."


def _error(exc, where):
    tb = traceback.extract_tb(exc.__traceback__)
    student = [f for f in tb if f.filename.rsplit("/", 1)[-1] in {m + ".py" for m in MODULES}]
    line = f" ({student[-1].filename.rsplit('/', 1)[-1]}, line {student[-1].lineno})" if student else ""
    return {"error": _describe(exc) + line, "where": where}


def _arg(ref, arrays, floats=False):
    """Decode an argument: {"$a": i} -> a fresh copy of array i (a Python float for 0-d when floats)."""
    if isinstance(ref, dict) and "$a" in ref:
        arr = arrays[ref["$a"]].copy()
        return float(arr) if floats and arr.ndim == 0 else arr
    return ref


def _grads(result, n_inputs):
    if n_inputs == 1 and not isinstance(result, (list, tuple)):
        return [result]  # a one-input gate may return a bare gradient
    if not isinstance(result, (list, tuple)):
        raise TypeError(f"backward returned {type(result).__name__}, expected a list or tuple of gradients")
    return list(result)


# ---------------------------------------------------------------------------------------- ops


def _module_names(names):
    """The module names of a load request, checked: 1 to MAX_MODULES distinct plain identifiers."""
    if not (
        isinstance(names, list)
        and 0 < len(names) <= MAX_MODULES
        and all(isinstance(n, str) and n.isidentifier() for n in names)
        and len(set(names)) == len(names)
    ):
        raise ValueError(f"'modules' must be 1 to {MAX_MODULES} distinct module names, got {names!r:.200}")
    return tuple(names)


def op_load(state, header, arrays, reply):
    """Import the modules named in ``modules`` (the assignment's, e.g. gates, graph, mlp), in that
    order, from the private copy. With ``standins`` (``{"units": [{"id", "style", "module", "names"}]}``:
    the units the student's own did not pass, sent only to sessions that do not grade those units),
    each such unit's class or functions in its module are replaced by stand-ins right after that module
    imports, before the modules that use it: classes and functions whose calls are computed on the
    trusted side (``_Remote``), so no correct unit is ever in this process."""
    global MODULES
    MODULES = _module_names(header.get("modules"))
    status = {}
    standins = _standin_units(header.get("standins"))
    for name in MODULES:
        sys.modules.pop(name, None)
    for name in MODULES:
        mine = [u for u in standins if u["module"] == name]
        try:
            module = importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - SystemExit at import too
            status[name] = {"ok": False, **_error(exc, f"import {name}")}
            if mine:
                module = types.ModuleType(name)
                sys.modules[name] = module
            else:
                sys.modules.pop(name, None)
                continue
        for unit in mine:
            _install_standin(module, unit, state.remote)
        state.modules[name] = module
        status.setdefault(name, {"ok": True})
        status[name]["names"] = _public_names(module, name)
    return {"modules": status}


def _standin_units(spec):
    """The load request's stand-in units, checked: [{"id", "style", "module", "names"}]."""
    if spec is None:
        return []
    units = spec.get("units") if isinstance(spec, dict) else None
    if not isinstance(units, list) or len(units) > 256:
        raise ValueError("malformed stand-ins")
    for u in units:
        if not (
            isinstance(u, dict)
            and u.get("style") in ("gate", "function_pair", "loss_function")
            and isinstance(u.get("id"), str)
            and isinstance(u.get("module"), str)
            and isinstance(u.get("names"), list)
            and 1 <= len(u["names"]) <= 2
            and all(isinstance(n, str) and n.isidentifier() for n in u["names"])
        ):
            raise ValueError("malformed stand-in unit")
    return units


def _install_standin(module, unit, remote):
    """Replace one unit in ``module`` by its stand-in (a gate's class, a pair's two functions, a loss)."""
    names, ident = unit["names"], unit["id"]
    if unit["style"] == "gate":
        cls = _standin_class(names[0], getattr(module, names[0], None), remote, ident, unit["module"])
        setattr(module, names[0], cls)
    elif unit["style"] == "loss_function":
        setattr(module, names[0], _standin_loss(names[0], remote, ident, unit["module"]))
    else:
        forward, backward = _standin_pair(names, remote, ident, unit["module"])
        setattr(module, names[0], forward)
        setattr(module, names[1], backward)


MAX_NAMES = 1000  # public names a load reply lists per module


def _public_names(module, name):
    """The public names of module ``name``, those it defines itself first (its functions and classes),
    then the rest; at most MAX_NAMES. ``from numpy import *`` brings 500 names of its own: sorted
    together, the first few hundred would leave out a student's ``relu_forward``."""
    own, other = [], []
    for n, v in list(vars(module).items()):
        if not isinstance(n, str) or n.startswith("_"):
            continue
        try:
            mine = getattr(v, "__module__", None) == name
        except BaseException:  # noqa: BLE001 - a student object may raise anything
            mine = False
        (own if mine is True else other).append(n)
    return (sorted(own) + sorted(other))[:MAX_NAMES]


class _Remote:
    """Stand-ins computed on the trusted side: each call sends ``{"_standin": {...}}`` with the
    arguments as float64 arrays (int64 for labels) and waits for the values (``send_and_wait``, set by
    the worker loop: one frame out, one frame back, within the current request)."""

    def __init__(self):
        self.send_and_wait = None
        self.count = 0

    def new(self):
        self.count += 1
        return self.count

    def call(self, unit, name, ident, step, values, **extra):
        """One stand-in call: ``values`` (arrays) and ``extra`` (plain data) out, the arrays and header back."""
        arrays = []
        for v in values:
            a = _asarray(v)
            a = _array(a, dtype=np.int64 if a.dtype.kind in "biu" else _float64)
            if a.size > MAX_ELEMENTS:
                raise ValueError(f"{name}: an array of {a.size} elements")
            arrays.append(a)
        request = {"id": ident, "unit": unit, "step": step, "values": len(arrays), **extra}
        header, out = self.send_and_wait({"_standin": request}, arrays)
        if "error" in header or not out:
            raise RuntimeError(f"{name} (stand-in): {header.get('error', 'no value')}")
        return header, [o[()] if o.ndim == 0 else o for o in out]


def _standin_class(name, base, remote, unit, module):
    """A class named ``name`` whose instances compute on the trusted side; a subclass of the student's
    own class of that name where it can be (so ``isinstance`` checks in their graph hold)."""

    def __init__(self, *args):
        self.__dict__["_gradcheck_standin"] = (remote.new(), [float(a) for a in args])

    def forward(self, *inputs):
        ident, args = self.__dict__["_gradcheck_standin"]
        return remote.call(unit, name, ident, "f", inputs, args=args)[1][0]

    def backward(self, *dout):
        ident, args = self.__dict__["_gradcheck_standin"]
        return remote.call(unit, name, ident, "b", dout, args=args)[1]

    namespace = {"__init__": __init__, "forward": forward, "backward": backward, "__module__": module}
    if isinstance(base, type):
        try:
            return type(base)(name, (base,), namespace)
        except BaseException:  # noqa: BLE001 - a class that cannot be subclassed: a plain one
            pass
    return type(name, (), namespace)


class _Cache:
    """What a stand-in function pair's forward returns as its cache: a token (the cache is on the trusted side)."""

    __slots__ = ("ident",)

    def __init__(self, ident):
        self.ident = ident

    def __repr__(self):
        return "<stand-in cache>"


_PLAIN = (str, bool, int, float, type(None))


def _standin_pair(names, remote, unit, module):
    """A function pair's stand-ins: forward(*inputs[, param]) -> (out, cache token), backward(dout, cache).
    A param dict's plain values and its arrays go to the trusted side; the keys the unit may change come
    back and are set in the caller's dict, as the reference would have."""
    forward_name, backward_name = names

    def forward(*args):
        param, inputs = None, list(args)
        if inputs and isinstance(inputs[-1], dict):
            param = inputs.pop()
        plain, keys, values = None, [], []
        if param is not None:
            plain = {}
            for k, v in param.items():
                if isinstance(v, _PLAIN) and not isinstance(v, np.generic):
                    plain[str(k)] = v
                elif isinstance(v, np.generic) and v.dtype.kind in "biuf":
                    plain[str(k)] = v.item()
                else:
                    keys.append(str(k))
                    values.append(v)
        ident = remote.new()
        extra = {} if param is None else {"param": plain, "param_arrays": keys}
        header, out = remote.call(unit, forward_name, ident, "f", [*inputs, *values], **extra)
        changed = header.get("param", [])
        if param is not None and isinstance(changed, list) and len(changed) == len(out) - 1:
            for k, v in zip(changed, out[1:]):
                param[k] = v
        return out[0], _Cache(ident)

    def backward(dout, cache):
        if not isinstance(cache, _Cache):
            raise TypeError(f"{backward_name}: the cache is not one {forward_name} returned")
        header, grads = remote.call(unit, backward_name, cache.ident, "b", [dout])
        return grads[0] if header.get("single") is True and len(grads) == 1 else tuple(grads)

    forward.__name__, forward.__qualname__, forward.__module__ = forward_name, forward_name, module
    backward.__name__, backward.__qualname__, backward.__module__ = backward_name, backward_name, module
    return forward, backward


def _standin_loss(name, remote, unit, module):
    """A loss function's stand-in: f(*inputs) -> (loss, grad), computed on the trusted side."""

    def loss(*inputs):
        out = remote.call(unit, name, remote.new(), "f", inputs)[1]
        return float(out[0]), out[1]

    loss.__name__, loss.__qualname__, loss.__module__ = name, name, module
    return loss


def op_gates(state, header, arrays, reply):
    """Gate calls, every one alike: make an instance, forward(inputs), later backward(dout).

    ``calls``: [{"cls", "args", "floats", "inputs": [refs], "dout": ref | null}]; ``order``: the
    steps as [call index, "f" | "b"], each call's "f" before its "b" (the trusted side interleaves
    and shuffles them). Reply ``{"calls": [...]}``, one entry per call: "out", "grads", "changed" (the
    arguments that differ from what was sent: "f<i>" input i right after forward, "b<i>" after
    backward, "dz" the upstream gradient after backward), and "error"/"where" for the step that raised."""
    gates = state.modules.get("gates")
    calls = header["calls"]
    done = [{} for _ in calls]
    live = [None] * len(calls)
    args = [None] * len(calls)
    for k, step in header["order"]:
        call, entry = calls[k], done[k]
        if "error" in entry:
            continue
        try:
            if step == "f":
                floats = call.get("floats", False)
                args[k] = [_arg(a, arrays, floats) for a in call["inputs"]]
                live[k] = getattr(gates, call["cls"])(*call.get("args", []))
                entry["out"] = reply.value(live[k].forward(*args[k]))
                entry["changed"] = _changed(args[k], call["inputs"], arrays, "f")
            else:
                dout = call.get("dout")
                dout = None if dout is None else _arg(dout, arrays)
                args[k].append(dout)
                result = live[k].backward() if dout is None else live[k].backward(dout)
                entry["grads"] = reply.values(_grads(result, len(call["inputs"])))
        except BaseException as exc:  # noqa: BLE001
            entry.update(_error(exc, f"{call['cls']}.{'forward' if step == 'f' else 'backward'}"))
    for k, entry in enumerate(done):
        live[k] = None
        if args[k] is not None and "changed" in entry:
            refs = list(calls[k]["inputs"])
            entry["changed"] += _changed(args[k][: len(refs)], refs, arrays, "b")
            if len(args[k]) > len(refs) and args[k][len(refs)] is not None:
                entry["changed"] += ["dz"] if _changed(args[k][len(refs) :], [calls[k]["dout"]], arrays, "") else []
    return {"calls": done}


def _changed(values, refs, arrays, tag):
    """Tags of the arguments that are no longer what was sent (Python floats cannot change)."""
    return [f"{tag}{i}" for i in _changed_at(values, refs, arrays)]


def _changed_at(values, refs, arrays):
    """Indices of the arguments that are no longer what was sent, bit for bit (Python floats, which
    cannot change, and arguments that are not array references are skipped)."""
    out = []
    for i, (v, ref) in enumerate(zip(values, refs)):
        if isinstance(v, float) or not (isinstance(ref, dict) and "$a" in ref):
            continue
        sent = arrays[ref["$a"]]
        try:
            same = (
                type(v) is np.ndarray
                and v.shape == sent.shape
                and v.dtype == sent.dtype
                and v.tobytes() == sent.tobytes()
            )  # bit for bit: any write that changed a value
        except BaseException:  # noqa: BLE001
            same = False
        if not same:
            out.append(i)
    return out


def _changed_names(given, arrays, skip=()):
    """The names in ``given`` ({name: (the value handed to the student, its reference)}) whose
    array is no longer what was sent, leaving out ``skip`` (already reported)."""
    names = [k for k in given if k not in skip]
    return [names[i] for i in _changed_at([given[k][0] for k in names], [given[k][1] for k in names], arrays)]


def op_graph(state, header, arrays, reply):
    """Graphs built from the session's gates and run by the student's ComputationalGraph, each
    graph's runs in sequence (a second forward with new values; ``"backward": false`` runs forward
    only). ``{"graphs": [{"nodes": [...], "runs": [...], "floats": bool}, ...]}``. Each run's entry
    has "changed": the caller's arrays of that run that are no longer what was sent, as
    "<when>/<argument>": when "forward" (right after forward), "backward" (after backward), "later"
    (at the end of the request: changed by a later call, on this graph or another); argument
    "feed.<name>" (an array of forward's feed dict) or "dout"."""
    seen = []  # (entry, the arrays handed over) of every run of every graph
    graphs = [_run_graph(state, g, arrays, reply, seen) for g in header["graphs"]]
    for entry, mine in seen:
        flagged = {t.split("/", 1)[1] for t in entry["changed"]}
        entry["changed"] += [f"later/{k}" for k in _changed_names(mine, arrays, flagged)]
    return {"graphs": graphs}


def _run_graph(state, header, arrays, reply, seen):
    floats = header.get("floats", False)
    try:
        gates = state.modules.get("gates")
        g = state.modules["graph"].ComputationalGraph()
        handles = []
        for node in header["nodes"]:
            if "input" in node:
                handles.append(g.input(node["input"]))
            else:
                gate = getattr(gates, node["gate"])(*node.get("args", []))
                handles.append(g.gate(gate, *[handles[i] for i in node["in"]]))
    except BaseException as exc:  # noqa: BLE001
        return {"error": _error(exc, "building the graph")["error"]}
    runs, given = [], []
    for run in header["runs"]:
        mine = {}  # what was handed over, kept here: the student may change the dict itself
        given.append(mine)
        try:
            feed = {k: _arg(v, arrays, floats) for k, v in run["feed"].items()}
            mine.update({f"feed.{k}": (feed[k], ref) for k, ref in run["feed"].items()})
            entry = {"out": reply.value(g.forward(feed))}
        except BaseException as exc:  # noqa: BLE001
            entry = _error(exc, "ComputationalGraph.forward")
        runs.append(entry)
        flagged = _changed_names(mine, arrays)
        entry["changed"] = [f"forward/{k}" for k in flagged]
        if "out" not in entry or run.get("backward") is False:
            continue  # forward only: the next run's backward must use the latest forward
        dout = run.get("dout")
        try:
            if dout is not None:
                mine["dout"] = (_arg(dout, arrays), dout)
            grads = g.backward() if dout is None else g.backward(mine["dout"][0])
            entry["grads"] = {str(k): reply.value(v) for k, v in dict(grads).items()}
        except BaseException as exc:  # noqa: BLE001
            entry.update(_error(exc, "ComputationalGraph.backward"))
        entry["changed"] += [f"backward/{k}" for k in _changed_names(mine, arrays, flagged)]
    seen += [(entry, mine) for entry, mine in zip(runs, given) if "changed" in entry]
    return {"runs": runs}


def _given(item, arrays):
    """The caller's arrays a script item hands to the student's method, each a fresh copy:
    {name: (copy, reference)}."""
    if "forward" in item:
        refs = {"X": item["forward"]}
    elif "loss" in item or "sgd_step" in item:
        args = item.get("loss", item.get("sgd_step"))
        refs = {"X": args[0], "y": args[1]}
    elif "train" in item:
        refs = {"X": item["train"]["X"], "y": item["train"]["y"]}
    else:
        return {}
    return {k: (_arg(ref, arrays), ref) for k, ref in refs.items()}


def _mlp_item(net, mlp, item, given, arrays, reply):
    if "set" in item:
        for k, v in item["set"].items():
            net.params[k] = _arg(v, arrays)
        return {"ok": True}
    if "forward" in item:
        return {"scores": reply.value(net.forward(given["X"][0]))}
    if "loss" in item:
        loss, grads = net.loss(given["X"][0], given["y"][0])
        return {"loss": reply.value(loss), "grads": {str(k): reply.value(v) for k, v in dict(grads).items()}}
    if "sgd_step" in item:
        lr = item["sgd_step"][2]
        return {"loss": reply.value(net.sgd_step(given["X"][0], given["y"][0], lr))}
    if "params" in item:
        return {"params": {str(k): reply.value(v) for k, v in dict(net.params).items()}}
    if "train" in item:
        spec = {k: v for k, v in item["train"].items() if k not in ("X", "y")}
        return {"losses": reply.value(list(mlp.train(net, given["X"][0], given["y"][0], **spec)))}
    raise ValueError(f"unknown mlp request {sorted(item)}")


def op_mlp(state, header, arrays, reply):
    """One network per entry of header["nets"] (or the header itself), each running its script.
    Items that hand arrays to the student (forward, loss, sgd_step, train) report "changed": the
    names ("X", "y") of those that are no longer what was sent right after the call, and as
    "later/<name>" those changed afterwards, by a later call on this network or another (compared at
    the end of the request)."""
    seen = []  # (entry, the arrays handed over) of every item of every network
    nets = header["nets"] if "nets" in header else [header]
    out = [_run_net(state, net, arrays, reply, seen) for net in nets]
    for entry, mine in seen:
        entry["changed"] += [f"later/{k}" for k in _changed_names(mine, arrays, entry["changed"])]
    return {"nets": out} if "nets" in header else out[0]


def _run_net(state, header, arrays, reply, seen):
    mlp = state.modules.get("mlp")
    try:
        net = mlp.MLP(list(header["sizes"]), activation=header["activation"], seed=header.get("seed", 0))
    except BaseException as exc:  # noqa: BLE001
        return {"error": _error(exc, "MLP(...)")["error"]}
    results, given = [], []
    for item in header["script"]:
        mine = {}
        try:
            mine = _given(item, arrays)
            entry = _mlp_item(net, mlp, item, mine, arrays, reply)
        except BaseException as exc:  # noqa: BLE001
            where = next(iter(item), "?")
            entry = _error(exc, "train" if where == "train" else f"MLP.{where}")
        if mine:
            entry["changed"] = _changed_names(mine, arrays)
        results.append(entry)
        given.append(mine)
    seen += [(entry, mine) for entry, mine in zip(results, given) if mine]
    return {"results": results}


def op_functions(state, header, arrays, reply):
    """Function calls (an assignment's ``function_pair`` and ``loss_function`` units), every one alike.

    ``calls``: [{"module", "forward", "backward" (a pair's; absent for a loss function), "inputs":
    [refs], "param": {...} (a pair's last argument, a fresh copy each call; absent: none), "mutable":
    [keys of param the function may change], "dout": ref | null, "n_grads"}]; ``order`` as op_gates.
    A pair: "f" calls ``forward(*inputs[, param]) -> (out, cache)``, "b" ``backward(dout, cache)``. A
    loss function: "f" calls ``f(*inputs) -> (loss, grad)`` ("b" then has nothing to do). Reply
    ``{"calls": [...]}`` as op_gates', "changed" also holding "p" when param changed beyond its
    mutable keys, and "param": {key: value} the mutable keys param holds right after forward."""
    calls = header["calls"]
    done = [{} for _ in calls]
    cache = [None] * len(calls)
    args = [None] * len(calls)
    params = [None] * len(calls)
    for k, step in header["order"]:
        call, entry = calls[k], done[k]
        if "error" in entry:
            continue
        module = state.modules.get(call["module"])
        name = call["forward"] if step == "f" else call.get("backward")
        try:
            if step == "f":
                args[k] = [_arg(a, arrays) for a in call["inputs"]]
                extra = []
                if "param" in call:
                    params[k] = _fresh(call["param"])
                    extra = [params[k]]
                result = getattr(module, name)(*args[k], *extra)
                if not isinstance(result, (list, tuple)) or len(result) != 2:
                    raise TypeError(f"{name} returned {type(result).__name__}, expected a pair (out, cache)")
                entry["out"] = reply.value(result[0])
                entry["changed"] = _changed(args[k], call["inputs"], arrays, "f")
                if params[k] is not None and call.get("mutable"):  # what forward left there (running averages)
                    entry["param"] = {m: reply.value(params[k][m]) for m in call["mutable"] if m in params[k]}
                if call.get("backward") is None:
                    entry["grads"] = reply.values(_grads(result[1], call.get("n_grads", 1)))
                else:
                    cache[k] = result[1]
            elif call.get("backward") is not None:
                dout = _arg(call["dout"], arrays)
                args[k].append(dout)
                result = getattr(module, name)(dout, cache[k])
                entry["grads"] = reply.values(_grads(result, call.get("n_grads", 1)))
        except BaseException as exc:  # noqa: BLE001
            entry.update(_error(exc, str(name)))
    for k, entry in enumerate(done):
        cache[k] = None
        if args[k] is not None and "changed" in entry:
            refs = list(calls[k]["inputs"])
            entry["changed"] += _changed(args[k][: len(refs)], refs, arrays, "b")
            if len(args[k]) > len(refs) and _changed(args[k][len(refs) :], [calls[k]["dout"]], arrays, ""):
                entry["changed"].append("dz")
            if params[k] is not None and not _same_param(params[k], calls[k]["param"], calls[k].get("mutable", [])):
                entry["changed"].append("p")
    return {"calls": done}


def _fresh(value):
    """A deep copy of a plain-data param (dicts, lists, numbers, strings)."""
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    return value


def _same_param(given, sent, mutable):
    """The param dict as sent, apart from its mutable keys (bn_param's running averages)."""
    try:
        if type(given) is not dict:
            return False
        keys = (set(given) | set(sent)) - set(mutable)
        return all(k in given and k in sent and _plain_equal(given[k], sent[k]) for k in keys)
    except BaseException:  # noqa: BLE001
        return False


def _plain_equal(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return set(a) == set(b) and all(_plain_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_plain_equal(x, y) for x, y in zip(a, b))
    return a == b


def op_model(state, header, arrays, reply):
    """Model units: a class with a ``params`` dict and ``loss(X, y) -> (loss, grads)``, ``loss(X)`` ->
    scores (an assignment's ``model`` units; CS231n's TwoLayerNet).

    ``nets``: [{"module", "cls", "args": {keyword arguments}, "seed", "script": [...]}]: numpy's global
    generator is seeded with ``seed``, then ``module.cls(**args)`` is made and runs its script, items
    in order, each with its own error: ``{"params": true}`` (the params dict as it is),
    ``{"set": {name: ref}}`` (``net.params[name] = `` a fresh copy, for each name), ``{"scores": [refs]}``
    (``net.loss(*args)``, y left out), ``{"loss": [refs]}`` (``net.loss(*args) -> (loss, grads)``).
    Reply ``{"nets": [{"results": [...]} | {"error"}]}``: ``{"ok": true}``, ``{"params": {name: V}}``,
    ``{"scores": V}``, ``{"loss": V, "grads": {name: V}}``. "changed" on a scores or loss item: its
    arguments that are no longer what was sent, "a<i>" right after the call, "later/a<i>" at the end of
    the request (a later call, on this network or another), and "p.<name>": the parameter array the
    grader set last (the one the call was given) changed in place; on a set item, "later/p.<name>":
    one of its arrays changed at the end of the request, by no call reported above."""
    seen = []  # (entry, the arrays handed over) of every call of every network
    handed = []  # [set entry, name, array, reference, reported] of every parameter set
    nets = [_run_model(state, net, arrays, reply, seen, handed) for net in header["nets"]]
    for entry, mine in seen:
        flagged = {t.split("/", 1)[-1] for t in entry["changed"]}
        entry["changed"] += [f"later/{k}" for k in _changed_names(mine, arrays, flagged)]
    for record in handed:
        entry, name, value, ref, reported = record
        if not reported and _changed_at([value], [ref], arrays):
            entry.setdefault("changed", []).append(f"later/p.{name}")
    return {"nets": nets}


def _run_model(state, header, arrays, reply, seen, handed):
    module, cls = state.modules.get(header["module"]), header["cls"]
    try:
        _seed_global(int(header["seed"]))
        net = getattr(module, cls)(**dict(header["args"]))
    except BaseException as exc:  # noqa: BLE001
        return {"error": _error(exc, f"{cls}(...)")["error"]}
    current = {}  # name -> this network's record in handed of the array its params[name] was last set to
    results = []
    for item in header["script"]:
        entry, given = {}, {}
        key = next(iter(item), "?")
        try:
            if key == "set":
                for k, ref in item["set"].items():
                    value = _arg(ref, arrays)
                    record = [entry, k, value, ref, False]
                    handed.append(record)
                    current[k] = record
                    net.params[k] = value
                entry["ok"] = True
            elif key == "params":
                entry["params"] = _named(reply, net.params, "params")
            elif key in ("scores", "loss"):
                given = {f"a{i}": (_arg(ref, arrays), ref) for i, ref in enumerate(item[key])}
                entry.update(_model_call(net, key, [v for v, _ in given.values()], reply))
            else:
                raise ValueError(f"unknown model request {key!r}")
        except BaseException as exc:  # noqa: BLE001
            entry.update(_error(exc, f"{cls}.{'loss' if key in ('scores', 'loss') else 'params'}"))
        if given:
            entry["changed"] = _changed_names(given, arrays)
            for record in current.values():  # the parameters it was given, as the grader set them
                if not record[4] and _changed_at([record[2]], [record[3]], arrays):
                    record[4] = True
                    entry["changed"].append(f"p.{record[1]}")
            seen.append((entry, given))
        results.append(entry)
    return {"results": results}


def _model_call(net, key, args, reply):
    if key == "scores":
        return {"scores": reply.value(net.loss(*args))}
    result = net.loss(*args)
    if not isinstance(result, (list, tuple)) or len(result) != 2:
        raise TypeError(f"loss(X, y) returned {type(result).__name__}, expected a pair (loss, grads)")
    return {"loss": reply.value(result[0]), "grads": _named(reply, result[1], "grads")}


def _named(reply, mapping, what):
    """A dict of student arrays as {name: value}: at most MAX_KEYS entries, names as text."""
    items = list(dict(mapping).items())
    if len(items) > MAX_KEYS:
        raise ValueError(f"{what} has {len(items)} entries")
    out = {}
    for k, v in items:
        name = k if isinstance(k, str) else str(k)
        if len(name) > MAX_KEY_CHARS:
            raise ValueError(f"{what} has a key of {len(name)} characters")
        out[name] = reply.value(v)
    return out


# ------------------------------------------------------------------------------- scalar engines

# Note [Scalar programs]
# ~~~~~~~~~~~~~~~~~~~~~~
# A scalar autograd engine (micrograd's ``Value``) is checked on programs: plain data the trusted side
# draws and judges. A program holds ``leaves`` (numbers: each becomes ``Value(number)``), ``code``
# (instructions, each making one new slot after the leaves: ``[name, a]`` or ``[name, a, b]``, where
# an operand is a slot's index or ``{"c": number}``, a plain number on that side of the operator), the
# slots whose ``data`` to read (``out``), the slot to call ``backward()`` on (or none: a forward only)
# and the slots whose ``grad`` to read (``grads``). The worker only builds the program through the
# student's own class and reads numbers back: it knows no derivative and computes no answer.
# ``runs``: how many times it is built and run, each time from fresh leaves made in another order
# and at other addresses (an engine whose result depends on the iteration order of a set of Values
# shows it); ``rerun``: after the first run, every leaf's grad is set to 0 and the program is built
# again from the same leaves and run again (a fresh forward and backward after zeroing).

_perf = __import__("time").perf_counter  # kept before student code can patch time
SCALAR_BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
}
SCALAR_UNARY = {"neg": lambda a: -a}
SCALAR_METHODS = ("exp", "tanh", "relu", "sigmoid", "log")
MAX_SCALAR_SLOTS = 200_000  # slots of one program (leaves and instructions)


def _scalar_number(x):
    """A student Value's ``data`` or ``grad`` (or any number) as a float: the student's own conversion."""
    return float(x)


def _build(cls, leaves, code):
    """The program's slots: its leaves (Values) and one new Value per instruction."""
    slots = list(leaves)
    for ins in code:
        name = ins[0]
        args = [a["c"] if isinstance(a, dict) else slots[a] for a in ins[1:]]
        if name in SCALAR_BINARY:
            v = SCALAR_BINARY[name](*args)
        elif name in SCALAR_UNARY:
            v = SCALAR_UNARY[name](*args)
        elif name in SCALAR_METHODS:
            v = getattr(args[0], name)()
        else:
            raise ValueError(f"unknown instruction {name!r}")
        if not isinstance(v, cls):
            raise TypeError(f"{_shown(ins)} returned {type(v).__name__}, expected a {cls.__name__}")
        slots.append(v)
    return slots


def _shown(ins):
    """An instruction as a student reads it (``Value + 2``), for messages."""
    name = ins[0]
    side = ["2" if isinstance(a, dict) else "Value" for a in ins[1:]]
    ops = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
    if name in ops:
        return f"{side[0]} {ops[name]} {side[1]}"
    return "-Value" if name == "neg" else f"Value.{name}()"


def _scalar_run(cls, program, reply, order):
    """One run of a program from fresh leaves; its entry {"data": V, "grads": V} (or an error)."""
    leaves = [None] * len(program["leaves"])
    where = f"{cls.__name__}(...)"
    try:
        for i in order:  # made in this order (another on each run): other addresses, other set orders
            leaves[i] = cls(program["leaves"][i])
        where = "building the expression"
        slots = _build(cls, leaves, program.get("code", []))
        entry = {"data": reply.value([_scalar_number(slots[i].data) for i in program.get("out", [])])}
        if program.get("backward") is not None:
            where = "backward()"
            slots[program["backward"]].backward()
            where = "reading .grad"
            entry["grads"] = reply.value([_scalar_number(slots[i].grad) for i in program.get("grads", [])])
            if program.get("rerun"):
                where = "setting .grad = 0 on the leaves"
                for leaf in leaves:
                    leaf.grad = 0.0
                where = "building the expression again"
                again = _build(cls, leaves, program.get("code", []))
                where = "backward() on the expression built again"
                again[program["backward"]].backward()
                entry["rerun"] = reply.value([_scalar_number(again[i].grad) for i in program.get("grads", [])])
        return entry
    except BaseException as exc:  # noqa: BLE001 - RecursionError too (a recursive sort on a deep graph)
        return _error(exc, where)


def op_scalar(state, header, arrays, reply):
    """Programs run through the student's scalar Value class (Note [Scalar programs]).

    ``{"module", "cls", "programs": [...], "budget": seconds | absent}``: a program's runs stop the
    request once it has taken more than ``budget`` seconds since the request started; the programs
    left are answered ``{"error": ..., "where": "budget"}`` (an engine whose backward takes
    exponential time on a DAG is stopped there, not at the sandbox's call limit). Reply
    ``{"programs": [{"runs": [{"data": V, "grads": V, "rerun": V} | {"error", "where"}, ...]} | {"error"}]}``."""
    cls = getattr(state.modules.get(header["module"]), header["cls"], None)
    if not isinstance(cls, type):
        return {"error": f"{header['module']}.py has no class {header['cls']}"}
    budget, started = header.get("budget"), _perf()
    out = []
    for program in header["programs"]:
        if budget is not None and _perf() - started > budget:
            out.append({"error": f"not run: the request took more than {budget:g} s", "where": "budget"})
            continue
        if len(program["leaves"]) + len(program.get("code", [])) > MAX_SCALAR_SLOTS:
            out.append({"error": "a program too large", "where": "program"})
            continue
        runs, keep = [], []
        n = len(program["leaves"])
        for r in range(int(program.get("runs", 1))):
            keep.append([object() for _ in range(7 * r)])  # other addresses for this run's Values
            order = range(n) if r % 2 == 0 else range(n - 1, -1, -1)
            runs.append(_scalar_run(cls, program, reply, order))
        out.append({"runs": runs})
        keep.clear()
    return {"programs": out}


def _outputs(result):
    """A model's call result as a list of Values: a list or tuple as it is, a single Value as one."""
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _linear(values, weights):
    """sum_k weights[k] * values[k], made with the student's own ``*`` (by a number) and ``+``."""
    total = None
    for v, w in zip(values, weights):
        term = v * float(w)
        total = term if total is None else total + term
    return total


def op_scalar_nn(state, header, arrays, reply):
    """Networks of a scalar engine's nn classes (micrograd's Neuron, Layer, MLP), each running a script.

    ``{"module", "nets": [{"cls", "args": [...], "kwargs": {...}, "script": [...]}]}``. Script items:
    ``{"parameters": true}`` -> ``{"count": n, "data": V}`` (each parameter's data, in order);
    ``{"set": ref}`` -> ``{"ok": true}``: ``p.data = `` the array's values, in ``parameters()`` order;
    ``{"call": ref, "weights": ref}`` -> ``{"out": V, "grads": V}``: the network called on each row
    of the array (a list of floats), its outputs' data, then ``backward()`` on sum(weights * outputs)
    (made with the student's own operators) and every parameter's grad;
    ``{"zero_grad": true}`` -> ``{"grads": V}``: ``zero_grad()``, then every parameter's grad;
    ``{"train": {"X": ref, "y": ref, "steps", "lr"}}`` -> ``{"losses": V}``: SGD on the mean squared
    error, the harness's own loop (``p.data -= lr * p.grad``), each step's loss before its update."""
    module = state.modules.get(header["module"])
    return {"nets": [_run_scalar_net(module, net, arrays, reply) for net in header["nets"]]}


def _run_scalar_net(module, header, arrays, reply):
    cls = header["cls"]
    try:
        net = getattr(module, cls)(*header.get("args", []), **dict(header.get("kwargs", {})))
    except BaseException as exc:  # noqa: BLE001
        return {"error": _error(exc, f"{cls}(...)")["error"]}
    results = []
    for item in header["script"]:
        key = next(iter(item), "?")
        try:
            results.append(_scalar_nn_item(net, key, item, arrays, reply))
        except BaseException as exc:  # noqa: BLE001
            results.append(_error(exc, f"{cls}: {key}"))
    return {"results": results}


def _parameters(net):
    params = list(net.parameters())
    if len(params) > MAX_SCALAR_SLOTS:
        raise ValueError(f"parameters() returned {len(params)} values")
    return params


def _scalar_nn_item(net, key, item, arrays, reply):
    if key == "parameters":
        params = _parameters(net)
        return {"count": len(params), "data": reply.value([_scalar_number(p.data) for p in params])}
    if key == "set":
        values = arrays[item["set"]["$a"]].tolist()
        params = _parameters(net)
        if len(params) != len(values):
            raise ValueError(f"parameters() returned {len(params)} values, expected {len(values)}")
        for p, v in zip(params, values):
            p.data = v
        return {"ok": True}
    if key == "call":
        rows = arrays[item["call"]["$a"]].tolist()
        weights = arrays[item["weights"]["$a"]].tolist()
        outs = [_outputs(net(list(x))) for x in rows]
        data = [_scalar_number(v.data) for row in outs for v in row]
        entry = {"out": reply.value(data)}
        flat = [v for row in outs for v in row]
        if len(flat) != len(weights):
            raise ValueError(f"the calls returned {len(flat)} outputs in all, expected {len(weights)}")
        _linear(flat, weights).backward()
        entry["grads"] = reply.value([_scalar_number(p.grad) for p in _parameters(net)])
        return entry
    if key == "zero_grad":
        net.zero_grad()
        return {"grads": reply.value([_scalar_number(p.grad) for p in _parameters(net)])}
    if key == "train":
        spec = item["train"]
        X, y = arrays[spec["X"]["$a"]].tolist(), arrays[spec["y"]["$a"]].tolist()
        losses = []
        for _ in range(int(spec["steps"])):
            outs = [_outputs(net(list(x)))[0] for x in X]
            errors = [o - t for o, t in zip(outs, y)]
            loss = _linear([e * e for e in errors], [1.0 / len(X)] * len(X))
            losses.append(_scalar_number(loss.data))
            params = _parameters(net)
            for p in params:
                p.grad = 0.0
            loss.backward()
            for p in params:
                p.data = _scalar_number(p.data) - float(spec["lr"]) * _scalar_number(p.grad)
        return {"losses": reply.value(losses)}
    raise ValueError(f"unknown scalar_nn request {key!r}")


OPS = {
    "load": op_load,
    "gates": op_gates,
    "functions": op_functions,
    "graph": op_graph,
    "mlp": op_mlp,
    "model": op_model,
    "scalar": op_scalar,
    "scalar_nn": op_scalar_nn,
}


def dispatch(state, header, arrays):
    """Carry out one request; returns (reply header, reply arrays). Never raises for student errors."""
    reply = _Reply()
    op = OPS.get(header.get("op"))
    if op is None:
        return {"error": f"unknown op {header.get('op')!r}"}, []
    if header["op"] != "load" and not state.modules:
        return {"error": "no module loaded"}, []
    try:
        result = op(state, header, arrays, reply)
    except BaseException as exc:  # noqa: BLE001 - e.g. a malformed request
        result = _error(exc, header["op"])
    return result, reply.arrays
