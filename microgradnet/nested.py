"""Nested lists: the tensors of a scalar engine.

A vector is a list of Values (or numbers), a matrix a list of rows, an image a list of
channels of rows, a batch a list of samples. These functions read and build such lists for
the layers (:mod:`microgradnet.nn`), the losses (:mod:`microgradnet.functional`), the worked
examples and the tests, so the shape rules live in one place. Every walk is iterative or
bounded by the nesting depth, never by the number of elements.

Example:
    >>> m = values([[1.0, 2.0], [3.0, 4.0]], "W")
    >>> shape_of(m), m[1][0].label, data_of(transpose(m))
    ((2, 2), 'W[2,1]', [[1.0, 3.0], [2.0, 4.0]])
"""
from __future__ import annotations

import math
import random
from typing import Any, Iterable, Sequence, TypeGuard, Union

from .engine import Value

__all__ = ["is_seq", "shape_of", "depth_of", "fmt_shape", "flatten", "unflatten", "as_values",
           "values", "data_of", "random_like", "transpose", "matmul", "total", "max_diff"]

Shape = tuple


def is_seq(x: Any) -> TypeGuard[Union[list, tuple]]:
    """A list or tuple: one level of nesting."""
    return isinstance(x, (list, tuple))


def shape_of(x: Any) -> Shape:
    """The shape of a nested list (``()`` for a scalar).

    Raises:
        ValueError: the nesting is ragged (rows of different lengths).

    Example:
        >>> shape_of([[1, 2, 3], [4, 5, 6]])
        (2, 3)
    """
    if not is_seq(x):
        return ()
    shape: list[int] = []
    level = [x]
    while level and is_seq(level[0]):
        n = len(level[0])
        for e in level:
            if not is_seq(e) or len(e) != n:
                raise ValueError(f"ragged nested list: expected every entry at depth "
                                 f"{len(shape)} to be a list of length {n}")
        shape.append(n)
        level = [e for row in level for e in row]
        if n == 0:
            break
    for e in level:
        if is_seq(e):
            raise ValueError("ragged nested list: lists and scalars mixed at one depth")
    return tuple(shape)


def depth_of(x: Any) -> int:
    """How many levels of lists ``x`` has, read down its first entries (0 for a scalar)."""
    d = 0
    while is_seq(x):
        d += 1
        if not x:
            break
        x = x[0]
    return d


def fmt_shape(shape: Shape) -> str:
    """``(2, 3)`` -> ``"2x3"``; ``()`` -> ``"scalar"`` (for error messages)."""
    return "x".join(str(n) for n in shape) if shape else "scalar"


def flatten(x: Any) -> list:
    """The scalars of a nested list, row-major (a scalar gives a list of one)."""
    if not is_seq(x):
        return [x]
    out, stack = [], [iter(x)]
    while stack:
        for e in stack[-1]:
            if is_seq(e):
                stack.append(iter(e))
                break
            out.append(e)
        else:
            stack.pop()
    return out


def unflatten(flat: Sequence, like: Any) -> Any:
    """The scalars of ``flat`` put back, row-major, into the nesting of ``like``.

    Raises:
        ValueError: ``flat`` has a different number of scalars than ``like``.
    """
    n = len(flatten(like))
    if len(flat) != n:
        raise ValueError(f"unflatten: {len(flat)} values for a nested list of {n}")
    it = iter(flat)

    def fill(e):
        return [fill(i) for i in e] if is_seq(e) else next(it)
    return fill(like)


def as_values(x: Any) -> Any:
    """Numbers -> Values (once each, so a number used k times becomes one leaf, not k);
    Values are kept as they are.

    Raises:
        TypeError: an entry is neither a Value nor a real number.
    """
    if is_seq(x):
        return [as_values(e) for e in x]
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"expected a Value or a number, got {type(x).__name__}: {x!r}")
    return Value(x)


def values(data: Any, label: str = "") -> Any:
    """A nested list of numbers as Values labelled ``label[i,j,...]`` (indices from 1, as
    textbooks write them); unlabelled with ``label=""``."""
    def wrap(e, idx: tuple):
        if is_seq(e):
            return [wrap(x, idx + (i,)) for i, x in enumerate(e)]
        name = f"{label}[{','.join(str(k + 1) for k in idx)}]" if label else ""
        return Value(e, label=name)
    return wrap(data, ())


def data_of(x: Any) -> Any:
    """The floats of a nested list of Values (numbers pass through as floats)."""
    if is_seq(x):
        return [data_of(e) for e in x]
    return x.data if isinstance(x, Value) else float(x)


def random_like(rng: random.Random, *shape: int, lo: float = -1.0, hi: float = 1.0) -> list:
    """A nested list of floats of ``shape``, uniform in [lo, hi)."""
    if len(shape) == 1:
        return [rng.uniform(lo, hi) for _ in range(shape[0])]
    return [random_like(rng, *shape[1:], lo=lo, hi=hi) for _ in range(shape[0])]


def transpose(a: Sequence[Sequence]) -> list:
    """The transpose of a matrix (a list of rows)."""
    return [list(col) for col in zip(*a)]


def total(terms: Iterable):
    """The sum of Values or numbers starting from the first term, so ``n`` Values make
    ``n - 1`` nodes (the builtin ``sum`` starts from 0 and adds one more).

    Raises:
        ValueError: no terms.
    """
    it = iter(terms)
    try:
        acc = next(it)
    except StopIteration:
        raise ValueError("total: needs at least one term") from None
    for t in it:
        acc = acc + t
    return acc


def matmul(a: Sequence[Sequence], b: Sequence[Sequence]) -> list:
    """The matrix product of nested lists (Values or numbers).

    Raises:
        ValueError: the inner sizes differ.
    """
    if len(a[0]) != len(b):
        raise ValueError(f"matmul: shapes {len(a)}x{len(a[0])} and {len(b)}x{len(b[0])} "
                         "do not conform")
    return [[total(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))]
            for i in range(len(a))]


def max_diff(a: Any, b: Any) -> float:
    """The largest absolute element-wise difference of two nested lists (of Values or
    numbers); ``inf`` when their shapes differ."""
    if shape_of(a) != shape_of(b):
        return math.inf
    fa, fb = flatten(data_of(a)), flatten(data_of(b))
    return max((abs(x - y) for x, y in zip(fa, fb)), default=0.0)
