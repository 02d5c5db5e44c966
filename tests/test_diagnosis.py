"""Diagnoses: each known bug pattern is named; anything else gets no diagnosis rather than a wrong one."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradcheck.diagnosis import diagnose

RNG = np.random.default_rng(5)
W, X = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))


@pytest.mark.parametrize(
    "got,expected,kwargs,text",
    [
        ([-W, X], [W, X], {}, "input 0: wrong sign"),
        ([W, 2 * X], [W, X], {}, "input 1: twice the right value"),
        ([W / 2], [W], {}, "half the right value"),
        ([W.T, X], [W, X], {}, "input 0: transposed"),
        ([X, W], [W, X], {}, "swapped"),
        ([W * 0, X], [W, X], {}, "input 0: zero where it should not be"),
        ([W * 5], [W], {"batch": 5}, "N = 5 times"),
        ([W / 5], [W], {"batch": 5}, "1/N = 1/5"),
        ([W * 3], [W], {}, "constant factor of 3"),
        ([W + 1], [W], {"alternatives": {"ignores the upstream gradient": [W + 1]}}, "ignores the upstream gradient"),
    ],
)
def test_known_patterns_are_named(got, expected, kwargs, text):
    assert text in diagnose(got, expected, **kwargs)


def test_square_transpose_needs_a_non_symmetric_expected():
    A = RNG.normal(size=(3, 3))
    assert diagnose([A.T], [A]) == "transposed"
    S = A + A.T
    assert diagnose([S.T + 0.5], [S]) is None


def test_correct_gradients_get_no_diagnosis():
    assert diagnose([W, X], [W, X]) is None


def test_one_unexplained_gradient_means_no_diagnosis():
    assert diagnose([-W, X + RNG.normal(size=X.shape)], [W, X]) is None


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(np.float64, st.sampled_from([(3,), (2, 3)]), elements=st.floats(-10, 10)),
    hnp.arrays(np.float64, st.sampled_from([(3,), (2, 3)]), elements=st.floats(-10, 10)),
)
def test_unrelated_values_are_never_called_a_sign_or_factor_bug(got, expected):
    text = diagnose([got], [expected])
    if text is None:
        return

    # whatever is named must explain every value, up to noise at the scale of the largest one
    def explains(want):
        scale = 1e-3 * max(np.abs(want).max(), np.abs(got).max()) + 1e-8
        return got.shape == want.shape and np.all(np.abs(got - want) <= scale)

    if "wrong sign" in text:
        assert explains(-expected)
    elif "zero" in text:
        assert explains(np.zeros_like(got))
    elif "transposed" in text:
        assert explains(expected.T)
    else:
        alpha = float(np.vdot(got, expected) / np.vdot(expected, expected))
        assert explains(alpha * expected)
