"""Formulas: the small expression type that op records describe themselves with and that
explanations print.

An :class:`Expr` is a formula tree (a constant, a named node, ``+ - * / **``, a negation, a
function call). It supports Python's arithmetic and the functions the op rules dispatch to
(``exp``, ``log``, ``sigmoid``, ``tanh``, ...), so running an op's rule ``rule(g, out, *args)``
on Exprs instead of floats *writes* its local derivatives: ``tanh``'s rule ``g * (1 - out*out)``
becomes the formula ``1 - out^2``. An Expr may carry the number it stands for (``value``), so a
rule that branches on its input (elu's two sides) picks the branch taken at that point.
Construction through the operators folds constants and drops factors of 1, so the formulas read
as written by hand; :func:`bin` and :func:`call` build a node exactly as given.

The module imports nothing from the engine: it sits beside ``ops`` at the bottom of the package.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable, Mapping, Optional, Sequence

__all__ = ["Expr", "num", "sym", "bin", "call", "neg", "product", "evaluate", "Printer",
           "format_number", "round_half_up", "latex_name", "latex_text", "latex_word", "visible",
           "const_text"]


# ---- numbers -----------------------------------------------------------------------------------

def format_number(x: float, decimals: Optional[int] = None) -> str:
    """A float as a hand-worked sheet writes it: ``2.0``, ``-1.5``, ``0.65``.

    Float noise is hidden (12 significant digits: ``0.5 + 0.15000000000000002`` shows 0.65);
    with ``decimals`` the number is rounded to that many decimals first.

    Example:
        >>> format_number(0.6500000000000001), format_number(0.7310585786, 3)
        ('0.65', '0.731')
    """
    x = float(x)
    if decimals is not None:
        x = round_half_up(x, decimals)
    if x == 0:
        return "0.0"
    return repr(float(f"{x:.12g}"))


def round_half_up(x: float, decimals: int) -> float:
    """Round as by hand (0.5 -> 1, -0.25 -> -0.3 at one decimal), not to even as ``round``
    does; the decimal digits are those of the shortest repr of ``x``."""
    q = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def const_text(x: float) -> str:
    """A constant inside a formula: ``2`` rather than ``2.0``, so exponents read naturally."""
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return format_number(x)


# ---- expressions -------------------------------------------------------------------------------

class Expr:
    """A formula: ``num`` (a constant), ``slope`` (a constant slope of a piecewise op, kept as a
    factor of its own so ReLU's 1 shows however the path is cut), ``sym`` (a named thing: a
    node, or a name such as ``"a"``), ``bin`` (+ - * / **), ``neg``, ``call`` (a function such
    as max or tanh). ``value`` is the number the formula stands for, where known."""
    __slots__ = ("kind", "val", "args", "value")

    def __init__(self, kind: str, val=None, args: tuple = (), value: Optional[float] = None):
        self.kind, self.val, self.args, self.value = kind, val, args, value

    # The number behind the formula, for rules that branch on their input (ops._f reads it).
    @property
    def data(self) -> float:
        if self.value is None:
            raise ValueError(f"the formula {self!r} has no value to branch on")
        return self.value

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        return f"Expr({Printer('text', _NameOf())(self)})"

    def same(self, other: "Expr") -> bool:
        """Structurally equal (same tree, same constants and names)."""
        if self.kind != other.kind or len(self.args) != len(other.args):
            return False
        if self.kind in ("num", "slope"):
            return self.val == other.val
        if self.kind == "sym":
            return self.val is other.val or self.val == other.val
        return self.val == other.val and all(a.same(b) for a, b in
                                             zip(self.args, other.args, strict=True))

    # ---- arithmetic that folds constants, so rules run on Exprs read as written by hand ----
    def __add__(self, other) -> "Expr":
        o = _lift(other)
        if _is(self, 0):
            return o
        if _is(o, 0):
            return self
        if self.kind == o.kind == "num":
            return num(self.val + o.val)
        if o.kind == "neg":
            return self - o.args[0]
        if o.kind == "num" and o.val < 0:
            return self - num(-o.val)
        return bin("+", self, o)

    def __radd__(self, other) -> "Expr":
        return _lift(other) + self

    def __sub__(self, other) -> "Expr":
        o = _lift(other)
        if _is(o, 0):
            return self
        if _is(self, 0):
            return -o
        if self.kind == o.kind == "num":
            return num(self.val - o.val)
        return bin("-", self, o)

    def __rsub__(self, other) -> "Expr":
        return _lift(other) - self

    def __mul__(self, other) -> "Expr":
        o = _lift(other)
        if _is(self, 0) or _is(o, 0):
            return num(0)
        if _is(self, 1):
            return o
        if _is(o, 1):
            return self
        if _is(self, -1):
            return -o
        if _is(o, -1):
            return -self
        if self.kind == o.kind == "num":
            return num(self.val * o.val)
        if self.kind == "neg":
            return -(self.args[0] * o)
        if o.kind == "neg":
            return -(self * o.args[0])
        if self.kind != "num" and self.same(o):
            return bin("**", self, num(2))
        if o.kind == "num" and self.kind != "num":  # constants first: 2*a, not a*2
            return o * self
        return bin("*", self, o)

    def __rmul__(self, other) -> "Expr":
        return _lift(other) * self

    def __truediv__(self, other) -> "Expr":
        o = _lift(other)
        if _is(o, 1):
            return self
        if _is(self, 0):
            return num(0)
        if self.kind == o.kind == "num" and o.val != 0:
            return num(self.val / o.val)
        if self.kind == "neg":
            return -(self.args[0] / o)
        return bin("/", self, o)

    def __rtruediv__(self, other) -> "Expr":
        return _lift(other) / self

    def __pow__(self, other) -> "Expr":
        o = _lift(other)
        if _is(o, 1):
            return self
        if _is(o, 0):
            return num(1)
        return bin("**", self, o)

    def __rpow__(self, other) -> "Expr":
        return _lift(other) ** self

    def __neg__(self) -> "Expr":
        if self.kind == "num":
            return num(-self.val)
        if self.kind == "neg":
            return self.args[0]
        if self.kind == "bin" and self.val == "-":   # -(a - b) is b - a
            return bin("-", self.args[1], self.args[0])
        return Expr("neg", None, (self,))

    def __pos__(self) -> "Expr":
        return self

    def __abs__(self) -> "Expr":
        return call("abs", self)


def _fn(name: str):
    def method(self: Expr, *args) -> Expr:
        return call(name, self, *[_lift(a) for a in args])
    method.__name__ = name
    method.__doc__ = f"``{name}(self)`` as a formula."
    return method


# The functions the op rules dispatch to by method name (ops._exp(x) calls x.exp() on a
# non-float): on an Expr each one writes itself down.
for _name in ("exp", "log", "sqrt", "tanh", "sigmoid", "softplus", "sin", "cos", "tan", "atan",
              "erf", "sign", "relu"):
    setattr(Expr, _name, _fn(_name))


def _is(e: Expr, x: float) -> bool:
    return e.kind == "num" and e.val == x


def _lift(x) -> Expr:
    if isinstance(x, Expr):
        return x
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"a formula cannot hold {type(x).__name__} {x!r}")
    return num(x)


def num(x: float) -> Expr:
    """A constant."""
    return Expr("num", float(x), value=float(x))


def sym(thing, value: Optional[float] = None) -> Expr:
    """A named thing (a node, or a name such as ``"a"``); ``value`` is its number if known."""
    return Expr("sym", thing, value=value)


def bin(op: str, a: Expr, b: Expr) -> Expr:
    """``a op b`` exactly as given (no folding)."""
    return Expr("bin", op, (a, b))


def neg(a: Expr) -> Expr:
    """``-a`` exactly as given."""
    return Expr("neg", None, (a,))


def call(name, *args) -> Expr:
    """``name(args...)``; numbers are lifted to constants. ``name`` is a function's name, or an
    op record (an op at parameters other than its default), printed with its parameters."""
    return Expr("call", name, tuple(_lift(a) for a in args))


def evaluate(e: Expr, functions: Mapping[str, Callable[..., float]],
             values: Optional[Mapping] = None) -> float:
    """The number a formula stands for: constants as they are, a symbol's ``values[thing]``
    (or the value it carries), a call through ``functions[name]`` (e.g. the op table's float
    forwards). Used to check that what an explanation writes computes what it claims."""
    k = e.kind
    if k in ("num", "slope"):
        return e.val
    if k == "sym":
        if values is not None and e.val in values:
            return float(values[e.val])
        return e.data
    args = [evaluate(a, functions, values) for a in e.args]
    if k == "neg":
        return -args[0]
    if k == "call":
        fn = functions[e.val] if isinstance(e.val, str) else e.val.fn
        return float(fn(*args))
    a, b = args
    return _ARITHMETIC[e.val](a, b)


_ARITHMETIC = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
               "/": lambda a, b: a / b, "**": lambda a, b: a ** b}


class _NameOf(dict):
    """The names of a formula's symbols when printing it alone: a symbol's own name, or its
    label if it is a node."""
    def __missing__(self, key) -> str:
        return key if isinstance(key, str) else (getattr(key, "label", "") or "?")


# Names kept for the explainer's code, which reads better with short constructors.
_E = Expr
_num = num
_bin = bin
_call = call


_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4}
_LATEX_CALLS = {"max": r"\max", "min": r"\min", "exp": r"\exp", "log": r"\log",
                "tanh": r"\tanh", "sigmoid": r"\sigma"}
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma",
          "tau", "phi", "omega"}


def visible(text: str) -> str:
    """``text`` with every character that does not print as itself (a newline, a tab, NUL and
    the other control characters, a lone surrogate, a line separator, a non-ASCII space) written
    as Python's ``repr`` writes it: ``"y\\n\\nz"`` -> ``y\\n\\nz``, ``"x\\ud800"`` ->
    ``x\\ud800``. A name printed in an explanation thus stays on its line, in one table cell, in
    one LaTeX group, and every output can be written as UTF-8. A backslash is kept as it is,
    so the result is already visible (``visible(visible(s)) == visible(s)``).

    Example:
        >>> visible("y\\n\\tz\\x00")
        'y\\\\n\\\\tz\\\\x00'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# Text-mode LaTeX for the characters it reads as commands, and for < > | (which the default
# OT1 font encoding prints as other glyphs).
_LATEX_TEXT = {"\\": r"\textbackslash{}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
               "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}",
               **{c: "\\" + c for c in "_#%&${}"}}


def latex_text(text: str) -> str:
    """``text`` as LaTeX text: every character LaTeX reads as a command written as itself
    (``a_b & 100%`` -> ``a\\_b \\& 100\\%``, a backslash -> ``\\textbackslash{}``), and the
    characters that do not print as themselves as :func:`visible` writes them (a newline
    would end a paragraph, which ``\\text{...}`` cannot hold)."""
    return "".join(_LATEX_TEXT.get(c, c) for c in visible(text))


def latex_word(name: str) -> str:
    """A name written upright in math, as inside ``\\operatorname{...}`` (an op's name, a
    parameter's): letters, digits and ``_`` as they are (``leaky\\_relu``), any other name as
    text (``\\text{...}``, escaped), so an op's name cannot inject LaTeX."""
    if re.fullmatch(r"[A-Za-z0-9_]+", name):
        return name.replace("_", r"\_")
    return r"\text{" + latex_text(name) + "}"


def latex_name(name: str) -> str:
    """``w21`` -> ``w_{21}``, ``MSE`` -> ``\\mathrm{MSE}``, ``alpha`` -> ``\\alpha``; any other
    name as text (``\\text{...}``, escaped), so a label cannot inject LaTeX."""
    m = re.fullmatch(r"([A-Za-z]+)(?:_?(\d+))?", name)   # a trailing _ is text
    if not m:
        return r"\text{" + latex_text(name) + "}"
    base, sub = m.group(1), m.group(2)
    if base in _GREEK:
        base = "\\" + base
    elif len(base) > 1:
        base = r"\mathrm{" + base + "}"
    return base + ("_{" + sub + "}" if sub else "")


class Printer:
    """Prints a formula as text or LaTeX, with names or with the numbers of the named nodes."""

    def __init__(self, style: str, names: Mapping, values: Optional[Mapping] = None,
                 decimals: Optional[int] = None) -> None:
        self.latex = style == "latex"
        self.names = names
        self.values = values
        self.decimals = decimals

    def __call__(self, e: _E) -> str:
        return self._p(e, 0, True)

    def _number(self, s: str, negative: bool, leftmost: bool) -> str:
        return f"({s})" if negative and not leftmost else s

    def _call(self, e: _E) -> str:
        """``name(args)``: a function of the table, a user's own op (``e.val`` an op record),
        or an op at parameters other than its default (with them: ``elu(x; alpha=2)``). A
        name comes from user code, so it is written escaped (:func:`latex_word`,
        :func:`visible`)."""
        inner = ", ".join(self._p(a, 0, True) for a in e.args)
        name = e.val if isinstance(e.val, str) else e.val.name
        params = () if isinstance(e.val, str) else e.val.params
        if not self.latex:
            shown = "; ".join(f"{visible(str(k))}={const_text(v)}" for k, v in params)
            return f"{visible(name)}({inner}{'; ' + shown if shown else ''})"
        if not params and name == "sqrt" and isinstance(e.val, str):
            return r"\sqrt{" + inner + "}"
        if not params and name == "abs" and isinstance(e.val, str):
            return r"\lvert " + inner + r" \rvert"
        head = (_LATEX_CALLS[name] if isinstance(e.val, str) and name in _LATEX_CALLS
                else r"\operatorname{" + latex_word(name) + "}")
        shown = "; ".join(f"{latex_word(str(k))}={const_text(v)}" for k, v in params)
        return head + r"\left(" + inner + ("; " + shown if shown else "") + r"\right)"

    def _p(self, e: _E, minprec: int, leftmost: bool) -> str:
        k = e.kind
        if k in ("num", "slope"):
            return self._number(const_text(e.val), e.val < 0, leftmost)
        if k == "sym":
            if self.values is None:
                name = self.names[e.val]
                if isinstance(name, tuple):   # a name with its own LaTeX: (text, latex)
                    return name[1] if self.latex else name[0]
                return latex_name(name) if self.latex else visible(name)
            x = self.values[e.val]
            return self._number(format_number(x), x < 0, leftmost)
        if k == "call":
            return self._call(e)
        prec = _PREC["neg" if k == "neg" else e.val]
        if self.latex and k == "bin" and e.val == "/":
            a, b = e.args
            return r"\frac{" + self._p(a, 0, True) + "}{" + self._p(b, 0, True) + "}"
        # A negative term needs brackets wherever it is not the first thing written (inside
        # a product, after a minus); -(a*b) is (-a)*b, so a product under a minus needs none.
        paren = prec < minprec or (k == "neg" and not leftmost)
        lm = True if paren else leftmost
        if k == "neg":
            a = e.args[0]
            if a.kind == "bin" and a.val in ("*", "/"):
                s = "-" + self._p(a, 2, False)
            else:
                s = "-" + self._p(a, 4 if a.kind == "neg" else 3, False)
        else:
            a, b = e.args
            op = e.val
            if op == "**":
                base = self._p(a, 5, False)
                if self.latex:
                    s = base + "^{" + self._p(b, 0, True) + "}"
                else:   # a hand-worked sheet's x^2, not Python's x**2
                    s = base + "^" + self._p(b, 5, False)
            else:
                # 1/Z*v1 reads as 1/(Z*v1) to many: a quotient that is multiplied is bracketed
                quotient = not self.latex and op == "*" and a.kind == "bin" and a.val == "/"
                left = self._p(a, 3 if quotient else prec, lm)
                quotient = not self.latex and op == "*" and b.kind == "bin" and b.val == "/"
                right = self._p(b, prec + (op in "-/" or quotient), False)
                if op == "*":
                    s = left + (r" \cdot " if self.latex else "*") + right
                elif op == "/":
                    s = left + "/" + right
                else:
                    s = f"{left} {op} {right}"
        if paren:
            return (r"\left(" + s + r"\right)") if self.latex else f"({s})"
        return s


def product(factors: Sequence[Expr]) -> Expr:
    """Multiply formulas, folding the constants: ``1*0.5*2*(t1 - o1)*(-1)`` -> ``(o1 - t1)``."""
    coef = 1.0
    syms: list = []
    stack = list(reversed(factors))
    while stack:
        f = stack.pop()
        if f.kind == "num":
            coef *= f.val
        elif f.kind == "neg":
            coef = -coef
            stack.append(f.args[0])
        elif f.kind == "bin" and f.val == "*":
            stack.append(f.args[1])
            stack.append(f.args[0])
        else:
            syms.append(f)
    if not syms:
        return _num(coef)
    if coef == -1 and len(syms) == 1 and syms[0].kind == "bin" and syms[0].val == "-":
        a, b = syms[0].args
        return _bin("-", b, a)
    body = syms[0]
    for s in syms[1:]:
        body = _bin("*", body, s)
    if coef == 1:
        return body
    if coef == -1:
        return neg(body)
    return _bin("*", _num(coef), body)


