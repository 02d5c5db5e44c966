"""No point without proof: submissions that try to score without correct code, graded as a class with
the real grader next to correct ones. Each earns nothing its code does not deserve; the correct ones
keep full marks. The cases are in tests/hostile/ (cheat_*, answer_key_walk), each bounded by itself."""

import json
import re
import shutil
from pathlib import Path

import pytest
from hostile_corpus import materialize

from gradcheck.assignment import DEFAULT_PATH, load_assignment
from gradcheck.batch import grade_class
from gradcheck.report import student_view

pytestmark = pytest.mark.system  # every test here starts real processes (tests/README.md)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GATES = [
    "AddGate",
    "MultiplyGate",
    "MaxGate",
    "ExpGate",
    "InverseGate",
    "AddConstantGate",
    "ScaleGate",
    "SigmoidGate",
    "TanhGate",
    "ReLUGate",
    "MatMulGate",
    "SoftmaxCrossEntropyGate",
]


def gate_checks(*aspects):
    return [f"gates.{g}.{a}" for g in GATES for a in aspects]


# case -> (what it does, the check ids (or id prefixes) that must earn nothing)
UNDESERVED = {
    "cheat_borrow_gates": ("imports the grader's stand-in gates / any gate class it can find", ["gates."]),
    "cheat_borrow_engine": ("delegates to any graph engine in the worker", ["graph."]),
    "cheat_empty_replies": ("replaces the worker's handlers: every reply is empty", ["gates.", "graph.", "mlp."]),
    "cheat_backward_raises": (
        "correct forward, backward raises",
        gate_checks("backward", "numerical", "shapes", "no_mutation"),
    ),
    "cheat_garbage_shapes": (
        "correct forward, backward of the wrong shape",
        gate_checks("backward", "numerical", "shapes"),
    ),
    "cheat_zeros": ("forward and backward return zeros", ["gates."]),
    "cheat_probe_lies": (
        "backward x2; forward lies at points near inputs it saw",
        gate_checks("backward", "numerical"),
    ),
    "cheat_float32_wrong": (
        "backward 0.15 % off, everything returned as float32",
        gate_checks("backward", "numerical"),
    ),
    "cheat_float32_grads": ("backward 0.15 % off, returned as float32", gate_checks("backward", "numerical")),
    "cheat_no_network": (
        "an MLP with no network",
        [c for c in ("mlp.forward.", "mlp.loss", "mlp.gradients.", "mlp.numerical", "mlp.sgd_step", "mlp.train")],
    ),
    "cheat_loss_12345": (
        "wrong-shaped scores, a loss of 12345",
        ["mlp.forward.", "mlp.loss", "mlp.gradients.", "mlp.numerical", "mlp.sgd_step", "mlp.train"],
    ),
}
# found by a red-team review (tests/hostile/rt_*): each docstring says what it does and what must hold
UNDESERVED.update(
    {
        "rt_hardcoded_answers": (
            "writes down the lecture's answers; ignores the gates' constants",
            ["graph.lecture_example", "graph.sigmoid_neuron", "gates.AddConstantGate.forward", "gates.ScaleGate."],
        ),  # (c + x)' = 1 whatever c: its backward is right
        "rt_mutate_restore": ("forward changes its input, backward puts it back", gate_checks("no_mutation")),
        "rt_sgd_no_network": ("no network; sgd_step steps by constant gradients", ["mlp.sgd_step"]),
        "rt_sgd_replays_loss": ("sgd_step replays the last loss() call", ["mlp.sgd_step"]),
        "rt_train_ignores_seed": ("train draws its batches from a fixed seed", ["mlp.train"]),
        "rt_train_invented": ("train does full-batch descent and reports invented losses", ["mlp.train"]),
        # a float32 or noisy forward widens the centered differences' tolerance (documented); the
        # comparison with the reference never depends on it
        "rt_float32_tolerance": ("backward 0.04 % off, values rounded to float32", gate_checks("backward")),
        # random noise is caught (the same inputs give different values); deterministic noise could still
        # widen the numerical check's tolerance (documented), never the comparison with the reference
        "rt_noise_buys_tolerance": ("noisy forward, backward 5 % off", gate_checks("backward", "numerical")),
        "rt_mutate_other_graph": (
            "overwrites an earlier graph's feed during another graph's call",
            ["graph.no_mutation"],
        ),
        "rt_mutate_other_net": ("zeroes an earlier network's X during another network's call", ["mlp.no_mutation"]),
        "rt_mutate_unless_probed": (
            "overwrites the feed except on the mutation check's own graphs",
            ["graph.no_mutation"],
        ),
        "rt_mutate_other_batches": ("zeroes X except on the mutation check's batch size", ["mlp.no_mutation"]),
        "rt_probe_orthogonal": (
            "backward off by an error orthogonal to the probe directions it saw",
            gate_checks("backward", "numerical"),
        ),
    }
)
# correct code with hostile extras: full marks
HONEST_BUT_HOSTILE = ["cheat_stack_sniffer", "rt_leak_channels", "rt_hidden_inputs_in_visible"]
FALSE_FAILURES = [
    "rt_false_eps_in_log",
    "rt_false_graph_checks_gate_type",
    "rt_false_loss_shape1",
    "rt_false_own_gates_in_mlp",
]  # correct, unusual code: full marks
INNOCENT = {
    "reference": ROOT / "reference",
    "correct": ROOT / "submissions" / "correct",
    "float32": HERE / "fixtures" / "float32",
    "loops": HERE / "fixtures" / "loops",
    "textbook": HERE / "fixtures" / "textbook",
}


def small_assignment(base, **limits):
    text = DEFAULT_PATH.read_text()
    for key, value in limits.items():
        text = text.replace(f"\n{key} = ", f"\n{key} = {value}  # was ", 1)
    path = base / ("limits-" + "-".join(f"{k}{v}" for k, v in limits.items()) + ".toml")
    path.write_text(text)
    return load_assignment(path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("integrity")
    klass, out = base / "class", base / "reports"
    klass.mkdir()
    for name, src in INNOCENT.items():
        shutil.copytree(src, klass / name, ignore=shutil.ignore_patterns("__pycache__", "__init__.py"))
    for case in [
        *UNDESERVED,
        *HONEST_BUT_HOSTILE,
        *FALSE_FAILURES,
        "answer_key_walk",
        "cheat_hidden_leak",
        "rt_false_helper_package",
        "rt_exfiltrate_standins",
    ]:
        materialize(case, klass / case)
    assignment = small_assignment(base, call_seconds=5, submission_seconds=60)
    grade_class(klass, out, assignment, seed=5, jobs=2)
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json") if p.stem != "summary"}


def checks(report):
    return {c["id"]: c for c in report["checks"]}


def test_correct_submissions_keep_full_marks(graded):
    for name in [*INNOCENT, *HONEST_BUT_HOSTILE, *FALSE_FAILURES]:
        report = graded[name]
        lost = {c["id"]: c["message"] for c in report["checks"] if c["score"] < c["max_score"]}
        assert report["score"] == report["max_score"] == 100.0, (name, lost)


@pytest.mark.parametrize("case", sorted(UNDESERVED))
def test_no_point_without_proof(graded, case):
    what, undeserved = UNDESERVED[case]
    earned = {
        i: c["message"]
        for i, c in checks(graded[case]).items()
        if c["score"] > 0 and any(i == u or (u.endswith(".") and i.startswith(u)) for u in undeserved)
    }
    assert not earned, f"{case} ({what}) earned points it does not deserve: {earned}"


def test_a_network_with_no_network_code_earns_at_most_params(graded):
    earned = [i for i, c in checks(graded["cheat_no_network"]).items() if i.startswith("mlp.") and c["score"] > 0]
    assert earned in ([], ["mlp.params"])


def test_lying_at_probes_is_named_as_the_forward(graded):
    """The numerical check says the forward's slope is wrong, not the backward (it is both here, but the
    differences the student's forward gives cannot vouch for anything)."""
    c = checks(graded["cheat_probe_lies"])["gates.ExpGate.numerical"]
    assert c["status"] == "fail" and "forward" in c["message"], c


def test_nothing_compared_is_an_error_that_says_why(graded):
    c = checks(graded["cheat_backward_raises"])["gates.MultiplyGate.numerical"]
    assert c["status"] == "error" and c["message"].startswith("could not be checked"), c
    assert "NotImplementedError" in c["message"] or "backward" in c["message"], c
    c = checks(graded["cheat_empty_replies"])["graph.lecture_example"]
    assert c["status"] == "error" and "does not answer the request" in c["message"], c


def test_no_answer_key_where_student_code_runs(graded):
    """Each kind of worker, walked from inside (sys.modules, gc, a few module names a grader might ship,
    the .py files it can read): no worker holds a gate, graph or MLP implementation but the student's.
    The stand-ins of the gates the student got wrong (here: all of them) are computed on the trusted
    side."""
    report = checks(graded["answer_key_walk"])
    for check_id, c in report.items():
        text = json.dumps(c)
        found = re.findall(r"ANSWER-KEY-WALK found (\[.*?\])", c["message"])
        if check_id.startswith(("gates.", "graph.", "mlp.forward", "mlp.loss", "mlp.gradients", "mlp.train")):
            if c["status"] in ("missing",):
                continue
            assert found or "could not be checked" in c["message"], (check_id, c["message"])
        assert not any(kind in text for kind in ("gate-impl", "graph-impl", "mlp-impl", "file-impl")), (check_id, text)


def test_hidden_check_inputs_never_reach_visible_messages(graded):
    """Withheld checks run after the visible ones, in fresh workers: what the student's code records
    while one runs cannot reach a visible check (which then passes: the case is otherwise correct)."""
    for c in graded["cheat_hidden_leak"]["checks"]:
        if c["visibility"] == "visible":
            assert "LEAKED-HIDDEN-INPUTS" not in json.dumps(c) and c["status"] == "pass", c


def test_one_time_budget_for_all_sessions_of_a_submission(tmp_path):
    """gates.py takes 2.5 s to import in each of the submission's sessions (at least two: the visible
    checks', and the withheld checks' fresh one); the submission's budget bounds them all together."""
    klass = tmp_path / "class"
    klass.mkdir()
    materialize("cheat_slow_imports", klass / "slow")
    assignment = small_assignment(tmp_path, call_seconds=3, submission_seconds=4)
    grade_class(klass, tmp_path / "out", assignment, seed=0, jobs=1)
    report = json.loads((tmp_path / "out" / "slow.json").read_text())
    assert report["status"] == "graded"
    assert report["timing"]["seconds"] < 4 + 2.5, report["timing"]
    assert any("budget" in c["message"] for c in report["checks"]), [c["message"] for c in report["checks"]]


def test_what_a_withheld_check_does_never_reaches_the_student_view(graded):
    """Output size and time of the withheld sessions stay out of what a student sees."""
    report = graded["rt_leak_channels"]
    view = student_view(report)
    assert view["output"] == {"withheld": True}
    assert view["timing"]["seconds"] == report["timing"]["visible_seconds"] < report["timing"]["seconds"]


def test_a_helper_folder_is_named_in_the_report(graded):
    """Only the submission's top-level files are staged (the contract's three modules, and more
    files); a folder is named in the report rather than dropped in silence."""
    assert "mathutil" in graded["rt_false_helper_package"]["message"]


def test_no_stand_in_source_to_exfiltrate(graded):
    """The worker that grades graph and MLP holds no source of correct gates (stand-ins are computed on
    the trusted side): the case that reads it from the worker's frames finds none."""
    messages = [c["message"] for c in graded["rt_exfiltrate_standins"]["checks"] if "EXFIL" in c["message"]]
    assert messages and all("EXFIL none" in m for m in messages), messages[:3]


def test_a_student_cannot_make_the_grader_fail(graded):
    """Whatever a submission does (empty or forged replies, handlers replaced, exceptions with anything in
    them), it is graded: an error of the checks that needed the reply, never "the autograder failed"
    (Gradescope) or "gradable": false (PrairieLearn, where it would not use up an attempt)."""
    from gradcheck.formats.gradescope import NOT_GRADED, to_gradescope, validate_gradescope
    from gradcheck.formats.prairielearn import to_prairielearn, validate_prairielearn

    for name, report in graded.items():
        assert report["status"] == "graded", (name, report.get("message"))
        assert not any(c.get("details", {}).get("grader_fault") for c in report["checks"]), name
        gs = to_gradescope(report)
        validate_gradescope(gs)
        assert NOT_GRADED not in json.dumps(gs), name
        pl = to_prairielearn(report)
        validate_prairielearn(pl)
        assert pl["gradable"] is True, name
