"""The given values and the forward pass: one line per named node, in textbook order."""
from __future__ import annotations

import re
from typing import Optional, Sequence

from ..engine import Value
from ..formula import Expr as _E, latex_name
from ..graph import PARAM_LABEL
from .naming import NamedGraph as _Graph
from .records import Section, Step

__all__ = ["given_section", "forward_sections", "forward_nodes", "levels"]

# ---- sections ----------------------------------------------------------------------------------

def _leaves_in(e: _E, out: list) -> None:
    stack = [e]
    while stack:
        f = stack.pop()
        if f.kind == "sym":
            out.append(f.val)
        stack.extend(reversed(f.args))


def given_section(g: _Graph, lines: Sequence[Value],
                  params: Optional[frozenset] = None) -> Section:
    """The named leaves, grouped by name stem (i, w, b, t) in order of first use, the inputs
    of a line before its parameters, and in natural order within a group: i1, i2, w11,
    w12, ..., as a sheet's table lists them. ``params``: the parameters (``None``: the
    leaves labelled like parameters, ``w21``, ``b1``)."""
    seen: list = []
    first_use: dict = {}
    for i, n in enumerate(lines):
        found: list = []
        _leaves_in(g.expr[n], found)
        for leaf in found:
            first_use.setdefault(leaf, i)
    used = [leaf for line in lines for leaf in _leaves_of(g, line)]
    listed: set = set()
    for n in used + [n for n in g.order if n.is_leaf]:
        if n.is_leaf and n in g.name and n not in listed:
            listed.add(n)
            seen.append(n)

    def is_param(n: Value) -> bool:
        return n in params if params is not None else bool(PARAM_LABEL.match(n.label))

    stems: list = []
    for n in sorted(seen, key=lambda n: (first_use.get(n, len(lines)), is_param(n))):
        stem = re.sub(r"[\d\W_].*$", "", g.name[n])
        if stem not in stems:
            stems.append(stem)

    def key(n: Value) -> tuple:
        nm = g.name[n]
        stem = re.sub(r"[\d\W_].*$", "", nm)
        parts = [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", nm)]
        return (stems.index(stem), parts)

    sec = Section("given", "Given")
    for n in sorted(seen, key=key):
        nm = g.name[n]
        sec.steps.append(Step(nm, latex_name(nm), [], n.data, n.data))
    return sec


def _leaves_of(g: _Graph, n: Value) -> list:
    found: list = []
    _leaves_in(g.expr[n], found)
    return found


def _line(g: _Graph, n: Value) -> Step:
    e = g.expr[n]
    sym = (g.printer("text", False)(e), g.printer("latex", False)(e))
    num = (g.printer("text", True)(e), g.printer("latex", True)(e))
    parts = [sym] if sym == num else [sym, num]
    nm = g.name[n]
    return Step(nm, latex_name(nm), parts, g.shown[n], n.data,
                intro="let" if n in g.made_up else "")


def forward_sections(g: _Graph, split_root: bool, loss: bool = True) -> list:
    """The forward pass, and with ``split_root`` the root's line in a section of its own
    (key ``"loss"``), headed "Loss" if it is one, else "Output"."""
    fwd = Section("forward", "Forward pass")
    for n in forward_nodes(g):
        if not (split_root and n is g.root):
            fwd.steps.append(_line(g, n))
    made_up = [g.name[n] for n in forward_nodes(g) if n in g.made_up]
    if made_up:
        fwd.notes.append(", ".join(made_up) + (" name results" if len(made_up) > 1 else
                                               " names a result")
                         + " that the graph leaves unnamed (used twice, or a long formula cut)")
    secs = [fwd] if fwd.steps or not split_root else []   # no empty section before the loss
    if split_root and g.root in g.expr:
        title = "Loss" if loss else "Output (the node differentiated below)"
        secs.append(Section("loss", title, [_line(g, g.root)]))
    return secs


def levels(g: _Graph) -> dict:
    """Each node's layer: one more than its deepest named input's (leaves are at 0)."""
    level: dict = {}
    for n in g.order:
        lv = max((level[p] for p in n.parents), default=0)
        level[n] = lv + (1 if n in g.expr else 0)
    return level


def forward_nodes(g: _Graph) -> list:
    """The named lines in textbook order: layer by layer (h1, h2 before h3, h4); still a valid
    order, as a parent's level is lower."""
    level = levels(g)
    index = {n: i for i, n in enumerate(g.order)}
    return sorted(g.expr, key=lambda n: (level[n], index[n]))


