"""Initialisers: seedable random numbers in the shapes layers need.

Every function returns plain floats in nested lists of the requested shape (a layer wraps them
in ``Value`` nodes). The shape convention is PyTorch's: a dense weight is ``(fan_out, fan_in)``
(one row per output unit), a convolution weight ``(out_channels, in_channels, kh, kw)``, so

- dense: ``fan_in = shape[1]``, ``fan_out = shape[0]``;
- convolution: ``fan_in = in_channels * kh * kw``, ``fan_out = out_channels * kh * kw``.

Randomness comes from a :class:`Generator` (a ``random.Random``). Pass ``rng=`` an int seed,
a Generator or a ``random.Random``; without one the module's default generator is used,
which :func:`manual_seed` reseeds. The default generator starts from seed 0, so a fresh
process is reproducible too.

Example:
    >>> w = xavier_uniform((2, 3), rng=1)
    >>> len(w), len(w[0])
    (2, 3)
    >>> w == xavier_uniform((2, 3), rng=1)
    True
"""
from __future__ import annotations

import math
import random
from typing import Sequence, Union

__all__ = [
    "Generator", "manual_seed", "default_generator", "get_rng", "fan_in_fan_out",
    "constant", "zeros", "uniform", "normal", "xavier_uniform", "xavier_normal",
    "glorot_uniform", "glorot_normal", "kaiming_uniform", "kaiming_normal", "he_uniform",
    "he_normal", "lecun_uniform", "lecun_normal", "INITIALISERS", "initialise",
]

Shape = Union[int, Sequence[int]]


class Generator(random.Random):
    """A seedable random-number generator (``random.Random`` with a readable seed).

    Args:
        seed: any int; the same seed gives the same numbers on every platform.

    Example:
        >>> Generator(3).uniform(-1, 1) == Generator(3).uniform(-1, 1)
        True
    """

    def __init__(self, seed: int | None = 0) -> None:
        self.initial_seed = seed
        super().__init__(seed)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the sequence from ``seed``; returns the generator."""
        self.initial_seed = seed
        self.seed(seed)
        return self

    def bernoulli(self, p: float) -> float:
        """1.0 with probability ``p``, else 0.0."""
        return 1.0 if self.random() < p else 0.0

    def __repr__(self) -> str:
        return f"Generator(seed={self.initial_seed!r})"


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Reseed the default generator (used whenever no ``rng`` is given); returns it."""
    return default_generator.manual_seed(seed)


def get_rng(rng: Union[None, int, random.Random] = None) -> random.Random:
    """The generator to use: ``None`` -> the default one, an int -> a new ``Generator(int)``,
    a ``random.Random`` (or Generator) -> itself."""
    if rng is None:
        return default_generator
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, int) and not isinstance(rng, bool):
        return Generator(rng)
    raise TypeError(f"rng must be None, an int seed or a random.Random, got "
                    f"{type(rng).__name__}: {rng!r}")


def _shape(shape: Shape) -> tuple:
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"shape must be an int or a sequence of ints, got {shape!r}") from None
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"shape must hold non-negative ints, got {shape!r}")
    return shape


def fan_in_fan_out(shape: Shape) -> tuple:
    """``(fan_in, fan_out)`` of a weight of this shape (see the module docstring).

    Example:
        >>> fan_in_fan_out((5, 1, 4, 4))
        (16, 80)
    """
    shape = _shape(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    field = 1
    for n in shape[2:]:
        field *= n
    return shape[1] * field, shape[0] * field


def _fill(shape: Shape, draw) -> list:
    shape = _shape(shape)
    if not shape:
        return draw()

    def build(dims):
        if len(dims) == 1:
            return [draw() for _ in range(dims[0])]
        return [build(dims[1:]) for _ in range(dims[0])]
    return build(shape)


def constant(shape: Shape, value: float) -> list:
    """Every entry equal to ``value``."""
    value = float(value)
    return _fill(shape, lambda: value)


def zeros(shape: Shape) -> list:
    """Every entry 0.0."""
    return constant(shape, 0.0)


def uniform(shape: Shape, a: float = -1.0, b: float = 1.0, rng=None) -> list:
    """Independent draws from U(a, b) (micrograd's neurons use U(-1, 1))."""
    if not a <= b:
        raise ValueError(f"uniform: need a <= b, got a={a!r}, b={b!r}")
    r = get_rng(rng)
    return _fill(shape, lambda: r.uniform(a, b))


def normal(shape: Shape, mean: float = 0.0, std: float = 1.0, rng=None) -> list:
    """Independent draws from N(mean, std^2)."""
    if std < 0:
        raise ValueError(f"normal: std must be >= 0, got {std!r}")
    r = get_rng(rng)
    return _fill(shape, lambda: r.gauss(mean, std))


def _fans(shape: Shape, who: str) -> tuple:
    """(fan_in, fan_out), refusing a shape with a zero in it: its variance would be 1/0."""
    fi, fo = fan_in_fan_out(shape)
    if fi == 0 or fo == 0:
        raise ValueError(f"{who}: shape {tuple(_shape(shape))} has a zero dimension, so "
                         f"fan_in={fi}, fan_out={fo}; the scale would divide by zero")
    return fi, fo


def xavier_uniform(shape: Shape, gain: float = 1.0, rng=None) -> list:
    """Xavier/Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)), so
    Var(w) = gain^2 * 2 / (fan_in + fan_out)."""
    fi, fo = _fans(shape, "xavier_uniform")
    a = gain * math.sqrt(6.0 / (fi + fo))
    return uniform(shape, -a, a, rng)


def xavier_normal(shape: Shape, gain: float = 1.0, rng=None) -> list:
    """Xavier/Glorot normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fi, fo = _fans(shape, "xavier_normal")
    return normal(shape, 0.0, gain * math.sqrt(2.0 / (fi + fo)), rng)


def _fan(shape: Shape, mode: str, who: str = "kaiming") -> int:
    fi, fo = _fans(shape, who)
    if mode == "fan_in":
        return fi
    if mode == "fan_out":
        return fo
    raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")


def kaiming_uniform(shape: Shape, gain: float = math.sqrt(2.0), mode: str = "fan_in",
                    rng=None) -> list:
    """He/Kaiming uniform: U(-a, a), a = gain * sqrt(3 / fan), so Var(w) = gain^2 / fan
    (= 2 / fan_in for ReLU, the default gain sqrt 2)."""
    a = gain * math.sqrt(3.0 / _fan(shape, mode, "kaiming_uniform"))
    return uniform(shape, -a, a, rng)


def kaiming_normal(shape: Shape, gain: float = math.sqrt(2.0), mode: str = "fan_in",
                   rng=None) -> list:
    """He/Kaiming normal: N(0, gain^2 / fan) (Var = 2 / fan_in for ReLU)."""
    return normal(shape, 0.0, gain / math.sqrt(_fan(shape, mode, "kaiming_normal")), rng)


def lecun_uniform(shape: Shape, rng=None) -> list:
    """LeCun uniform: U(-a, a), a = sqrt(3 / fan_in), so Var(w) = 1 / fan_in."""
    return kaiming_uniform(shape, gain=1.0, mode="fan_in", rng=rng)


def lecun_normal(shape: Shape, rng=None) -> list:
    """LeCun normal: N(0, 1 / fan_in) (the Var(w) = 1/N initialisation that keeps Var(z)
    equal to Var(x) through a linear layer)."""
    return kaiming_normal(shape, gain=1.0, mode="fan_in", rng=rng)


glorot_uniform = xavier_uniform
glorot_normal = xavier_normal
he_uniform = kaiming_uniform
he_normal = kaiming_normal

#: Initialisers by name, for the ``init=`` argument of layers.
INITIALISERS = {
    "uniform": uniform, "normal": normal, "zeros": zeros,
    "xavier_uniform": xavier_uniform, "xavier_normal": xavier_normal,
    "glorot_uniform": xavier_uniform, "glorot_normal": xavier_normal,
    "kaiming_uniform": kaiming_uniform, "kaiming_normal": kaiming_normal,
    "he_uniform": kaiming_uniform, "he_normal": kaiming_normal,
    "lecun_uniform": lecun_uniform, "lecun_normal": lecun_normal,
}


def initialise(init, shape: Shape, rng=None) -> list:
    """Weights of ``shape`` from ``init``: a name in :data:`INITIALISERS` or a callable
    ``init(shape, rng=...)``."""
    if isinstance(init, str):
        fn = INITIALISERS.get(init)
        if fn is None:
            raise ValueError(f"unknown initialiser {init!r}; choose one of "
                             f"{sorted(INITIALISERS)}")
        if fn is zeros:
            return zeros(shape)
        return fn(shape, rng=rng)
    if callable(init):
        return init(shape, rng=rng)
    raise TypeError(f"init must be a name or a callable, got {type(init).__name__}")
