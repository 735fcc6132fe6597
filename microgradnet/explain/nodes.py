"""The backward pass node by node, as a textbook writes it: from the loss down, each named
node's gradient is the sum over the named nodes that use it of (their gradient x the local
derivative)::

    dMSE/dh3 = dMSE/do1 * do1/dh3 + dMSE/do2 * do2/dh3 = dMSE/do1*w31 + dMSE/do2*w32
             = (-1.0)*0.5 + (-2.0)*(-1.0) = 1.5

This is the "delta" form of backpropagation and the algorithm itself: one line per named node,
so it stays linear in the size of the graph where the sum over paths explodes. The numbers are
the engine's, from :func:`microgradnet.graph.replay_backward` (the sweep that the frames page
and the pictures read too): a node's gradient is the engine's, and each term is the gradient
the engine sent along that edge. A local derivative across a formula written on one line
(``MSE = 0.5*(t1 - o1)^2 + ...``) is the product of the op rules' local derivatives inside it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from ..engine import Value
from ..formula import (Expr as _E, Printer, evaluate, latex_name, product as _product,
                       round_half_up)
from ..graph import Graph, analyse, replay_backward
from .forward import levels
from .naming import FUNCTIONS, NamedGraph, edge_expr
from .paths import is_number
from .records import Section, Step

__all__ = ["nodes_section", "node_order", "NodeTerm", "NodePass"]


class NodeTerm:
    """One named consumer's part of a node's gradient: ``consumer``'s formula uses the node
    (once or more); ``local`` is d consumer / d node (the sum over those places, each the
    product of the op rules' local derivatives on the way), ``local_shown`` the same at the
    values as shown, ``local_expr`` its formula and ``value`` what the engine sent back along
    those edges (their sum)."""
    __slots__ = ("consumer", "local", "local_shown", "local_expr", "value")

    def __init__(self, consumer: Value) -> None:
        self.consumer = consumer
        self.local = 0.0
        self.local_shown = 0.0
        self.local_expr: Optional[_E] = None
        self.value = 0.0


def node_order(g: NamedGraph, graph: Graph) -> list:
    """The named nodes from the root down: the lines of the forward pass in reverse, each
    parameter as soon as every named node that uses it is done (``w31`` right after ``o1``
    and ``o2``), then the other named leaves (inputs, targets)."""
    level = levels(g)
    index = {n: i for i, n in enumerate(g.order)}
    lines = sorted(g.expr, key=lambda n: (-level[n], index[n]))   # o1 before o2, as written
    position = {n: i for i, n in enumerate(lines)}
    leaves = [n for n in g.order if n.is_leaf and n in g.name]
    after: dict = {}
    others = []
    for leaf in leaves:
        users = [position[m] for m in _named_consumers(g, graph, leaf) if m in position]
        if leaf in graph.params and users:
            after.setdefault(max(users), []).append(leaf)
        else:
            others.append(leaf)
    out = []
    for i, n in enumerate(lines):
        out.append(n)
        out += sorted(after.get(i, []), key=lambda p: g.name[p])
    return out + others


def _named_consumers(g: NamedGraph, graph: Graph, node: Value) -> list:
    found = []
    for ci, _ in graph.consumers[graph.index[node]]:
        c = graph.order[ci]
        while c not in g.name:   # an inlined node is used exactly once
            c = graph.order[graph.consumers[graph.index[c]][0][0]]
        if c not in found:
            found.append(c)
    return found


def _terms(g: NamedGraph, graph: Graph, node: Value, engine_terms: list) -> list:
    """The named consumers of ``node`` with their local derivatives and what they sent."""
    index = graph.index
    sent = {(id(t.out), t.position): t.value for t in engine_terms}
    by_consumer: dict = {}
    for ci, pos in graph.consumers[index[node]]:
        c = graph.order[ci]
        bottom = sent.get((id(c), pos), 0.0)   # nothing is sent by a node whose gradient is 0
        seg, exact, shown = [], 1.0, 1.0
        j = pos
        while True:
            args = [g.ref[p] for p in c.parents]
            loc_shown = g.local(c, exact=False)[j] if g.decimals is not None else None
            loc = graph.locals[index[c]][j]
            seg.append(edge_expr(c, j, args, g.ref[c], loc if loc_shown is None else loc_shown))
            exact *= loc
            shown *= loc if loc_shown is None else loc_shown
            if c in g.name:
                break
            ci, j = graph.consumers[index[c]][0]
            c = graph.order[ci]
        t = by_consumer.get(c)
        if t is None:
            t = by_consumer[c] = NodeTerm(c)
        piece = _product(seg)
        t.local_expr = piece if t.local_expr is None else t.local_expr + piece
        t.local += exact
        t.local_shown += shown
        t.value += bottom
    return list(by_consumer.values())


@dataclass
class NodePass:
    """The backward pass node by node: the section to print, and per named node the gradient
    as the engine computed it (``grads``), as shown (``shown``: rounded and carried where
    ``decimals`` is set) and the :class:`NodeTerm` it is the sum of (``terms``)."""
    section: Section
    grads: dict
    shown: dict
    terms: dict


def total_name(top: str, bottom: str) -> tuple:
    """d top / d bottom, a gradient of the backward pass, as text and LaTeX."""
    return (f"d{top}/d{bottom}",
            r"\frac{d " + latex_name(top) + r"}{d " + latex_name(bottom) + "}")


def local_name(top: str, bottom: str) -> tuple:
    """The local derivative of ``top``'s formula by ``bottom``, written with the partial
    sign: it holds the other inputs of the formula fixed, where the gradient d/d does not."""
    return (f"\u2202{top}/\u2202{bottom}",
            r"\frac{\partial " + latex_name(top) + r"}{\partial " + latex_name(bottom) + "}")


class _Grad:
    """The symbol dL/dnode inside a formula (a key of its own, apart from the node's value)."""
    __slots__ = ("node",)

    def __init__(self, node: Value) -> None:
        self.node = node


def nodes_section(g: NamedGraph, params: Optional[frozenset] = None,
                  graph: Optional[Graph] = None, targets: Sequence[Value] = ()) -> "NodePass":
    """The backward pass node by node, for every named node of ``g``.

    Args:
        g: the named lines of the graph.
        params: the parameter leaves (they follow the nodes that use them); ``None`` takes
            the leaves whose labels look like parameters (``w21``, ``b1``).
        graph: the analysis of ``g.root`` if already made.
        targets: if given, only the nodes on a path from the root down to one of them: the
            gradients that theirs are made of (every node that uses such a node is one too).

    Returns:
        A :class:`NodePass`.
    """
    graph = graph if graph is not None else analyse(g.root, params)
    grads, engine_terms = replay_backward(graph)
    index = graph.index
    L = g.name[g.root]
    keys: dict = {}
    names = dict(g.name)
    values = dict(g.shown)
    shown_grads: dict = {}
    k = g.decimals
    title = "Backward pass, node by node" + (
        " (the nodes on a path to " + ", ".join(g.name[t] for t in targets) + ")"
        if targets else "")
    sec = Section("nodes", title,
                  notes=[f"from {L} down: each gradient is the sum, over the nodes that use the "
                         "node, of their gradient times the local derivative (the chain rule)"])
    terms_of: dict = {}
    wanted: Optional[set] = None
    if targets:
        wanted = set()
        for t in targets:
            wanted.update(n for n, c in zip(graph.order, graph.path_counts(t), strict=True) if c)
    for node in node_order(g, graph):
        if wanted is not None and node not in wanted:
            continue
        nm = g.name[node]
        lhs_t, lhs_l = total_name(L, nm)
        exact = grads[index[node]]
        if node is g.root:
            shown_grads[node] = exact
            sec.steps.append(Step(lhs_t, lhs_l, [], exact, exact, note="the start"))
        else:
            terms = terms_of[node] = _terms(g, graph, node, engine_terms[index[node]])
            generic_t, generic_l, formula = [], [], None
            total_shown = 0.0
            for t in terms:
                m = t.consumer
                if shown_grads[m] == 0.0 and not math.isfinite(t.local_shown):
                    continue   # nothing flows back through m, and its slope is undefined here
                key = keys.get(m)
                if key is None:
                    key = keys[m] = _Grad(m)
                    names[key] = total_name(L, g.name[m])
                    values[key] = shown_grads[m]
                d_t, d_l = local_name(g.name[m], nm)
                if m is g.root and shown_grads[m] == 1.0:
                    # d root / d root = 1 is no factor worth writing: dMSE/do1 = o1 - t1
                    generic_t.append(d_t)
                    generic_l.append(d_l)
                    piece = t.local_expr
                else:
                    top_t, top_l = names[key]
                    generic_t.append(f"{top_t} * {d_t}")
                    generic_l.append(f"{top_l} \\cdot {d_l}")
                    piece = _E("sym", key, value=shown_grads[m]) * t.local_expr
                formula = piece if formula is None else formula + piece
                total_shown += shown_grads[m] * t.local_shown
            undefined = False
            if k is not None and formula is not None:
                # what the printed numbers compute, rounded: the sheet's way
                try:
                    total_shown = evaluate(formula, FUNCTIONS, values)
                except (ArithmeticError, ValueError):
                    # a value rounded to 0 divides: the rounded numbers say nothing here
                    undefined = True
                    total_shown = exact
            shown = exact if k is None else round_half_up(total_shown, k)
            shown_grads[node] = shown
            generic = (" + ".join(generic_t), " + ".join(generic_l))
            parts = [generic] if generic[0] != lhs_t else []
            numbers = None
            if formula is not None:
                sym = (Printer("text", names)(formula), Printer("latex", names)(formula))
                if sym[0] != generic[0] and not is_number(sym[0], shown, k):
                    parts.append(sym)
                numbers = (Printer("text", names, values)(formula),
                           Printer("latex", names, values)(formula))
                if numbers != sym and not undefined and not is_number(numbers[0], shown, k):
                    parts.append(numbers)
            numeric = formula is not None and bool(parts) and parts[-1] == numbers
            sec.steps.append(Step(lhs_t, lhs_l, parts, shown, exact, numeric_last=numeric))
    return NodePass(sec, {n: grads[index[n]] for n in shown_grads}, shown_grads, terms_of)
