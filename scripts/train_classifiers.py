"""Reproduce S3-Q2-5 (seed 003): eight classifiers on the 8x8 digits, hyper-parameters chosen
on validation, test accuracy next to the seed's MNIST figures. Writes results/s3_q2_5.*.

    python scripts/train_classifiers.py [--epochs 10] [--models cnn svm] [--out results]
"""
import sys

from microgradnet.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", "classifiers"] + sys.argv[1:]))
