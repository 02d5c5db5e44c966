"""graph.no_mutation and mlp.no_mutation: "No method may modify the arrays it is given". Student-style
mutants of the reference (one change each, by text replacement: tests/mutant_corpus.py) that change
the caller's arrays without changing any value they return: each loses exactly its part's
no_mutation check, with a message that names the method and the argument, and keeps every other
check. Also the worker's reports and their validation, in process."""

import json
import types

import numpy as np
import pytest
from mutant_corpus import grade_mutants

from gradcheck.checks import graph as graph_checks
from gradcheck.checks import mlp as mlp_checks
from gradcheck.checks import replies
from gradcheck.reference import gates as ref_gates
from gradcheck.reference import graph as ref_graph
from gradcheck.reference import mlp as ref_mlp
from gradcheck.sandbox.inside import ops

GRAPH_RETURN = """        return {
            what: np.zeros_like(self.values[node]) if grads[node] is None else grads[node]
            for node, (kind, what, _) in enumerate(self.nodes)
            if kind == "input"
        }"""
GRAPH_INPUT = """            if kind == "input":
                self.values.append(np.asarray(values[what], dtype=float))"""
MLP_LOSS_RETURN = """                da = (da @ self.params[f"W{i}"]) * self.dact(hs[i - 1])
        return loss, grads"""
TRAIN_LOOP = """        rows = rng.choice(len(X), size=min(batch_size, len(X)), replace=False)
        losses.append(net.sgd_step(X[rows], y[rows], lr))"""

# name -> (module, [(old, new), ...], the check it must lose, words its message must hold)
MUTANTS = {
    # zero_grad after the pass: every gradient buffer is cleared in place, and grads[-1] is the caller's dout
    "graph_backward_zero_grad": (
        "graph.py",
        [
            (
                GRAPH_RETURN,
                """        result = {
            what: (np.zeros_like(self.values[node]) if grads[node] is None
                   else np.array(grads[node], dtype=float))
            for node, (kind, what, _) in enumerate(self.nodes)
            if kind == "input"
        }
        for g in grads:  # clear the gradient buffers for the next pass
            if isinstance(g, np.ndarray):
                g[...] = 0.0
        return result""",
            )
        ],
        "graph.no_mutation",
        ["ComputationalGraph.backward modified its argument 0 (dout) in place"],
    ),
    # "float32 is precise enough": the inputs are rounded where they are, in the caller's arrays
    "graph_forward_float32_in_place": (
        "graph.py",
        [
            (
                GRAPH_INPUT,
                """            if kind == "input":
                v = np.asarray(values[what], dtype=float)
                v[...] = v.astype(np.float32)
                self.values.append(v)""",
            )
        ],
        "graph.no_mutation",
        ["ComputationalGraph.forward modified the array 'x' of its argument 0 (the feed dict) in place"],
    ),
    # preallocated buffers: a second forward copies its values into the arrays the first forward was given
    "graph_forward_reuses_buffers": (
        "graph.py",
        [
            (
                "        self.values = []\n",
                """        old = getattr(self, "values", None)
        self.values = []
""",
            ),
            (
                GRAPH_INPUT,
                """            if kind == "input":
                v = np.asarray(values[what], dtype=float)
                k = len(self.values)
                if old is not None and np.shape(old[k]) == v.shape:
                    old[k][...] = v
                    v = old[k]
                self.values.append(v)""",
            ),
        ],
        "graph.no_mutation",
        [
            "the array 'x' of ComputationalGraph.forward's argument 0 (the feed dict) was "
            "modified in place by a later call"
        ],
    ),
    # frees the activations in place once the gradients are computed; hs[0] is X itself
    "mlp_loss_frees_activations": (
        "mlp.py",
        [
            (
                MLP_LOSS_RETURN,
                """                da = (da @ self.params[f"W{i}"]) * self.dact(hs[i - 1])
        for h in hs[:-1]:
            h[...] = 0.0
        return loss, grads""",
            )
        ],
        "mlp.no_mutation",
        ["MLP.loss modified its argument 0 (X) in place"],
    ),
    # shuffles the rows in place and takes the first batch_size of them
    "mlp_train_shuffles_in_place": (
        "mlp.py",
        [
            (
                TRAIN_LOOP,
                """        order = rng.permutation(len(X))
        X[:], y[:] = X[order], y[order]
        losses.append(net.sgd_step(X[:batch_size], y[:batch_size], lr))""",
            )
        ],
        "mlp.no_mutation",
        ["train modified its argument 1 (X) in place"],
    ),
    # gates may return dz itself (they change nothing); a graph that then adds into the arrays it got
    # changes the caller's dout. Not forgiven by the re-run with correct gates (that one copies)
    "graph_adds_into_aliased_dout": (
        "graph.py",
        [
            ("gates.py", "        return [dz.copy(), dz.copy()]", "        return [dz, dz]"),
            (
                "                grads[i] = g if grads[i] is None else grads[i] + g  # gradients add at branches",
                """                if grads[i] is None:
                    grads[i] = g
                else:
                    grads[i] += g""",
            ),
        ],
        "graph.no_mutation",
        ["ComputationalGraph.backward modified its argument 0 (dout) in place"],
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_mutants(tmp_path_factory.mktemp("no_mutation"), MUTANTS, seed=3)


@pytest.mark.system
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_mutation_costs_exactly_its_no_mutation_check(graded, name):
    """Each call gets its own copy of the caller's arrays: a change is caught, and no other check (the
    part's value checks included: forward, gradients, loss, sgd_step, train) sees its effect."""
    _, _, check_id, words = MUTANTS[name]
    report = graded[name]
    lost = {c["id"]: c["message"] for c in report["checks"] if c["status"] != "pass"}
    assert list(lost) == [check_id], (name, lost)
    c = next(c for c in report["checks"] if c["id"] == check_id)
    assert c["status"] == "fail" and c["score"] == 0 and report["score"] == 100 - c["max_score"]
    for w in words:
        assert w in c["message"], c["message"]
    assert "the caller's arrays must stay as they were" in c["message"]
    part = check_id.split(".")[0] + "."
    others = [x for x in report["checks"] if x["id"].startswith(part) and x["id"] != check_id]
    assert others and all(x["status"] == "pass" for x in others)


@pytest.mark.system
def test_train_shuffling_names_both_arrays(graded):
    c = next(c for c in graded["mlp_train_shuffles_in_place"]["checks"] if c["id"] == "mlp.no_mutation")
    assert c["details"]["failures"] == 2 and c["details"]["argument"] == "train's argument 1 (X)"


@pytest.mark.system
def test_loss_mutation_is_also_named_for_sgd_step(graded):
    """sgd_step calls loss: it changes X too (one check, one deduction, every failing call counted)."""
    c = next(c for c in graded["mlp_loss_frees_activations"]["checks"] if c["id"] == "mlp.no_mutation")
    assert c["details"]["failures"] >= 6  # loss and sgd_step on each of the three networks


# ------------------------------------------------------------------------- the worker, in process


def _state(graph=None, mlp=None):
    state = ops.State()
    state.modules = {"gates": types.SimpleNamespace(AddGate=_Add, MultiplyGate=_Mul)}
    if graph is not None:
        state.modules["graph"] = types.SimpleNamespace(ComputationalGraph=graph)
    if mlp is not None:
        state.modules["mlp"] = mlp
    return state


class _Add:
    def forward(self, x, y):
        return x + y

    def backward(self, dz):
        return [np.array(dz), np.array(dz)]


class _Mul:
    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dz):
        return [dz * self.y, dz * self.x]


class _Graph:
    """A tiny engine for f = (x + y) * z; ``bug`` says what it does to the caller's arrays."""

    bug = None

    def __init__(self):
        self.nodes = []

    def input(self, name):
        self.nodes.append(("input", name, ()))
        return len(self.nodes) - 1

    def gate(self, gate, *inputs):
        self.nodes.append(("gate", gate, inputs))
        return len(self.nodes) - 1

    def forward(self, feed):
        if self.bug == "forward" and isinstance(feed["x"], np.ndarray):
            feed["x"] += 1.0
        if self.bug == "restore":
            feed["y"] *= 2.0
            self.restore = feed["y"]
        if self.bug == "later" and hasattr(self, "first"):
            self.first[...] = 0.0
        self.first = feed["x"]
        self.values = []
        for kind, what, inputs in self.nodes:
            self.values.append(
                feed[what] * (0.5 if self.bug == "restore" and what == "y" else 1.0)
                if kind == "input"
                else what.forward(*[self.values[i] for i in inputs])
            )
        return self.values[-1]

    def backward(self, dout=None):
        if self.bug == "restore":
            self.restore /= 2.0
        grads = [None] * len(self.nodes)
        grads[-1] = np.ones_like(self.values[-1]) if dout is None else dout
        for k in reversed(range(len(self.nodes))):
            kind, what, inputs = self.nodes[k]
            if kind == "gate":
                for i, g in zip(inputs, what.backward(grads[k])):
                    grads[i] = g if grads[i] is None else grads[i] + g
        if self.bug == "dout" and dout is not None:
            dout[dout < 0] = 0.0
        if self.bug == "raise":
            raise RuntimeError("no")
        return {what: grads[k] for k, (kind, what, _) in enumerate(self.nodes) if kind == "input"}


def _graph_request(runs, floats=False):
    arrays = []

    def ref(v):
        arrays.append(np.asarray(v, dtype=float))
        return {"$a": len(arrays) - 1}

    nodes = [
        {"input": "x"},
        {"input": "y"},
        {"input": "z"},
        {"gate": "AddGate", "in": [0, 1]},
        {"gate": "MultiplyGate", "in": [3, 2]},
    ]
    req = {
        "op": "graph",
        "graphs": [
            {
                "nodes": nodes,
                "floats": floats,
                "runs": [
                    {"feed": {k: ref(v) for k, v in feed.items()}, "dout": None if dout is None else ref(dout)}
                    for feed, dout in runs
                ],
            }
        ],
    }
    return req, arrays


def _run_graph(bug, runs, floats=False):
    cls = type("G", (_Graph,), {"bug": bug})
    req, arrays = _graph_request(runs, floats)
    sent = [a.copy() for a in arrays]
    header, out = ops.dispatch(_state(graph=cls), req, arrays)
    assert all(np.array_equal(a, s) for a, s in zip(arrays, sent))  # the request's own arrays are never handed out
    return replies.validated(req, header, len(out))["graphs"][0]["runs"], out


FEED = {"x": [1.0, -2.0], "y": [0.5, 3.0], "z": [-1.0, 2.0]}


@pytest.mark.parametrize(
    "bug,changed",
    [
        (None, [[], []]),
        ("forward", [["forward/feed.x"], ["forward/feed.x"]]),
        ("dout", [["backward/dout"], ["backward/dout"]]),
        ("restore", [["forward/feed.y"], ["forward/feed.y"]]),  # changed by forward, put back by backward
        ("later", [["later/feed.x"], []]),  # the second forward writes into the first's x
        ("raise", [[], []]),
    ],
)
def test_graph_op_reports_which_argument_changed(bug, changed):
    runs, _ = _run_graph(bug, [(FEED, [-1.0, 2.0]), (FEED, [3.0, -4.0])])
    assert [r["changed"] for r in runs] == changed
    if bug == "raise":
        assert all(r["where"] == "ComputationalGraph.backward" and "out" in r for r in runs)


def test_each_graph_call_gets_its_own_copy():
    """A forward that adds 1 to x in place: the second run is fed what was sent, not what the first changed."""
    runs, out = _run_graph("forward", [(FEED, None), (FEED, None)])
    assert [float(out[r["out"]["$a"]][0]) for r in runs] == [-2.5 * 1.0, -2.5 * 1.0]  # ((1+1)+0.5) * -1, twice


def test_python_floats_are_not_reported():
    feed = {"x": 1.0, "y": 2.0, "z": 3.0}
    runs, _ = _run_graph("forward", [(feed, None)], floats=True)
    assert runs[0]["changed"] == []


def _mlp_module(mutate):
    class MLP:
        def __init__(self, sizes, activation="tanh", seed=0):
            self.params = {"W1": np.zeros((sizes[1], sizes[0])), "b1": np.zeros(sizes[1])}

        def forward(self, X):
            if mutate == "forward":
                X *= 2.0
            return X @ self.params["W1"].T + self.params["b1"]

        def loss(self, X, y):
            if mutate == "loss":
                y[0] = 1 - y[0]
            if mutate == "later":
                self.kept = X
            return 0.5, {k: np.zeros_like(v) for k, v in self.params.items()}

        def sgd_step(self, X, y, lr):
            if mutate == "later":
                self.kept[...] = 0.0
            return self.loss(X, y)[0]

    def train(net, X, y, lr=0.5, batch_size=32, steps=200, seed=0):
        if mutate == "train":
            np.random.default_rng(seed).shuffle(y)
        return [net.sgd_step(X, y, lr) for _ in range(steps)]

    return types.SimpleNamespace(MLP=MLP, train=train)


@pytest.mark.parametrize(
    "mutate,changed",
    [
        (None, [[], [], [], []]),
        ("forward", [["X"], [], [], []]),
        ("loss", [[], ["y"], ["y"], []]),  # sgd_step calls loss: its y changes too
        ("later", [[], ["later/X"], ["later/X"], ["X"]]),  # loss keeps X; the next sgd_step writes into it
        ("train", [[], [], [], ["y"]]),
    ],
)
def test_mlp_op_reports_which_argument_changed(mutate, changed):
    X, y = np.arange(8.0).reshape(4, 2), np.array([0, 1, 1, 0])
    arrays = [X, y]
    req = {
        "op": "mlp",
        "nets": [
            {
                "sizes": [2, 2],
                "activation": "tanh",
                "seed": 0,
                "script": [
                    {"forward": {"$a": 0}},
                    {"loss": [{"$a": 0}, {"$a": 1}]},
                    {"params": True},
                    {"sgd_step": [{"$a": 0}, {"$a": 1}, 0.1]},
                    {"train": {"X": {"$a": 0}, "y": {"$a": 1}, "lr": 0.1, "batch_size": 2, "steps": 2, "seed": 4}},
                ],
            }
        ],
    }
    header, out = ops.dispatch(_state(mlp=_mlp_module(mutate)), req, arrays)
    results = replies.validated(req, header, len(out))["nets"][0]["results"]
    assert "changed" not in results[2]
    assert [r["changed"] for k, r in enumerate(results) if k != 2] == changed
    assert np.array_equal(X, np.arange(8.0).reshape(4, 2)) and np.array_equal(y, [0, 1, 1, 0])


@pytest.mark.parametrize(
    "changed",
    [
        ["feed.x"],
        ["forward/feed.q"],
        ["forward/feed.x", "later/feed.x"],
        ["forward/feed.x", "forward/feed.x"],
        [["forward/feed.x"]],
        "forward/feed.x",
        ["later/dout"],
    ],
)
def test_graph_reply_with_unknown_tags_is_refused(changed):
    req, _ = _graph_request([(FEED, None)])  # no dout: no tag may name one
    reply = {"graphs": [{"runs": [{"out": {"$a": 0}, "grads": {}, "changed": changed}]}]}
    assert replies.validated(req, reply, 1)["graphs"][0]["runs"][0] == {"error": replies.MALFORMED}


def test_graph_reply_backward_tags_need_a_forward_that_returned():
    req, _ = _graph_request([(FEED, [1.0, 1.0])])
    ok = {"error": "E: no", "where": "ComputationalGraph.forward", "changed": ["forward/feed.y"]}
    assert replies.validated(req, {"graphs": [{"runs": [ok]}]}, 0)["graphs"][0]["runs"][0]["changed"] == [
        "forward/feed.y"
    ]
    bad = {**ok, "changed": ["backward/dout"]}
    assert replies.validated(req, {"graphs": [{"runs": [bad]}]}, 0)["graphs"][0]["runs"][0] == {
        "error": replies.MALFORMED
    }


@pytest.mark.parametrize(
    "item,changed,ok",
    [
        ({"forward": {"$a": 0}}, ["X"], True),
        ({"forward": {"$a": 0}}, ["y"], False),
        ({"loss": [{"$a": 0}, {"$a": 1}]}, ["y", "later/X"], True),
        ({"loss": [{"$a": 0}, {"$a": 1}]}, ["X", "later/X"], False),
        ({"params": True}, [], False),
        ({"set": {"W1": {"$a": 0}}}, ["X"], False),
        ({"train": {"X": {"$a": 0}, "y": {"$a": 1}}}, ["net"], False),
    ],
)
def test_mlp_reply_with_unknown_tags_is_refused(item, changed, ok):
    key = next(iter(item))
    entry = {
        "forward": {"scores": {"$a": 0}},
        "loss": {"loss": {"$a": 0}, "grads": {}},
        "params": {"params": {}},
        "set": {"ok": True},
        "train": {"losses": {"$a": 0}},
    }[key]
    req = {"op": "mlp", "nets": [{"sizes": [2, 2], "activation": "tanh", "script": [item]}]}
    got = replies.validated(req, {"nets": [{"results": [{**entry, "changed": changed}]}]}, 1)["nets"][0]["results"][0]
    assert (got.get("changed") == changed) if ok else got == {"error": replies.MALFORMED}


# ------------------------------------------------------------------ the verdicts, on an in-process worker


class _Session:
    """The worker's ops run in this process on the given modules (what a sandbox session does, without
    the sandbox): requests and replies go through JSON, arrays are copied."""

    def __init__(self, graph=ref_graph, mlp=ref_mlp):
        self.state = ops.State()
        self.state.modules = {"gates": ref_gates, "graph": graph, "mlp": mlp}

    def call(self, header, arrays):
        reply, out = ops.dispatch(self.state, json.loads(json.dumps(header)), [np.array(a) for a in arrays])
        return types.SimpleNamespace(status="ok", header=json.loads(json.dumps(reply)), arrays=out, message="")


def _ctx(names=("MLP", "train"), **modules):
    return types.SimpleNamespace(
        with_standins=_Session(**modules),
        tolerances={"rtol": 1e-4, "atol": 1e-7},
        rng=lambda label: np.random.default_rng(7),
        standin_modules={"mlp": {"ok": True, "names": list(names)}},
    )


def _graph_module(**methods):
    cls = type("ComputationalGraph", (ref_graph.ComputationalGraph,), methods)
    return types.SimpleNamespace(ComputationalGraph=cls)


def _raise(*args, **kwargs):
    raise ValueError("not today")


def _zero_dout_then_raise(self, dout=None):
    dout[...] = 0.0
    raise ValueError("not today")


@pytest.mark.parametrize(
    "methods,status,words",
    [
        ({}, "pass", "unchanged"),
        ({"backward": _raise}, "error", "could not be checked: ComputationalGraph.backward: ValueError: not today"),
        (
            {"forward": lambda self, feed: 0.0 * np.asarray(feed["x"]), "backward": lambda self, dout=None: {}},
            "error",
            "no working graph",
        ),
        ({"backward": _zero_dout_then_raise}, "fail", "ComputationalGraph.backward modified its argument 0 (dout)"),
    ],
)
def test_graph_no_mutation_passes_only_on_evidence(methods, status, words):
    r = graph_checks.no_mutation(_ctx(graph=_graph_module(**methods)))
    assert r.status == status and words in r.message, r


def _subclassed_mlp(**methods):
    return types.SimpleNamespace(MLP=type("MLP", (ref_mlp.MLP,), methods), train=ref_mlp.train)


@pytest.mark.parametrize(
    "methods,names,status,words",
    [
        ({}, ("MLP", "train"), "pass", "unchanged"),
        ({}, ("MLP",), "error", "mlp.py has no function train"),
        ({"sgd_step": _raise}, ("MLP", "train"), "error", "could not be checked: MLP.sgd_step: ValueError"),
        (
            {"forward": lambda self, X: np.zeros((len(X), 3)), "loss": lambda self, X, y: (0.0, {})},
            ("MLP", "train"),
            "error",
            "no working network",
        ),
    ],
)
def test_mlp_no_mutation_passes_only_on_evidence(methods, names, status, words):
    r = mlp_checks._no_mutation(_ctx(names=names, mlp=_subclassed_mlp(**methods)))
    assert r.status == status and words in r.message, r
