"""The facts a picture needs about a graph: the shared analysis of :mod:`microgradnet.graph`,
the update records of the update stage, and a :class:`Scene` that holds them all for one
picture (the graph is analysed once per picture).
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import Iterable, Mapping

from ..engine import Value
from ..graph import (KINDS, PARAM_LABEL, Graph, Term, analyse, count_paths, find_labelled,
                     highlight_paths, local_derivatives, node_kind, replay_backward)

__all__ = ["Graph", "Term", "analyse", "replay_backward", "local_derivatives", "node_kind",
           "highlight_paths", "count_paths", "find_labelled", "coerce_updates", "PARAM_LABEL",
           "KINDS", "Scene", "scene", "STAGES"]

STAGES = ("forward", "backward", "update")


@dataclass(frozen=True)
class Scene:
    """Everything one picture shows about a graph.

    Attributes:
        graph: the analysis (order, ids, kinds with the highlighted and updated nodes as
            parameters, consumers).
        stage: ``"forward"``, ``"backward"`` or ``"update"``.
        precision: decimals of every number.
        grads: the gradient shown for each node, in graph order.
        target: the highlighted parameter, or ``None``.
        on_path, live, edges, counts: :func:`highlight_paths` of the target (empty without).
        updates: ``{node: (old, grad, lr or None, new)}`` of the update stage.
        title: the caption's first line, or ``None``.
    """
    graph: Graph
    stage: str
    precision: int
    grads: list
    target: Value | None = None
    on_path: frozenset = frozenset()
    live: frozenset = frozenset()
    edges: Mapping = dataclasses.field(default_factory=dict)
    counts: tuple = (0, 0)
    updates: Mapping = dataclasses.field(default_factory=dict)
    title: str | None = None


def scene(root: Value, stage: str = "backward", precision: int = 4,
          highlight: Value | str | None = None, updates=None,
          params: Iterable[Value] | None = None, grads: Mapping[Value, float] | None = None,
          title: str | None = None) -> Scene:
    """Check a picture's arguments and gather its :class:`Scene` (arguments as in
    :func:`microgradnet.viz.to_dot`)."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    if isinstance(precision, bool) or not isinstance(precision, int):
        raise TypeError(f"precision must be an int, got {type(precision).__name__}")
    if not 0 <= precision <= 17:
        raise ValueError(f"precision must be between 0 and 17, got {precision}")
    if not isinstance(root, Value):
        raise TypeError(f"the root of a picture must be a Value, got {type(root).__name__}")
    if updates is not None and stage != "update":
        raise ValueError(f"updates are drawn with stage='update', not stage={stage!r}")
    if stage == "update" and updates is None:
        raise ValueError("stage='update' needs updates={param: (old, grad, lr, new)} or the "
                         "records of an optimiser step")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    graph = analyse(root, params)
    target = None
    if highlight is not None:
        if isinstance(highlight, str):
            target = find_labelled(graph, highlight)
        elif isinstance(highlight, Value):
            if highlight not in graph.index:
                raise ValueError(f"highlight: {highlight!r} is not in the graph of the root")
            target = highlight
        else:
            raise TypeError(f"highlight must be a Value or a label, got "
                            f"{type(highlight).__name__}")
    upd = coerce_updates(graph, updates) if updates is not None else {}
    extra = set(upd) | ({target} if target is not None else set())
    if extra - graph.params:
        # The highlighted and updated nodes are parameters whatever their labels say.
        chosen = graph.params | extra
        graph = dataclasses.replace(graph, params=chosen,
                                    kinds=[node_kind(n, root, chosen) for n in graph.order])
    if grads is None:
        grad_list = [n.grad for n in graph.order]
        if stage != "forward" and root.grad == 0.0 and len(graph.order) > 1:
            warnings.warn("drawing gradients of a graph whose root has grad 0: call "
                          "root.backward() first", stacklevel=3)
    else:
        grad_list = [float(grads.get(n, 0.0)) for n in graph.order]
    if target is None:
        return Scene(graph, stage, precision, grad_list, updates=upd, title=title)
    on_path, live, edges, counts = highlight_paths(graph, target)
    return Scene(graph, stage, precision, grad_list, target, frozenset(on_path),
                 frozenset(live), edges, counts, upd, title)


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
    vals: list = []
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
