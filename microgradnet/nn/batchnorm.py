"""Batch normalisation over a batch (``BatchNorm1d``) or over images (``BatchNorm2d``), its
statistics computed with ops on the batch so a replay records them.
"""
from __future__ import annotations

import math

from .. import functional as F
from ..nested import as_values, fmt_shape, shape_of
from .module import Module, Shape, _split_batch
from .parameter import Parameter


def _number(x, what: str, where: str, lo: float, hi: float = math.inf) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not lo <= x <= hi \
            or not math.isfinite(x):
        rng = f"in [{lo}, {hi}]" if hi != math.inf else f">= {lo}"
        raise ValueError(f"{where}: {what} must be a number {rng}, got {x!r}")
    return float(x)


class _BatchNorm(Module):
    """Batch norm's parameters (``weight`` gamma, ``bias`` beta), its buffers
    (``running_mean``, ``running_var``, ``num_batches_tracked``) and the normalisation.

    ``momentum=None`` is PyTorch's cumulative average: the running statistics are the plain
    mean of every batch's statistics so far (momentum ``1 / num_batches_tracked``).
    """
    _sample_depth = 1
    running_mean: list          # buffers, registered in __init__
    running_var: list
    num_batches_tracked: int

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 name: str | None = None) -> None:
        super().__init__(name)
        if isinstance(num_features, bool) or not isinstance(num_features, int) \
                or num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, "
                             f"got {num_features!r}")
        where = type(self).__name__
        self.num_features = num_features
        self.eps = _number(eps, "eps", where, 0.0)
        if self.eps == 0.0:
            raise ValueError(f"{where}: eps must be > 0 (it keeps 1/sqrt(var + eps) finite)")
        self.momentum = None if momentum is None else _number(momentum, "momentum", where,
                                                               0.0, 1.0)
        self.weight = ([Parameter(1.0, label=f"gamma[{c + 1}]") for c in range(num_features)]
                       if affine else None)
        self.bias = ([Parameter(0.0, label=f"beta[{c + 1}]") for c in range(num_features)]
                     if affine else None)
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        self.register_buffer("running_mean", [0.0] * num_features)
        self.register_buffer("running_var", [1.0] * num_features)
        self.register_buffer("num_batches_tracked", 0)
        self._batch_stats: list = []

    def _check_state(self, name: str, value) -> None:
        if name == "running_var" and any(v <= 0 for v in value):
            raise ValueError(f"load_state_dict: {self.display_name}.running_var must be "
                             f"positive, got {value!r}")
        if name == "num_batches_tracked" and (value < 0 or value != int(value)):
            raise ValueError(f"load_state_dict: {self.display_name}.num_batches_tracked must "
                             f"be a whole number >= 0, got {value!r}")

    @property
    def batch_stats(self) -> list:
        """``(mean, var, n)`` per feature of the last pass that used batch statistics: the
        batch mean and biased variance as nodes of that graph, and the number of values
        ``n`` behind them (empty in eval mode). A replayed training graph does not update the
        running statistics; evaluating these nodes on the training batches gives them (see
        :func:`microgradnet.training.fit_batchnorm`)."""
        return list(self._batch_stats)

    def _normalise(self, c: int, xs: list) -> list:
        """Normalise the list ``xs`` of one feature's values over the batch."""
        g = self.weight[c] if self.weight is not None else None
        b = self.bias[c] if self.bias is not None else None
        n = len(xs)
        if self.training or not self.track_running_stats:
            if n < 2:
                raise ValueError(f"{self.display_name}: training mode needs more than one "
                                 f"value per channel to compute batch statistics, got {n}")
            mu = F.sum(xs) / n
            d = [x - mu for x in xs]
            var = F.sum([e * e for e in d]) / n
            std = (var + self.eps).sqrt()
            xhat = [e / std for e in d]
            self._batch_stats.append((mu, var, n))
            if self.training and self.track_running_stats:
                m = (1.0 / self.num_batches_tracked if self.momentum is None
                     else self.momentum)
                self.running_mean[c] = (1 - m) * self.running_mean[c] + m * mu.data
                self.running_var[c] = ((1 - m) * self.running_var[c]
                                       + m * var.data * n / (n - 1))
        else:
            mu, inv = self.running_mean[c], 1.0 / math.sqrt(self.running_var[c] + self.eps)
            xhat = [(x - mu) * inv for x in xs]
        if g is not None:
            return [g * h + b for h in xhat]
        return xhat

    def _check(self, samples):
        raise NotImplementedError

    def _begin(self, samples: list) -> list:
        """A new forward pass over checked samples: them as Values, fresh batch statistics,
        and (in training) the batch counted."""
        samples = [as_values(s) for s in samples]
        self._batch_stats = []
        if self.training:
            self.num_batches_tracked += 1
        return samples

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of a batch of feature vectors (N samples x num_features):

    ``y = gamma * (x - mu) / sqrt(var + eps) + beta`` per feature, with the batch mean and
    the biased batch variance in training mode, and the running estimates in eval mode
    (updated as ``r <- (1 - momentum) r + momentum * batch stat``, with the unbiased variance,
    as PyTorch does). A single sample in eval mode is allowed.
    """

    def forward(self, x):
        samples, batch = _split_batch(self, x, 1)
        nf = self.num_features
        for s in samples:
            if len(s) != nf:
                raise ValueError(f"{self.display_name}: expected samples of shape {nf}, got "
                                 f"{fmt_shape(shape_of(s))}")
        samples = self._begin(samples)
        cols = [self._normalise(c, [s[c] for s in samples]) for c in range(nf)]
        out = [[cols[c][i] for c in range(nf)] for i in range(len(samples))]
        return out if batch else out[0]

    def output_shape(self, input_shape: Shape) -> Shape:
        if tuple(input_shape) != (self.num_features,):
            raise ValueError(f"{self.display_name}: expected an input of shape "
                             f"{self.num_features}, got {fmt_shape(input_shape)}")
        return tuple(input_shape)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation per channel of a batch of C x H x W images: statistics over the
    batch and both spatial axes (N * H * W values per channel); otherwise as BatchNorm1d."""

    def forward(self, x):
        samples, batch = _split_batch(self, x, 3)
        shape = shape_of(samples[0])
        if shape[0] != self.num_features:
            raise ValueError(f"{self.display_name}: expected {self.num_features} channels, "
                             f"got an input of shape {fmt_shape(shape)}")
        for s in samples:
            if shape_of(s) != shape:
                raise ValueError(f"{self.display_name}: images of different shapes in one "
                                 f"batch: {fmt_shape(shape)} and {fmt_shape(shape_of(s))}")
        samples = self._begin(samples)
        C, H, W = shape
        out = [[[[None] * W for _ in range(H)] for _ in range(C)] for _ in samples]
        for c in range(C):
            flat = [s[c][i][j] for s in samples for i in range(H) for j in range(W)]
            ys = iter(self._normalise(c, flat))
            for s_out in out:
                plane = s_out[c]
                for i in range(H):
                    row = plane[i]
                    for j in range(W):
                        row[j] = next(ys)
        return out if batch else out[0]

    def output_shape(self, input_shape: Shape) -> Shape:
        s = tuple(input_shape)
        if len(s) != 3 or s[0] != self.num_features:
            raise ValueError(f"{self.display_name}: expected an input of shape "
                             f"{self.num_features}xHxW, got {fmt_shape(s)}")
        return s
