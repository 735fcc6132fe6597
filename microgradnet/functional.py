"""Activations, softmax and losses as functions of Values.

Activations take a Value, a number (wrapped in a Value) or a (nested) list of them and keep
the structure. Losses take predictions as Values (or lists of Values) and targets as numbers
or Values, and return one Value.

Conventions, stated once:

- ``mse(..., reduction="half")`` is ``1/2 * sum (pred - target)^2``: the convention of seed 001
  (``001_34f8d7f6bc1ecf0d.txt``, S1-3.2), which writes 1/2 in front of each output's squared
  error. Its gradient is ``pred - target`` (as in S1-3.3). For two outputs it equals the mean.
- ``l2_penalty`` is ``sum p^2`` without a 1/2 (micrograd's demo: ``alpha * sum(p*p)``).
- ``multiclass_hinge`` is the Weston-Watkins SVM loss ``sum_{j != y} max(0, s_j - s_y +
  margin)``, not divided by the number of classes (PyTorch's ``multi_margin_loss`` divides).
- Reductions, as in PyTorch: every loss takes ``reduction="mean"`` (the default: the mean
  over samples, or over entries for ``mse_loss``/``l1_loss``), ``"sum"``, or ``"none"`` (a
  list of the per-sample losses, one Value each). ``mse`` also takes ``"half"``.
- PyTorch's names are here too: ``mse_loss`` (``mse``), ``silu`` (``swish`` with beta 1).

Example:
    >>> from microgradnet import Value
    >>> p = softmax([Value(1000.0), Value(1000.0)])    # no overflow: max-shifted
    >>> [x.data for x in p]
    [0.5, 0.5]
"""
from __future__ import annotations

from typing import Iterable, Sequence, Union, overload

from . import ops
from .engine import Value, apply, maximum
from .nested import flatten, is_seq

__all__ = [
    "sum", "mean", "dot", "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "swish",
    "identity", "ACTIVATIONS", "get_activation", "softmax", "log_softmax", "logsumexp", "mse",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
    "nll_loss", "hinge", "multiclass_hinge", "l1_penalty", "l2_penalty", "mse_loss", "l1_loss",
    "silu", "REDUCTIONS",
]

Scalar = Union[Value, int, float]
Number = Union[int, float]


def _value(x, where: str) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{where}: expected a Value or a number, got {type(x).__name__}: {x!r}")
    return Value(x)


# ---- sums ----------------------------------------------------------------------------------

@overload
def sum(values: Iterable[Number], start: Number | None = None) -> float: ...
@overload
def sum(values: Iterable[Scalar], start: Value) -> Value: ...
@overload
def sum(values: Iterable[Value], start: Scalar | None = None) -> Value: ...   # 0.0 if empty
@overload
def sum(values: Iterable[Scalar], start: Scalar | None = None) -> Union[Value, float]: ...
def sum(values: Iterable[Scalar], start: Scalar | None = None) -> Union[Value, float]:
    """Add many Values, starting from the first term: ``n`` terms make ``n - 1`` nodes
    (the builtin ``sum`` starts from 0 and adds one more node).

    Args:
        values: Values and/or numbers.
        start: an optional first term (e.g. a bias, as micrograd's neuron does).

    Returns:
        A Value (a plain number only if every term is a number); ``0.0`` for no terms.

    Example:
        >>> from microgradnet import Value
        >>> sum([Value(1.0), Value(2.0), 3]).data
        6.0
    """
    it = iter(values)
    acc = start
    if acc is None:
        try:
            acc = next(it)
        except StopIteration:
            return 0.0
    for v in it:
        acc = acc + v
    return acc


@overload
def mean(values: Sequence[Value]) -> Value: ...
@overload
def mean(values: Sequence[Scalar]) -> Union[Value, float]: ...
def mean(values: Sequence[Scalar]) -> Union[Value, float]:
    """Arithmetic mean of Values: ``sum(values) / n`` (a number for two or more numbers)."""
    values = list(values)
    if not values:
        raise ValueError("mean: needs at least one value")
    s = sum(values)
    return s / len(values) if len(values) > 1 else _value(s, "mean")


def dot(ws: Sequence[Scalar], xs: Sequence[Scalar], bias: Scalar | None = None) -> Value:
    """``sum_i w_i x_i (+ bias)`` as a chain ``w1*x1 + w2*x2 + ... + b``: the textbook's order.

    Raises:
        ValueError: the two sequences differ in length.
    """
    if len(ws) != len(xs):
        raise ValueError(f"dot: lengths differ: {len(ws)} weights, {len(xs)} inputs")
    it = zip(ws, xs)
    acc = None
    for w, x in it:
        acc = w * x if acc is None else acc + w * x
    if bias is not None:
        acc = bias if acc is None else acc + bias
    return _value(0.0 if acc is None else acc, "dot")


# ---- activations ---------------------------------------------------------------------------

def _map(fn, x, where: str):
    if is_seq(x):
        return [_map(fn, e, where) for e in x]
    return fn(_value(x, where))


def relu(x, kink: float = 0.0):
    """max(0, x) element-wise; derivative 1 for x > 0, 0 for x < 0, ``kink`` at 0."""
    return _map(lambda v: v.relu(kink), x, "relu")


def leaky_relu(x, alpha: float = 0.01, kink: float | None = None):
    """x for x > 0 else alpha * x; derivative at 0 is ``kink`` (``alpha`` by default).
    (Seed 001, S1-2.6, takes 1 at 0: pass ``kink=1.0`` for its convention.)"""
    return _map(lambda v: v.leaky_relu(alpha, kink), x, "leaky_relu")


def sigmoid(x):
    """1 / (1 + e^-x) element-wise; derivative s (1 - s)."""
    return _map(lambda v: v.sigmoid(), x, "sigmoid")


def tanh(x):
    """tanh x element-wise; derivative 1 - tanh^2 x."""
    return _map(lambda v: v.tanh(), x, "tanh")


def softplus(x):
    """log(1 + e^x) element-wise, without overflow; derivative sigmoid(x)."""
    return _map(lambda v: v.softplus(), x, "softplus")


def swish(x, beta: float = 1.0):
    """x * sigmoid(beta x) element-wise."""
    return _map(lambda v: v.swish(beta), x, "swish")


def silu(x):
    """x * sigmoid(x) element-wise (PyTorch's name for swish with beta 1)."""
    return swish(x, 1.0)


def identity(x):
    """x unchanged (the "linear" activation): no node is added."""
    return x


def _activation_of(op: ops.Op):
    def activation(v: Value) -> Value:
        return apply(op, v)
    activation.__name__ = op.name
    activation.op = op  # type: ignore[attr-defined]  # export reads which op it applies
    return activation


#: Activation functions of one Value, by name: every op the table offers as an activation
#: (``ops.ACTIVATIONS``), and three names for none.
ACTIVATIONS = {name: _activation_of(op) for name, op in ops.ACTIVATIONS.items()}
ACTIVATIONS.update(linear=None, identity=None, none=None)


def get_activation(activation):
    """The function ``Value -> Value`` for ``activation``: a name in :data:`ACTIVATIONS`,
    ``None`` or ``"linear"`` (no activation: returns ``None``), or a callable."""
    if activation is None:
        return None
    if isinstance(activation, str):
        key = activation.lower()
        if key not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of "
                             f"{sorted(ACTIVATIONS)} or pass a function")
        return ACTIVATIONS[key]
    if callable(activation):
        return activation
    raise TypeError(f"activation must be a name, None or a callable, got "
                    f"{type(activation).__name__}")


# ---- softmax -------------------------------------------------------------------------------

def _vector(xs, where: str) -> list[Value]:
    if isinstance(xs, Value) or not is_seq(xs):
        raise TypeError(f"{where}: expected a list of Values, got {type(xs).__name__}")
    if len(xs) == 0:
        raise ValueError(f"{where}: needs at least one value")
    return [_value(x, where) for x in xs]


def _max_node(xs: list[Value]) -> Value:
    m = xs[0]
    for x in xs[1:]:
        m = maximum(m, x)
    return m


def logsumexp(xs: Sequence[Scalar], max_node: bool = False) -> Value:
    """log sum_i e^{x_i}, computed as m + log sum_i e^{x_i - m} with m = max x, so it never
    overflows.

    Args:
        xs: Values or numbers.
        max_node: build ``m`` from ``maximum`` nodes instead of reading it from ``.data`` as a
            constant. The value and the gradient are the same (the shift cancels), but the
            graph then has one structure for any data and stays overflow-safe when it is
            replayed on new values (:mod:`microgradnet.replay`).

    Example:
        >>> round(logsumexp([0.0, 0.0], max_node=True).data, 6)
        0.693147
    """
    xs = _vector(xs, "logsumexp")
    m = _max_node(xs) if max_node else max(x.data for x in xs)
    return sum([(x - m).exp() for x in xs]).log() + m


def softmax(xs: Sequence[Scalar]) -> list:
    """e^{x_i - m} / sum_j e^{x_j - m}, m = max x (seed 001, S1-2.8): the largest exponent
    is e^0 = 1 and the denominator is at least 1, so nothing overflows or divides by zero.

    Args:
        xs: logits (Values or numbers).

    Returns:
        A list of Values that sum to 1.
    """
    xs = _vector(xs, "softmax")
    m = max(x.data for x in xs)
    exps = [(x - m).exp() for x in xs]
    total = sum(exps)
    return [e / total for e in exps]


def log_softmax(xs: Sequence[Scalar]) -> list:
    """x_i - logsumexp(x), max-shifted: finite for any finite logits."""
    xs = _vector(xs, "log_softmax")
    m = max(x.data for x in xs)
    shifted = [x - m for x in xs]
    lse = sum([s.exp() for s in shifted]).log()
    return [s - lse for s in shifted]


# ---- losses --------------------------------------------------------------------------------

def mse(pred, target, reduction: str = "mean"):
    """Squared error between predictions and targets (any matching nested shape).

    - ``"mean"``: (1/n) sum (p - t)^2 over all n entries (PyTorch's default);
    - ``"sum"``: sum (p - t)^2;
    - ``"none"``: the list of the n squared errors (flattened);
    - ``"half"``: 1/2 sum (p - t)^2, the convention of seed 001 (S1-3.2); gradient p - t.

    Raises:
        ValueError: shapes differ (both sizes named) or an unknown reduction.

    Example:
        >>> mse([0.0, -1.5], [1.0, 0.5], reduction="half").data
        2.5
        >>> [e.data for e in mse_loss([0.0, -1.5], [1.0, 0.5], reduction="none")]
        [1.0, 4.0]
    """
    ps, ts = flatten(pred), flatten(target)
    if len(ps) != len(ts):
        raise ValueError(f"mse: prediction has {len(ps)} entries, target has {len(ts)}")
    if not ps:
        raise ValueError("mse: empty prediction")
    if reduction == "half":
        return sum([(_value(p, "mse") - t) ** 2 for p, t in zip(ps, ts)]) * 0.5
    _check_reduction(reduction, "mse", extra=("half",))
    return _reduce([(_value(p, "mse") - t) ** 2 for p, t in zip(ps, ts)], reduction, "mse")


#: PyTorch's name for :func:`mse`.
mse_loss = mse


def l1_loss(pred, target, reduction: str = "mean"):
    """Absolute error |p - t| over matching nested shapes, reduced as PyTorch's ``l1_loss``
    (derivative sign(p - t), 0 at 0).

    Example:
        >>> l1_loss([0.0, -1.5], [1.0, 0.5]).data
        1.5
    """
    ps, ts = flatten(pred), flatten(target)
    if len(ps) != len(ts):
        raise ValueError(f"l1_loss: prediction has {len(ps)} entries, target has {len(ts)}")
    if not ps:
        raise ValueError("l1_loss: empty prediction")
    return _reduce([abs(_value(p, "l1_loss") - t) for p, t in zip(ps, ts)], reduction,
                   "l1_loss")


def binary_cross_entropy(p, y, reduction: str = "mean"):
    """-(y log p + (1 - y) log(1 - p)) for a probability p in (0, 1) and a target y in [0, 1]
    (seed 002, S2-Q4); the mean over a list. Terms with y = 0 or y = 1 skip the log they
    multiply by 0, so p may be exactly 0 or 1 where that log is not needed.

    Raises:
        ValueError: lengths differ; DomainError: log of 0 where it is needed.
    """
    ps, ys = flatten(p), flatten(y)
    if len(ps) != len(ys):
        raise ValueError(f"binary_cross_entropy: {len(ps)} probabilities, {len(ys)} targets")
    terms = []
    for pi, yi in zip(ps, ys):
        pi = _value(pi, "binary_cross_entropy")
        yf = yi.data if isinstance(yi, Value) else float(yi)
        if isinstance(yi, Value):
            terms.append(-(yi * pi.log() + (1 - yi) * (1 - pi).log()))
        elif yf == 1.0:
            terms.append(-pi.log())
        elif yf == 0.0:
            terms.append(-(1 - pi).log())
        else:
            terms.append(-(yf * pi.log() + (1 - yf) * (1 - pi).log()))
    return _reduce(terms, reduction, "binary_cross_entropy")


#: The reductions every loss takes (PyTorch's).
REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction, where: str, extra: tuple = ()) -> None:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS + extra:
        allowed = ", ".join(repr(r) for r in REDUCTIONS + extra)
        raise ValueError(f"{where}: reduction must be one of {allowed}, got {reduction!r}")


def _reduce(terms: list, reduction: str, where: str):
    """The mean, the sum, or (``"none"``) the list of per-sample loss Values."""
    _check_reduction(reduction, where)
    if reduction == "mean":
        return mean(terms)
    if reduction == "sum":
        return _value(sum(terms), where)
    return [_value(t, where) for t in terms]


def binary_cross_entropy_with_logits(z, y, reduction: str = "mean") -> Value:
    """BCE of sigmoid(z) computed from the logit z: softplus(z) - y z (never overflows);
    the mean (or the sum, or with ``"none"`` the list) over a list. Targets may be numbers or
    Values (leaves of the graph, e.g. for a replay).

    Example:
        >>> round(binary_cross_entropy_with_logits([0.0, 0.0], [1, 0], reduction="sum").data, 6)
        1.386294
    """
    zs, ys = flatten(z), flatten(y)
    if len(zs) != len(ys):
        raise ValueError(f"binary_cross_entropy_with_logits: {len(zs)} logits, "
                         f"{len(ys)} targets")
    return _reduce([_value(zi, "bce").softplus() - yi * zi for zi, yi in zip(zs, ys)],
                   reduction, "binary_cross_entropy_with_logits")


def _check_index(t, n: int, where: str) -> int:
    if isinstance(t, bool) or not isinstance(t, int):
        raise TypeError(f"{where}: target must be a class index (int), got {t!r}")
    if not 0 <= t < n:
        raise ValueError(f"{where}: target {t} is out of range for {n} classes")
    return t


def cross_entropy(logits, target, max_node: bool = False, reduction: str = "mean"):
    """-log softmax(z)_y = logsumexp(z) - z_y, from logits, max-shifted (seed 001, S1-2.4:
    its gradient is softmax(z) - onehot(y)).

    With class probabilities ``t`` as the target (as PyTorch accepts them):
    ``-sum_k t_k log softmax(z)_k = sum_k t_k (logsumexp(z) - z_k)``; a one-hot ``t`` gives
    the same loss as its class index. Targets given as Values are leaves of the graph, so a
    graph built with ``max_node=True`` and one-hot target leaves has one structure for every
    sample and can be replayed (:mod:`microgradnet.replay`).

    Args:
        logits: a list of K Values (one sample) or a list of such lists (a batch).
        target: the class index (int) or K class probabilities (numbers or Values); a list
            of them for a batch.
        max_node: the max-shift from ``maximum`` nodes (see :func:`logsumexp`).
        reduction: over a batch, ``"mean"``, ``"sum"`` or ``"none"`` (one loss per sample);
            one sample gives its loss.

    Raises:
        ValueError: a batch and its targets differ in length, an index is out of range, or a
            probability target does not have K entries.

    Example:
        >>> round(cross_entropy([0.0, 0.0], 1).data, 6)
        0.693147
        >>> round(cross_entropy([0.0, 0.0], [0.0, 1.0]).data, 6)
        0.693147
    """
    if is_seq(logits) and logits and is_seq(logits[0]):
        if not is_seq(target) or len(target) != len(logits):
            raise ValueError(f"cross_entropy: a batch of {len(logits)} needs as many targets, "
                             f"got {target!r}")
        return _reduce([cross_entropy(z, t, max_node) for z, t in zip(logits, target)],
                       reduction, "cross_entropy")
    _check_reduction(reduction, "cross_entropy")
    zs = _vector(logits, "cross_entropy")
    lse = logsumexp(zs, max_node)
    if is_seq(target):
        if len(target) != len(zs):
            raise ValueError(f"cross_entropy: {len(zs)} logits but {len(target)} class "
                             f"probabilities in the target")
        return sum([_value(t, "cross_entropy") * (lse - z) for z, t in zip(zs, target)])
    t = _check_index(target, len(zs), "cross_entropy")
    return lse - zs[t]


def nll_loss(log_probs, target, reduction: str = "mean"):
    """-log_probs[target] (over a batch reduced by ``reduction``, the mean by default).

    Raises:
        ValueError: a batch and its targets differ in length, or an index is out of range.
    """
    if is_seq(log_probs) and log_probs and is_seq(log_probs[0]):
        if not is_seq(target) or len(target) != len(log_probs):
            raise ValueError(f"nll_loss: a batch of {len(log_probs)} needs as many targets, "
                             f"got {target!r}")
        return _reduce([nll_loss(lp, t) for lp, t in zip(log_probs, target)], reduction,
                       "nll_loss")
    _check_reduction(reduction, "nll_loss")
    lp = _vector(log_probs, "nll_loss")
    return -lp[_check_index(target, len(lp), "nll_loss")]


def _sign(y, where: str) -> float:
    yf = y.data if isinstance(y, Value) else y
    if yf not in (-1, 1):
        raise ValueError(f"{where}: labels must be -1 or +1, got {y!r}")
    return float(yf)


def hinge(score, y, reduction: str = "mean") -> Value:
    """max(0, 1 - y * score) for y in {-1, +1} (the SVM / micrograd "max-margin" loss); the
    mean (or the sum, or with ``"none"`` the list) over lists of scores and labels. A label
    given as a Value (holding -1 or +1) is used as a leaf of the graph, so a replay can feed
    new labels; a number is a constant.

    Example:
        >>> hinge([0.5, 2.0], [1, -1], reduction="sum").data
        3.5
    """
    ss, ys = flatten(score), flatten(y)
    if len(ss) != len(ys):
        raise ValueError(f"hinge: {len(ss)} scores, {len(ys)} labels")
    terms = []
    for s, yi in zip(ss, ys):
        sign = _sign(yi, "hinge")
        terms.append((1 - (yi if isinstance(yi, Value) else sign) * _value(s, "hinge")).relu())
    return _reduce(terms, reduction, "hinge")


def multiclass_hinge(scores, target, margin: float = 1.0, reduction: str = "mean"):
    """sum_{j != y} max(0, s_j - s_y + margin): the multiclass SVM loss (Weston-Watkins, as
    in CS231n); over a batch (a list of score lists and a list of targets) reduced by
    ``reduction``, the mean by default."""
    if is_seq(scores) and scores and is_seq(scores[0]):
        if not is_seq(target) or len(target) != len(scores):
            raise ValueError(f"multiclass_hinge: a batch of {len(scores)} needs as many "
                             f"targets, got {target!r}")
        return _reduce([multiclass_hinge(s, t, margin) for s, t in zip(scores, target)],
                       reduction, "multiclass_hinge")
    _check_reduction(reduction, "multiclass_hinge")
    ss = _vector(scores, "multiclass_hinge")
    t = _check_index(target, len(ss), "multiclass_hinge")
    terms = [(s - ss[t] + margin).relu() for j, s in enumerate(ss) if j != t]
    return _value(sum(terms), "multiclass_hinge")


def l1_penalty(params: Iterable[Value]) -> Value:
    """sum |p| over the parameters (derivative sign(p), 0 at 0)."""
    return _value(sum([abs(_value(p, "l1_penalty")) for p in params]), "l1_penalty")


def l2_penalty(params: Iterable[Value]) -> Value:
    """sum p^2 over the parameters (no 1/2; derivative 2p)."""
    return _value(sum([_value(p, "l2_penalty") * p for p in params]), "l2_penalty")

