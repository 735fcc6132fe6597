"""The facts a picture needs about a graph, computed once and without recursion.

Node ids come from :func:`microgradnet.topological_order` (``n0`` is the first node in graph
order), so the same graph always gets the same ids. Nothing here touches ``.grad`` or ``.data``
of the nodes: the backward pass is replayed on a dictionary, with the op table's own rules, in
the order the engine uses, so the numbers are the engine's to the last bit.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from ..engine import Value, topological_order

__all__ = ["Graph", "Term", "analyse", "replay_backward", "local_derivatives", "node_kind",
           "highlight_paths", "find_labelled", "coerce_updates", "PARAM_LABEL", "KINDS"]

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

    def id(self, node: Value) -> str:
        """The DOT id of a value node: ``n`` and its position in graph order."""
        return f"n{self.index[node]}"

    def name(self, node: Value) -> str:
        """The label of a node, or its id if it has none."""
        return node.label or self.id(node)


def node_kind(node: Value, root: Value, params: frozenset) -> str:
    """Which of :data:`KINDS` a node is."""
    if node is root:
        return "output"
    if node in params:
        return "param"
    if node.is_leaf:
        return "input" if node.label else "const"
    return "intermediate"


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


def local_derivatives(node: Value) -> tuple:
    """d node / d operand for each operand of ``node`` (one per edge, duplicates kept), from
    the op's rule at an incoming gradient of 1; ``nan`` where the rule fails (sqrt'(0))."""
    op = node.primitive
    if op is None:
        return ()
    try:
        return tuple(float(d) for d in op.rule(1.0, node.data, *[p.data for p in node.parents]))
    except (ZeroDivisionError, OverflowError, ValueError):
        return tuple(math.nan for _ in node.parents)


def replay_backward(graph: Graph, seed: float = 1.0) -> tuple:
    """Run the engine's backward pass on a dictionary instead of on ``.grad``.

    The loop is the engine's: nodes in reverse graph order, each sends ``rule(g, out, *args)``
    to its operands, a zero gradient sends nothing. Every node starts at zero, as in a first
    ``backward()`` call.

    Returns:
        ``(grads, terms)``: the gradient of every node (a list in graph order) and, per node,
        the list of :class:`Term` that were added up to make it, in the order they arrived.
    """
    order = graph.order
    index = graph.index
    grads = [0.0] * len(order)
    terms: list = [[] for _ in order]
    grads[index[graph.root]] = float(seed)
    for i in range(len(order) - 1, -1, -1):
        node = order[i]
        g = grads[i]
        op = node.primitive
        if op is None or g == 0.0:
            continue
        ps = node.parents
        sent = op.rule(g, node.data, *[p.data for p in ps])
        local = local_derivatives(node)
        for pos, (p, gp) in enumerate(zip(ps, sent)):
            j = index[p]
            grads[j] += gp
            terms[j].append(Term(node, pos, g, local[pos], float(gp)))
    return grads, terms


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
    locals_ = [local_derivatives(node) for node in order]
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


def coerce_updates(graph: Graph, updates) -> dict:
    """Turn ``updates`` into ``{node: (old, grad, lr or None, new)}``.

    Accepts a mapping ``{Value: (old, grad, lr, new)}`` (``lr`` may be ``None``), or a sequence
    of records with ``old``, ``grad``, ``new`` (and optionally ``lr``), found by a ``param``/
    ``value`` attribute holding the Value, or else by ``label``/``name``; records may be
    objects or dicts.
    """
    out: dict = {}
    if isinstance(updates, Mapping):
        for node, rec in updates.items():
            if not isinstance(node, Value):
                raise TypeError(f"updates keys must be Values, got {type(node).__name__}")
            if node not in graph.index:
                raise ValueError(f"updates names {node!r}, which is not in the graph")
            if isinstance(rec, (tuple, list)):
                if len(rec) != 4:
                    raise ValueError(f"an update is (old, grad, lr, new); got {len(rec)} "
                                     f"numbers for {graph.name(node)}")
                old, g, lr, new = rec
            else:
                old, g, lr, new = _field(rec, "old"), _field(rec, "grad"), \
                    _field(rec, "lr", None), _field(rec, "new")
            out[node] = _numbers(graph.name(node), old, g, lr, new)
        return out
    if isinstance(updates, (str, bytes)) or not hasattr(updates, "__iter__"):
        raise TypeError("updates must be a mapping {Value: (old, grad, lr, new)} or a list of "
                        f"update records, got {type(updates).__name__}")
    for rec in updates:
        node = None
        for key in ("param", "value", "parameter", "node"):
            cand = _field(rec, key, None)
            if isinstance(cand, Value):
                node = cand
                break
        if node is None:
            name = _field(rec, "label", None) or _field(rec, "name", None)
            if not name:
                raise ValueError(f"update record {rec!r} has neither a Value nor a label/name")
            node = find_labelled(graph, str(name))
        elif node not in graph.index:
            raise ValueError(f"update record {rec!r} is for a node not in the graph")
        out[node] = _numbers(graph.name(node), _field(rec, "old"), _field(rec, "grad"),
                             _field(rec, "lr", None), _field(rec, "new"))
    return out


_MISSING = object()


def _field(rec, key: str, default=_MISSING):
    if isinstance(rec, Mapping):
        value = rec.get(key, default)
    else:
        value = getattr(rec, key, default)
    if value is _MISSING:
        raise ValueError(f"update record {rec!r} has no {key!r}")
    return value


def _numbers(name: str, old, g, lr, new) -> tuple:
    vals = []
    for what, x in (("old", old), ("grad", g), ("lr", lr), ("new", new)):
        if x is None and what == "lr":
            vals.append(None)
            continue
        if isinstance(x, Value):
            x = x.data
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise TypeError(f"update of {name}: {what} must be a number, got "
                            f"{type(x).__name__}")
        if not math.isfinite(x):
            raise ValueError(f"update of {name}: {what} is {x!r}, not a finite number")
        vals.append(float(x))
    return tuple(vals)
