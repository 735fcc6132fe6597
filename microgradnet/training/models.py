"""Models and losses for the training experiments, built from engine ops so that their graphs
keep one structure for any data: every choice that depends on values (ReLU's side, the winner
of a max-pool window, the max-shift of a softmax) is an op (``relu``, ``maximum``), never a
Python ``if`` or ``max()`` on ``.data``. That is what lets :mod:`microgradnet.replay` record a
mini-batch graph once and re-run it on every batch.

A model is a list of layers working on a mini-batch: a batch is a list of samples, a sample a
flat list of Values with a ``shape`` ((features,) or (channels, height, width)). Dropout masks
and batch-norm statistics are leaves too, so a replay can feed them new values.
"""
from __future__ import annotations

import math
import random
from typing import Sequence

from ..engine import Value, maximum

__all__ = ["Dense", "ReLU", "Conv2d", "MaxPool2d", "BatchNorm", "Dropout", "Model",
           "LOSSES", "logistic_ovr_loss", "hinge_ovr_loss", "softmax_loss", "build_model",
           "MODEL_KINDS"]


def _sum(terms: Sequence[Value]) -> Value:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


class _Layer:
    params: list
    decay: list       # the parameters that get L2 weight decay (weights, not biases)

    def out_shape(self, shape: tuple) -> tuple:
        return shape

    def forward(self, batch: list, shape: tuple, train: bool) -> list:
        raise NotImplementedError

    def extra_leaves(self) -> list:
        """Leaves besides parameters that a replay must feed (masks, statistics)."""
        return []


class Dense(_Layer):
    """``y_k = sum_j W[k][j] x_j + b_k``; weights uniform in +-sqrt(6/(nin+nout)) (Xavier)."""

    def __init__(self, nin: int, nout: int, rng: random.Random, name: str) -> None:
        bound = math.sqrt(6.0 / (nin + nout))
        self.nin, self.nout, self.name = nin, nout, name
        self.W = [[Value(rng.uniform(-bound, bound), f"{name}.W[{k}][{j}]") for j in range(nin)]
                  for k in range(nout)]
        self.b = [Value(0.0, f"{name}.b[{k}]") for k in range(nout)]
        self.params = [w for row in self.W for w in row] + self.b
        self.decay = [w for row in self.W for w in row]

    def out_shape(self, shape: tuple) -> tuple:
        n = math.prod(shape)
        if n != self.nin:
            raise ValueError(f"{self.name}: expected {self.nin} inputs, got shape {shape}")
        return (self.nout,)

    def forward(self, batch, shape, train):
        out = []
        for x in batch:
            out.append([_sum([w * xi for w, xi in zip(row, x)]) + b
                        for row, b in zip(self.W, self.b)])
        return out


class ReLU(_Layer):
    params: list = []
    decay: list = []

    def forward(self, batch, shape, train):
        return [[v.relu() for v in x] for x in batch]


class Conv2d(_Layer):
    """A 'valid' convolution (stride 1, no padding) of ``cin`` channels to ``cout`` maps with
    ``k x k`` kernels (cross-correlation, as in PyTorch); He-uniform weights."""

    def __init__(self, cin: int, cout: int, k: int, rng: random.Random, name: str) -> None:
        self.cin, self.cout, self.k, self.name = cin, cout, k, name
        bound = math.sqrt(6.0 / (cin * k * k))
        self.W = [[Value(rng.uniform(-bound, bound), f"{name}.W[{f}][{i}]")
                   for i in range(cin * k * k)] for f in range(cout)]
        self.b = [Value(0.0, f"{name}.b[{f}]") for f in range(cout)]
        self.params = [w for row in self.W for w in row] + self.b
        self.decay = [w for row in self.W for w in row]

    def out_shape(self, shape):
        if len(shape) != 3 or shape[0] != self.cin or shape[1] < self.k or shape[2] < self.k:
            raise ValueError(f"{self.name}: expected ({self.cin}, >={self.k}, >={self.k}), "
                             f"got {shape}")
        return (self.cout, shape[1] - self.k + 1, shape[2] - self.k + 1)

    def forward(self, batch, shape, train):
        c, h, w = shape
        k = self.k
        _, ho, wo = self.out_shape(shape)
        out = []
        for x in batch:
            y = []
            for f in range(self.cout):
                wf, bf = self.W[f], self.b[f]
                for i in range(ho):
                    for j in range(wo):
                        terms = [wf[(ch * k + di) * k + dj] * x[(ch * h + i + di) * w + j + dj]
                                 for ch in range(c) for di in range(k) for dj in range(k)]
                        y.append(_sum(terms) + bf)
            out.append(y)
        return out


class MaxPool2d(_Layer):
    """2x2 max-pooling with stride 2 (an odd last row or column is dropped), from ``maximum``
    nodes: the gradient goes to the window's largest input."""
    params: list = []
    decay: list = []

    def out_shape(self, shape):
        return (shape[0], shape[1] // 2, shape[2] // 2)

    def forward(self, batch, shape, train):
        c, h, w = shape
        _, ho, wo = self.out_shape(shape)
        out = []
        for x in batch:
            y = []
            for ch in range(c):
                for i in range(ho):
                    for j in range(wo):
                        at = (ch * h + 2 * i) * w + 2 * j
                        y.append(maximum(maximum(x[at], x[at + 1]),
                                         maximum(x[at + w], x[at + w + 1])))
            out.append(y)
        return out


class BatchNorm(_Layer):
    """Batch normalisation per feature (per channel for images):
    ``y = gamma (x - mean) / sqrt(var + eps) + beta``, with the batch's mean and (biased)
    variance in training and fixed statistics in evaluation. The fixed statistics are leaves
    (``mean``, ``var``), set by :meth:`Model.fit_batchnorm` after training."""

    def __init__(self, features: int, name: str, eps: float = 1e-5) -> None:
        self.features, self.name, self.eps = features, name, eps
        self.gamma = [Value(1.0, f"{name}.gamma[{i}]") for i in range(features)]
        self.beta = [Value(0.0, f"{name}.beta[{i}]") for i in range(features)]
        self.mean = [Value(0.0, f"{name}.mean[{i}]") for i in range(features)]
        self.var = [Value(1.0, f"{name}.var[{i}]") for i in range(features)]
        self.params = self.gamma + self.beta
        self.decay = []
        self.batch_stats: list = []   # (mean node, var node) per feature, from the train graph

    def extra_leaves(self):
        return self.mean + self.var

    def forward(self, batch, shape, train):
        per = math.prod(shape) // self.features     # positions per feature (h*w for images)
        if per * self.features != math.prod(shape):
            raise ValueError(f"{self.name}: {self.features} features do not divide shape {shape}")
        out = [list(x) for x in batch]
        self.batch_stats = []
        for f in range(self.features):
            idx = range(f * per, (f + 1) * per)
            if train:
                xs = [x[i] for x in batch for i in idx]
                mean = _sum(xs) * (1.0 / len(xs))
                centred = [v - mean for v in xs]
                var = _sum([d * d for d in centred]) * (1.0 / len(xs))
                inv = (var + self.eps) ** -0.5
                self.batch_stats.append((mean, var, len(xs)))
                it = iter(centred)
                for y in out:
                    for i in idx:
                        y[i] = self.gamma[f] * (next(it) * inv) + self.beta[f]
            else:
                inv = (self.var[f] + self.eps) ** -0.5
                for x, y in zip(batch, out):
                    for i in idx:
                        y[i] = self.gamma[f] * ((x[i] - self.mean[f]) * inv) + self.beta[f]
        return out


class Dropout(_Layer):
    """Inverted dropout with drop probability ``p`` (PyTorch's meaning): in training each unit
    is multiplied by a mask leaf, 0 with probability p and 1/(1-p) otherwise; identity in
    evaluation. The masks are leaves of the graph; :meth:`Model.draw_masks` draws new ones."""
    params: list = []
    decay: list = []

    def __init__(self, p: float, name: str) -> None:
        if not 0.0 <= p < 1.0:
            raise ValueError(f"{name}: drop probability p must lie in [0, 1), got {p!r}")
        self.p, self.name = p, name
        self.masks: list = []

    def extra_leaves(self):
        return [m for row in self.masks for m in row]

    def forward(self, batch, shape, train):
        if not train:
            return batch
        # The mask leaves are made once per batch shape and reused, like parameters, so a
        # rebuilt graph reads the same leaves.
        if [len(x) for x in batch] != [len(row) for row in self.masks]:
            self.masks = [[Value(1.0, f"{self.name}.mask") for _ in x] for x in batch]
        return [[v * m for v, m in zip(x, row)] for x, row in zip(batch, self.masks)]


# ---- losses: one sample's logits z and target leaves t -> a Value ----------------------------

def logistic_ovr_loss(z: list, t: list) -> Value:
    """One-vs-rest logistic loss: ``sum_k softplus(z_k) - t_k z_k`` (binary cross-entropy of
    sigmoid(z_k) against t_k in {0, 1}, one binary classifier per class)."""
    return _sum([zk.softplus() - tk * zk for zk, tk in zip(z, t)])


def hinge_ovr_loss(z: list, t: list) -> Value:
    """One-vs-rest hinge loss (a binary SVM per class): ``sum_k max(0, 1 - s_k z_k)`` with
    ``s_k = 2 t_k - 1`` in {-1, +1}."""
    return _sum([(1.0 - (2.0 * tk - 1.0) * zk).relu() for zk, tk in zip(z, t)])


def softmax_loss(z: list, t: list) -> Value:
    """Softmax cross-entropy (multinomial): ``log sum_k exp(z_k - m) + m - sum_k t_k z_k``
    with the max-shift ``m`` built from ``maximum`` nodes, so no exp overflows."""
    m = z[0]
    for zk in z[1:]:
        m = maximum(m, zk)
    lse = _sum([(zk - m).exp() for zk in z]).log() + m
    return lse - _sum([tk * zk for zk, tk in zip(z, t)])


LOSSES = {"logistic": logistic_ovr_loss, "hinge": hinge_ovr_loss, "softmax": softmax_loss}


class Model:
    """A stack of layers and a loss, with the leaves a replay needs.

    Args:
        layers: the layers, first to last.
        loss: "logistic", "hinge" or "softmax" (see :data:`LOSSES`).
        in_shape: one input sample's shape.
    """

    def __init__(self, layers: list, loss: str, in_shape: tuple, name: str = "model") -> None:
        if loss not in LOSSES:
            raise ValueError(f"{name}: loss must be one of {sorted(LOSSES)}, got {loss!r}")
        self.layers, self.loss_name, self.in_shape, self.name = layers, loss, in_shape, name
        shape = in_shape
        for layer in layers:
            shape = layer.out_shape(shape)
        self.n_out = math.prod(shape)
        self.params = [p for layer in layers for p in layer.params]
        decay = {id(p) for layer in layers for p in layer.decay}
        self.decay_mask = [id(p) in decay for p in self.params]

    def logits(self, batch: list, train: bool) -> list:
        """The outputs for a batch of samples (lists of Values)."""
        shape = self.in_shape
        for layer in self.layers:
            batch = layer.forward(batch, shape, train)
            shape = layer.out_shape(shape)
        return batch

    def loss(self, logits: list, targets: list) -> Value:
        """The mean over the batch of the per-sample loss."""
        f = LOSSES[self.loss_name]
        return _sum([f(z, t) for z, t in zip(logits, targets)]) * (1.0 / len(logits))

    def extra_leaves(self) -> list:
        return [v for layer in self.layers for v in layer.extra_leaves()]

    def dropout_layers(self) -> list:
        return [layer for layer in self.layers if isinstance(layer, Dropout)]

    def batchnorm_layers(self) -> list:
        return [layer for layer in self.layers if isinstance(layer, BatchNorm)]

    def draw_masks(self, rng: random.Random) -> list:
        """New mask values for every dropout leaf of the last training graph, in leaf order."""
        vals = []
        for layer in self.dropout_layers():
            keep = 1.0 / (1.0 - layer.p)
            vals.extend(0.0 if rng.random() < layer.p else keep
                        for row in layer.masks for _ in row)
        return vals

    def num_parameters(self) -> int:
        return len(self.params)


def build_model(kind: str, in_shape: tuple = (1, 8, 8), n_classes: int = 10, hidden: int = 32,
                filters: int = 4, kernel: int = 3, p_drop: float = 0.5, seed: int = 0) -> Model:
    """One of the eight classifiers of seed 003 (S3-Q2-5), sized for 8x8 digits.

    Args:
        kind: one of :data:`MODEL_KINDS`.
        hidden: hidden units of the 2-layer networks and of the CNNs' dense layer.
        filters, kernel: the CNNs' number of filters and kernel size.
        p_drop: the drop probability of the dropout layer.
        seed: the seed of the weights.
    """
    if kind not in MODEL_KINDS:
        raise ValueError(f"build_model: kind must be one of {MODEL_KINDS}, got {kind!r}")
    rng = random.Random(seed)
    nin = math.prod(in_shape)
    loss = MODEL_KINDS_LOSS[kind]
    if kind in ("logistic", "svm", "softmax"):
        layers = [Dense(nin, n_classes, rng, "fc")]
    elif kind.startswith("mlp_"):
        layers = [Dense(nin, hidden, rng, "fc1"), ReLU(), Dense(hidden, n_classes, rng, "fc2")]
    else:
        c, h, w = in_shape
        conv = Conv2d(c, filters, kernel, rng, "conv")
        pooled = MaxPool2d().out_shape(conv.out_shape(in_shape))
        flat = math.prod(pooled)
        if kind == "cnn":
            layers = [conv, ReLU(), MaxPool2d(), Dense(flat, hidden, rng, "fc1"), ReLU(),
                      Dense(hidden, n_classes, rng, "fc2")]
        else:   # seed 003's Conv-BN-ReLU-MaxPool-FC-BN-ReLU-Dropout-FC-Softmax
            layers = [conv, BatchNorm(filters, "bn1"), ReLU(), MaxPool2d(),
                      Dense(flat, hidden, rng, "fc1"), BatchNorm(hidden, "bn2"), ReLU(),
                      Dropout(p_drop, "dropout"), Dense(hidden, n_classes, rng, "fc2")]
    return Model(layers, loss, in_shape, name=kind)


#: The eight models of S3-Q2-5 and their losses.
MODEL_KINDS_LOSS = {"logistic": "logistic", "mlp_logistic": "logistic", "svm": "hinge",
                    "mlp_hinge": "hinge", "softmax": "softmax", "mlp_softmax": "softmax",
                    "cnn": "softmax", "cnn_bn_dropout": "softmax"}
MODEL_KINDS = tuple(MODEL_KINDS_LOSS)
