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

The names ending in ``_`` are PyTorch's in-place forms (``torch.nn.init``): they take a
layer's weight (a Value, or nested lists of Values), set each ``.data`` and return it, with
PyTorch's arguments (``kaiming_uniform_(w, a=0, mode="fan_in", nonlinearity="leaky_relu")``).

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
from typing import Callable, Sequence, Union

from .engine import Value

__all__ = [
    "Generator", "manual_seed", "default_generator", "get_rng", "fan_in_fan_out",
    "constant", "zeros", "uniform", "normal", "xavier_uniform", "xavier_normal",
    "glorot_uniform", "glorot_normal", "kaiming_uniform", "kaiming_normal", "he_uniform",
    "he_normal", "lecun_uniform", "lecun_normal", "INITIALISERS", "initialise",
    "calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "xavier_uniform_",
    "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
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
    not_a_shape = f"shape must be an int or a sequence of ints, got {shape!r}"
    if isinstance(shape, bool):         # an int to Python, not a size
        raise TypeError(not_a_shape)
    try:
        dims = (shape,) if isinstance(shape, int) else tuple(shape)
    except TypeError:
        raise TypeError(not_a_shape) from None
    for n in dims:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"shape must hold non-negative ints, got {dims!r}")
    return dims


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
INITIALISERS: dict[str, Callable[..., list]] = {
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


# ---- PyTorch's in-place forms ------------------------------------------------------------

def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain PyTorch recommends for an activation: 1 for linear, conv and sigmoid, 5/3 for
    tanh, sqrt 2 for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope 0.01 by default),
    3/4 for selu.

    Example:
        >>> calculate_gain("relu") == math.sqrt(2.0)
        True
    """
    linear = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _shape_of_values(tensor, who: str) -> tuple:
    if isinstance(tensor, Value):
        return ()
    if not isinstance(tensor, (list, tuple)) or not tensor:
        raise TypeError(f"{who}: expected a Value or nested lists of Values (a layer's "
                        f"weight), got {type(tensor).__name__}: {tensor!r}")
    inner = _shape_of_values(tensor[0], who)
    for t in tensor[1:]:
        if _shape_of_values(t, who) != inner:
            raise ValueError(f"{who}: the nested lists are ragged")
    return (len(tensor),) + inner


def _assign(tensor, numbers) -> None:
    if isinstance(tensor, Value):
        tensor.data = numbers
        return
    for t, n in zip(tensor, numbers):
        _assign(t, n)


def _in_place(who: str, tensor, make):
    shape = _shape_of_values(tensor, who)
    _assign(tensor, make(shape))
    return tensor


def uniform_(tensor, a: float = 0.0, b: float = 1.0, rng=None):
    """Fill with U(a, b) in place (PyTorch's defaults a=0, b=1); returns ``tensor``."""
    return _in_place("uniform_", tensor, lambda s: uniform(s, a, b, rng))


def normal_(tensor, mean: float = 0.0, std: float = 1.0, rng=None):
    """Fill with N(mean, std^2) in place; returns ``tensor``."""
    return _in_place("normal_", tensor, lambda s: normal(s, mean, std, rng))


def constant_(tensor, val: float):
    """Fill with ``val`` in place; returns ``tensor``."""
    return _in_place("constant_", tensor, lambda s: constant(s, val))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain: float = 1.0, rng=None):
    """:func:`xavier_uniform` in place; returns ``tensor``.

    Example:
        >>> w = [[Value(0.0), Value(0.0)]]
        >>> xavier_uniform_(w, rng=0) is w, abs(w[0][0].data) <= 1.0
        (True, True)
    """
    return _in_place("xavier_uniform_", tensor, lambda s: xavier_uniform(s, gain, rng))


def xavier_normal_(tensor, gain: float = 1.0, rng=None):
    """:func:`xavier_normal` in place; returns ``tensor``."""
    return _in_place("xavier_normal_", tensor, lambda s: xavier_normal(s, gain, rng))


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", rng=None):
    """:func:`kaiming_uniform` in place with PyTorch's arguments: gain
    ``calculate_gain(nonlinearity, a)`` (sqrt 2 for the defaults); returns ``tensor``."""
    gain = calculate_gain(nonlinearity, a)
    return _in_place("kaiming_uniform_", tensor, lambda s: kaiming_uniform(s, gain, mode, rng))


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", rng=None):
    """:func:`kaiming_normal` in place with PyTorch's arguments; returns ``tensor``."""
    gain = calculate_gain(nonlinearity, a)
    return _in_place("kaiming_normal_", tensor, lambda s: kaiming_normal(s, gain, mode, rng))
