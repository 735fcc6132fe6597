"""The table of primitive operations: one record per op, with its float forward and its
local-derivative rule side by side.

A rule has the signature ``rule(g, out, *args) -> tuple`` (one gradient per argument): ``g`` is
the incoming gradient, ``out`` the forward result, ``args`` the inputs. Rules use arithmetic on
their arguments only, so the same rule runs on floats (the plain backward pass) and on ``Value``
nodes (it then builds a graph, and the gradient can be differentiated again). A piecewise-constant
slope (relu, leaky_relu, abs, maximum, minimum) reads the float on purpose: its derivative is a
constant on each side, and the value taken at the kink is a parameter of the op.

This module never imports ``Value``: functions that must work on both floats and nodes
(``exp``, ``log``, ``sigmoid``) dispatch on a method of the same name.
"""
from __future__ import annotations

import math
import operator
import numbers
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

__all__ = [
    "Op", "DomainError", "OPS", "ADD", "SUB", "MUL", "DIV", "NEG", "POW", "EXP", "LOG",
    "SQRT", "TANH", "SIGMOID", "SOFTPLUS", "pow_const", "relu", "leaky_relu", "abs_op",
    "swish", "maximum", "minimum",
]


class DomainError(ValueError, ArithmeticError):
    """An op was asked for a value outside its domain (log of a negative, division by zero,
    overflow, NaN). Subclasses ``ValueError`` and ``ArithmeticError`` so either can catch it."""


@dataclass(frozen=True, eq=False)
class Op:
    """A primitive: ``fn`` computes the float forward, ``rule`` the local derivatives.

    Attributes:
        name: short name shown in pictures and explanations (``"*"``, ``"tanh"``, ``"**2"``).
        fn: float forward, ``fn(*args) -> float``.
        rule: ``rule(g, out, *args) -> tuple`` of one gradient per argument.
        arity: number of arguments.
        domain: what the op needs of its inputs, quoted in error messages.
        params: parameters fixed in the op (exponent, slope, value at the kink), for display.
        formula: the op as a formula in its argument names ``a``, ``b``, for explainers.
        deriv: the local derivative per argument as formulas, for explainers.
    """
    name: str
    fn: Callable[..., float]
    rule: Callable[..., tuple]
    arity: int
    domain: str = ""
    params: tuple = field(default=())
    formula: str = ""
    deriv: tuple = field(default=())

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


# ---- helpers that dispatch on floats and Values ------------------------------------------------

def _f(x: Any) -> float:
    """The float behind ``x`` (a number or a node); used only for piecewise-constant slopes."""
    return x if isinstance(x, float) else float(getattr(x, "data", x))


def _exp(x):
    return math.exp(x) if isinstance(x, (int, float)) else x.exp()


def _log(x):
    return math.log(x) if isinstance(x, (int, float)) else x.log()


def _sigmoid_f(x: float) -> float:
    # Two branches so neither exp can overflow.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _sigmoid(x):
    return _sigmoid_f(x) if isinstance(x, (int, float)) else x.sigmoid()


def _softplus_f(x: float) -> float:
    # log(1 + e^x) without overflow: x + log(1 + e^-x) for large x.
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _div(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError("division by zero")
    return a / b


def _sqrt(a: float) -> float:
    return math.sqrt(a)


def _log_f(a: float) -> float:
    if a <= 0:
        raise ValueError("math domain error")
    return math.log(a)


def _pow_vv(a: float, b: float) -> float:
    if a <= 0:
        raise ValueError("base must be positive")
    return a ** b


# ---- the fixed ops -----------------------------------------------------------------------------

ADD = Op("+", operator.add, lambda g, out, a, b: (g, g), 2,
         formula="a + b", deriv=("1", "1"))
SUB = Op("-", operator.sub, lambda g, out, a, b: (g, -g), 2,
         formula="a - b", deriv=("1", "-1"))
MUL = Op("*", operator.mul, lambda g, out, a, b: (g * b, g * a), 2,
         formula="a * b", deriv=("b", "a"))
DIV = Op("/", _div, lambda g, out, a, b: (g / b, -g * out / b), 2,
         domain="a divisor other than zero", formula="a / b", deriv=("1/b", "-a/b^2"))
NEG = Op("neg", operator.neg, lambda g, out, a: (-g,), 1, formula="-a", deriv=("-1",))
POW = Op("**", _pow_vv, lambda g, out, a, b: (g * b * a ** (b - 1), g * out * _log(a)), 2,
         domain="a positive base", formula="a ** b", deriv=("b*a^(b-1)", "a^b*log(a)"))
EXP = Op("exp", math.exp, lambda g, out, a: (g * out,), 1,
         domain="a result that fits in a float (a < 709.78)", formula="exp(a)",
         deriv=("exp(a)",))
LOG = Op("log", _log_f, lambda g, out, a: (g / a,), 1,
         domain="a positive argument", formula="log(a)", deriv=("1/a",))
SQRT = Op("sqrt", _sqrt, lambda g, out, a: (g / (2 * out),), 1,
          domain="a non-negative argument (and a positive one to differentiate)",
          formula="sqrt(a)", deriv=("1/(2*sqrt(a))",))
TANH = Op("tanh", math.tanh, lambda g, out, a: (g * (1 - out * out),), 1,
          formula="tanh(a)", deriv=("1 - tanh(a)^2",))
SIGMOID = Op("sigmoid", _sigmoid_f, lambda g, out, a: (g * out * (1 - out),), 1,
             formula="sigmoid(a)", deriv=("sigmoid(a)*(1 - sigmoid(a))",))
SOFTPLUS = Op("softplus", _softplus_f, lambda g, out, a: (g * _sigmoid(a),), 1,
              formula="log(1 + exp(a))", deriv=("sigmoid(a)",))


# ---- ops with a parameter: one cached record per parameter value ------------------------------
# Each public factory checks its parameters and turns them into floats before the cache, so
# relu(1), relu(1.0) and relu(kink=1.0) are one and the same record (and relu(True), which the
# cache would take for relu(1), never reaches it).

def _param(x: Any, op: str, name: str) -> float:
    """An op parameter as a finite float; a bool, a non-number, NaN or infinity is refused."""
    if x.__class__ is float and x - x == 0.0:  # the common case
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{op}: {name} must be a real number, got {type(x).__name__}: {x!r}")
    try:
        x = float(x)
    except OverflowError:
        raise ValueError(f"{op}: {name} must be a finite number, got an int too large for "
                         f"a float") from None
    if x - x != 0.0:
        raise ValueError(f"{op}: {name} must be a finite number, got {x!r}")
    return x


def _share(tie: Any, op: str) -> float:
    """The fraction of a tied max/min's gradient that goes to ``a``: a number in [0, 1]."""
    tie = _param(tie, op, "tie")
    if not 0.0 <= tie <= 1.0:
        raise ValueError(f"{op}: tie is the share of the gradient a gets on a tie, so it must "
                         f"lie in [0, 1], got {tie!r}")
    return tie


def _fmt(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def pow_const(n: float) -> Op:
    """``a ** n`` for a fixed number ``n``: derivative ``n * a**(n-1)``."""
    return _pow_const(_param(n, "**", "the exponent"))


@lru_cache(maxsize=None)
def _pow_const(n: float) -> Op:
    n = float(n)

    def fn(a: float) -> float:
        if a == 0 and n < 0:
            raise ZeroDivisionError("zero to a negative power")
        if a < 0 and not n.is_integer():
            raise ValueError("negative base to a fractional power")
        return a ** n

    def rule(g, out, a):
        if n == 0:
            return (g * 0.0,)
        if n == 1:
            return (g * 1.0,)
        return (g * n * a ** (n - 1),)

    s = _fmt(n)
    return Op("**" + s, fn, rule, 1, domain="a base that is non-zero for a negative power and "
              "non-negative for a fractional one", params=(("n", n),),
              formula=f"a ** {s}", deriv=(f"{s}*a^{_fmt(n - 1)}",))


def _step(x: float, left: float, right: float, kink: float) -> float:
    return right if x > 0 else (left if x < 0 else kink)


def relu(kink: float = 0.0) -> Op:
    """``max(0, a)``; its derivative is 0 left of zero, 1 right of it, ``kink`` at zero."""
    return _relu(_param(kink, "relu", "kink"))


@lru_cache(maxsize=None)
def _relu(kink: float = 0.0) -> Op:
    kink = float(kink)
    return Op("relu", lambda a: a if a > 0 else 0.0,
              lambda g, out, a: (g * _step(_f(a), 0.0, 1.0, kink),), 1,
              params=(("kink", kink),), formula="max(0, a)",
              deriv=(f"1 if a > 0, 0 if a < 0, {_fmt(kink)} at 0",))


def leaky_relu(alpha: float = 0.01, kink: float | None = None) -> Op:
    """``a`` for a > 0 else ``alpha * a``; derivative at zero is ``kink`` (default ``alpha``,
    as in PyTorch)."""
    return _leaky_relu(_param(alpha, "leaky_relu", "alpha"),
                       None if kink is None else _param(kink, "leaky_relu", "kink"))


@lru_cache(maxsize=None)
def _leaky_relu(alpha: float = 0.01, kink: float | None = None) -> Op:
    alpha = float(alpha)
    k = alpha if kink is None else float(kink)
    return Op("leaky_relu", lambda a: a if a > 0 else alpha * a,
              lambda g, out, a: (g * _step(_f(a), alpha, 1.0, k),), 1,
              params=(("alpha", alpha), ("kink", k)), formula=f"max({_fmt(alpha)}*a, a)",
              deriv=(f"1 if a > 0, {_fmt(alpha)} if a < 0, {_fmt(k)} at 0",))


def abs_op(kink: float = 0.0) -> Op:
    """``|a|``; derivative ``sign(a)``, and ``kink`` at zero (0 as in PyTorch)."""
    return _abs_op(_param(kink, "abs", "kink"))


@lru_cache(maxsize=None)
def _abs_op(kink: float = 0.0) -> Op:
    kink = float(kink)
    return Op("abs", abs, lambda g, out, a: (g * _step(_f(a), -1.0, 1.0, kink),), 1,
              params=(("kink", kink),), formula="|a|",
              deriv=(f"sign(a), {_fmt(kink)} at 0",))


def swish(beta: float = 1.0) -> Op:
    """``a * sigmoid(beta * a)``; derivative ``s + beta * a * s * (1 - s)``, s = sigmoid(beta a)."""
    return _swish(_param(beta, "swish", "beta"))


@lru_cache(maxsize=None)
def _swish(beta: float = 1.0) -> Op:
    beta = float(beta)

    def rule(g, out, a):
        s = _sigmoid(beta * a)
        return (g * (s + beta * a * s * (1 - s)),)

    return Op("swish", lambda a: a * _sigmoid_f(beta * a), rule, 1,
              params=(("beta", beta),), formula=f"a * sigmoid({_fmt(beta)}*a)",
              deriv=(f"s + {_fmt(beta)}*a*s*(1 - s), s = sigmoid({_fmt(beta)}*a)",))


def maximum(tie: float = 0.5) -> Op:
    """``max(a, b)``; the gradient goes to the larger input; on a tie ``a`` gets ``tie`` of it
    and ``b`` the rest (0.5 each, as in PyTorch)."""
    return _maximum(_share(tie, "max"))


@lru_cache(maxsize=None)
def _maximum(tie: float = 0.5) -> Op:
    tie = float(tie)

    def rule(g, out, a, b):
        fa, fb = _f(a), _f(b)
        w = 1.0 if fa > fb else (0.0 if fa < fb else tie)
        return (g * w, g * (1.0 - w))

    return Op("max", max, rule, 2, params=(("tie", tie),), formula="max(a, b)",
              deriv=("1 if a > b", "1 if b > a"))


def minimum(tie: float = 0.5) -> Op:
    """``min(a, b)``; the gradient goes to the smaller input, split by ``tie`` on a tie."""
    return _minimum(_share(tie, "min"))


@lru_cache(maxsize=None)
def _minimum(tie: float = 0.5) -> Op:
    tie = float(tie)

    def rule(g, out, a, b):
        fa, fb = _f(a), _f(b)
        w = 1.0 if fa < fb else (0.0 if fa > fb else tie)
        return (g * w, g * (1.0 - w))

    return Op("min", min, rule, 2, params=(("tie", tie),), formula="min(a, b)",
              deriv=("1 if a < b", "1 if b < a"))


#: Every op with its default parameters, for tests and documentation that walk the table.
#: The factories are called exactly as ``Value`` calls them (lru_cache keys on the call), so a
#: node made with default parameters holds the very record found here.
OPS: dict[str, Op] = {op.name: op for op in (
    ADD, SUB, MUL, DIV, NEG, POW, EXP, LOG, SQRT, TANH, SIGMOID, SOFTPLUS,
    relu(0.0), leaky_relu(0.01, None), abs_op(0.0), swish(1.0), maximum(0.5), minimum(0.5))}
