"""Problem files: a network of your own, its numbers, its loss and its optimiser, read into a
graph that can be solved step by step (``microgradnet solve FILE``) or checked.

A problem file is either a small TOML file::

    title = "A 2-2-2 ReLU network"

    [inputs]                      # named inputs, in order
    i1 = 2.0
    i2 = -1.0

    [[layers]]                    # one table per dense layer, first to last
    weights = [[1.0, 0.5], [-0.5, -1.0]]      # row k: the weights into unit k
    weight_labels = [["w11", "w21"], ["w12", "w22"]]
    biases = [0.5, -0.5]
    bias_labels = ["b1", "b2"]
    outputs = ["h1", "h2"]        # the weighted sums
    activation = "relu"           # relu, sigmoid, tanh, softmax, ... or "none"
    activated = ["h3", "h4"]      # the activations' outputs

    [loss]
    kind = "mse"                  # mse, cross_entropy, binary_cross_entropy, hinge, none
    reduction = "half"            # mse: mean, sum or half
    targets = [1.0, 0.5]
    target_labels = ["t1", "t2"]
    label = "MSE"

    [optimiser]
    kind = "sgd"                  # sgd (momentum, weight_decay) or adam (betas, eps, ...)
    lr = 0.1

    [show]
    wrt = ["w21"]                 # parameters to update and explain path by path
    round = 2                     # decimals, as on a hand-worked sheet

Weights, biases and targets may also be written by label, each row of weights in the order of
the layer's inputs: ``weights = [{w11 = 1.0, w21 = 0.5}, {w12 = -0.5, w22 = -1.0}]``,
``biases = {b1 = 0.5, b2 = -0.5}``, ``targets = {t1 = 1.0, t2 = 0.5}``. A layer takes the
previous layer's outputs (the first: the inputs), or those listed in its ``inputs`` key.

Or a Python file that builds the graph with the public API and leaves ``root`` (a ``Value``;
or defines ``build()`` returning one), and optionally ``params`` (a list of Values or a dict
of them), ``lr``, ``optimiser`` (a dict like the TOML table) and ``wrt`` (labels).

Every mistake in a file is a :class:`ProblemError` (a ``ValueError``) whose message names the
file and the key or line: ``s1_3.toml: layers[1].weights: row 1 has 3 numbers, but the layer
has 2 inputs``. :func:`solve` gives the worked solution of a problem (:class:`Solution`).
"""
from __future__ import annotations

from pathlib import Path

from .python_file import load_python
from .records import LOSSES, OPTIMISERS, Optimiser, Problem, ProblemError
from .solution import Solution, solve
from .toml_file import load_toml

__all__ = ["Problem", "Optimiser", "ProblemError", "load_problem", "solve", "Solution",
           "LOSSES", "OPTIMISERS"]


def load_problem(path: str | Path) -> Problem:
    """Read a problem file (``.toml``, or ``.py`` run as a script) into a :class:`Problem`.

    Raises:
        ProblemError: the file is missing, unreadable or wrong; the message names the key
            (TOML) or the line (Python).
    """
    path = Path(path)
    if not path.is_file():
        raise ProblemError(f"{path}: " + ("not a regular file (a folder, a pipe...)"
                                          if path.exists() else "no such file"))
    if path.suffix == ".py":
        return load_python(path)
    if path.suffix != ".toml":
        got = path.suffix or "a file without a suffix"
        raise ProblemError(f"{path}: a problem file is .toml or .py, not {got}")
    return load_toml(path)
