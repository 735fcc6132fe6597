"""What a problem file holds once read: the graph, its parameters, the optimiser, the choices
of what to show; and the error a wrong file raises."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..engine import Value, topological_order
from ..explain.naming import MAX_DECIMALS

__all__ = ["Problem", "Optimiser", "ProblemError", "LOSSES", "OPTIMISERS", "MAX_DECIMALS",
           "labelled", "check_decimals"]


#: The losses a TOML problem can name.
LOSSES = ("mse", "cross_entropy", "binary_cross_entropy", "hinge", "none")
#: The optimisers a problem can name, with the options each takes besides ``kind`` and ``lr``.
OPTIMISERS = {"sgd": ("momentum", "weight_decay"), "adam": ("betas", "eps", "weight_decay")}


class ProblemError(ValueError):
    """A problem file that cannot be read: the message names the file and the key or line."""


def check_decimals(decimals: object) -> Optional[str]:
    """What is wrong with a problem's number of decimals (None, or an int 0 to
    :data:`MAX_DECIMALS`), or None if nothing is."""
    if decimals is None or (not isinstance(decimals, bool) and isinstance(decimals, int)
                            and 0 <= decimals <= MAX_DECIMALS):
        return None
    shown = (f"an int of {len(str(abs(decimals)))} digits"
             if isinstance(decimals, int) and abs(decimals) > 10**6 else repr(decimals)[:40])
    return f"must be a whole number from 0 to {MAX_DECIMALS}, got {shown}"


@dataclass(frozen=True)
class Optimiser:
    """One step of an optimiser: ``kind`` (``"sgd"`` or ``"adam"``), the learning rate and the
    other options by name (``momentum``, ``betas``...)."""
    kind: str
    lr: float
    options: dict = field(default_factory=dict)


@dataclass
class Problem:
    """A problem read from a file.

    Attributes:
        path: the file.
        root: the node differentiated: the loss, or the output when there is no loss.
        params: the parameters to update, in the file's order.
        lr: the learning rate (the optimiser's), or None.
        optimiser: the update step, or None (no update asked).
        nodes: every labelled node of the graph by its label, in graph order.
        wrt: labels of the parameters chosen for the update and for the paths (empty: all).
        decimals: decimals to round to, or None.
        title: what the problem is.
        is_loss: whether ``root`` is a loss (a problem without one differentiates an output);
            None when a Python file does not say (its label decides).
    """
    path: Path
    root: Value
    params: list
    lr: Optional[float] = None
    optimiser: Optional[Optimiser] = None
    nodes: dict = field(default_factory=dict)
    wrt: list = field(default_factory=list)
    decimals: Optional[int] = None
    title: str = ""
    is_loss: Optional[bool] = None

    def node(self, label: str) -> Value:
        """The node labelled ``label``; a ProblemError naming the labels there are if none."""
        if label not in self.nodes:
            raise ProblemError(f"{self.path.name}: no node labelled {label!r}; labels: "
                               + ", ".join(self.nodes))
        return self.nodes[label]



def labelled(root: Value) -> dict:
    """Every labelled node of ``root``'s graph by label (the first in graph order wins)."""
    out: dict = {}
    for n in topological_order(root):
        if n.label and n.label not in out:
            out[n.label] = n
    return out

