"""What a worker does with a student's modules: plain data in, plain data out.

Runs inside the worker process, next to untrusted code: it imports only the standard library, numpy
and ``standin_gates``. It computes no verdict; every value it returns is converted to a float64 array
(or reported as an error) and judged on the trusted side. See docs/design.md for the requests.
"""
import importlib
import sys
import traceback
import types

import numpy as np

MODULES = ("gates", "graph", "mlp")
MAX_ELEMENTS = 5_000_000
_asarray, _array, _float64 = np.asarray, np.array, np.float64  # kept before student code can patch numpy


class State:
    def __init__(self):
        self.modules = {}  # name -> module, for the modules that imported


class _Reply:
    """Collects the arrays of one reply; values go into the JSON as {"$a": index, "kind": ...}."""

    def __init__(self):
        self.arrays = []

    def value(self, obj):
        """A student value as a float64 array reference, or an error entry."""
        try:
            kind = type(obj).__name__
            if isinstance(obj, np.ndarray):
                kind = str(obj.dtype)
            elif isinstance(obj, np.generic):
                kind = str(obj.dtype)
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


def op_load(state, header, arrays, reply):
    status = {}
    for name in MODULES:
        sys.modules.pop(name, None)
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - SystemExit at import too
            if name == "gates" and header.get("standin_gates"):
                module = types.ModuleType("gates")
                sys.modules["gates"] = module
            else:
                sys.modules.pop(name, None)
                status[name] = {"ok": False, **_error(exc, f"import {name}")}
                continue
            status[name] = {"ok": False, **_error(exc, f"import {name}")}
        if name == "gates" and header.get("standin_gates"):
            import standin_gates

            for cls in standin_gates.CONTRACT_GATES:
                setattr(module, cls, getattr(standin_gates, cls))
        state.modules[name] = module
        status.setdefault(name, {"ok": True})
        status[name]["names"] = sorted(n for n in vars(module) if not n.startswith("_"))[:200]
    return {"modules": status}


def op_gates(state, header, arrays, reply):
    """Each trial: make one instance per run, forward them all, then backward them all (interleaved,
    so state kept on the class instead of the instance shows); then forward-only evaluations at points."""
    gates = state.modules.get("gates")
    results = []
    for trial in header["trials"]:
        name, floats, args = trial["cls"], trial.get("floats", False), trial.get("args", [])
        try:
            cls = getattr(gates, name)
        except BaseException as exc:  # noqa: BLE001
            results.append(_error(exc, name))
            continue
        runs, live = [], []
        for spec in trial.get("runs", []):
            inputs = [_arg(a, arrays, floats) for a in spec["inputs"]]
            run = {}
            try:
                gate = cls(*args)
                run["out"] = reply.value(gate.forward(*inputs))
                live.append((run, gate, spec, len(inputs)))
            except BaseException as exc:  # noqa: BLE001
                run.update(_error(exc, f"{name}.forward"))
            runs.append((run, inputs))
        for run, gate, spec, n in live:
            try:
                dout = spec.get("dout")
                result = gate.backward() if dout is None else gate.backward(_arg(dout, arrays))
                run["grads"] = reply.values(_grads(result, n))
            except BaseException as exc:  # noqa: BLE001
                run.update(_error(exc, f"{name}.backward"))
        for run, inputs in runs:
            run["inputs_after"] = reply.values(inputs)
        points_out = []
        for point in trial.get("points", []):
            try:
                points_out.append(reply.value(cls(*args).forward(*[_arg(a, arrays, floats) for a in point])))
            except BaseException as exc:  # noqa: BLE001
                points_out.append(_error(exc, f"{name}.forward"))
        results.append({"runs": [run for run, _ in runs], "points_out": points_out})
    return {"trials": results}


class _HarnessGraph:
    """The harness's own engine: runs the session's gates in the order given, adds at branches."""

    def __init__(self):
        self.nodes = []

    def input(self, name):
        self.nodes.append((name, None, ()))
        return len(self.nodes) - 1

    def gate(self, gate, *inputs):
        self.nodes.append((None, gate, inputs))
        return len(self.nodes) - 1

    def forward(self, feed):
        self.values = []
        for name, gate, inputs in self.nodes:
            self.values.append(feed[name] if gate is None else gate.forward(*(self.values[i] for i in inputs)))
        return self.values[-1]

    def backward(self, dout=None):
        grads = [0.0] * len(self.nodes)
        grads[-1] = np.ones_like(_asarray(self.values[-1], dtype=float)) if dout is None else dout
        for k in reversed(range(len(self.nodes))):
            name, gate, inputs = self.nodes[k]
            if gate is not None:
                for i, g in zip(inputs, _grads(gate.backward(grads[k]), len(inputs))):
                    grads[i] = grads[i] + _asarray(g, dtype=float)
        return {name: grads[k] + np.zeros_like(_asarray(self.values[k], dtype=float))
                for k, (name, gate, _) in enumerate(self.nodes) if gate is None}


def op_graph(state, header, arrays, reply):
    """One graph, run by each engine asked for ("student" and/or "harness"), runs in sequence.
    Several graphs in one request: header["graphs"], a list of such graph requests."""
    if "graphs" in header:
        return {"graphs": [op_graph(state, g, arrays, reply) for g in header["graphs"]]}
    return {"engines": {engine: _run_graph(state, header, engine, arrays, reply) for engine in header["engines"]}}


def _run_graph(state, header, engine, arrays, reply):
    floats = header.get("floats", False)
    try:
        gates = state.modules.get("gates")
        if engine == "harness":
            g = _HarnessGraph()
        else:
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
    runs = []
    for run in header["runs"]:
        try:
            feed = {k: _arg(v, arrays, floats) for k, v in run["feed"].items()}
            entry = {"out": reply.value(g.forward(feed))}
        except BaseException as exc:  # noqa: BLE001
            runs.append(_error(exc, "ComputationalGraph.forward"))
            continue
        if run.get("backward") is False:  # forward only: the next run's backward must use the latest forward
            runs.append(entry)
            continue
        try:
            dout = run.get("dout")
            grads = g.backward() if dout is None else g.backward(_arg(dout, arrays))
            entry["grads"] = {str(k): reply.value(v) for k, v in dict(grads).items()}
        except BaseException as exc:  # noqa: BLE001
            entry.update(_error(exc, "ComputationalGraph.backward"))
        runs.append(entry)
    return {"runs": runs}


def _mlp_item(net, mlp, item, arrays, reply):
    if "set" in item:
        for k, v in item["set"].items():
            net.params[k] = _arg(v, arrays)
        return {"ok": True}
    if "forward" in item:
        return {"scores": reply.value(net.forward(_arg(item["forward"], arrays)))}
    if "loss" in item:
        loss, grads = net.loss(*[_arg(a, arrays) for a in item["loss"]])
        return {"loss": reply.value(loss), "grads": {str(k): reply.value(v) for k, v in dict(grads).items()}}
    if "loss_at" in item:  # losses at several parameter settings (numerical differences), restored after
        spec = item["loss_at"]
        X, y = _arg(spec["X"], arrays), _arg(spec["y"], arrays)
        saved = dict(net.params)
        losses = []
        for point in spec["points"]:
            try:
                for k, v in point.items():
                    net.params[k] = _arg(v, arrays)
                losses.append(reply.value(net.loss(X, y)[0]))
            except BaseException as exc:  # noqa: BLE001
                losses.append(_error(exc, "MLP.loss"))
            finally:
                net.params.update(saved)
        return {"losses": losses}
    if "sgd_step" in item:
        X, y, lr = item["sgd_step"]
        return {"loss": reply.value(net.sgd_step(_arg(X, arrays), _arg(y, arrays), lr))}
    if "params" in item:
        return {"params": {str(k): reply.value(v) for k, v in dict(net.params).items()}}
    if "train" in item:
        spec = dict(item["train"])
        X, y = _arg(spec.pop("X"), arrays), _arg(spec.pop("y"), arrays)
        return {"losses": reply.value(list(mlp.train(net, X, y, **spec)))}
    raise ValueError(f"unknown mlp request {sorted(item)}")


def op_mlp(state, header, arrays, reply):
    """One network per entry of header["nets"] (or the header itself), each running its script."""
    if "nets" in header:
        return {"nets": [op_mlp(state, net, arrays, reply) for net in header["nets"]]}
    mlp = state.modules.get("mlp")
    try:
        net = mlp.MLP(list(header["sizes"]), activation=header["activation"], seed=header.get("seed", 0))
    except BaseException as exc:  # noqa: BLE001
        return {"error": _error(exc, "MLP(...)")["error"]}
    results = []
    for item in header["script"]:
        try:
            results.append(_mlp_item(net, mlp, item, arrays, reply))
        except BaseException as exc:  # noqa: BLE001
            where = next(iter(item), "?")
            results.append(_error(exc, "train" if where == "train" else f"MLP.{where}"))
    return {"results": results}


OPS = {"load": op_load, "gates": op_gates, "graph": op_graph, "mlp": op_mlp}


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
