"""The engine: ``Value`` nodes, their operators and ``backward``, the chain rule.

A ``Value`` wraps one float. Every operation on Values records a new node holding the op
(a record from :mod:`microgradnet.ops`: forward, local-derivative rule, formulas) and its
parents, in order, duplicates kept. ``backward`` walks the graph once in reverse topological
order (an explicit loop, no recursion) and applies each op's rule: the chain rule, node by node.

Repeated ``backward()``: leaves (nodes made by the user, such as weights and inputs)
accumulate, as in PyTorch, so call ``zero_grad()`` between steps; every intermediate node
shows the gradient of the latest pass only. A pass that fails changes no ``.grad``, and one
pass runs at a time across threads. Only a leaf's ``.data`` can be assigned, and a pass over
a graph that read a leaf before its latest assignment raises ``StaleGraphError``.

Blocks: ``scope`` tags new nodes, ``no_grad`` makes them leaves (both per thread or task),
``no_gc`` pauses the cyclic garbage collector, which graphs do not need.

The checks on numbers and the error messages live in :mod:`microgradnet._checks`; the graph
walks, the flat form of a graph that pickling uses and the collector's pause in
:mod:`microgradnet._walk`; gradients that leave ``.grad`` alone (``grad``, and ``sweep``, the
backward pass node by node) in :mod:`microgradnet.gradients`.
"""
from __future__ import annotations

import contextvars
import math
import threading
from contextlib import contextmanager
from typing import Iterator, Union

from . import ops
from ._checks import (StaleGraphError, check_assigned, check_number, derivative_error, describe,
                      forward_error, gradient_error, not_finite, operand_error,
                      stale_error)
from ._walk import PAUSE, ZERO, CollectorPause, backward_order, flatten, rebuild, walk
from .ops import DivisionByZero, DomainError, Op, Overflow

__all__ = ["Value", "apply", "maximum", "minimum", "topological_order", "scope", "no_grad",
           "no_gc", "DomainError", "DivisionByZero", "Overflow", "StaleGraphError"]

Number = Union[int, float]
# What the blocks that change new nodes (scope, no_grad) say in this thread or task: whether
# ops record their inputs, the scope names (outermost first), and what an unlabelled node
# stores in _meta (None, or ("", names) shared by every such node of the block).
_MODE: contextvars.ContextVar = contextvars.ContextVar("microgradnet_mode",
                                                       default=(True, (), None))
# How many blocks with scope names (_SCOPES) and how many no_grad blocks (_NO_GRADS) are open
# now, in every thread and task: while none is, which is nearly always, a new node skips the
# context variable's lookup. (So an asyncio task that outlives the block it was created in
# stops seeing that block's names once the block closes.)
_SCOPES = 0
_NO_GRADS = 0
# The assignment clock: how many times a leaf's .data has been assigned, in the process. Every
# op node stores its reading when made, every assigned leaf its reading after the assignment
# (PyTorch's version counter, as one number: an optimiser's update between steps makes the
# leaves newer than the old graph only, never than the next one).
_CLOCK = 0
_MODES_LOCK = threading.Lock()


class Value:
    """A scalar node of a computation graph.

    Args:
        data: a real number (int or float), stored as a float; NaN and infinity are refused.
        label: a name shown in reprs, pictures and explanations.

    Example:
        >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
        >>> c = a * b + a.tanh()
        >>> c.backward()
        >>> round(a.grad, 6), b.grad
        (-2.929349, 2.0)
    """
    # Seven slots: with the object header and the collector's header that is a 96-byte block.
    # Two parent slots instead of a tuple: every op has one or two inputs, and a tuple would be
    # a second garbage-collected object per node. The label and the scope share one slot,
    # _meta: None (neither), the label (a str), or (label, scope). _version is the assignment
    # clock's reading (see _CLOCK): for a leaf, when its data was last assigned (0: never);
    # for an op node, when it was made. A leaf newer than a node that read it means the node
    # holds a value computed from data that is gone, and backward refuses it.
    __slots__ = ("_data", "_grad", "_op", "_a", "_b", "_meta", "_version")

    def __init__(self, data: Number, label: str = "") -> None:
        if label.__class__ is not str:
            raise TypeError(f"Value label must be a str, got {type(label).__name__}: {label!r}")
        if data.__class__ is not float or data - data != 0.0:  # the common case skips the call
            if isinstance(data, Value):
                raise TypeError(f"Value() needs a number, got the node {describe(data)}; use "
                                "the node itself, or .detach() for a new leaf with its value")
            data = check_number(data, f"Value(label={label!r})" if label else "Value")
        self._data = data
        self._grad = ZERO
        self._op: Op | None = None     # the op record that made the node; None for a leaf
        self._a: Value | None = None   # the op's inputs (b is None for a one-input op)
        self._b: Value | None = None
        self._version = 0
        if _SCOPES:
            names, meta = _MODE.get()[1:]
            self._meta = (label, names) if names and label else (label or meta)
        else:
            self._meta = label or None

    # ---- the operators: each records one node ------------------------------------------------
    # + - * cannot fail but by overflow, so they skip the generic forward's try/except.
    # They are most of any graph, so they build their node in place (what _node does, a call
    # less per node: a tenth of the forward pass), unless the result overflowed or a no_grad
    # block is open somewhere.
    def __add__(self, other):
        if other.__class__ is not Value:
            other = _lift(other, _ADD, self)
        data = self._data + other._data
        if data - data != 0.0 or _NO_GRADS:
            return _node(_ADD, self, other, data)
        out = _new(Value)
        out._data = data
        out._grad = ZERO
        out._op = _ADD
        out._a = self
        out._b = other
        out._meta = _MODE.get()[2] if _SCOPES else None
        out._version = _CLOCK
        return out

    def __mul__(self, other):
        if other.__class__ is not Value:
            other = _lift(other, _MUL, self)
        data = self._data * other._data
        if data - data != 0.0 or _NO_GRADS:
            return _node(_MUL, self, other, data)
        out = _new(Value)
        out._data = data
        out._grad = ZERO
        out._op = _MUL
        out._a = self
        out._b = other
        out._meta = _MODE.get()[2] if _SCOPES else None
        out._version = _CLOCK
        return out

    def __pow__(self, other) -> "Value":
        """``self ** n`` with a number ``n`` (one node, derivative n*a^(n-1)), or with a
        ``Value`` exponent (``exp(b log a)``; the base must be positive, or zero with a
        non-negative exponent)."""
        if isinstance(other, Value):
            return Value._apply(ops.POW, self, other)
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            raise TypeError(f"**: cannot raise {describe(self)} to {type(other).__name__} "
                            f"{other!r}; the exponent must be a number or a Value")
        n = check_number(other, f"the exponent of {describe(self)} **")
        return Value._apply(ops.pow_const(n), self)

    def relu(self, kink: float = 0.0) -> "Value":
        """max(0, x); derivative 0 for x<0, 1 for x>0, ``kink`` at 0 (0 by default, as in
        PyTorch; some textbooks take 1)."""
        if kink.__class__ is not float or kink != 0.0:
            return Value._apply(ops.relu(kink), self)
        # the third op of any network: its node is built in place too (relu cannot fail)
        x = self._data
        return _node(_RELU, self, None, x if x > 0 else 0.0)

    # ---- the chain rule ----------------------------------------------------------------------
    def backward(self, gradient: Number | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False) -> None:
        """Fill ``.grad`` on every node of the graph that ends here, by the chain rule.

        Leaves accumulate across calls (as in PyTorch); intermediate nodes are reset and show
        this pass's gradient.

        This is :func:`~microgradnet.gradients.sweep` written out for speed (the same floats
        in the same order; a test holds the two equal to the last bit).

        Args:
            gradient: d(final)/d(self), the seed of the pass: 1.0 when None (PyTorch's name).
            retain_graph: PyTorch's keyword, accepted and ignored: the graph is always kept,
                so ``backward`` can run over it again.
            create_graph: must be False; for gradients that can be differentiated again use
                ``grad(..., create_graph=True)``, which leaves ``.grad`` alone.

        Raises:
            DomainError: a gradient is infinite or NaN (e.g. sqrt'(0)); names the node.
            StaleGraphError: a leaf's ``.data`` was assigned after an op of this graph read
                it (the forward pass must run again); names the leaf and the node.
        """
        if create_graph:
            raise ValueError("backward(create_graph=True) is not supported: use "
                             "grad(output, inputs, create_graph=True) for gradients that can "
                             "be differentiated again")
        seed = 1.0 if gradient is None else check_number(gradient, "backward(gradient)")
        with _BACKWARD_LOCK, PAUSE:
            order, saved, stale, stamp = backward_order(self)
            self._grad += seed
            node = self
            try:
                if stale is not None:
                    raise stale_error(*stale)
                for node in reversed(order):
                    g = node._grad
                    if g - g != 0.0:
                        raise gradient_error(node, g)
                    op = node._op
                    if op is None or g == 0.0:
                        continue
                    a = node._a
                    b = node._b
                    # + * and relu are most of any graph; their rules, (g, g), (g*b, g*a) and
                    # (g*1.0 or a zero,), are applied in place here to save the calls. Same
                    # floats, same order (a zero contribution is skipped: it changes no sum).
                    # + and relu pass g on unchanged: a grad still at zero (this walk's stamp,
                    # or a leaf's ZERO) takes the float itself, 0.0 + g being g for g != 0, so
                    # a chain of them shares one float instead of making one per node.
                    if op is _ADD:
                        ga = a._grad
                        a._grad = g if ga is stamp or ga is ZERO else ga + g
                        ga = b._grad
                        b._grad = g if ga is stamp or ga is ZERO else ga + g
                    elif op is _MUL:
                        a._grad += g * b._data
                        b._grad += g * a._data
                    elif op is _RELU:
                        if a._data > 0.0:
                            ga = a._grad
                            a._grad = g if ga is stamp or ga is ZERO else ga + g
                    elif b is None:
                        ga = op.rule(g, node._data, a._data)[0]
                        if ga.__class__ is not float:  # a user's rule: checked as data is
                            ga = check_number(ga, f"the derivative rule of {op.name}")
                        a._grad += ga
                    else:
                        ga, gb = op.rule(g, node._data, a._data, b._data)
                        if ga.__class__ is not float or gb.__class__ is not float:
                            ga = check_number(ga, f"the derivative rule of {op.name}")
                            gb = check_number(gb, f"the derivative rule of {op.name}")
                        a._grad += ga
                        b._grad += gb
                    # Leaves are not in the order (that saves an entry and a turn of this loop
                    # per edge into a leaf), so their sums are checked as terms arrive: once a
                    # sum is infinite or NaN no later term makes it finite again.
                    if a._op is None:
                        ga = a._grad
                        if ga - ga != 0.0:
                            raise gradient_error(a, ga)
                    if b is not None and b._op is None:
                        ga = b._grad
                        if ga - ga != 0.0:
                            raise gradient_error(b, ga)
            except BaseException as e:
                # A failed pass changes no .grad: every node gets back what it had (the
                # leaves are found again: they are not in the order).
                for n in walk((self,)):
                    n._grad = ZERO
                for i in range(0, len(saved), 2):
                    saved[i]._grad = saved[i + 1]
                if isinstance(e, (ArithmeticError, ValueError)) and \
                        not isinstance(e, DomainError):
                    raise derivative_error(node, e) from None
                raise

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0.0 on every node of the graph that ends here."""
        with _BACKWARD_LOCK:
            for node in topological_order(self):
                node._grad = ZERO

    def item(self) -> float:
        """The node's value as a Python float (``data``), as ``Tensor.item()``."""
        return self._data

    def detach(self) -> "Value":
        """A new leaf holding this node's value (and label), cut off from the graph: nothing
        flows back through it. Unlike ``Tensor.detach()`` it shares no storage: assigning the
        copy's ``data`` leaves this node alone."""
        return Value(self._data, self.label)

    @property
    def requires_grad(self) -> bool:
        """Always True: every node takes part in ``backward`` and gets a ``.grad``, constants
        lifted from numbers too. Read-only: for a node that stops the gradient use
        ``detach()``, for a block that records nothing ``no_grad()``."""
        return True


    # ---- the rest of arithmetic, in terms of the above or of one op each ---------------------
    def __neg__(self): return _node(ops.NEG, self, None, -self._data)
    def __pos__(self): return self

    def __radd__(self, other):
        other = _lift(other, _ADD, self)
        return _node(_ADD, other, self, other._data + self._data)

    def __sub__(self, other):
        if other.__class__ is not Value:
            other = _lift(other, _SUB, self)
        return _node(_SUB, self, other, self._data - other._data)

    def __rsub__(self, other):
        other = _lift(other, _SUB, self)
        return _node(_SUB, other, self, other._data - self._data)

    def __rmul__(self, other):
        other = _lift(other, _MUL, self)
        return _node(_MUL, other, self, other._data * self._data)

    def __truediv__(self, other): return self._binary(ops.DIV, other)
    def __rtruediv__(self, other): return self._rbinary(ops.DIV, other)

    def __rpow__(self, other) -> "Value":
        return Value._apply(ops.POW, _lift(other, ops.POW, self), self)

    def __abs__(self) -> "Value":
        return Value._apply(ops.abs_op(0.0), self)

    # Comparisons read the data, so max(), sorted() and `if loss < 0.1` work; equality stays
    # identity so nodes remain hashable.
    def __lt__(self, other): return self._data < _data(other)
    def __le__(self, other): return self._data <= _data(other)
    def __gt__(self, other): return self._data > _data(other)
    def __ge__(self, other): return self._data >= _data(other)

    def abs(self, kink: float = 0.0) -> "Value":
        """|x|; derivative sign(x), and ``kink`` at 0 (0 by default, as in PyTorch)."""
        return Value._apply(ops.abs_op(kink), self)

    def exp(self) -> "Value":
        """e^x; derivative e^x."""
        return Value._apply(ops.EXP, self)

    def log(self) -> "Value":
        """Natural log, for x > 0; derivative 1/x."""
        return Value._apply(ops.LOG, self)

    def sqrt(self) -> "Value":
        """Square root, for x >= 0; derivative 1/(2 sqrt x)."""
        return Value._apply(ops.SQRT, self)

    def tanh(self) -> "Value":
        """tanh x; derivative 1 - tanh^2 x."""
        return Value._apply(ops.TANH, self)

    def sigmoid(self) -> "Value":
        """1/(1+e^-x); derivative s(1-s)."""
        return Value._apply(ops.SIGMOID, self)

    def leaky_relu(self, alpha: float = 0.01, kink: float | None = None) -> "Value":
        """x for x>0 else alpha*x; derivative at 0 is ``kink`` (``alpha`` by default)."""
        return Value._apply(ops.leaky_relu(alpha, kink), self)

    def softplus(self) -> "Value":
        """log(1+e^x), computed without overflow; derivative sigmoid(x)."""
        return Value._apply(ops.SOFTPLUS, self)

    def swish(self, beta: float = 1.0) -> "Value":
        """x * sigmoid(beta x); derivative s + beta x s (1-s)."""
        return Value._apply(ops.swish(beta), self)

    def sin(self) -> "Value":
        """sin x; derivative cos x."""
        return Value._apply(ops.SIN, self)

    def cos(self) -> "Value":
        """cos x; derivative -sin x."""
        return Value._apply(ops.COS, self)

    def tan(self) -> "Value":
        """tan x; derivative 1 + tan^2 x."""
        return Value._apply(ops.TAN, self)

    def atan(self) -> "Value":
        """arctan x; derivative 1/(1 + x^2)."""
        return Value._apply(ops.ATAN, self)

    def erf(self) -> "Value":
        """The error function; derivative 2/sqrt(pi) e^(-x^2)."""
        return Value._apply(ops.ERF, self)

    def sign(self) -> "Value":
        """-1, 0 or 1; derivative 0 (as in PyTorch)."""
        return Value._apply(ops.SIGN, self)

    def elu(self, alpha: float = 1.0) -> "Value":
        """x for x > 0 else alpha (e^x - 1); derivative 1, or alpha e^x for x <= 0."""
        return Value._apply(ops.elu(alpha), self)

    def selu(self) -> "Value":
        """scale * elu(x, alpha) with the self-normalising constants of torch.nn.SELU."""
        return Value._apply(ops.SELU, self)

    def gelu(self) -> "Value":
        """x * Phi(x), Phi the standard normal distribution function (exact, with erf)."""
        return Value._apply(ops.GELU, self)

    def softsign(self) -> "Value":
        """x / (1 + |x|); derivative 1/(1 + |x|)^2."""
        return Value._apply(ops.SOFTSIGN, self)

    def mish(self) -> "Value":
        """x * tanh(softplus(x))."""
        return Value._apply(ops.MISH, self)

    # ---- read-only views ---------------------------------------------------------------------
    # data and grad are properties over slots, so an assignment is checked like the
    # constructor's argument (optimisers and hand-written updates assign them); the engine
    # itself reads and writes the slots.
    @property
    def data(self) -> float:
        """The node's value, a finite float; settable (an update step assigns it)."""
        return self._data

    @data.setter
    def data(self, x: Number) -> None:
        global _CLOCK
        if self._op is not None:
            raise AttributeError(
                f"cannot assign .data of the op node {describe(self)}: its value is its op's "
                "result; assign a leaf's .data and run the forward pass again, or use "
                ".detach() for a new leaf holding a value")
        x = check_assigned(self, "data", x)
        self._data = x
        # Data first, then the clock: a node made in between reads the new value and is
        # refused later all the same (a refusal, never a wrong number).
        _CLOCK += 1
        self._version = _CLOCK

    @property
    def grad(self) -> float:
        """d(output)/d(this node) from the latest ``backward``, a finite float; settable (set
        it to 0.0 to zero it)."""
        return self._grad

    @grad.setter
    def grad(self, x: Number) -> None:
        g = check_assigned(self, "grad", x)
        # zeroing by hand gives the shared zero, which backward tells from a grad by identity
        self._grad = ZERO if g == 0.0 and math.copysign(1.0, g) > 0.0 else g

    @property
    def label(self) -> str:
        """The node's name in reprs, pictures and explanations (``""`` for none); settable."""
        m = self._meta
        if m is None:
            return ""
        return m if m.__class__ is str else m[0]

    @label.setter
    def label(self, name: str) -> None:
        if name.__class__ is not str:
            raise TypeError(f"Value label must be a str, got {type(name).__name__}: {name!r}")
        m = self._meta
        self._meta = (name, m[1]) if m.__class__ is tuple else (name or None)

    @property
    def op(self) -> str:
        """The name of the op that made this node; ``""`` for a leaf."""
        return self._op.name if self._op is not None else ""

    @property
    def primitive(self) -> Op | None:
        """The op record (forward, rule, formula) that made this node; ``None`` for a leaf."""
        return self._op

    @property
    def parents(self) -> tuple:
        """The op's inputs, in order, duplicates kept (``a * a`` has two parents)."""
        if self._op is None:
            return ()
        return (self._a,) if self._b is None else (self._a, self._b)

    @property
    def scope(self) -> tuple:
        """The names of the :func:`scope` blocks this node was made in, outermost first."""
        m = self._meta
        return m[1] if m.__class__ is tuple else ()

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    def __repr__(self) -> str:
        s = f"Value(data={self.data!r}, grad={self.grad!r}"
        if self._op is not None:
            s += f", op={self._op.name!r}"
        return s + (f", label={self.label!r})" if self.label else ")")

    def __format__(self, spec: str) -> str:
        """``f"{v:.4f}"`` formats the value (``data``) as a float; ``f"{v}"`` is the repr."""
        return format(self._data, spec) if spec else repr(self)

    def __float__(self) -> float:
        return self._data

    # ---- pickle and copy ---------------------------------------------------------------------
    def __reduce__(self):
        """Pickle saves the whole graph that ends here as one flat table: no recursion, so a
        chain of any depth pickles, and ops by name (their records hold lambdas). Values
        pickled apart share no nodes when loaded; pickle them in one graph, or deep-copy."""
        return (_unpickle, flatten(self, Value))

    def __deepcopy__(self, memo: dict) -> "Value":
        """A copy of the graph that ends here, node by node, iteratively; nodes already copied
        in the same ``deepcopy`` call are reused, so copies of two outputs share their
        copied inputs. Op records are immutable, so shared, not copied. Each copy has its
        node's class (an ``nn.Parameter`` stays one)."""
        for node in topological_order(self):
            if id(node) in memo:
                continue
            new = _new(node.__class__)
            new._data, new._grad, new._op, new._meta = node._data, node._grad, node._op, node._meta
            new._version = node._version
            new._a = None if node._a is None else memo[id(node._a)]
            new._b = None if node._b is None else memo[id(node._b)]
            memo[id(node)] = new
        return memo[id(self)]

    def __copy__(self) -> "Value":
        """A new node of the same class with the same value, grad, label, op and the very same
        parents."""
        new = _new(self.__class__)
        new._data, new._grad, new._op, new._meta = self._data, self._grad, self._op, self._meta
        new._a, new._b, new._version = self._a, self._b, self._version
        return new

    # ---- building nodes ------------------------------------------------------------------------
    @staticmethod
    def _apply(op: Op, a: "Value", b: "Value | None" = None) -> "Value":
        """Run ``op`` forward on one or two nodes and record the result as a new node."""
        try:
            data = op.fn(a._data) if b is None else op.fn(a._data, b._data)
        except ZeroDivisionError:
            raise forward_error(op, (a, b), "division by zero", True, DivisionByZero) from None
        except OverflowError:
            raise forward_error(op, (a, b), "the result overflows a float", False,
                                Overflow) from None
        except (ValueError, TypeError) as e:
            raise forward_error(op, (a, b), f"undefined ({e})") from None
        if data.__class__ is not float:  # a user's op may give an int, a numpy float, 1j...
            data = check_number(data, f"the result of {op.name}")
        return _node(op, a, b, data)

    def _binary(self, op: Op, other) -> "Value":
        if other.__class__ is not Value:
            other = _lift(other, op, self)
        return Value._apply(op, self, other)

    def _rbinary(self, op: Op, other) -> "Value":
        return Value._apply(op, _lift(other, op, self), self)


_new = object.__new__
# backward marks the nodes it walks with a stamp of its own and sums into their grads: two
# passes at once over a shared subgraph would mix both. One pass at a time, in any thread.
_BACKWARD_LOCK = threading.RLock()
_ADD, _SUB, _MUL, _RELU = ops.ADD, ops.SUB, ops.MUL, ops.relu(0.0)


def _node(op: Op, a: Value, b: "Value | None", data: float) -> Value:
    """A new op node; refuses an infinite or NaN result (e.g. 1e200 * 1e200)."""
    if data - data != 0.0:
        raise not_finite(op, (a, b), data)
    out = _new(Value)
    out._data = data
    out._grad = ZERO
    if _NO_GRADS:
        recording, _, out._meta = _MODE.get()
        if not recording:  # inside no_grad(): a leaf holding the result
            out._op = out._a = out._b = None
            out._version = 0
            return out
    else:
        out._meta = _MODE.get()[2] if _SCOPES else None
    out._op = op
    out._a = a
    out._b = b
    out._version = _CLOCK
    return out


def _unpickle(keys: tuple, records: tuple) -> Value:
    return rebuild(lambda cls: _new(cls or Value), keys, records)


def _lift(x, op: Op, other: "Value | None" = None) -> Value:
    """A number as a constant leaf; anything else is refused, naming the op and the operand."""
    if isinstance(x, Value):
        return x
    if x.__class__ is float and x - x == 0.0:  # the common constant skips the constructor
        leaf = _new(Value)
        leaf._data = x
        leaf._grad = ZERO
        leaf._op = leaf._a = leaf._b = None
        leaf._meta = _MODE.get()[2] if _SCOPES else None
        leaf._version = 0
        return leaf
    if isinstance(x, bool) or not isinstance(x, (int, float)) or x - x != 0:
        raise operand_error(x, op, other)
    return Value(x)


def _value_or_none(x) -> "Value | None":
    return x if isinstance(x, Value) else None


def _data(x) -> float:
    return x._data if isinstance(x, Value) else x


def apply(op: Op, *inputs: Union[Value, Number]) -> Value:
    """Apply an op record to Values (numbers become constant leaves): the way to use a
    primitive of your own, as ``torch.autograd.Function.apply`` is in PyTorch.

    An :class:`~microgradnet.ops.Op` gives the float forward ``fn`` and the rule
    ``rule(g, out, *args) -> tuple`` of one gradient per input, written with arithmetic (and
    ``ops`` dispatchers such as ``exp``), so it works on floats, on Values (higher derivatives)
    and on formulas (explanations write its derivative from the rule).

    Example:
        >>> from microgradnet.ops import Op
        >>> cube = Op("cube", lambda a: a ** 3, lambda g, out, a: (g * 3 * a * a,), 1)
        >>> x = Value(2.0)
        >>> y = apply(cube, x); y.backward()
        >>> y.data, x.grad, cube.deriv
        (8.0, 12.0, ('3*a*a',))
    """
    if not isinstance(op, Op):
        raise TypeError(f"apply: expected an Op record, got {type(op).__name__}")
    if len(inputs) != op.arity:
        raise TypeError(f"apply: {op.name} takes {op.arity} input(s), got {len(inputs)}")
    vs = [_lift(x, op) for x in inputs]
    return Value._apply(op, *vs)


def maximum(a: Union[Value, Number], b: Union[Value, Number], tie: float = 0.5) -> Value:
    """max(a, b) as one node; the gradient goes to the larger input, and on a tie ``a`` gets
    the fraction ``tie`` of it (0.5, as in PyTorch).

    Example:
        >>> m = maximum(Value(1.0), 0.0); m.data
        1.0
    """
    op = ops.maximum(tie)
    return Value._apply(op, _lift(a, op, _value_or_none(b)), _lift(b, op, _value_or_none(a)))


def minimum(a: Union[Value, Number], b: Union[Value, Number], tie: float = 0.5) -> Value:
    """min(a, b) as one node; the gradient goes to the smaller input (split by ``tie``)."""
    op = ops.minimum(tie)
    return Value._apply(op, _lift(a, op, _value_or_none(b)), _lift(b, op, _value_or_none(a)))


def topological_order(*roots: Value) -> list:
    """Every node reachable from ``roots``, each after all of its parents (inputs first).

    Iterative depth-first search, so graphs far deeper than the recursion limit work; parents
    are visited in order, so the order (and anything drawn from it) is deterministic. It
    changes nothing on the nodes.
    """
    for root in roots:
        if not isinstance(root, Value):
            raise TypeError(f"expected a Value, got {type(root).__name__}")
    return walk(roots)


def no_gc() -> CollectorPause:
    """A block in which CPython's cyclic garbage collector is paused: build and differentiate
    graphs inside it and the collector costs them nothing.

    Every node is an object the collector tracks, and while a graph grows the collector keeps
    rescanning it for reference cycles that graphs never make; on big graphs that is most of
    the forward pass (``scripts/bench_engine.py`` prints the share). ``backward`` and ``grad``
    pause it on their own; the forward pass is your code, so the block is yours to open.

    The collector is given back as it was when the outermost block closes (exceptions too, and
    across threads: it resumes when the last open block in any thread closes); cyclic garbage
    you make inside is collected soon after. Nothing changes outside a block. A block stays
    open while the code inside it is suspended: a generator that yields inside the block and
    is then dropped without being finished keeps the collector paused until it is closed or
    freed, and if it sits in a reference cycle only the paused collector could free it. So
    finish such generators (or ``close()`` them), or open the block around the loop instead.

    Example:
        >>> x = Value(2.0)
        >>> with no_gc():
        ...     y = sum(x * i for i in range(1000))
        ...     y.backward()
        >>> x.grad
        499500.0
    """
    return PAUSE


@contextmanager
def _mode(recording: bool, names: tuple) -> Iterator[None]:
    """Set what new nodes get in this thread or task for the block (see _MODE)."""
    global _SCOPES, _NO_GRADS
    token = _MODE.set((recording, names, ("", names) if names else None))
    scoped, off = int(bool(names)), int(not recording)
    with _MODES_LOCK:
        _SCOPES += scoped
        _NO_GRADS += off
    try:
        yield
    finally:
        with _MODES_LOCK:
            _SCOPES -= scoped
            _NO_GRADS -= off
        _MODE.reset(token)


def scope(name: str):
    """Tag every node made inside the block with ``name`` (nested blocks stack), so pictures
    can group a layer's or a neuron's nodes in one box. The names belong to the thread or
    asyncio task that opened the block (a context variable).

    Example:
        >>> with scope("layer1"):
        ...     y = Value(1.0) * 2
        >>> y.scope
        ('layer1',)
    """
    recording, names, _ = _MODE.get()
    return _mode(recording, names + (str(name),))


def no_grad():
    """A block in which ops record nothing: every node made inside is a leaf holding the
    result, as under ``torch.no_grad()`` (for evaluation, or an update written with Value
    arithmetic). It holds for the thread or asyncio task that opened it. ``backward`` and
    ``grad`` inside it still differentiate graphs built outside it.

    Example:
        >>> w = Value(2.0)
        >>> with no_grad():
        ...     y = w * 3
        >>> y.data, y.is_leaf
        (6.0, True)
    """
    return _mode(False, _MODE.get()[1])
