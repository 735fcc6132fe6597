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

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "StepRecord", "soft_threshold"]


class StepRecord(NamedTuple):
    """One parameter's update: ``new = old - lr * (direction computed from grad)``."""
    name: str
    old: float
    grad: float
    new: float


def _named(params, where: str, start: int = 0) -> list:
    """``[(name, Value)]`` from Values, ``(name, Value)`` pairs, or a Module."""
    if hasattr(params, "named_parameters") and callable(params.named_parameters):
        params = params.named_parameters()
    if isinstance(params, Value):
        raise TypeError(f"{where}: params must be a list of Values (or a Module), got one "
                        f"Value; wrap it in a list")
    out = []
    for i, p in enumerate(params):
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], Value):
            name, v = p
        elif isinstance(p, Value):
            name, v = (p.label or f"p{start + i}"), p
        else:
            raise TypeError(f"{where}: parameters must be Values or (name, Value) pairs, got "
                            f"{type(p).__name__}: {p!r}")
        if not v.is_leaf:
            raise ValueError(f"{where}: parameter {name!r} is the op node {v!r}; a parameter "
                             "must be a leaf (its value is assigned by each step)")
        out.append((str(name), v))
    return out


def _check(value, what: str, where: str, lo: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value < lo:
        raise ValueError(f"{where}: {what} must be a finite number >= {lo}, got {value!r}")
    return float(value)


# What an optimiser holds that is not its state: what step() saves and puts back on failure
# is everything else (momentum buffers, moments, the step count).
_NOT_STATE = frozenset({"defaults", "_where", "param_groups", "params", "names"})


class Optimizer:
    """Holds the parameters in groups, as ``torch.optim.Optimizer`` does; subclasses define
    :meth:`_update`.

    Args:
        params: Values, ``(name, Value)`` pairs (e.g. ``model.named_parameters()``), a
            Module, or a list of dicts ``{"params": ..., "lr": ...}`` (param groups; the keys
            a group leaves out take the optimiser's arguments). Records are named by the
            pair's name, else the Value's label.

    Attributes:
        param_groups: one dict per group: ``"params"`` (its Values), ``"names"``, and the
            hyper-parameters, which may be changed between steps (a schedule).
        params, names: every parameter and its name, in order, over all groups.
    """

    def __init__(self, params, defaults: dict, where: str) -> None:
        self.defaults = dict(defaults)
        self._where = where
        self.param_groups: list = []
        self.params: list = []
        self.names: list = []
        if hasattr(params, "named_parameters") or isinstance(params, Value):
            groups = [{"params": params}]
        else:
            groups = list(params)
            if not groups or not all(isinstance(g, dict) for g in groups):
                groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict) -> None:
        """Add a group ``{"params": ..., <hyper-parameter>: ...}``; missing hyper-parameters
        take the optimiser's values."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{self._where}: a param group is a dict with a 'params' key, "
                            f"got {group!r}")
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"{self._where}: unknown option(s) {sorted(unknown)} in a param "
                             f"group; known: {sorted(self.defaults)}")
        named = _named(group["params"], self._where, len(self.params))
        if not named:
            raise ValueError(f"{self._where}: got an empty parameter list")
        ids = {id(v) for v in self.params}
        if len({id(v) for _, v in named} | ids) != len(ids) + len(named):
            raise ValueError(f"{self._where}: a parameter appears twice")
        g = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        g = self._checked(g)
        g["params"] = [v for _, v in named]
        g["names"] = [n for n, _ in named]
        self.param_groups.append(g)
        self.params.extend(g["params"])
        self.names.extend(g["names"])
        self._grow(len(named))

    def _checked(self, group: dict) -> dict:
        return group

    def _grow(self, n: int) -> None:
        """Make room in the per-parameter state for ``n`` more parameters."""

    @property
    def lr(self) -> float:
        """The learning rate of the first group; setting it sets every group's."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        value = _check(value, "lr", self._where)
        for g in self.param_groups:
            g["lr"] = value

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's ``.grad`` to 0.0. The engine has no ``None`` gradient
        (every node holds a float), so ``set_to_none`` is accepted and gives 0.0 as well."""
        for p in self.params:
            p.grad = 0.0

    def _check_grads(self) -> None:
        for n, p in zip(self.names, self.params):
            g = p.grad
            if g - g != 0.0:
                raise ValueError(f"{type(self).__name__}.step: the gradient of {n} is {g!r}")

    def step(self) -> list:
        """Update every parameter once; returns one :class:`StepRecord` per parameter.

        Raises:
            ValueError: a gradient or an update is infinite or NaN; then no parameter and
                nothing of the optimiser's state (moments, velocities, step count) changes.
        """
        self._check_grads()
        # Every new value first, then the assignments: a step whose update of one parameter
        # overflows must not leave the others moved (nor its running moments half-updated).
        saved = {k: list(v) if isinstance(v, list) else v for k, v in vars(self).items()
                 if k not in _NOT_STATE}
        pending = []
        try:
            self._begin_step()
            i = 0
            for g in self.param_groups:
                for n, p in zip(g["names"], g["params"]):
                    old, grad = p.data, p.grad
                    new = self._update(i, old, grad, g)
                    if new - new != 0.0:
                        raise ValueError(f"{type(self).__name__}.step: the update of {n} "
                                         f"({old!r} with gradient {grad!r}) gives {new!r}; "
                                         "nothing was changed")
                    pending.append((n, p, old, grad, new))
                    i += 1
        except BaseException:
            vars(self).update(saved)
            raise
        records = []
        for n, p, old, grad, new in pending:
            p.data = new
            records.append(StepRecord(n, old, grad, p.data))
        return records

    def _begin_step(self) -> None:
        pass

    def _update(self, i: int, w: float, g: float, group: dict) -> float:
        raise NotImplementedError

    # ---- state dicts, as torch.optim's: {"state": {index: {...}}, "param_groups": [...]} ----
    _STATE: tuple = ()   # (state-dict key, attribute holding a per-parameter list)

    def _param_state(self, i: int) -> dict:
        return {key: getattr(self, attr)[i] for key, attr in self._STATE
                if getattr(self, attr)[i] is not None}

    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{hyper-parameters, "params": [index,
        ...]}]}``, PyTorch's layout: parameters are numbered in order over the groups."""
        groups, i = [], 0
        for g in self.param_groups:
            n = len(g["params"])
            groups.append({**{k: v for k, v in g.items() if k not in ("params", "names")},
                           "params": list(range(i, i + n))})
            i += n
        state = {}
        for j in range(len(self.params)):
            st = self._param_state(j)
            if st:
                state[j] = st
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters and per-parameter state from :meth:`state_dict`. The
        groups must hold as many parameters as this optimiser's; all is checked first."""
        where = f"{type(self).__name__}.load_state_dict"
        try:
            groups, state = state_dict["param_groups"], state_dict["state"]
        except (KeyError, TypeError):
            raise TypeError(f"{where}: expected a dict with 'state' and 'param_groups'") \
                from None
        if len(groups) != len(self.param_groups) or any(
                len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)):
            raise ValueError(f"{where}: the saved groups hold "
                             f"{[len(g['params']) for g in groups]} parameters, this optimiser's "
                             f"{[len(g['params']) for g in self.param_groups]}")
        new_groups = [self._checked({**self.defaults, **{k: v for k, v in g.items()
                                                        if k != "params"}}) for g in groups]
        keys = {key for key, _ in self._STATE} | {"step"}
        for j, st in state.items():
            if not isinstance(j, int) or not 0 <= j < len(self.params) or set(st) - keys:
                raise ValueError(f"{where}: bad state entry {j!r}: {st!r}")
        for g, new in zip(self.param_groups, new_groups):
            g.update(new)
        for key, attr in self._STATE:
            values = getattr(self, attr)
            for j in range(len(self.params)):
                values[j] = state.get(j, {}).get(key, self._fresh(key))
        self._after_load(state)

    def _fresh(self, key: str):
        return None

    def _after_load(self, state: dict) -> None:
        pass

    def __repr__(self) -> str:
        g = self.param_groups[0]
        opts = ", ".join(f"{k}={g[k]!r}" for k in self.defaults)
        more = f", {len(self.param_groups)} groups" if len(self.param_groups) > 1 else ""
        return f"{type(self).__name__}({opts}{more})"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, L2 weight decay and an L1 penalty,
    as ``torch.optim.SGD``:

        g = grad + weight_decay * w + l1 * sign(w)
        v = momentum * v + (1 - dampening) * g        (v = g on the first step)
        w = w - lr * v

    ``weight_decay`` is the derivative of ``(weight_decay / 2) * w^2``; ``l1`` that of
    ``l1 * |w|``. With the default ``l1_step="subgradient"`` the L1 term pulls every weight
    toward 0 by ``lr * l1`` per step, but a weight whose data gradient is smaller than ``l1``
    overshoots 0 and chatters within ``lr * l1`` of it: it does not become 0 (seed 004,
    S4-Q3a). ``l1_step="proximal"`` leaves ``l1`` out of ``g`` and takes the proximal step of
    ``l1 * |w|`` after the update (ISTA), a soft threshold that sets such weights to exactly 0:

        w = sign(w') * max(|w'| - lr * l1, 0),   w' = the update above without the L1 term

    Args:
        params: Values, ``(name, Value)`` pairs, a Module, or param groups.
        lr, momentum, dampening, weight_decay, l1: numbers >= 0.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
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
    _STATE = (("momentum_buffer", "velocity"),)

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0,
                 weight_decay: float = 0.0, l1: float = 0.0, nesterov: bool = False,
                 l1_step: str = "subgradient", dampening: float = 0.0) -> None:
        self.velocity: list = []
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, l1=l1,
                                      l1_step=l1_step), "SGD")

    def _checked(self, g: dict) -> dict:
        for k in ("lr", "momentum", "dampening", "weight_decay", "l1"):
            g[k] = _check(g[k], k, "SGD")
        if g["l1_step"] not in self.L1_STEPS:
            raise ValueError(f"SGD: l1_step must be one of {self.L1_STEPS}, got "
                             f"{g['l1_step']!r}")
        g["nesterov"] = bool(g["nesterov"])
        if g["nesterov"] and (g["momentum"] == 0 or g["dampening"] != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening 0")
        return g

    def _grow(self, n: int) -> None:
        self.velocity.extend([None] * n)

    @property
    def momentum(self) -> float:
        return self.param_groups[0]["momentum"]

    @property
    def weight_decay(self) -> float:
        return self.param_groups[0]["weight_decay"]

    @property
    def l1(self) -> float:
        return self.param_groups[0]["l1"]

    @property
    def l1_step(self) -> str:
        return self.param_groups[0]["l1_step"]

    @property
    def nesterov(self) -> bool:
        return self.param_groups[0]["nesterov"]

    def _update(self, i: int, old: float, g: float, group: dict) -> float:
        lr, mu, wd = float(group["lr"]), group["momentum"], group["weight_decay"]
        proximal = group["l1_step"] == "proximal"
        l1 = 0.0 if proximal else group["l1"]
        d = g
        if wd:
            d = d + wd * old
        if l1:
            d = d + l1 * (1.0 if old > 0 else (-1.0 if old < 0 else 0.0))
        if mu:
            v = self.velocity[i]
            damp = group["dampening"]
            v = d if v is None else mu * v + ((1 - damp) * d if damp else d)
            self.velocity[i] = v
            d = d + mu * v if group["nesterov"] else v
        new = old - lr * d
        if proximal and group["l1"]:
            new = soft_threshold(new, lr * group["l1"])
        return new


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
    ``weight_decay * w`` to the gradient, the L2 form; :class:`AdamW` decouples it):

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

    _STATE = (("exp_avg", "m"), ("exp_avg_sq", "v"))
    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        self.t = 0
        self.m: list = []
        self.v: list = []
        self.m_hat: list = []
        self.v_hat: list = []
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay),
                         type(self).__name__)

    def _checked(self, g: dict) -> dict:
        where = type(self).__name__
        g["lr"] = _check(g["lr"], "lr", where)
        betas = g["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2 or not all(
                isinstance(b, (int, float)) and not isinstance(b, bool) and 0.0 <= b < 1.0
                for b in betas):
            raise ValueError(f"{where}: betas must be two numbers in [0, 1), got {betas!r}")
        g["betas"] = (float(betas[0]), float(betas[1]))
        g["eps"] = _check(g["eps"], "eps", where)
        g["weight_decay"] = _check(g["weight_decay"], "weight_decay", where)
        return g

    def _grow(self, n: int) -> None:
        for lst in (self.m, self.v, self.m_hat, self.v_hat):
            lst.extend([0.0] * n)

    def _fresh(self, key: str):
        return 0.0

    def _param_state(self, i: int) -> dict:
        return {"step": self.t, "exp_avg": self.m[i], "exp_avg_sq": self.v[i]} if self.t else {}

    def _after_load(self, state: dict) -> None:
        steps = {int(st.get("step", 0)) for st in state.values()}
        if len(steps) > 1:
            raise ValueError(f"{type(self).__name__}.load_state_dict: parameters at different "
                             f"step counts {sorted(steps)}")
        self.t = steps.pop() if steps else 0

    @property
    def betas(self) -> tuple:
        return self.param_groups[0]["betas"]

    @property
    def eps(self) -> float:
        return self.param_groups[0]["eps"]

    @property
    def weight_decay(self) -> float:
        return self.param_groups[0]["weight_decay"]

    def _begin_step(self) -> None:
        self.t += 1

    def _update(self, i: int, old: float, g: float, group: dict) -> float:
        b1, b2 = group["betas"]
        lr, eps, wd = float(group["lr"]), group["eps"], group["weight_decay"]
        c1, c2 = 1.0 - b1 ** self.t, 1.0 - b2 ** self.t
        w = old
        if wd and self._decoupled:
            w = w * (1 - lr * wd)
        d = g + wd * old if wd and not self._decoupled else g
        m = self.m[i] = b1 * self.m[i] + (1 - b1) * d
        v = self.v[i] = b2 * self.v[i] + (1 - b2) * d * d
        mh = self.m_hat[i] = m / c1
        vh = self.v_hat[i] = v / c2
        denom = math.sqrt(vh) + eps
        # denom is 0 only with eps = 0 and every gradient so far 0; then m_hat is 0 too
        return w - lr * mh / denom if denom else w


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter; ``torch.optim.AdamW``): the
    weight shrinks by ``lr * weight_decay * w`` before the Adam step, instead of the decay
    entering the gradient (and being rescaled by ``1 / sqrt(v_hat)``):

        w = w (1 - lr * weight_decay) - lr * m_hat / (sqrt(v_hat) + eps)

    The default ``weight_decay`` is 0.01, as in PyTorch.
    """

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
