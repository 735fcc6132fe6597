"""The report: what a check found, as records a marking script can assert on and as text a
student can read.

A :class:`Diagnosis` per answer says whether it is correct and, for a wrong one, every
:class:`Finding`: a slip (or two) that reproduces the number, written as the recomputed line
with the slip marked in brackets. Lines are written from the graph and the op records (an op's
``formula_of`` and ``deriv_of``), and the chain-rule paths from :mod:`microgradnet.explain`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

from ..explain import explain_backward, find_paths
from ..formula import Expr, format_number, product
from .problem import Problem, Target
from .search import effect
from .slips import Rebuild, Rederive, Retarget, Slip, Update

__all__ = ["Finding", "Diagnosis", "explain_slips", "MAX_PATHS_WRITTEN"]

#: Paths written one by one in a recomputed chain-rule sum; past this only the total.
MAX_PATHS_WRITTEN = 8


@dataclass(frozen=True)
class Finding:
    """A slip that reproduces the student's number: its ``kind`` (two joined by ``+`` for a
    pair), ``where`` it happens, the ``value`` it gives, and the ``explanation``: the
    recomputed line with the slip marked. ``slips`` are the library's records."""
    kind: str
    where: str
    value: float
    explanation: str
    slips: tuple = field(default=(), compare=False, repr=False)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "where": self.where, "value": self.value,
                "explanation": self.explanation}


@dataclass(frozen=True)
class Diagnosis:
    """The verdict on one answer.

    Attributes:
        target: what was answered, as written (``dMSE/dw21``).
        given: the student's number; ``correct``: whether it is the engine's, rounded as the
            student rounded; ``expected``: the engine's number.
        slips: for a wrong answer, every :class:`Finding` that reproduces it.
        note: for a wrong answer no slip explains, what was searched; for one marked with
            other answers, the slips those answers rule out.
        first_difference: for such an answer, where the student's numbers (all the answers
            given together) first part from the engine's: ``{"target", "given",
            "expected"}``, or ``None``.
        as_written: the student's number as written (``-1.50``), for the text.
    """
    target: str
    given: float
    correct: bool
    expected: float
    slips: tuple = ()
    note: str = ""
    first_difference: Optional[dict] = None
    as_written: str = field(default="", compare=False)

    @property
    def explained(self) -> bool:
        """Whether the answer is correct or some slip reproduces it."""
        return self.correct or bool(self.slips)

    @property
    def kinds(self) -> list:
        """The kinds of the findings, in order (``["dropped-path", "sign"]``)."""
        return [f.kind for f in self.slips]

    def to_dict(self) -> dict:
        out = {"target": self.target, "given": self.given, "correct": self.correct,
               "expected": self.expected, "slips": [f.to_dict() for f in self.slips]}
        if self.note:
            out["note"] = self.note
        if self.first_difference is not None:
            out["first_difference"] = dict(self.first_difference)
        return out

    def text(self) -> str:
        head = (f"{self.target} = {self.as_written or format_number(self.given)}: "
                f"{'correct' if self.correct else 'wrong'} (engine: "
                f"{format_number(self.expected)})")
        lines = [head]
        for f in self.slips:
            lines.append(f"  {f.kind} at {f.where}: {f.explanation}")
        if self.slips and self.note:
            lines.append(f"  ({self.note})")
        if not self.correct and not self.slips:
            lines.append(f"  {self.note}")
            d = self.first_difference
            if d is not None:
                lines.append(f"  your numbers first part from the engine's at {d['target']}: "
                             f"you {format_number(d['given'])}, the engine "
                             f"{format_number(d['expected'])}")
        return "\n".join(lines)

    __str__ = text


# ---- writing one slip --------------------------------------------------------------------------

def _with_number(formula: str, x: float) -> str:
    """``formula = x``, or ``x`` alone where the formula is that number already."""
    try:
        if format_number(float(formula)) == format_number(x):
            return format_number(x)
    except ValueError:
        pass
    return f"{formula} = {format_number(x)}"


def _n(x: float) -> str:
    s = format_number(x)
    return f"({s})" if x < 0 else s


def _answer_name(p: Problem, target: Target, node_index: int) -> str:
    """How the answer for another node is written: ``dMSE/dw12``, ``new:w12``, ``w12``."""
    name = p.describe(node_index)
    if target.kind == "grad":
        return f"d{p.describe(len(p.order) - 1)}/d{name}"
    return f"new:{name}" if target.kind == "update" else name


class _Writer:
    """Writes the findings of one target (the chain-rule paths are found once)."""

    def __init__(self, p: Problem, target: Target) -> None:
        self.p = p
        self.target = target
        self._paths: Optional[tuple] = None

    def paths(self) -> tuple:
        """``(paths, steps)``: explain's paths from the root to the target and their lines,
        or ``([], [])`` past :data:`MAX_PATHS_WRITTEN` * 8."""
        if self._paths is None:
            cap = MAX_PATHS_WRITTEN * 8
            paths, total = find_paths(self.p.root, self.target.node, cap)
            if total > cap or not paths:
                self._paths = ([], [])
            else:
                sec = explain_backward(self.p.root, self.target.node, max_paths=cap)["backward"]
                steps = [s for s in sec.steps if s.caption.startswith("path ")]
                self._paths = (paths, steps)
        return self._paths

    # ---- a changed rule: the local derivative as written, then the chain rule recomputed
    def new_locals(self, c: Rederive) -> tuple:
        p = self.p
        n = p.order[c.index]
        sub = p.values[c.substitute[1]] if c.substitute else None
        return tuple(float(x) for x in c.rule(n.primitive, sub)(
            1.0, n.data, *[q.data for q in n.parents]))

    def local_line(self, c: Rederive) -> str:
        p = self.p
        i = c.index
        n = p.order[i]
        op = n.primitive
        args = [p.ref(p.index[q]) for q in n.parents]
        new = self.new_locals(c)
        said = []
        for k, q in enumerate(n.parents):
            old = p.locals[i][k]
            if new[k] == old:
                continue
            head = p.dname(i, p.index[q])
            if op.piecewise:
                said.append(f"{head} = {format_number(old)} taken as [{format_number(new[k])}]")
                continue
            formula = op.deriv_of(p.ref(i), *args)[k]
            was = f"{head} = {_with_number(p.text(formula), old)}"
            if c.substitute is not None or c.out_as_input:
                if c.substitute is not None:
                    moved = list(args)
                    moved[c.substitute[0]] = p.ref(c.substitute[1])
                    slipped = op.deriv_of(op.formula_of(*moved), *moved)[k]
                else:
                    slipped = op.deriv_of(args[0], *args)[k]
                said.append(f"{was} taken as [{p.text(slipped)} = {format_number(new[k])}]")
            else:
                said.append(f"{was} taken as [{format_number(new[k])}]")
        return "; ".join(said)

    def factor_line(self, slip: Slip) -> str:
        """A sign lost in a factor between named nodes: ``dMSE/do1 = (o1 - t1) = -1.0 taken
        as [1.0]``, the factor being the product of the local derivatives of its edges."""
        p = self.p
        assert slip.edge is not None    # a sign slip is on an edge
        i, pos = slip.edge
        reach = p.reaches(self.target.node)
        edges = [(i, pos)]
        k = i
        while not p.order[k].label and len(p.graph.consumers[k]) == 1:
            k, at = p.graph.consumers[k][0]
            edges.insert(0, (k, at))
        j = p.index[p.order[i].parents[pos]]
        while not p.order[j].label and not p.order[j].is_leaf:
            down = [(q, p.index[m]) for q, m in enumerate(p.order[j].parents)
                    if reach[p.index[m]]]
            if len(down) != 1:
                break
            edges.append((j, down[0][0]))
            j = down[0][1]
        factors, value = [], 1.0
        for m, q in edges:
            node = p.order[m]
            local = p.locals[m][q]
            value *= local
            if node.primitive.piecewise:
                factors.append(Expr("slope", local))
            else:
                args = [p.ref(p.index[x]) for x in node.parents]
                factors.append(node.primitive.deriv_of(p.ref(m), *args)[q])
        return (f"{slip.where} = {_with_number(p.text(product(factors)), value)} taken as "
                f"[{format_number(-value)}]")

    def path_sum(self, c: Rederive, value: float) -> str:
        """The chain rule with the changed paths marked: dMSE/dw21 = 0.5 + [2.0] = 2.5."""
        p = self.p
        paths, _ = self.paths()
        node = p.order[c.index]
        new = self.new_locals(c)
        terms = []
        for path in paths:
            v, changed = 1.0, False
            for m, k in zip(path.nodes[:-1], path.args, strict=True):
                if m is node and new[k] != p.locals[c.index][k]:
                    v *= new[k]
                    changed = True
                else:
                    v *= p.locals[p.index[m]][k]
            terms.append(f"[{format_number(v)}]" if changed else format_number(v))
        if not terms or len(terms) > MAX_PATHS_WRITTEN:
            return f"{self.target.text} = {format_number(value)}"
        return f"{self.target.text} = {' + '.join(terms)} = {format_number(value)}"

    def dropped_path(self, slip: Slip, value: float) -> str:
        """``your value equals the path through o2 alone: the path through o1 is missing:
        (0.0 - 1.0)*0.5*1*(-1.0) = 0.5``."""
        p = self.p
        assert slip.edge is not None    # a dropped path is an edge
        i, pos = slip.edge
        paths, steps = self.paths()
        if not paths:
            return f"{slip.note}: {self.target.text} = {format_number(value)}"
        node = p.order[i]
        gone = [k for k, path in enumerate(paths)
                if any(m is node and a == pos
                       for m, a in zip(path.nodes[:-1], path.args, strict=True))]
        kept = [k for k in range(len(paths)) if k not in gone]

        def through(ks: list, others: list) -> str:
            named = [m.label for k in ks for m in paths[k].nodes[1:-1] if m.label]
            other = {m.label for k in others for m in paths[k].nodes[1:-1] if m.label}
            own = [x for x in dict.fromkeys(named) if x not in other]
            return f"through {own[0]}" if own else steps[ks[0]].caption.split(": ", 1)[1]

        def line(k: int) -> str:
            return f"{steps[k].parts[-1][0]} = {format_number(steps[k].value)}"

        if len(kept) == 1:
            head = f"your value equals the path {through(kept, gone)} alone"
        else:
            head = f"your value is {self.target.text} without the branch {through(gone, kept)}"
        missing = "; ".join(line(k) for k in gone[:MAX_PATHS_WRITTEN])
        s = "s" if len(gone) > 1 else ""
        verb = "are" if s else "is"
        return f"{head}: the path{s} {through(gone, kept)} {verb} missing: {missing}"

    # ---- a changed forward pass: the node's line recomputed
    def rebuild_line(self, c: Rebuild) -> str:
        p = self.p
        i = c.index
        formula = c.make(lambda op, *xs: op.formula_of(*xs), p.ref)
        new = c.make(lambda op, *xs: op.fn(*xs), lambda j: p.values[j])
        sym, nums = p.text(formula), p.text(formula, numbers=True)
        body = sym if sym == nums else f"{sym} = {nums}"
        return (f"{p.describe(i)} becomes [{body}] = {format_number(new)} "
                f"(engine: {format_number(p.values[i])})")

    def update_line(self, c: Update, grad: float) -> str:
        p = self.p
        t = p.index[self.target.node]
        sign = "+" if c.sign > 0 else "-"
        mark = f"[{sign}]" if c.sign > 0 else sign
        rate = f"{format_number(p.lr or 0.0)} * " if c.with_lr else "[no lr] "
        return (f"{p.describe(t)} <- {format_number(p.values[t])} {mark} {rate}{_n(grad)} "
                f"= {format_number(c.step(p.values[t], p.lr, grad))}")

    def change(self, slip: Slip) -> str:
        """The slip's own line."""
        c = slip.change
        if isinstance(c, Rebuild):
            return f"{slip.note}: {self.rebuild_line(c)}"
        if isinstance(c, Rederive):
            if slip.kind == "sign":
                return f"{slip.note}: {self.factor_line(slip)}"
            return f"{slip.note}: {self.local_line(c)}"
        if isinstance(c, Retarget):
            return (f"{slip.note}: your number is "
                    f"{_answer_name(self.p, self.target, c.index)}")
        return slip.note

    def single(self, slip: Slip, value: float) -> str:
        c = slip.change
        t = self.target
        p = self.p
        if slip.kind == "dropped-path" and t.kind == "grad":
            return self.dropped_path(slip, value)
        if isinstance(c, Update):
            return f"{slip.note}: {self.update_line(c, p.grads[p.index[t.node]])}"
        if isinstance(c, Retarget):
            return f"{self.change(slip)} = {format_number(value)}"
        if t.kind == "update":
            # the slip is in the gradient: say what it gives, then the (correct) step
            g = effect(p, Target("grad", t.node, t.text), slip)
            assert g is not None            # the search found it through this gradient
            d = _answer_name(p, Target("grad", t.node, t.text), p.index[t.node])
            return (f"{self.change(slip)}; so {d} = {format_number(g)} and "
                    f"{self.update_line(Update(), g)}")
        if isinstance(c, Rederive):
            return f"{self.change(slip)}; so {self.path_sum(c, value)}"
        if isinstance(c, Rebuild) and t.kind == "value" and c.index == p.index[t.node]:
            return self.change(slip)
        return f"{self.change(slip)}; carried forward, {t.text} = {format_number(value)}"


def explain_slips(p: Problem, target: Target, matches: Sequence[tuple]) -> list:
    """A :class:`Finding` per match ``(slips, value)`` of the search; slips that give the same
    number at the same place (a sign lost on any edge of one factor) are one finding."""
    w = _Writer(p, target)
    out: list = []
    seen: set = set()
    for slips, value in matches:
        kind = "+".join(s.kind for s in slips)
        where = "; ".join(s.where for s in slips)
        key = (kind, where, round(value, 9))
        if key in seen:
            continue
        seen.add(key)
        if len(slips) == 1:
            text = w.single(slips[0], value)
        else:
            text = " and ".join(w.change(s) for s in slips)
            text += f"; together, {target.text} = {format_number(value)}"
        out.append(Finding(kind, where, float(value), text, tuple(slips)))
    return out

