"""The chain rule as a sum over paths: every path from the root to a node, each a product of
local derivatives, and their sum."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

from .._checks import derivative_error
from ..engine import Value
from ..gradients import grad as _engine_grad
from ..formula import (Expr as _E, Printer as _Printer, format_number, latex_name,
                       product as _product, round_half_up)
from ..graph import analyse
from .naming import NamedGraph as _Graph, edge_expr as _edge_expr
from .records import Section, Step

__all__ = ["DEFAULT_MAX_PATHS", "Path", "find_paths", "paths_section", "promotions", "dname"]

#: Paths listed one by one before the explanation stops listing and says how many there are.
DEFAULT_MAX_PATHS = 1000
#: Above this many paths the sum is written as a list of numbers without the formulas.
_SUM_FORMULAS = 8
#: How find_paths reached a node: (the link before it, the node above, argument index).
_Link = Optional[tuple["_Link", Value, int]]

@dataclass
class Path:
    """One path from the root to ``wrt``: ``nodes[0]`` is the root, ``nodes[-1]`` is ``wrt``,
    ``args[i]`` is which argument of ``nodes[i]`` the path enters ``nodes[i+1]`` by, and
    ``value`` is the product of the local derivatives along it, from the root down (0 from
    the first zero factor on: what lies below it, even an undefined slope, is not used)."""
    nodes: tuple
    args: tuple
    value: float



def find_paths(root: Value, wrt: Value, max_paths: int = DEFAULT_MAX_PATHS) -> tuple:
    """Every path from ``root`` to ``wrt`` (up to ``max_paths``), by an iterative walk.

    Args:
        root: the output (e.g. the loss).
        wrt: the node to differentiate with respect to.
        max_paths: stop after this many paths.

    Returns:
        ``(paths, total)``: a list of :class:`Path` in a deterministic order (first parent
        first) and the total number of paths; ``len(paths) < total`` when capped.

    Example:
        >>> a = Value(3.0, label="a"); y = a * a
        >>> paths, total = find_paths(y, a)
        >>> total, [p.value for p in paths]
        (2, [3.0, 3.0])
    """
    if not isinstance(root, Value) or not isinstance(wrt, Value):
        raise TypeError("find_paths: root and wrt must be Values")
    if isinstance(max_paths, bool) or not isinstance(max_paths, int) or max_paths < 0:
        raise ValueError(f"find_paths: max_paths must be a non-negative int, got {max_paths!r}")
    graph = analyse(root)
    counts = graph.path_counts(wrt)
    reach = {n for n, c in zip(graph.order, counts, strict=True) if c}
    total = counts[-1]

    def loc(n: Value) -> tuple:
        return graph.locals[graph.index[n]]

    paths: list = []
    if total == 0:
        return paths, 0
    # Each stack entry is (node, link); a link is (previous link, node, argument index), so a
    # path is rebuilt only when it reaches wrt and nothing is copied on the way.
    stack: list[tuple[Value, _Link]] = [(root, None)]
    while stack and len(paths) < max_paths:
        node, link = stack.pop()
        if node is wrt:
            nodes: list[Value] = [wrt]
            args: list[int] = []
            while link is not None:
                link, parent, j = link
                nodes.append(parent)
                args.append(j)
            nodes.reverse()
            args.reverse()
            paths.append(Path(tuple(nodes), tuple(args), _path_value(nodes, args, loc)))
            continue
        ps = node.parents
        for j in range(len(ps) - 1, -1, -1):
            if ps[j] in reach:
                stack.append((ps[j], (link, node, j)))
    return paths, total


def _path_value(nodes: Sequence[Value], args: Sequence[int], loc) -> float:
    """The product of the local derivatives along a path, from the root down. Once it is 0
    the path carries nothing, as ``backward`` sends nothing from a node whose gradient is 0:
    a slope below, even one undefined there (``nan``: sqrt' at 0), is never multiplied in."""
    value = 1.0
    for node, j in zip(nodes, args):   # the last node, wrt, has no edge below it on the path
        if value == 0.0:
            return 0.0
        value *= loc(node)[j]
    return value


def dname(top: str, bottom: str) -> tuple:
    return (f"d{top}/d{bottom}",
            r"\frac{\partial " + latex_name(top) + r"}{\partial " + latex_name(bottom) + "}")


def promotions(g: "_Graph", paths: Sequence[Path]) -> list:
    """Unnamed intermediates to name so that no two paths read alike.

    Two paths whose named nodes are the same (``L -> v1 -> z4`` twice: once through the
    numerator, once through the sum in the denominator) differ in an unnamed intermediate one
    of them passes through. Greedily name the intermediate that the fewest of the alike paths
    pass through (the smallest subexpression first) until the paths split or differ only in
    which operand they take (``a*a``), which :func:`_operand_notes` says instead.
    """
    index = {n: i for i, n in enumerate(g.order)}
    promoted: set = set()

    def shown(n: Value) -> bool:
        return n in g.name or n in promoted

    work = [list(paths)]
    while work:
        group = work.pop()
        alike: dict = {}
        for p in group:
            alike.setdefault(tuple(n for n in p.nodes if shown(n)), []).append(p)
        for sub in alike.values():
            if len(sub) < 2:
                continue
            count: dict = {}
            for p in sub:
                for n in p.nodes:   # a path visits a node at most once (the graph is acyclic)
                    if not shown(n) and not n.is_leaf:
                        count[n] = count.get(n, 0) + 1
            cands = [n for n, c in count.items() if c < len(sub)]
            if cands:
                promoted.add(min(cands, key=lambda n: (count[n], index[n])))
                work.append(sub)
    return sorted(promoted, key=index.__getitem__)


def _describe(g: "_Graph", node: Value, inside: Value) -> str:
    """A node for a note: its name, else its formula and the named node it is written in."""
    if node in g.name:
        return g.name[node]
    text = g.printer("text", False)(g.ref[node])
    if len(text) > 40:
        text = f"the {node.op} node"
    return f"{text} in {g.name[inside]}"


def _operand_notes(g: "_Graph", paths: Sequence[Path]) -> dict:
    """For paths through the same nodes that differ only in which operand they take (the two
    edges of ``v4*v4``): path index -> "via operand 1 of v4*v4"."""
    alike: dict = {}
    for i, p in enumerate(paths):
        alike.setdefault(tuple(n for n in p.nodes if n in g.name), []).append(i)
    notes: dict = {}
    for group in alike.values():
        if len(group) < 2:
            continue
        first = paths[group[0]]
        differ = [k for k in range(len(first.args))
                  if len({paths[i].args[k] for i in group}) > 1]
        for i in group:
            p = paths[i]
            said = []
            for k in differ:
                node = p.nodes[k]
                inside = next(n for n in reversed(p.nodes[:k + 1]) if n in g.name)
                e = g.expr[node] if node in g.name else g.ref[node]   # node: not a leaf
                text = g.printer("text", False)(e)
                if len(text) > 40:
                    text = _describe(g, node, inside)
                elif node not in g.name and node is not inside:
                    text += f" in {g.name[inside]}"
                said.append(f"operand {p.args[k] + 1} of {text}")
            notes[i] = "via " + ", ".join(said)
    return notes


def paths_section(g: _Graph, wrt: Value, max_paths: int,
              found: Optional[tuple] = None) -> Section:
    L, X = g.name[g.root], g.name[wrt]
    dtext, dlatex = dname(L, X)
    sec = Section("backward", f"Backward pass: {dtext}")
    paths, total = found if found is not None else find_paths(g.root, wrt, max_paths)
    exact_total = float(_engine_grad(g.root, wrt)) if total else 0.0
    k = g.decimals

    def rnd(x: float) -> float:
        return round_half_up(x, k) if k is not None else x

    if total == 0:
        sec.notes.append(f"{L} does not depend on {X}: no path, the derivative is 0")
        sec.steps.append(Step(dtext, dlatex, [], 0.0, 0.0))
        return sec
    sec.notes.append(f"{total} path{'s' if total != 1 else ''} from {L} to {X}"
                     + ("; each is a product of local derivatives, and the derivative is "
                        "their sum" if total > 1 else ""))
    if len(paths) < total:
        sec.notes.append(f"showing the first {len(paths)} of {total} paths (max_paths="
                         f"{max_paths}); the total below is the engine's gradient")
    operands = _operand_notes(g, paths)
    sym_terms, num_terms, path_values = [], [], []
    pt, pl = g.printer("text", False), g.printer("latex", False)
    nt, nl = g.printer("text", True), g.printer("latex", True)
    for i, path in enumerate(paths, 1):
        # Split the path at named nodes: each piece is one factor d(named)/d(next named).
        factors, dnames, fvals, fexact = [], [], [], []
        undefined = False
        seg: list = []
        seg_val = seg_exact = 1.0
        start = path.nodes[0]
        dead = ""
        for node, j in zip(path.nodes[:-1], path.args, strict=True):
            parent = node.parents[j]
            try:
                ex = g.local(node)[j]
                sh = g.local(node, exact=False)[j] if k is not None else ex
            except (ArithmeticError, ValueError) as e:
                if not dead:    # a gradient reaches the node: backward fails here too
                    raise derivative_error(node, e) from None
                # Below a zero factor nothing reaches the node (backward sends nothing), so
                # its slope, undefined at this point (sqrt' at 0), never counts.
                ex = sh = math.nan
                undefined = True
                dead += f"; the slope of {node.op} is undefined here, but nothing reaches it"
            args = [g.ref[p] for p in node.parents]
            seg.append(_edge_expr(node, j, args, g.ref[node], sh))
            seg_val *= sh
            seg_exact *= ex
            if ex == 0.0 and not dead:
                where = _describe(g, node, start)
                dead = (f"dead path: {node.op} is off at {where}" if node.primitive.piecewise
                        else f"zero local derivative below {where}")
            if parent in g.name:
                factors.append(_product(seg))
                dnames.append(dname(g.name[start], g.name[parent]))
                # rounded: what the printed factor computes from the printed values
                try:
                    fvals.append(seg_val if k is None else g.shown_value(factors[-1]))
                except (ArithmeticError, ValueError):   # a value rounded to 0 divides
                    fvals.append(seg_exact)
                    undefined = True
                fexact.append(seg_exact)
                seg, seg_val, seg_exact, start = [], 1.0, 1.0, parent
        value = 1.0
        for v in fvals:
            value *= v
        value = rnd(value)
        exact = 1.0
        for v in fexact:
            exact *= v
        if dead:    # a zero factor: the path carries nothing, whatever lies below it
            value = exact = 0.0
        prod = _product(factors) if len(factors) == 1 else None
        sym_t = _join_factors(pt, factors, "*") if prod is None else pt(prod)
        sym_l = _join_factors(pl, factors, r" \cdot ") if prod is None else pl(prod)
        num_t = _join_factors(nt, factors, "*")
        num_l = _join_factors(nl, factors, r" \cdot ")
        parts = [(sym_t, sym_l)]
        if num_t != sym_t and not undefined and not is_number(num_t, value, k):
            parts.append((num_t, num_l))
        lhs_t = " * ".join(d[0] for d in dnames)
        lhs_l = r" \cdot ".join(d[1] for d in dnames)
        caption = f"path {i}: " + " -> ".join(g.name[n] for n in path.nodes if n in g.name)
        if i - 1 in operands:
            caption += f", {operands[i - 1]}"
        sec.steps.append(Step(lhs_t, lhs_l, parts, value, exact, caption=caption, note=dead,
                              numeric_last=len(parts) == 2 or num_t == sym_t))
        sym_terms.append((sym_t, sym_l))
        num_terms.append(value)
        path_values.append(value)
    if len(paths) < total:
        sec.steps.append(Step(dtext, dlatex, [], rnd(exact_total), exact_total))
        return sec
    if total == 1:
        value = path_values[0]
        sec.steps.append(Step(dtext, dlatex, [sym_terms[0]], value, exact_total,
                              numeric_last=False))
        return sec
    parts = []
    if total <= _SUM_FORMULAS:
        parts.append((_join_terms([t[0] for t in sym_terms]),
                      _join_terms([t[1] for t in sym_terms])))
    nums = number_sum(num_terms, k)
    parts.append((nums, nums))
    value = rnd(math.fsum(path_values)) if k is not None else exact_total
    sec.steps.append(Step(dtext, dlatex, parts, value, exact_total))
    return sec


def number_sum(values: Sequence[float], decimals: Optional[int] = None) -> str:
    """Numbers added up as on a sheet: ``0.5 + (-2.0)``, a negative term after the first in
    brackets."""
    return " + ".join(format_number(v, decimals) if i == 0 or v >= 0
                      else f"({format_number(v, decimals)})" for i, v in enumerate(values))


def is_number(text: str, value: float, decimals: Optional[int]) -> bool:
    """Whether ``text`` is just the number ``value`` (so writing it again says nothing)."""
    try:
        return format_number(float(text), decimals) == format_number(value, decimals)
    except ValueError:
        return False


def _join_factors(p: _Printer, factors: Sequence[_E], sep: str) -> str:
    """Factors written side by side: a sum is bracketed, and so is a negative factor after
    the first; a single factor is written as it is."""
    if len(factors) == 1:
        return p(factors[0])
    last = len(factors) - 1
    # a quotient followed by more factors is bracketed: (1/sigma)*v1, not 1/sigma*v1
    return sep.join(p._p(f, _quotient_prec(f) if i < last and not p.latex else 2, i == 0)
                    for i, f in enumerate(factors))


def _quotient_prec(f: _E) -> int:
    """The precedence that brackets a quotient (or a negated one), else a product's."""
    if f.kind == "neg" and f.args[0].kind == "bin" and f.args[0].val == "/":
        return 4
    return 3 if f.kind == "bin" and f.val == "/" else 2


def _join_terms(terms: Sequence[str]) -> str:
    """A sum of formulas: a term that starts with a minus is subtracted (``a - b*c``)."""
    out = terms[0] if terms else ""
    for t in terms[1:]:
        out += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    return out


