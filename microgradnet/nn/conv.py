"""Convolution (a cross-correlation, as every deep-learning library computes it), max and
average pooling, and ``Flatten``; images are channels x height x width nested lists.
"""
from __future__ import annotations

from .. import functional as F
from .. import init as _init
from ..engine import Value, maximum
from ..nested import as_values, flatten, fmt_shape, is_seq, shape_of
from .module import Module, Shape, _pair, _split_batch, _values
from .parameter import Parameter


def _conv_out(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


class Conv2d(Module):
    """2-D convolution (cross-correlation) over a channels x height x width input:

    ``y[f][i][j] = b[f] + sum_c sum_m sum_n W[f][c][m][n] * x[c][i*s + m - p][j*s + n - p]``

    with zero padding ``p`` (padded zeros add no nodes). Output size
    ``floor((H + 2p - k) / s) + 1`` per side.

    Args:
        in_channels, out_channels: channel counts.
        kernel_size, stride, padding: an int or an (height, width) pair.
        bias: one bias per output channel.
        init: initialiser name or function (fan_in = in_channels * kh * kw); biases start at 0.
        rng: seed or generator.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, init="xavier_uniform", rng=None,
                 name: str | None = None) -> None:
        super().__init__(name)
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"Conv2d: {what} must be a positive int, got {n!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"Conv2d: need kernel_size >= 1, stride >= 1, padding >= 0; got "
                             f"{kernel_size!r}, {stride!r}, {padding!r}")
        kh, kw = self.kernel_size
        w = _init.initialise(init, (out_channels, in_channels, kh, kw), rng)
        self.weight = [[[[Parameter(w[f][c][m][n], label=f"K[{f + 1},{c + 1},{m + 1},{n + 1}]")
                          for n in range(kw)] for m in range(kh)]
                        for c in range(in_channels)] for f in range(out_channels)]
        self.bias = ([Parameter(0.0, label=f"b[{f + 1}]") for f in range(out_channels)]
                     if bias else None)

    @classmethod
    def from_weights(cls, W, b=None, stride=1, padding=0, name: str | None = None) -> "Conv2d":
        """A Conv2d with given kernels ``W[f][c][m][n]`` (numbers or Values) and biases."""
        shape = shape_of(W)
        if len(shape) != 4 or 0 in shape:
            raise ValueError(f"Conv2d.from_weights: W must be out x in x kh x kw, got shape "
                             f"{fmt_shape(shape)}")
        if b is not None and (not is_seq(b) or len(b) != shape[0]):
            raise ValueError(f"Conv2d.from_weights: b must hold {shape[0]} biases, got {b!r}")
        self = cls(shape[1], shape[0], (shape[2], shape[3]), stride, padding,
                   bias=b is not None, init="zeros", name=name)
        self.register_parameter("weight", _values(W, None, "Conv2d.from_weights"))
        if b is not None:
            self.register_parameter("bias", _values(list(b), None, "Conv2d.from_weights"))
        return self

    def output_shape(self, input_shape: Shape) -> Shape:
        s = tuple(input_shape)
        if len(s) != 3 or s[0] != self.in_channels:
            raise ValueError(f"{self.display_name}: expected an input of shape "
                             f"{self.in_channels}xHxW, got {fmt_shape(s)}")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        ho, wo = _conv_out(s[1], kh, sh, ph), _conv_out(s[2], kw, sw, pw)
        if ho < 1 or wo < 1:
            raise ValueError(f"{self.display_name}: input {fmt_shape(s)} is smaller than the "
                             f"kernel {kh}x{kw} (padding {ph}x{pw})")
        return (self.out_channels, ho, wo)

    def _one(self, x) -> list:
        _, Ho, Wo = self.output_shape(shape_of(x))
        H, Wd = len(x[0]), len(x[0][0])
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        cin = self.in_channels
        out = []
        for f in range(self.out_channels):
            Wf = self.weight[f]
            bf = self.bias[f] if self.bias is not None else None
            plane = []
            for i in range(Ho):
                row_out = []
                r0 = i * sh - ph
                for j in range(Wo):
                    c0 = j * sw - pw
                    acc = None
                    for c in range(cin):
                        Xc, Wfc = x[c], Wf[c]
                        for m in range(kh):
                            r = r0 + m
                            if r < 0 or r >= H:
                                continue
                            xrow, wrow = Xc[r], Wfc[m]
                            for n in range(kw):
                                col = c0 + n
                                if 0 <= col < Wd:
                                    t = wrow[n] * xrow[col]
                                    acc = t if acc is None else acc + t
                    if bf is not None:
                        acc = bf * 1.0 if acc is None else acc + bf
                    elif acc is None:
                        acc = Value(0.0)
                    row_out.append(acc)
                plane.append(row_out)
            out.append(plane)
        return out

    def forward(self, x):
        samples, batch = _split_batch(self, x, 3)
        out = [self._one(as_values(s)) for s in samples]
        return out if batch else out[0]

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")


class _Pool2d(Module):
    _kind = ""

    def __init__(self, kernel_size, stride=None, name: str | None = None) -> None:
        super().__init__(name)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")
        if min(self.kernel_size) < 1 or min(self.stride) < 1:
            raise ValueError(f"{type(self).__name__}: kernel_size and stride must be >= 1, "
                             f"got {kernel_size!r}, {stride!r}")

    def output_shape(self, input_shape: Shape) -> Shape:
        s = tuple(input_shape)
        if len(s) != 3:
            raise ValueError(f"{self.display_name}: expected an input of shape CxHxW, got "
                             f"{fmt_shape(s)}")
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        ho, wo = _conv_out(s[1], kh, sh, 0), _conv_out(s[2], kw, sw, 0)
        if ho < 1 or wo < 1:
            raise ValueError(f"{self.display_name}: input {fmt_shape(s)} is smaller than the "
                             f"window {kh}x{kw}")
        return (s[0], ho, wo)

    def _reduce(self, window: list) -> Value:
        raise NotImplementedError

    def _one(self, x) -> list:
        C, Ho, Wo = self.output_shape(shape_of(x))
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return [[[self._reduce([x[c][i * sh + m][j * sw + n]
                                for m in range(kh) for n in range(kw)])
                  for j in range(Wo)] for i in range(Ho)] for c in range(C)]

    def forward(self, x):
        samples, batch = _split_batch(self, x, 3)
        out = [self._one(as_values(s)) for s in samples]
        return out if batch else out[0]

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    """The maximum of each window (stride = kernel size by default, no padding). The gradient
    goes to the window's largest input; on a tie, to the first in row-major order (as
    PyTorch does).

    The window is reduced with a chain of ``maximum(acc, v, tie=1.0)`` nodes (a tie goes
    wholly to ``acc``, the earlier entries), never with Python's ``max()`` on ``.data``, so the
    graph has the same structure for any input and can be replayed on new values
    (:mod:`microgradnet.replay`)."""

    def _reduce(self, window):
        acc = window[0]
        for v in window[1:]:
            acc = maximum(acc, v, tie=1.0)
        return acc


class AvgPool2d(_Pool2d):
    """The mean of each window (stride = kernel size by default, no padding)."""

    def _reduce(self, window):
        return F.sum(window) / len(window)


class Flatten(Module):
    """A channels x height x width sample (or any ``sample_dims``-deep nesting) as one flat
    list in row-major order (channel, then row, then column), like ``torch.flatten``.

    Args:
        sample_dims: how deeply one sample is nested (3 for images); one level more is a batch.
    """

    def __init__(self, sample_dims: int = 3, name: str | None = None) -> None:
        super().__init__(name)
        self.sample_dims = sample_dims

    def forward(self, x):
        samples, batch = _split_batch(self, x, self.sample_dims)
        out = [flatten(s) for s in samples]
        return out if batch else out[0]

    def output_shape(self, input_shape: Shape) -> Shape:
        n = 1
        for d in input_shape:
            n *= d
        return (n,)
