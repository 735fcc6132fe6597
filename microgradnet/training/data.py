"""The 8x8 handwritten digits that ship inside scikit-learn (1797 images, no download), split
into train, validation and test sets.

Needs the optional extra ``data`` (``pip install microgradnet[data]``, i.e. scikit-learn).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Split", "DigitSplits", "load_digits"]

N_CLASSES = 10


@dataclass
class Split:
    """One part of the data: ``X[i]`` is a flat list of 64 pixel values, ``y[i]`` its digit."""
    X: list
    y: list

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, n: int) -> "Split":
        """The first ``n`` samples (the split is already shuffled).

        Raises:
            ValueError: ``n`` is not an int >= 0 (a negative ``n`` would slice from the end).
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"Split.subset: n must be an int >= 0, got {n!r}")
        return Split(self.X[:n], self.y[:n])


@dataclass
class DigitSplits:
    """Train, validation and test splits; ``shape`` is one image as (channels, height, width)."""
    train: Split
    val: Split
    test: Split
    shape: tuple = (1, 8, 8)
    n_classes: int = N_CLASSES


def load_digits(test_fraction: float = 0.2, val_fraction: float = 0.1, seed: int = 0,
                scale: float = 16.0) -> DigitSplits:
    """Load scikit-learn's 8x8 digits and split them deterministically.

    The images are shuffled with ``random.Random(seed)``; the first ``test_fraction`` of them is
    the test set, and ``val_fraction`` of the rest (1/10 by default, as seed 003 does with MNIST)
    is held out of training as the validation set.

    Args:
        test_fraction: share of all images kept for testing.
        val_fraction: share of the remaining (training) images kept for validation.
        seed: the seed of the shuffle.
        scale: pixel values (0..16) are divided by this (16 gives 0..1; 1 keeps raw values).

    Returns:
        :class:`DigitSplits` with lists of floats and int labels 0..9.

    Raises:
        ImportError: scikit-learn is missing (install the extra ``data``).
        ValueError: a fraction outside (0, 1) or a scale that is not positive.
    """
    for name, f in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0.0 < f < 1.0:
            raise ValueError(f"load_digits: {name} must lie in (0, 1), got {f!r}")
    if not scale > 0:
        raise ValueError(f"load_digits: scale must be positive, got {scale!r}")
    try:
        from sklearn.datasets import load_digits as _sk_load
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("the digits data set needs scikit-learn: "
                          "pip install 'microgradnet[data]'") from e
    bunch = _sk_load()
    X = [[float(v) / scale for v in row] for row in bunch.data.tolist()]
    y = [int(t) for t in bunch.target.tolist()]
    order = list(range(len(y)))
    random.Random(seed).shuffle(order)
    n_test = int(round(test_fraction * len(order)))
    test_idx, rest = order[:n_test], order[n_test:]
    n_val = int(round(val_fraction * len(rest)))
    val_idx, train_idx = rest[:n_val], rest[n_val:]

    def take(idx):
        return Split([X[i] for i in idx], [y[i] for i in idx])

    return DigitSplits(take(train_idx), take(val_idx), take(test_idx))
