"""The bundled layers assignment (CS231n-style function pairs and losses) grades its examples as
intended: the honest variations full marks, each classic bug caught by its own checks, with the
diagnosis the assignment declares for it (examples/layers/README.md)."""

import json
from pathlib import Path

import pytest

from gradcheck.assignment import load_assignment
from gradcheck.batch import grade_class

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "layers"
HONEST = ("correct", "dict-caches", "float32-inside", "loops-everywhere")
# example -> (the checks that fail, a phrase of the backward diagnosis or None)
BUGS = {
    # one bug, one deduction: TwoLayerNet is graded with a stand-in affine (gradcheck.standins)
    "bias-not-summed": ({"affine.backward", "affine.numerical"}, "1/N"),
    "batchnorm-missing-mean-terms": ({"batchnorm.backward", "batchnorm.numerical"}, "batch mean and variance"),
    "dropout-mask-not-in-backward": ({"dropout.backward", "dropout.numerical"}, "mask is not applied"),
    "conv-flipped-kernel": ({"conv.backward", "conv.numerical"}, "kernel flipped"),
    "maxpool-gradient-to-all": ({"max_pool.backward", "max_pool.numerical"}, "every element of the window"),
    # consistent with their own forward: only the comparison with the reference catches them
    "svm-counts-correct-class": ({"svm_loss.forward"}, None),
    "dropout-no-scaling": ({"dropout.forward", "dropout.backward", "dropout.numerical"}, None),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("layers-out")
    grade_class(EXAMPLES, out, load_assignment("layers"), seed=11, jobs=2)
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}


@pytest.mark.system
@pytest.mark.parametrize("name", HONEST)
def test_honest_variations_get_full_marks(reports, name):
    r = reports[name]
    assert r["score"] == r["max_score"] == load_assignment("layers").max_score == 46, [
        c for c in r["checks"] if c["status"] != "pass"
    ]


@pytest.mark.system
@pytest.mark.parametrize("name", BUGS)
def test_each_bug_is_caught_by_its_own_checks_with_its_diagnosis(reports, name):
    failing, phrase = BUGS[name]
    r = reports[name]
    lost = {c["id"].split(".", 1)[1] for c in r["checks"] if c["status"] == "fail"}
    assert lost == failing, r["checks"]
    if phrase:
        backward = next(c for c in r["checks"] if c["id"].endswith(".backward") and c["status"] == "fail")
        assert phrase in backward["details"]["diagnosis"], backward
