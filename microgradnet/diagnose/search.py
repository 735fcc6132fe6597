"""The search: which slips of the library reproduce a student's number.

Every slip is replayed on the engine: :func:`replay` builds the changed graph with the engine's
own op records (a changed rule is a copy of the record with that rule; only the nodes above a
change are rebuilt, the rest is shared) and differentiates it with
:func:`~microgradnet.gradients.sweep`. That is the definition of what a slip gives, and how two
slips are combined.

A single slip that changes only local derivatives does not need the rebuild. The gradient is
linear in the derivatives a node sends back: d root / d t sums, over the edges out of node i,
grad(i) * local * d operand / d t, and neither grad(i) nor the operands' tangents depend on
node i's own derivatives. So with the engine's sweep done once and one forward-mode pass of
tangents from the target, :func:`effect` gets the changed answer in O(operands). A test holds
:func:`effect` equal to :func:`replay` for every slip on many random networks.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

from ..engine import apply, topological_order
from ..gradients import sweep
from .problem import Answer, Problem, Target
from .slips import Rebuild, Rederive, Retarget, Slip, Update, candidates

__all__ = ["replay", "effect", "single_effects", "search", "MAX_PAIRS"]

#: Pairs of slips tried at most, for ``depth=2``; past it the pairs are not searched.
MAX_PAIRS = 20000

_CORRECT_STEP = Update()

#: Kinds tried alone only (see :func:`search`).
_UNPAIRED = ("arithmetic",)


def _combine(slips: Sequence[Slip]) -> Optional[tuple]:
    """The changes of ``slips`` by type, or ``None`` when two of them change the same thing
    (two rebuilds of one node, a rebuild and a changed rule of one node, two targets)."""
    rebuild: dict = {}
    rederive: dict = {}
    retarget = None
    sign, with_lr = -1.0, True
    for s in slips:
        c = s.change
        if isinstance(c, Rebuild):
            if c.index in rebuild or c.index in rederive:
                return None
            rebuild[c.index] = c
        elif isinstance(c, Rederive):
            if c.index in rebuild:
                return None
            rederive.setdefault(c.index, []).append(c)
        elif isinstance(c, Retarget):
            if retarget is not None:
                return None
            retarget = c.index
        else:
            sign = c.sign if c.sign != -1.0 else sign
            with_lr = with_lr and c.with_lr
    return rebuild, rederive, retarget, Update(sign, with_lr)


def replay(p: Problem, target: Target, slips: Sequence[Slip]) -> Optional[float]:
    """The answer to ``target`` with ``slips`` made, computed by the engine on the changed
    graph; ``None`` where the changed computation is undefined (a log of a negative) or
    leaves the target out of the graph."""
    combined = _combine(slips)
    if combined is None:
        return None
    rebuild, rederive, retarget, step = combined
    order, index = p.order, p.index
    start = min([*rebuild, *rederive], default=len(order))   # below it nothing changes
    copy: dict = {}
    # The changed graph in topological order, so the sweep needs no walk of its own: the
    # original's order with each node as the changed pass has it, and a rebuild's new nodes
    # (a sum of three kept terms is two) where the rebuilt node stood.
    changed_order: list = order[:start]

    def get(j: int):
        return copy.get(j, order[j])

    def apply_in_order(op, *xs):
        out = apply(op, *xs)
        changed_order.append(out)
        return out

    try:
        for i in range(start, len(order)):
            n = order[i]
            if i in rebuild:
                copy[i] = rebuild[i].make(apply_in_order, get)
            else:
                operands = p.operands[i]
                if i in rederive or any(j in copy for j in operands):
                    op = n.primitive
                    for r in rederive.get(i, ()):
                        op = r.op(op, get(r.substitute[1]).data if r.substitute else None)
                    copy[i] = apply(op, *[get(j) for j in operands])
            # (untouched nodes are shared with the original graph)
            changed_order.append(get(i))
        t = index[target.node] if retarget is None else retarget
        if target.kind == "value":
            return get(t).data
        node = get(t)
        g = None
        # a node kept in place of a rebuilt one (a term left alone) is listed once
        changed_order = list({id(m): m for m in changed_order}.values())
        for visit in sweep(get(len(order) - 1), order=changed_order):
            if visit.node is node:
                g = float(visit.grad)
                break
        if g is None:
            if node not in topological_order(get(len(order) - 1)):
                return None     # the slip took the target out of the graph
            g = 0.0             # below a node whose gradient is 0: nothing reaches it
        if target.kind == "grad":
            return g
        return step.step(node.data, p.lr, g)
    except (ArithmeticError, ValueError):   # DomainError is both
        return None


def effect(p: Problem, target: Target, slip: Slip) -> Optional[float]:
    """The answer to ``target`` with one slip made: closed form where the slip changes only
    local derivatives, a retarget or the step; :func:`replay` for a rebuild."""
    c = slip.change
    t = p.index[target.node]
    if isinstance(c, Rebuild):
        return replay(p, target, [slip])
    if isinstance(c, Retarget):
        o = c.index
        if target.kind == "value":
            return p.values[o]
        return p.grads[o] if target.kind == "grad" else p.values[o] - p.lr * p.grads[o]
    if isinstance(c, Update):
        return c.step(p.values[t], p.lr, p.grads[t])
    return _step(p, target, t, _rederived_grad(p, target.node, c))


def _rederived_grad(p: Problem, node, c: Rederive) -> Optional[float]:
    """d root / d node with node ``c.index``'s local derivatives changed as ``c`` says."""
    t = p.index[node]
    i = c.index
    g_i = p.grads[i]
    if g_i == 0.0:
        return p.grads[t]
    n = p.order[i]
    args = [q.data for q in n.parents]
    sub = p.values[c.substitute[1]] if c.substitute else None
    try:
        new = c.rule(n.primitive, sub)(1.0, n.data, *args)
    except (ArithmeticError, ValueError):
        return None
    tan = p.tangents(node)
    delta = 0.0
    for k, q in enumerate(n.parents):
        tq = tan[p.index[q]]
        if tq != 0.0:
            delta += (float(new[k]) - p.locals[i][k]) * tq
    out = p.grads[t] + g_i * delta
    return out if math.isfinite(out) else None


def _step(p: Problem, target: Target, t: int, g: Optional[float]) -> Optional[float]:
    if g is None or target.kind == "grad":
        return g
    return _CORRECT_STEP.step(p.values[t], p.lr, g)


def _changes(expected: float, v: Optional[float]) -> bool:
    """Whether v is an answer, and another than the expected one (beyond float noise)."""
    return v is not None and math.isfinite(v) and abs(v - expected) > 1e-12 * max(
        1.0, abs(expected))


def single_effects(p: Problem, target: Target) -> list:
    """Every single slip that changes ``target``'s answer, with the answer it gives:
    ``[(slip, value), ...]`` in the order of the library's kinds. It depends on the target
    only, so a marking script computes it once for all the students' answers."""
    expected = p.expected(target)
    out = []
    for s in candidates(p, target):
        v = effect(p, target, s)
        if v is not None and _changes(expected, v):
            out.append((s, v))
    return out


def search(p: Problem, target: Target, answer: Answer, depth: int = 1,
           singles: Optional[list] = None) -> tuple:
    """The slips that reproduce ``answer``: every single one, and with ``depth=2`` every pair
    when no single slip does (a pair is the likelier story only when one slip cannot tell it).
    A slipped multiplication or addition is not paired: with another slip it can reach
    almost any number, so it would explain everything and mean nothing.

    Args:
        singles: :func:`single_effects` of the target, if already known.

    Returns:
        ``(matches, note)``: ``matches`` a list of ``(slips, value)`` in the order of the
        library's kinds; ``note`` says when the pairs were too many to try.
    """
    if depth not in (1, 2):
        raise ValueError(f"depth must be 1 or 2, got {depth!r}")
    expected = p.expected(target)
    if singles is None:
        singles = single_effects(p, target)
    matches: list = [((s,), v) for s, v in singles if answer.matches(v)]
    if matches or depth == 1:
        return matches, ""
    singles = [(s, v) for s, v in singles if s.kind not in _UNPAIRED]
    n = len(singles)
    if n * (n - 1) // 2 > MAX_PAIRS:
        return [], (f"{n} single slips make {n * (n - 1) // 2} pairs, more than the "
                    f"{MAX_PAIRS} searched")
    grads: dict = {}          # a slip's gradient, for pairs with a slipped step
    for a in range(n):
        for b in range(a + 1, n):
            pair = (singles[a][0], singles[b][0])
            v = _pair_value(p, target, pair, grads)
            if v is not None and _changes(expected, v) and answer.matches(v):
                matches.append((pair, v))
    return matches, ""


def _pair_value(p: Problem, target: Target, pair: tuple, grads: dict) -> Optional[float]:
    """Two slips at once. A slipped step with another slip needs no rebuild: the step reads
    the other slip's gradient (``grads`` keeps those by slip)."""
    steps = [s for s in pair if isinstance(s.change, Update)]
    others = [s for s in pair if not isinstance(s.change, Update)]
    if not steps or any(isinstance(s.change, Retarget) for s in others):
        return replay(p, target, pair)
    combined = _combine(steps)
    assert combined is not None     # steps never clash
    step = combined[3]
    t = p.index[target.node]
    if not others:
        return step.step(p.values[t], p.lr, p.grads[t])
    other = others[0]
    if id(other) not in grads:
        grads[id(other)] = effect(p, Target("grad", target.node, target.text), other)
    g = grads[id(other)]
    return None if g is None else step.step(p.values[t], p.lr, g)
