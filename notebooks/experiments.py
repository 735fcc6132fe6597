# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The experiments: learning-rate curves (S1-1.4) and eight classifiers (S3-Q2-5)
#
# Two claims need training runs rather than one graph:
#
# - S1-1.4, seed 001 (`001_34f8d7f6bc1ecf0d.txt`), section 1.4: one model trained with SGD + L2
#   at four learning rates, and which loss curve belongs to which rate.
# - S3-Q2-5, seed 003 (`003_46b4f35227c027e8.txt`), Q2 to Q5: test accuracies of eight
#   classifiers, from logistic regression to a CNN with batch norm and dropout. The seed
#   reports MNIST; here the data are scikit-learn's 8x8 digits, which install offline.
#
# The full runs take minutes (`microgradnet train lr-curves`, `microgradnet train
# classifiers`) and commit their results to `results/`; the catalogue judges the claims from
# those files. This notebook shows the committed results, then repeats a very short run with
# the package so you can see it train.

# %%
import os

from IPython.display import Image, Markdown, display

from microgradnet.catalogue import EXAMPLES, report
from microgradnet.catalogue.experiments import RESULTS_DIR

RESULTS = {}


def verdict(claim: str):
    """Show a worked example (seed's answer, engine's, verdict) and keep its result."""
    RESULTS[claim] = report(claim)
    return RESULTS[claim]


def committed(name: str):
    """The text of a committed results file, or None when it has not been written yet."""
    path = os.path.join(RESULTS_DIR, name)
    if not os.path.exists(path):
        print(f"{name}: not in {RESULTS_DIR} yet")
        return None
    with open(path) as f:
        return f.read()


try:
    import matplotlib.pyplot as plt
except ImportError as exc:           # the plots are optional
    plt = None
    print("plots skipped: matplotlib is not installed", exc)

# %% [markdown]
# ## S1-1.4: which learning rate gives which loss curve
#
# The committed run: softmax regression on the digits, plain SGD with L2 weight decay, the
# same initial weights for every rate. Each curve is named from its shape alone (diverging or
# rising: "way too high"; of the rest, the lowest final loss is "good"; the others are "too
# high" or "too low" by their rate).

# %%
r14 = verdict("S1-1.4")

# %%
table = committed("s1_1_4_lr_curves.md")
if table is not None:
    display(Markdown(table))

# %%
figure = (r14.extra or {}).get("figure")
if figure and os.path.exists(figure):
    display(Image(filename=figure))

# %% [markdown]
# ## S3-Q2-5: eight classifiers
#
# The committed run: each model's hyper-parameter chosen on a validation split, then its test
# accuracy, next to the figure the seed reports on MNIST. Different data sets, so the
# figures stand side by side; the verdict says so.

# %%
r25 = verdict("S3-Q2-5")

# %%
table = committed("s3_q2_5.md")
if table is not None:
    display(Markdown(table))

# %%
rows = (r25.extra or {}).get("rows")
if rows and plt is not None:
    names = [row["model"] for row in rows]
    seed_acc = r25.extra["seed"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    xs = range(len(names))
    ax.bar([i - 0.2 for i in xs], [row["test_accuracy"] for row in rows], 0.4,
           label="here: 8x8 digits, test")
    ax.bar([i + 0.2 for i in xs], [seed_acc[n] for n in names], 0.4, label="seed 003: MNIST")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylim(80, 100)
    ax.set_ylabel("accuracy %")
    ax.legend(fontsize=8)
    ax.set_title("S3-Q2-5: side by side")
    fig.tight_layout()
    plt.show()

# %% [markdown]
# ## A short run with the package
#
# The same experiment as S1-1.4, cut down to 320 training images and 2 epochs (seconds, not
# minutes), nothing written to disk. The behaviours come out of the same rule that names the
# committed curves.

# %%
try:
    from microgradnet.training import TrainConfig, accuracy, build_model, fit, load_digits
    from microgradnet.training.experiments import SEED_LR_LABELS, run_lr_curves
    digits = load_digits()
except ImportError as exc:           # the digits need scikit-learn
    digits = None
    print("training skipped:", exc)

# %%
if digits is not None:
    short = run_lr_curves(out_dir="", epochs=2, train_subset=320, show_progress=False,
                          plot=False)
    for lr, label in short["labels"].items():
        curve, says = SEED_LR_LABELS[float(lr)]
        print(f"lr = {lr:<7} here: {label:<13} seed: curve {curve}, {says}")

# %%
if digits is not None and plt is not None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for lr, losses in short["curves"].items():
        ax.plot(range(1, len(losses) + 1), losses, label=f"lr = {lr}: {short['labels'][lr]}")
    ax.set_yscale("log")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("training loss + L2")
    ax.legend(fontsize=8)
    ax.set_title("a short run: 320 images, 2 epochs")
    plt.show()

# %% [markdown]
# And one of the eight classifiers, softmax regression, trained for two epochs on the same
# 320 images and scored on the full test split:

# %%
if digits is not None:
    model = build_model("softmax")
    history = fit(model, digits.train.subset(320), TrainConfig(lr=0.2, epochs=2),
                  show_progress=False)
    print(f"{model.name}: {model.num_parameters()} parameters, loss per epoch "
          f"{[round(x, 4) for x in history.epoch_loss]}, "
          f"test accuracy {100 * accuracy(model, digits.test):.1f}% "
          f"on {len(digits.test)} images ({history.seconds:.1f} s)")

# %% [markdown]
# ## Verdicts

# %%
for claim, res in RESULTS.items():
    print(f"{claim:<9}{res.verdict:<12}{EXAMPLES[claim].title}")
