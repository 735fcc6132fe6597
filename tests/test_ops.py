"""Every op of the table, on many inputs: the forward pass against ``math``, first and second
derivatives against central differences.

The tests are parametrized over ``microgradnet.ops.OPS`` (plus the parameterised ops at
parameters other than the default), so an op added to the table fails
``test_every_op_in_the_table_has_a_reference`` until it gets a reference here, and is then
checked by every test below. Inputs stay away from kinks and domain edges by construction
(the strategies), so the tolerances are those of the finite-difference oracle itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers import assert_close
from microgradnet import Value, grad, maximum, minimum
from microgradnet.checks import analytic_hessian, numerical_grad, numerical_hessian
from microgradnet.formula import evaluate, sym
from microgradnet.ops import OPS, Op, abs_op, elu, leaky_relu, pow_const, relu, swish
from microgradnet.ops import maximum as max_op
from microgradnet.ops import minimum as min_op

# Central differences: error O(h^2) from truncation plus O(eps |f| / h^k) from rounding
# (h = 1e-6 for first, 1e-4 for second order, as in microgradnet.checks). On the domains below
# both stay well inside these tolerances.
FIRST = dict(rtol=1e-6, atol=1e-8)
SECOND = dict(rtol=1e-5, atol=1e-6)


# ---- input strategies: kinks and domain edges are excluded by construction --------------------

def real(lo: float = -5.0, hi: float = 5.0) -> st.SearchStrategy:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo: float, hi: float) -> st.SearchStrategy:
    """A number with lo <= |x| <= hi, of either sign."""
    return st.tuples(real(lo, hi), st.booleans()).map(lambda t: t[0] if t[1] else -t[0])


def args(*strategies: st.SearchStrategy) -> st.SearchStrategy:
    return st.tuples(*strategies)


def distinct_pair(gap_lo: float = 0.01, gap_hi: float = 3.0) -> st.SearchStrategy:
    """(a, b) with |a - b| >= gap_lo, so max and min are away from their tie."""
    return st.tuples(real(), away_from_zero(gap_lo, gap_hi)).map(lambda t: (t[0], t[0] + t[1]))


def sigmoid_ref(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def gelu_ref(x: float) -> float:
    return x * 0.5 * math.erfc(-x / math.sqrt(2.0))


def selu_ref(x: float) -> float:
    # The constants as torch.nn.SELU documents them.
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * (x if x > 0 else alpha * (math.exp(x) - 1))


@dataclass(frozen=True)
class Case:
    """One op under test: how to build it on Values, its reference in ``math``, its inputs."""
    id: str
    op: Op                                 # the table record the build must produce
    build: Callable[..., Value]
    ref: Callable[..., float]
    inputs: st.SearchStrategy


# One case per op of the table, with its default parameters.
DEFAULT_CASES = [
    Case("+", OPS["+"], lambda a, b: a + b, lambda a, b: a + b, args(real(), real())),
    Case("-", OPS["-"], lambda a, b: a - b, lambda a, b: a - b, args(real(), real())),
    Case("*", OPS["*"], lambda a, b: a * b, lambda a, b: a * b, args(real(), real())),
    Case("/", OPS["/"], lambda a, b: a / b, lambda a, b: a / b,
         args(real(), away_from_zero(0.2, 5.0))),
    Case("neg", OPS["neg"], lambda a: -a, lambda a: -a, args(real())),
    Case("**", OPS["**"], lambda a, b: a ** b, math.pow, args(real(0.1, 5.0), real(-3.0, 3.0))),
    Case("exp", OPS["exp"], lambda a: a.exp(), math.exp, args(real(-20.0, 20.0))),
    Case("log", OPS["log"], lambda a: a.log(), math.log, args(real(0.1, 100.0))),
    Case("sqrt", OPS["sqrt"], lambda a: a.sqrt(), math.sqrt, args(real(0.1, 100.0))),
    Case("tanh", OPS["tanh"], lambda a: a.tanh(), math.tanh, args(real())),
    Case("sigmoid", OPS["sigmoid"], lambda a: a.sigmoid(), sigmoid_ref, args(real(-10.0, 10.0))),
    Case("softplus", OPS["softplus"], lambda a: a.softplus(),
         lambda a: math.log1p(math.exp(a)), args(real(-10.0, 10.0))),
    Case("relu", OPS["relu"], lambda a: a.relu(), lambda a: max(0.0, a),
         args(away_from_zero(0.01, 5.0))),
    Case("leaky_relu", OPS["leaky_relu"], lambda a: a.leaky_relu(),
         lambda a: a if a > 0 else 0.01 * a, args(away_from_zero(0.01, 5.0))),
    Case("abs", OPS["abs"], lambda a: abs(a), math.fabs, args(away_from_zero(0.01, 5.0))),
    Case("swish", OPS["swish"], lambda a: a.swish(), lambda a: a * sigmoid_ref(a),
         args(real(-10.0, 10.0))),
    Case("sin", OPS["sin"], lambda a: a.sin(), math.sin, args(real())),
    Case("cos", OPS["cos"], lambda a: a.cos(), math.cos, args(real())),
    Case("tan", OPS["tan"], lambda a: a.tan(), math.tan, args(real(-1.3, 1.3))),
    Case("atan", OPS["atan"], lambda a: a.atan(), math.atan, args(real())),
    Case("erf", OPS["erf"], lambda a: a.erf(), math.erf, args(real(-3.0, 3.0))),
    Case("sign", OPS["sign"], lambda a: a.sign(), lambda a: math.copysign(1.0, a),
         args(away_from_zero(0.01, 5.0))),
    Case("gelu", OPS["gelu"], lambda a: a.gelu(), gelu_ref, args(real())),
    Case("softsign", OPS["softsign"], lambda a: a.softsign(), lambda a: a / (1 + abs(a)),
         args(away_from_zero(0.01, 5.0))),
    Case("mish", OPS["mish"], lambda a: a.mish(), lambda a: a * math.tanh(math.log1p(math.exp(a))),
         args(real(-10.0, 10.0))),
    Case("selu", OPS["selu"], lambda a: a.selu(), selu_ref, args(away_from_zero(0.01, 5.0))),
    Case("elu", OPS["elu"], lambda a: a.elu(), lambda a: a if a > 0 else math.expm1(a),
         args(away_from_zero(0.01, 5.0))),
    Case("max", OPS["max"], lambda a, b: maximum(a, b), max, distinct_pair()),
    Case("min", OPS["min"], lambda a, b: minimum(a, b), min, distinct_pair()),
]


def _pow_case(n: float) -> Case:
    # Integer exponents take any base away from zero; fractional ones a positive base.
    base = away_from_zero(0.1, 5.0) if float(n).is_integer() else real(0.1, 5.0)
    return Case(f"**{n}", pow_const(n), lambda a: a ** n, lambda a: math.pow(a, n), args(base))


def _leaky_case(alpha: float) -> Case:
    return Case(f"leaky_relu(alpha={alpha})", leaky_relu(alpha), lambda a: a.leaky_relu(alpha),
                lambda a: a if a > 0 else alpha * a, args(away_from_zero(0.01, 5.0)))


def _swish_case(beta: float) -> Case:
    return Case(f"swish(beta={beta})", swish(beta), lambda a: a.swish(beta),
                lambda a: a * sigmoid_ref(beta * a), args(real(-10.0, 10.0)))


# The parameterised ops away from their defaults. The kink parameters change nothing away
# from the kink: these cases check exactly that (the value at the kink is in test_grad.py).
PARAM_CASES = (
    [_pow_case(n) for n in (-3, -2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 7, 2.5, -1.25)]
    + [_leaky_case(alpha) for alpha in (0.0, 0.2, 1.0, 3.0)]
    + [_swish_case(beta) for beta in (0.5, 2.0, -1.0)]
    + [Case(f"elu(alpha={al})", elu(al), lambda a, al=al: a.elu(al),
            lambda a, al=al: a if a > 0 else al * math.expm1(a), args(away_from_zero(0.01, 5.0)))
       for al in (0.5, 2.0)]
    + [Case(f"relu(kink={k})", relu(k), lambda a, k=k: a.relu(kink=k), lambda a: max(0.0, a),
            args(away_from_zero(0.01, 5.0))) for k in (0.5, 1.0)]
    + [Case("abs(kink=1.0)", abs_op(1.0), lambda a: a.abs(kink=1.0), math.fabs,
            args(away_from_zero(0.01, 5.0)))]
    + [Case(f"max(tie={t})", max_op(t), lambda a, b, t=t: maximum(a, b, tie=t), max,
            distinct_pair()) for t in (0.0, 1.0)]
    + [Case(f"min(tie={t})", min_op(t), lambda a, b, t=t: minimum(a, b, tie=t), min,
            distinct_pair()) for t in (0.0, 1.0)]
)

CASES = DEFAULT_CASES + PARAM_CASES
BY_NAME = {case.op.name: case for case in DEFAULT_CASES}


def all_cases(test):
    return pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])(test)


# ---- the table itself --------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_in_the_table_has_a_reference(name):
    assert name in BY_NAME, (f"op {name!r} is in microgradnet.ops.OPS but has no Case in "
                             "tests/test_ops.py: add its math reference and input domain")
    assert BY_NAME[name].op is OPS[name]


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_record_is_complete(name):
    op = OPS[name]
    assert op.name == name
    assert op.arity in (1, 2)
    assert op.formula, f"{name} has no formula"
    assert len(op.deriv) == op.arity, f"{name}: {len(op.deriv)} derivative formulas"
    # The rule gives one gradient per argument, on floats.
    point = [0.7, 1.3][:op.arity]
    out = op.fn(*point)
    local = op.rule(1.0, out, *point)
    assert isinstance(local, tuple) and len(local) == op.arity
    assert all(isinstance(g, float) for g in local), local


@pytest.mark.parametrize("name", sorted(OPS))
def test_nodes_made_with_default_parameters_hold_the_table_record(name):
    # Renderers and explainers may look a node's op up in the table: it must be the same record.
    case = BY_NAME[name]
    out = case.build(*[Value(x) for x in (0.7, 1.3)[:case.op.arity]])
    assert out.primitive is OPS[name]


@all_cases
def test_building_the_op_records_it_with_its_inputs_in_order(case):
    vs = [Value(x) for x in (0.7, 1.3)[:case.op.arity]]
    out = case.build(*vs)
    assert out.op == case.op.name
    assert out.primitive.params == case.op.params
    assert out.parents == tuple(vs)
    assert not out.is_leaf


# ---- forward ------------------------------------------------------------------------------------

@all_cases
@given(data=st.data())
def test_forward_matches_math(case, data):
    xs = data.draw(case.inputs)
    out = case.build(*[Value(x) for x in xs])
    assert isinstance(out.data, float)
    assert_close(out.data, case.ref(*xs), rtol=1e-12, atol=1e-15, what=f"{case.id}{xs}")
    # The table's float forward is the same function.
    assert_close(case.op.fn(*xs), case.ref(*xs), rtol=1e-12, atol=1e-15, what=f"{case.id}.fn")
    if case.op.arity == 2:  # a plain number on either side is lifted to a leaf
        a, b = xs
        assert_close(case.build(Value(a), b).data, out.data, rtol=0.0, atol=0.0, what="x op n")
        assert_close(case.build(a, Value(b)).data, out.data, rtol=0.0, atol=0.0, what="n op x")


# ---- derivatives --------------------------------------------------------------------------------

@all_cases
@given(data=st.data())
def test_first_derivatives_match_central_differences(case, data):
    xs = list(data.draw(case.inputs))
    vs = [Value(x) for x in xs]
    analytic = grad(case.build(*vs), vs)
    numeric = numerical_grad(case.build, xs)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        assert_close(a, n, **FIRST, what=f"d {case.id} / d x{i} at {xs}")


@all_cases
@given(data=st.data())
def test_second_derivatives_match_central_differences(case, data):
    xs = list(data.draw(case.inputs))
    analytic = analytic_hessian(case.build, xs)
    numeric = numerical_hessian(case.build, xs)
    for i in range(len(xs)):
        for j in range(len(xs)):
            assert_close(analytic[i][j], numeric[i][j], **SECOND,
                         what=f"d2 {case.id} / dx{i} dx{j} at {xs}")


@all_cases
@given(data=st.data())
def test_backward_grad_and_create_graph_give_the_same_first_derivative(case, data):
    # One rule, three paths: floats in backward() and grad(), Values with create_graph=True.
    xs = list(data.draw(case.inputs))
    vs = [Value(x) for x in xs]
    out = case.build(*vs)
    as_floats = grad(out, vs)
    as_values = grad(out, vs, create_graph=True)
    out.backward()
    assert out.grad == 1.0
    for i, (v, f, x) in enumerate(zip(as_values, as_floats, vs)):
        assert isinstance(f, float) and isinstance(v, Value)
        assert_close(x.grad, f, rtol=0.0, atol=0.0, what=f"backward vs grad, x{i}")
        assert_close(v.data, f, rtol=1e-13, atol=1e-300, what=f"create_graph vs grad, x{i}")


def test_a_parameterised_op_is_one_record_whatever_the_spelling_of_its_parameter():
    assert relu(1) is relu(1.0) is relu(kink=1.0)
    assert pow_const(2) is pow_const(2.0)
    assert leaky_relu(0.01) is leaky_relu(alpha=0.01, kink=None)
    assert max_op(1) is max_op(tie=1.0)


# ---- what explanations write: the record's formulas compute the record's numbers --------------

FLOAT_FUNCTIONS = {name: op.fn for name, op in OPS.items()}


@all_cases
@given(data=st.data())
def test_the_formulas_an_explanation_writes_compute_the_ops_numbers(case, data):
    # The forward formula and the derivative formulas are derived from the record (show, and
    # the rule run on formulas); evaluated back to numbers they must give fn and rule, so a
    # wrong formula in an explanation fails here.
    xs = data.draw(case.inputs)
    op = case.op
    args = [sym(f"x{i}", x) for i, x in enumerate(xs)]
    out = op.fn(*xs)
    assert_close(evaluate(op.formula_of(*args), FLOAT_FUNCTIONS), out, rtol=1e-12,
                 atol=1e-15, what=f"forward formula of {case.id}")
    if op.piecewise:   # explanations print the slope as the number the rule gives
        return
    local = op.rule(1.0, out, *xs)
    for out_as in (sym("out", out), op.formula_of(*args)):   # out named, or written inline
        for j, d in enumerate(op.deriv_of(out_as, *args)):
            assert_close(evaluate(d, FLOAT_FUNCTIONS), local[j], rtol=1e-12, atol=1e-15,
                         what=f"d {case.id} / d x{j}: {d!r}")


def test_the_table_describes_each_op_in_its_argument_names():
    assert OPS["tanh"].deriv == ("1 - tanh(a)^2",)
    assert OPS["*"].deriv == ("b", "a") and OPS["/"].deriv == ("1/b", "-a/b^2")
    assert OPS["softsign"].formula == "a/(1 + abs(a))"


def test_a_users_own_op_is_a_record_applied_to_values_and_passes_gradcheck():
    from microgradnet import apply
    cube = Op("cube", lambda a: a ** 3, lambda g, out, a: (g * 3 * a * a,), 1)
    assert cube.deriv == ("3*a*a",) and cube.formula == "cube(a)"
    for x in (-1.7, 0.3, 2.0):
        v = Value(x)
        y = apply(cube, v)
        y.backward()
        assert_close(v.grad, numerical_grad(lambda a: apply(cube, a), [x])[0], **FIRST)
        # Second derivative through create_graph: the rule runs on Values.
        d1 = grad(apply(cube, v), v, create_graph=True)
        assert_close(grad(d1, v), 6 * x, rtol=1e-12, atol=0.0)
    with pytest.raises(TypeError, match="takes 1 input"):
        apply(cube, Value(1.0), Value(2.0))
    with pytest.raises(TypeError, match="expected an Op"):
        apply(lambda a: a, Value(1.0))
    with pytest.raises(ValueError, match="arity"):
        Op("bad", abs, lambda g, out, a: (g,), 3)


def test_zero_to_a_non_negative_power_is_defined_as_in_torch():
    torch = pytest.importorskip("torch")
    for b in (0.0, 1.0, 2.0, 3.5):
        x, y = Value(0.0), Value(b)
        out = x ** y
        out.backward()
        tx = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
        ty = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        (tx ** ty).backward()
        assert out.data == (tx ** ty).item()
        assert (x.grad, y.grad) == (tx.grad.item(), ty.grad.item()), b
    with pytest.raises(ValueError, match="positive base"):
        Value(0.0) ** Value(-1.0)
