"""Bad input gets a clear error, never a silent NaN or infinity in ``.data`` or ``.grad``.

Each case checks the exception type and that the message names the op, the operands and
their labels, so a learner can find the node that went wrong."""
from __future__ import annotations

import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from microgradnet import DomainError, Value, grad, maximum, minimum
from microgradnet import nn


def raises(exc, fn, *fragments):
    """Call ``fn``, expect ``exc``, and check every fragment appears in the message."""
    with pytest.raises(exc) as info:
        fn()
    msg = str(info.value)
    missing = [f for f in fragments if f not in msg]
    assert not missing, f"message {msg!r} does not name {missing}"
    return info.value


def test_domain_error_is_a_value_error_and_an_arithmetic_error():
    assert issubclass(DomainError, ValueError) and issubclass(DomainError, ArithmeticError)


# ---- building a leaf ---------------------------------------------------------------------------

def test_value_of_a_string_is_a_type_error_naming_it():
    raises(TypeError, lambda: Value("a"), "Value", "str", "'a'")


def test_value_of_none_is_a_type_error_naming_it():
    raises(TypeError, lambda: Value(None), "Value", "None")


@pytest.mark.parametrize("bad", [[1.0], 1 + 2j, b"1"])
def test_value_of_other_non_numbers_is_a_type_error(bad):
    raises(TypeError, lambda: Value(bad), "Value", type(bad).__name__)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_value_of_nan_or_infinity_is_a_value_error_naming_it(bad):
    raises(ValueError, lambda: Value(bad), "Value", repr(bad))


@pytest.mark.parametrize("bad", ["a", None, math.nan, math.inf])
def test_leaf_errors_name_the_label(bad):
    raises((TypeError, ValueError), lambda: Value(bad, label="w1"), "w1", repr(bad))


@pytest.mark.parametrize("attr", ["data", "grad"])
@pytest.mark.parametrize("bad,exc", [("a", TypeError), (None, TypeError), (True, TypeError),
                                     (math.nan, ValueError), (-math.inf, ValueError)])
def test_assigning_a_non_number_to_data_or_grad_is_refused_naming_the_node(attr, bad, exc):
    w = Value(0.5, label="w21")
    raises(exc, lambda: setattr(w, attr, bad), "w21", f".{attr}")
    assert (w.data, w.grad) == (0.5, 0.0)  # unchanged


@pytest.mark.parametrize("attr", ["data", "grad"])
def test_assigned_numbers_are_stored_as_floats(attr):
    w = Value(0.5) if attr == "data" else Value(0.5) * 2
    setattr(w, attr, 3)
    assert getattr(w, attr) == 3.0 and type(getattr(w, attr)) is float


def test_an_op_nodes_data_cannot_be_assigned():
    w = Value(0.5, label="w")
    y = w * 2
    raises(AttributeError, lambda: setattr(y, "data", 3.0), "op node", "leaf", "detach")
    assert y.data == 1.0


def test_int_too_large_for_a_float_is_a_value_error():
    raises(ValueError, lambda: Value(10 ** 400, label="big"), "Value", "big")


# ---- forward: each op outside its domain -------------------------------------------------------

@pytest.mark.parametrize("x", [-1.0, 0.0])
def test_log_of_a_non_positive_number(x):
    a = Value(x, label="a")
    raises(DomainError, lambda: a.log(), "log", repr(x), "'a'", "positive")


def test_sqrt_of_a_negative_number():
    a = Value(-4.0, label="a")
    raises(DomainError, lambda: a.sqrt(), "sqrt", "-4.0", "'a'", "non-negative")


def test_division_by_zero_with_the_zero_on_the_right():
    a, z = Value(1.0, label="a"), Value(0.0, label="z")
    raises(DomainError, lambda: a / z, "/", "1.0", "'a'", "0.0", "'z'", "division by zero")
    raises(DomainError, lambda: a / 0, "/", "1.0", "'a'", "0.0", "division by zero")


def test_division_by_zero_with_the_zero_on_the_left():
    z = Value(0.0, label="z")
    raises(DomainError, lambda: 1 / z, "/", "1.0", "0.0", "'z'", "division by zero")
    raises(DomainError, lambda: 1.0 / (z * 3), "/", "division by zero")


def test_zero_to_a_negative_power():
    z = Value(0.0, label="z")
    raises(DomainError, lambda: z ** -1, "**-1", "0.0", "'z'")


def test_negative_base_to_a_fractional_power():
    a = Value(-8.0, label="a")
    raises(DomainError, lambda: a ** (1 / 3), "**0.333", "-8.0", "'a'")


def test_exp_overflow():
    a = Value(1000.0, label="a")
    raises(DomainError, lambda: a.exp(), "exp", "1000.0", "'a'", "overflow")


def test_pow_overflow_with_a_number_exponent():
    a = Value(10.0, label="a")
    raises(DomainError, lambda: a ** 400, "**400", "10.0", "'a'", "overflow")
    tiny = Value(1e-200, label="tiny")
    raises(DomainError, lambda: tiny ** -2, "**-2", "1e-200", "'tiny'")


def test_pow_overflow_with_a_value_exponent():
    a, n = Value(10.0, label="a"), Value(400.0, label="n")
    raises(DomainError, lambda: a ** n, "**", "10.0", "'a'", "400.0", "'n'", "overflow")
    raises(DomainError, lambda: 10 ** n, "**", "10.0", "400.0", "'n'", "overflow")


def test_product_overflowing_to_infinity():
    a, b = Value(1e200, label="a"), Value(1e200, label="b")
    raises(DomainError, lambda: a * b, "*", "'a'", "'b'", "inf")
    raises(DomainError, lambda: a + 1.7e308 + 1.7e308, "+", "inf")


@pytest.mark.parametrize("base,exponent", [(-2.0, 2.0), (0.0, -1.0)])
def test_non_positive_base_with_a_value_exponent(base, exponent):
    # 0 ** n for n >= 0 is defined (as in torch); a negative base, or 0 to a negative power,
    # is not.
    a, n = Value(base, label="a"), Value(exponent, label="n")
    raises(DomainError, lambda: a ** n, "**", repr(base), "'a'", repr(exponent), "'n'",
           "positive base")
    raises(DomainError, lambda: base ** n, "**", repr(base), "'n'", "positive base")


# ---- combining a Value with something that is not a number -------------------------------------

COMBINE = [
    ("+", lambda v, x: v + x), ("+", lambda v, x: x + v),
    ("-", lambda v, x: v - x), ("-", lambda v, x: x - v),
    ("*", lambda v, x: v * x), ("*", lambda v, x: x * v),
    ("/", lambda v, x: v / x), ("/", lambda v, x: x / v),
    ("max", lambda v, x: maximum(v, x)), ("min", lambda v, x: minimum(x, v)),
]


@pytest.mark.parametrize("op,fn", COMBINE, ids=[f"{op}-{i}" for i, (op, _) in enumerate(COMBINE)])
@pytest.mark.parametrize("other", ["x", None, [1.0], True])
def test_combining_with_a_non_number_is_a_type_error(op, fn, other):
    v = Value(1.0, label="v")
    raises(TypeError, lambda: fn(v, other), op, repr(other))


@pytest.mark.parametrize("op,fn", COMBINE, ids=[f"{op}-{i}" for i, (op, _) in enumerate(COMBINE)])
def test_combining_with_a_non_number_names_the_value_and_its_label(op, fn):
    v = Value(1.5, label="v")
    raises(TypeError, lambda: fn(v, "x"), op, "'x'", "1.5", "'v'")


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_combining_with_nan_or_infinity_names_the_op_and_the_value(bad):
    v = Value(1.5, label="v")
    raises(ValueError, lambda: v + bad, "+", repr(bad), "'v'")


def test_exponent_that_is_not_a_number():
    v = Value(2.0, label="v")
    raises(TypeError, lambda: v ** "x", "**", "'x'")
    raises(ValueError, lambda: v ** math.nan, "**", "nan")


def test_exponent_error_names_the_base_and_its_label():
    v = Value(2.0, label="v")
    raises(TypeError, lambda: v ** "x", "**", "'x'", "2.0", "'v'")


def test_backward_seed_must_be_a_finite_number():
    y = Value(1.0) * 2
    raises(ValueError, lambda: y.backward(math.nan), "backward", "nan")
    raises(TypeError, lambda: y.backward("1"), "backward")


# ---- gradients that become infinite ------------------------------------------------------------

def test_sqrt_at_zero_then_backward_names_the_op_and_the_node():
    x = Value(0.0, label="x")
    y = x.sqrt()
    assert y.data == 0.0   # the forward value is fine; its derivative 1/(2 sqrt x) is not
    raises(DomainError, y.backward, "sqrt", "0.0", "'x'")
    assert x.grad == 0.0


def test_sqrt_at_zero_then_grad_names_the_op_and_the_node():
    x = Value(0.0, label="x")
    raises(DomainError, lambda: grad(x.sqrt(), x), "sqrt", "0.0", "'x'")
    raises(DomainError, lambda: grad(x.sqrt(), x, create_graph=True), "sqrt", "0.0", "'x'")


def test_fractional_power_at_zero_then_backward():
    x = Value(0.0, label="x")
    raises(DomainError, (x ** 0.5).backward, "**0.5", "0.0", "'x'")


def test_power_rule_overflowing_in_backward():
    x = Value(1e-200, label="x")
    y = x ** -1.5  # 1e300 is fine; its derivative -1.5e500 is not
    raises(DomainError, y.backward, "**-1.5", "'x'")


def test_gradient_overflowing_to_infinity_names_the_node():
    x = Value(1e-200, label="x")
    y = x.sqrt() * 1e300   # forward 1e200; d y / d x = 1e300 / (2e-100) overflows
    raises(DomainError, y.backward, "inf", "'x'")
    raises(DomainError, lambda: grad(y, x), "inf", "'x'")


# ---- never a silent NaN or infinity ------------------------------------------------------------

ANY = st.floats(allow_nan=False, allow_infinity=False)
UNARY = {
    "exp": lambda a: a.exp(), "log": lambda a: a.log(), "sqrt": lambda a: a.sqrt(),
    "tanh": lambda a: a.tanh(), "sigmoid": lambda a: a.sigmoid(),
    "softplus": lambda a: a.softplus(), "swish": lambda a: a.swish(), "relu": lambda a: a.relu(),
    "leaky_relu": lambda a: a.leaky_relu(), "abs": lambda a: abs(a), "neg": lambda a: -a,
    "**2": lambda a: a ** 2, "**-1": lambda a: a ** -1, "**0.5": lambda a: a ** 0.5,
    "**-2.5": lambda a: a ** -2.5,
}
BINARY = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "**": lambda a, b: a ** b, "max": maximum, "min": minimum,
}


def _finite_or_domain_error(build, xs):
    vs = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    try:
        out = build(*vs)
    except DomainError:
        return
    assert math.isfinite(out.data)
    try:
        gs = grad(out, vs)
    except DomainError:
        gs = None
    if gs is not None:
        assert all(math.isfinite(g) for g in gs), gs
    try:
        out.backward()
    except DomainError:
        return
    assert all(math.isfinite(v.grad) for v in vs)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(x=ANY | st.sampled_from([-0.0, 5e-324, 1e200, 710.0, -745.0]))
@example(x=0.0)          # sqrt, **0.5: the derivative divides by zero
@example(x=1e-100)       # **-2.5: the result fits, the derivative overflows
@example(x=1e-200)       # **-1: likewise
def test_unary_op_gives_a_finite_result_or_a_domain_error(name, x):
    _finite_or_domain_error(UNARY[name], [x])


@pytest.mark.parametrize("name", sorted(BINARY))
@given(a=ANY, b=ANY)
def test_binary_op_gives_a_finite_result_or_a_domain_error(name, a, b):
    _finite_or_domain_error(BINARY[name], [a, b])


@pytest.mark.parametrize("make", [
    lambda: Value(True, label="flag"),
    lambda: Value(1.0, label="flag") + True,
    lambda: False * Value(1.0, label="flag"),
    lambda: Value(2.0, label="flag") ** True,
])
def test_a_bool_is_refused_everywhere_a_number_is_expected(make):
    with pytest.raises(TypeError, match="bool"):
        make()


# ---- the parameters of parameterised ops -------------------------------------------------------

PARAMETERISED = [
    ("relu", "kink", lambda v, x: v.relu(kink=x)),
    ("leaky_relu", "alpha", lambda v, x: v.leaky_relu(alpha=x)),
    ("leaky_relu", "kink", lambda v, x: v.leaky_relu(kink=x)),
    ("abs", "kink", lambda v, x: v.abs(kink=x)),
    ("swish", "beta", lambda v, x: v.swish(beta=x)),
    ("max", "tie", lambda v, x: maximum(v, 0.0, tie=x)),
    ("min", "tie", lambda v, x: minimum(v, 0.0, tie=x)),
]
PARAM_IDS = [f"{op}-{name}" for op, name, _ in PARAMETERISED]


@pytest.mark.parametrize("op,name,make", PARAMETERISED, ids=PARAM_IDS)
@pytest.mark.parametrize("bad", [True, False, "1", [1.0]])   # (None is leaky_relu's default kink)
def test_an_op_parameter_that_is_not_a_number_is_a_type_error_naming_it(op, name, make, bad):
    v = Value(0.0, label="v")
    raises(TypeError, lambda: make(v, bad), op, name, repr(bad))


@pytest.mark.parametrize("op,name,make", PARAMETERISED, ids=PARAM_IDS)
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_an_op_parameter_that_is_not_finite_is_a_value_error_naming_it(op, name, make, bad):
    v = Value(0.0, label="v")
    raises(ValueError, lambda: make(v, bad), op, name, repr(bad))


@pytest.mark.parametrize("fn", [maximum, minimum])
@pytest.mark.parametrize("tie", [-0.25, 1.5])
def test_a_tie_share_outside_0_1_is_a_value_error(fn, tie):
    raises(ValueError, lambda: fn(Value(0.0), 0.0, tie=tie), "tie", "[0, 1]", repr(tie))


@pytest.mark.parametrize("make", [
    lambda: nn.ReLU(kink=True), lambda: nn.LeakyReLU(alpha=None), lambda: nn.Swish(beta="1"),
])
def test_activation_modules_refuse_a_parameter_that_is_not_a_number(make):
    with pytest.raises(TypeError, match="must be a real number"):
        make()
