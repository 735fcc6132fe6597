"""Reproduce S3-Q2-5 (seed 003): eight classifiers on the 8x8 digits, hyper-parameters chosen
on validation, test accuracy next to the seed's MNIST figures. Writes results/s3_q2_5.*.

    python scripts/train_classifiers.py [--epochs 10] [--models cnn svm]
"""
import sys

from microgradnet.cli import main

if __name__ == "__main__":
    # The recorded results: results/, replaced, with the split they were recorded with (the
    # shuffled one; `microgradnet train` defaults to a stratified split and a new folder).
    sys.exit(main(["train", "classifiers", "--out", "results", "--force", "--split", "shuffled"]
                  + sys.argv[1:]))
