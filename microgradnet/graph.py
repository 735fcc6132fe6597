"""The analysis of a graph that explanations and pictures share, computed once per graph and
without recursion: the order and ids, what each node is, who consumes it, the paths from a
node to the root (counted, and which of them carry gradient), and the backward pass as the
terms that make up each gradient.

Node ids come from :func:`microgradnet.topological_order` (``n0`` is the first node in graph
order), so the same graph always gets the same ids. Nothing here touches ``.grad`` or ``.data``
of the nodes: the backward pass is the engine's :func:`~microgradnet.gradients.sweep`, so the
numbers are the engine's to the last bit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from ._checks import stale_error
from ._walk import first_stale
from .engine import Value, topological_order
from .gradients import local_derivatives, sweep

__all__ = ["Graph", "Term", "analyse", "refuse_stale", "replay_backward", "local_derivatives",
           "node_kind", "highlight_paths", "count_paths", "find_labelled", "PARAM_LABEL", "KINDS"]

#: What a value node is, for its colour: the output, a parameter (a leaf the optimiser
#: changes), an input (another labelled leaf), a constant (an unlabelled leaf, such as the
#: ``0.5`` of ``0.5 * x``), or an intermediate result.
KINDS = ("output", "param", "input", "const", "intermediate")

#: Labels taken for parameters when no ``params`` are given: ``w``, ``b``, ``w21``, ``b_1``,
#: ``W[1]``, ``weight``, ``bias``.
PARAM_LABEL = re.compile(r"^(?:[wWbB]|weight|bias)(?:[\d_\[.(]|$)")


@dataclass(frozen=True)
class Term:
    """One contribution to a node's gradient in the backward pass: the consumer ``out`` used
    the node as operand ``position``; it sent ``grad_out * local`` back along that edge."""
    out: Value
    position: int
    grad_out: float
    local: float
    value: float


@dataclass
class Graph:
    """A graph in graph order, with ids, kinds and the consumers of every node."""
    root: Value
    order: list
    index: dict                      # Value -> position in ``order``
    consumers: list                  # per node: [(consumer index, operand position), ...]
    kinds: list
    params: frozenset = field(default_factory=frozenset)
    _locals: list | None = field(default=None, repr=False)

    def id(self, node: Value) -> str:
        """The DOT id of a value node: ``n`` and its position in graph order."""
        return f"n{self.index[node]}"

    def name(self, node: Value) -> str:
        """The label of a node, or its id if it has none."""
        return node.label or self.id(node)

    @property
    def locals(self) -> list:
        """Per node in graph order, d node / d operand for each operand (computed once)."""
        if self._locals is None:
            self._locals = [local_derivatives(n) for n in self.order]
        return self._locals

    def path_counts(self, target: Value) -> list:
        """Per node in graph order, the number of paths from ``target`` up to it (an operand
        used twice counts twice): dynamic programming, exact even when astronomically large."""
        index = self.index
        counts = [0] * len(self.order)
        t = index.get(target)
        if t is None:
            return counts
        counts[t] = 1
        for i in range(t + 1, len(self.order)):
            counts[i] = sum(counts[index[p]] for p in self.order[i].parents)
        return counts


def node_kind(node: Value, root: Value, params: frozenset) -> str:
    """Which of :data:`KINDS` a node is."""
    if node is root:
        return "output"
    if node in params:
        return "param"
    if node.is_leaf:
        return "input" if node.label else "const"
    return "intermediate"


def refuse_stale(order: list) -> None:
    """Raise :class:`~microgradnet.StaleGraphError` if a leaf of the graph was assigned after
    an op read it: a picture or an explanation of it would show values that no point gives
    (the node's stored value next to the leaf's new one)."""
    stale = first_stale(order)
    if stale is not None:
        node, leaf = stale
        raise stale_error(node, leaf, shown=True)


def analyse(root: Value, params: Iterable[Value] | None = None,
            extra_params: Iterable[Value] = ()) -> Graph:
    """Order, index and classify the graph that ends at ``root``.

    Args:
        root: the output node.
        params: the parameter leaves; ``None`` takes every leaf whose label matches
            :data:`PARAM_LABEL` (``w21``, ``b1``, ``weight``...).
        extra_params: nodes that are parameters whatever ``params`` says (the highlighted
            node, the updated ones).

    Returns:
        A :class:`Graph`.
    """
    if not isinstance(root, Value):
        raise TypeError(f"the root of a picture must be a Value, got {type(root).__name__}")
    order = topological_order(root)
    refuse_stale(order)
    index = {node: i for i, node in enumerate(order)}
    if params is None:
        chosen = {n for n in order if n.is_leaf and PARAM_LABEL.match(n.label)}
    else:
        chosen = set()
        for p in params:
            if not isinstance(p, Value):
                raise TypeError(f"params must be Values, got {type(p).__name__}")
            chosen.add(p)
    chosen.update(extra_params)
    frozen = frozenset(chosen)
    consumers: list = [[] for _ in order]
    for i, node in enumerate(order):
        for pos, p in enumerate(node.parents):
            consumers[index[p]].append((i, pos))
    kinds = [node_kind(n, root, frozen) for n in order]
    return Graph(root, order, index, consumers, kinds, frozen)


def replay_backward(graph: Graph, seed: float = 1.0) -> tuple:
    """The engine's backward pass (:func:`~microgradnet.gradients.sweep`), kept as the terms that
    make up each gradient instead of written into ``.grad``. Every node starts at zero, as in
    a first ``backward()`` call.

    Returns:
        ``(grads, terms)``: the gradient of every node (a list in graph order) and, per node,
        the list of :class:`Term` that were added up to make it, in the order they arrived.
    """
    index = graph.index
    grads = [0.0] * len(graph.order)
    terms: list = [[] for _ in graph.order]
    for visit in sweep(graph.root, seed, order=graph.order):
        i = index[visit.node]
        grads[i] = visit.grad
        local = graph.locals[i]
        for pos, (p, gp) in enumerate(zip(visit.node.parents, visit.sent)):
            terms[index[p]].append(Term(visit.node, pos, visit.grad, local[pos], float(gp)))
    return grads, terms


def count_paths(root: Value, wrt: Value) -> int:
    """The number of paths from ``root`` to ``wrt`` (an operand used twice counts twice).

    Example:
        >>> a = Value(1.0); b = a + a; c = b + b
        >>> count_paths(c, a)
        4
    """
    return analyse(root).path_counts(wrt)[-1]


def highlight_paths(graph: Graph, target: Value) -> tuple:
    """Which nodes and edges lie on a path from ``target`` to the root, and which of them carry
    a gradient.

    A path is dead when one of its edges has a local derivative of zero (a ReLU that is off,
    the smaller input of ``max``): ``target``'s gradient cannot flow along it.

    Returns:
        ``(on_path, live, edges, counts)``: sets of node indices on some path and on some live
        path; ``edges`` maps ``(consumer index, operand position)`` of every edge on a path to
        ``(live, local derivative)``; ``counts`` is ``(all paths, live paths)``.
    """
    order = graph.order
    index = graph.index
    t = index[target]
    n = len(order)
    locals_ = graph.locals
    # Forward from the target: reached at all, reached along non-zero derivatives; path counts.
    reach = [False] * n
    fwd = [False] * n
    paths = [0] * n
    live_paths = [0] * n
    reach[t] = fwd[t] = True
    paths[t] = live_paths[t] = 1
    for i in range(t + 1, n):
        for pos, p in enumerate(order[i].parents):
            j = index[p]
            if reach[j]:
                reach[i] = True
                paths[i] += paths[j]
                if fwd[j] and locals_[i][pos] != 0.0:
                    fwd[i] = True
                    live_paths[i] += live_paths[j]
    # Backward from the root: the root's gradient reaches the node along non-zero derivatives.
    bwd = [False] * n
    bwd[n - 1] = True
    for i in range(n - 1, -1, -1):
        if not bwd[i]:
            continue
        for pos, p in enumerate(order[i].parents):
            if locals_[i][pos] != 0.0:
                bwd[index[p]] = True
    on_path = {i for i in range(n) if reach[i]}
    live = {i for i in on_path if fwd[i] and bwd[i]}
    edges: dict = {}
    for i in on_path:
        for pos, p in enumerate(order[i].parents):
            j = index[p]
            if reach[j]:
                d = locals_[i][pos]
                edges[(i, pos)] = (fwd[j] and d != 0.0 and bwd[i], d)
    # A live path needs every edge live; live_paths counted forward-live edges only, and
    # every node on a forward-live path to the root is backward-live too.
    return on_path, live, edges, (paths[n - 1], live_paths[n - 1])


def find_labelled(graph: Graph, label: str) -> Value:
    """The one node labelled ``label`` (leaves first); a clear error if none or several."""
    hits = [n for n in graph.order if n.label == label]
    leaves = [n for n in hits if n.is_leaf]
    if leaves:
        hits = leaves
    if not hits:
        known = sorted({n.label for n in graph.order if n.label})
        raise ValueError(f"no node labelled {label!r} in the graph; labels: "
                         + (", ".join(known) if known else "(none)"))
    if len(hits) > 1:
        raise ValueError(f"{len(hits)} nodes are labelled {label!r}; pass the Value itself")
    return hits[0]
