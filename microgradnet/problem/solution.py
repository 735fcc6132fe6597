"""The worked solution of a problem: the explanation (given, forward, loss, backward node by
node, paths for the chosen parameters, the optimiser's step), the updates and the gradients."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from ..engine import Value, topological_order
from ..explain import Explanation, explain
from ..explain.update import optimiser_section
from .records import Problem

__all__ = ["Solution", "solve", "PATHS_LISTED"]

#: A chosen parameter's paths are listed one by one when there are at most this many.
PATHS_LISTED = 8


@dataclass
class Solution:
    """A problem solved.

    Attributes:
        problem: the problem.
        explanation: the worked solution (``str()``, ``.latex()``, ``.markdown()``).
        updates: per updated parameter (a Value), ``(old, grad, lr, new)``.
        grads: the gradient of every named node (a Value -> float), the engine's.
        update_names: the name each updated parameter is shown (and keyed in JSON) by.
    """
    problem: Problem
    explanation: Explanation
    updates: dict
    grads: dict
    update_names: dict = field(default_factory=dict)

    def json(self) -> dict:
        """The numbers: ``{"nodes": {label: {"value", "grad"}}, "updates": {label: {"old",
        "grad", "lr", "new"}}}`` for every labelled node and every updated parameter."""
        nodes: dict = {}
        for n in topological_order(self.problem.root):
            if n.label and n.label not in nodes:
                nodes[n.label] = {"value": n.data, "grad": self.grads[n]}
        return {
            "title": self.problem.title,
            "root": self.problem.root.label,
            "is_loss": self.problem.is_loss,
            "nodes": nodes,
            "updates": {self.update_names[p]: {"old": old, "grad": g, "lr": rate, "new": new}
                        for p, (old, g, rate, new) in self.updates.items()},
        }


def solve(problem: Problem, wrt: Optional[Sequence[Value]] = None,
          decimals: Optional[int] = None, lr: Optional[float] = None,
          paths: int = PATHS_LISTED) -> Solution:
    """The worked solution of ``problem``; nothing in its graph is changed.

    Args:
        problem: a problem read by :func:`~microgradnet.problem.load_problem`.
        wrt: the nodes to explain path by path, and the leaves among them to update;
            ``None``: the file's choice for the paths, every parameter for the update.
        decimals: round to this many decimals, carrying the rounded values (default: the
            file's ``[show] round``).
        lr: the learning rate, overriding the problem's (with no optimiser given: SGD).
        paths: list a chosen parameter's paths when it has at most this many.

    Example:
        >>> from pathlib import Path
        >>> from microgradnet.problem import load_problem
        >>> p = load_problem(Path(__file__).parents[2] / "examples" / "s1_3.toml")
        >>> s = solve(p)
        >>> s.grads[p.nodes["w21"]], s.updates[p.nodes["w21"]]
        (-1.5, (0.5, -1.5, 0.1, 0.65))
    """
    decimals = decimals if decimals is not None else problem.decimals
    chosen = list(wrt) if wrt else [problem.node(w) for w in problem.wrt]
    e = explain(problem.root, wrt=chosen, decimals=decimals, nodes=True, list_paths=paths,
                params=problem.params, loss=problem.is_loss)
    passed = e.node_pass
    grads = passed.grads
    updates: dict = {}
    opt = problem.optimiser
    rate = lr if lr is not None else (opt.lr if opt is not None else None)
    # an intermediate node (h1) has paths and a gradient, but nothing to update
    targets = [w for w in wrt if w.is_leaf] if wrt else list(problem.params)
    if rate is not None and targets:
        names = e.names
        # a parameter the root does not depend on has no line, and a gradient of 0
        entries = [(names.get(p) or p.label or f"p{i}", p.data, passed.shown.get(p, 0.0),
                    grads.get(p, 0.0)) for i, p in enumerate(targets, start=1)]
        sec, by_name = optimiser_section(opt.kind if opt else "sgd", rate,
                                         opt.options if opt else {}, entries, decimals,
                                         names[problem.root])
        e = e + Explanation([sec], decimals)
        updates = {p: by_name[entry[0]] for p, entry in zip(targets, entries, strict=True)}
        shown = {p: entry[0] for p, entry in zip(targets, entries, strict=True)}
    return Solution(problem, e, updates, grads, shown if updates else {})
