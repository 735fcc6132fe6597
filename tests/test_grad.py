"""grad(): the functional API, derivatives of derivatives to the fourth order against textbook
closed forms, and the conventions at kinks next to the one-sided derivatives there."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import assert_all_close, assert_close
from microgradnet import Value, grad, maximum, minimum
from microgradnet.checks import analytic_hessian, numerical_hessian, one_sided


def derivatives(f, x: float, order: int) -> list:
    """[f(x), f'(x), ..., f^(order)(x)] by repeated grad(create_graph=True)."""
    v = Value(x)
    d = f(v)
    out = [d.data]
    for _ in range(order):
        d = grad(d, v, create_graph=True)
        out.append(d.data)
    return out


def sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


xs = st.floats(-4.0, 4.0, allow_nan=False)


# ---- the API -----------------------------------------------------------------------------------

def test_grad_returns_one_float_for_one_input_and_a_list_for_several():
    x, y = Value(2.0), Value(5.0)
    f = x * y
    assert grad(f, x) == 5.0 and isinstance(grad(f, x), float)
    assert grad(f, [x, y]) == [5.0, 2.0]
    assert grad(f, (y, x, y)) == [2.0, 5.0, 2.0]
    assert grad(f, []) == []


def test_grad_with_create_graph_returns_values():
    x, y = Value(2.0), Value(5.0)
    gx, gy = grad(x * y, [x, y], create_graph=True)
    assert isinstance(gx, Value) and isinstance(gy, Value)
    assert (gx.data, gy.data) == (5.0, 2.0)


def test_grad_leaves_every_grad_field_alone():
    x, y = Value(2.0), Value(5.0)
    h = x * y
    f = h.tanh() + x
    grad(f, [x, y])
    grad(f, [x, y], create_graph=True)
    assert (x.grad, y.grad, h.grad, f.grad) == (0.0, 0.0, 0.0, 0.0)


def test_grad_of_an_input_by_itself_is_one():
    x = Value(3.0)
    assert grad(x, x) == 1.0
    assert grad(x, x, create_graph=True).data == 1.0


def test_grad_with_respect_to_an_intermediate_node():
    x = Value(1.5)
    h = x * 2
    y = h * h + x
    assert grad(y, h) == 2 * 3.0           # y as a function of h (and x held fixed)
    assert grad(y, [x, h]) == [2 * 2 * 3.0 + 1, 6.0]
    assert grad(grad(y, h, create_graph=True), x) == 4.0


def test_grad_refuses_non_values():
    x = Value(1.0)
    with pytest.raises(TypeError, match="inputs"):
        grad(x * 2, [x, 1.0])
    with pytest.raises(TypeError, match="output"):
        grad(2.0, x)


def test_derivative_graph_can_be_backpropagated():
    x = Value(1.5)
    d1 = grad(x ** 3, x, create_graph=True)   # 3 x^2
    d1.backward()
    assert_close(x.grad, 6 * 1.5)


# ---- derivatives of derivatives ----------------------------------------------------------------

def test_derivatives_of_x_cubed_to_fourth_order():
    assert_all_close(derivatives(lambda v: v ** 3, 1.5, 4), [1.5 ** 3, 3 * 1.5 ** 2, 6 * 1.5,
                                                             6.0, 0.0])
    assert_all_close(derivatives(lambda v: v * v * v, -2.0, 4), [-8.0, 12.0, -12.0, 6.0, 0.0])


def test_derivatives_of_exp_2x_to_fourth_order():
    e = math.exp(2 * 0.3)
    assert_all_close(derivatives(lambda v: (2 * v).exp(), 0.3, 4),
                     [e, 2 * e, 4 * e, 8 * e, 16 * e], rtol=1e-13)


@given(xs)
def test_tanh_derivatives_to_third_order(x):
    t = math.tanh(x)
    expected = [t, 1 - t * t, -2 * t * (1 - t * t), -2 * (1 - t * t) * (1 - 3 * t * t)]
    assert_all_close(derivatives(lambda v: v.tanh(), x, 3), expected, rtol=1e-12, atol=1e-14)


@given(xs)
def test_sigmoid_derivatives_to_third_order(x):
    s = sig(x)
    expected = [s, s * (1 - s), s * (1 - s) * (1 - 2 * s), s * (1 - s) * (1 - 6 * s + 6 * s * s)]
    assert_all_close(derivatives(lambda v: v.sigmoid(), x, 3), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
@given(x=xs)
def test_swish_second_derivative(beta, x):
    # S2-Q1.4 (seeds/002): swish is twice differentiable, unlike ReLU.
    s = sig(beta * x)
    first = s + beta * x * s * (1 - s)
    second = 2 * beta * s * (1 - s) + beta * beta * x * s * (1 - s) * (1 - 2 * s)
    got = derivatives(lambda v: v.swish(beta), x, 2)
    assert_all_close(got, [x * s, first, second], rtol=1e-12, atol=1e-14)


@given(xs)
def test_softplus_second_derivative_is_sigmoid_prime(x):
    s = sig(x)
    assert_all_close(derivatives(lambda v: v.softplus(), x, 2)[1:], [s, s * (1 - s)],
                     rtol=1e-12, atol=1e-14)


@given(st.floats(0.1, 10.0))
def test_log_and_sqrt_derivatives_to_third_order(x):
    assert_all_close(derivatives(lambda v: v.log(), x, 3)[1:], [1 / x, -1 / x ** 2, 2 / x ** 3],
                     rtol=1e-12)
    r = math.sqrt(x)
    assert_all_close(derivatives(lambda v: v.sqrt(), x, 2)[1:], [0.5 / r, -0.25 / (x * r)],
                     rtol=1e-12)


@given(st.floats(0.2, 4.0), st.floats(-2.0, 2.0))
def test_power_with_a_value_exponent_second_derivatives(a, b):
    hess = analytic_hessian(lambda u, v: u ** v, [a, b])
    la, p = math.log(a), a ** b
    expected = [[b * (b - 1) * a ** (b - 2), a ** (b - 1) * (1 + b * la)],
                [a ** (b - 1) * (1 + b * la), p * la * la]]
    assert_all_close(hess, expected, rtol=1e-11, atol=1e-13)


def test_mixed_partial_derivatives():
    x, y = Value(0.5), Value(-1.5)
    f = x * y * y
    dfdx = grad(f, x, create_graph=True)       # y^2
    dfdy = grad(f, y, create_graph=True)       # 2 x y
    assert_close(grad(dfdx, y), 2 * -1.5)
    assert_close(grad(dfdy, x), 2 * -1.5)
    assert_close(grad(dfdy, y), 2 * 0.5)


def test_hessian_of_a_composite_matches_central_differences_and_is_symmetric():
    def f(x, y, z):
        return (x * y).tanh() * z.exp() + (x / (z * z + 1)).sigmoid() * y.softplus()
    point = [0.3, -0.8, 0.5]
    ah = analytic_hessian(f, point)
    nh = numerical_hessian(f, point)
    assert_all_close(ah, nh, rtol=1e-5, atol=1e-6)
    for i in range(3):
        for j in range(3):
            assert_close(ah[i][j], ah[j][i], rtol=1e-12, atol=1e-14)


# ---- kinks: relu, leaky_relu, abs, max, min ---------------------------------------------------

@given(st.floats(0.01, 5.0) | st.floats(-5.0, -0.01))
def test_relu_second_derivative_is_zero_on_both_sides(x):
    # S2-Q1.4 (seeds/002): the slope of ReLU is constant on each side, so ReLU'' = 0.
    assert derivatives(lambda v: v.relu(), x, 2)[2] == 0.0


def test_relu_second_difference_at_zero_grows_without_bound():
    # Why ReLU cannot be differentiated twice at 0: the second central difference is 1/h.
    for h in (1e-1, 1e-2, 1e-3):
        assert_close(numerical_hessian(lambda v: v.relu(), [0.0], h)[0][0], 1 / h, rtol=1e-9)


@given(st.floats(0.01, 5.0))
def test_relu_squared_has_second_derivative_two_right_of_zero(x):
    assert derivatives(lambda v: v.relu() ** 2, x, 2)[2] == 2.0
    assert derivatives(lambda v: v.relu() ** 2, -x, 2)[2] == 0.0


def test_relu_derivative_at_zero_is_zero_by_default():
    x = Value(0.0)
    y = x.relu()
    y.backward()
    assert y.data == 0.0 and x.grad == 0.0
    assert grad(Value(0.0).relu(), [x]) == [0.0]


@pytest.mark.parametrize("kink", [1.0, 0.5, 0.0])
def test_relu_derivative_at_zero_is_the_chosen_kink(kink):
    x = Value(0.0)
    assert grad(x.relu(kink=kink), x) == kink
    assert grad(x.relu(kink=kink), x, create_graph=True).data == kink
    # Away from zero the kink changes nothing.
    z = Value(0.3)
    assert (grad(z.relu(kink=kink), z), grad((-z).relu(kink=kink), z)) == (1.0, 0.0)


def test_leaky_relu_derivative_at_zero_is_alpha_unless_chosen():
    x = Value(0.0)
    assert grad(x.leaky_relu(), x) == 0.01
    assert grad(x.leaky_relu(0.2), x) == 0.2
    assert grad(x.leaky_relu(0.2, kink=1.0), x) == 1.0
    assert grad(Value(-2.0).leaky_relu(0.2), [x]) == [0.0]
    y = Value(-2.0)
    assert grad(y.leaky_relu(0.2), y) == 0.2


def test_abs_derivative_at_zero_is_zero_unless_chosen():
    x = Value(0.0)
    assert grad(abs(x), x) == 0.0
    assert grad(x.abs(), x) == 0.0
    assert grad(x.abs(kink=1.0), x) == 1.0
    assert (grad(abs(Value(-2.0)), [x]), grad(Value(-2.0).abs(), [x])) == ([0.0], [0.0])


@pytest.mark.parametrize("fn", [maximum, minimum])
def test_max_and_min_split_the_gradient_on_a_tie(fn):
    a, b = Value(1.0), Value(1.0)
    assert grad(fn(a, b), [a, b]) == [0.5, 0.5]
    assert grad(fn(a, b, tie=1.0), [a, b]) == [1.0, 0.0]
    assert grad(fn(a, b, tie=0.0), [a, b]) == [0.0, 1.0]
    assert grad(fn(a, a), a) == 1.0  # both shares reach the same node


def test_max_and_min_send_the_gradient_to_the_winner():
    a, b = Value(1.0), Value(2.0)
    assert grad(maximum(a, b), [a, b]) == [0.0, 1.0]
    assert grad(minimum(a, b), [a, b]) == [1.0, 0.0]
    assert grad(maximum(a, 0.0), a) == 1.0 and maximum(-a, 0.0).data == 0.0


# One-sided derivatives at each kink (S2-Q1.3, seeds/002): where left and right differ, the
# function has no derivative there, and the engine's value is a convention between them.
ONE_SIDED = [
    ("relu", lambda v: v.relu(), (0.0, 1.0)),
    ("leaky_relu(0.1)", lambda v: v.leaky_relu(0.1), (0.1, 1.0)),
    ("abs", lambda v: abs(v), (-1.0, 1.0)),
    ("max(x, 0)", lambda v: maximum(v, 0.0), (0.0, 1.0)),
    ("min(x, 0)", lambda v: minimum(v, 0.0), (1.0, 0.0)),
]


@pytest.mark.parametrize("name,f,expected", ONE_SIDED, ids=[c[0] for c in ONE_SIDED])
def test_one_sided_derivatives_at_the_kink(name, f, expected):
    (left, right), = one_sided(f, [0.0])
    assert_all_close((left, right), expected, atol=1e-9)
    x = Value(0.0)
    at_kink = grad(f(x), x)
    assert min(expected) <= at_kink <= max(expected), f"{name}'(0) = {at_kink}"


@given(st.floats(-3.0, 3.0))
def test_one_sided_derivatives_of_a_smooth_function_agree_with_grad(x):
    f = lambda v: (v * 1.3).tanh() * v.exp()  # noqa: E731
    (left, right), = one_sided(f, [x])
    v = Value(x)
    g = grad(f(v), v)
    assert_close(left, g, rtol=1e-6, atol=1e-8, what="left")
    assert_close(right, g, rtol=1e-6, atol=1e-8, what="right")


# ---- zero gradients through an undefined local derivative --------------------------------------

def _sqrt_behind_a_max():
    """max(sqrt(x), 1) at x = 0: max sends nothing to sqrt, whose own slope 1/(2 sqrt x) is
    undefined at 0; the function is constant near x = 0+, so its derivative there is 0."""
    x = Value(0.0, label="x")
    return x, maximum(x.sqrt(), 1.0)


def test_backward_sends_no_zero_gradient_through_an_undefined_slope():
    x, y = _sqrt_behind_a_max()
    y.backward()
    assert x.grad == 0.0


def test_grad_agrees_with_backward_on_a_zero_gradient_through_an_undefined_slope():
    x, y = _sqrt_behind_a_max()
    assert grad(y, x) == 0.0
