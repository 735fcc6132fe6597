"""The ``microgradnet train`` subcommand: the seeds' experiments on the 8x8 digits.

    microgradnet train classifiers [--out results] [--epochs 10] [--models cnn svm]
    microgradnet train lr-curves   [--out results] [--epochs 4]
"""
from __future__ import annotations

import argparse
import sys

from .choices import LazyChoices

__all__ = ["add_commands"]


def _model_kinds() -> tuple:
    from ..training.models import MODEL_KINDS
    return MODEL_KINDS


def _count(least: int):
    """An argparse type: an int >= ``least``."""
    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if n < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, got {n}")
        return n
    return parse


def _classifiers(args: argparse.Namespace) -> int:
    from ..training.experiments import run_classifiers
    rows = run_classifiers(out_dir=args.out, kinds=args.models, epochs=args.epochs,
                           train_subset=args.subset, seed=args.seed,
                           show_progress=not args.quiet)
    print(f"{'model':16} {'chosen':28} {'val %':>6} {'test %':>7} {'seed MNIST %':>13}")
    for r in rows:
        chosen = ", ".join(f"{k}={v}" for k, v in r["chosen"].items())
        print(f"{r['model']:16} {chosen:28} {r['val_accuracy']:6.2f} {r['test_accuracy']:7.2f} "
              f"{r['seed_mnist_accuracy']:13.2f}")
    if args.out:
        print(f"written: {args.out}/s3_q2_5.csv, .json, .md")
    return 0


def _lr_curves(args: argparse.Namespace) -> int:
    from ..training.experiments import LEARNING_RATES, SEED_LR_LABELS, run_lr_curves
    res = run_lr_curves(out_dir=args.out, epochs=args.epochs, train_subset=args.subset,
                        seed=args.seed, show_progress=not args.quiet, plot=not args.no_plot)
    for lr in LEARNING_RATES:
        curve, says = SEED_LR_LABELS[lr]
        print(f"lr={lr:<8g} here: {res['labels'][repr(lr)]:13} seed: curve {curve}, {says}")
    if args.out:
        print(f"written: {args.out}/s1_1_4_lr_curves.csv, .json, .md"
              + ("" if args.no_plot else ", .png"))
    return 0


def _reported(run):
    """``run`` with a ValueError (options that do not fit together, such as a --subset smaller
    than one batch) printed as one line and exit status 2."""
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except ValueError as e:
            print(f"microgradnet train {args.experiment}: {e}", file=sys.stderr)
            return 2
    return wrapped


def add_commands(subparsers) -> None:
    """Add ``train`` (with ``classifiers`` and ``lr-curves``) to the CLI's subparsers."""
    p = subparsers.add_parser("train", help="train the seeds' experiments on the 8x8 digits",
                              description="Run the training experiments of the seeds "
                              "(S3-Q2-5, S1-1.4) on scikit-learn's 8x8 digits.")
    sub = p.add_subparsers(dest="experiment", metavar="EXPERIMENT")

    def common(q, epochs):
        q.add_argument("--out", default="results", help="directory for the results files "
                       "('' writes nothing)")
        q.add_argument("--epochs", type=_count(1), default=epochs)
        q.add_argument("--subset", type=_count(1), default=None,
                       help="train on the first N training images only")
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--quiet", action="store_true", help="no progress bars")

    c = sub.add_parser("classifiers", help="S3-Q2-5: eight classifiers, test accuracy vs the "
                       "seed's MNIST figures")
    common(c, 10)
    c.add_argument("--models", nargs="+", default=None, metavar="MODEL",
                   choices=LazyChoices(_model_kinds),
                   help="%(choices)s (default: all)")
    c.set_defaults(func=_reported(_classifiers))
    lr = sub.add_parser("lr-curves", help="S1-1.4: loss curves at four learning rates")
    common(lr, 4)
    lr.add_argument("--no-plot", action="store_true", help="skip the PNG (no matplotlib)")
    lr.set_defaults(func=_reported(_lr_curves))
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
