"""The engine's checks and messages: what a number must be to enter a graph, and the errors
that name the node and the op when something is out of bounds.

They live apart from ``engine.py`` so the engine reads as the chain rule; every check here is
called by the engine at the one place a bad number could enter (a constructor, an assignment,
a forward result, a local derivative), so a wrong number never travels silently.
"""
from __future__ import annotations

from typing import Sequence

from .ops import DivisionByZero, DomainError, Op, Overflow

__all__ = ["describe", "check_number", "check_assigned", "forward_error", "derivative_error",
           "operand_error", "not_finite", "error_class", "StaleGraphError", "stale_error",
           "gradient_error"]


class StaleGraphError(RuntimeError):
    """A leaf's ``.data`` was assigned after an op node of the graph read it: the graph holds
    values computed from data that is gone, so its gradients would belong to no point
    (PyTorch raises a RuntimeError there too: "modified by an inplace operation")."""


def describe(x) -> str:
    """``Value(data=2.0, label='w')``: a node as error messages name it."""
    return f"Value(data={x.data!r}" + (f", label={x.label!r})" if x.label else ")")


def check_number(data, what: str = "Value") -> float:
    """``data`` as a finite float, or a TypeError / ValueError that says what was given."""
    if isinstance(data, bool):
        raise TypeError(f"{what} needs a real number, got the bool {data!r}; "
                        f"write {float(data)!r} if a number is meant")
    if not isinstance(data, (int, float)):
        if getattr(getattr(data, "dtype", None), "kind", None) == "b":  # numpy's bool
            raise TypeError(f"{what} needs a real number, got the {type(data).__name__} "
                            f"{data!r}; write {float(data)!r} if a number is meant")
        if hasattr(data, "__float__") and not isinstance(data, (str, bytes, complex)):
            # numpy scalars, fractions, decimals: real numbers in another type.
            data = float(data)
        else:
            raise TypeError(f"{what} needs a real number (int or float), got "
                            f"{type(data).__name__}: {data!r}")
    try:
        data = float(data)
    except OverflowError:
        raise ValueError(f"{what} needs a finite number, got an int too large for a float") \
            from None
    if data - data != 0.0:
        raise ValueError(f"{what} needs a finite number, got {data!r}")
    return data


def check_assigned(node, attr: str, x) -> float:
    """A number assigned to ``node.data`` or ``node.grad``, as a finite float."""
    if x.__class__ is float and x - x == 0.0:  # the common case skips the call
        return x
    return check_number(x, f"{describe(node)}.{attr}")


def error_class(e: Exception | None = None, x: float | None = None) -> type:
    """The DomainError for a float exception ``e`` or a non-finite float ``x``: one that
    ``except ZeroDivisionError`` or ``except OverflowError`` catches where Python's own would."""
    if isinstance(e, ZeroDivisionError):
        return DivisionByZero
    if isinstance(e, OverflowError) or (x is not None and x == x):  # x infinite, not NaN
        return Overflow
    return DomainError


def forward_error(op: Op, args: Sequence, why: str, domain: bool = True,
                  kind: type = DomainError) -> DomainError:
    """An op's forward left its domain (or its result is not finite): names op and operands."""
    operands = ", ".join(describe(a) for a in args if a is not None)
    need = f"; it needs {op.domain}" if op.domain and domain else ""
    return kind(f"{op.name}({operands}): {why}{need}")


def not_finite(op: Op, args: Sequence, data: float) -> DomainError:
    """A forward result that is infinite (an Overflow) or NaN."""
    return forward_error(op, args, f"the result is {data!r}, not a finite number", False,
                         error_class(x=data))


def derivative_error(node, e: Exception) -> DomainError:
    """A node's local derivative is undefined or infinite where the gradient needs it."""
    operands = ", ".join(describe(p) for p in node.parents)
    return error_class(e)(f"the derivative of {node.op}({operands}) is undefined or infinite "
                          f"there ({e}); the node is {describe(node)}")


def operand_error(x, op: Op, other=None) -> Exception:
    """A number that cannot be lifted to a constant leaf: a TypeError or a ValueError."""
    with_ = f"{describe(other)} with " if other is not None else "a Value with "
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return TypeError(f"{op.name}: cannot combine {with_}{type(x).__name__} {x!r}; "
                         "use a number or a Value")
    return ValueError(f"{op.name}: cannot combine {with_}{x!r}; it needs a finite number")


def stale_error(node, leaf, shown: bool = False) -> StaleGraphError:
    """``leaf`` was assigned after the op node ``node`` read it; ``shown``: the graph was to be
    drawn or explained, not differentiated."""
    why = (f"the leaf {describe(leaf)} was assigned after the node {describe(node)} (op "
           f"{node.op!r}) read it: the graph's values come from the old data. ")
    if shown:
        return StaleGraphError(
            "this graph cannot be drawn or explained: " + why + "Draw or explain it before "
            "changing .data, or run the forward pass again")
    return StaleGraphError(
        why + "Run the forward pass again after changing .data (an optimiser step between "
        "backward and the next forward pass is fine)")


def gradient_error(node, g: float) -> DomainError:
    """The gradient ``g`` reaching ``node`` is infinite or NaN (Overflow for an infinity)."""
    return error_class(x=g)(f"the gradient reaching {describe(node)} is {g!r}")
