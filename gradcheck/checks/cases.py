"""How the grader draws a case's values, for every unit style: an input's values from its declared
domain (``gradcheck.units.Domain``), a case's inputs from its sizes, labels fair to a softmax, and the
assignment's problem when no draw can meet what it asks (``UnitProblem``). The styles' checks build
their cases from these (``checks.gates``, ``checks.models``, ``checks.scalar``, ``checks.scalar_nn``)
and the lecture's MLP its labels (``checks.mlp``)."""

from __future__ import annotations

import numpy as np

from ..units import Unit

__all__ = [
    "CASE_TRIES",
    "MAX_LABEL_PROBABILITY",
    "MIN_LABEL_PROBABILITY",
    "UnitProblem",
    "draw",
    "draw_inputs",
    "fair_labels",
    "label_probabilities",
]


def draw(rng, domain, shape, drawn):
    """One input's values: ``domain`` (``gradcheck.units.Domain``) at ``shape``; ``drawn``: the case's
    inputs drawn so far, by name, and its sizes (for labels: the number of classes)."""
    kind, args = domain.kind, domain.args
    if kind == "uniform":
        return rng.uniform(args[0], args[1], shape)
    if kind == "normal":
        return rng.normal(0, args[0], shape) if args[0] != 1 else rng.normal(size=shape)
    if kind == "away_from_zero":  # |x| in [lo, hi] with a random sign: a kink or pole at 0 stays out of reach
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(args[0], args[1], shape)
    if kind == "near":  # another input plus or minus a gap: no pair is a near-tie
        return drawn[args[0]] + rng.choice([-1.0, 1.0], shape) * rng.uniform(args[1], args[2], shape)
    if kind == "labels":
        return rng.integers(0, drawn[args[0]], shape)
    raise ValueError(f"unknown domain {kind!r}")


def draw_inputs(unit: Unit, rng, sizes, elementwise=None):
    """Every input of one case, in input order: float64 arrays (labels int64)."""
    drawn = dict(sizes)
    out = []
    for inp in unit.inputs:
        shape = elementwise if inp.shape is None else tuple(sizes[d] if isinstance(d, str) else d for d in inp.shape)
        x = draw(rng, inp.domain, shape, drawn)
        x = np.asarray(x, dtype=np.int64 if not inp.differentiable else float)
        drawn[inp.name] = x
        out.append(x)
    return out


# Textbook losses add an epsilon (1e-7) inside the log: -log(p + eps) differs from -log p by eps / p in
# value and slope. An assignment keeps every label's probability at least MIN (``accept =
# {label_probability = [0.02, 0.98]}``), so that a correct textbook formulation is within the tolerance
# (eps / p <= 5e-6, 20x inside rtol 1e-4), and at most MAX: a loss near 0 (p near 1) computed in float32
# cannot resolve the centered differences of its slope.
MIN_LABEL_PROBABILITY = 0.02
MAX_LABEL_PROBABILITY = 0.98
CASE_TRIES = 200  # draws of a case until it meets the unit's ``accept`` condition


def fair_labels(scores, labels, lo=MIN_LABEL_PROBABILITY, hi=MAX_LABEL_PROBABILITY):
    p = label_probabilities(scores, labels)
    return p.min() >= lo and p.max() <= hi


def label_probabilities(scores, labels):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True))[np.arange(len(labels)), labels]


class UnitProblem(ValueError):
    """What the assignment asks of a unit cannot be done (the instructor's mistake, not a student's):
    ``field`` of the unit's entry in the file (``accept``), and why."""

    def __init__(self, field, why):
        super().__init__(why)
        self.field = field
