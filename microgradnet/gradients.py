"""Gradients that leave ``.grad`` alone: the reverse sweep node by node, and ``grad``.

:func:`sweep` is the chain rule as a walk that shows its work, one :class:`Visit` per node;
:func:`grad` (PyTorch's ``torch.autograd.grad`` for scalars, higher orders included) and the
explanations, pictures and slip diagnoses are built on it. ``Value.backward`` in
:mod:`microgradnet.engine` is the same loop written out for speed, and a test holds the two
equal to the last bit.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Iterator, Literal, Sequence, Union, overload

from ._checks import (check_number, derivative_error, describe, error_class, gradient_error,
                      stale_error)
from ._walk import PAUSE, first_stale
from .engine import Number, Value, topological_order

__all__ = ["Visit", "sweep", "grad", "local_derivatives"]


class Visit:
    """A node as the reverse sweep reaches it: its gradient (complete: every consumer has sent
    its part) and what it sends back along each of its edges.

    Attributes:
        node: the node.
        grad: d root / d node (a float, or a Value with ``create_graph``).
        sent: per operand, in order, the gradient sent to it, ``grad * local``; empty for a
            leaf, and for a node whose gradient is 0 (it sends nothing, as in ``backward``).
    """
    __slots__ = ("node", "grad", "sent")

    def __init__(self, node: Value, grad, sent: tuple) -> None:
        self.node, self.grad, self.sent = node, grad, sent

    @property
    def edges(self) -> list:
        """``(parent, position, local, contribution)`` per edge the node sent along, ``local``
        being d node / d parent (``nan`` where the rule is undefined at the point)."""
        n = self.node
        return [(p, i, loc, c) for i, (p, loc, c) in
                enumerate(zip(n.parents, local_derivatives(n), self.sent))]

    def __repr__(self) -> str:
        return f"Visit({self.node!r}, grad={self.grad!r})"


def local_derivatives(node: Value) -> tuple:
    """d node / d operand for each operand of ``node`` (one per edge, duplicates kept): the op's
    rule at an incoming gradient of 1; ``nan`` where the rule is undefined there (sqrt'(0))."""
    op = node._op
    if op is None:
        return ()
    try:
        return tuple(float(d) for d in op.rule(1.0, node._data, *[p._data for p in node.parents]))
    except (ArithmeticError, ValueError):
        return tuple(math.nan for _ in node.parents)


def sweep(root: Value, seed: float = 1.0, create_graph: bool = False,
          order: Sequence[Value] | None = None) -> Iterator[Visit]:
    """The backward pass as a walk that shows its work: yields a :class:`Visit` per node, in
    reverse topological order, without touching any ``.grad``.

    This is the chain rule node by node: a node's gradient is the sum over its consumers of
    (consumer's gradient x local derivative), complete when the sweep reaches it. ``grad``,
    explanations and pictures are built on it; ``backward`` is the same loop written out.

    Args:
        root: the output node.
        seed: d root / d root.
        create_graph: run the rules on Values, so every gradient is a node that can be
            differentiated again; otherwise on floats, skipping a node whose gradient is 0
            (as ``backward`` does, even where its local derivative is undefined).
        order: the topological order of ``root`` if already known.

    Raises:
        DomainError: a gradient is infinite or NaN, or a local derivative undefined where a
            non-zero gradient needs it; names the node.
        StaleGraphError: a leaf was assigned after an op of the graph read it.

    Example:
        >>> x = Value(3.0, "x"); y = x * x + x
        >>> [(v.node.label or v.node.op, v.grad) for v in sweep(y)]
        [('+', 1.0), ('*', 1.0), ('x', 7.0)]
    """
    if not isinstance(root, Value):
        raise TypeError(f"sweep: the root must be a Value, got {type(root).__name__}")
    order = topological_order(root) if order is None else order
    stale = first_stale(order)
    if stale is not None:
        raise stale_error(*stale)
    seed_v = check_number(seed, "sweep(seed)")
    grads: dict = {root: Value(seed_v) if create_graph else seed_v}
    for node in reversed(order):
        g = grads.get(node)
        if g is None:
            continue
        op = node._op
        if not create_graph:
            if g - g != 0.0:
                raise gradient_error(node, g)
            if op is None or g == 0.0:
                yield Visit(node, g, ())
                continue
        elif op is None:
            yield Visit(node, g, ())
            continue
        ps = node.parents
        try:
            if create_graph:
                sent = op.rule(g, node, *ps)
            else:
                sent = op.rule(g, node._data, *[p._data for p in ps])
                if any(s.__class__ is not float for s in sent):  # a user's rule, as backward
                    sent = tuple(check_number(s, f"the derivative rule of {op.name}")
                                 for s in sent)
        except (ArithmeticError, ValueError) as e:
            if not (create_graph and g._data == 0.0):
                raise derivative_error(node, e) from None
            # A zero gradient sends nothing, as in backward, even where the local slope is
            # undefined (sqrt at 0 behind a max that passes it nothing): constant zeros.
            sent = tuple(Value(0.0) for _ in ps)
        for p, gp in zip(ps, sent):
            prev = grads.get(p)
            grads[p] = gp if prev is None else prev + gp
        yield Visit(node, g, tuple(sent))


_Outputs = Union[Value, Sequence[Value]]
_Seeds = Union[Number, Sequence[Number], None]


# What grad returns follows from its arguments: one gradient for one input, a list for a
# sequence; floats, or Values with create_graph; None only for an unused input with
# allow_unused=True. The overloads say so to a type checker.
@overload
def grad(outputs: _Outputs, inputs: Value, grad_outputs: _Seeds = ...,
         retain_graph: bool | None = ..., create_graph: Literal[False] = ...,
         allow_unused: Literal[False] | None = ..., materialize_grads: bool = ...) -> float: ...
@overload
def grad(outputs: _Outputs, inputs: Value, grad_outputs: _Seeds = ...,
         retain_graph: bool | None = ..., *, create_graph: Literal[True],
         allow_unused: Literal[False] | None = ..., materialize_grads: bool = ...) -> Value: ...
@overload
def grad(outputs: _Outputs, inputs: Iterable[Value], grad_outputs: _Seeds = ...,
         retain_graph: bool | None = ..., create_graph: Literal[False] = ...,
         allow_unused: Literal[False] | None = ...,
         materialize_grads: bool = ...) -> list[float]: ...
@overload
def grad(outputs: _Outputs, inputs: Iterable[Value], grad_outputs: _Seeds = ...,
         retain_graph: bool | None = ..., *, create_graph: Literal[True],
         allow_unused: Literal[False] | None = ...,
         materialize_grads: bool = ...) -> list[Value]: ...
@overload
def grad(outputs: _Outputs, inputs: Union[Value, Iterable[Value]], grad_outputs: _Seeds = ...,
         retain_graph: bool | None = ..., create_graph: bool = ...,
         allow_unused: bool | None = ..., materialize_grads: bool = ...) -> Any: ...


def grad(outputs: _Outputs, inputs: Union[Value, Iterable[Value]],
         grad_outputs: _Seeds = None,
         retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool | None = None,
         materialize_grads: bool = False) -> Union[float, Value, None, list]:
    """d outputs / d input for each input, without touching any ``.grad``: PyTorch's
    ``torch.autograd.grad`` for scalars.

    Args:
        outputs: the Value to differentiate, or a sequence of them (their gradients add up,
            each weighted by its entry of ``grad_outputs``).
        inputs: one Value or a sequence of them.
        grad_outputs: the weight of each output (d final / d output): 1.0 each when None; one
            number for a single output, else one per output.
        retain_graph: PyTorch's keyword, accepted and ignored: graphs are always kept.
        create_graph: if True the results are ``Value`` nodes built from the graph, so they can
            be differentiated again (to any order); otherwise floats.
        allow_unused: what an input that no output depends on gets. Left out (None): a zero,
            0.0 or ``Value(0.0)`` with ``create_graph`` -- unlike PyTorch, which raises,
            because d(constant)/dx = 0 is the answer a hand check wants (the second
            derivative of relu, of a linear layer). False: a ValueError naming the input, as
            in PyTorch. True: None, as in PyTorch. (An input the outputs reach only through
            zero slopes, a relu at rest, is used: its gradient is 0.0 in every case.)
        materialize_grads: with ``allow_unused=True``, a zero instead of None, as in PyTorch.

    Returns:
        One gradient for a single input Value, else a list in the order of ``inputs``
        (PyTorch returns a tuple in every case).

    Example:
        >>> x = Value(2.0)
        >>> d1 = grad(x ** 3, x, create_graph=True)    # 3x^2
        >>> d2 = grad(d1, x, create_graph=True)         # 6x
        >>> d1.data, d2.data, grad(d2, x)
        (12.0, 12.0, 6.0)
        >>> grad([x * x, x * 3], x, grad_outputs=[1.0, 2.0])   # 2x + 2*3
        10.0
    """
    single = isinstance(inputs, Value)
    xs: list = [inputs] if isinstance(inputs, Value) else list(inputs)
    for x in xs:
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs must be Values, got {type(x).__name__}")
    outs = [outputs] if isinstance(outputs, Value) else list(outputs) \
        if isinstance(outputs, (list, tuple)) else [outputs]
    for out in outs:
        if not isinstance(out, Value):
            raise TypeError(f"grad: outputs must be Values, got {type(out).__name__}")
    seeds = _grad_outputs(grad_outputs, len(outs))
    if materialize_grads and allow_unused is False:
        raise ValueError("grad: materialize_grads=True gives unused inputs a zero, so "
                         "allow_unused must be True or left out")
    zero_unused = allow_unused is None or materialize_grads
    wanted = set(xs)
    found: dict = {}
    used: set = set()
    with PAUSE:  # with create_graph the sweep builds a graph as big as the one it walks
        for out, seed in zip(outs, seeds):
            order = topological_order(out)
            used |= wanted.intersection(order)
            for v in sweep(out, seed, create_graph, order):
                if v.node in wanted:
                    prev = found.get(v.node)
                    if prev is None:
                        found[v.node] = v.grad
                        continue
                    total = found[v.node] = prev + v.grad
                    if not create_graph and total - total != 0.0:
                        # each output's part is finite (sweep checks it); their sum may not be
                        raise error_class(x=total)(
                            f"grad: the gradient of {describe(v.node)} summed over the outputs "
                            f"is {total!r}")
    result = []
    for i, x in enumerate(xs):
        g = found.get(x)
        if x not in used:
            if allow_unused is False:
                raise ValueError(f"grad: input {i}, {describe(x)}, is not used by the "
                                 "outputs (allow_unused=False)")
            g = (Value(0.0) if create_graph else 0.0) if zero_unused else None
        elif g is None:  # reached only through nodes whose gradient is 0
            g = Value(0.0) if create_graph else 0.0
        elif create_graph and not isinstance(g, Value):
            g = Value(g)
        result.append(g)
    return result[0] if single else result


def _grad_outputs(grad_outputs, n: int) -> list:
    """The seed of each of ``n`` outputs, as finite floats."""
    if grad_outputs is None:
        return [1.0] * n
    if not isinstance(grad_outputs, (list, tuple)):
        if n != 1:
            raise ValueError(f"grad: {n} outputs need {n} grad_outputs, got one number")
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != n:
        raise ValueError(f"grad: {n} output(s) need {n} grad_outputs, got "
                         f"{len(grad_outputs)}")
    return [1.0 if g is None else check_number(g, f"grad(grad_outputs[{i}])")
            for i, g in enumerate(grad_outputs)]
