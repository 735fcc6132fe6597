"""The digits loader, the progress bar, replay-friendly models and a short training run."""
from __future__ import annotations

import io
import random

import pytest

from helpers import assert_all_close, assert_close
from microgradnet.nested import data_of
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
    with pytest.raises(ValueError, match="split must be one of"):
        load_digits(split="random")


def _counts(labels) -> list:
    return [labels.count(k) for k in range(10)]


def test_the_default_split_is_stratified_the_recorded_runs_used_the_shuffled_one(digits):
    from sklearn.datasets import load_digits as sk
    whole = _counts([int(t) for t in sk().target.tolist()])
    for part in (digits.train, digits.val, digits.test):
        share = [c * len(part) / 1797 for c in whole]
        assert all(abs(c - s) <= 1 for c, s in zip(_counts(part.y), share)), _counts(part.y)
    old = load_digits(split="shuffled")
    assert [len(p) for p in (old.train, old.val, old.test)] == \
        [len(p) for p in (digits.train, digits.val, digits.test)]
    # The cut the recorded results were made with: its validation set is lopsided.
    assert _counts(old.val.y)[1] == 5 and _counts(old.val.y)[7] == 22


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tqdm_installed", [True, False])
def test_progress_draws_on_a_terminal_only(tqdm_installed, monkeypatch):
    import sys
    from microgradnet.training import progress_bar
    if tqdm_installed:
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setitem(sys.modules, "tqdm", None)     # import tqdm raises ImportError
    log, tty = io.StringIO(), _Terminal()
    for file in (log, tty):
        bar = progress_bar(3, "run", file=file)
        assert type(bar).__name__ == ("tqdm" if tqdm_installed else "Progress")
        for _ in range(3):
            bar.set_postfix(loss=0.25, refresh=False)
            bar.update()
        bar.close()
    assert log.getvalue() == ""
    assert "3/3" in tty.getvalue() and "loss=0.25" in tty.getvalue()
    quiet = _Terminal()
    bar = progress_bar(2, file=quiet, disable=True)
    bar.update(2)
    bar.close()
    assert quiet.getvalue() == ""


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


@pytest.mark.parametrize("kind", ["logistic", "svm", "mlp_softmax", "cnn", "cnn_bn_dropout"])
def test_model_loss_and_gradients_match_the_same_network_in_pytorch(kind):
    """The whole training graph (layers, dropout mask, per-class loss, batch mean) against
    PyTorch float64 with the same weights and the same mask."""
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    model = build_model(kind, hidden=5, filters=2, seed=3)
    rng = random.Random(4)
    for p in model.parameters():            # biases and batch norm's scale/shift too
        p.data = rng.uniform(-0.5, 0.5)
    B, labels = 3, [2, 7, 2]
    X = [[rng.random() for _ in range(64)] for _ in range(B)]
    model.train()
    xs = [[Value(v) for v in x] for x in X]
    loss = model.loss(model(xs), [model.encode(k) for k in labels])
    loss.backward()
    drops = model.layers_of(nn.Dropout)
    mask = torch.tensor(drops[0].mask, dtype=torch.float64) if drops else None

    net = {}
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            net[m.name] = (torch.tensor(data_of(m.weight), dtype=torch.float64,
                                        requires_grad=True),
                           torch.tensor(data_of(m.bias), dtype=torch.float64, requires_grad=True))
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            net[m.name] = tuple(torch.tensor([v.data for v in vs], dtype=torch.float64,
                                             requires_grad=True) for vs in (m.weight, m.bias))
    tx = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    h = tx
    if kind.startswith("cnn"):
        h = tf.conv2d(h.view(B, 1, 8, 8), *net["conv"])
        if kind == "cnn_bn_dropout":
            h = tf.batch_norm(h, None, None, *net["bn1"], training=True)
        h = tf.max_pool2d(tf.relu(h), 2).flatten(1)
        h = tf.linear(h, *net["fc1"])
        if kind == "cnn_bn_dropout":
            h = tf.batch_norm(h, None, None, *net["bn2"], training=True)
        h = tf.relu(h)
        if mask is not None:
            h = h * mask
        z = tf.linear(h, *net["fc2"])
    elif kind.startswith("mlp"):
        z = tf.linear(tf.relu(tf.linear(h, *net["fc1"])), *net["fc2"])
    else:
        z = tf.linear(h, *net["fc"])
    y = torch.tensor(labels)
    onehot = tf.one_hot(y, 10).double()
    if model.loss_name == "softmax":
        t_loss = tf.cross_entropy(z, y)
    elif model.loss_name == "logistic":
        t_loss = tf.binary_cross_entropy_with_logits(z, onehot, reduction="sum") / B
    else:
        t_loss = torch.clamp(1 - (2 * onehot - 1) * z, min=0).sum() / B
    t_loss.backward()
    assert_close(loss.data, t_loss.item(), rtol=1e-12)
    assert_all_close([v.grad for x in xs for v in x], tx.grad.flatten().tolist(), rtol=1e-9,
                     atol=1e-13)
    ours = [p.grad for p in model.parameters()]
    theirs = [g for name in net for t in net[name] for g in t.grad.flatten().tolist()]
    assert_all_close(ours, theirs, rtol=1e-9, atol=1e-13)


def test_fit_batchnorm_sets_running_statistics_to_the_mean_of_the_batch_statistics(digits):
    from microgradnet.training import fit_batchnorm
    model = build_model("cnn_bn_dropout", hidden=4, filters=2, seed=2)
    data = digits.train.subset(40)
    fit_batchnorm(model, data, 16)          # two batches; the last 8 samples are dropped
    assert not model.training
    bns = model.layers_of(nn.BatchNorm2d) + model.layers_of(nn.BatchNorm1d)
    fitted = {id(bn): (list(bn.running_mean), list(bn.running_var)) for bn in bns}
    expected = {id(bn): ([0.0] * bn.num_features, [0.0] * bn.num_features) for bn in bns}
    model.train()
    model.layers_of(nn.Dropout)[0].training = False
    for s in (0, 16):
        model([[Value(v) for v in x] for x in data.X[s:s + 16]])
        for bn in bns:
            means, variances = expected[id(bn)]
            for f, (mean, var, n) in enumerate(bn.batch_stats):
                means[f] += mean.data / 2
                variances[f] += var.data * n / (n - 1) / 2
    for bn in bns:
        assert_all_close(fitted[id(bn)][0], expected[id(bn)][0], rtol=1e-12, atol=1e-15)
        assert_all_close(fitted[id(bn)][1], expected[id(bn)][1], rtol=1e-12)


def test_a_subset_is_never_taken_from_the_end(digits):
    assert len(digits.train.subset(5)) == 5
    with pytest.raises(ValueError, match="n must be an int >= 0, got -5"):
        digits.train.subset(-5)


def test_fit_refuses_a_negative_epoch_count(digits):
    model = build_model("softmax")
    with pytest.raises(ValueError, match="epochs must be an int >= 0, got -1"):
        fit(model, digits.train.subset(32), TrainConfig(epochs=-1), show_progress=False)


def test_experiments_refuse_unknown_models_and_zero_epochs():
    from microgradnet.training.experiments import run_classifiers, run_lr_curves
    with pytest.raises(ValueError, match="'foo'"):
        run_classifiers(out_dir=None, kinds=["svm", "foo"], show_progress=False)
    with pytest.raises(ValueError, match="epochs must be an int >= 1, got 0"):
        run_lr_curves(out_dir=None, epochs=0, show_progress=False)


@pytest.mark.parametrize("args,says", [
    (["--models", "foo"], "invalid choice: 'foo'"),
    (["--epochs", "-1"], "must be at least 1, got -1"),
    (["--epochs", "0"], "must be at least 1, got 0"),
    (["--subset", "-5"], "must be at least 1, got -5"),
    (["--subset", "x"], "expected an integer, got 'x'"),
])
def test_train_command_refuses_bad_options_with_a_message(capsys, args, says):
    from microgradnet.cli import main
    with pytest.raises(SystemExit) as exit_:
        main(["train", "classifiers", "--quiet", "--out", ""] + args)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


def test_train_command_reports_a_subset_smaller_than_a_batch(capsys):
    from microgradnet.cli import main
    assert main(["train", "classifiers", "--quiet", "--out", "", "--models", "svm",
                 "--subset", "5"]) == 2
    err = capsys.readouterr().err
    assert "batch_size must lie in 1..5" in err and "Traceback" not in err
