"""gradcheck.contract is the one statement of the student contract: the reference solution, the gates'
specs and the helpers that read it agree with it; and the rules read from one place (tolerances,
relative error, float32) give what the places that use them expect. Fast: no sandbox."""

import inspect
import tomllib

import numpy as np
import pytest

from gradcheck import contract, numerics
from gradcheck.assignment import DEFAULT_PATH
from gradcheck.checks import common, gates
from gradcheck.checks.context import Context
from gradcheck.grading import Context as GradingContext
from gradcheck.reference import gates as reference_gates
from gradcheck.reference import mlp as reference_mlp


@pytest.mark.parametrize("name", contract.GATE_NAMES)
def test_every_contract_gate_is_the_references_with_its_inputs(name):
    gate = contract.gate(name)
    cls = getattr(reference_gates, name)
    params = list(inspect.signature(cls.forward).parameters)[1:]
    assert len(params) == gate.arity
    init = [] if cls.__init__ is object.__init__ else list(inspect.signature(cls.__init__).parameters)[1:]
    assert init == ([gate.constant.name] if gate.constant else [])
    assert gate.gradients == gate.arity - (gate.labels is not None)
    assert gate.input_label(0) == f"input 0 ({gate.input_names[0]})"


def test_the_gates_specs_follow_the_contract_in_its_order():
    assert tuple(gates.GATES) == contract.GATE_NAMES
    assert all(unit is contract.gate(name) for name, unit in gates.GATES.items())


def test_labels_and_extra_items_belong_to_the_loss_only():
    special = [g.name for g in contract.GATES.values() if g.labels is not None or g.extra_grads or g.batch_mean]
    assert special == ["SoftmaxCrossEntropyGate"]
    assert contract.gate("SoftmaxCrossEntropyGate").gradients == 1


def test_layer_params_are_the_reference_mlps_keys():
    net = reference_mlp.MLP([3, 4, 2], activation=contract.ACTIVATIONS[0])
    assert sorted(net.params) == sorted(k for i in (1, 2) for k in contract.layer_params(i))
    assert contract.layer_params(1) == ("W1", "b1")


def test_default_tolerances_are_the_packaged_assignments():
    with open(DEFAULT_PATH, "rb") as f:
        packaged = tomllib.load(f)["tolerances"]
    assert common.default_tolerances() == packaged
    common.default_tolerances()["rtol"] = 1.0  # a fresh dict: the default cannot be changed by a caller
    assert common.default_tolerances() == packaged
    assert common.tolerance({}) == (packaged["rtol"], packaged["atol"])
    assert common.tolerance({"rtol": 0.5}) == (0.5, packaged["atol"])


def test_compare_reports_numerics_relative_error():
    bad = common.compare(np.array([1.0, 2.5]), np.array([1.0, 2.0]), {})
    assert bad.rel_error == numerics.rel_error(2.5, 2.0)
    assert not hasattr(common, "rel_error")
    assert numerics.rel_error([], []) == 0.0


def test_float32_is_one_rule():
    x = np.linspace(0.1, 1.7, 20)
    assert numerics._is_float32(x.astype(np.float32))
    assert numerics._is_float32(x.astype(np.float32).astype(np.float64))
    assert not numerics._is_float32(x)
    assert not numerics._is_float32(np.array([0.5, 0.25, -1.5]))  # float32 numbers, but few bits


class _Session:
    def __init__(self, modules, standins=None):
        self.modules, self.standins = modules, standins


class _StandIns:
    def __init__(self, names):
        self._names = names

    def names(self):
        return self._names


class _Assignment:
    tolerances = {"rtol": 1e-4, "atol": 1e-7}
    settings = {}


def test_context_uses_the_students_own_session_when_no_gate_needs_a_stand_in():
    own = _Session({"gates": {"ok": True}})
    ctx = Context(own, _Session({}, _StandIns([])), _Assignment(), 0, missing=["mlp"])
    assert ctx.with_standins is own and ctx.own is own
    assert ctx.own_modules["mlp"] == {"ok": False, "error": "mlp.py is not in the submission folder"}
    other = _Session({}, _StandIns(["AddGate"]))
    assert Context(own, other, _Assignment(), 0).with_standins is other
    assert GradingContext is Context
