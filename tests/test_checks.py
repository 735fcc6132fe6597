"""microgradnet.checks: the finite-difference oracle itself, checked on functions whose
derivatives are known in closed form, and gradcheck's failure message."""
from __future__ import annotations

import math

import pytest

from helpers import assert_all_close, assert_close
from microgradnet import Value
from microgradnet.checks import (GradcheckError, analytic_hessian, gradcheck, numerical_grad,
                                 numerical_hessian, one_sided)


def cubic(x, y):
    return x * x * y + y * y * y


def test_numerical_grad_of_a_polynomial():
    # d/dx = 2xy, d/dy = x^2 + 3y^2
    assert_all_close(numerical_grad(cubic, [1.5, -0.5]), [2 * 1.5 * -0.5, 1.5 ** 2 + 0.75],
                     rtol=1e-8, atol=1e-9)


def test_numerical_grad_accepts_values_and_a_single_number():
    assert_all_close(numerical_grad(cubic, [Value(1.5), Value(-0.5)]),
                     numerical_grad(cubic, [1.5, -0.5]), rtol=0.0, atol=0.0)
    assert_all_close(numerical_grad(lambda v: v.exp(), 0.5), [math.exp(0.5)], rtol=1e-8)


def test_numerical_hessian_of_a_polynomial():
    # [[2y, 2x], [2x, 6y]]
    assert_all_close(numerical_hessian(cubic, [1.5, -0.5]), [[-1.0, 3.0], [3.0, -3.0]],
                     rtol=1e-6, atol=1e-6)


def test_analytic_hessian_of_a_polynomial_is_exact():
    assert analytic_hessian(cubic, [1.5, -0.5]) == [[-1.0, 3.0], [3.0, -3.0]]


def test_one_sided_derivatives_of_a_smooth_function_agree():
    (left, right), = one_sided(lambda v: v.tanh(), [0.4])
    t = math.tanh(0.4)
    assert_close(left, 1 - t * t, rtol=1e-8)
    assert_close(right, 1 - t * t, rtol=1e-8)


def test_one_sided_derivatives_per_input():
    pairs = one_sided(lambda x, y: x.relu() * y, [0.0, 2.0])
    assert_all_close(pairs, [(0.0, 2.0), (0.0, 0.0)], atol=1e-9)


def test_gradcheck_passes_on_a_correct_function():
    assert gradcheck(lambda x, y: (x * y).tanh() + (x / y).exp(), [0.3, -0.7]) is True
    assert gradcheck(lambda x: x.sigmoid().log(), [1.2], order=1) is True


def test_gradcheck_raises_with_both_first_derivatives():
    # relu at its kink: the engine takes 0, central differences see (0 + 1) / 2.
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x.relu(), [0.0], order=1)
    msg = str(info.value)
    assert "df/dx0" in msg and "analytic 0.0" in msg and "numerical 0.5" in msg


def test_gradcheck_raises_with_both_second_derivatives():
    # x * relu(x) = x^2 right of 0, 0 left: the first derivatives agree at 0 (both 0), the
    # second do not (the engine 0, central differences (2 + 0) / 2 = 1).
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x * x.relu(), [0.0])
    msg = str(info.value)
    assert "d2f/dx0dx0" in msg and "analytic 0.0" in msg and "numerical 1.0" in msg
    assert gradcheck(lambda x: x * x.relu(), [0.0], order=1) is True


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


def test_gradcheck_refuses_an_unknown_order():
    with pytest.raises(ValueError, match="order"):
        gradcheck(lambda x: x, [1.0], order=3)


def test_checks_refuse_a_function_that_does_not_return_a_value():
    with pytest.raises(TypeError, match="Value"):
        numerical_grad(lambda x: 1.0, [1.0])
