"""The ``microgradnet train`` subcommand: the seeds' experiments on the 8x8 digits.

    microgradnet train classifiers [-o DIR] [--force] [--epochs 10] [--models cnn svm]
    microgradnet train lr-curves   [-o DIR] [--force] [--epochs 4]

Results go to a new folder ``runs/<experiment>-<date>-<time>`` unless ``-o/--out DIR`` names
one; a folder that already holds this experiment's files (such as the committed ``results/``)
is refused unless ``--force`` is given, and the folder is checked to be writable before any
training starts.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys

from .choices import LazyChoices
from .common import MISSING, USAGE, OutputError, add_output_option, choose_output_dir

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


def _out_dir(args: argparse.Namespace) -> str:
    """The checked output folder as a string ("" writes nothing), made only once the data
    set's dependency is known to be there (a missing extra fails in one line, leaving no
    empty folder behind). Each file to be written is checked too (a broken symbolic link in
    its place fails now, not after the training)."""
    import sklearn.datasets  # noqa: F401

    from ..training.experiments import OUTPUT_FILES, check_out_dir
    names = OUTPUT_FILES[args.experiment]
    if args.experiment == "lr-curves" and args.no_plot:
        names = names[:-1]
    path = choose_output_dir(args.out, names, force=args.force, stem=args.experiment)
    if path is None:
        return ""
    try:
        check_out_dir(path, names, overwrite=True)   # replacing them was settled above
    except OSError as e:
        raise OutputError(f"--out {e}") from None
    return str(path)


def _classifiers(args: argparse.Namespace) -> int:
    from ..training.experiments import run_classifiers
    args.out = _out_dir(args)
    rows = run_classifiers(out_dir=args.out, kinds=args.models, epochs=args.epochs,
                           train_subset=args.subset, seed=args.seed,
                           show_progress=not args.quiet, split=args.split, overwrite=args.force)
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
    if args.out != "" and not args.no_plot and importlib.util.find_spec("matplotlib") is None:
        # Found out now, not after the training: the figure is written last.
        print('microgradnet train lr-curves: the figure needs matplotlib: pip install '
              '"microgradnet[plot]" (or pass --no-plot)', file=sys.stderr)
        return MISSING
    args.out = _out_dir(args)
    res = run_lr_curves(out_dir=args.out, epochs=args.epochs, train_subset=args.subset,
                        seed=args.seed, show_progress=not args.quiet, plot=not args.no_plot,
                        split=args.split, overwrite=args.force)
    for lr in LEARNING_RATES:
        curve, says = SEED_LR_LABELS[lr]
        print(f"lr={lr:<8g} here: {res['labels'][repr(lr)]:13} seed: curve {curve}, {says}")
    if args.out:
        print(f"written: {args.out}/s1_1_4_lr_curves.csv, .json, .md"
              + ("" if args.no_plot else ", .png"))
    return 0


def _reported(run):
    """``run`` with a ValueError (options that do not fit together, such as a --subset smaller
    than one batch, or an output folder that must not be written) printed as one line and exit
    status 2."""
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (ValueError, OutputError) as e:
            print(f"microgradnet train {args.experiment}: {e}", file=sys.stderr)
            return USAGE
    return wrapped


def _splits() -> tuple:
    from ..training.data import SPLITS
    return SPLITS


def add_commands(subparsers) -> None:
    """Add ``train`` (with ``classifiers`` and ``lr-curves``) to the CLI's subparsers."""
    p = subparsers.add_parser("train", help="train the seeds' experiments on the 8x8 digits",
                              description="Run the training experiments of the seeds "
                              "(S3-Q2-5, S1-1.4) on scikit-learn's 8x8 digits.")
    sub = p.add_subparsers(dest="experiment", metavar="EXPERIMENT")

    def common(q, epochs):
        add_output_option(q, metavar="DIR",
                          help="folder for the results files (default: a new folder "
                               "runs/EXPERIMENT-DATE-TIME; '' writes nothing)")
        q.add_argument("--force", action="store_true",
                       help="replace results files already in --out (such as results/)")
        q.add_argument("--epochs", type=_count(1), default=epochs)
        q.add_argument("--subset", type=_count(1), default=None,
                       help="train on the first N training images only")
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--split", choices=LazyChoices(_splits), default="stratified",
                       metavar="SPLIT",
                       help="how the digits are split: stratified (default) or shuffled (the "
                            "split of the recorded results in results/)")
        q.add_argument("--quiet", action="store_true",
                       help="no progress bars (they are drawn only on a terminal anyway)")

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
    p.set_defaults(func=lambda args: (p.print_help(), USAGE)[1])
