"""The graph of a root split into named nodes, one line each, and the formulas written inside
them: which node gets a line (a label, a name given, a node used twice, a formula grown too
long), the formula of each line, and the values shown (rounded and carried forward, as on a
hand-worked sheet, when ``decimals`` is set)."""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

from ..engine import Value, topological_order
from ..formula import (Expr as _E, Printer as _Printer, evaluate, num as _num, round_half_up,
                       visible)
from ..ops import OPS, Op

__all__ = ["MAX_DECIMALS", "INLINE_LIMIT", "NamedGraph", "op_expr", "edge_expr", "FUNCTIONS"]

#: The most decimals an explanation rounds to: a float holds about 15 significant digits.
MAX_DECIMALS = 15

#: The float function of each call a formula can hold (``exp``, ``max``...): the op table's.
FUNCTIONS = {name: op.fn for name, op in OPS.items() if name.isidentifier()}
#: Largest number of unlabelled nodes written inside one formula before one gets a name.
INLINE_LIMIT = 40

# ---- formulas of ops and of their local derivatives -------------------------------------------
# Both come from the op's record: its forward formula, and its rule run on formulas.

def _op_of(node: Value) -> Op:
    """The op record that made ``node``; a leaf has none, so it has no formula of its own."""
    op = node.primitive
    if op is None:
        raise ValueError(f"explain: {node!r} is a leaf: it has no op and no formula")
    return op


def op_expr(node: Value, args: Sequence[_E]) -> _E:
    """The formula of ``node`` in terms of the formulas of its parents."""
    return _op_of(node).formula_of(*args)


def edge_expr(node: Value, j: int, args: Sequence[_E], out: _E, slope: float) -> _E:
    """The formula of d node / d (parent j). A piecewise-constant slope (ReLU, abs, max) is
    written as its number, a factor of its own."""
    op = _op_of(node)
    if op.piecewise:
        return _E("slope", float(slope))
    return op.deriv_of(out, *args)[j]


# ---- the graph as named lines ------------------------------------------------------------------

class NamedGraph:
    """The graph of ``root`` split into named nodes (one line each) and inlined formulas."""

    def __init__(self, root: Value, names: Optional[Mapping] = None,
                 keep: Sequence[Value] = (), decimals: Optional[int] = None) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"explain: the root must be a Value, got {type(root).__name__}")
        if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int)
                                     or not 0 <= decimals <= MAX_DECIMALS):
            raise ValueError(f"explain: decimals must be an int from 0 to {MAX_DECIMALS} (a "
                             f"float holds about 15 significant digits), got {decimals!r}")
        self.root = root
        self.decimals = decimals
        self.order = topological_order(root)
        names = dict(names or {})
        for v in names:
            if not isinstance(v, Value):
                raise TypeError(f"explain: names must map Values to str, got a key "
                                f"{type(v).__name__}")
            if not isinstance(names[v], str):
                raise TypeError(f"explain: names must map Values to str, got "
                                f"{type(names[v]).__name__} {names[v]!r} for {v!r}")
        uses: dict = {}
        for n in self.order:
            for p in n.parents:
                uses[p] = uses.get(p, 0) + 1
        kept = set(keep) | {root}
        self.name: dict = {}       # node -> shown name (named leaves and named lines)
        self.ref: dict = {}        # node -> formula used by its consumers
        self.expr: dict = {}       # named non-leaf node -> its own formula
        self.made_up: set = set()  # nodes named here (v1, v2...), not by a label or names=
        # Names are printed in text, table cells and LaTeX groups: one that does not print as
        # itself (a newline) is written as Python's repr writes it, once, here.
        label_of = {n: visible(names.get(n) or n.label) for n in self.order}
        taken = set(label_of.values()) - {""}
        used_names: set = set()
        counter = 0

        def fresh(base: str) -> str:
            nonlocal counter
            if base and base not in used_names:
                return base
            while True:
                counter += 1
                cand = f"{base}#{counter}" if base else f"v{counter}"
                if cand not in taken and cand not in used_names:
                    return cand

        size: dict = {}
        for n in self.order:
            label = label_of[n]
            if n.is_leaf:
                if label or n in kept:
                    nm = fresh(label)
                    used_names.add(nm)
                    self.name[n] = nm
                    self.ref[n] = _E("sym", n, value=n.data)
                else:
                    self.ref[n] = _num(n.data)
                continue
            args = [self.ref[p] for p in n.parents]
            s = 1 + sum(size.get(p, 0) for p in n.parents)
            inline = not label and n not in kept and uses.get(n, 0) == 1 and s <= INLINE_LIMIT
            e = op_expr(n, args)
            e.value = n.data  # for rules that look at their input's side of a kink
            if inline:
                size[n] = s
                self.ref[n] = e
            else:
                nm = fresh(label if label else ("out" if n is root and "out" not in taken
                                                else ""))
                used_names.add(nm)
                if not label and n is not root:
                    self.made_up.add(n)
                self.name[n] = nm
                self.expr[n] = e
                self.ref[n] = _E("sym", n, value=n.data)
        self.values = {n: n.data for n in self.order}
        self.shown = self.values
        if decimals is not None:
            r: dict = {}
            for n in self.order:
                if n.is_leaf:
                    r[n] = n.data
                    continue
                try:
                    v = float(n.primitive.fn(*[r[p] for p in n.parents]))
                except (ArithmeticError, ValueError):
                    v = n.data  # the rounded inputs leave the op's domain: keep the exact value
                r[n] = round_half_up(v, decimals) if n in self.name else v
            self.shown = r

    def shown_value(self, e: _E) -> float:
        """The number a formula stands for, from the values as shown: what its printed
        numbers evaluate to (rounded values carried, as by hand)."""
        return evaluate(e, FUNCTIONS, self.shown)

    def printer(self, style: str, numeric: bool) -> _Printer:
        return _Printer(style, self.name, self.shown if numeric else None, self.decimals)

    def local(self, node: Value, exact: bool = True) -> tuple:
        """d node / d operand per operand, at the exact values or at the values as shown
        (where the rounded values leave the rule's domain, such as a power of a base rounded
        to 0: at the exact ones)."""
        vals = self.values if exact else self.shown
        try:
            return tuple(float(g) for g in _op_of(node).rule(
                1.0, vals[node], *[vals[p] for p in node.parents]))
        except (ArithmeticError, ValueError):
            if exact:
                raise
            return self.local(node, exact=True)


