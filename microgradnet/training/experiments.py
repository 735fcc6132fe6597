"""The two experiments of the seeds, run on scikit-learn's 8x8 digits with replayed graphs.

- :func:`run_classifiers` (S3-Q2-5, seed ``003_46b4f35227c027e8.txt``, Q2-Q5): the eight
  classifiers, each hyper-parameter chosen on the validation set, test accuracy next to the
  seed's MNIST figure.
- :func:`run_lr_curves` (S1-1.4, seed ``001_34f8d7f6bc1ecf0d.txt``, section 1.4): one model
  trained with SGD + L2 at four learning rates, the four loss curves in one figure, and the
  behaviour each rate shows.

Both write their results (CSV, JSON, Markdown; a PNG for the curves) to a directory.
"""
from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from .data import load_digits
from .models import build_model
from .trainer import TrainConfig, accuracy, fit

__all__ = ["SEED_MNIST_ACCURACY", "CLASSIFIER_GRID", "run_classifiers", "run_lr_curves",
           "LEARNING_RATES", "SEED_LR_LABELS", "OTHER_SCALES", "classify_curves",
           "OUTPUT_FILES", "check_out_dir"]

#: The files each experiment writes into its ``out_dir`` (the figure only when plotting).
OUTPUT_FILES = {
    "classifiers": ("s3_q2_5.csv", "s3_q2_5.json", "s3_q2_5.md"),
    "lr-curves": ("s1_1_4_lr_curves.csv", "s1_1_4_lr_curves.json", "s1_1_4_lr_curves.md",
                  "s1_1_4_lr_curves.png"),
}


def check_out_dir(out_dir, names, overwrite: bool = False) -> None:
    """Refuse, before any training, an ``out_dir`` where writing the files ``names`` would
    replace results (unless ``overwrite``) or would fail after minutes of training.

    Raises:
        FileExistsError: one of ``names`` is already there and ``overwrite`` is False (the
            committed ``results/`` are only replaced on purpose).
        OSError: ``out_dir`` is a file or cannot be written, or one of ``names`` is a broken
            symbolic link, a folder or a file that cannot be written.
    """
    if not out_dir:
        return
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder}: is a file, not a folder")
    present = [n for n in names if os.path.lexists(folder / n)]
    bad = []
    for name in present:
        f = folder / name
        if not f.exists():
            bad.append(f"{name} is a broken symbolic link (to {os.readlink(f)})")
        elif f.is_dir():
            bad.append(f"{name} is a folder")
        elif not os.access(f, os.W_OK):
            bad.append(f"{name} cannot be written")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        bad.append(f"{existing} cannot be written")
    if bad:
        raise OSError(f"{folder}: cannot write the results there: {'; '.join(bad)}")
    if present and not overwrite:
        raise FileExistsError(f"{folder}: would replace {', '.join(present)}; pass "
                              "overwrite=True to replace them, or another out_dir")

#: Test accuracies (%) the seed reports on MNIST (S3-Q2-5, seed 003, Q2.3 to Q5.4).
SEED_MNIST_ACCURACY = {"logistic": 93.6, "mlp_logistic": 94.0, "svm": 92.8, "mlp_hinge": 94.0,
                       "softmax": 92.0, "mlp_softmax": 93.63, "cnn": 97.24,
                       "cnn_bn_dropout": 90.58}

#: What each model is, for the table.
DESCRIPTIONS = {
    "logistic": "logistic regression, one-vs-rest (10 binary sigmoid classifiers)",
    "mlp_logistic": "2-layer net (ReLU) + one-vs-rest logistic output",
    "svm": "linear SVM, one-vs-rest (10 binary hinge classifiers)",
    "mlp_hinge": "2-layer net (ReLU) + one-vs-rest hinge output",
    "softmax": "softmax regression (multinomial)",
    "mlp_softmax": "2-layer net (ReLU) + softmax output",
    "cnn": "conv-ReLU-maxpool-FC-ReLU-FC + softmax",
    "cnn_bn_dropout": "conv-BN-ReLU-maxpool-FC-BN-ReLU-dropout-FC + softmax",
}

#: The candidates tried on the validation set, per model (keyword arguments of build_model and
#: TrainConfig). The seed tunes hidden units (Q2-Q4), filter size and hidden units (Q5.3) and the
#: dropout rate (Q5.4); the linear models get a learning-rate choice instead. The plain CNN gets
#: learning rate x number of filters (3x3 kernels and 32 hidden units: 5x5 kernels leave a 2x2
#: map of an 8x8 image after pooling, and 16 hidden units did worse on validation).
CLASSIFIER_GRID: dict[str, list[dict[str, float]]] = {
    "logistic": [{"lr": lr} for lr in (0.01, 0.05, 0.2)],
    "svm": [{"lr": lr} for lr in (0.01, 0.05, 0.2)],
    "softmax": [{"lr": lr} for lr in (0.01, 0.05, 0.2)],
    "mlp_logistic": [{"hidden": h} for h in (16, 32, 64)],
    "mlp_hinge": [{"hidden": h} for h in (16, 32, 64)],
    "mlp_softmax": [{"hidden": h} for h in (16, 32, 64)],
    "cnn": [{"filters": f, "lr": lr} for f in (4, 8, 16) for lr in (0.005, 0.01, 0.02, 0.05)],
    "cnn_bn_dropout": [{"p_drop": p} for p in (0.2, 0.5, 0.8)],
}

_MODEL_KEYS = ("hidden", "filters", "kernel", "p_drop")


def _split_kwargs(cand: dict, base: TrainConfig) -> tuple:
    model_kw = {k: v for k, v in cand.items() if k in _MODEL_KEYS}
    train_kw = {k: v for k, v in cand.items() if k not in _MODEL_KEYS}
    cfg = TrainConfig(**{**asdict(base), **train_kw})
    return model_kw, cfg


def run_classifiers(out_dir: str | None = "results", kinds=None, epochs: int = 10,
                    batch_size: int = 16, train_subset: int | None = None, seed: int = 0,
                    show_progress: bool = True, grid: dict | None = None,
                    split: str = "stratified", overwrite: bool = False) -> list:
    """Train the eight classifiers of S3-Q2-5 and write the table.

    For each model every candidate of ``grid`` is trained on the training split and scored on
    the validation split; the best one (ties: the first) is scored once on the test split.

    Args:
        out_dir: where to write ``s3_q2_5.csv``, ``.json`` and ``.md`` (None or "": write
            nothing); checked before any training (:func:`check_out_dir`).
        kinds: the models to run (default: all eight).
        epochs, batch_size, seed: training settings shared by all runs.
        train_subset: use only the first n training images (for quick runs).
        grid: the candidates per model (default :data:`CLASSIFIER_GRID`).
        split: how the digits are split (:data:`microgradnet.training.data.SPLITS`); the
            recorded results in ``results/`` used ``"shuffled"``, new runs default to
            ``"stratified"``.
        overwrite: replace those files if ``out_dir`` already holds them (such as the
            committed ``results/``); without it they are refused.

    Returns:
        One dict per model: kind, chosen hyper-parameters, validation and test accuracy (%),
        the seed's MNIST figure, parameters, seconds, and every candidate tried (with its
        validation and test accuracy; only validation picks the model).

    Raises:
        ValueError: a kind that is not one of the eight, or one ``grid`` has no candidates for.
        FileExistsError, OSError: see :func:`check_out_dir`.
    """
    grid = grid or CLASSIFIER_GRID
    kinds = list(kinds or SEED_MNIST_ACCURACY)
    unknown = [k for k in kinds if k not in SEED_MNIST_ACCURACY or not grid.get(k)]
    if unknown:
        raise ValueError(f"run_classifiers: no model or no candidates for {unknown}; models: "
                         f"{', '.join(SEED_MNIST_ACCURACY)}")
    check_out_dir(out_dir, OUTPUT_FILES["classifiers"], overwrite)
    data = load_digits(seed=seed, split=split)
    train = data.train if train_subset is None else data.train.subset(train_subset)
    base = TrainConfig(lr=0.05, epochs=epochs, batch_size=batch_size, momentum=0.9,
                       weight_decay=1e-4, seed=seed)
    rows = []
    t0 = time.perf_counter()
    for kind in kinds:
        start = time.perf_counter()
        best: tuple | None = None         # (val accuracy, candidate, model, config)
        tried = []
        for cand in grid[kind]:
            model_kw, cfg = _split_kwargs(cand, base)
            model = build_model(kind, seed=seed, **model_kw)
            desc = f"{kind} {' '.join(f'{k}={v}' for k, v in cand.items())}"
            hist = fit(model, train, cfg, show_progress=show_progress, desc=desc)
            val = accuracy(model, data.val)
            # Every candidate's test accuracy is kept for reading the table (S3-Q2-5 sets the
            # two readings of the seed's dropout rate side by side); the choice uses val only.
            tried.append({**cand, "val_accuracy": round(100 * val, 2),
                          "test_accuracy": round(100 * accuracy(model, data.test), 2),
                          "final_loss": hist.epoch_loss[-1] if hist.epoch_loss else None})
            if best is None or val > best[0]:
                best = (val, cand, model, cfg)
        assert best is not None, "every kind has candidates (checked above)"
        val, cand, model, cfg = best
        test = accuracy(model, data.test)
        rows.append({
            "model": kind, "description": DESCRIPTIONS[kind],
            "chosen": cand, "lr": cfg.lr, "epochs": cfg.epochs, "batch_size": cfg.batch_size,
            "parameters": model.num_parameters(),
            "val_accuracy": round(100 * val, 2), "test_accuracy": round(100 * test, 2),
            "seed_mnist_accuracy": SEED_MNIST_ACCURACY[kind],
            "candidates": tried, "seconds": round(time.perf_counter() - start, 1),
        })
    if out_dir:
        _write_table(rows, out_dir, data, train, round(time.perf_counter() - t0, 1), split)
    return rows


def _write_table(rows: list, out_dir: str, data, train, seconds: float, split: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    meta = {"data": "scikit-learn 8x8 digits", "train": len(train), "val": len(data.val),
            "test": len(data.test), "split": split,
            "optimiser": "SGD momentum 0.9, L2 weight decay 1e-4",
            "selection": "best validation accuracy over the candidates",
            "layers": "microgradnet.nn, training graphs replayed (microgradnet.replay)",
            "seconds": seconds}
    with open(os.path.join(out_dir, "s3_q2_5.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    with open(os.path.join(out_dir, "s3_q2_5.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "chosen", "parameters", "val_accuracy", "test_accuracy",
                    "seed_mnist_accuracy", "seconds"])
        for r in rows:
            w.writerow([r["model"], json.dumps(r["chosen"]), r["parameters"], r["val_accuracy"],
                        r["test_accuracy"], r["seed_mnist_accuracy"], r["seconds"]])
    lines = ["# S3-Q2-5: eight classifiers on the 8x8 digits (seed 003 figures are on MNIST)", "",
             f"Data: {meta['data']}, {meta['train']} train / {meta['val']} validation / "
             f"{meta['test']} test images ({split} split). {meta['optimiser']}, mini-batches of "
             f"{rows[0]['batch_size'] if rows else '-'}, {rows[0]['epochs'] if rows else '-'} "
             "epochs; hyper-parameters chosen by validation accuracy (learning rate 0.05 unless "
             f"chosen). Layers from microgradnet.nn; every run replays one compiled batch graph. "
             f"All {sum(len(r['candidates']) for r in rows)} runs took {seconds:.0f} s.", "",
             "| model | what | chosen | candidates | params | val % | test % | seed (MNIST) % |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        chosen = ", ".join(f"{k}={v}" for k, v in r["chosen"].items())
        lines.append(f"| {r['model']} | {r['description']} | {chosen} | "
                     f"{len(r['candidates'])} | {r['parameters']} | "
                     f"{r['val_accuracy']:.2f} | {r['test_accuracy']:.2f} | "
                     f"{r['seed_mnist_accuracy']:.2f} |")
    with open(os.path.join(out_dir, "s3_q2_5.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---- S1-1.4: four learning rates ---------------------------------------------------------------

#: The learning rates of S1-1.4 and the behaviour the seed assigns to each (curve letter).
LEARNING_RATES = (4e-1, 8e-3, 3e-4, 2e-5)
SEED_LR_LABELS = {4e-1: ("A", "way too high"), 8e-3: ("C", "too high"),
                  3e-4: ("D", "good"), 2e-5: ("B", "too low")}


def classify_curves(histories: dict) -> dict:
    """Name the behaviour of each loss curve from the curves alone.

    Rules: a curve that diverges or whose loss ever exceeds its first value by half is
    "way too high"; of the others the one with the lowest final loss (mean of its last epoch) is
    "good"; the rest are "too high" or "too low" as their rate is above or below the good one.
    """
    labels: dict[float, str] = {}
    calm: dict[float, float] = {}   # learning rate -> final loss, of the curves that stay calm
    for lr, h in histories.items():
        first = h.step_loss[0] if h.step_loss else float("inf")
        if h.diverged or not h.step_loss or max(h.step_loss) > 1.5 * first:
            labels[lr] = "way too high"
        else:
            calm[lr] = h.epoch_loss[-1]
    if calm:
        good = min(calm, key=calm.__getitem__)
        for lr in calm:
            labels[lr] = "good" if lr == good else ("too high" if lr > good else "too low")
    return labels


#: The other set-ups each lr-curves run also trains (S1-1.4): pixels divided by 16, i.e.
#: scaled to [0, 1], against the raw values 0..16 of the main run. Which rate is "good" moves
#: with the scale of the inputs, and this records by how much.
OTHER_SCALES = (16.0,)


def run_lr_curves(out_dir: str | None = "results", epochs: int = 4, batch_size: int = 16,
                  weight_decay: float = 1e-3, kind: str = "softmax", scale: float = 1.0,
                  train_subset: int | None = None, seed: int = 0,
                  show_progress: bool = True, plot: bool = True,
                  other_scales: tuple = OTHER_SCALES, split: str = "stratified",
                  overwrite: bool = False) -> dict:
    """Train one model (softmax regression on raw pixel values 0..16 by default) with plain SGD
    + L2 at the four learning rates of S1-1.4, from the same initial weights; then the same on
    each of ``other_scales`` (pixel values divided by it), to show how the ranking of the rates
    depends on the set-up. ``split`` is as in :func:`run_classifiers` (the recorded curves
    used ``"shuffled"``). ``out_dir`` and ``overwrite`` are as in :func:`run_classifiers`.

    Returns:
        ``{"curves": {lr: step losses}, "labels": {lr: behaviour}, "seed": {lr: (curve,
        behaviour)}, "match": {lr: bool}, "other_setups": [{"scale", "curves", "diverged",
        "final_epoch_loss", "labels"}, ...]}``; also writes ``s1_1_4_lr_curves.csv``,
        ``.json``, ``.md`` and (with matplotlib, ``plot=True``) ``.png`` (the main set-up's
        curves) to ``out_dir``.

    Raises:
        ValueError: ``epochs`` < 1 (with no step there is no curve to name).
        FileExistsError, OSError: see :func:`check_out_dir`.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"run_lr_curves: epochs must be an int >= 1, got {epochs!r}")
    names = OUTPUT_FILES["lr-curves"]
    check_out_dir(out_dir, names if plot else names[:-1], overwrite)

    def train_rates(pixel_scale: float) -> tuple:
        data = load_digits(seed=seed, scale=pixel_scale, split=split)
        train = data.train if train_subset is None else data.train.subset(train_subset)
        histories = {}
        for lr in LEARNING_RATES:
            model = build_model(kind, seed=seed)
            cfg = TrainConfig(lr=lr, epochs=epochs, batch_size=batch_size, momentum=0.0,
                              weight_decay=weight_decay, seed=seed)
            histories[lr] = fit(model, train, cfg, show_progress=show_progress,
                                desc=f"lr={lr:g} (pixels / {pixel_scale:g})")
        return histories, train

    histories, train = train_rates(scale)
    result = {
        "model": kind, "scale": scale, "epochs": epochs, "batch_size": batch_size,
        "weight_decay": weight_decay, "train": len(train), "split": split,
        **_setup_record(histories),
        "seed": {repr(lr): list(SEED_LR_LABELS[lr]) for lr in LEARNING_RATES},
    }
    result["match"] = {repr(lr): result["labels"][repr(lr)] == SEED_LR_LABELS[lr][1]
                       for lr in LEARNING_RATES}
    result["other_setups"] = [{"scale": s, **_setup_record(train_rates(s)[0])}
                              for s in other_scales]
    if out_dir:
        _write_curves(result, histories, out_dir, plot)
    return result


def _setup_record(histories: dict) -> dict:
    """The curves of one set-up and the behaviour each rate shows, keyed by ``repr(lr)``."""
    labels = classify_curves(histories)
    return {
        "curves": {repr(lr): h.step_loss for lr, h in histories.items()},
        "diverged": {repr(lr): h.diverged for lr, h in histories.items()},
        "final_epoch_loss": {repr(lr): h.epoch_loss[-1] if h.epoch_loss else None
                             for lr, h in histories.items()},
        "labels": {repr(lr): labels[lr] for lr in LEARNING_RATES},
    }


def _write_curves(result: dict, histories: dict, out_dir: str, plot: bool) -> None:
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "s1_1_4_lr_curves.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(out_dir, "s1_1_4_lr_curves.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["step"] + [f"lr={lr:g}" for lr in LEARNING_RATES])
        n = max(len(h.step_loss) for h in histories.values())
        for s in range(n):
            w.writerow([s + 1] + [repr(histories[lr].step_loss[s])
                                  if s < len(histories[lr].step_loss) else ""
                                  for lr in LEARNING_RATES])
    lines = ["# S1-1.4: which learning rate gives which loss curve", "",
             f"Model: {result['model']} on the 8x8 digits (pixel values divided by "
             f"{result['scale']:g}), plain SGD, L2 weight decay {result['weight_decay']:g}, "
             f"mini-batches of {result['batch_size']}, {result['epochs']} epochs, same initial "
             "weights for every rate. Figure: `s1_1_4_lr_curves.png`.", "",
             "| learning rate | final epoch loss | behaviour here | seed's curve | seed says | "
             "same |", "|---|---|---|---|---|---|"]
    for lr in LEARNING_RATES:
        k = repr(lr)
        fl = result["final_epoch_loss"][k]
        curve, says = SEED_LR_LABELS[lr]
        lines.append(f"| {lr:g} | {fl:.4g} | {result['labels'][k]} | {curve} | {says} | "
                     f"{'yes' if result['match'][k] else 'no'} |")
    for setup in result.get("other_setups", []):
        lines += ["", f"Same run, pixel values divided by {setup['scale']:g}:", "",
                  "| learning rate | final epoch loss | behaviour here |", "|---|---|---|"]
        for lr in LEARNING_RATES:
            k = repr(lr)
            lines.append(f"| {lr:g} | {setup['final_epoch_loss'][k]:.4g} | "
                         f"{setup['labels'][k]} |")
    with open(os.path.join(out_dir, "s1_1_4_lr_curves.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    if plot:
        _plot_curves(result, histories, os.path.join(out_dir, "s1_1_4_lr_curves.png"))


def _plot_curves(result: dict, histories: dict, path: str) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("the figure needs matplotlib: pip install 'microgradnet[plot]'") from e
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for lr in LEARNING_RATES:
        losses = histories[lr].step_loss
        window = 10
        spans = [losses[max(0, i - window + 1):i + 1] for i in range(len(losses))]
        smooth = [sum(span) / len(span) for span in spans]
        curve, says = SEED_LR_LABELS[lr]
        ax.plot(range(1, len(smooth) + 1), smooth,
                label=f"lr={lr:g}: {result['labels'][repr(lr)]} (seed: {curve}, {says})")
    ax.set_yscale("log")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("training loss + L2 (mean of 10 steps)")
    ax.set_title("S1-1.4: one model, four learning rates")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
