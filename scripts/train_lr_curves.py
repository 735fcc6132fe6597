"""Reproduce S1-1.4 (seed 001): one model, SGD + L2 at learning rates 4e-1, 8e-3, 3e-4, 2e-5,
the four loss curves in results/s1_1_4_lr_curves.png and which rate shows which behaviour.

    python scripts/train_lr_curves.py [--epochs 4]
"""
import sys

from microgradnet.cli import main

if __name__ == "__main__":
    # The recorded results: results/, replaced, with the split they were recorded with (the
    # shuffled one; `microgradnet train` defaults to a stratified split and a new folder).
    sys.exit(main(["train", "lr-curves", "--out", "results", "--force", "--split", "shuffled"]
                  + sys.argv[1:]))
