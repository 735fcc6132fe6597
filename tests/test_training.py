"""The digits loader, the progress bar, replay-friendly models and a short training run."""
from __future__ import annotations

import io
import math
import random

import pytest

from helpers import assert_close
from microgradnet import Value, nn
from microgradnet.replay import compile_graph
from microgradnet.training import Progress, TrainConfig, accuracy, build_model, fit, load_digits
from microgradnet.training.experiments import classify_curves
from microgradnet.training.trainer import History

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_digits_splits_have_the_documented_shapes_and_labels(digits):
    n = len(digits.train) + len(digits.val) + len(digits.test)
    assert n == 1797
    assert len(digits.test) == round(0.2 * 1797)
    assert len(digits.val) == round(0.1 * (1797 - len(digits.test)))
    for split in (digits.train, digits.val, digits.test):
        assert len(split.X) == len(split.y)
        assert all(len(x) == 64 for x in split.X)
        assert all(0.0 <= v <= 1.0 for x in split.X for v in x)
        assert set(split.y) <= set(range(10))
    assert set(digits.train.y) == set(range(10))


def test_digits_split_is_deterministic_and_a_partition(digits):
    again = load_digits()
    assert again.train.y == digits.train.y and again.test.X == digits.test.X
    other = load_digits(seed=1)
    assert other.train.y != digits.train.y
    from sklearn.datasets import load_digits as sk
    full = sorted(tuple(v / 16.0 for v in row) + (int(t),)
                  for row, t in zip(sk().data.tolist(), sk().target.tolist()))
    ours = sorted(tuple(x) + (y,) for s in (digits.train, digits.val, digits.test)
                  for x, y in zip(s.X, s.y))
    assert ours == full


def test_digits_loader_refuses_bad_fractions():
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits(test_fraction=1.5)


def test_progress_bar_draws_count_rate_and_postfix():
    out = io.StringIO()
    with Progress(3, "run", file=out, min_interval=0.0) as bar:
        for _ in range(3):
            bar.set_postfix(loss=0.25)
            bar.update()
    last = out.getvalue().rstrip("\n").split("\r")[-1]
    assert last.startswith("run 100%|") and "3/3" in last and "loss=0.25" in last


@pytest.mark.parametrize("kind", ["mlp_hinge", "cnn_bn_dropout", "mlp_logistic", "cnn"])
def test_model_batch_graph_replays_exactly_with_new_data_and_masks(kind):
    model = build_model(kind, hidden=6, filters=2, seed=1)
    rng = random.Random(0)
    B = 2
    xs = [[Value(0.0) for _ in range(64)] for _ in range(B)]
    ts = [[Value(v) for v in model.encode(0)] for _ in range(B)]
    loss = model.loss(model(xs), ts)
    drops = model.layers_of(nn.Dropout)
    masks = [m for layer in drops for m in layer.mask_leaves]
    assert len(masks) == (6 * B if kind == "cnn_bn_dropout" else 0)
    params = model.parameters()
    leaves = [v for x in xs for v in x] + [v for t in ts for v in t] + masks + params
    fn = compile_graph(loss, leaves)
    for target in (3, 7):
        states = [layer._rng.getstate() for layer in drops]
        mask_values = [v for layer in drops for v in layer.draw_mask()]
        values = ([rng.random() for _ in range(64 * B)]
                  + [v for _ in range(B) for v in model.encode(target)]
                  + mask_values + [rng.uniform(-0.5, 0.5) for _ in params])
        out, grads = fn(values)
        # The eager engine on the same values: a fresh graph whose dropout layers draw the
        # same masks (their generators are rewound).
        for layer, state in zip(drops, states):
            layer._rng.setstate(state)
        for p, v in zip(params, values[len(leaves) - len(params):]):
            p.data, p.grad = v, 0.0
        fresh = [[Value(v) for v in values[64 * i:64 * (i + 1)]] for i in range(B)]
        eager = model.loss(model(fresh), [[Value(v) for v in model.encode(target)]
                                          for _ in range(B)])
        eager.backward()
        assert [m.data for layer in drops for m in layer.mask_leaves] == mask_values
        assert out == eager.data
        assert grads[:64 * B] == [v.grad for x in fresh for v in x]
        assert grads[len(leaves) - len(params):] == [p.grad for p in params]


def test_short_training_run_lowers_the_loss(digits):
    model = build_model("mlp_softmax", hidden=8, seed=0)
    data = digits.train.subset(96)
    before = _mean_loss(model, data)
    hist = fit(model, data, TrainConfig(lr=0.1, epochs=3, batch_size=16, momentum=0.9),
               show_progress=False)
    after = _mean_loss(model, data)
    assert len(hist.step_loss) == 18 and not hist.diverged
    assert after < 0.7 * before, (before, after)
    assert accuracy(model, data) > 0.25     # chance is 0.1


def _mean_loss(model, data) -> float:
    xs = [[Value(v) for v in x] for x in data.X]
    ts = [[float(k == y) for k in range(10)] for y in data.y]
    model.eval()
    return model.loss(model(xs), ts).data


def test_a_far_too_high_learning_rate_is_reported_as_diverged(digits):
    model = build_model("softmax", seed=0)
    data = load_digits(scale=1.0).train.subset(64)
    hist = fit(model, data, TrainConfig(lr=1e6, epochs=1, batch_size=16, momentum=0.0),
               show_progress=False)
    assert hist.diverged or max(hist.step_loss) > 100 * hist.step_loss[0]


def test_curve_labels_follow_divergence_and_final_loss():
    h = {0.4: History([1.0, 9.0], [5.0]), 8e-3: History([1.0, 0.2], [0.3]),
         3e-4: History([1.0, 0.5], [0.6]), 2e-5: History([1.0, 0.9], [0.95])}
    assert classify_curves(h) == {0.4: "way too high", 8e-3: "good", 3e-4: "too low",
                                  2e-5: "too low"}


def test_train_command_writes_the_lr_curve_results(tmp_path, capsys):
    from microgradnet.cli import main
    code = main(["train", "lr-curves", "--subset", "32", "--epochs", "1", "--quiet",
                 "--no-plot", "--out", str(tmp_path)])
    assert code == 0
    assert {p.name for p in tmp_path.iterdir()} == {
        "s1_1_4_lr_curves.csv", "s1_1_4_lr_curves.json", "s1_1_4_lr_curves.md"}
    assert "lr=0.4" in capsys.readouterr().out
    assert main(["train"]) == 2
