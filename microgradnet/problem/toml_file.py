"""A problem written as TOML: named inputs, dense layers with their weights and biases by
label, activations, targets, a loss, an optimiser and what to show (the format is described in
:mod:`microgradnet.problem`). Each key is checked as the graph is built, and a wrong one is
named in the error."""
from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, Optional, TypeGuard

from .. import functional as F
from ..engine import DomainError, Value
from .records import LOSSES, OPTIMISERS, Optimiser, Problem, ProblemError, check_decimals, \
    labelled

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML with the package tomllib came from
    import tomli as tomllib

__all__ = ["load_toml", "optimiser_from"]

_MSE_REDUCTIONS = ("mean", "sum", "half")

_TOP = ("title", "inputs", "layers", "loss", "optimiser", "optimizer", "show")
_LAYER = ("weights", "weight_labels", "biases", "bias_labels", "outputs", "activation",
          "activated", "inputs")
_LOSS = ("kind", "reduction", "targets", "target_labels", "label")
_SHOW = ("wrt", "round")


def load_toml(path: Path) -> Problem:
    """Read and build a TOML problem.

    Raises:
        ProblemError: not TOML, or a key is wrong; the message names the key (and the line,
            for a syntax error).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ProblemError(f"{path.name}: not valid TOML: {e}") from None
    try:
        return _TomlProblem(path, data).build()
    except DomainError as e:   # the numbers leave an op's domain (log of 0, overflow)
        raise ProblemError(f"{path.name}: {e}") from None


class _TomlProblem:
    """Builds the graph of a TOML problem, checking each key as it goes."""

    def __init__(self, path: Path, data: dict) -> None:
        self.path = path
        self.data = data
        self.labels: dict = {}     # label -> Value, every node made so far
        self.params: list = []

    def fail(self, key: str, message: str) -> ProblemError:
        return ProblemError(f"{self.path.name}: {key}: {message}")

    def keys(self, table: Any, where: str, allowed: tuple) -> dict:
        if not isinstance(table, dict):
            raise self.fail(where, f"must be a table, got {_kind(table)}")
        unknown = [k for k in table if k not in allowed]
        if unknown:
            raise self.fail(f"{where + '.' if where else ''}{unknown[0]}",
                            "unknown key; the keys here are " + ", ".join(allowed))
        return table

    def name(self, label: Any, key: str) -> str:
        if not isinstance(label, str) or not label.strip():
            raise self.fail(key, f"a label must be a non-empty string, got {label!r}")
        if label in self.labels:
            raise self.fail(key, f"the label {label!r} is used twice")
        return label

    def number(self, x: Any, key: str) -> float:
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise self.fail(key, f"must be a finite number, got {x!r}")
        return float(x)

    def leaf(self, x: Any, label: Any, key: str) -> Value:
        v = Value(self.number(x, key), label=self.name(label, key))
        self.labels[v.label] = v
        return v

    def label_list(self, got: Any, n: int, key: str, default: list) -> list:
        if got is None:
            return default
        if not isinstance(got, list) or len(got) != n:
            raise self.fail(key, f"must list {n} label{'s' if n != 1 else ''}, got {got!r}")
        return got

    def by_label(self, t: dict, key: str, labels_key: str, where: str) -> tuple:
        """``t[key]`` as a list of numbers, and ``t`` with its labels where ``t[key]`` gives
        them itself, as a table (``biases = {b1 = 0.5, b2 = -0.5}``)."""
        value = t.get(key)
        if not isinstance(value, dict):
            return value, t
        if labels_key in t:
            raise self.fail(f"{where}.{labels_key}", f"the {key} already have labels")
        return list(value.values()), dict(t, **{labels_key: list(value)})

    def build(self) -> Problem:
        d = self.keys(self.data, "", _TOP)
        if "optimiser" in d and "optimizer" in d:
            raise self.fail("optimizer", "give either [optimiser] or [optimizer], not both")
        inputs = d.get("inputs")
        if not isinstance(inputs, dict) or not inputs:
            raise self.fail("inputs", "needs a table of named inputs, e.g. [inputs] x1 = 2.0")
        x = [self.leaf(v, k, f"inputs.{k}") for k, v in inputs.items()]
        layers = d.get("layers")
        if not isinstance(layers, list) or not layers:
            raise self.fail("layers", "needs at least one [[layers]] table")
        activations = []
        for n, layer in enumerate(layers, start=1):
            x, act = self.layer(layer, n, x)
            activations.append(act)
        root, is_loss = self.loss(d.get("loss"), x, activations[-1])
        show = self.keys(d.get("show", {}), "show", _SHOW)
        wrt = show.get("wrt", [])
        if isinstance(wrt, str):
            wrt = [wrt]
        if not isinstance(wrt, list) or not all(isinstance(w, str) for w in wrt):
            raise self.fail("show.wrt", f"must be a list of labels, got {wrt!r}")
        for w in wrt:
            if w not in self.labels:
                raise self.fail("show.wrt", f"no node labelled {w!r}")
        decimals = show.get("round")
        wrong = check_decimals(decimals)
        if wrong:
            raise self.fail("show.round", wrong)
        key = "optimiser" if "optimiser" in d else "optimizer"
        opt = optimiser_from(d.get(key), key, self.fail)
        title = d.get("title", "")
        if not isinstance(title, str):
            raise self.fail("title", f"must be a string, got {_kind(title)}")
        return Problem(self.path, root, list(self.params), opt.lr if opt else None, opt,
                       labelled(root), list(wrt), decimals, title, is_loss)

    def layer(self, layer: Any, n: int, x: list) -> tuple:
        where = f"layers[{n}]"
        t = self.keys(layer, where, _LAYER)
        if "inputs" in t:
            names = t["inputs"]
            if not isinstance(names, list) or not names:
                raise self.fail(f"{where}.inputs", "must list the labels of the layer's inputs")
            x = []
            for name in names:
                if name not in self.labels:
                    raise self.fail(f"{where}.inputs", f"no node labelled {name!r} before "
                                    "this layer")
                x.append(self.labels[name])
        W = t.get("weights")
        if isinstance(W, list) and W and all(isinstance(r, dict) for r in W):
            # rows by label: [{w11 = 1.0, w21 = 0.5}, ...], each row's keys in input order
            if "weight_labels" in t:
                raise self.fail(f"{where}.weight_labels", "the weights already have labels")
            t = dict(t, weight_labels=[list(r) for r in W])
            W = [list(r.values()) for r in W]
        if (not isinstance(W, list) or not W or not all(isinstance(r, list) for r in W)):
            raise self.fail(f"{where}.weights", "must be a list of rows, one per unit, e.g. "
                            "[[1.0, 0.5], [-0.5, -1.0]] or [{w11 = 1.0, w21 = 0.5}, ...]")
        for k, row in enumerate(W, start=1):
            if len(row) != len(x):
                raise self.fail(f"{where}.weights", f"row {k} has {len(row)} number"
                                f"{'s' if len(row) != 1 else ''}, but the layer has {len(x)} "
                                f"input{'s' if len(x) != 1 else ''}")
        nout, nin = len(W), len(x)
        wl = t.get("weight_labels")
        if wl is None:
            wl = [[f"W{n}[{k + 1},{j + 1}]" for j in range(nin)] for k in range(nout)]
        elif (not isinstance(wl, list) or len(wl) != nout
              or any(not isinstance(r, list) or len(r) != nin for r in wl)):
            raise self.fail(f"{where}.weight_labels", f"must have the shape of weights: {nout} "
                            f"rows of {nin} labels")
        weights = [[self.leaf(W[k][j], wl[k][j], f"{where}.weights") for j in range(nin)]
                   for k in range(nout)]
        self.params += [w for row in weights for w in row]
        biases = None
        if "biases" in t:
            b, t = self.by_label(t, "biases", "bias_labels", where)
            if not isinstance(b, list) or len(b) != nout:
                raise self.fail(f"{where}.biases", f"must list {nout} numbers, one per row of "
                                "weights")
            bl = self.label_list(t.get("bias_labels"), nout, f"{where}.bias_labels",
                                 [f"b{n}[{k + 1}]" for k in range(nout)])
            biases = [self.leaf(b[k], bl[k], f"{where}.biases") for k in range(nout)]
            self.params += biases
        elif "bias_labels" in t:
            raise self.fail(f"{where}.bias_labels", "given without biases")
        sums = []
        for k in range(nout):
            acc = weights[k][0] * x[0]
            for j in range(1, nin):
                acc = acc + weights[k][j] * x[j]
            if biases is not None:
                acc = acc + biases[k]
            sums.append(acc)
        out_names = self.label_list(t.get("outputs"), nout, f"{where}.outputs",
                                    [f"z{n}[{k + 1}]" for k in range(nout)])
        for s, name in zip(sums, out_names, strict=True):
            s.label = self.name(name, f"{where}.outputs")
            self.labels[s.label] = s
        act = t.get("activation", "none")
        if not isinstance(act, str):
            raise self.fail(f"{where}.activation", f"must be a name, got {act!r}")
        act = act.lower()
        if act in ("none", "linear", "identity"):
            if "activated" in t:
                raise self.fail(f"{where}.activated", "given without an activation")
            return sums, "none"
        if act == "softmax":
            ys = _softmax(sums)
        else:
            if act not in F.ACTIVATIONS:
                raise self.fail(f"{where}.activation", f"unknown activation {act!r}; choose "
                                "one of " + ", ".join(sorted(set(F.ACTIVATIONS) | {"softmax"})))
            fn = F.get_activation(act)
            ys = [fn(s) for s in sums]
        act_names = self.label_list(t.get("activated"), nout, f"{where}.activated",
                                    [f"a{n}[{k + 1}]" for k in range(nout)])
        for y, name in zip(ys, act_names, strict=True):
            y.label = self.name(name, f"{where}.activated")
            self.labels[y.label] = y
        return ys, act

    def loss(self, table: Any, outputs: list, activation: str) -> tuple:
        if table is None:
            table = {"kind": "none"}
        t = self.keys(table, "loss", _LOSS)
        kind = t.get("kind")
        if kind not in LOSSES:
            raise self.fail("loss.kind", f"must be one of {', '.join(LOSSES)}, got {kind!r}")
        if kind == "none":
            extra = [k for k in t if k != "kind"]
            if extra:
                raise self.fail(f"loss.{extra[0]}", "a problem without a loss takes no "
                                f"{extra[0]}")
            if len(outputs) != 1:
                raise self.fail("loss", f"the network has {len(outputs)} outputs: without a "
                                "loss it needs exactly one, the node to differentiate")
            return outputs[0], False
        targets, t = self.by_label(t, "targets", "target_labels", "loss")
        if not isinstance(targets, list) or len(targets) != len(outputs):
            raise self.fail("loss.targets", f"must list {len(outputs)} numbers, one per output "
                            f"of the last layer, got {targets!r}")
        labels = self.label_list(t.get("target_labels"), len(outputs), "loss.target_labels",
                                 [f"t{k + 1}" for k in range(len(outputs))])
        ts = [self.leaf(v, lab, "loss.targets") for v, lab in zip(targets, labels, strict=True)]
        reduction = t.get("reduction")
        if reduction is not None and kind != "mse":
            raise self.fail("loss.reduction", f"only mse takes a reduction ({kind} sums over "
                            "the outputs)")
        if kind == "mse":
            reduction = reduction or "mean"
            if reduction not in _MSE_REDUCTIONS:
                raise self.fail("loss.reduction", f"must be one of {', '.join(_MSE_REDUCTIONS)}"
                                f", got {reduction!r}")
            root = F.mse(outputs, ts, reduction=reduction)
        elif kind == "cross_entropy":
            if activation != "softmax":
                raise self.fail("loss.kind", "cross_entropy reads the last layer's outputs as "
                                "probabilities: give that layer activation = \"softmax\"")
            root = -_sum([ti * yi.log() for ti, yi in zip(ts, outputs, strict=True)])
        elif kind == "binary_cross_entropy":
            if activation != "sigmoid":
                raise self.fail("loss.kind", "binary_cross_entropy reads the outputs as "
                                "probabilities: give the last layer activation = \"sigmoid\"")
            root = -_sum([ti * yi.log() + (1 - ti) * (1 - yi).log()
                          for ti, yi in zip(ts, outputs, strict=True)])
        else:
            for k, v in enumerate(targets, start=1):
                if v not in (-1, 1):
                    raise self.fail("loss.targets", f"hinge targets are -1 or +1, target {k} "
                                    f"is {v!r}")
            root = _sum([(1 - ti * yi).relu() for ti, yi in zip(ts, outputs, strict=True)])
        root.label = self.name(t.get("label", "L"), "loss.label")
        self.labels[root.label] = root
        return root, True


def _softmax(zs: list) -> list:
    """exp(z_k) / sum_j exp(z_j) as written by hand (no max-shift: a student's numbers are
    small, and the shift would put constants into every line)."""
    exps = [z.exp() for z in zs]
    total = _sum(exps)
    total.label = "Z" if not any(z.label == "Z" for z in zs) else "sum_exp"
    return [e / total for e in exps]


def _sum(terms: list) -> Value:
    acc = terms[0]
    for t in terms[1:]:
        acc = acc + t
    return acc


def optimiser_from(table: Any, key: str, fail) -> Optional[Optimiser]:
    if table is None:
        return None
    if not isinstance(table, dict):
        raise fail(key, f"must be a table, got {_kind(table)}")
    kind = str(table.get("kind", "sgd")).lower()
    if kind not in OPTIMISERS:
        raise fail(f"{key}.kind", f"must be one of {', '.join(OPTIMISERS)}, got "
                   f"{table.get('kind')!r}")
    allowed = ("kind", "lr") + OPTIMISERS[kind]
    for k in table:
        if k not in allowed:
            raise fail(f"{key}.{k}", f"unknown key for {kind}; the keys are "
                       + ", ".join(allowed))
    lr = table.get("lr")
    if not _finite(lr) or lr <= 0:
        raise fail(f"{key}.lr", f"the learning rate must be a finite number > 0, got "
                   f"{_shown(lr)}")
    options: dict = {}
    for k in OPTIMISERS[kind]:
        if k not in table:
            continue
        v = table[k]
        if k == "betas":
            if (not isinstance(v, (list, tuple)) or len(v) != 2
                    or not all(_finite(b) and 0 <= b < 1 for b in v)):
                raise fail(f"{key}.betas", f"must be two numbers in [0, 1), got {_shown(v)}")
            options[k] = (float(v[0]), float(v[1]))
        elif not _finite(v) or v < 0:
            raise fail(f"{key}.{k}", f"must be a finite number >= 0, got {_shown(v)}")
        else:
            options[k] = float(v)
    return Optimiser(kind, float(lr), options)


def _finite(x: Any) -> TypeGuard[float]:
    """Is ``x`` an int or float (not a bool) that a float holds finitely? ``10**400`` is not:
    it has no float, and ``math.isfinite`` would raise OverflowError on it."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    try:
        return math.isfinite(x)
    except OverflowError:
        return False


def _shown(x: Any) -> str:
    """``x`` for an error message, a huge int cut short (its repr may be hundreds of digits,
    or more than Python agrees to print)."""
    if isinstance(x, int) and not isinstance(x, bool) and abs(x) >= 10**30:
        return f"an integer of about 10**{x.bit_length() * 30103 // 100000}, too large for a float"
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


def _kind(x: Any) -> str:
    for t, name in ((dict, "a table"), (list, "a list"), (str, "a string")):
        if isinstance(x, t):
            return name
    return type(x).__name__


