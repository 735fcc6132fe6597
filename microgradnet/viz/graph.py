"""The facts a picture needs about a graph: the shared analysis of :mod:`microgradnet.graph`,
and the update records of the update stage.
"""
from __future__ import annotations

import math
from typing import Mapping

from ..engine import Value
from ..graph import (KINDS, PARAM_LABEL, Graph, Term, analyse, count_paths, find_labelled,
                     highlight_paths, local_derivatives, node_kind, replay_backward)

__all__ = ["Graph", "Term", "analyse", "replay_backward", "local_derivatives", "node_kind",
           "highlight_paths", "count_paths", "find_labelled", "coerce_updates", "PARAM_LABEL",
           "KINDS"]


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
