"""Checks of graph.py: the lecture's graphs, branches, reuse, upstream gradients, a second forward,
unused inputs, and random graphs from Hypothesis.

Scored runs use the student's ComputationalGraph with correct stand-in gates (the with_standins session), so a wrong
gate never costs graph points. Random graphs are also run with the student's own gates in their own
graph (the own session, which holds no correct gate and no correct graph), unscored, to tell the student
where a composed failure comes from: the gates whose own checks fail, or the two together.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, assume, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..diagnosis import diagnose
from ..reference import gates as ref_gates
from ..reference import graph as ref_graph
from .common import CallFailed, CheckResult, Payload, StudentError, call, compare, mutation_result, value

UNARY = {
    "ExpGate": "exp({})",
    "InverseGate": "1/{}",
    "SigmoidGate": "sigmoid({})",
    "TanhGate": "tanh({})",
    "ReLUGate": "relu({})",
    "AddConstantGate": "({c} + {})",
    "ScaleGate": "{c}*{}",
}
BINARY = {"AddGate": "({} + {})", "MultiplyGate": "({} * {})", "MaxGate": "max({}, {})"}


@dataclass
class Graph:
    """A graph as data: nodes in topological order, and runs (feed, dout, whether to call backward)."""

    nodes: list
    runs: list = field(default_factory=list)
    floats: bool = False

    @property
    def inputs(self):
        return [n["input"] for n in self.nodes if "input" in n]

    def formula(self) -> str:
        text = []
        for n in self.nodes:
            if "input" in n:
                text.append(n["input"])
            elif n["gate"] in BINARY:
                text.append(BINARY[n["gate"]].format(*(text[i] for i in n["in"])))
            else:
                c = n.get("args", [None])[0] if n.get("args") else None
                text.append(UNARY[n["gate"]].format(text[n["in"][0]], c=_num(c) if c is not None else ""))
        used = self._reaching_output()
        unused = [_strip(text[k]) for k, n in enumerate(self.nodes) if "gate" in n and k not in used]
        also = (
            f" (plus {len(unused)} gate{'s' if len(unused) > 1 else ''} not feeding f: {'; '.join(unused)})"
            if unused
            else ""
        )
        return f"f({', '.join(self.inputs)}) = {_strip(text[-1])}{also}"

    def _reaching_output(self):
        used, stack = set(), [len(self.nodes) - 1]
        while stack:
            k = stack.pop()
            if k not in used:
                used.add(k)
                stack.extend(self.nodes[k].get("in", []))
        return used

    def request(self, payload):
        return {
            "nodes": self.nodes,
            "floats": self.floats,
            "runs": [
                {
                    "feed": {k: payload.ref(v) for k, v in feed.items()},
                    "dout": None if dout is None else payload.ref(dout),
                    **({} if backward else {"backward": False}),
                }
                for feed, dout, backward in self.runs
            ],
        }


def _strip(body):
    return body[1:-1] if body.startswith("(") and body.endswith(")") and _balanced(body[1:-1]) else body


def _balanced(text):
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _num(x):
    return f"{float(x):.4g}"


def _values_text(feed):
    return ", ".join(f"{k}={_short(v)}" for k, v in feed.items())


# --------------------------------------------------------------------------- ground truth


def reference_run(graph: Graph, feed, dout):
    """Output and input gradients from the reference engine and reference gates."""
    g = ref_graph.ComputationalGraph()
    handles = []
    for n in graph.nodes:
        if "input" in n:
            handles.append(g.input(n["input"]))
        else:
            handles.append(g.gate(getattr(ref_gates, n["gate"])(*n.get("args", [])), *[handles[i] for i in n["in"]]))
    out = g.forward(feed)
    grads = g.backward(dout)
    return np.asarray(out, dtype=float), {k: np.asarray(v, dtype=float) for k, v in grads.items()}


def overwrite_run(graph: Graph, feed, dout, keep):
    """Input gradients of an engine that overwrites instead of adding at branches: ``keep`` is "first"
    or "last", the write that survives in reverse topological order."""
    values = []
    for n in graph.nodes:
        values.append(np.asarray(feed[n["input"]], dtype=float) if "input" in n else None)
    gates = {}
    for k, n in enumerate(graph.nodes):
        if "gate" in n:
            gates[k] = getattr(ref_gates, n["gate"])(*n.get("args", []))
            values[k] = np.asarray(gates[k].forward(*[values[i] for i in n["in"]]), dtype=float)
    grads = [None] * len(graph.nodes)
    grads[-1] = np.ones_like(values[-1]) if dout is None else np.asarray(dout, dtype=float)
    for k in reversed(range(len(graph.nodes))):
        if k in gates and grads[k] is not None:
            for i, g in zip(graph.nodes[k]["in"], gates[k].backward(grads[k])):
                if grads[i] is None or keep == "last":
                    grads[i] = np.asarray(g, dtype=float)
    return {
        n["input"]: np.zeros_like(values[k]) if grads[k] is None else grads[k]
        for k, n in enumerate(graph.nodes)
        if "input" in n
    }


def _alternatives(graph, feed, dout):
    names = graph.inputs
    alts = {}
    if dout is not None:
        _, ones = reference_run(graph, feed, np.ones_like(np.asarray(dout, dtype=float)))
        alts["backward ignores the upstream gradient dout (as if it were all ones)"] = [ones[k] for k in names]
    for keep in ("first", "last"):
        over = overwrite_run(graph, feed, dout, keep)
        alts[f"gradients are overwritten instead of added where a node feeds several gates ({keep} write kept)"] = [
            over[k] for k in names
        ]
    return alts


# ------------------------------------------------------------------------------- judging


@dataclass
class RunOutcome:
    ok: bool
    message: str = ""
    details: dict = field(default_factory=dict)
    error: bool = False
    graph: object = None  # the graph that failed


def judge_runs(graph: Graph, reply, arrays, tolerances) -> RunOutcome:
    """Compare one engine's runs with the reference. The first problem found is reported."""
    if "error" in reply and "runs" not in reply:
        return RunOutcome(False, reply["error"], error=True)
    runs = reply.get("runs", [])
    for r, ((feed, dout, backward), run) in enumerate(zip(graph.runs, runs)):
        out_ref, grads_ref = reference_run(graph, feed, dout)

        def at(feed=feed):  # only a failure needs the text (formatting it costs more than the run)
            return f"{graph.formula()} at {_values_text(feed)}"

        if "error" in run and "out" not in run:
            return RunOutcome(False, f"{run.get('where', 'forward')}: {run['error']} ({at()})", error=True)
        try:
            out, kind = value(run["out"], arrays)
        except (StudentError, KeyError) as exc:
            return RunOutcome(False, f"forward returned no value: {exc} ({at()})", error=True)
        bad = compare(out, out_ref, tolerances)
        if bad:
            return RunOutcome(
                False,
                f"{at()}: f is {bad.message}",
                {
                    "counterexample": f"{at()}: f expected {_short(out_ref)}, got {_short(out)}",
                    "worst": bad.as_details("f"),
                },
            )
        if not backward:
            continue
        if "grads" not in run:
            return RunOutcome(
                False, f"{run.get('where', 'backward')}: {run.get('error', 'no gradients')} ({at()})", error=True
            )
        got = {}
        for name in graph.inputs:
            if name not in run["grads"]:
                return RunOutcome(False, f"backward() returned no gradient for input '{name}' ({at()})")
            try:
                got[name] = value(run["grads"][name], arrays)
            except StudentError as exc:
                return RunOutcome(False, f"gradient for '{name}': {exc} ({at()})", error=True)
        for name in graph.inputs:
            g, kind = got[name]
            bad = compare(g, grads_ref[name], tolerances)
            if bad:
                when = f" with dout={_short(dout)}" if dout is not None else ""
                example = f"{at()}{when}: df/d{name} expected {_short(grads_ref[name])}, got {_short(g)}"
                details = {"counterexample": example, "worst": bad.as_details(f"d{name}")}
                diagnosis = diagnose(
                    [got[k][0] for k in graph.inputs],
                    [grads_ref[k] for k in graph.inputs],
                    _alternatives(graph, feed, dout),
                    names=graph.inputs,
                )
                if diagnosis:
                    details["diagnosis"] = diagnosis
                again = f" (forward call {r + 1} on the same graph)" if r > 0 else ""
                return RunOutcome(False, f"{graph.formula()}{when}: df/d{name} is {bad.message}{again}", details)
    return RunOutcome(True)


def _short(v):
    v = np.asarray(v, dtype=float)
    if v.ndim == 0:
        return _num(v)
    text = np.array2string(v, precision=4, separator=", ", suppress_small=True, max_line_width=10**6)
    return " ".join(text.split()).replace("[ ", "[")  # one line, single spaces


# ------------------------------------------------------------------------------ the graphs


def _inp(*names):
    return [{"input": n} for n in names]


def _g(gate, *inputs, args=()):
    return {"gate": gate, "in": list(inputs), "args": list(args)}


def fixed_graphs(rng) -> dict[str, Graph]:
    """The deterministic graph checks: check id -> its graphs (values drawn from ``rng``)."""
    arr = lambda *shape: rng.uniform(-1.5, 1.5, shape)  # noqa: E731
    graphs = {}
    lecture = Graph(_inp("x", "y", "z") + [_g("AddGate", 0, 1), _g("MultiplyGate", 3, 2)], floats=True)
    lecture.runs = [({"x": -2.0, "y": 5.0, "z": -4.0}, None, True)]
    graphs["graph.lecture_example"] = lecture
    # f(w, x) = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) from the lecture's gates
    neuron = Graph(
        _inp("w0", "x0", "w1", "x1", "w2")
        + [
            _g("MultiplyGate", 0, 1),
            _g("MultiplyGate", 2, 3),
            _g("AddGate", 5, 6),
            _g("AddGate", 7, 4),
            _g("ScaleGate", 8, args=(-1.0,)),
            _g("ExpGate", 9),
            _g("AddConstantGate", 10, args=(1.0,)),
            _g("InverseGate", 11),
        ],
        floats=True,
    )
    neuron.runs = [({"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}, None, True)]
    graphs["graph.sigmoid_neuron"] = neuron
    # q = x + y feeds two gates, x feeds two gates
    # q = x + y feeds a gate next to the output and a chain three gates deep (an engine that runs
    # backward breadth-first passes q's gradient on before the deep chain has added to it); x feeds two
    branches = Graph(
        _inp("x", "y")
        + [
            _g("AddGate", 0, 1),
            _g("SigmoidGate", 2),
            _g("TanhGate", 3),
            _g("ScaleGate", 4, args=(0.5,)),
            _g("MultiplyGate", 2, 0),
            _g("AddGate", 6, 5),
        ]
    )
    branches.runs = [({"x": arr(3), "y": arr(3)}, None, True)]
    graphs["graph.branches"] = branches
    twice = Graph(_inp("x", "y") + [_g("MultiplyGate", 0, 0), _g("MultiplyGate", 2, 1)])
    twice.runs = [({"x": arr(2, 3), "y": arr(2, 3)}, None, True)]
    graphs["graph.same_node_twice"] = twice
    upstream = Graph(_inp("x", "y", "z") + [_g("MultiplyGate", 0, 1), _g("TanhGate", 2), _g("AddGate", 3, 4)])
    upstream.runs = [({"x": arr(2, 3), "y": arr(2, 3), "z": arr(2, 3)}, rng.normal(size=(2, 3)), True)]
    graphs["graph.upstream_gradient"] = upstream
    # no branch here: a gradient-accumulation bug belongs to graph.branches, not to this check
    again = Graph(_inp("x", "y") + [_g("MultiplyGate", 0, 1), _g("ExpGate", 2)])
    again.runs = [
        ({"x": arr(4), "y": arr(4)}, None, True),
        ({"x": arr(4), "y": arr(4)}, None, False),
        ({"x": arr(4), "y": arr(4)}, rng.normal(size=4), True),
    ]
    graphs["graph.second_forward"] = again
    # z reaches only a gate that does not feed the output
    unused = Graph(_inp("x", "y", "z") + [_g("ExpGate", 2), _g("MultiplyGate", 0, 1)])
    unused.runs = [({"x": arr(3), "y": arr(3), "z": arr(2, 2)}, None, True)]
    graphs["graph.unused_input"] = unused
    # the lecture's graphs also at values of the grader's: its numbers alone could be written down
    for check_id in ("graph.lecture_example", "graph.sigmoid_neuron"):
        lecture = graphs[check_id]
        twin = Graph(lecture.nodes, floats=True)
        twin.runs = [({name: float(np.round(rng.uniform(-2.0, 2.0), 3)) for name in lecture.inputs}, None, True)]
        graphs[check_id] = [lecture, twin]
    return {k: v if isinstance(v, list) else [v] for k, v in graphs.items()}


PASS_MESSAGES = {
    "graph.lecture_example": "(x + y) z at (-2, 5, -4) gives -12 and gradients (-4, -4, 3)",
    "graph.sigmoid_neuron": "the sigmoid neuron gives 0.73, dw = (-0.20, -0.39, 0.20), dx = (0.39, -0.59)",
    "graph.branches": "gradients add where a node feeds several gates, at different depths",
    "graph.same_node_twice": "x * x gets both contributions",
    "graph.upstream_gradient": "backward(dout) uses the upstream gradient",
    "graph.second_forward": "backward refers to the latest forward",
    "graph.unused_input": "an input that does not reach the output (through a gate or not) gets zeros of its shape",
}


def _module_problem(ctx):
    graph = ctx.standin_modules.get("graph", {})
    if not graph.get("ok"):
        return "error", f"graph.py could not be imported: {graph.get('error', 'graph.py was not found')}"
    if "ComputationalGraph" not in graph.get("names", []):
        return "missing", "graph.py has no class ComputationalGraph"
    return None


def run(ctx, wanted: set[str]) -> dict[str, CheckResult]:
    ids = [i for i in wanted if i.startswith("graph.")]
    if not ids:
        return {}
    problem = _module_problem(ctx)
    if problem:
        return {i: CheckResult(i, problem[0], problem[1]) for i in ids}
    results, seen = {}, []
    graphs = {k: g for k, g in fixed_graphs(ctx.rng("graph.fixed")).items() if k in wanted}
    if graphs:
        flat = [(check_id, g) for check_id, gs in graphs.items() for g in gs]
        payload = Payload()
        try:
            reply, arrays = call(
                ctx.with_standins, {"op": "graph", "graphs": [g.request(payload) for _, g in flat]}, payload
            )
            replies = reply["graphs"]
        except CallFailed as exc:
            replies = [exc] * len(flat)
        seen = [(graph, rep) for (_, graph), rep in zip(flat, replies) if not isinstance(rep, CallFailed)]
        for (check_id, graph), rep in zip(flat, replies):
            if check_id in results:
                continue  # its first failing graph is reported
            if isinstance(rep, CallFailed):
                results[check_id] = CheckResult(check_id, rep.status, f"running your graph: {rep}")
                continue
            outcome = judge_runs(graph, rep, arrays, ctx.tolerances)
            if not outcome.ok or graph is graphs[check_id][-1]:
                results[check_id] = _result(check_id, outcome, PASS_MESSAGES[check_id])
    if "graph.no_mutation" in wanted:
        results["graph.no_mutation"] = no_mutation(ctx, seen)
    if "graph.random_graphs" in wanted:
        results["graph.random_graphs"] = random_graphs(ctx)
    return results


def _result(check_id, outcome: RunOutcome, pass_message):
    if outcome.ok:
        return CheckResult(check_id, "pass", pass_message)
    return CheckResult(
        check_id,
        "error" if outcome.error else "fail",
        outcome.message,
        {**outcome.details, "blame": "graph.py (run with correct gates)"},
    )


# --------------------------------------------------------------------------- no mutation


def mutation_graphs(rng) -> list[Graph]:
    """The graphs of graph.no_mutation, all fed arrays (a Python float cannot be changed): one with
    branches, a node used twice, an unused input and a gate that does not feed the output, run twice
    (a second forward and backward can write into the first run's arrays); and the lecture's graph
    on 0-d arrays. Every run has an upstream gradient dout of its own. The output is a sum whose
    input x + y also feeds deeper gates: gates may hand dout itself on as the gradient of a sum's
    inputs, and a graph that then adds the deeper gates' gradients into it in place changes dout."""
    arr = lambda *shape: rng.uniform(-1.5, 1.5, shape)  # noqa: E731
    branchy = Graph(
        _inp("x", "y", "z", "w")
        + [
            _g("AddGate", 0, 1),
            _g("MultiplyGate", 4, 2),
            _g("MultiplyGate", 0, 0),
            _g("ExpGate", 3),
            _g("TanhGate", 4),
            _g("AddGate", 5, 6),
            _g("AddGate", 9, 8),
            _g("AddGate", 10, 4),
        ]
    )
    branchy.runs = [
        ({"x": arr(2, 3), "y": arr(2, 3), "z": arr(2, 3), "w": arr(3)}, rng.normal(size=(2, 3)), True) for _ in range(2)
    ]
    lecture = Graph(_inp("x", "y", "z") + [_g("AddGate", 0, 1), _g("MultiplyGate", 3, 2)])
    lecture.runs = [({k: np.array(np.round(rng.uniform(-2.0, 2.0), 3)) for k in "xyz"}, np.array(rng.normal()), True)]
    return [branchy, lecture]


def _mutation_message(tag, where):
    """(message, the argument named) for a "changed" tag of a graph run (see ops.op_graph)."""
    when, arg = tag.split("/", 1)
    if arg == "dout":
        argument = "ComputationalGraph.backward's argument 0 (dout)"
    else:
        argument = f"the array '{arg[5:]}' of ComputationalGraph.forward's argument 0 (the feed dict)"
    if when == "forward":
        text = f"ComputationalGraph.forward modified the array '{arg[5:]}' of its argument 0 (the feed dict) in place"
    elif when == "backward" and arg == "dout":
        text = "ComputationalGraph.backward modified its argument 0 (dout) in place"
    elif when == "backward":
        text = f"ComputationalGraph.backward modified {argument} in place"
    else:
        text = f"{argument} was modified in place by a later call (a second forward or backward, or another graph's)"
    return f"{text} ({where}); the caller's arrays must stay as they were", argument


def _works(graph, reply, arrays, tolerances) -> bool:
    """Whether some run's output or gradients match the reference's (not all zeros): a graph that
    works at all, whose arguments are worth checking (a stub that returns zeros changes nothing).
    Every run's reference values are computed (a student build replays only what was recorded)."""
    works = False
    for (feed, dout, _backward), run in zip(graph.runs, reply.get("runs", [])):
        out_ref, grads_ref = reference_run(graph, feed, dout)
        try:
            out, _ = value(run.get("out"), arrays)
            works = works or bool(np.any(out_ref != 0) and compare(out, out_ref, tolerances) is None)
            grads = {k: value(run["grads"][k], arrays)[0] for k in graph.inputs}
        except (StudentError, KeyError, TypeError):
            continue
        works = works or (
            any(np.any(g != 0) for g in grads_ref.values())
            and all(compare(grads[k], grads_ref[k], tolerances) is None for k in graph.inputs)
        )
    return works


def no_mutation(ctx, seen=()) -> CheckResult:
    """Neither forward nor backward changes the caller's arrays (contract: "No method may modify the
    arrays it is given"): the feed dict's arrays and dout, right after the call that got them and at
    the end of the request (later calls, on any graph). The worker compares them bit for bit with what
    was sent (each call gets its own copies, so a change costs only this check); passing needs runs
    that returned and were compared, on a graph whose values match the reference's somewhere. A change
    the worker reported during the other visible graph checks (``seen``: their graphs and replies) is
    a failure too: a graph cannot keep its arrays only for this check's own inputs."""
    check_id = "graph.no_mutation"
    graphs = mutation_graphs(ctx.rng(check_id))
    payload = Payload()
    try:
        reply, arrays = call(
            ctx.with_standins, {"op": "graph", "graphs": [g.request(payload) for g in graphs]}, payload
        )
    except CallFailed as exc:
        return CheckResult(check_id, exc.status, f"running your graph: {exc}")
    problems, errors, compared, working = [], [], 0, False
    for graph, rep in zip(graphs, reply["graphs"]):
        if "error" in rep and "runs" not in rep:
            errors.append(f"could not be checked: building {graph.formula()}: {rep['error']}")
            continue
        for r, ((feed, dout, backward), run) in enumerate(zip(graph.runs, rep["runs"])):
            where = f"on {graph.formula()}" + (f", forward call {r + 1} on the same graph" if r else "")
            example = f"{graph.formula()} at {_values_text(feed)}" + (
                f" with dout={_short(dout)}" if dout is not None else ""
            )
            for tag in run.get("changed", []):
                message, argument = _mutation_message(tag, where)
                problems.append((message, {"argument": argument, "counterexample": example, "blame": "graph.py"}))
            if "error" in run or "changed" not in run:
                errors.append(
                    f"could not be checked: {run.get('where', 'ComputationalGraph.forward')}: "
                    f"{run.get('error', 'no report of its arguments')} ({where})"
                )
                continue
            # feed arrays right after forward and after the graph's last call; after backward the feed again and dout
            compared += 2 * len(feed) + (len(feed) + 2 * (dout is not None) if backward else 0)
        working = _works(graph, rep, arrays, ctx.tolerances) or working
    for graph, rep in seen:
        for r, ((feed, _dout, _backward), run) in enumerate(zip(graph.runs, rep.get("runs", []))):
            where = f"on {graph.formula()}" + (f", forward call {r + 1} on the same graph" if r else "")
            for tag in run.get("changed", []):
                message, argument = _mutation_message(tag, where)
                example = f"{graph.formula()} at {_values_text(feed)}"
                problems.append((message, {"argument": argument, "counterexample": example, "blame": "graph.py"}))
    return mutation_result(
        check_id,
        problems,
        errors,
        compared,
        working,
        what="graph",
        passed="forward and backward leave the caller's arrays (feed and dout) unchanged ({compared} comparisons)",
    )


# ------------------------------------------------------------------------- random graphs

SHAPES = [(), (3,), (2, 2)]
CONSTANTS = [-1.0, 0.5, 2.0]
MAX_NODES = 9  # up to 3 inputs and 6 gates

# the strategies are built once: building one per draw costs more than the draw
_ELEMENTS = st.floats(-2.0, 2.0, allow_nan=False, width=32).map(lambda v: round(v, 2))
_ARRAYS = {shape: hnp.arrays(np.float64, shape, elements=_ELEMENTS) for shape in SHAPES}
_INDEX = [st.integers(0, n - 1) for n in range(1, MAX_NODES + 1)]
_BINARY, _UNARY = st.sampled_from(sorted(BINARY)), st.sampled_from(sorted(UNARY))


@st.composite
def graph_cases(draw):
    """A random DAG of the contract's elementwise gates, with shared subexpressions, random inputs of
    one shape, and a random upstream gradient. Shrinks towards fewer, simpler gates."""
    names = ["x", "y", "z"][: draw(st.integers(1, 3))]
    nodes = _inp(*names)
    for _ in range(draw(st.integers(1, 6))):
        index = _INDEX[len(nodes) - 1]
        if draw(st.booleans()):
            gate = draw(_BINARY)
            nodes.append(_g(gate, draw(index), draw(index)))
        else:
            gate = draw(_UNARY)
            args = [draw(st.sampled_from(CONSTANTS))] if gate in ("AddConstantGate", "ScaleGate") else []
            nodes.append(_g(gate, draw(index), args=args))
    arrays = _ARRAYS[draw(st.sampled_from(SHAPES))]
    feed = {n: draw(arrays) for n in names}
    graph = Graph(nodes)
    graph.runs = [(feed, draw(arrays), True)]
    return graph


def in_domain(graph: Graph) -> bool:
    """Whether every gate's inputs stay where grading is fair: no near-ties for max and ReLU, no pole
    for the inverse, moderate values for exp, no huge values."""
    feed = graph.runs[0][0]
    values = []
    for n in graph.nodes:
        if "input" in n:
            values.append(np.asarray(feed[n["input"]], dtype=float))
            continue
        ins = [values[i] for i in n["in"]]
        gate = n["gate"]
        if gate in ("InverseGate", "ReLUGate") and np.any(np.abs(ins[0]) < 0.1):
            return False
        if gate == "MaxGate" and np.any(np.abs(ins[0] - ins[1]) < 0.1):
            return False
        if gate == "ExpGate" and np.any(ins[0] > 4.0):
            return False
        with np.errstate(all="ignore"):
            out = getattr(ref_gates, gate)(*n.get("args", [])).forward(*ins)
        values.append(np.asarray(out, dtype=float))
        if not np.all(np.isfinite(values[-1])) or np.any(np.abs(values[-1]) > 1e4):
            return False
    return True


def _settings(examples):
    return settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        print_blob=False,
        verbosity=Verbosity.quiet,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


# Note [Hypothesis reads the grader's source]
# Hypothesis (6.13x and later) sometimes draws a number it found in the source of the "local" modules
# loaded in the process (not site-packages, not tests). Which modules those are depends on how gradcheck
# is installed (an editable install is local, a wheel is not), on what the process imported (the CLI,
# the pytest plugin) and on gradcheck's own source, so the same seed would give other random graphs,
# and other reports, from one installation or process to the next. Generation therefore runs with an
# empty pool of local constants (and a cache of its own, so that no pool computed before leaks in):
# the graphs depend only on the seed and the Hypothesis version.


@contextlib.contextmanager
def _no_local_constants():
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants

        saved = providers._get_local_constants, providers.CONSTANTS_CACHE
        fresh = type(saved[1])(1024)
    except (ImportError, AttributeError, TypeError):  # a Hypothesis without local constants
        yield
        return
    empty = Constants()
    providers._get_local_constants, providers.CONSTANTS_CACHE = (lambda: empty), fresh
    try:
        yield
    finally:
        providers._get_local_constants, providers.CONSTANTS_CACHE = saved


@functools.lru_cache(maxsize=8)
def generated_graphs(seed: int, examples: int) -> tuple:
    """The graphs Hypothesis generates from this seed. Generation depends only on the seed, so a grader
    process draws them once and replays them to every submission in one batch; a failing one is then
    simplified by ``shrink_graph``, in batches too."""
    drawn = []

    @hypothesis_seed(seed)
    @_settings(examples)
    @given(graph_cases())
    def collect(graph):
        assume(in_domain(graph))
        drawn.append(graph)

    with _no_local_constants():
        collect()
    return tuple(drawn)


def _batch(ctx, session, graphs):
    """All graphs in one request; returns the failures as (graph size, outcome), smallest first."""
    payload = Payload()
    reply, arrays = call(session, {"op": "graph", "graphs": [g.request(payload) for g in graphs]}, payload)
    failures = []
    for graph, rep in zip(graphs, reply["graphs"]):
        outcome = judge_runs(graph, rep, arrays, ctx.tolerances)
        if not outcome.ok:
            outcome.graph = graph
            failures.append((len(graph.nodes), outcome))
    return sorted(failures, key=lambda f: f[0])


def _property(ctx, session, examples, shrink=True):
    """Replay the seed's graphs in one batch. If one fails: with ``shrink``, simplify the smallest
    failing graph step by step (``shrink_graph``); without, report it as it is. Returns the failing
    outcome or None."""
    failures = _batch(ctx, session, generated_graphs(ctx.seed, examples))
    if not failures:
        return None
    return shrink_graph(ctx, session, failures[0][1]) if shrink else failures[0][1]


MAX_SHRINK_ROUNDS = 16


def shrink_graph(ctx, session, failure):
    """A failing graph made as simple as it stays failing: each round sends every one-step
    simplification of the current counterexample (``simpler``) to the worker in one request and moves
    to the simplest that still fails; it stops when none fails. A failing call stops it too: the
    counterexample found so far is reported. Deterministic for a deterministic student graph."""
    for _ in range(MAX_SHRINK_ROUNDS):
        candidates = [g for g in simpler(failure.graph) if in_domain(g)]
        if not candidates:
            break
        try:
            failures = _batch(ctx, session, candidates)
        except CallFailed:
            break
        if not failures:
            break
        failure = min((outcome for _, outcome in failures), key=lambda o: _complexity(o.graph))
    return failure


def _complexity(graph):
    """What the shrinker minimises: gates, then nodes, then the values' sizes and digits."""
    feed, dout, _ = graph.runs[0]
    return (sum("gate" in n for n in graph.nodes), len(graph.nodes), *_complexity_values(feed, dout))


def simpler(graph: Graph) -> list[Graph]:
    """Every one-step simplification of a random graph: an earlier gate as the output, a gate
    bypassed (its consumers read one of its inputs), a node that feeds nothing dropped, 0-d values
    (the first element), rounder values, an upstream gradient of ones."""
    nodes = graph.nodes
    feed, dout, _ = graph.runs[0]
    structures = []
    for k in range(len(nodes) - 1):
        if "gate" in nodes[k]:
            structures.append(_drop(nodes[: k + 1], set()))
    consumed = {i for n in nodes for i in n.get("in", [])}
    for k, n in enumerate(nodes[:-1]):
        if "gate" in n:
            for src in sorted(set(n["in"])):
                bypassed = [
                    dict(m, **{"in": [src if i == k else i for i in m["in"]]}) if "gate" in m else m for m in nodes
                ]
                structures.append(_drop(bypassed, {k}))
        if k not in consumed and ("gate" in n or len(graph.inputs) > 1):
            structures.append(_drop(nodes, {k}))
    out = []
    for new in structures:
        g = Graph(new)
        g.runs = [({name: feed[name] for name in g.inputs}, dout, True)]
        out.append(g)
    values = []
    if np.ndim(dout) > 0:
        values.append(
            (
                {k: np.asarray(v).ravel()[0] * np.ones(()) for k, v in feed.items()},
                np.asarray(dout).ravel()[0] * np.ones(()),
            )
        )
    for decimals in (1, 0):
        values.append(({k: np.round(v, decimals) + 0.0 for k, v in feed.items()}, np.round(dout, decimals) + 0.0))
    values.append((feed, np.ones_like(dout)))
    for new_feed, new_dout in values:
        if _complexity_values(new_feed, new_dout) < _complexity_values(feed, dout):
            g = Graph(nodes)
            g.runs = [(new_feed, new_dout, True)]
            out.append(g)
    return out


def _complexity_values(feed, dout):
    values = [*feed.values(), dout]
    return (sum(np.size(v) for v in values), sum(len(_num(x)) for v in values for x in np.ravel(v)))


def _drop(nodes, drop):
    """``nodes`` without the indices in ``drop`` (which nothing left reads), renumbered."""
    new_index, kept = {}, []
    for k, n in enumerate(nodes):
        if k in drop:
            continue
        new_index[k] = len(kept)
        kept.append(dict(n, **{"in": [new_index[i] for i in n["in"]]}) if "gate" in n else n)
    return kept


def _failing_gates(graph, ctx):
    """The gates of ``graph`` whose own checks did not all pass."""
    used = {n["gate"] for n in graph.nodes if "gate" in n}
    return sorted(
        {
            check_id.split(".")[1]
            for check_id, result in ctx.results.items()
            if check_id.startswith("gates.") and result.status != "pass"
        }
        & used
    )


def random_graphs(ctx) -> CheckResult:
    check_id = "graph.random_graphs"
    examples = int(ctx.settings.get("random_graphs", 25))
    if not generated_graphs(ctx.seed, examples):
        return CheckResult(
            check_id,
            "error",
            f"could not be checked: no random graph was generated ({examples} examples "
            "asked for in the assignment's settings)",
        )
    try:
        outcome = _property(ctx, ctx.with_standins, examples, shrink=ctx.shrink)
    except CallFailed as exc:
        return CheckResult(check_id, exc.status, f"running your graph on random graphs: {exc}")
    if outcome:
        return CheckResult(
            check_id,
            "error" if outcome.error else "fail",
            f"minimal failing graph: {outcome.message}",
            {**outcome.details, "blame": "graph.py: it fails with correct gates"},
        )
    details = {"examples": examples}
    gate_results = [r for i, r in ctx.results.items() if i.startswith("gates.")]
    # with the student's own gates in their graph too (unscored, for blame), unless every gate check
    # passed: then the graph has just been shown to run correct gates correctly
    all_passed = bool(gate_results) and all(r.status == "pass" for r in gate_results)
    if not all_passed and ctx.own_modules.get("gates", {}).get("ok"):
        try:
            own = _property(ctx, ctx.own, examples, shrink=False)
        except CallFailed as exc:
            own = None
            details["your_gates"] = f"could not run your gates in your graph: {exc}"
        if own:
            details["your_gates"] = own.message
            details["counterexample"] = own.details.get("counterexample", own.message)
            suspects = _failing_gates(own.graph, ctx)
            details["blame"] = (
                f"gates.py: {', '.join(suspects)} fail{'s' if len(suspects) == 1 else ''} "
                "its own checks (see the gates.* checks)"
                if suspects
                else "your gates and graph together (each passes alone): e.g. state shared between gate instances"
            )
    message = (
        f"{len(generated_graphs(ctx.seed, examples))} random graphs give the reference's values and "
        "gradients with correct gates"
    )
    if "your_gates" in details:
        message += "; with your own gates they do not (not deducted here; see details)"
    return CheckResult(check_id, "pass", message, details)
