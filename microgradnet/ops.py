"""The table of primitive operations: one record per op, with its float forward and its
local-derivative rule side by side.

A rule has the signature ``rule(g, out, *args) -> tuple`` (one gradient per argument): ``g`` is
the incoming gradient, ``out`` the forward result, ``args`` the inputs. Rules use arithmetic on
their arguments only, so the same rule runs on floats (the plain backward pass) and on ``Value``
nodes (it then builds a graph, and the gradient can be differentiated again). A piecewise-constant
slope (relu, leaky_relu, abs, maximum, minimum) reads the float on purpose: its derivative is a
constant on each side, and the value taken at the kink is a parameter of the op.

This module never imports ``Value``: functions that must work on both floats and nodes
(``exp``, ``log``, ``sigmoid``) dispatch on a method of the same name. The same dispatch lets a
rule run on :class:`~microgradnet.formula.Expr` formulas, which is how an op *writes* its own
derivative for explanations (``tanh``'s rule gives ``1 - out^2``): the record is the only
description of an op. Everything else a consumer needs is on the record too: the forward formula
(``show``), whether the slope is piecewise constant (``piecewise``), whether the operands may be
swapped (``commutative``), inline replay source (``code``) and the PyTorch module that computes
the same function (``torch``).

Adding an op is one record here, one ``Value`` method that applies it, and one test case in
``tests/test_ops.py``; explanations, pictures, replay, export and the nn activations pick it up
from the record. A user-defined op is a record too: see :class:`Op` and
:func:`microgradnet.engine.apply`.
"""
from __future__ import annotations

import math
import operator
import numbers
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Optional

from .formula import Expr, Printer, bin, call, neg, num, sym

__all__ = [
    "Op", "DomainError", "DivisionByZero", "Overflow",
    "OPS", "ACTIVATIONS", "ADD", "SUB", "MUL", "DIV", "NEG", "POW", "EXP",
    "LOG", "SQRT", "TANH", "SIGMOID", "SOFTPLUS", "SIN", "COS", "TAN", "ATAN", "ERF", "SIGN",
    "GELU", "SOFTSIGN", "MISH", "SELU", "pow_const", "relu", "leaky_relu", "abs_op", "swish",
    "elu", "maximum", "minimum",
]


class DomainError(ValueError, ArithmeticError):
    """An op was asked for a value outside its domain (log of a negative, division by zero,
    overflow, NaN). Subclasses ``ValueError`` and ``ArithmeticError`` so either can catch it."""


class DivisionByZero(DomainError, ZeroDivisionError):
    """A division by zero, in a forward (``x / 0``, ``0 ** -1``) or in a derivative
    (sqrt'(0)): a ``DomainError`` that ``except ZeroDivisionError`` catches too, as
    ``decimal.DivisionByZero`` is."""


class Overflow(DomainError, OverflowError):
    """A result or a gradient too large for a float (``exp(1000)``, ``1e200 * 1e200``): a
    ``DomainError`` that ``except OverflowError`` catches too, as ``decimal.Overflow`` is."""


@dataclass(frozen=True, eq=False)
class Op:
    """A primitive: ``fn`` computes the float forward, ``rule`` the local derivatives.

    Attributes:
        name: short name shown in pictures and explanations (``"*"``, ``"tanh"``, ``"**2"``).
        fn: float forward, ``fn(*args) -> float``.
        rule: ``rule(g, out, *args) -> tuple`` of one gradient per argument. Written with
            arithmetic and the dispatching functions of this module only, it runs on floats,
            on ``Value`` nodes (higher derivatives) and on formulas (explanations).
        arity: number of arguments (1 or 2).
        domain: what the op needs of its inputs, quoted in error messages.
        params: parameters fixed in the op (exponent, slope, value at the kink), for display.
        show: the forward as a formula of the argument formulas (default ``name(a)``).
        show_deriv: a display override ``(out, *args) -> tuple`` of derivative formulas, only
            where textbooks write the derivative otherwise than the rule computes it.
        piecewise: the slope is constant on each side of a kink (relu, abs, max): explanations
            show it as a number read at the point, not as a formula.
        describe_deriv: the derivative in words, one per argument, for an op whose formula
            depends on the side of a kink (relu, elu); the others' come from the rule.
        commutative: ``f(a, b) == f(b, a)``, so pictures need not tell the operands apart.
        code: inline source for replay, ``(forward, (contribution per argument))`` with
            ``{a} {b} {out} {g}`` placeholders (and ``exp log sqrt tanh sin cos tan atan erf``
            from ``math``), computing exactly the floats of ``fn`` and ``rule``; ``None`` in
            either place makes the replay call ``fn`` or ``rule`` themselves.
        guarded: the rule can raise where the op is defined (sqrt'(0)), so a replay skips it
            where the incoming gradient is 0, as ``backward`` does.
        activation: offered as an activation by name (``Neuron(2, "elu")``).
        torch: the ``torch.nn`` module computing the same function (``"Tanh"``), with its
            keyword arguments in ``torch_args``; ``""`` where PyTorch has none.
    """
    name: str
    fn: Callable[..., float]
    rule: Callable[..., tuple]
    arity: int
    domain: str = ""
    params: tuple = field(default=())
    show: Optional[Callable[..., Expr]] = None
    show_deriv: Optional[Callable[..., tuple]] = None
    piecewise: bool = False
    describe_deriv: tuple = field(default=())
    commutative: bool = False
    code: Optional[tuple] = None
    guarded: bool = False
    activation: bool = False
    torch: str = ""
    torch_args: tuple = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"Op: name must be a non-empty str, got {self.name!r}")
        if not callable(self.fn) or not callable(self.rule):
            raise TypeError(f"Op {self.name!r}: fn and rule must be callables")
        if self.arity not in (1, 2):
            raise ValueError(f"Op {self.name!r}: arity must be 1 or 2, got {self.arity!r}")

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    # ---- the op as formulas (all derived from show and rule) ----------------------------------
    def formula_of(self, *args: Expr) -> Expr:
        """The forward as a formula of the argument formulas ``args``."""
        if self.show is not None:
            return self.show(*args)
        # An op at its default parameters is written by name; otherwise with its parameters.
        return call(self.name if OPS.get(self.name) is self else self, *args)

    def deriv_of(self, out: Expr, *args: Expr) -> tuple:
        """The local derivative per argument as formulas: the rule run on formulas with an
        incoming gradient of 1 (or the display override). A piecewise op's formulas need
        ``args`` that carry their values (it reads which side of the kink it is on)."""
        if self.show_deriv is not None:
            return tuple(self.show_deriv(out, *args))
        return tuple(self.rule(num(1), out, *args))

    @property
    def formula(self) -> str:
        """The forward written in the argument names ``a``, ``b`` (``"a * b"``)."""
        return _text(self.formula_of(*_ARGS[:self.arity]))

    @property
    def deriv(self) -> tuple:
        """The local derivative per argument, written in ``a``, ``b`` (``("b", "a")``)."""
        if self.describe_deriv:
            return self.describe_deriv
        args = _ARGS[:self.arity]
        return tuple(_text(d) for d in self.deriv_of(self.formula_of(*args), *args))


# The arguments of the table's own description: values away from every kink and domain edge,
# for the few rules that look at their input (a ** b at a = 0).
_ARGS = (sym("a", 0.7), sym("b", 1.3))


def _text(e: Expr) -> str:
    return Printer("text", _Names())(e)


class _Names(dict):
    def __missing__(self, key) -> str:
        return str(key)


# ---- helpers that dispatch on floats and Values ------------------------------------------------

def _f(x: Any) -> float:
    """The float behind ``x`` (a number, a node or a formula with its value); used only where a
    rule depends on which side of a kink its input lies."""
    return x if isinstance(x, float) else float(getattr(x, "data", x))


def _dispatch(name: str, on_float: Callable[[float], float]) -> Callable:
    """``on_float`` on a number, else the method ``name`` of a node or a formula."""
    def f(x):
        return on_float(x) if isinstance(x, (int, float)) else getattr(x, name)()
    f.__name__ = "_" + name
    return f


def _sigmoid_f(x: float) -> float:
    # Two branches so neither exp can overflow.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus_f(x: float) -> float:
    # log(1 + e^x) without overflow: x + log(1 + e^-x) for large x.
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


_exp = _dispatch("exp", math.exp)
_log = _dispatch("log", math.log)
_sigmoid = _dispatch("sigmoid", _sigmoid_f)
_tanh = _dispatch("tanh", math.tanh)
_softplus = _dispatch("softplus", _softplus_f)
_sin = _dispatch("sin", math.sin)
_cos = _dispatch("cos", math.cos)
_erf = _dispatch("erf", math.erf)


def _div(a: float, b: float) -> float:
    if b == 0:
        raise ZeroDivisionError("division by zero")
    return a / b


def _log_f(a: float) -> float:
    if a <= 0:
        raise ValueError("math domain error")
    return math.log(a)


def _pow_vv(a: float, b: float) -> float:
    # 0 ** b for b >= 0 is defined (0, or 1 at b = 0), as in torch and autograd.
    if a < 0 or (a == 0 and b < 0):
        raise ValueError("base must be positive (or zero with a non-negative exponent)")
    return a ** b


def _pow_rule(g, out, a, b):
    if _f(a) == 0:
        # At a zero base the exponent's derivative out*log(a) is 0*(-inf): taken as 0, as
        # torch and autograd do; the base's is b*0^(b-1): 0 for b = 0 or b >= 1, infinite
        # for 0 < b < 1 (0 ** negative raises, and backward reports it).
        da = g * 0.0 if _f(b) == 0 else g * b * a ** (b - 1)
        return (da, g * 0.0)
    return (g * b * a ** (b - 1), g * out * _log(a))


def _lit(x: float) -> str:
    """A float as replay source: ``(0.5)``."""
    return f"({x!r})"


# ---- the fixed ops -----------------------------------------------------------------------------

ADD = Op("+", operator.add, lambda g, out, a, b: (g, g), 2, show=lambda a, b: bin("+", a, b),
         commutative=True, code=("{a} + {b}", ("{g}", "{g}")))
SUB = Op("-", operator.sub, lambda g, out, a, b: (g, -g), 2, show=lambda a, b: bin("-", a, b),
         code=("{a} - {b}", ("{g}", "-{g}")))
MUL = Op("*", operator.mul, lambda g, out, a, b: (g * b, g * a), 2,
         show=lambda a, b: bin("*", a, b), commutative=True,
         code=("{a} * {b}", ("{g} * {b}", "{g} * {a}")))
DIV = Op("/", _div, lambda g, out, a, b: (g / b, -g * out / b), 2,
         domain="a divisor other than zero", show=lambda a, b: bin("/", a, b),
         # The rule reuses the quotient (-out/b); textbooks write -a/b^2.
         show_deriv=lambda out, a, b: (1 / b, -(a / b ** 2)),
         code=("{a} / {b}", ("{g} / {b}", "-{g} * {out} / {b}")))
NEG = Op("neg", operator.neg, lambda g, out, a: (-g,), 1, show=neg, code=("-{a}", ("-{g}",)))
POW = Op("**", _pow_vv, _pow_rule, 2,
         domain="a positive base (or zero, with an exponent >= 0)",
         show=lambda a, b: bin("**", a, b), guarded=True)
EXP = Op("exp", math.exp, lambda g, out, a: (g * out,), 1,
         domain="a result that fits in a float (a < 709.78)",
         code=("exp({a})", ("{g} * {out}",)))
LOG = Op("log", _log_f, lambda g, out, a: (g / a,), 1, domain="a positive argument",
         code=("log({a})", ("{g} / {a}",)))
SQRT = Op("sqrt", math.sqrt, lambda g, out, a: (g / (2 * out),), 1,
          domain="a non-negative argument (and a positive one to differentiate)",
          code=("sqrt({a})", ("{g} / (2 * {out})",)), guarded=True)
TANH = Op("tanh", math.tanh, lambda g, out, a: (g * (1 - out * out),), 1,
          code=("tanh({a})", ("{g} * (1 - {out} * {out})",)), activation=True, torch="Tanh")
SIGMOID = Op("sigmoid", _sigmoid_f, lambda g, out, a: (g * out * (1 - out),), 1,
             code=(None, ("{g} * {out} * (1 - {out})",)), activation=True, torch="Sigmoid")
SOFTPLUS = Op("softplus", _softplus_f, lambda g, out, a: (g * _sigmoid(a),), 1,
              show=lambda a: call("log", bin("+", num(1), call("exp", a))),
              activation=True, torch="Softplus")
SIN = Op("sin", math.sin, lambda g, out, a: (g * _cos(a),), 1,
         code=("sin({a})", None))
COS = Op("cos", math.cos, lambda g, out, a: (-g * _sin(a),), 1,
         code=("cos({a})", None))
TAN = Op("tan", math.tan, lambda g, out, a: (g * (1 + out * out),), 1,
         code=("tan({a})", ("{g} * (1 + {out} * {out})",)))
ATAN = Op("atan", math.atan, lambda g, out, a: (g / (1 + a * a),), 1,
          code=("atan({a})", ("{g} / (1 + {a} * {a})",)))
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
ERF = Op("erf", math.erf, lambda g, out, a: (g * _TWO_OVER_SQRT_PI * _exp(-(a * a)),), 1,
         code=("erf({a})", None))
SIGN = Op("sign", lambda a: (a > 0) - (a < 0) + 0.0, lambda g, out, a: (g * 0.0,), 1,
          piecewise=True, describe_deriv=("0 (constant on each side of 0)",),
          code=("(({a} > 0) - ({a} < 0) + 0.0)", ("0.0 * {g}",)))


def _gelu_f(a: float) -> float:
    return 0.5 * a * (1.0 + math.erf(a * _SQRT_HALF))


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# gelu(a) = a * Phi(a); d/da = Phi(a) + a * phi(a), Phi and phi the standard normal's
# distribution and density functions.
GELU = Op("gelu", _gelu_f,
          lambda g, out, a: (g * (0.5 * (1 + _erf(a * _SQRT_HALF))
                                  + a * _INV_SQRT_2PI * _exp(-0.5 * (a * a))),), 1,
          activation=True, torch="GELU")
SOFTSIGN = Op("softsign", lambda a: a / (1.0 + abs(a)),
              lambda g, out, a: (g / ((1 + abs(a)) * (1 + abs(a))),), 1,
              show=lambda a: bin("/", a, bin("+", num(1), call("abs", a))),
              activation=True, torch="Softsign")


def _mish_rule(g, out, a):
    t = _tanh(_softplus(a))
    return (g * (t + a * _sigmoid(a) * (1 - t * t)),)


MISH = Op("mish", lambda a: a * math.tanh(_softplus_f(a)), _mish_rule, 1,
          show=lambda a: bin("*", a, call("tanh", call("softplus", a))),
          activation=True, torch="Mish")

# SELU's constants, as in Klambauer et al. (2017) and torch.nn.SELU.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu_rule(g, out, a):
    # scale on the right; scale * alpha * e^a = out + scale * alpha on the left and at 0 (the
    # side torch takes at 0).
    return (g * _SELU_SCALE if _f(a) > 0 else g * (out + _SELU_SCALE * _SELU_ALPHA),)


SELU = Op("selu", lambda a: _SELU_SCALE * (a if a > 0 else _SELU_ALPHA * math.expm1(a)),
          _selu_rule, 1, activation=True, torch="SELU",
          describe_deriv=("scale if a > 0, scale*alpha*exp(a) = out + scale*alpha if a <= 0",))


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

    # The square is common and its rule cannot fail, so the replay writes it inline.
    code = ("{a} ** 2.0", ("{g} * 2.0 * {a} ** 1.0",)) if n == 2.0 else None
    return Op("**" + _fmt(n), fn, rule, 1, domain="a base that is non-zero for a negative power "
              "and non-negative for a fractional one", params=(("n", n),),
              show=lambda a: bin("**", a, num(n)), code=code, guarded=code is None)


def _step(x: float, left: float, right: float, kink: float) -> float:
    return right if x > 0 else (left if x < 0 else kink)


def _kinked(g: str, a: str, left: str, kink: float) -> str:
    """Replay source of a piecewise slope: ``g`` right of 0, ``left`` left of it, ``g * kink``
    at 0. ``g * 1.0`` is g and ``g * -1.0`` is -g exactly; ``g * 0.0`` is a zero whose sign
    cannot reach a non-zero result, and the replay normalises leaf gradients."""
    at_kink = "0.0" if kink == 0.0 else f"{g} * {_lit(kink)}"
    if left == at_kink:
        return f"({g} if {a} > 0 else {left})"
    return f"({g} if {a} > 0 else ({left} if {a} < 0 else {at_kink}))"


def relu(kink: float = 0.0) -> Op:
    """``max(0, a)``; its derivative is 0 left of zero, 1 right of it, ``kink`` at zero."""
    return _relu(_param(kink, "relu", "kink"))


@lru_cache(maxsize=None)
def _relu(kink: float = 0.0) -> Op:
    kink = float(kink)
    return Op("relu", lambda a: a if a > 0 else 0.0,
              lambda g, out, a: (g * _step(_f(a), 0.0, 1.0, kink),), 1,
              params=(("kink", kink),), show=lambda a: call("max", 0, a), piecewise=True,
              describe_deriv=(f"1 if a > 0, 0 if a < 0, {_fmt(kink)} at 0",),
              code=("{a} if {a} > 0 else 0.0", (_kinked("{g}", "{a}", "0.0", kink),)),
              activation=True, torch="ReLU" if kink == 0.0 else "")


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
              params=(("alpha", alpha), ("kink", k)),
              # max(alpha*a, a) only while alpha <= 1; past 1 the smaller of the two is meant.
              show=lambda a: call("max" if alpha <= 1 else "min", bin("*", num(alpha), a), a),
              piecewise=True,
              describe_deriv=(f"1 if a > 0, {_fmt(alpha)} if a < 0, {_fmt(k)} at 0",),
              code=(f"{{a}} if {{a}} > 0 else {_lit(alpha)} * {{a}}",
                    (_kinked("{g}", "{a}", f"{{g}} * {_lit(alpha)}", k),)),
              activation=True, torch="LeakyReLU" if k == alpha else "",
              torch_args=(("negative_slope", alpha),))


def abs_op(kink: float = 0.0) -> Op:
    """``|a|``; derivative ``sign(a)``, and ``kink`` at zero (0 as in PyTorch)."""
    return _abs_op(_param(kink, "abs", "kink"))


@lru_cache(maxsize=None)
def _abs_op(kink: float = 0.0) -> Op:
    kink = float(kink)
    return Op("abs", abs, lambda g, out, a: (g * _step(_f(a), -1.0, 1.0, kink),), 1,
              params=(("kink", kink),), piecewise=True,
              describe_deriv=(f"sign(a), {_fmt(kink)} at 0",),
              code=("abs({a})", (_kinked("{g}", "{a}", "-{g}", kink),)))


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
              params=(("beta", beta),),
              show=lambda a: bin("*", a, call("sigmoid", a if beta == 1 else
                                                bin("*", num(beta), a))),
              activation=True, torch="SiLU" if beta == 1.0 else "")


def elu(alpha: float = 1.0) -> Op:
    """``a`` for a > 0 else ``alpha * (e^a - 1)``; derivative 1 on the right, ``alpha * e^a``
    (= out + alpha) on the left and at 0, as in PyTorch."""
    return _elu(_param(alpha, "elu", "alpha"))


@lru_cache(maxsize=None)
def _elu(alpha: float = 1.0) -> Op:
    alpha = float(alpha)
    return Op("elu", lambda a: a if a > 0 else alpha * math.expm1(a),
              lambda g, out, a: (g * 1.0 if _f(a) > 0 else g * (out + alpha),), 1,
              params=(("alpha", alpha),), activation=True, torch="ELU",
              describe_deriv=(f"1 if a > 0, {_fmt(alpha)}*exp(a) = out + {_fmt(alpha)} "
                              "if a <= 0",),
              torch_args=(("alpha", alpha),))


def maximum(tie: float = 0.5) -> Op:
    """``max(a, b)``; the gradient goes to the larger input; on a tie ``a`` gets ``tie`` of it
    and ``b`` the rest (0.5 each, as in PyTorch)."""
    return _maximum(_share(tie, "max"))


def _extremum(name: str, tie: float, wins: Callable[[float, float], bool], cmp: str, rev: str):
    def rule(g, out, a, b):
        fa, fb = _f(a), _f(b)
        w = 1.0 if wins(fa, fb) else (0.0 if wins(fb, fa) else tie)
        return (g * w, g * (1.0 - w))

    # builtin max(a, b) / min(a, b): b only if strictly larger / smaller.
    forward = f"{{b}} if {{b}} {cmp} {{a}} else {{a}}"
    da = f"({{g}} if {{a}} {cmp} {{b}} else (0.0 if {{a}} {rev} {{b}} else {{g}} * {_lit(tie)}))"
    db = (f"(0.0 if {{a}} {cmp} {{b}} else ({{g}} if {{a}} {rev} {{b}} else "
          f"{{g}} * {_lit(1.0 - tie)}))")
    return Op(name, max if name == "max" else min, rule, 2, params=(("tie", tie),),
              piecewise=True, commutative=tie == 0.5,
              describe_deriv=(f"1 if a {cmp} b", f"1 if b {cmp} a"), code=(forward, (da, db)))


@lru_cache(maxsize=None)
def _maximum(tie: float = 0.5) -> Op:
    return _extremum("max", float(tie), lambda x, y: x > y, ">", "<")


def minimum(tie: float = 0.5) -> Op:
    """``min(a, b)``; the gradient goes to the smaller input, split by ``tie`` on a tie."""
    return _minimum(_share(tie, "min"))


@lru_cache(maxsize=None)
def _minimum(tie: float = 0.5) -> Op:
    return _extremum("min", float(tie), lambda x, y: x < y, "<", ">")


#: Every op with its default parameters, for tests and documentation that walk the table.
#: The factories are called exactly as ``Value`` calls them (lru_cache keys on the call), so a
#: node made with default parameters holds the very record found here.
OPS: dict[str, Op] = {op.name: op for op in (
    ADD, SUB, MUL, DIV, NEG, POW, EXP, LOG, SQRT, TANH, SIGMOID, SOFTPLUS, SIN, COS, TAN, ATAN,
    ERF, SIGN, GELU, SOFTSIGN, MISH, SELU, relu(0.0), leaky_relu(0.01, None), abs_op(0.0),
    swish(1.0), elu(1.0), maximum(0.5), minimum(0.5))}

#: The ops offered as activations by name (``Neuron(2, "gelu")``, ``nn.MLP(..., "elu")``).
ACTIVATIONS: dict[str, Op] = {name: op for name, op in OPS.items() if op.activation}
