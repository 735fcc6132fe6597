"""Worked examples backed by training runs: S1-1.4 (seed ``001_34f8d7f6bc1ecf0d.txt``) and
S3-Q2-5 (seed ``003_46b4f35227c027e8.txt``).

Training takes minutes, so these examples read the results the experiments committed to
``results/`` (``microgradnet train lr-curves`` and ``microgradnet train classifiers``, or the
scripts ``scripts/train_lr_curves.py`` and ``scripts/train_classifiers.py``) and judge them
here: the curve behaviours are recomputed from the stored loss curves. Without the results files
(e.g. an installed package without the repository) the verdict is "pending".
"""
from __future__ import annotations

import json
import os

from .base import Result, example

__all__ = ["RESULTS_DIR"]

#: Where the experiments write their results: ``results/`` at the top of the repository.
RESULTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "results")


def _load(name: str):
    path = os.path.join(RESULTS_DIR, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


@example("S1-1.4", "001_34f8d7f6bc1ecf0d.txt", "1.4",
         "which learning rate gives which loss curve (SGD + L2)")
def lr_curves() -> Result:
    from ..training.experiments import LEARNING_RATES, SEED_LR_LABELS, classify_curves
    from ..training.trainer import History
    seed_says = ", ".join(f"{SEED_LR_LABELS[lr][0]}: {lr:g} ({SEED_LR_LABELS[lr][1]})"
                          for lr in sorted(LEARNING_RATES, key=lambda r: SEED_LR_LABELS[r][0]))
    res = _load("s1_1_4_lr_curves.json")
    if res is None:
        return Result(seed_says, "no results yet", "pending",
                      note="run `microgradnet train lr-curves` to write results/")
    histories = {}
    for lr in LEARNING_RATES:
        losses = res["curves"][repr(lr)]
        n = len(losses) // max(1, res["epochs"])
        epoch_loss = [sum(losses[i:i + n]) / len(losses[i:i + n])
                      for i in range(0, len(losses), n)] if n else []
        histories[lr] = History(losses, epoch_loss, res["diverged"][repr(lr)])
    labels = classify_curves(histories)
    engine_says = ", ".join(f"{lr:g}: {labels[lr]}" for lr in LEARNING_RATES)
    same = {lr: labels[lr] == SEED_LR_LABELS[lr][1] for lr in LEARNING_RATES}
    if all(same.values()):
        verdict, note = "confirmed", "every rate shows the behaviour the seed assigns to it"
    else:
        agree = [f"{lr:g}" for lr in LEARNING_RATES if same[lr]]
        differ = [f"{lr:g}" for lr in LEARNING_RATES if not same[lr]]
        verdict = "convention"
        note = (f"rates {', '.join(agree) or 'none'} behave as the seed says; "
                f"{', '.join(differ)} do not: which rate is 'good' depends on the model and "
                f"the scale of the data (here {res['model']} on 8x8 digits, pixels divided by "
                f"{res['scale']:g}, {res['epochs']} epochs). The seed can only go by the order "
                "of the rates, and the order of behaviours (higher rate: faster, then unstable) "
                "holds. Figure: results/s1_1_4_lr_curves.png")
    return Result(seed_says, engine_says, verdict, note=note,
                  values={f"{lr:g}": labels[lr] for lr in LEARNING_RATES},
                  extra={"final_epoch_loss": res["final_epoch_loss"],
                         "figure": os.path.join(RESULTS_DIR, "s1_1_4_lr_curves.png")})


@example("S3-Q2-5", "003_46b4f35227c027e8.txt", "Q2-Q5",
         "eight classifiers: test accuracy on 8x8 digits next to the seed's MNIST figures")
def classifiers() -> Result:
    from ..training.experiments import SEED_MNIST_ACCURACY
    seed_says = ", ".join(f"{k} {v:g}%" for k, v in SEED_MNIST_ACCURACY.items())
    res = _load("s3_q2_5.json")
    if res is None:
        return Result(seed_says, "no results yet", "pending",
                      note="run `microgradnet train classifiers` to write results/")
    rows = {r["model"]: r for r in res["rows"]}
    missing = [k for k in SEED_MNIST_ACCURACY if k not in rows]
    if missing:
        return Result(seed_says, f"results lack {missing}", "pending",
                      note="run `microgradnet train classifiers` for all eight models")
    acc = {k: rows[k]["test_accuracy"] for k in SEED_MNIST_ACCURACY}
    engine_says = ", ".join(f"{k} {v:.2f}%" for k, v in acc.items())
    gaps = {k: round(acc[k] - SEED_MNIST_ACCURACY[k], 2) for k in acc}
    note = (f"a different data set: scikit-learn's 8x8 digits ({res['meta']['train']} train / "
            f"{res['meta']['val']} validation / {res['meta']['test']} test images), small "
            "models sized for a scalar engine, so the figures stand side by side rather than "
            "being checked one against the other; 'logistic' and 'SVM' are one-vs-rest over "
            "the 10 classes, 'softmax' is multinomial. Differences (here - seed, points): "
            + ", ".join(f"{k} {v:+.2f}" for k, v in gaps.items())
            + ". Table: results/s3_q2_5.md")
    return Result(seed_says, engine_says, "convention", note=note, values=acc,
                  extra={"rows": res["rows"], "seed": dict(SEED_MNIST_ACCURACY)})
