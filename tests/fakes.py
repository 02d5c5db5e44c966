"""Reports made by the fake graders of the batch, CLI and formats tests (which grade no real code): one
place that knows a graded report's top-level fields. A generated class of reports for the class report's
tests (``write_fake_class``)."""

import hashlib


def fake_check(spec, ok, message, **extra):
    """A check entry for the assignment's check ``spec``: full points when ``ok``, else none; ``extra``
    adds fields (details)."""
    return {
        "id": spec.id,
        "status": "pass" if ok else "fail",
        "score": spec.points if ok else 0.0,
        "max_score": spec.points,
        "visibility": spec.visibility,
        "message": message,
        **extra,
    }


def fake_report(name, assignment, seed, checks, **extra):
    """A graded report of ``checks`` (check entries as the grader writes them); ``extra`` adds or
    replaces top-level fields (timing, isolation, gradcheck_version)."""
    return {
        "schema_version": 1,
        "submission": name,
        "assignment": assignment.name,
        "seed": seed,
        "status": "graded",
        "message": "",
        "score": sum(c["score"] for c in checks),
        "max_score": assignment.max_score,
        "checks": checks,
        "timing": {"seconds": 0.1},
        **extra,
    }


# --- a generated class (the class report's tests) ---------------------------------------------------------

#: Planted bugs of a generated class: the checks each fails, its diagnosis and counterexample.
FAKE_BUGS = {
    "swapped-multiply": (
        ["gates.MultiplyGate.backward", "gates.MultiplyGate.numerical"],
        "the two inputs' gradients are swapped",
        "backward on shape (2, 3): dx is -2.4539 at [1, 0], expected 0.635894",
    ),
    "sigmoid-ignores-dout": (
        ["gates.SigmoidGate.backward", "gates.SigmoidGate.numerical"],
        "ignores the upstream gradient dz (as if dz were all ones)",
        "backward on shape (2, 3): dx is 0.213811 at [1, 0], expected -0.248995",
    ),
    "branch-overwrite": (
        ["graph.branches", "graph.same_node_twice", "graph.random_graphs"],
        "gradients are overwritten instead of added where a node feeds several gates (last write kept)",
        "f(x) = x * x at x=0.3 with dout=1: df/dx expected 0.6, got 0.3",
    ),
    "sgd-wrong-sign": (
        ["mlp.sgd_step", "mlp.train"],
        "the step params['W1'] - old: wrong sign",
        "after sgd_step(X, y, lr=0.1535), params['W1'] is 0.097272 at [2, 0], expected 0.0594104",
    ),
}


class FakeVerdict:
    """What a check's judging returns (``checks.common.CheckResult``'s fields)."""

    def __init__(self, status, message, details=None):
        self.status, self.message, self.details = status, message, details or {}


def fake_class_report(name, assignment, seed, bug=None, *, digest="0123456789abcdef", seconds=0.5, message=None):
    """A graded report made by the real report builder: every check passes but those of ``FAKE_BUGS[bug]``,
    which fail with its diagnosis, counterexample and ``got_digest`` ``digest``; ``message`` replaces the
    failing checks' message (student text, in the red-team tests)."""
    from gradcheck.report import graded_report

    failing, diagnosis, example = FAKE_BUGS[bug] if bug else ([], None, None)
    results = {}
    for spec in assignment.checks:
        if spec.id in failing:
            details = {"diagnosis": diagnosis, "counterexample": example, "worst": {"got": 1.0, "got_digest": digest}}
            results[spec.id] = FakeVerdict("fail", message or f"{spec.id} is wrong", details)
        else:
            results[spec.id] = FakeVerdict("pass", "matches the reference")
    return graded_report(
        name,
        assignment,
        seed,
        results,
        modules={},
        seconds=seconds,
        visible_seconds=seconds / 2,
        submission_hash=hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest(),
    )


def write_fake_class(out_dir, assignment, n, seed=0, extra=()):
    """A graded class of ``n`` submissions in ``out_dir`` as ``gradcheck grade`` leaves it (reports,
    summary.json, gradebook.csv): every other one correct, the others cycling through FAKE_BUGS (the same
    bug, the same wrong values: one group of identical answers each), every 25th could not be graded;
    ``extra``: more reports to add. Returns the reports."""
    import random

    from gradcheck.report import atomic_write_text, dumps_report, error_report, report_path, summary_row, write_summary

    rng = random.Random(seed)
    bugs = list(FAKE_BUGS)
    reports = []
    for i in range(n):
        bug = None if i % 2 == 0 else bugs[(i // 2) % len(bugs)]
        name = f"s{i:04d}-{bug or 'correct'}"
        if i % 25 == 24:
            reports.append(error_report(name, assignment, seed, "grading this submission took longer than 420 s"))
            continue
        digest = f"{bugs.index(bug):016x}" if bug else "0" * 16
        reports.append(fake_class_report(name, assignment, seed, bug, digest=digest, seconds=rng.uniform(0.2, 1.5)))
    reports += list(extra)
    # the real builder's reports, written without validating each again (that costs 10 ms a report)
    rows = [summary_row(r, atomic_write_text(report_path(out_dir, r["submission"]), dumps_report(r))) for r in reports]
    write_summary(rows, out_dir, assignment=assignment, seed=seed)
    return reports
