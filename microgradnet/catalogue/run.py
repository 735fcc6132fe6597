"""Running the catalogue from Python: claim ids in reading order, a query resolved to ids, every
worked example run into one plain dict per claim, and a worked example's step-through.

The command line (:mod:`microgradnet.cli.catalogue`) prints what these return; nothing here
draws pictures, so the module needs neither graphviz nor the pictures part.
"""
from __future__ import annotations

import math
import re
import traceback
from typing import Any, Iterable, Optional, Sequence

from ..engine import Value, topological_order
from ..explain import Explanation, explain
from .base import EXAMPLES, Result

__all__ = ["sort_ids", "resolve_ids", "json_safe", "run_all", "find_param", "explain_result"]


def _key(i: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", i)]


def sort_ids(ids: Iterable[str]) -> list:
    """Claim ids in reading order (``S1-2.10`` after ``S1-2.9``).

    Example:
        >>> sort_ids(["S1-2.10", "S1-2.9", "S1-10.1"])
        ['S1-2.9', 'S1-2.10', 'S1-10.1']
    """
    return sorted(ids, key=_key)


def resolve_ids(query: str) -> list:
    """The ids matching ``query``: the id itself, or every id in the group it starts
    (``S1-3`` gives S1-3.1, S1-3.2, S1-3.3; ``S1`` all of seed 001); case-insensitive.

    Example:
        >>> resolve_ids("s1-3")
        ['S1-3.1', 'S1-3.2', 'S1-3.3']
    """
    q = query.strip().lower()
    exact = [i for i in EXAMPLES if i.lower() == q]
    if exact:
        return exact
    return sort_ids(i for i in EXAMPLES if re.match(re.escape(q) + r"[-.]", i.lower()))


def json_safe(x: Any) -> Any:
    """``x`` with tuples as lists, non-finite floats and other objects as strings.

    Example:
        >>> json_safe({"w": (1, 2.5, float("inf"))})
        {'w': [1, 2.5, 'inf']}
    """
    if isinstance(x, bool) or x is None or isinstance(x, (int, str)):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else repr(x)
    if isinstance(x, Value):
        return x.data
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return repr(x)


def run_all(ids: Optional[Sequence[str]] = None) -> list:
    """Run worked examples and return one dict per claim: id, seed_file, section, title,
    verdict (``"error"`` when the example raised), seed, engine, note, values, error."""
    rows = []
    for i in sort_ids(ids if ids is not None else EXAMPLES):
        ex = EXAMPLES[i]
        row = {"id": i, "seed_file": ex.seed, "section": ex.section, "title": ex.title}
        try:
            r = ex.run()
            if not isinstance(r, Result):
                raise TypeError(f"worked example {i} returned {type(r).__name__}, not Result")
            row.update(verdict=r.verdict, kind=r.verdict, problem=r.problem, seed=r.seed_says,
                       engine=r.engine_says, note=r.note,
                       values=json_safe(r.values), error="")
        except Exception as e:  # a broken check is reported, the others still run
            row.update(verdict="error", kind="error", problem="", seed="", engine="", note="",
                       values={},
                       error=f"{type(e).__name__}: {e}",
                       traceback=traceback.format_exc(limit=6))
        rows.append(row)
    return rows


def find_param(result: Result, label: str) -> Optional[Value]:
    """The node labelled ``label`` in a worked example's result: one of its parameters
    (``extra["params"]``) or else any node of its graph; ``None`` if there is none."""
    params = (result.extra or {}).get("params") or []
    if isinstance(params, dict):
        params = list(params.values())
    for p in params:
        if isinstance(p, Value) and p.label == label:
            return p
    if isinstance(result.graph, Value):
        for n in topological_order(result.graph):
            if n.label == label:
                return n
    return None


def explain_result(result: Result, wrt: Optional[str] = None, lr: Optional[float] = None,
                   decimals: Optional[int] = None) -> Optional[Explanation]:
    """The step-through of a worked example's graph (``None`` if it has no graph).

    ``wrt`` and ``lr`` default to the example's ``extra["wrt"]`` and ``extra["lr"]``; the
    sections shown are ``extra["sections"]`` and the ones before them (given, forward, ...),
    or all of them.

    Raises:
        ValueError: ``wrt`` names no node of the graph.
    """
    if not isinstance(result.graph, Value):
        return None
    extra = result.extra or {}
    label = wrt or extra.get("wrt")
    node = None
    if label:
        node = find_param(result, label)
        if node is None:
            raise ValueError(f"no node labelled {label!r} in this example's graph")
    rate = lr if lr is not None else extra.get("lr")
    return explain(result.graph, wrt=node, lr=rate if node is not None else None,
                   decimals=decimals)
