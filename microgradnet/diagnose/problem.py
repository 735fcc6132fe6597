"""What checking an answer needs to know about a graph, computed once per graph: the order,
every node's value, local derivatives and gradient (from the engine's
:func:`~microgradnet.gradients.sweep`), the formulas to write nodes with, and what a student's
answer asks for (a value, a gradient or an updated parameter) and how it is rounded.

A :class:`Problem` is read by the slip library (which nodes and edges a slip can change), by the
search (what a changed computation gives) and by the report (how to write a node).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Iterable, Optional, Union

from ..engine import Value
from ..formula import Expr, Printer, format_number, num, sym
from ..graph import analyse, find_labelled, replay_backward

__all__ = ["Problem", "Target", "Answer", "parse_answer", "TARGET_KINDS"]

#: What an answer can be about: a node's value (``h1``), the root's gradient with respect to a
#: node (``dMSE/dw21``), a parameter after one gradient-descent step (``new:w21``).
TARGET_KINDS = ("value", "grad", "update")

#: An unlabelled intermediate is written inside its consumer's formula while it stays this short.
_INLINE_CHARS = 40

_GRAD = re.compile(r"^d(?P<top>[^/]*)/d(?P<node>.+)$")


@dataclass(frozen=True)
class Target:
    """What an answer is about: ``kind`` (one of :data:`TARGET_KINDS`), the node, and the
    text the student wrote (``dMSE/dw21``)."""
    kind: str
    node: Value
    text: str


@dataclass(frozen=True)
class Answer:
    """A student's number as written: its value and the decimals it is rounded to (a whole
    number is read to one decimal: ``-2`` is ``-2.0``, so it does not pass for -1.5)."""
    text: str
    value: float
    decimals: int

    def matches(self, x: float) -> bool:
        """Whether ``x`` lies within half a unit of the answer's last decimal: the answer is
        ``x`` rounded. At an exact tie both neighbours pass (0.65 to one decimal is 0.7 by
        hand, 0.6 rounding half to even), and so does float noise at the tie."""
        half = 0.5 * 10.0 ** -self.decimals
        return abs(x - self.value) <= half * (1 + 1e-9) + 1e-15 * abs(x)

    @classmethod
    def read(cls, given: Union[str, int, float], decimals: Optional[int] = None) -> "Answer":
        """An answer from a string (``"-1.50"``: two decimals) or a number (its shortest
        repr: ``0.65`` has two). ``decimals`` overrides what the text says.

        Raises:
            ValueError: not a finite number, or ``decimals`` negative.
            TypeError: neither a string nor a number.
        """
        if isinstance(given, bool) or not isinstance(given, (str, int, float)):
            raise TypeError(f"an answer must be a number or a string, got "
                            f"{type(given).__name__}: {given!r}")
        text = given.strip() if isinstance(given, str) else repr(given)
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"the answer {given!r} is not a number") from None
        if not d.is_finite():
            raise ValueError(f"the answer {given!r} is not a finite number")
        value = float(d)
        if not math.isfinite(value):
            raise ValueError(f"the answer {given!r} is not a finite number: it is too large "
                             "for a float")
        if value == 0.0 and d != 0:
            raise ValueError(f"the answer {given!r} is too small for a float: it would be "
                             "read as 0.0")
        if decimals is None:
            decimals = max(1, -int(d.as_tuple().exponent))
        elif isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
            raise ValueError(f"decimals must be a non-negative int, got {decimals!r}")
        return cls(text, value, decimals)


def parse_answer(text: str) -> tuple:
    """``"dMSE/dw21=-2.0"`` -> ``("dMSE/dw21", "-2.0")``.

    Raises:
        ValueError: no ``=``, or nothing on one side of it.
    """
    if not isinstance(text, str):
        raise TypeError(f"an answer is LABEL=VALUE, got {type(text).__name__}")
    target, eq, value = text.rpartition("=")
    if not eq or not target.strip() or not value.strip():
        raise ValueError(f"an answer is LABEL=VALUE (h1=2.0, dMSE/dw21=-1.5, new:w21=0.65), "
                         f"got {text!r}")
    return target.strip(), value.strip()


class Problem:
    """A graph with everything a check reads, computed once.

    Args:
        root: the output (the loss).
        params: the parameter leaves (``None``: leaves labelled like ``w21``, ``b1``).
        lr: the learning rate of the update step, for ``new:`` answers.

    Attributes:
        graph: :func:`microgradnet.graph.analyse` of the root.
        order, index: the nodes in graph order and each node's position.
        values: every node's value; ``locals``: d node / d operand per node;
        grads: d root / d node from the engine's sweep (a list in graph order).
    """

    def __init__(self, root: Value, params: Optional[Iterable[Value]] = None,
                 lr: Optional[float] = None) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"the root must be a Value, got {type(root).__name__}")
        if lr is not None:
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr):
                raise ValueError(f"the learning rate must be a finite number, got {lr!r}")
            lr = float(lr)
        self.root = root
        self.lr = lr
        self.graph = analyse(root, params)
        self.order = self.graph.order
        self.index = self.graph.index
        self.values = [n.data for n in self.order]
        self.locals = self.graph.locals
        self.grads, _ = replay_backward(self.graph)
        #: per node, the graph-order positions of its operands
        self.operands = [tuple(self.index[q] for q in n.parents) for n in self.order]
        self._tangents: dict = {}
        self._exprs: Optional[list] = None
        self.names = {n: n.label or f"n{i}" for i, n in enumerate(self.order)}

    # ---- what an answer is about
    def target(self, text: str) -> Target:
        """The target an answer names: ``LABEL``, ``dROOT/dLABEL`` or ``new:LABEL``.

        Raises:
            ValueError: no such label, a gradient of a node other than the output, or an
                update without a learning rate.
        """
        if not isinstance(text, str):
            raise TypeError(f"a target is a str such as 'dMSE/dw21', got {type(text).__name__}")
        text = text.strip()
        if text.startswith("new:"):
            node = find_labelled(self.graph, text[4:].strip())
            if not node.is_leaf:
                raise ValueError(f"{text}: an update is of a parameter (a leaf), and "
                                 f"{node.label} is computed")
            if self.lr is None:
                raise ValueError(f"{text}: an updated parameter needs the learning rate (lr)")
            return Target("update", node, text)
        m = _GRAD.match(text)
        if m and not any(n.label == text for n in self.order):
            top = m.group("top")
            labels = {n.label for n in self.order}
            if top and top != self.root.label and top in labels:
                raise ValueError(f"{text}: gradients are of the output "
                                 f"{self.root.label or 'root'}, and {top} is not the output")
            return Target("grad", find_labelled(self.graph, m.group("node")), text)
        return Target("value", find_labelled(self.graph, text), text)

    def expected(self, target: Target) -> float:
        """The engine's answer."""
        i = self.index[target.node]
        if target.kind == "value":
            return self.values[i]
        if target.kind == "grad":
            return self.grads[i]
        return self.values[i] - self.lr * self.grads[i]

    def tangents(self, target: Value) -> list:
        """Per node, d node / d target (forward mode from the target, along the engine's local
        derivatives): how a change on an edge into a node reaches the target's gradient,
        d root / d target = sum over edges of grad(consumer) * local * tangent(operand)."""
        t = self.index[target]
        if t not in self._tangents:
            tan = [0.0] * len(self.order)
            tan[t] = 1.0
            index = self.index
            for i in range(t + 1, len(self.order)):
                s = 0.0
                for pos, p in enumerate(self.order[i].parents):
                    tp = tan[index[p]]
                    if tp != 0.0:
                        s += self.locals[i][pos] * tp
                tan[i] = s
            self._tangents[t] = tan
        return self._tangents[t]

    def reaches(self, target: Value) -> list:
        """Per node, whether it depends on ``target`` (a path leads from target up to it)."""
        return [c > 0 for c in self.graph.path_counts(target)]

    def ancestors(self, node: Value) -> set:
        """The indices of ``node`` and of every node it is computed from."""
        seen = {self.index[node]}
        stack = [node]
        while stack:
            for p in stack.pop().parents:
                j = self.index[p]
                if j not in seen:
                    seen.add(j)
                    stack.append(p)
        return seen

    def is_const(self, i: int) -> bool:
        """An unlabelled leaf: a number written into the formula (the 0.5 of 0.5*x)."""
        return self.graph.kinds[i] == "const"

    def is_param(self, i: int) -> bool:
        return self.graph.kinds[i] == "param"

    # ---- writing nodes
    def ref(self, i: int) -> Expr:
        """How node ``i`` appears in its consumers' formulas: a labelled node by name, an
        unlabelled leaf as its number, an unlabelled intermediate as its own formula while
        short."""
        if self._exprs is None:
            self._exprs = self._build_refs()
        return self._exprs[i]

    def _build_refs(self) -> list:
        refs: list = []
        text = Printer("text", self.names)
        for i, n in enumerate(self.order):
            if n.is_leaf and not n.label:
                refs.append(num(n.data))
                continue
            if n.label or n.is_leaf:
                refs.append(sym(n, n.data))
                continue
            e = self.formula(i, refs)
            refs.append(e if len(text(e)) <= _INLINE_CHARS else sym(n, n.data))
        return refs

    def formula(self, i: int, refs: Optional[list] = None) -> Expr:
        """Node ``i``'s own formula in the refs of its operands."""
        n = self.order[i]
        refs = refs if refs is not None else [self.ref(j) for j in range(len(self.order))]
        e = n.primitive.formula_of(*[refs[self.index[p]] for p in n.parents])
        e.value = n.data
        return e

    def text(self, e: Expr, numbers: bool = False, values: Optional[dict] = None) -> str:
        """A formula as text, with names or with the numbers of the nodes (``values``
        overrides some of them)."""
        if not numbers:
            return Printer("text", self.names)(e)
        vals = {n: n.data for n in self.order}
        vals.update(values or {})
        return Printer("text", self.names, vals)(e)

    def describe(self, i: int) -> str:
        """A node in a sentence: its label, else its formula, else its id."""
        n = self.order[i]
        if n.label:
            return n.label
        if n.is_leaf:
            return format_number(n.data)
        return self.text(self.ref(i)) if self.ref(i).kind != "sym" else self.names[n]

    def segment(self, i: int, j: int, reach: list) -> tuple:
        """The factor between named nodes that the edge from consumer ``i`` to operand ``j``
        lies in, as ``(top, bottom)``: up from ``i`` through unlabelled nodes used once, down
        from ``j`` through unlabelled nodes with one operand that depends on the target
        (``reach``). The edge into ``w21*i2`` lies in dh1/dw21."""
        top = i
        while not self.order[top].label and len(self.graph.consumers[top]) == 1:
            top = self.graph.consumers[top][0][0]
        bottom = j
        while not self.order[bottom].label and not self.order[bottom].is_leaf:
            down = [self.index[q] for q in self.order[bottom].parents if reach[self.index[q]]]
            if len(down) != 1:
                break
            bottom = down[0]
        return top, bottom

    def home(self, i: int) -> int:
        """The labelled node that node ``i`` is written in: itself if labelled, else the
        first labelled node up its chain of single consumers (the sum inside MSE -> MSE)."""
        k = i
        while not self.order[k].label and len(self.graph.consumers[k]) == 1:
            k = self.graph.consumers[k][0][0]
        return k

    def dname(self, top: int, bottom: int) -> str:
        """``dh1/dw21``; an unlabelled node in brackets: ``d(w31*h3)/dh3``."""
        def part(i: int) -> str:
            s = self.describe(i)
            return s if re.fullmatch(r"[\w\[\],.]+", s) else f"({s})"
        return f"d{part(top)}/d{part(bottom)}"
