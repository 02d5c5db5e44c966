"""The bundled micrograd assignment (the scalar_engine and scalar_nn styles) grades its examples as
intended, in the sandbox: the honest variations full marks, each classic bug caught by its own checks,
with its diagnosis (examples/micrograd/README.md)."""

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from gradcheck.assignment import load_assignment
from gradcheck.batch import grade_class

pytestmark = pytest.mark.system

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "micrograd"
HONEST = ("correct", "dispatch-table", "iterative-topo", "slots", "tanh-by-exp")
# example -> {check: (status, a phrase of its diagnosis or None)}; every other check passes. An engine
# bug also costs the nn checks that run on it (no stand-in Value: docs/assignments.md)
BUGS = {
    "assign-not-accumulate": {
        "engine.Value.accumulation": ("fail", "overwritten (=) instead of accumulated"),
        "engine.Value.dag": ("fail", None),
        "engine.Value.random_expressions": ("fail", None),
        "nn.gradients": ("fail", None),
        "nn.train": ("fail", None),
    },
    "radd-rmul-no-grad": {  # sub and div: the example's __rsub__, __rtruediv__ go through __radd__, __rmul__
        f"engine.Value.{op}": ("fail", "__radd__ / __rmul__") for op in ("add", "sub", "mul", "div")
    },
    "pow-wrong-exponent": {  # the example's / is * y ** -1
        "engine.Value.pow": ("fail", "wrong exponent"),
        "engine.Value.div": ("fail", None),
    },
    "tanh-grad-from-input": {"engine.Value.tanh": ("fail", "from its input")},
    "topo-no-visited": {
        "engine.Value.dag": ("timeout", "visited"),
        "engine.Value.random_expressions": ("fail", None),
        "nn.gradients": ("fail", None),
        "nn.train": ("fail", None),
    },
    "set-order-children": {
        "engine.Value.dag": ("fail", None),  # whether some runs differ (and say so) depends on addresses
        "engine.Value.random_expressions": ("fail", None),
        "nn.gradients": ("fail", None),
        "nn.train": ("fail", None),
    },
    "parameters-miss-bias": {  # the grader sets parameters through parameters(): the rest cannot be checked
        "nn.parameters": ("fail", None),
        "nn.forward": ("error", None),
        "nn.gradients": ("error", None),
        "nn.train": ("error", None),
    },
    "relu-last-layer": {"nn.forward": ("fail", None), "nn.gradients": ("error", None), "nn.train": ("fail", None)},
}


# Submissions that try to score without the work (each writes its engine.py over a copy of `correct`):
# name -> (its engine.py's extra code, the checks it must not pass)
ENGINE_CHECKS = {f"engine.Value.{a}" for a in ("add", "sub", "mul", "div", "pow", "neg", "exp", "tanh", "relu")}
ENGINE_CHECKS |= {f"engine.Value.{a}" for a in ("accumulation", "dag", "deep_chain", "rerun", "random_expressions")}
HOSTILE = {
    # right values, backward() does nothing: only the forward-only checks (nn.parameters, nn.forward) are earned
    "cheat_backward_noop": (
        """
        def _backward(self):
            self.grad = 1.0

        Value.backward = _backward
        """,
        ENGINE_CHECKS | {"nn.gradients", "nn.zero_grad", "nn.train"},
    ),
    # replaces the worker's scalar ops with ones that answer with made-up numbers
    "cheat_forged_replies": (
        """
        import sys
        _ops = sys.modules.get("ops")
        if _ops is not None:
            def _forged(state, header, arrays, reply):
                if "programs" in header:
                    return {"programs": [{"runs": [{"data": reply.value([1.0]), "grads": reply.value([1.0] * 3),
                             "rerun": reply.value([1.0] * 3)}] * int(p.get("runs", 1))} for p in header["programs"]]}
                return {"nets": [{"results": [{"ok": True} for _ in n["script"]]} for n in header["nets"]]}
            _ops.OPS["scalar"] = _ops.OPS["scalar_nn"] = _forged
        """,
        ENGINE_CHECKS | {"nn.parameters", "nn.forward", "nn.gradients", "nn.zero_grad", "nn.train"},
    ),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("micrograd")
    shutil.copytree(EXAMPLES, root / "class", ignore=shutil.ignore_patterns("*.md", "__pycache__"))
    for name, (extra, _) in HOSTILE.items():
        shutil.copytree(EXAMPLES / "correct", root / "class" / name, ignore=shutil.ignore_patterns("__pycache__"))
        engine = root / "class" / name / "engine.py"
        engine.write_text(engine.read_text() + "\n" + textwrap.dedent(extra))
    out = root / "out"
    grade_class(root / "class", out, load_assignment("micrograd"), seed=11, jobs=2)
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_submission_that_does_not_do_the_work_earns_nothing_for_it(reports, name):
    earned = {c["id"] for c in reports[name]["checks"] if c["status"] == "pass"}
    assert not earned & HOSTILE[name][1], earned & HOSTILE[name][1]


def test_every_example_is_listed():
    assert {p.name for p in EXAMPLES.iterdir() if p.is_dir()} == set(HONEST) | set(BUGS)


@pytest.mark.parametrize("name", HONEST)
def test_honest_variations_get_full_marks(reports, name):
    r = reports[name]
    assert r["score"] == r["max_score"] == load_assignment("micrograd").max_score == 23, [
        c for c in r["checks"] if c["status"] != "pass"
    ]


@pytest.mark.parametrize("name", BUGS)
def test_each_bug_is_caught_by_its_own_checks_with_its_diagnosis(reports, name):
    r = reports[name]
    lost = {c["id"]: c for c in r["checks"] if c["status"] != "pass"}
    assert set(lost) == set(BUGS[name]), {k: v["message"] for k, v in lost.items()}
    for check_id, (status, phrase) in BUGS[name].items():
        assert lost[check_id]["status"] == status, lost[check_id]
        if phrase:
            assert phrase in lost[check_id]["details"]["diagnosis"], lost[check_id]


def test_the_exponential_topological_sort_is_stopped_within_its_budget(reports):
    dag = next(c for c in reports["topo-no-visited"]["checks"] if c["id"] == "engine.Value.dag")
    assert "did not finish within 1 s" in dag["message"]
    assert reports["topo-no-visited"]["timing"]["seconds"] < 30
