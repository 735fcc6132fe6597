"""Optimisers that update ``Value`` parameters in place from their ``.grad``.

``step()`` returns one :class:`StepRecord` per parameter (name, old value, gradient, new
value), so a single step can be printed the way a textbook writes it.

Example:
    >>> from microgradnet import Value
    >>> w = Value(0.5, label="w21"); w.grad = -1.5
    >>> SGD([w], lr=0.1).step()             # seed 001, S1-3.3: 0.5 - 0.1 * (-1.5)
    [StepRecord(name='w21', old=0.5, grad=-1.5, new=0.65)]
"""
from __future__ import annotations

import math
from typing import NamedTuple

from .engine import Value

__all__ = ["Optimizer", "SGD", "Adam", "StepRecord", "soft_threshold"]


class StepRecord(NamedTuple):
    """One parameter's update: ``new = old - lr * (direction computed from grad)``."""
    name: str
    old: float
    grad: float
    new: float


def _params(params, where: str) -> list:
    """``[(name, Value)]`` from Values, ``(name, Value)`` pairs, or a Module."""
    if hasattr(params, "named_parameters") and callable(params.named_parameters):
        params = params.named_parameters()
    out = []
    for i, p in enumerate(params):
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], Value):
            name, v = p
        elif isinstance(p, Value):
            name, v = (p.label or f"p{i}"), p
        else:
            raise TypeError(f"{where}: parameters must be Values or (name, Value) pairs, got "
                            f"{type(p).__name__}: {p!r}")
        out.append((str(name), v))
    if not out:
        raise ValueError(f"{where}: got an empty parameter list")
    if len({id(v) for _, v in out}) != len(out):
        raise ValueError(f"{where}: a parameter appears twice")
    return out


def _check(value, what: str, where: str, lo: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < lo:
        raise ValueError(f"{where}: {what} must be a finite number >= {lo}, got {value!r}")
    return float(value)


class Optimizer:
    """Holds the parameters; subclasses define :meth:`_direction`.

    Args:
        params: Values, ``(name, Value)`` pairs (e.g. ``model.named_parameters()``) or a
            Module. Records are named by the pair's name, else the Value's label.
    """

    def __init__(self, params, where: str) -> None:
        named = _params(params, where)
        self.names = [n for n, _ in named]
        self.params = [v for _, v in named]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def _check_grads(self) -> None:
        for n, p in zip(self.names, self.params):
            g = p.grad
            if g - g != 0.0:
                raise ValueError(f"{type(self).__name__}.step: the gradient of {n} is {g!r}")


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, L2 weight decay and an L1 penalty,
    as ``torch.optim.SGD`` (dampening 0):

        g = grad + weight_decay * w + l1 * sign(w)
        v = momentum * v + g        (v = g on the first step)
        w = w - lr * v

    ``weight_decay`` is the derivative of ``(weight_decay / 2) * w^2``; ``l1`` that of
    ``l1 * |w|``. With the default ``l1_step="subgradient"`` the L1 term pulls every weight
    toward 0 by ``lr * l1`` per step, but a weight whose data gradient is smaller than ``l1``
    overshoots 0 and chatters within ``lr * l1`` of it: it does not become 0 (seed 004,
    S4-Q3a). ``l1_step="proximal"`` leaves ``l1`` out of ``g`` and takes the proximal step of
    ``l1 * |w|`` after the update (ISTA), a soft threshold that sets such weights to exactly 0:

        w = sign(w') * max(|w'| - lr * l1, 0),   w' = the update above without the L1 term

    Args:
        params: Values, ``(name, Value)`` pairs or a Module.
        lr, momentum, weight_decay, l1: numbers >= 0.
        nesterov: Nesterov momentum (needs momentum > 0).
        l1_step: ``"subgradient"`` or ``"proximal"``, how the L1 penalty enters the step.

    Attributes:
        lr: the learning rate (may be changed between steps, e.g. for a schedule).
        velocity: the momentum buffers, in parameter order (after a step with momentum).

    Example:
        >>> w = Value(0.05, label="w"); w.grad = 0.2
        >>> SGD([w], lr=0.1, l1=1.0, l1_step="proximal").step()   # 0.03 is within 0.1 of 0
        [StepRecord(name='w', old=0.05, grad=0.2, new=0.0)]
    """

    L1_STEPS = ("subgradient", "proximal")

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0,
                 l1: float = 0.0, nesterov: bool = False, l1_step: str = "subgradient") -> None:
        super().__init__(params, "SGD")
        self.lr = _check(lr, "lr", "SGD")
        self.momentum = _check(momentum, "momentum", "SGD")
        self.weight_decay = _check(weight_decay, "weight_decay", "SGD")
        self.l1 = _check(l1, "l1", "SGD")
        if l1_step not in self.L1_STEPS:
            raise ValueError(f"SGD: l1_step must be one of {self.L1_STEPS}, got {l1_step!r}")
        self.l1_step = l1_step
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov needs momentum > 0")
        self.nesterov = bool(nesterov)
        self.velocity: list = [None] * len(self.params)

    def step(self) -> list:
        """Update every parameter once; returns one :class:`StepRecord` per parameter."""
        self._check_grads()
        lr, mu, wd = float(self.lr), self.momentum, self.weight_decay
        proximal = self.l1_step == "proximal"
        l1 = 0.0 if proximal else self.l1
        records = []
        for i, (n, p) in enumerate(zip(self.names, self.params)):
            old, g = p.data, p.grad
            d = g
            if wd:
                d = d + wd * old
            if l1:
                d = d + l1 * (1.0 if old > 0 else (-1.0 if old < 0 else 0.0))
            if mu:
                v = self.velocity[i]
                v = d if v is None else mu * v + d
                self.velocity[i] = v
                d = d + mu * v if self.nesterov else v
            new = old - lr * d
            if proximal and self.l1:
                new = soft_threshold(new, lr * self.l1)
            p.data = new
            records.append(StepRecord(n, old, g, p.data))
        return records

    def __repr__(self) -> str:
        return (f"SGD(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay}, "
                f"l1={self.l1}, l1_step={self.l1_step!r})")


def soft_threshold(w: float, t: float) -> float:
    """The proximal map of ``t * |w|``: ``sign(w) * max(|w| - t, 0)``, so every ``|w| <= t``
    becomes exactly 0.0 and the rest move ``t`` toward 0.

    Example:
        >>> soft_threshold(0.3, 0.1), soft_threshold(-0.05, 0.1)
        (0.19999999999999998, 0.0)
    """
    if abs(w) <= t:
        return 0.0
    return w - t if w > 0 else w + t


class Adam(Optimizer):
    """Adam with bias correction (as ``torch.optim.Adam``; weight decay adds
    ``weight_decay * w`` to the gradient, the L2 form, not AdamW):

        m = beta1 m + (1 - beta1) g          v = beta2 v + (1 - beta2) g^2
        m_hat = m / (1 - beta1^t)            v_hat = v / (1 - beta2^t)
        w = w - lr * m_hat / (sqrt(v_hat) + eps)

    With m_0 = 0, m_t = (1 - beta1) sum_i beta1^(t-i) g_i, whose weights sum to
    1 - beta1^t: dividing by it removes the bias toward 0 (seed 004, S4-Q3d). With
    ``eps=0`` a parameter whose gradients have all been 0 stays where it is (0/0 is no step).

    Attributes (readable after each step, lists in parameter order):
        t: the number of steps taken.
        m, v: the raw first and second moment estimates.
        m_hat, v_hat: the bias-corrected estimates used in the last step.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, "Adam")
        self.lr = _check(lr, "lr", "Adam")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), got {betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = _check(eps, "eps", "Adam")
        self.weight_decay = _check(weight_decay, "weight_decay", "Adam")
        n = len(self.params)
        self.t = 0
        self.m = [0.0] * n
        self.v = [0.0] * n
        self.m_hat = [0.0] * n
        self.v_hat = [0.0] * n

    def step(self) -> list:
        """Update every parameter once; returns one :class:`StepRecord` per parameter."""
        self._check_grads()
        b1, b2 = self.betas
        lr, eps, wd = float(self.lr), self.eps, self.weight_decay
        self.t += 1
        c1, c2 = 1.0 - b1 ** self.t, 1.0 - b2 ** self.t
        records = []
        for i, (n, p) in enumerate(zip(self.names, self.params)):
            old, g = p.data, p.grad
            d = g + wd * old if wd else g
            m = self.m[i] = b1 * self.m[i] + (1 - b1) * d
            v = self.v[i] = b2 * self.v[i] + (1 - b2) * d * d
            mh = self.m_hat[i] = m / c1
            vh = self.v_hat[i] = v / c2
            denom = math.sqrt(vh) + eps
            # denom is 0 only with eps = 0 and every gradient so far 0; then m_hat is 0 too
            p.data = old - lr * mh / denom if denom else old
            records.append(StepRecord(n, old, g, p.data))
        return records

    def __repr__(self) -> str:
        return (f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.weight_decay})")
