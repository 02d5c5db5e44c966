"""The model style (gradcheck.units, gradcheck.checks.models): a class with a params dict and
loss(X, y) -> (loss, grads), loss(X) -> scores, declared in TOML and graded with no code of its own.

In process: a small assignment of its own (a softmax classifier, ``SOFTMAX_TOML`` and its reference),
graded through the worker's ops on an in-process session: correct styles keep full marks, each planted
bug fails its checks with its diagnosis, hostile networks earn nothing they did not do; the worker's
reply, its validation and its size bound; malformed declarations named by field; the lecture's MLP
unchanged. The bundled layers assignment's TwoLayerNet graded in the sandbox: tests/test_layers_model.py."""

import json
import types

import numpy as np
import pytest

from gradcheck import grading
from gradcheck.assignment import AssignmentError, load_assignment
from gradcheck.assignment.known import MLP_CHECKS
from gradcheck.assignment.loading import known_checks
from gradcheck.checks import messages, models, replies
from gradcheck.checks.context import Context
from gradcheck.sandbox.inside import ops
from gradcheck.sandbox.replycap import reply_cap
from gradcheck.units import MODEL_ASPECTS

SOFTMAX_TOML = """
name = "softmax"
modules = ["net"]

[[units]]
name = "SoftmaxClassifier"
style = "model"
module = "net"
args = { weight_scale = 0.01, reg = 0.1 }
size_args = { input_dim = "D", num_classes = "C" }
inputs = [
    { name = "X", shape = ["N", "D"], domain = { normal = 1.0 } },
    { name = "y", shape = ["N"], domain = { labels = "C" } },
]
accept = { label_probability = [0.02, 0.98] }
cases = [{ N = 4, D = 5, C = 3 }, { N = 3, D = 4, C = 4, args = { reg = 0.0 } }, { N = 6, D = 3, C = 5 }]
bugs = [{ says = "the regularisation is missing", args = { reg = 0.0 } }]

[units.params]
W = { shape = ["D", "C"], init = { normal = "weight_scale" } }
b = { shape = ["C"], init = "zeros" }
"""

REFERENCE = """
import numpy as np


class SoftmaxClassifier:
    def __init__(self, input_dim, num_classes, weight_scale=1e-2, reg=0.0):
        self.reg = reg
        self.params = {"W": weight_scale * np.random.randn(input_dim, num_classes), "b": np.zeros(num_classes)}

    def loss(self, X, y=None):
        W, b = self.params["W"], self.params["b"]
        scores = X @ W + b
        if y is None:
            return scores
        n = len(y)
        shifted = scores - scores.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(n), y].mean() + 0.5 * self.reg * np.sum(W * W)
        dscores = np.exp(logp)
        dscores[np.arange(n), y] -= 1.0
        dscores /= n
        grads = {"W": X.T @ dscores + self.reg * W, "b": dscores.sum(axis=0)}
        return loss, grads
"""
IDS = tuple(f"net.SoftmaxClassifier.{a}" for a in MODEL_ASPECTS)


def _assignment(tmp_path, toml=SOFTMAX_TOML):
    hw = tmp_path / "hw"
    (hw / "reference").mkdir(parents=True, exist_ok=True)
    (hw / "assignment.toml").write_text(toml)
    (hw / "reference" / "net.py").write_text(REFERENCE)
    return load_assignment(hw)


class _Session:
    """The worker's ops in this process on the student's module (what a sandbox session does, without
    the sandbox): requests and replies go through JSON, arrays are copied."""

    def __init__(self, source, module="net"):
        student = types.ModuleType(module)
        exec(compile(source, f"{module}.py", "exec"), student.__dict__)
        self.state = ops.State()
        self.state.modules = {module: student}
        self.modules = {module: {"ok": True, "names": sorted(n for n in vars(student) if not n.startswith("_"))}}
        self.requests = []

    def call(self, header, arrays):
        self.requests.append(header)
        reply, out = ops.dispatch(self.state, json.loads(json.dumps(header)), [np.array(a) for a in arrays])
        return types.SimpleNamespace(status="ok", header=json.loads(json.dumps(reply)), arrays=out, message="")


def _grade(assignment, source, seed=0, wanted=IDS):
    session = _Session(source)
    return models.run(Context(session, session, assignment, seed), set(wanted))


def _edit(*changes):
    source = REFERENCE
    for old, new in changes:
        assert source.count(old) == 1, old
        source = source.replace(old, new)
    return source


# ------------------------------------------------------------------------------- declaration


def test_a_model_is_a_toml_entry_with_its_checks(tmp_path):
    a = _assignment(tmp_path)
    assert a.check_ids == IDS
    (unit,) = a.units
    assert unit.is_model and unit.param_names == ("W", "b") and unit.input_names == ("X", "y")
    assert unit.params[0].init == ("normal", "weight_scale") and unit.params[1].init == ("zeros",)
    assert unit.size_args == {"input_dim": "D", "num_classes": "C"} and unit.bugs == (
        ("the regularisation is missing", {"reg": 0.0}),
    )
    assert a.max_score == 1 + 1 + 1 + 2 + 1 + 1  # [points] by aspect, the defaults


def test_the_lecture_mlp_keeps_its_checks():
    (mlp,) = [u for u in load_assignment().units if u.style == "model"]
    assert not mlp.is_model and mlp.check_ids == () and known_checks([mlp]) == MLP_CHECKS


def test_the_layers_assignment_declares_two_layer_net():
    a = load_assignment("layers")
    assert a.modules == ("layers", "fc_net")
    (net,) = [u for u in a.units if u.style == "model"]
    assert net.is_model and net.id == "fc_net.TwoLayerNet" and net.param_names == ("W1", "b1", "W2", "b2")
    assert [c.id for c in a.checks if c.id.startswith("fc_net.")] == [f"fc_net.TwoLayerNet.{x}" for x in MODEL_ASPECTS]


@pytest.mark.parametrize(
    "change, field, words",
    [
        (("args = { weight_scale = 0.01, reg = 0.1 }", "args = { reg = 0.1 }"), "units[0].params.W.init", "a number"),
        (('size_args = { input_dim = "D"', 'size_args = { input_dim = "K"'), "units[0].cases[0]", "size for K"),
        (("{ N = 4, D = 5, C = 3 }", "{ N = 4, D = 5, C = 3, args = { lr = 1 } }"), "units[0].cases[0].args", "lr"),
        (("args = { reg = 0.0 } }]", 'gradients = "f" }]'), "units[0].bugs[0]", "expected args"),
        (('name = "SoftmaxClassifier"', 'name = "SoftmaxClassifier"\nid = "mlp"'), "units[0].id", "lecture's MLP"),
        (('module = "net"\nargs', 'module = "net"\noutput = "scalar"\nargs'), "units[0].output", "not for a model"),
        (('init = { normal = "weight_scale" }', 'init = { normal = "scale" }'), "units[0].params.W.init.normal", ""),
        (('    { name = "y", shape = ["N"], domain = { labels = "C" } },\n', ""), "units[0].inputs", "X and y"),
        (('style = "model"', 'style = "gate"'), "units[0].params", "only a model"),
        (('W = { shape = ["D", "C"], init', 'W = { shape = "D", init'), "units[0].params.W", "a shape, or a table"),
    ],
    ids=[
        "init names no arg",
        "size arg unbound",
        "case arg unknown",
        "bug as a function",
        "id mlp",
        "gate field",
        "scale not an arg",
        "no y",
        "params on a gate",
        "shape not an array",
    ],
)
def test_a_malformed_model_is_named_with_its_field(tmp_path, change, field, words):
    toml = SOFTMAX_TOML.replace(*change)
    assert toml != SOFTMAX_TOML
    with pytest.raises(AssignmentError) as e:
        _assignment(tmp_path, toml)
    assert field in str(e.value) and words in str(e.value), str(e.value)


# ------------------------------------------------------------------------------- grading, in process

FLOAT32 = _edit(
    (
        '        W, b = self.params["W"], self.params["b"]\n',
        "        W, b = (self.params[k].astype(np.float32) for k in 'Wb')\n        X = X.astype(np.float32)\n",
    ),
    ("        return loss, grads", "        return float(loss), {k: v.astype(np.float64) for k, v in grads.items()}"),
)
LOOPS = _edit(
    (
        "        scores = X @ W + b\n",
        "        scores = np.zeros((len(X), W.shape[1]))\n"
        "        for i in range(len(X)):\n"
        "            for c in range(W.shape[1]):\n"
        "                scores[i, c] = sum(X[i, d] * W[d, c] for d in range(W.shape[0])) + b[c]\n",
    ),
)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("source", [REFERENCE, FLOAT32, LOOPS], ids=["reference", "float32-inside", "loops"])
def test_correct_models_get_full_marks(tmp_path, source, seed):
    results = _grade(_assignment(tmp_path), source, seed)
    assert {i: (r.status, r.message) for i, r in results.items() if r.status != "pass"} == {}
    assert set(results) == set(IDS)


# planted bug -> (changes, the checks that fail, the diagnosis of the first failing one, if any)
PLANTED = {
    "reg-gradient-missing": (
        [('{"W": X.T @ dscores + self.reg * W,', '{"W": X.T @ dscores,')],
        {"gradients": "the regularisation is missing", "numerical": None},
    ),
    "W-transposed": (
        [('"W": X.T @ dscores + self.reg * W,', '"W": (X.T @ dscores + self.reg * W).T,')],
        {"gradients": "W: transposed", "numerical": None},  # no gradient of W's shape: numerical cannot judge
    ),
    "bias-mean-not-sum": (
        [("dscores.sum(axis=0)}", "dscores.mean(axis=0)}")],
        {"gradients": "b: 1/N", "numerical": None},
    ),
    "loss-without-reg": (
        [(" + 0.5 * self.reg * np.sum(W * W)", "")],
        {"loss": "the regularisation is missing", "numerical": None},
    ),
    "scores-without-bias": (
        [("scores = X @ W + b\n", "scores = X @ W\n")],
        # a wrong forward costs everything that needs it; no_mutation has no working network to vouch for
        {"scores": None, "loss": None, "gradients": None, "numerical": None, "no_mutation": None},
    ),
    "weights-not-scaled": (
        [("weight_scale * np.random.randn", "np.random.randn")],
        {"params": None},
    ),
    "bias-not-zero": (
        [('"b": np.zeros(num_classes)}', '"b": np.ones(num_classes)}')],
        {"params": None},
    ),
}


@pytest.mark.parametrize("name", PLANTED)
def test_each_planted_bug_fails_its_own_checks_with_its_diagnosis(tmp_path, name):
    changes, failing = PLANTED[name]
    results = _grade(_assignment(tmp_path), _edit(*changes), seed=3)
    got = {i.rsplit(".", 1)[1] for i, r in results.items() if r.status != "pass"}
    assert got == set(failing), {i: r.message for i, r in results.items()}
    for aspect, diagnosis in failing.items():
        r = results[f"net.SoftmaxClassifier.{aspect}"]
        if diagnosis:
            assert diagnosis in r.details.get("diagnosis", ""), r


def test_the_messages_name_the_network_and_what_differs(tmp_path):
    results = _grade(_assignment(tmp_path), _edit(*PLANTED["bias-not-zero"][0]), seed=3)
    assert results["net.SoftmaxClassifier.params"].message == (
        "SoftmaxClassifier(input_dim=5, num_classes=3, weight_scale=0.01, reg=0.1).params['b'] is not all zeros "
        "after construction (it must start at zero)"
    )
    results = _grade(_assignment(tmp_path), _edit(*PLANTED["reg-gradient-missing"][0]), seed=3)
    r = results["net.SoftmaxClassifier.gradients"]
    assert r.message.startswith(
        "SoftmaxClassifier(input_dim=5, num_classes=3, weight_scale=0.01, reg=0.1) with X (4, 5): dW is "
    )
    assert r.details["worst"]["input"] == "W" and r.details["failures"] == 2  # the case with reg = 0 passes


HOSTILE = {
    # reference-like shapes, garbage values
    "garbage": _edit(
        (
            "        W, b = self.params",
            "        C = len(self.params['b'])\n"
            "        if y is None:\n"
            "            return np.random.randn(len(X), C)\n"
            "        return np.random.rand(), {k: np.random.randn(*v.shape) for k, v in self.params.items()}\n"
            "        W, b = self.params",
        )
    ),
    # its own parameters, kept at construction; the grader's in net.params ignored
    "ignores-params": _edit(
        ('"b": np.zeros(num_classes)}\n', '"b": np.zeros(num_classes)}\n        self.mine = dict(self.params)\n'),
        ('W, b = self.params["W"], self.params["b"]', 'W, b = self.mine["W"], self.mine["b"]'),
    ),
    # the caller's X scaled in place after computing everything right
    "mutates-X": _edit(("        return loss, grads", "        X *= 2.0\n        return loss, grads")),
    # an SGD step inside loss: the parameter arrays the grader set, changed in place
    "steps-in-loss": _edit(
        (
            "        return loss, grads",
            "        for k in grads:\n            self.params[k] -= 0.1 * grads[k]\n        return loss, grads",
        )
    ),
    # nothing: a network that raises
    "raises": _edit(("        W, b = self.params", "        raise RuntimeError('todo')\n        W, b = self.params")),
}


@pytest.mark.parametrize(
    "name, statuses, diagnosis",
    [
        (
            "garbage",
            {"scores": "fail", "loss": "fail", "gradients": "fail", "numerical": "fail", "no_mutation": "error"},
            None,
        ),
        (
            "ignores-params",
            {"scores": "fail", "loss": "fail", "gradients": "fail", "numerical": "fail", "no_mutation": "error"},
            messages.IGNORES_PARAMS,
        ),
        ("mutates-X", {"no_mutation": "fail"}, None),
        ("steps-in-loss", {"no_mutation": "fail"}, None),
        (
            "raises",
            {"scores": "error", "loss": "error", "gradients": "error", "numerical": "error", "no_mutation": "error"},
            None,
        ),
    ],
)
def test_hostile_models_earn_nothing_they_did_not_do(tmp_path, name, statuses, diagnosis):
    results = _grade(_assignment(tmp_path), HOSTILE[name], seed=5)
    got = {i.rsplit(".", 1)[1]: r.status for i, r in results.items() if r.status != "pass"}
    assert got == statuses, {i: r.message for i, r in results.items()}
    if diagnosis:
        assert results["net.SoftmaxClassifier.scores"].details["diagnosis"] == diagnosis
        assert results["net.SoftmaxClassifier.gradients"].details["diagnosis"] == diagnosis
    if name == "mutates-X":
        assert "SoftmaxClassifier.loss modified its argument 0 (X) in place" in results[IDS[-1]].message
    if name == "steps-in-loss":
        assert (
            "SoftmaxClassifier.loss modified params['W'] (an array the grader set in net.params)"
            in results[IDS[-1]].message
        )


def test_the_grader_sets_its_parameters_before_every_call_and_reads_params_first(tmp_path):
    session = _Session(REFERENCE)
    models.run(Context(session, session, _assignment(tmp_path), 0), set(IDS))
    main, points = session.requests
    assert [next(iter(i)) for i in main["nets"][0]["script"]] == ["params", "set", "scores", "set", "loss"]
    assert main["nets"][0]["args"] == {"input_dim": 5, "num_classes": 3, "weight_scale": 0.01, "reg": 0.1}
    assert main["nets"][1]["args"]["reg"] == 0.0  # the case's own
    kinds = [next(iter(i)) for i in points["nets"][0]["script"]]
    probes = sum(models.N_DIRECTIONS + min(models.N_COORDINATES, size) for size in (5 * 3, 3))  # W (5, 3), b (3,)
    assert kinds == ["set", "loss"] * (1 + 4 * probes)  # the base point, then 4 points per probe


def test_only_what_a_check_needs_is_sent(tmp_path):
    session = _Session(REFERENCE)
    results = models.run(Context(session, session, _assignment(tmp_path), 0), {IDS[0]})
    assert set(results) == {IDS[0]} and results[IDS[0]].status == "pass"
    (main,) = session.requests
    assert [next(iter(i)) for i in main["nets"][0]["script"]] == ["params", "set"]


def test_a_missing_class_or_module_is_named(tmp_path):
    a = _assignment(tmp_path)
    results = _grade(a, "class Other:\n    pass\n")
    assert {r.status for r in results.values()} == {"missing"}
    assert results[IDS[0]].message == "net.py has no class SoftmaxClassifier"
    session = _Session("")
    session.modules = {"net": {"ok": False, "error": "SyntaxError: invalid syntax (net.py, line 1)"}}
    results = models.run(Context(session, session, a, 0), set(IDS))
    assert {r.status for r in results.values()} == {"error"} and "SyntaxError" in results[IDS[1]].message


def test_run_checks_sends_a_models_checks_to_the_models_part_whatever_its_module(tmp_path):
    """A model in a module named mlp: its checks (mlp.SoftmaxClassifier.*) are the model's, not the
    lecture MLP's (whose checks are mlp.*)."""
    toml = SOFTMAX_TOML.replace('"net"', '"mlp"')
    hw = tmp_path / "hw"
    (hw / "reference").mkdir(parents=True)
    (hw / "assignment.toml").write_text(toml)
    (hw / "reference" / "mlp.py").write_text(REFERENCE)
    a = load_assignment(hw)
    session = _Session(REFERENCE, module="mlp")
    results = grading.run_checks(session, session, a, seed=1)
    assert set(results) == {f"mlp.SoftmaxClassifier.{x}" for x in MODEL_ASPECTS}
    assert {r.status for r in results.values()} == {"pass"}


# ------------------------------------------------------------------------------- the worker's op


class _Net:
    def __init__(self, input_dim=2, mutate=None):
        self.params = {"W": np.zeros((input_dim, 2)), "b": np.zeros(2)}
        self.mutate = mutate

    def loss(self, X, y=None):
        scores = X @ self.params["W"] + self.params["b"]
        if self.mutate == "X":
            X[0, 0] = 7.0
        if self.mutate == "W":
            self.params["W"] += 1.0
        if self.mutate == "keys":
            return 0.0, {f"g{i}": np.zeros(1) for i in range(ops.MAX_KEYS + 1)}
        return scores if y is None else (1.5, {"W": np.ones((len(X[0]), 2)), "b": np.ones(2)})


def _model_request(mutate=None):
    script = [
        {"params": True},
        {"set": {"W": {"$a": 0}, "b": {"$a": 1}}},
        {"scores": [{"$a": 2}]},
        {"loss": [{"$a": 2}, {"$a": 3}]},
    ]
    net = {"module": "net", "cls": "Net", "args": {"input_dim": 2, "mutate": mutate}, "seed": 3, "script": script}
    arrays = [np.ones((2, 2)), np.zeros(2), np.arange(4.0).reshape(2, 2), np.array([0, 1])]
    return {"op": "model", "nets": [net]}, arrays


def _dispatch(header, arrays):
    state = ops.State()
    state.modules = {"net": types.SimpleNamespace(Net=_Net)}
    reply, out = ops.dispatch(state, json.loads(json.dumps(header)), [a.copy() for a in arrays])
    return json.loads(json.dumps(reply)), out


def test_the_worker_runs_the_script_and_reports_values_as_array_references():
    header, arrays = _model_request()
    reply, out = _dispatch(header, arrays)
    results = reply["nets"][0]["results"]
    assert set(results[0]["params"]) == {"W", "b"} and results[1] == {"ok": True}
    scores = out[results[2]["scores"]["$a"]]
    assert np.array_equal(scores, arrays[2] @ arrays[0] + arrays[1]) and results[2]["changed"] == []
    assert out[results[3]["loss"]["$a"]] == 1.5 and set(results[3]["grads"]) == {"W", "b"}
    assert replies.validated(header, reply, len(out)) == reply


@pytest.mark.parametrize(
    "mutate, tags",
    [("X", [[], ["a0", "later/a0"]]), ("W", [["p.W"], []])],
    ids=["X in place", "a parameter the grader set"],
)
def test_the_worker_names_what_a_call_changed(mutate, tags):
    header, arrays = _model_request(mutate)
    reply, out = _dispatch(header, arrays)
    results = reply["nets"][0]["results"]
    # X: the scores call changes its own copy (a0); the loss call gets a fresh copy, changes it too
    expected = {"X": (["a0"], ["a0"]), "W": (["p.W"], [])}[mutate]
    assert (results[2]["changed"], results[3]["changed"]) == expected
    assert replies.validated(header, reply, len(out))["nets"][0]["results"][2]["changed"] == expected[0]


def test_a_dict_of_too_many_entries_is_an_error_of_that_call():
    header, arrays = _model_request("keys")
    reply, out = _dispatch(header, arrays)
    loss = reply["nets"][0]["results"][3]
    assert loss["error"].startswith("ValueError: grads has 65 entries") and loss["where"] == "Net.loss"


@pytest.mark.parametrize(
    "forge",
    [
        lambda r: r["nets"][0]["results"][2].update(changed=["p.Z"]),  # a parameter never set
        lambda r: r["nets"][0]["results"][2].update(changed=["a1"]),  # scores has one argument
        lambda r: r["nets"][0]["results"][1].update(changed=["p.W"]),  # a set item reports only later changes
        lambda r: r["nets"][0]["results"][3]["grads"].update({"x" * 101: {"$a": 0}}),
        lambda r: r["nets"][0]["results"][2].update(scores={"$a": 99}),
    ],
    ids=["unknown parameter", "unknown argument", "set's own change", "long key", "array out of range"],
)
def test_a_forged_reply_is_malformed_where_it_does_not_fit(forge):
    header, arrays = _model_request()
    reply, out = _dispatch(header, arrays)
    forge(reply)
    got = replies.validated(header, reply, len(out))["nets"][0]["results"]
    assert replies.MALFORMED in json.dumps(got)


def test_the_reply_cap_follows_the_parameters_the_request_sets():
    header, arrays = _model_request()
    reply, out = _dispatch(header, arrays)
    cap = reply_cap(header, arrays)
    assert 8 + len(json.dumps(reply)) + sum(a.nbytes for a in out) < cap  # an honest reply
    assert np.zeros((100, 100)).nbytes > cap  # scores of 100 x 100 for a batch of 2 and parameters of 2 x 2


@pytest.mark.parametrize(
    "change, words",
    [
        (
            (
                "accept = { label_probability = [0.02, 0.98] }",
                'accept = { kink_distance = { function = "nope", min = 0.05 } }',
            ),
            "units[0].accept: SoftmaxClassifier: the reference module net has no function nope",
        ),
        (
            (
                "accept = { label_probability = [0.02, 0.98] }",
                'accept = { kink_distance = { function = "kink", min = 9.0 } }',
            ),
            "units[0].accept: SoftmaxClassifier: no draw of case 0 in 200 met the condition",
        ),
        (
            ("args = { weight_scale = 0.01, reg = 0.1 }", "args = { weight_scale = 0.01, reg = 0.1, momentum = 0.9 }"),
            "units[0].cases: SoftmaxClassifier: the reference's SoftmaxClassifier(input_dim=5, num_classes=3, "
            "weight_scale=0.01, reg=0.1, momentum=0.9) on case 0 raised TypeError",
        ),
    ],
    ids=["kink function missing", "kink bound never met", "reference raises"],
)
def test_what_the_assignment_asks_that_cannot_be_done_is_its_error(tmp_path, change, words):
    """Said with the file's name and the unit's field, as a malformed file is: never a grader fault, never
    points lost by the student."""
    a = _assignment(tmp_path, SOFTMAX_TOML.replace(*change))
    (tmp_path / "hw" / "reference" / "net.py").write_text(REFERENCE + "\n\ndef kink(params, X, y):\n    return 1.0\n")
    session = _Session(REFERENCE)
    with pytest.raises(AssignmentError) as e:
        grading.run_checks(session, session, a, seed=0)
    assert str(e.value).startswith(str(a.path)) and words in str(e.value), str(e.value)
