"""The data sets of the experiments and demos, from scikit-learn (no download): the 8x8
handwritten digits (1797 images) split into train, validation and test sets, and micrograd's
two moons.

Needs the optional extra ``data`` (``pip install "microgradnet[data]"``, i.e. scikit-learn).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Split", "DigitSplits", "load_digits", "make_moons", "SPLITS", "MissingExtra"]

N_CLASSES = 10

#: How :func:`load_digits` splits: ``"stratified"`` (every split has each digit in the
#: proportion of the whole set; the default) or ``"shuffled"`` (one shuffle, cut in three:
#: how the recorded results in ``results/`` were made, kept to reproduce them).
SPLITS = ("stratified", "shuffled")


class MissingExtra(ImportError):
    """An optional dependency is missing; the message names the extra that installs it."""

    def __init__(self, what: str, extra: str, package: str) -> None:
        super().__init__(f"{what} needs {package}: pip install \"microgradnet[{extra}]\"")
        self.extra = extra
        self.package = package


def _sklearn_datasets():
    try:
        import sklearn.datasets
        import sklearn.model_selection  # noqa: F401
    except ImportError:
        raise MissingExtra("this data set", "data", "scikit-learn") from None
    return sklearn


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int | None = None,
               labels: tuple = (-1, 1)) -> tuple:
    """micrograd's data set: two interleaving half circles from scikit-learn's
    ``make_moons``, as plain lists (``X[i]`` a pair of floats, ``y[i]`` a label).

    Args:
        n_samples, noise: as scikit-learn's.
        seed: its ``random_state``; None draws from NumPy's global generator, as micrograd's
            demo does after ``np.random.seed(1337)``.
        labels: the labels of the two moons (micrograd's -1 and +1 by default).

    Example:
        >>> X, y = make_moons(6, seed=0)
        >>> len(X), sorted(set(y))
        (6, [-1, 1])
    """
    sk = _sklearn_datasets()
    X, y = sk.datasets.make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return X.tolist(), [labels[int(t)] for t in y]


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
                scale: float = 16.0, split: str = "stratified") -> DigitSplits:
    """Load scikit-learn's 8x8 digits and split them deterministically.

    ``test_fraction`` of the images is the test set, and ``val_fraction`` of the rest (1/10 by
    default, as seed 003 does with MNIST) is held out of training as the validation set:
    1294 / 144 / 359 images. With ``split="stratified"`` (the default) both cuts are
    scikit-learn's ``train_test_split(stratify=...)``, so each digit appears in every split in
    the proportion of the whole set (a 144-image validation set that picks hyper-parameters
    holds 14 or 15 of each). ``split="shuffled"`` is the older cut of one
    ``random.Random(seed)`` shuffle, under which the validation set held 5 ones and 22
    sevens; the recorded results in ``results/`` were made with it.

    Args:
        test_fraction: share of all images kept for testing.
        val_fraction: share of the remaining (training) images kept for validation.
        seed: the seed of the shuffle.
        scale: pixel values (0..16) are divided by this (16 gives 0..1; 1 keeps raw values).
        split: ``"stratified"`` or ``"shuffled"`` (see :data:`SPLITS`).

    Returns:
        :class:`DigitSplits` with lists of floats and int labels 0..9.

    Raises:
        MissingExtra: scikit-learn is missing (an ImportError naming the extra ``data``).
        ValueError: a fraction outside (0, 1), a scale that is not positive, an unknown split.
    """
    for name, f in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0.0 < f < 1.0:
            raise ValueError(f"load_digits: {name} must lie in (0, 1), got {f!r}")
    if not scale > 0:
        raise ValueError(f"load_digits: scale must be positive, got {scale!r}")
    if split not in SPLITS:
        raise ValueError(f"load_digits: split must be one of {SPLITS}, got {split!r}")
    sk = _sklearn_datasets()
    bunch = sk.datasets.load_digits()
    X = [[float(v) / scale for v in row] for row in bunch.data.tolist()]
    y = [int(t) for t in bunch.target.tolist()]
    order = list(range(len(y)))
    # The same sizes under both splits: counts rounded as the shuffled split always did.
    n_test = int(round(test_fraction * len(order)))
    n_val = int(round(val_fraction * (len(order) - n_test)))
    if split == "shuffled":
        random.Random(seed).shuffle(order)
        test_idx, rest = order[:n_test], order[n_test:]
        val_idx, train_idx = rest[:n_val], rest[n_val:]
    else:
        cut = sk.model_selection.train_test_split
        rest, test_idx = cut(order, test_size=n_test, stratify=y, random_state=seed)
        train_idx, val_idx = cut(rest, test_size=n_val, stratify=[y[i] for i in rest],
                                 random_state=seed)

    def take(idx):
        return Split([X[i] for i in idx], [y[i] for i in idx])

    return DigitSplits(take(train_idx), take(val_idx), take(test_idx))
