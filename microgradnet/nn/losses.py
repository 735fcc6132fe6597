"""Losses as modules, PyTorch's way (``criterion = nn.MSELoss(); loss = criterion(y, t)``):
each holds its ``reduction`` and calls the function of :mod:`microgradnet.functional`.
"""
from __future__ import annotations

from typing import Any, Callable

from .. import functional as F
from .module import Module


class _Loss(Module):
    _fn: Callable[..., Any] = staticmethod(F.mse)

    def __init__(self, reduction: str = "mean", name: str | None = None) -> None:
        super().__init__(name)
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def forward(self, input, target):
        return type(self)._fn(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Squared error, :func:`microgradnet.functional.mse_loss`."""
    _fn = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """Absolute error, :func:`microgradnet.functional.l1_loss`."""
    _fn = staticmethod(F.l1_loss)


class CrossEntropyLoss(_Loss):
    """Cross-entropy from logits and class indices (or probabilities),
    :func:`microgradnet.functional.cross_entropy`."""
    _fn = staticmethod(F.cross_entropy)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities, :func:`microgradnet.functional.nll_loss`."""
    _fn = staticmethod(F.nll_loss)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities,
    :func:`microgradnet.functional.binary_cross_entropy`."""
    _fn = staticmethod(F.binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy from logits,
    :func:`microgradnet.functional.binary_cross_entropy_with_logits`."""
    _fn = staticmethod(F.binary_cross_entropy_with_logits)
