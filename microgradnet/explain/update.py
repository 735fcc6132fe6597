"""The update of the parameters: one gradient-descent step, written out."""
from __future__ import annotations

import math
from typing import Optional

from ..engine import Value
from ..formula import const_text as _const, format_number, latex_name, round_half_up
from .records import Explanation, Section, Step

__all__ = ["explain_update", "update_step", "check_lr"]

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
    nm = name or param.label or "w"
    sec = Section("update", f"Update (gradient descent, learning rate {_const(lr)})",
                  [update_step(nm, param.data, shown, g, lr, decimals)])
    return Explanation([sec], decimals)

