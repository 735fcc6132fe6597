"""The update of the parameters: one gradient-descent step, written out."""
from __future__ import annotations

import math
import re
from typing import Optional

from ..engine import Value
from ..formula import const_text as _const, format_number, latex_name, round_half_up, visible
from .records import Explanation, Section, Step

__all__ = ["explain_update", "update_step", "check_lr", "optimiser_section"]

def update_step(name: str, old: float, g: float, g_exact: float, lr: float,
                 decimals: Optional[int]) -> Step:
    new = old - lr * g
    exact = old - lr * g_exact
    if decimals is not None:
        new = round_half_up(new, decimals)
    gs = format_number(g, decimals)
    gs = f"({gs})" if g < 0 else gs
    t = f"{format_number(old)} - {_const(lr)} * {gs}"
    tex = f"{format_number(old)} - {_const(lr)} \\cdot {gs}"
    return Step(name, latex_name(name), [(t, tex)], new, exact, rel="<-")


def check_lr(lr) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise TypeError(f"explain: lr must be a number, got {type(lr).__name__}")
    if not math.isfinite(lr):
        raise ValueError(f"explain: lr must be finite, got {lr!r}")
    return float(lr)



def explain_update(param: Value, lr: float, grad: Optional[float] = None, *,
                   decimals: Optional[int] = None, name: Optional[str] = None) -> Explanation:
    """One gradient-descent step on ``param``: ``w <- w - lr * grad = new``.

    Args:
        param: the parameter (its ``data`` is the old value; it is not changed).
        lr: the learning rate.
        grad: the gradient; ``param.grad`` when omitted (call ``backward()`` first).
        decimals: round the gradient and the new value to this many decimals.
        name: the name shown; ``param.label`` when omitted.

    Example:
        >>> w = Value(0.5, label="w21")
        >>> print(explain_update(w, 0.1, -1.5).text().splitlines()[1])
          w21 <- 0.5 - 0.1 * (-1.5) = 0.65
    """
    if not isinstance(param, Value):
        raise TypeError(f"explain_update: param must be a Value, got {type(param).__name__}")
    lr = check_lr(lr)
    g = param.grad if grad is None else float(grad)
    shown = round_half_up(g, decimals) if decimals is not None else g
    nm = visible(name or param.label or "w")
    sec = Section("update", f"Update (gradient descent, learning rate {_const(lr)})",
                  [update_step(nm, param.data, shown, g, lr, decimals)])
    return Explanation([sec], decimals)



# ---- an optimiser's step, written out ----------------------------------------------------------

def _n(x: float, decimals: Optional[int], first: bool = False) -> str:
    """A number inside a line (already rounded where it was computed): a negative one after
    the first term in brackets."""
    s = format_number(x)
    return f"({s})" if x < 0 and not first else s


_TEX_NAMES = {"weight_decay": r"\lambda", "lr": r"\eta", "m_hat": r"\hat{m}",
              "v_hat": r"\hat{v}", "beta1": r"\beta_1", "beta2": r"\beta_2", "eps": r"\epsilon"}


def _tex(text: str, name: str = "") -> str:
    """The plain arithmetic of a step-through line as LaTeX (``name``: the parameter's)."""
    if name:   # the name as a whole word: the parameter w is not the w of weight_decay
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "\0", text)
    text = re.sub(r"sqrt\(([^()]*)\)", r"\\sqrt{\1}", text)
    text = re.sub(r"\b(" + "|".join(_TEX_NAMES) + r")\b", lambda m: _TEX_NAMES[m.group(1)], text)
    return text.replace("*", r" \cdot ").replace("\0", latex_name(name) if name else "")


def _line(lhs: str, formula: str, numbers: str, value: float, exact: float, name: str = "",
          rel: str = "=") -> Step:
    return Step(lhs, latex_name(lhs) if rel == "<-" else _tex(lhs),
                [(formula, _tex(formula, name)), (numbers, _tex(numbers))],
                value, exact, rel=rel, level=1)


def optimiser_section(kind: str, lr: float, options: dict, entries: list,
                      decimals: Optional[int] = None, loss: str = "L") -> tuple:
    """The first step of an optimiser on each parameter, line by line.

    SGD: ``w <- w - lr * g`` (with ``weight_decay``: ``g' = g + weight_decay * w`` first; on
    the first step momentum's buffer is ``g'`` itself). Adam (``betas``, ``eps``, optionally
    ``weight_decay``), from m = v = 0 at t = 1::

        m = beta1*m + (1 - beta1)*g          v = beta2*v + (1 - beta2)*g^2
        m_hat = m/(1 - beta1^t)              v_hat = v/(1 - beta2^t)
        step = lr*m_hat/(sqrt(v_hat) + eps)  w <- w - step

    The numbers are :mod:`microgradnet.optim`'s own (its optimiser is run on copies of the
    parameters); with ``decimals`` each line is rounded and carried to the next, as by hand.

    Args:
        kind: ``"sgd"`` or ``"adam"``.
        lr: the learning rate.
        options: the optimiser's other settings (``momentum``, ``weight_decay``, ``betas``,
            ``eps``).
        entries: ``(name, old value, gradient as shown, gradient)`` per parameter.
        decimals: round each line to this many decimals.
        loss: the name of the differentiated node, for ``g = dL/dw``.

    Returns:
        ``(section, updates)``: the :class:`Section` and per name ``(old, grad, lr, new)``
        with the optimiser's unrounded new value.
    """
    from .. import optim   # the optimisers are computed where they are defined
    lr = check_lr(lr)
    copies = []
    for name, old, _, g in entries:
        copy = Value(old, label=name)
        copy.grad = g
        copies.append(copy)
    wd = options.get("weight_decay", 0.0)
    if kind == "adam":
        b1, b2 = options.get("betas", (0.9, 0.999))
        eps = options.get("eps", 1e-8)
        opt: "optim.Adam | optim.SGD" = optim.Adam(copies, lr=lr, betas=(b1, b2), eps=eps,
                                          weight_decay=wd)
        title = (f"Update (Adam: learning rate {_const(lr)}, beta1 {_const(b1)}, beta2 "
                 f"{_const(b2)}, eps {_const(eps)}; step t = 1 from m = v = 0)")
    elif kind == "sgd":
        opt = optim.SGD(copies, lr=lr, momentum=options.get("momentum", 0.0), weight_decay=wd)
        extra = "".join(f", {k} {_const(options[k])}" for k in ("momentum", "weight_decay")
                        if options.get(k))
        title = f"Update (gradient descent, learning rate {_const(lr)}{extra})"
    else:
        raise ValueError(f"optimiser must be 'sgd' or 'adam', got {kind!r}")
    records = opt.step()
    sec = Section("update", title)
    updates: dict = {}
    k = decimals

    def rnd(x: float) -> float:
        # at least k significant digits: Adam's moments are as small as g^2 (1e-5 and less),
        # and rounded to k decimals they would read 0.0 and divide the step by zero
        if k is None:
            return x
        digits = k if x == 0 else max(k, k - 1 - math.floor(math.log10(abs(x))))
        return round_half_up(x, digits)

    for i, ((name, old, g, g_exact), rec) in enumerate(zip(entries, records, strict=True)):
        updates[name] = (old, g_exact, lr, rec.new)
        if kind == "sgd" and not wd:
            sec.steps.append(update_step(name, old, g, g_exact, lr, k))
            continue
        sec.steps.append(Step(f"{name}: g", latex_name(name) + r":\ g",
                              [(f"d{loss}/d{name}", r"\frac{\partial " + latex_name(loss)
                                + r"}{\partial " + latex_name(name) + "}")], g, g_exact,
                              numeric_last=False))
        d, d_exact = g, g_exact
        if wd:
            d_exact = g_exact + wd * old
            d = rnd(g + wd * old)
            sec.steps.append(_line("g'", f"g + weight_decay*{name}",
                                   f"{_n(g, k, True)} + {_const(wd)}*{_n(old, None)}",
                                   d, d_exact, name))
        if kind == "sgd":
            new = rnd(old - lr * d)
            sec.steps.append(_line(name, f"{name} - lr*g'", f"{format_number(old)} - {_const(lr)}*"
                                   f"{_n(d, k)}", new, rec.new, name, rel="<-"))
            continue
        assert isinstance(opt, optim.Adam)
        m = rnd((1 - b1) * d)
        v = rnd((1 - b2) * d * d)
        sec.steps.append(_line("m", "beta1*m + (1 - beta1)*g",
                               f"{_const(b1)}*0.0 + (1 - {_const(b1)})*{_n(d, k)}",
                               m, opt.m[i]))
        sec.steps.append(_line("v", "beta2*v + (1 - beta2)*g^2",
                               f"{_const(b2)}*0.0 + (1 - {_const(b2)})*{_n(d, k)}^2",
                               v, opt.v[i]))
        mh = rnd(m / (1 - b1))
        vh = rnd(v / (1 - b2))
        sec.steps.append(_line("m_hat", "m/(1 - beta1^t)",
                               f"{_n(m, k, True)}/(1 - {_const(b1)}^1)", mh, opt.m_hat[i]))
        sec.steps.append(_line("v_hat", "v/(1 - beta2^t)",
                               f"{_n(v, k, True)}/(1 - {_const(b2)}^1)", vh, opt.v_hat[i]))
        # with eps = 0 and every gradient 0 so far, m_hat is 0 too and there is no step
        step = rnd(lr * mh / (math.sqrt(vh) + eps)) if vh + eps else 0.0
        sec.steps.append(_line("step", "lr*m_hat/(sqrt(v_hat) + eps)",
                               f"{_const(lr)}*{_n(mh, k)}/(sqrt({format_number(vh)}) + "
                               f"{_const(eps)})", step, old - rec.new))
        sec.steps.append(_line(name, f"{name} - step", f"{format_number(old)} - {_n(step, k)}",
                               rnd(old - step), rec.new, name, rel="<-"))
    return sec, updates
