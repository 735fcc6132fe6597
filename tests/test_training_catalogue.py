"""The catalogue entries backed by training runs read the committed results consistently."""
from __future__ import annotations

import json
import os

import pytest

from microgradnet.catalogue import EXAMPLES
from microgradnet.catalogue.base import VERDICTS
from microgradnet.catalogue.experiments import RESULTS_DIR
from microgradnet.training.experiments import LEARNING_RATES, SEED_MNIST_ACCURACY


@pytest.mark.parametrize("claim", ["S1-1.4", "S3-Q2-5"])
def test_experiment_examples_are_registered_and_give_a_verdict(claim):
    result = EXAMPLES[claim].run()
    assert result.verdict in VERDICTS
    assert result.seed_says


def test_lr_curve_labels_are_recomputed_from_the_stored_curves():
    path = os.path.join(RESULTS_DIR, "s1_1_4_lr_curves.json")
    if not os.path.exists(path):
        pytest.skip("no results committed")
    with open(path) as f:
        stored = json.load(f)
    result = EXAMPLES["S1-1.4"].run()
    assert result.values == {f"{lr:g}": stored["labels"][repr(lr)] for lr in LEARNING_RATES}
    # the plotted losses are finite and the four runs started from the same weights
    firsts = {stored["curves"][repr(lr)][0] for lr in LEARNING_RATES}
    assert len(firsts) == 1


def test_classifier_table_lists_every_model_with_the_seed_figure():
    path = os.path.join(RESULTS_DIR, "s3_q2_5.json")
    if not os.path.exists(path):
        pytest.skip("no results committed")
    with open(path) as f:
        rows = {r["model"]: r for r in json.load(f)["rows"]}
    assert set(rows) == set(SEED_MNIST_ACCURACY)
    for kind, r in rows.items():
        assert r["seed_mnist_accuracy"] == SEED_MNIST_ACCURACY[kind]
        assert 10.0 < r["test_accuracy"] <= 100.0
        assert r["val_accuracy"] == max(c["val_accuracy"] for c in r["candidates"])
