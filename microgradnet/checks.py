"""Numerical checks: finite-difference derivatives and gradient checks of first and second order.

Every function takes ``f``, a Python function of several Values that returns one Value, and the
point as numbers. Finite differences only evaluate ``f`` forward, so they are an oracle that does
not share code with the backward pass.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

from .engine import Value
from .gradients import grad

__all__ = ["numerical_grad", "numerical_hessian", "analytic_hessian", "one_sided", "gradcheck",
           "GradcheckError"]

Fn = Callable[..., Value]


class GradcheckError(AssertionError):
    """The analytic and the numerical derivative differ; the message shows both."""


def _eval(f: Fn, xs: Sequence[float]) -> float:
    out = f(*[Value(x) for x in xs])
    if not isinstance(out, Value):
        raise TypeError(f"f must return a Value, got {type(out).__name__}")
    return out.data


def _point(xs) -> list:
    if isinstance(xs, (int, float)):
        xs = [xs]
    return [float(x.data if isinstance(x, Value) else x) for x in xs]


def numerical_grad(f: Fn, xs: Sequence[float], h: float = 1e-6) -> list:
    """Central differences: df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h, error O(h^2).

    Args:
        f: function of ``len(xs)`` Values returning a Value.
        xs: the point (numbers or Values, whose data is used).
        h: the step.

    Returns:
        One float per input.

    Example:
        >>> [round(d, 6) for d in numerical_grad(lambda a, b: a * b, [2.0, 3.0])]
        [3.0, 2.0]
    """
    xs = _point(xs)
    out = []
    for i in range(len(xs)):
        up, down = list(xs), list(xs)
        up[i] += h
        down[i] -= h
        out.append((_eval(f, up) - _eval(f, down)) / (2 * h))
    return out


def one_sided(f: Fn, xs: Sequence[float], h: float = 1e-6) -> list:
    """Left and right derivatives per input, by second-order one-sided differences:
    right ~ (-3 f(x) + 4 f(x+h) - f(x+2h)) / 2h, left the mirror image.

    Returns:
        A list of ``(left, right)`` pairs, one per input. Where they differ, the function has
        a kink there and no derivative (e.g. ReLU at 0: (0.0, 1.0)).

    Example:
        >>> [(round(l, 6), round(r, 6)) for l, r in one_sided(lambda x: x.relu(), [0.0])]
        [(0.0, 1.0)]
    """
    xs = _point(xs)
    f0 = _eval(f, xs)

    def at(i: int, d: float) -> float:                  # f with input i moved by d
        p = list(xs)
        p[i] += d
        return _eval(f, p)

    out = []
    for i in range(len(xs)):
        right = (-3 * f0 + 4 * at(i, h) - at(i, 2 * h)) / (2 * h)
        left = (3 * f0 - 4 * at(i, -h) + at(i, -2 * h)) / (2 * h)
        out.append((left, right))
    return out


def numerical_hessian(f: Fn, xs: Sequence[float], h: float = 1e-4) -> list:
    """Second derivatives from values of ``f`` only, by central differences:
    d2f/dx_i dx_j ~ (f(++) - f(+-) - f(-+) + f(--)) / 4h^2 (and the 3-point rule on the
    diagonal). Error O(h^2).

    Returns:
        The Hessian as a list of rows.
    """
    xs = _point(xs)
    n = len(xs)
    f0 = _eval(f, xs)

    def at(*moves):
        """f with each ``(index, step)`` of ``moves`` applied to the point."""
        p = list(xs)
        for k, d in moves:
            p[k] += d
        return _eval(f, p)

    hess = [[0.0] * n for _ in range(n)]
    for i in range(n):
        hess[i][i] = (at((i, h)) - 2 * f0 + at((i, -h))) / (h * h)
        for j in range(i + 1, n):
            v = (at((i, h), (j, h)) - at((i, h), (j, -h))
                 - at((i, -h), (j, h)) + at((i, -h), (j, -h))) / (4 * h * h)
            hess[i][j] = hess[j][i] = v
    return hess


def analytic_hessian(f: Fn, xs: Sequence[float]) -> list:
    """Second derivatives by differentiating the gradient graph (``grad(create_graph=True)``)."""
    vs = [Value(x) for x in _point(xs)]
    first = grad(f(*vs), vs, create_graph=True)
    return [grad(g, vs) for g in first]


def _close(a: float, b: float, rtol: float, atol: float) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


def gradcheck(f: Fn, xs: Sequence[float], order: int = 2, rtol: float = 1e-5,
              atol: float = 1e-6, h1: float = 1e-6, h2: float = 1e-4) -> bool:
    """Compare the engine's first (and, with ``order=2``, second) derivatives of ``f`` at
    ``xs`` with central differences.

    Args:
        f: function of Values returning a Value.
        xs: the point.
        order: 1 for gradients only, 2 to also check the Hessian.
        rtol, atol: tolerance, as in ``math.isclose``.
        h1, h2: finite-difference steps for first and second order.

    Returns:
        True when every derivative agrees.

    Raises:
        GradcheckError: naming the derivative, the analytic and the numerical value.

    Example:
        >>> gradcheck(lambda x, y: (x * y).tanh(), [0.3, -0.7])
        True
    """
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    xs = _point(xs)
    vs = [Value(x) for x in xs]
    analytic = grad(f(*vs), vs)
    numeric = numerical_grad(f, xs, h1)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        if not _close(a, n, rtol, atol):
            raise GradcheckError(f"df/dx{i} at {xs}: analytic {a!r} != numerical {n!r} "
                                 f"(difference {a - n:.3g}, rtol={rtol}, atol={atol})")
    if order == 2:
        ah = analytic_hessian(f, xs)
        nh = numerical_hessian(f, xs, h2)
        for i in range(len(xs)):
            for j in range(len(xs)):
                a, n = ah[i][j], nh[i][j]
                if not _close(a, n, rtol, atol):
                    raise GradcheckError(
                        f"d2f/dx{i}dx{j} at {xs}: analytic {a!r} != numerical {n!r} "
                        f"(difference {a - n:.3g}, rtol={rtol}, atol={atol})")
    return True
