"""The eight classifiers of S3-Q2-5 (seed ``003_46b4f35227c027e8.txt``) and their losses, built
from the layers of :mod:`microgradnet.nn` and the losses of :mod:`microgradnet.functional`.

A :class:`Classifier` is an ``nn.Module``: a ``Sequential`` network plus a loss. Its training
graph has one structure for any batch (see :mod:`microgradnet.nn` on replay), so
:mod:`microgradnet.training.trainer` records it once and replays it: the targets are leaves
(one-hot for the logistic and softmax losses, +-1 for the hinge loss), as are the inputs, the
parameters and the dropout masks.
"""
from __future__ import annotations

import math
from typing import Callable

from .. import functional as F
from .. import nn
from ..engine import Value

__all__ = ["Classifier", "LOSSES", "TARGET_ENCODING", "logistic_ovr_loss", "hinge_ovr_loss",
           "softmax_loss", "build_model", "MODEL_KINDS", "MODEL_KINDS_LOSS"]


# ---- losses: one sample's logits z and its target leaves t -> a Value ------------------------

def logistic_ovr_loss(z: list, t: list) -> Value:
    """One-vs-rest logistic loss: ``sum_k softplus(z_k) - t_k z_k``, the binary cross-entropy
    of sigmoid(z_k) against t_k in {0, 1}, one binary classifier per class, summed."""
    return F.binary_cross_entropy_with_logits(z, t, reduction="sum")


def hinge_ovr_loss(z: list, t: list) -> Value:
    """One-vs-rest hinge loss (a binary SVM per class): ``sum_k max(0, 1 - t_k z_k)`` with
    ``t_k`` = +1 for the true class and -1 for the others."""
    return F.hinge(z, t, reduction="sum")


def softmax_loss(z: list, t: list) -> Value:
    """Softmax cross-entropy against a one-hot ``t``: ``logsumexp(z) - z_y``, with the
    max-shift built from ``maximum`` nodes so that no exp overflows on any batch."""
    return F.cross_entropy(z, t, max_node=True)


#: The losses by name.
LOSSES: dict = {"logistic": logistic_ovr_loss, "hinge": hinge_ovr_loss,
                "softmax": softmax_loss}

#: How a class label becomes target values for each loss: (value of the true class, others).
TARGET_ENCODING: dict = {"logistic": (1.0, 0.0), "hinge": (1.0, -1.0), "softmax": (1.0, 0.0)}


def _reshape(flat: list, shape: tuple):
    """A flat list as nested lists of ``shape`` (row-major); no nodes are made."""
    for n in reversed(shape[1:]):
        flat = [flat[i:i + n] for i in range(0, len(flat), n)]
    return flat


class Classifier(nn.Module):
    """A network of :mod:`microgradnet.nn` layers and a per-class loss.

    Args:
        net: the network; it maps one sample of ``in_shape`` (or a batch) to ``n_classes``
            logits.
        loss: "logistic", "hinge" or "softmax" (see :data:`LOSSES`).
        in_shape: one sample's shape, e.g. ``(64,)`` or ``(1, 8, 8)``.
        n_classes: the number of classes.

    Inputs are flat lists of ``prod(in_shape)`` Values (or numbers) per sample, reshaped here.

    Example:
        >>> model = build_model("softmax", seed=0)
        >>> z = model([[0.0] * 64, [1.0] * 64])       # a batch of two samples
        >>> len(z), len(z[0])
        (2, 10)
    """

    def __init__(self, net: nn.Module, loss: str, in_shape: tuple, n_classes: int,
                 name: str | None = None) -> None:
        super().__init__(name)
        if loss not in LOSSES:
            raise ValueError(f"{name or 'Classifier'}: loss must be one of {sorted(LOSSES)}, "
                             f"got {loss!r}")
        out = net.output_shape(tuple(in_shape))
        if out != (n_classes,):
            raise ValueError(f"{name or 'Classifier'}: the network gives outputs of shape "
                             f"{out}, expected ({n_classes},)")
        self.net = net
        self.loss_name = loss
        self.in_shape = tuple(in_shape)
        self.n_classes = n_classes

    def forward(self, batch: list) -> list:
        """The logits of a batch of flat samples: ``len(batch)`` lists of ``n_classes``."""
        n = math.prod(self.in_shape)
        for i, x in enumerate(batch):
            if len(x) != n:
                raise ValueError(f"{self.display_name}: sample {i} has {len(x)} values, "
                                 f"expected {n} (shape {self.in_shape})")
        return self.net([_reshape(list(x), self.in_shape) for x in batch])

    def loss(self, logits: list, targets: list) -> Value:
        """The mean over the batch of the per-sample loss; ``targets[i]`` as made by
        :meth:`encode` (numbers or leaves)."""
        f: Callable = LOSSES[self.loss_name]
        return F.mean([f(z, t) for z, t in zip(logits, targets)])

    def encode(self, label: int) -> list:
        """The target values of class ``label`` for this model's loss."""
        on, off = TARGET_ENCODING[self.loss_name]
        return [on if k == label else off for k in range(self.n_classes)]

    def decayed(self) -> list:
        """The parameters that get L2 weight decay: the weights of the dense and convolution
        layers (not biases, not batch norm's scale and shift)."""
        out = []
        for m in self.modules():
            if isinstance(m, nn.Linear):
                out += [w for row in m.weight for w in row]
            elif isinstance(m, nn.Conv2d):
                out += [w for f in m.weight for c in f for r in c for w in r]
        return out

    def layers_of(self, kind: type) -> list:
        """Every sub-module of type ``kind`` (e.g. ``nn.Dropout``), in order."""
        return [m for m in self.modules() if isinstance(m, kind)]

    def extra_repr(self) -> str:
        return f"loss={self.loss_name!r}, in_shape={self.in_shape}"


def build_model(kind: str, in_shape: tuple = (1, 8, 8), n_classes: int = 10, hidden: int = 32,
                filters: int = 4, kernel: int = 3, p_drop: float = 0.5,
                seed: int = 0) -> Classifier:
    """One of the eight classifiers of seed 003 (S3-Q2-5), sized for 8x8 digits.

    Dense layers start Xavier-uniform, convolutions He-uniform (for the ReLU after them), biases
    at 0, all from one generator seeded with ``seed``.

    Args:
        kind: one of :data:`MODEL_KINDS`.
        in_shape: one image as (channels, height, width).
        hidden: hidden units of the 2-layer networks and of the CNNs' dense layer.
        filters, kernel: the CNNs' number of filters and kernel size (stride 1, no padding,
            then 2x2 max-pooling).
        p_drop: the drop probability of the dropout layer.
        seed: the seed of the weights and of the dropout masks.

    Returns:
        A :class:`Classifier`.
    """
    if kind not in MODEL_KINDS:
        raise ValueError(f"build_model: kind must be one of {MODEL_KINDS}, got {kind!r}")
    from ..init import Generator
    rng = Generator(seed)
    nin = math.prod(in_shape)
    if kind in ("logistic", "svm", "softmax"):
        net = nn.Sequential(nn.Linear(nin, n_classes, rng=rng, name="fc"))
        shape = (nin,)
    elif kind.startswith("mlp_"):
        net = nn.Sequential(nn.Linear(nin, hidden, rng=rng, name="fc1"), nn.ReLU(name="relu"),
                            nn.Linear(hidden, n_classes, rng=rng, name="fc2"))
        shape = (nin,)
    else:
        shape = tuple(in_shape)
        conv = nn.Conv2d(in_shape[0], filters, kernel, init="he_uniform", rng=rng, name="conv")
        pool = nn.MaxPool2d(2, name="pool")
        flat = math.prod(pool.output_shape(conv.output_shape(shape)))
        fc1 = nn.Linear(flat, hidden, rng=rng, name="fc1")
        fc2 = nn.Linear(hidden, n_classes, rng=rng, name="fc2")
        if kind == "cnn":
            net = nn.Sequential(conv, nn.ReLU(name="relu1"), pool, nn.Flatten(name="flatten"),
                                fc1, nn.ReLU(name="relu2"), fc2)
        else:   # seed 003's Conv-BN-ReLU-MaxPool-FC-BN-ReLU-Dropout-FC-Softmax
            net = nn.Sequential(conv, nn.BatchNorm2d(filters, name="bn1"),
                                nn.ReLU(name="relu1"), pool, nn.Flatten(name="flatten"),
                                fc1, nn.BatchNorm1d(hidden, name="bn2"), nn.ReLU(name="relu2"),
                                nn.Dropout(p_drop, rng=rng, name="dropout"), fc2)
    return Classifier(net, MODEL_KINDS_LOSS[kind], shape, n_classes, name=kind)


#: The eight models of S3-Q2-5 and their losses.
MODEL_KINDS_LOSS = {"logistic": "logistic", "mlp_logistic": "logistic", "svm": "hinge",
                    "mlp_hinge": "hinge", "softmax": "softmax", "mlp_softmax": "softmax",
                    "cnn": "softmax", "cnn_bn_dropout": "softmax"}
MODEL_KINDS = tuple(MODEL_KINDS_LOSS)
