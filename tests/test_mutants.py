"""Diagnoses on single-bug mutants of the reference: the common student bugs, each graded with the real
grader. Every mutant is caught; at least 80 % of the gradient bugs get a diagnosis that names their
bug, and none gets a wrong one (no diagnosis beats a wrong one)."""

import pytest
from mutant_corpus import grade_mutants

pytestmark = pytest.mark.system  # every test here starts real processes (tests/README.md)

SIG_FWD = "        self.z = _sigmoid(np.asarray(x, dtype=float))\n"
TANH_FWD = "        self.z = np.tanh(x)\n"
# name -> (module, [(old, new), ...], acceptable diagnoses (substrings; any one))
MUTANTS = {
    "sigmoid_at_input": (
        "gates.py",
        [
            (SIG_FWD, SIG_FWD + "        self.x = np.asarray(x, dtype=float)\n"),
            ("dz * self.z * (1.0 - self.z)", "dz * self.x * (1.0 - self.x)"),
        ],
        ["at the input instead of the output"],
    ),
    "sigmoid_no_derivative": (
        "gates.py",
        [("dz * self.z * (1.0 - self.z)", "dz * np.ones_like(self.z)")],
        ["derivative is missing"],
    ),
    "sigmoid_ignores_dout": (
        "gates.py",
        [("dz * self.z * (1.0 - self.z)", "self.z * (1.0 - self.z)")],
        ["ignores the upstream gradient"],
    ),
    "sigmoid_sign": ("gates.py", [("dz * self.z * (1.0 - self.z)", "-dz * self.z * (1.0 - self.z)")], ["wrong sign"]),
    "tanh_at_input": (
        "gates.py",
        [
            (TANH_FWD, TANH_FWD + "        self.x = np.asarray(x, dtype=float)\n"),
            ("dz * (1.0 - self.z**2)", "dz * (1.0 - self.x**2)"),
        ],
        ["at the input instead of the output"],
    ),
    "tanh_no_square": ("gates.py", [("dz * (1.0 - self.z**2)", "dz * (1.0 - self.z)")], ["missing its square"]),
    "tanh_twice": ("gates.py", [("dz * (1.0 - self.z**2)", "2 * dz * (1.0 - self.z**2)")], ["twice the right value"]),
    "relu_no_mask": (
        "gates.py",
        [
            (
                "return [np.where(self.positive, dz, 0.0)]",
                "return [np.asarray(dz, dtype=float) * np.ones(np.shape(self.positive))]",
            )
        ],
        ["mask is missing"],
    ),
    "relu_mask_from_grad": (
        "gates.py",
        [("return [np.where(self.positive, dz, 0.0)]", "return [np.where(np.asarray(dz) > 0, dz, 0.0)]")],
        ["taken from the gradient"],
    ),
    "exp_ignores_dout": ("gates.py", [("return [dz * self.z]", "return [self.z]")], ["ignores the upstream gradient"]),
    "inverse_no_square": ("gates.py", [("return [-dz * self.z**2]", "return [-dz * self.z]")], ["-1/x instead"]),
    "inverse_no_minus": (
        "gates.py",
        [("return [-dz * self.z**2]", "return [dz * self.z**2]")],
        ["minus sign is missing", "wrong sign"],
    ),
    "max_both": (
        "gates.py",
        [
            (
                "return [np.where(self.x_wins, dz, 0.0), np.where(self.x_wins, 0.0, dz)]",
                "return [np.where(self.x_wins, dz, dz), np.where(self.x_wins, dz, dz)]",
            )
        ],
        ["both inputs get the whole gradient"],
    ),
    "max_to_smaller": (
        "gates.py",
        [
            (
                "return [np.where(self.x_wins, dz, 0.0), np.where(self.x_wins, 0.0, dz)]",
                "return [np.where(self.x_wins, 0.0, dz), np.where(self.x_wins, dz, 0.0)]",
            )
        ],
        ["smaller input", "swapped"],
    ),
    "multiply_swapped": (
        "gates.py",
        [("return [dz * self.y, dz * self.x]", "return [dz * self.x, dz * self.y]")],
        ["swapped"],
    ),
    "multiply_ignores_dout": (
        "gates.py",
        [("return [dz * self.y, dz * self.x]", "return [self.y, self.x]")],
        ["ignores the upstream gradient"],
    ),
    "multiply_twice": (
        "gates.py",
        [("return [dz * self.y, dz * self.x]", "return [2 * dz * self.y, 2 * dz * self.x]")],
        ["twice the right value"],
    ),
    "add_halves": (
        "gates.py",
        [("return [dz.copy(), dz.copy()]", "return [dz / 2, dz / 2]")],
        ["split in half", "half the right value"],
    ),
    "scale_missing": (
        "gates.py",
        [("return [self.a * np.asarray(dz, dtype=float)]", "return [np.asarray(dz, dtype=float)]")],
        ["scale factor is missing"],
    ),
    "matmul_dW_transposed": (
        "gates.py",
        [("return [dZ @ self.X.T, self.W.T @ dZ]", "return [self.X @ dZ.T, self.W.T @ dZ]")],
        ["transposed"],
    ),
    "softmax_sum": ("gates.py", [("return [dout * dscores / n]", "return [dout * dscores]")], ["N = "]),
    "softmax_no_subtract": (
        "gates.py",
        [("dscores[np.arange(n), self.labels] -= 1.0\n", "\n")],
        ["1 is not subtracted"],
    ),
    "softmax_ignores_dout": (
        "gates.py",
        [("return [dout * dscores / n]", "return [dscores / n]")],
        ["ignores the upstream gradient"],
    ),
    "mlp_no_activation_derivative": (
        "mlp.py",
        [('da = (da @ self.params[f"W{i}"]) * self.dact(hs[i - 1])', 'da = da @ self.params[f"W{i}"]')],
        ["derivative is missing in the hidden layers"],
    ),
    "mlp_derivative_at_preactivation": (
        "mlp.py",
        [("self.dact(hs[i - 1])", 'self.dact(hs[i - 2] @ self.params[f"W{i - 1}"].T + self.params[f"b{i - 1}"])')],
        ["at the pre-activation"],
    ),
    "mlp_bias_not_summed": (
        "mlp.py",
        [('grads[f"b{i}"] = da.sum(axis=0)', 'grads[f"b{i}"] = da')],
        ["not summed over the batch"],
    ),
    "mlp_bias_mean": ("mlp.py", [('grads[f"b{i}"] = da.sum(axis=0)', 'grads[f"b{i}"] = da.mean(axis=0)')], ["1/N"]),
    "mlp_W_transposed": (
        "mlp.py",
        [('grads[f"W{i}"] = da.T @ hs[i - 1]', 'grads[f"W{i}"] = hs[i - 1].T @ da')],
        ["transposed"],
    ),
    "mlp_loss_sum": ("mlp.py", [("        da /= n\n", "\n")], ["N = "]),
    "mlp_sgd_sign": ("mlp.py", [("self.params[k] - lr * g", "self.params[k] + lr * g")], ["wrong sign"]),
    "graph_overwrite": (
        "graph.py",
        [("grads[i] = g if grads[i] is None else grads[i] + g", "grads[i] = g")],
        ["overwritten instead of added"],
    ),
    # breadth-first from the output: a node's gradient is passed on as soon as one consumer reached it
    "graph_breadth_first": (
        "graph.py",
        [
            (
                """        for node in reversed(range(len(self.nodes))):
            kind, what, inputs = self.nodes[node]
            if kind == "input" or grads[node] is None:
                continue""",
                """        queue, seen = [len(self.nodes) - 1], set()
        while queue:
            node = queue.pop(0)
            if node in seen:
                continue
            seen.add(node)
            kind, what, inputs = self.nodes[node]
            if kind == "input" or grads[node] is None:
                continue
            queue.extend(inputs)""",
            )
        ],
        ["breadth-first"],
    ),
    "graph_ignores_dout": (
        "graph.py",
        [
            (
                "np.ones_like(out, dtype=float) if dout is None else np.asarray(dout, dtype=float)",
                "np.ones_like(out, dtype=float)",
            )
        ],
        ["ignores the upstream gradient"],
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return grade_mutants(tmp_path_factory.mktemp("mutants"), MUTANTS, seed=7)


def diagnoses(report):
    return [
        c["details"]["diagnosis"]
        for c in report["checks"]
        if c["status"] != "pass" and c.get("details", {}).get("diagnosis")
    ]


def test_every_mutant_is_caught(graded):
    assert not [name for name, r in graded.items() if r["score"] == r["max_score"]]


def test_no_mutant_gets_a_wrong_diagnosis(graded):
    wrong = {}
    for name, report in graded.items():
        accepted = MUTANTS[name][2]
        bad = [d for d in diagnoses(report) if not any(a in d for a in accepted)]
        if bad:
            wrong[name] = bad
    assert not wrong


def test_most_gradient_bugs_are_named(graded):
    named = [
        name for name, report in graded.items() if any(any(a in d for a in MUTANTS[name][2]) for d in diagnoses(report))
    ]
    rate = len(named) / len(MUTANTS)
    missed = sorted(set(MUTANTS) - set(named))
    assert rate >= 0.8, (f"{rate:.0%} diagnosed", missed)
