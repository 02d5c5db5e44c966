"""Stand-ins for every unit style (gradcheck/standins.py): one bug, one deduction on any assignment.

The trusted side's half is tested here directly (it is the grader's code: which units it replaces,
what it answers and what it refuses); the worker's half by grading submissions whose layer functions
are all wrong, or do not import, next to a correct TwoLayerNet that must keep every point."""

import functools
import json
from pathlib import Path

import numpy as np
import pytest

from gradcheck.assignment import load_assignment
from gradcheck.assignment.reference import reference_module
from gradcheck.batch import grade_class
from gradcheck.checks.common import CheckResult
from gradcheck.standins import StandIns

LAYERS = load_assignment("layers")
REF = reference_module(LAYERS, "layers")
FIXTURES = Path(__file__).parent / "fixtures" / "layers-standins"


def standins(results=None, everyone=False):
    return StandIns(
        LAYERS.units, {} if results is None else results, functools.partial(reference_module, LAYERS), everyone
    )


def passed(*unit_ids):
    return {f"{u}.{a}": CheckResult(f"{u}.{a}", "pass", "") for u in unit_ids for a in ("forward", "backward")}


def test_only_the_units_whose_own_checks_did_not_all_pass_are_replaced():
    all_layers = [u.id for u in LAYERS.units if u.style in ("function_pair", "loss_function")]
    assert standins().names() == all_layers  # nothing judged yet: every one (a model is never replaced)
    results = passed(*all_layers)
    results["layers.affine.numerical"] = CheckResult("layers.affine.numerical", "fail", "")
    s = standins(results)
    assert s.names() == ["layers.affine"]
    assert s.request() == {
        "units": [
            {
                "id": "layers.affine",
                "style": "function_pair",
                "module": "layers",
                "names": ["affine_forward", "affine_backward"],
            }
        ]
    }
    assert standins(passed(*all_layers), everyone=True).names() == all_layers


def test_a_pair_is_the_reference_with_its_cache_kept_here():
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=2)
    s = standins()
    head, (out,) = s.handle({"id": 1, "unit": "layers.affine", "step": "f", "values": 3}, [x, w, b])
    np.testing.assert_allclose(out, x @ w + b)
    dout = rng.normal(size=(3, 2))
    head, grads = s.handle({"id": 1, "unit": "layers.affine", "step": "b", "values": 1}, [dout])
    expected = REF.affine_backward(dout, REF.affine_forward(x, w, b)[1])
    assert head["single"] is False and len(grads) == 3
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want)
    # relu_backward returns dx itself, not a 1-tuple: the stand-in says so
    s.handle({"id": 2, "unit": "layers.relu", "step": "f", "values": 1}, [x])
    head, (dx,) = s.handle({"id": 2, "unit": "layers.relu", "step": "b", "values": 1}, [np.ones_like(x)])
    assert head["single"] is True and np.array_equal(dx, (x > 0).astype(float))


def test_a_param_dicts_mutable_keys_come_back():
    x = np.random.default_rng(1).normal(size=(5, 3))
    s = standins()
    request = {"id": 7, "unit": "layers.batchnorm", "step": "f", "values": 3}
    head, arrays = s.handle({**request, "param": {"mode": "train"}, "param_arrays": []}, [x, np.ones(3), np.zeros(3)])
    assert head["param"] == ["running_mean", "running_var"]
    np.testing.assert_allclose(arrays[1], 0.1 * x.mean(axis=0))
    # the arrays the caller's dict already holds go along: momentum applies to them
    head, arrays = s.handle(
        {**request, "id": 8, "values": 5, "param": {"mode": "train"}, "param_arrays": ["running_mean", "running_var"]},
        [x, np.ones(3), np.zeros(3), np.ones(3), np.ones(3)],
    )
    np.testing.assert_allclose(arrays[1], 0.9 + 0.1 * x.mean(axis=0))


def test_a_loss_is_the_reference():
    scores, y = np.random.default_rng(2).normal(size=(4, 3)), np.array([0, 2, 1, 1])
    head, (loss, dx) = standins().handle(
        {"id": 1, "unit": "layers.softmax_loss", "step": "f", "values": 2}, [scores, y]
    )
    want_loss, want_dx = REF.softmax_loss(scores, y)
    assert loss == pytest.approx(want_loss) and np.allclose(dx, want_dx)


@pytest.mark.parametrize(
    "request_, arrays, why",
    [
        # a unit the student passed is not answered: the channel computes nothing they got right
        ({"id": 1, "unit": "layers.relu", "step": "f", "values": 1}, [np.ones((2, 2))], "malformed"),
        ({"id": 1, "unit": "fc_net.TwoLayerNet", "step": "f", "values": 1}, [np.ones((2, 2))], "malformed"),
        ({"id": 1, "unit": "numpy.dot", "step": "f", "values": 1}, [np.ones((2, 2))], "malformed"),
        ({"id": 99, "unit": "layers.affine", "step": "b", "values": 1}, [np.ones((2, 2))], "cache"),
        ({"id": "1", "unit": "layers.affine", "step": "f", "values": 1}, [np.ones((2, 2))], "malformed"),
        ({"id": 1, "unit": "layers.affine", "step": "f", "values": 1}, [np.ones((2, 2))], "takes 3 inputs"),
        ({"id": 1, "unit": "layers.affine", "step": "f", "values": 17}, [np.ones(1)] * 17, "too many"),
    ],
)
def test_what_is_not_asked_for_is_refused(request_, arrays, why):
    s = standins(passed("layers.relu"))
    head, out = s.handle(request_, arrays)
    assert why in head["error"] and out == []


def test_a_cache_of_another_unit_is_refused():
    s = standins()
    s.handle({"id": 1, "unit": "layers.relu", "step": "f", "values": 1}, [np.ones((2, 2))])
    head, _ = s.handle({"id": 1, "unit": "layers.affine", "step": "b", "values": 1}, [np.ones((2, 2))])
    assert "cache" in head["error"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("standins-out")
    grade_class(FIXTURES, out, LAYERS, seed=3, jobs=2)
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}


@pytest.mark.system
@pytest.mark.parametrize("name", ["wrong-layers", "broken-layers"])
def test_a_model_keeps_its_points_when_every_layer_it_uses_is_wrong(graded, name):
    checks = graded[name]["checks"]
    model = [c for c in checks if c["id"].startswith("fc_net.TwoLayerNet.")]
    layers = [c for c in checks if c["id"].startswith("layers.")]
    assert model and all(c["status"] == "pass" for c in model), [c for c in model if c["status"] != "pass"]
    assert layers and all(c["status"] != "pass" for c in layers)
    assert graded[name]["score"] == sum(c["max_score"] for c in model) == 6
