"""Element-wise activations as modules; each applies one op record, which export reads.
"""
from __future__ import annotations

from .. import ops
from ..engine import Value, apply
from ..nested import as_values, is_seq
from .module import Module


_UNSET = object()   # LeakyReLU's alpha was not given (None is a bad value, refused)


class Elementwise(Module):
    """Applies ``self.fn`` to every Value of a (nested) input; numbers become Values."""

    def fn(self, v: Value) -> Value:
        op = self.op
        if op is None:      # Identity: no op to apply
            return v
        return apply(op, v)

    @property
    def op(self) -> "ops.Op | None":
        """The op record the module applies (``None`` for Identity): export reads it."""
        raise NotImplementedError

    def forward(self, x):
        if not is_seq(x):
            return self.fn(as_values(x))
        fn = self.fn

        def go(e):
            if is_seq(e):
                return [go(i) for i in e]
            return fn(e if isinstance(e, Value) else as_values(e))
        return go(x)


class Identity(Elementwise):
    """Returns its input unchanged (no nodes)."""
    op = None

    def forward(self, x):
        return x


class ReLU(Elementwise):
    """max(0, x) element-wise; derivative ``kink`` at 0 (0 as in PyTorch; some textbooks
    take 1)."""

    def __init__(self, kink: float = 0.0, name: str | None = None) -> None:
        super().__init__(name)
        ops.relu(kink)  # refuses a bool, a non-number, NaN or infinity, naming the parameter
        self.kink = float(kink)

    @property
    def op(self):
        return ops.relu(self.kink)

    def extra_repr(self):
        return "" if self.kink == 0.0 else f"kink={self.kink}"


class LeakyReLU(Elementwise):
    """x for x > 0 else negative_slope * x; derivative at 0 is ``kink`` (the slope by
    default). ``negative_slope`` is PyTorch's name; ``alpha`` (the engine's
    ``leaky_relu(alpha)``) is accepted as a keyword and kept as an attribute."""

    def __init__(self, negative_slope: float = 0.01, kink: float | None = None,
                 name: str | None = None, *, alpha=_UNSET) -> None:
        super().__init__(name)
        if alpha is not _UNSET:
            if negative_slope != 0.01:
                raise TypeError("LeakyReLU: give negative_slope or alpha, not both")
            negative_slope = alpha
        ops.leaky_relu(negative_slope, kink)  # refuses a bool, a non-number, NaN or infinity
        self.negative_slope = float(negative_slope)
        self.kink = None if kink is None else float(kink)

    @property
    def alpha(self) -> float:
        return self.negative_slope

    @property
    def op(self):
        return ops.leaky_relu(self.negative_slope, self.kink)

    def extra_repr(self):
        return (f"negative_slope={self.negative_slope}"
                + ("" if self.kink is None else f", kink={self.kink}"))


class Sigmoid(Elementwise):
    """1 / (1 + e^-x) element-wise."""

    op = ops.SIGMOID


class Tanh(Elementwise):
    """tanh x element-wise."""

    op = ops.TANH


class Softplus(Elementwise):
    """log(1 + e^x) element-wise."""

    op = ops.SOFTPLUS


class Swish(Elementwise):
    """x sigmoid(beta x) element-wise (SiLU for beta = 1)."""

    def __init__(self, beta: float = 1.0, name: str | None = None) -> None:
        super().__init__(name)
        ops.swish(beta)  # refuses a bool, a non-number, NaN or infinity
        self.beta = float(beta)

    @property
    def op(self):
        return ops.swish(self.beta)

    def extra_repr(self):
        return f"beta={self.beta}"


class SiLU(Swish):
    """x sigmoid(x) element-wise: PyTorch's ``nn.SiLU``, ``Swish`` with beta 1."""

    def __init__(self, name: str | None = None) -> None:
        super().__init__(1.0, name)

    def extra_repr(self):
        return ""
