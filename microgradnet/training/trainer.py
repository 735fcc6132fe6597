"""Training loops on replayed graphs: the mini-batch graph of a :class:`Classifier` (layers of
:mod:`microgradnet.nn`) is built and compiled once, then every step feeds it a new batch, new
dropout masks and the current parameters (see :mod:`microgradnet.replay`).

The optimiser is SGD with momentum and L2 weight decay in PyTorch's form:
``g <- dL/dp + wd * p`` (weights only, not biases), ``v <- mu v + g``, ``p <- p - lr v``; weight
decay ``wd`` is the gradient of the penalty ``(wd / 2) * sum w^2``, which the reported loss
includes.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from .. import nn
from ..engine import Value
from ..replay import compile_forward, compile_graph
from .data import Split
from .models import Classifier
from .progress import progress_bar

__all__ = ["TrainConfig", "History", "fit", "predict", "accuracy", "fit_batchnorm"]


@dataclass
class TrainConfig:
    """Settings of one training run.

    Attributes:
        lr: learning rate.
        epochs: passes over the training set (the last incomplete batch of each is dropped).
        batch_size: samples per step.
        momentum: SGD momentum (0 = plain SGD).
        weight_decay: L2 coefficient ``wd`` (penalty ``wd/2 * sum w^2`` on weights).
        seed: seed of the shuffling (the dropout masks come from the layers' own generators).
        max_steps: stop after this many steps (None: run all epochs).
    """
    lr: float = 0.05
    epochs: int = 10
    batch_size: int = 16
    momentum: float = 0.9
    weight_decay: float = 1e-4
    seed: int = 0
    max_steps: int | None = None


@dataclass
class History:
    """What a run recorded: the loss of every step (data loss + L2 penalty) and per epoch."""
    step_loss: list = field(default_factory=list)
    epoch_loss: list = field(default_factory=list)
    diverged: bool = False
    seconds: float = 0.0


def _one_hot(label: int, n: int) -> list:
    t = [0.0] * n
    t[label] = 1.0
    return t


def _input_leaves(model: Classifier, n: int) -> list:
    return [[Value(0.0, "x") for _ in range(math.prod(model.in_shape))] for _ in range(n)]


def fit(model: Classifier, data: Split, config: TrainConfig, show_progress: bool = True,
        desc: str = "") -> History:
    """Train ``model`` on ``data`` with mini-batch SGD, replaying one compiled batch graph.

    The graph of one training batch (inputs, target leaves, dropout mask leaves, parameters)
    is built once in training mode and compiled with :func:`microgradnet.replay.compile_graph`;
    every step feeds it the next batch, new dropout masks (:meth:`nn.Dropout.draw_mask`) and
    the current parameters. After training, batch norm's running statistics are set by
    :func:`fit_batchnorm` and the model is left in eval mode.

    A step whose loss or gradient is not finite (a learning rate far too high) ends the run
    with ``History.diverged`` set; the parameters keep their last finite values.

    Returns:
        The :class:`History` of the run; the model's parameter Values hold the trained values.
    """
    import time
    start = time.perf_counter()
    B = config.batch_size
    if B < 1 or B > len(data):
        raise ValueError(f"fit: batch_size must lie in 1..{len(data)}, got {B}")
    for name in ("epochs", "max_steps"):
        n = getattr(config, name)
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise ValueError(f"fit: {name} must be an int >= 0, got {n!r}")
    model.train()
    n_out = model.n_classes
    xs = _input_leaves(model, B)
    ts = [[Value(v, "t") for v in model.encode(0)] for _ in range(B)]
    loss = model.loss(model(xs), ts)
    dropouts = model.layers_of(nn.Dropout)
    masks = [m for layer in dropouts for m in layer.mask_leaves]
    model_params = model.parameters()
    leaves = [v for x in xs for v in x] + [v for t in ts for v in t] + masks + model_params
    fn = compile_graph(loss, leaves, grad_leaves=model_params)
    n_fixed = len(leaves) - len(model_params)
    params = [p.data for p in model_params]
    velocity = [0.0] * len(params)
    decayed = set(model.decayed())
    decay = [config.weight_decay if p in decayed else 0.0 for p in model_params]
    targets = [model.encode(k) for k in range(n_out)]
    rng = random.Random(config.seed)
    steps_per_epoch = len(data) // B
    total = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    hist = History()
    # On a terminal only: a log file gets no redrawn lines.
    bar = progress_bar(total, desc or model.display_name,
                       disable=None if show_progress else True)
    mu, lr = config.momentum, config.lr
    step = 0
    for epoch in range(config.epochs):
        order = list(range(len(data)))
        rng.shuffle(order)
        epoch_losses = []
        for s in range(steps_per_epoch):
            if step >= total:
                break
            idx = order[s * B:(s + 1) * B]
            values = [v for i in idx for v in data.X[i]]
            for i in idx:
                values.extend(targets[data.y[i]])
            for layer in dropouts:
                values.extend(layer.draw_mask())
            assert len(values) == n_fixed
            try:
                out, grads = fn(values + params)
            except ArithmeticError:
                hist.diverged = True
                break
            penalty = 0.5 * sum(d * p * p for d, p in zip(decay, params))
            total_loss = out + penalty
            if not math.isfinite(total_loss):
                hist.diverged = True
                break
            g = grads[n_fixed:]
            new = []
            for k, p in enumerate(params):
                v = mu * velocity[k] + g[k] + decay[k] * p
                velocity[k] = v
                new.append(p - lr * v)
            if not all(math.isfinite(p) for p in new):
                hist.diverged = True
                break
            params = new
            hist.step_loss.append(total_loss)
            epoch_losses.append(total_loss)
            step += 1
            bar.set_postfix(epoch=epoch + 1, loss=total_loss, refresh=False)
            bar.update()
        if epoch_losses:
            hist.epoch_loss.append(sum(epoch_losses) / len(epoch_losses))
        if hist.diverged or step >= total:
            break
    bar.close()
    for p, v in zip(model_params, params):
        p.data = v
    if model.layers_of(nn.BatchNorm1d) or model.layers_of(nn.BatchNorm2d):
        fit_batchnorm(model, data, B)
    model.eval()
    hist.seconds = time.perf_counter() - start
    return hist


def fit_batchnorm(model: Classifier, data: Split, batch_size: int) -> None:
    """Set every batch-norm layer's running statistics from the training data: the average over
    the training batches (in order, the last incomplete one dropped) of the batch means and of
    the unbiased batch variances, with the current parameters and dropout off, as PyTorch's
    running statistics with ``momentum=None`` are. One forward-only replay of the batch
    statistics (:attr:`nn.BatchNorm1d.batch_stats`) does it.

    Args:
        model: the classifier.
        data: the training data.
        batch_size: the samples per batch.
    """
    B = batch_size
    if B < 2 or B > len(data):
        raise ValueError(f"fit_batchnorm: batch_size must lie in 2..{len(data)}, got {B}")
    model.train()
    for layer in model.layers_of(nn.Dropout):
        layer.training = False
    bns = model.layers_of(nn.BatchNorm1d) + model.layers_of(nn.BatchNorm2d)
    xs = _input_leaves(model, B)
    model(xs)
    stats = [(layer, layer.batch_stats) for layer in bns]
    outs = [node for _, st in stats for mean, var, _ in st for node in (mean, var)]
    params = model.parameters()
    fwd = compile_forward(outs, [v for x in xs for v in x] + params)
    values = [p.data for p in params]
    sums = [0.0] * len(outs)
    n_batches = len(data) // B
    for s in range(n_batches):
        batch = [v for i in range(s * B, (s + 1) * B) for v in data.X[i]]
        for k, v in enumerate(fwd(batch + values)):
            sums[k] += v
    k = 0
    for layer, st in stats:
        for f, (_, _, n) in enumerate(st):
            layer.running_mean[f] = sums[k] / n_batches
            layer.running_var[f] = sums[k + 1] / n_batches * n / (n - 1)
            k += 2
    model.eval()


def predict(model: Classifier, X: list) -> list:
    """The predicted class (arg-max of the outputs) of every sample of ``X``, by replaying the
    eval-mode graph of one sample (batch norm's running statistics are its constants)."""
    was_training = model.training
    model.eval()
    x = _input_leaves(model, 1)
    z = model(x)[0]
    params = model.parameters()
    fwd = compile_forward(z, x[0] + params)
    rest = [p.data for p in params]
    preds = []
    for sample in X:
        out = fwd(list(sample) + rest)
        preds.append(max(range(len(out)), key=out.__getitem__))
    model.train(was_training)
    return preds


def accuracy(model: Classifier, data: Split) -> float:
    """The share of ``data`` that ``model`` classifies correctly."""
    preds = predict(model, data.X)
    return sum(p == y for p, y in zip(preds, data.y)) / len(data)
