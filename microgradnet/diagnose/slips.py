"""The library of slips: the known mistakes of backpropagation by hand, each a change to the
graph, to one node's local derivatives or to the update step, defined on ops and edges so it
applies to any network.

A :class:`Slip` holds one change:

- :class:`Rebuild`: one node computed another way in the forward pass (a bias left out, a
  term of a sum dropped, ``a + b`` for ``a * b``); everything above it is recomputed.
- :class:`Rederive`: one node's local derivatives changed, its value kept (a sign lost, the
  other value at a kink, a factor forgotten, a path left out).
- :class:`Retarget`: the answer given for another node (``w12`` for ``w21``).
- :class:`Update`: the gradient-descent step taken otherwise (``+`` for ``-``, no rate).

Each kind of :data:`KINDS` has a generator that lists every place it can happen in a graph,
for one target; :func:`candidates` runs them all. Ops are told apart by their records
(``node.primitive is ops.MUL``) and by what the records say (``piecewise``, ``activation``),
never by their names.
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Union

from .. import ops
from ..formula import bin, const_text, format_number, neg
from ..ops import Op
from .problem import Problem, Target

__all__ = ["KINDS", "Slip", "Rebuild", "Rederive", "Retarget", "Update", "candidates",
           "sum_terms", "swap_partner"]

#: Every kind of slip, in the order a report lists them (the structural ones first, a slipped
#: multiplication or addition, which can explain almost anything, last).
KINDS = ("dropped-path", "dropped-term", "missing-bias", "missing-factor", "missing-mean",
         "sign", "kink", "pre-activation", "swapped-index", "update-sign", "no-lr",
         "arithmetic")


# ---- the changes -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rebuild:
    """Node ``index`` computed as ``make(apply, get)`` instead of by its op: ``get(j)`` is the
    node ``j`` as the changed pass has it, ``apply(op, *xs)`` applies an op record. The same
    ``make`` builds Values (``apply`` the engine's) and writes the formula (``apply`` an op's
    ``formula_of``)."""
    index: int
    make: Callable = field(compare=False)


@dataclass(frozen=True)
class Rederive:
    """Node ``index``'s local derivatives changed, its value kept.

    Exactly one of: ``scale`` (per operand, a factor on what the node sends back, ``None`` for
    unchanged: -1 loses a sign, 0 drops the edge), ``slopes`` (per operand, the constant slope
    a piecewise op takes instead), ``substitute`` (``(position, node index)``: the derivatives
    for the other operands read that node where operand ``position`` belongs), or
    ``out_as_input`` (the rule reads the op's input where its output belongs).
    """
    index: int
    scale: Optional[tuple] = None
    slopes: Optional[tuple] = None
    substitute: Optional[tuple] = None
    out_as_input: bool = False

    def rule(self, op: Op, substitute_value: Optional[float] = None) -> Callable:
        """The changed rule ``rule(g, out, *args)``, on floats."""
        base = op.rule
        if self.scale is not None:
            scale = self.scale

            def rule(g, out, *args):
                sent = base(g, out, *args)
                return tuple(s if f is None else s * f for s, f in zip(sent, scale, strict=True))
        elif self.slopes is not None:
            slopes = self.slopes

            def rule(g, out, *args):
                sent = base(g, out, *args)
                return tuple(s if k is None else g * k for s, k in zip(sent, slopes, strict=True))
        elif self.substitute is not None:
            pos = self.substitute[0]

            def rule(g, out, *args):
                sent = base(g, out, *args)
                swapped = list(args)
                swapped[pos] = substitute_value
                other = base(g, op.fn(*swapped), *swapped)
                return tuple(s if k == pos else o
                             for k, (s, o) in enumerate(zip(sent, other, strict=True)))
        else:
            def rule(g, out, *args):
                return base(g, args[0], *args)
        return rule

    def op(self, op: Op, substitute_value: Optional[float] = None) -> Op:
        """The op record with the changed rule (and no replay code, which would bypass it)."""
        return dataclasses.replace(op, rule=self.rule(op, substitute_value), code=None)


@dataclass(frozen=True)
class Retarget:
    """The answer is the one for node ``index`` (the same kind of answer)."""
    index: int


@dataclass(frozen=True)
class Update:
    """new = old + sign * (lr or 1) * grad; the correct step is ``Update(-1.0, True)``."""
    sign: float = -1.0
    with_lr: bool = True

    def step(self, old: float, lr: Optional[float], grad: float) -> float:
        assert lr is not None or not self.with_lr, "an update target always has a rate"
        rate = lr if self.with_lr and lr is not None else 1.0
        return old + self.sign * rate * grad


Change = Union[Rebuild, Rederive, Retarget, Update]


@dataclass(frozen=True)
class Slip:
    """One slip: its ``kind`` (from :data:`KINDS`), ``where`` it happens (a node or an edge,
    in words), ``note`` (what was done, for the explanation) and the ``change``."""
    kind: str
    where: str
    note: str
    change: Change = field(compare=False)
    edge: Optional[tuple] = None    # (consumer index, operand position) for an edge slip

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown slip kind {self.kind!r}; kinds: {', '.join(KINDS)}")


# ---- structure the generators share ------------------------------------------------------------

def sum_terms(p: Problem, i: int) -> Optional[list]:
    """The terms of the sum that node ``i`` tops, as node indices, or ``None`` when ``i`` is
    no sum or sits inside a bigger one: ``h1 = w11*i1 + w21*i2 + b1`` is one sum of three
    terms although it is two ``+`` nodes (an unlabelled ``+`` used once belongs to the sum
    that uses it)."""
    n = p.order[i]
    if n.primitive is not ops.ADD:
        return None
    cons = p.graph.consumers[i]
    if not n.label and len(cons) == 1 and p.order[cons[0][0]].primitive is ops.ADD:
        return None
    terms, stack = [], list(reversed(n.parents))
    while stack:            # left to right, as the sum is written
        q = stack.pop()
        j = p.index[q]
        if q.primitive is ops.ADD and not q.label and len(p.graph.consumers[j]) == 1:
            stack.extend(reversed(q.parents))
        else:
            terms.append(j)
    return terms


def _sum_without(terms: list, k: int) -> Callable:
    kept = [t for m, t in enumerate(terms) if m != k]

    def make(apply, get):
        out = get(kept[0])
        for t in kept[1:]:
            out = apply(ops.ADD, out, get(t))
        return out
    return make


_PAIR_INDEX = (re.compile(r"^(?P<stem>[A-Za-z]+)(?P<sep>_?)(?P<j>\d)(?P<k>\d)$"),
               re.compile(r"^(?P<stem>.+)\[(?P<j>\d+)(?P<sep>,\s*)(?P<k>\d+)\]$"))


def swap_partner(label: str) -> Optional[str]:
    """The label with its two indices swapped: ``w21`` -> ``w12``, ``W1[2,1]`` ->
    ``W1[1,2]``; ``None`` for a label without two different indices."""
    m = _PAIR_INDEX[0].match(label)
    if m:
        j, k = m.group("j"), m.group("k")
        return None if j == k else f"{m.group('stem')}{m.group('sep')}{k}{j}"
    m = _PAIR_INDEX[1].match(label)
    if m:
        j, k = m.group("j"), m.group("k")
        return None if j == k else f"{m.group('stem')}[{k}{m.group('sep')}{j}]"
    return None


def _partners(p: Problem) -> dict:
    """Leaf index -> the leaf index whose label has the two indices swapped."""
    by_label: dict = {}
    for i, n in enumerate(p.order):
        if n.is_leaf and n.label:
            by_label.setdefault(n.label, []).append(i)
    out = {}
    for label, idx in by_label.items():
        other = swap_partner(label)
        if len(idx) == 1 and other and len(by_label.get(other, ())) == 1:
            out[idx[0]] = by_label[other][0]
    return out


def _const_operand(p: Problem, i: int) -> Optional[int]:
    """The position of the one constant operand of a two-operand node, else ``None``."""
    n = p.order[i]
    if len(n.parents) != 2:
        return None
    const = [k for k, q in enumerate(n.parents) if p.is_const(p.index[q])]
    return const[0] if len(const) == 1 else None


class _Scope:
    """Which nodes and edges a slip can change for one target."""

    def __init__(self, p: Problem, target: Target) -> None:
        self.p = p
        self.target = target
        self.t = p.index[target.node]
        self.backward = target.kind != "value"
        if self.backward:
            reach = p.reaches(target.node)
            # A node whose derivative reaches the target's gradient: it depends on the target
            # and gets a gradient (a node with gradient 0 sends nothing, whatever its slope).
            self.nodes = [i for i, r in enumerate(reach)
                          if r and i != self.t and p.grads[i] != 0.0]
            self.reach = reach
            self.forward = list(range(len(p.order)))
        else:
            self.nodes = []
            self.reach = [False] * len(p.order)
            self.forward = sorted(p.ancestors(target.node))

    def edges(self, i: int) -> Iterator[tuple]:
        """(position, operand index, local derivative) of node i's edges into the cone."""
        for pos, q in enumerate(self.p.order[i].parents):
            j = self.p.index[q]
            if self.reach[j]:
                yield pos, j, self.p.locals[i][pos]


def _one(arity: int, pos: int, x) -> tuple:
    return tuple(x if k == pos else None for k in range(arity))


# ---- the generators, one per kind --------------------------------------------------------------

def _dropped_path(s: _Scope) -> Iterator[Slip]:
    """A path left out: where the target's influence branches (a node used by several
    consumers on the way to the root), one branch is not summed in."""
    p = s.p
    branches: dict = {}
    for i in s.nodes:
        for pos, j, d in s.edges(i):
            if d != 0.0:
                branches.setdefault(j, []).append((i, pos))
    for j, edges in branches.items():
        if len(edges) < 2:
            continue
        for i, pos in edges:
            yield Slip("dropped-path", p.dname(*p.segment(i, j, s.reach)),
                       f"the branch through {p.describe(i)} is left out of "
                       f"{p.dname(len(p.order) - 1, j)}",
                       Rederive(i, scale=_one(len(p.order[i].parents), pos, 0.0)),
                       edge=(i, pos))


def _sign(s: _Scope) -> Iterator[Slip]:
    """A sign lost in one local derivative."""
    p = s.p
    for i in s.nodes:
        for pos, j, d in s.edges(i):
            if d != 0.0 and not math.isnan(d):
                factor = p.dname(*p.segment(i, j, s.reach))
                yield Slip("sign", factor, f"the sign of {factor} lost",
                           Rederive(i, scale=_one(len(p.order[i].parents), pos, -1.0)),
                           edge=(i, pos))


def _kink(s: _Scope) -> Iterator[Slip]:
    """The other convention at a kink: a piecewise op (relu, abs, max) exactly at its kink,
    with the slope of one side (or their mean) instead of the one the engine takes."""
    p = s.p
    for i in s.nodes:
        n = p.order[i]
        op = n.primitive
        if not op.piecewise:
            continue
        args = [q.data for q in n.parents]
        here = p.locals[i]
        sides = []
        for toward in (-math.inf, math.inf):
            moved = [math.nextafter(args[0], toward)] + args[1:]
            sides.append(tuple(float(x) for x in op.rule(1.0, n.data, *moved)))
        if sides[0] == sides[1]:
            continue                                  # not at the kink
        mean = tuple((a + b) / 2 for a, b in zip(*sides, strict=True))
        seen = {tuple(here)}
        for alt in (sides[0], sides[1], mean):
            if alt in seen:
                continue
            seen.add(alt)
            slopes = ", ".join(const_text(x) for x in alt)
            yield Slip("kink", p.describe(i),
                       f"the slope of {p.describe(i)} at its kink taken as {slopes} (the "
                       f"engine takes {', '.join(const_text(x) for x in here)})",
                       Rederive(i, slopes=alt))


def _missing_factor(s: _Scope) -> Iterator[Slip]:
    """A constant factor forgotten: the 1/2 of a loss, the 2 of a square, a constant
    multiplier or divisor."""
    p = s.p
    for i in (s.nodes if s.backward else s.forward):
        n = p.order[i]
        op = n.primitive
        if op is None:
            continue
        k = dict(op.params).get("n")
        if k is not None and op is ops.pow_const(k):
            if s.backward and k not in (0.0, 1.0):
                yield Slip("missing-factor", p.describe(i),
                           f"the factor {const_text(k)} of the derivative of "
                           f"{p.describe(i)} forgotten", Rederive(i, scale=(1.0 / k,)))
            continue
        c = _const_operand(p, i)
        if c is None or op not in (ops.MUL, ops.DIV) or (op is ops.DIV and c == 0):
            continue
        value = n.parents[c].data
        other = 1 - c
        if value in (0.0, 1.0, -1.0) or (op is ops.DIV and _mean_count(p, i) is not None):
            continue
        word = "factor" if op is ops.MUL else "divisor"
        note = f"the {word} {const_text(value)} of {p.describe(i)} forgotten"
        if s.backward:
            if s.reach[p.index[n.parents[other]]]:
                f = 1.0 / value if op is ops.MUL else value
                yield Slip("missing-factor", p.describe(i), note,
                           Rederive(i, scale=_one(2, other, f)))
        else:
            o = p.index[n.parents[other]]
            yield Slip("missing-factor", p.describe(i), note,
                       Rebuild(i, lambda apply, get, o=o: get(o)))


def _mean_count(p: Problem, i: int) -> Optional[int]:
    """n, for a division of a sum of n terms by the constant n (a mean); else ``None``."""
    n = p.order[i]
    if n.primitive is not ops.DIV or _const_operand(p, i) != 1:
        return None
    count = n.parents[1].data
    j = p.index[n.parents[0]]
    terms = sum_terms(p, j) if n.parents[0].primitive is ops.ADD else None
    if terms is None or not count.is_integer() or count < 2:
        return None
    terms = [t for t in terms if not (p.is_const(t) and p.values[t] == 0.0)]
    return int(count) if len(terms) == count else None


def _missing_mean(s: _Scope) -> Iterator[Slip]:
    """The mean forgotten: a sum of n terms divided by n, taken as the sum."""
    p = s.p
    for i in (s.nodes if s.backward else s.forward):
        count = _mean_count(p, i)
        if count is None:
            continue
        note = f"the mean over {count} terms in {p.describe(i)} forgotten (the sum taken)"
        j = p.index[p.order[i].parents[0]]
        if s.backward:
            if s.reach[j]:
                yield Slip("missing-mean", p.describe(i), note,
                           Rederive(i, scale=(float(count), None)))
        else:
            yield Slip("missing-mean", p.describe(i), note,
                       Rebuild(i, lambda apply, get, j=j: get(j)))


def _sums(s: _Scope) -> Iterator[tuple]:
    """``(node index, term indices)`` of every sum of two or more terms in scope."""
    for i in s.forward:
        terms = sum_terms(s.p, i)
        if terms and len(terms) >= 2:
            yield i, terms


def _dropped(s: _Scope, bias: bool) -> Iterator[Slip]:
    """One term of a sum left out: a parameter leaf (``bias``) or any other term that is not
    a constant."""
    p = s.p
    for i, terms in _sums(s):
        for k, t in enumerate(terms):
            if p.is_const(t) or (p.is_param(t) and p.order[t].is_leaf) != bias:
                continue
            if s.backward and t == s.t:
                continue        # leaving the target out leaves nothing to differentiate
            kind = "missing-bias" if bias else "dropped-term"
            what, home = p.describe(t), p.describe(p.home(i))
            yield Slip(kind, f"{what} in {home}", f"{what} left out of {home}",
                       Rebuild(i, _sum_without(terms, k)))


def _dropped_term(s: _Scope) -> Iterator[Slip]:
    """A term of a sum dropped (the second output's term of the loss, one product of a
    neuron's weighted sum)."""
    return _dropped(s, bias=False)


def _missing_bias(s: _Scope) -> Iterator[Slip]:
    """A bias forgotten: a parameter added into a sum, left out."""
    return _dropped(s, bias=True)


def _pre_activation(s: _Scope) -> Iterator[Slip]:
    """A pre-activation used where the activation belongs (z for a = f(z)): in a consumer of
    the activation (its value in the forward pass, the derivatives it gives its other
    operands in the backward pass), or in the activation's own derivative (sigma'(z) written
    z(1 - z))."""
    p = s.p
    for a, n in enumerate(p.order):
        op = n.primitive
        if op is None or not op.activation or len(n.parents) != 1:
            continue
        z = p.index[n.parents[0]]
        za = f"{p.describe(z)} for {p.describe(a)}"
        if s.backward and a in s.nodes and s.reach[z]:
            yield Slip("pre-activation", f"d{p.describe(a)}/d{p.describe(z)}",
                       f"the derivative of {p.describe(a)} computed with {za}",
                       Rederive(a, out_as_input=True))
        for i, pos in p.graph.consumers[a]:
            if s.backward:
                if i in s.nodes and any(k != pos for k, _, _ in s.edges(i)):
                    yield Slip("pre-activation", f"{p.describe(a)} in {p.describe(i)}",
                               f"{za} in the derivatives of {p.describe(i)}",
                               Rederive(i, substitute=(pos, z)))
            elif i in s.forward:
                yield Slip("pre-activation", f"{p.describe(a)} in {p.describe(i)}",
                           f"{za} in {p.describe(i)}", _substituted(p, i, pos, z))
        if not s.backward and a == s.t:
            yield Slip("pre-activation", p.describe(a), f"{za} given",
                       Retarget(z))


def _substituted(p: Problem, i: int, pos: int, other: int) -> Rebuild:
    op = p.order[i].primitive
    operands = [p.index[q] for q in p.order[i].parents]
    operands[pos] = other

    def make(apply, get):
        return apply(op, *[get(j) for j in operands])
    return Rebuild(i, make)


def _swapped_index(s: _Scope) -> Iterator[Slip]:
    """Weight indices swapped (w_jk for w_kj): the answer for the other weight, or that
    weight's value where this one belongs."""
    p = s.p
    partners = _partners(p)
    if s.backward and s.t in partners:
        o = partners[s.t]
        yield Slip("swapped-index", p.describe(s.t),
                   f"{p.describe(o)} for {p.describe(s.t)}", Retarget(o))
    for w, o in partners.items():
        for i, pos in p.graph.consumers[w]:
            note = f"{p.describe(o)} for {p.describe(w)} in {p.describe(i)}"
            if s.backward:
                if i in s.nodes and any(k != pos for k, _, _ in s.edges(i)):
                    yield Slip("swapped-index", f"{p.describe(w)} in {p.describe(i)}",
                               note + "'s derivatives", Rederive(i, substitute=(pos, o)))
            elif i in s.forward:
                yield Slip("swapped-index", f"{p.describe(w)} in {p.describe(i)}", note,
                           _substituted(p, i, pos, o))


def _update_sign(s: _Scope) -> Iterator[Slip]:
    """The step taken uphill: new = old + lr * grad."""
    if s.target.kind == "update":
        name = s.p.describe(s.t)
        yield Slip("update-sign", f"new {name}", f"{name} + lr * grad instead of "
                   f"{name} - lr * grad", Update(+1.0, True))


def _no_lr(s: _Scope) -> Iterator[Slip]:
    """The learning rate left out: new = old - grad."""
    if s.target.kind == "update":
        name = s.p.describe(s.t)
        yield Slip("no-lr", f"new {name}", f"the learning rate {format_number(s.p.lr or 0.0)} left "
                   "out of the step", Update(-1.0, False))


#: How one multiplication or addition can slip: what was computed instead (as a float and as
#: a formula of the two operands), and in words.
_ARITHMETIC = {
    ops.MUL: ((lambda a, b: a + b, lambda a, b: bin("+", a, b), "added instead of multiplied"),
              (lambda a, b: -(a * b), lambda a, b: neg(bin("*", a, b)),
               "the sign of the product lost")),
    ops.ADD: ((lambda a, b: a - b, lambda a, b: bin("-", a, b), "subtracted instead of added"),
              (lambda a, b: b - a, lambda a, b: bin("-", b, a),
               "subtracted (the other way round) instead of added"),
              (lambda a, b: a * b, lambda a, b: bin("*", a, b), "multiplied instead of added")),
    ops.SUB: ((lambda a, b: a + b, lambda a, b: bin("+", a, b), "added instead of subtracted"),
              (lambda a, b: b - a, lambda a, b: bin("-", b, a),
               "subtracted the wrong way round")),
}


def _arithmetic(s: _Scope) -> Iterator[Slip]:
    """One multiplication or addition of the forward pass slipped: + for *, - for +, the
    operands of - swapped, the sign of a product lost. The number is wrong, the op is not:
    its derivatives are still the op's own, read at the wrong number (the record keeps its
    rule and takes the slipped forward)."""
    p = s.p
    for i in s.forward:
        n = p.order[i]
        ways = _ARITHMETIC.get(n.primitive)
        if ways is None or any(p.is_const(p.index[q]) and q.data == 0.0 for q in n.parents):
            continue
        a, b = (p.index[q] for q in n.parents)
        for fn, show, note in ways:
            slipped = dataclasses.replace(n.primitive, fn=fn, show=show, code=None)

            def make(apply, get, op=slipped, a=a, b=b):
                return apply(op, get(a), get(b))
            yield Slip("arithmetic", p.describe(i), f"{note} in {p.describe(i)}",
                       Rebuild(i, make))


GENERATORS: dict = {
    "dropped-path": _dropped_path, "dropped-term": _dropped_term,
    "missing-bias": _missing_bias, "missing-factor": _missing_factor,
    "missing-mean": _missing_mean, "sign": _sign, "kink": _kink,
    "pre-activation": _pre_activation, "swapped-index": _swapped_index,
    "update-sign": _update_sign, "no-lr": _no_lr, "arithmetic": _arithmetic,
}
assert tuple(GENERATORS) == KINDS


def candidates(p: Problem, target: Target, kinds: Optional[tuple] = None) -> list:
    """Every single slip that can change ``target``'s answer, kind by kind in the order of
    :data:`KINDS` (``kinds`` picks some)."""
    scope = _Scope(p, target)
    out: list = []
    for kind in kinds or KINDS:
        if kind not in GENERATORS:
            raise ValueError(f"unknown slip kind {kind!r}; kinds: {', '.join(KINDS)}")
        out.extend(GENERATORS[kind](scope))
    return out
