"""Step-through explanations of any computation graph, in the form of a hand-worked solution.

Forward: one line per named node, its formula, the numbers substituted and the result::

    h1 = i1*w11 + i2*w21 + b1 = 2.0*1.0 + (-1.0)*0.5 + 0.5 = 2.0

A node is named by its ``label`` (or by ``names=``); an unlabelled intermediate used once is
written inside the formula of the node that uses it (so ``((i1*w11) + (i2*w21)) + b1`` is one
line), and an unlabelled intermediate used twice, or a formula grown too long, gets a name of
its own (``v1``, ``v2``, ...). Unlabelled leaves are constants and print as numbers.

Backward: for a chosen node ``x``, every path from the root to ``x``, each a product of local
derivatives with their numbers, then their sum (the chain rule: dL/dx = sum over paths of the
product of the local derivatives along the path)::

    dMSE/dw21 = (o1 - t1)*w31*1*i2 + (o2 - t2)*w32*1*i2 = 0.5 + -2.0 = -1.5

A node reused by several paths is counted once per path; a path through a switched-off ReLU
shows its zero factor (a ReLU's slope stays a factor of its own, ``w31*1*i2``, whether or not the
ReLU has a line). No two paths read alike: when two run between the same named nodes, the
unlabelled intermediate that tells them apart gets a name of its own (``L -> v2 -> v1 -> z4``
through the denominator), and paths through the same nodes that differ only in the operand they
take say which (``y -> a, via operand 2 of a*a``). Paths are enumerated iteratively and capped (``max_paths``): past the
cap the explanation says how many there are and gives the engine's gradient.

Update: ``w21 <- 0.5 - 0.1 * (-1.5) = 0.65``.

``decimals=k`` rounds every named intermediate to k decimals and carries the rounded value
forward, as a hand-worked sheet does, printing the unrounded value beside it. An
:class:`Explanation` prints as text and exports to LaTeX (an ``align*`` block) and Markdown.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence, Union

from .engine import Value, grad as _engine_grad, topological_order
from .graph import analyse, count_paths

__all__ = [
    "explain", "explain_forward", "round_half_up", "latex_name", "explain_backward", "explain_update", "find_paths",
    "count_paths", "Explanation", "Section", "Step", "Path", "DEFAULT_MAX_PATHS",
    "INLINE_LIMIT", "format_number",
]

#: Paths listed one by one before the explanation stops listing and says how many there are.
DEFAULT_MAX_PATHS = 1000
#: Largest number of unlabelled nodes written inside one formula before one gets a name.
INLINE_LIMIT = 40
#: Above this many paths the sum is written as a list of numbers without the formulas.
_SUM_FORMULAS = 8


from .formula import (Expr as _E, Printer as _Printer, bin as _bin, call as _call, const_text as _const,
                      format_number, latex_name, num as _num, product as _product,
                      round_half_up)


# ---- formulas of ops and of their local derivatives -------------------------------------------
# Both come from the op's record: its forward formula, and its rule run on formulas.

def _op_expr(node: Value, args: Sequence[_E]) -> _E:
    """The formula of ``node`` in terms of the formulas of its parents."""
    return node.primitive.formula_of(*args)


def _edge_expr(node: Value, j: int, args: Sequence[_E], out: _E, slope: float) -> _E:
    """The formula of d node / d (parent j). A piecewise-constant slope (ReLU, abs, max) is
    written as its number, a factor of its own."""
    op = node.primitive
    if op.piecewise:
        return _E("slope", float(slope))
    return op.deriv_of(out, *args)[j]


# ---- the graph as named lines ------------------------------------------------------------------

class _Graph:
    """The graph of ``root`` split into named nodes (one line each) and inlined formulas."""

    def __init__(self, root: Value, names: Optional[Mapping] = None,
                 keep: Sequence[Value] = (), decimals: Optional[int] = None) -> None:
        if not isinstance(root, Value):
            raise TypeError(f"explain: the root must be a Value, got {type(root).__name__}")
        if decimals is not None and (isinstance(decimals, bool) or not isinstance(decimals, int)
                                     or decimals < 0):
            raise ValueError(f"explain: decimals must be a non-negative int, got {decimals!r}")
        self.root = root
        self.decimals = decimals
        self.order = topological_order(root)
        names = dict(names or {})
        for v in names:
            if not isinstance(v, Value):
                raise TypeError(f"explain: names must map Values to str, got a key "
                                f"{type(v).__name__}")
        uses: dict = {}
        for n in self.order:
            for p in n.parents:
                uses[p] = uses.get(p, 0) + 1
        keep = set(keep) | {root}
        self.name: dict = {}       # node -> shown name (named leaves and named lines)
        self.ref: dict = {}        # node -> formula used by its consumers
        self.expr: dict = {}       # named non-leaf node -> its own formula
        taken = {names.get(n) or n.label for n in self.order} - {""}
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
            label = names.get(n) or n.label
            if n.is_leaf:
                if label or n in keep:
                    nm = fresh(label)
                    used_names.add(nm)
                    self.name[n] = nm
                    self.ref[n] = _E("sym", n, value=n.data)
                else:
                    self.ref[n] = _num(n.data)
                continue
            args = [self.ref[p] for p in n.parents]
            s = 1 + sum(size.get(p, 0) for p in n.parents)
            inline = not label and n not in keep and uses.get(n, 0) == 1 and s <= INLINE_LIMIT
            e = _op_expr(n, args)
            e.value = n.data  # for rules that look at their input's side of a kink
            if inline:
                size[n] = s
                self.ref[n] = e
            else:
                nm = fresh(label if label else ("out" if n is root and "out" not in taken
                                                else ""))
                used_names.add(nm)
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

    def printer(self, style: str, numeric: bool) -> _Printer:
        return _Printer(style, self.name, self.shown if numeric else None, self.decimals)

    def local(self, node: Value, exact: bool = True) -> tuple:
        vals = self.values if exact else self.shown
        return tuple(float(g) for g in node.primitive.rule(
            1.0, vals[node], *[vals[p] for p in node.parents]))


# ---- explanation records -----------------------------------------------------------------------

@dataclass
class Step:
    """One line of a derivation: ``lhs rel part1 = part2 = ... = value``.

    Attributes:
        lhs, lhs_latex: the left-hand side (``h1``, ``dMSE/dw21``) as text and LaTeX.
        parts: the chain of equal expressions, as (text, latex) pairs.
        value: the result as shown (rounded when ``decimals`` is set).
        exact: the unrounded result.
        rel: ``"="`` or ``"<-"`` (an update).
        caption: a line shown before the step (the path, for a backward path).
        note: a remark after the value (e.g. a path that carries zero).
    """
    lhs: str
    lhs_latex: str
    parts: list
    value: float
    exact: float
    rel: str = "="
    caption: str = ""
    note: str = ""


@dataclass
class Section:
    """A group of steps: ``key`` is one of given, forward, loss, backward, update."""
    key: str
    title: str
    steps: list = field(default_factory=list)
    notes: list = field(default_factory=list)


@dataclass
class Path:
    """One path from the root to ``wrt``: ``nodes[0]`` is the root, ``nodes[-1]`` is ``wrt``,
    ``args[i]`` is which argument of ``nodes[i]`` the path enters ``nodes[i+1]`` by, and
    ``value`` is the product of the local derivatives along it."""
    nodes: tuple
    args: tuple
    value: float


def _fmt_value(value: float, exact: float, decimals: Optional[int]) -> str:
    s = format_number(value, decimals)
    if decimals is not None and format_number(exact) != s:
        s += f"  (unrounded {format_number(exact)})"
    return s


class Explanation:
    """A derivation in sections (given, forward, loss, backward, update).

    ``str(e)`` or ``e.text()`` gives the text form; ``e.latex()`` an ``align*`` block;
    ``e.markdown()`` Markdown tables (shown as such in Jupyter).
    """

    def __init__(self, sections: Sequence[Section], decimals: Optional[int] = None) -> None:
        self.sections = list(sections)
        self.decimals = decimals

    def __getitem__(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(f"no section {key!r}; sections: {[s.key for s in self.sections]}")

    def select(self, keys: Sequence[str]) -> "Explanation":
        """The explanation restricted to the sections in ``keys`` (in their original order)."""
        return Explanation([s for s in self.sections if s.key in keys], self.decimals)

    def __add__(self, other: "Explanation") -> "Explanation":
        return Explanation(self.sections + other.sections, self.decimals)

    # ---- text
    def section_text(self, sec: Section) -> str:
        lines = [sec.title]
        lines += ["  " + n for n in sec.notes]
        if sec.key == "given":
            items = [f"{s.lhs} = {format_number(s.value)}" for s in sec.steps]
            row = "  "
            for item in items:
                if len(row) + len(item) > 90 and row.strip():
                    lines.append(row.rstrip(", "))
                    row = "  "
                row += item + ", "
            if row.strip():
                lines.append(row.rstrip(", "))
            return "\n".join(lines)
        for s in sec.steps:
            indent = "  "
            if s.caption:
                lines.append("  " + s.caption)
                indent = "    "
            body = " = ".join([p[0] for p in s.parts] +
                              [_fmt_value(s.value, s.exact, self.decimals)])
            line = f"{indent}{s.lhs} {s.rel} {body}"
            if s.note:
                line += f"   [{s.note}]"
            lines.append(line)
        return "\n".join(lines)

    def text(self) -> str:
        return "\n\n".join(self.section_text(s) for s in self.sections) + "\n"

    __str__ = text

    def __repr__(self) -> str:
        return f"Explanation(sections={[s.key for s in self.sections]})"

    # ---- LaTeX
    def latex(self) -> str:
        """The derivation as one ``align*`` block (amsmath), numbers filled in."""
        out = [r"\begin{align*}"]
        for sec in self.sections:
            out.append(r"\intertext{" + _latex_text(sec.title) + "}")
            for n in sec.notes:
                out.append(r"\intertext{" + _latex_text(n) + "}")
            if sec.key == "given":
                items = [f"{s.lhs_latex} = {format_number(s.value)}" for s in sec.steps]
                for i in range(0, len(items), 4):
                    out.append("& " + r",\quad ".join(items[i:i + 4]) + r" \\")
                continue
            for s in sec.steps:
                if s.caption:
                    out.append(r"\intertext{" + _latex_text(s.caption) + "}")
                val = format_number(s.value, self.decimals)
                if self.decimals is not None and format_number(s.exact) != val:
                    val = val + r" \quad (\text{unrounded } " + format_number(s.exact) + ")"
                rel = r"\leftarrow" if s.rel == "<-" else "="
                body = " = ".join([p[1] for p in s.parts] + [val])
                note = r" \quad \text{(" + _latex_text(s.note) + ")}" if s.note else ""
                out.append(f"{s.lhs_latex} &{rel} {body}{note}" + r" \\")
        out.append(r"\end{align*}")
        return "\n".join(out) + "\n"

    # ---- Markdown
    def markdown(self) -> str:
        """The derivation as Markdown: a heading and a table per section."""
        out: list = []
        for sec in self.sections:
            out.append(f"### {sec.title}")
            out.append("")
            for n in sec.notes:
                out.append(n)
                out.append("")
            if sec.key == "given":
                out.append(", ".join(f"`{s.lhs} = {format_number(s.value)}`"
                                     for s in sec.steps))
                out.append("")
                continue
            out.append("| | formula | with numbers | value |")
            out.append("|---|---|---|---|")
            for s in sec.steps:
                head = f"{s.caption}: `{s.lhs}`" if s.caption else f"`{s.lhs}`"
                parts = [p[0] for p in s.parts]
                formula = parts[0] if len(parts) > 1 else ""
                numbers = parts[-1] if parts else ""
                val = _fmt_value(s.value, s.exact, self.decimals)
                if s.rel == "<-":
                    head = f"`{s.lhs}` &larr;"
                cells = [head, _md(formula), _md(numbers), val + (f" ({s.note})" if s.note
                                                                    else "")]
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
        return "\n".join(out)

    def _repr_markdown_(self) -> str:
        return self.markdown()


def _md(s: str) -> str:
    return f"`{s}`".replace("|", "\\|") if s else ""


def _latex_text(s: str) -> str:
    s = re.sub(r"([_#%&$^{}])", r"\\\1", s)
    return s.replace("->", r"$\to$")


# ---- sections ----------------------------------------------------------------------------------

def _leaves_in(e: _E, out: list) -> None:
    stack = [e]
    while stack:
        f = stack.pop()
        if f.kind == "sym":
            out.append(f.val)
        stack.extend(reversed(f.args))


def _given(g: _Graph, lines: Sequence[Value]) -> Section:
    """The named leaves, grouped by name stem (w, i, b, t) in order of first use and in
    natural order within a group: i1, i2, w11, w12, ..., as a sheet's table lists them."""
    seen: list = []
    found: list = []
    for n in lines:
        _leaves_in(g.expr[n], found)
    found += [n for n in g.order if n.is_leaf]
    for n in found:
        if n.is_leaf and n in g.name and n not in seen:
            seen.append(n)
    stems: list = []
    for n in seen:
        stem = re.sub(r"[\d\W_].*$", "", g.name[n])
        if stem not in stems:
            stems.append(stem)

    def key(n: Value) -> tuple:
        nm = g.name[n]
        stem = re.sub(r"[\d\W_].*$", "", nm)
        parts = [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", nm)]
        return (stems.index(stem), parts)

    sec = Section("given", "Given")
    for n in sorted(seen, key=key):
        nm = g.name[n]
        sec.steps.append(Step(nm, latex_name(nm), [], n.data, n.data))
    return sec


def _line(g: _Graph, n: Value) -> Step:
    e = g.expr[n]
    sym = (g.printer("text", False)(e), g.printer("latex", False)(e))
    num = (g.printer("text", True)(e), g.printer("latex", True)(e))
    parts = [sym] if sym == num else [sym, num]
    nm = g.name[n]
    return Step(nm, latex_name(nm), parts, g.shown[n], n.data)


def _forward(g: _Graph, split_root: bool) -> list:
    fwd = Section("forward", "Forward pass")
    for n in _forward_nodes(g):
        if not (split_root and n is g.root):
            fwd.steps.append(_line(g, n))
    secs = [fwd] if fwd.steps or not split_root else []   # no empty section before the loss
    if split_root and g.root in g.expr:
        secs.append(Section("loss", "Loss", [_line(g, g.root)]))
    return secs


def _forward_nodes(g: _Graph) -> list:
    # Textbook order: layer by layer (h1, h2 before h3, h4), where a node's level is one more
    # than its deepest named input; still a valid order, as a parent's level is lower.
    level: dict = {}
    for n in g.order:
        lv = max((level[p] for p in n.parents), default=0)
        level[n] = lv + (1 if n in g.expr else 0)
    index = {n: i for i, n in enumerate(g.order)}
    return sorted(g.expr, key=lambda n: (level[n], index[n]))


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
    reach = {n for n, c in zip(graph.order, counts) if c}
    total = counts[-1]

    def loc(n: Value) -> tuple:
        return graph.locals[graph.index[n]]

    paths: list = []
    if total == 0:
        return paths, 0
    # Each stack entry is (node, link); a link is (previous link, node, argument index), so a
    # path is rebuilt only when it reaches wrt and nothing is copied on the way.
    stack = [(root, None)]
    while stack and len(paths) < max_paths:
        node, link = stack.pop()
        if node is wrt:
            nodes, args, value = [wrt], [], 1.0
            while link is not None:
                link, parent, j = link
                nodes.append(parent)
                args.append(j)
                value *= loc(parent)[j]
            nodes.reverse()
            args.reverse()
            paths.append(Path(tuple(nodes), tuple(args), value))
            continue
        ps = node.parents
        for j in range(len(ps) - 1, -1, -1):
            if ps[j] in reach:
                stack.append((ps[j], (link, node, j)))
    return paths, total


def _dname(top: str, bottom: str) -> tuple:
    return (f"d{top}/d{bottom}",
            r"\frac{\partial " + latex_name(top) + r"}{\partial " + latex_name(bottom) + "}")


def _promotions(g: "_Graph", paths: Sequence[Path]) -> list:
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
                e = g.expr.get(node) if node in g.name else g.ref[node]
                text = g.printer("text", False)(e)
                if len(text) > 40:
                    text = _describe(g, node, inside)
                elif node not in g.name and node is not inside:
                    text += f" in {g.name[inside]}"
                said.append(f"operand {p.args[k] + 1} of {text}")
            notes[i] = "via " + ", ".join(said)
    return notes


def _backward(g: _Graph, wrt: Value, max_paths: int,
              found: Optional[tuple] = None) -> Section:
    L, X = g.name[g.root], g.name[wrt]
    dtext, dlatex = _dname(L, X)
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
        seg: list = []
        seg_val = seg_exact = 1.0
        start = path.nodes[0]
        dead = ""
        for node, j in zip(path.nodes[:-1], path.args):
            parent = node.parents[j]
            ex = g.local(node)[j]
            sh = g.local(node, exact=False)[j] if k is not None else ex
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
                dnames.append(_dname(g.name[start], g.name[parent]))
                fvals.append(seg_val)
                fexact.append(seg_exact)
                seg, seg_val, seg_exact, start = [], 1.0, 1.0, parent
        value = 1.0
        for v in fvals:
            value *= v
        value = rnd(value)
        exact = 1.0
        for v in fexact:
            exact *= v
        prod = _product(factors) if len(factors) == 1 else None
        sym_t = _join_factors(pt, factors, "*") if prod is None else pt(prod)
        sym_l = _join_factors(pl, factors, r" \cdot ") if prod is None else pl(prod)
        num_t = _join_factors(nt, factors, "*")
        num_l = _join_factors(nl, factors, r" \cdot ")
        parts = [(sym_t, sym_l)]
        if num_t != sym_t and not _is_number(num_t, value, k):
            parts.append((num_t, num_l))
        lhs_t = " * ".join(d[0] for d in dnames)
        lhs_l = r" \cdot ".join(d[1] for d in dnames)
        caption = f"path {i}: " + " -> ".join(g.name[n] for n in path.nodes if n in g.name)
        if i - 1 in operands:
            caption += f", {operands[i - 1]}"
        sec.steps.append(Step(lhs_t, lhs_l, parts, value, exact, caption=caption, note=dead))
        sym_terms.append((sym_t, sym_l))
        num_terms.append(value)
        path_values.append(value)
    if len(paths) < total:
        sec.steps.append(Step(dtext, dlatex, [], rnd(exact_total), exact_total))
        return sec
    if total == 1:
        value = path_values[0]
        sec.steps.append(Step(dtext, dlatex, [sym_terms[0]], value, exact_total))
        return sec
    parts = []
    if total <= _SUM_FORMULAS:
        parts.append((_join_terms([t[0] for t in sym_terms]),
                      _join_terms([t[1] for t in sym_terms])))
    nums = " + ".join(format_number(v, k) for v in num_terms)
    parts.append((nums, nums))
    value = rnd(math.fsum(path_values)) if k is not None else exact_total
    sec.steps.append(Step(dtext, dlatex, parts, value, exact_total))
    return sec


def _is_number(text: str, value: float, decimals: Optional[int]) -> bool:
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
    return sep.join(p._p(f, 2, i == 0) for i, f in enumerate(factors))


def _join_terms(terms: Sequence[str]) -> str:
    """A sum of formulas: a term that starts with a minus is subtracted (``a - b*c``)."""
    out = terms[0] if terms else ""
    for t in terms[1:]:
        out += f" - {t[1:]}" if t.startswith("-") else f" + {t}"
    return out


def _update_step(name: str, old: float, g: float, g_exact: float, lr: float,
                 decimals: Optional[int]) -> Step:
    new = old - lr * g
    exact = old - lr * g_exact
    if decimals is not None:
        new = round_half_up(new, decimals)
    gs = format_number(g, decimals)
    gs = f"({gs})" if g < 0 else gs
    t = f"{format_number(old)} - {_const(lr)} * {gs}"
    l = f"{format_number(old)} - {_const(lr)} \\cdot {gs}"
    return Step(name, latex_name(name), [(t, l)], new, exact, rel="<-")


def _check_lr(lr) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise TypeError(f"explain: lr must be a number, got {type(lr).__name__}")
    if not math.isfinite(lr):
        raise ValueError(f"explain: lr must be finite, got {lr!r}")
    return float(lr)


# ---- public entry points -----------------------------------------------------------------------

Wrt = Union[Value, Sequence[Value], None]


def _wrt_list(wrt: Wrt) -> list:
    if wrt is None:
        return []
    ws = [wrt] if isinstance(wrt, Value) else list(wrt)
    for w in ws:
        if not isinstance(w, Value):
            raise TypeError(f"explain: wrt must be a Value or a list of Values, got "
                            f"{type(w).__name__}")
    return ws


def explain(root: Value, wrt: Wrt = None, lr: Optional[float] = None, *,
            decimals: Optional[int] = None, max_paths: int = DEFAULT_MAX_PATHS,
            names: Optional[Mapping[Value, str]] = None, given: bool = True) -> Explanation:
    """Step through ``root``'s graph: given values, forward pass, loss, chain rule, update.

    Forward: one line per named node (``h1 = i1*w11 + ... = 2.0*1.0 + ... = 2.0``).
    Backward, for each ``wrt``: every path from ``root`` as a product of local derivatives,
    and their sum, dL/dx = sum_paths prod_edges d(child)/d(parent).
    Update, when ``lr`` is given: x <- x - lr * dL/dx.

    Args:
        root: the output; when ``wrt`` is given, the loss (its line gets its own section).
        wrt: a node or a list of nodes to differentiate with respect to.
        lr: learning rate for one gradient-descent step on each ``wrt``.
        decimals: round named intermediates to this many decimals and carry the rounded
            values forward, as on a hand-worked sheet (unrounded values are shown beside).
        max_paths: list at most this many paths per ``wrt``.
        names: names for nodes, overriding their labels.
        given: include the section listing the named leaves and their values.

    Returns:
        An :class:`Explanation` (``str()`` for text, ``.latex()``, ``.markdown()``).

    Example:
        >>> x = Value(2.0, label="x"); w = Value(-3.0, label="w")
        >>> y = (x * w).relu(); y.label = "y"
        >>> print(explain(y, wrt=w).section_text(explain(y, wrt=w)["backward"]))
        Backward pass: dy/dw
          1 path from y to w
          path 1: y -> w
            dy/dw = 0*x = 0*2.0 = 0.0   [dead path: relu is off at y]
          dy/dw = 0*x = 0.0
    """
    ws = _wrt_list(wrt)
    if lr is not None:
        lr = _check_lr(lr)
        if not ws:
            raise ValueError("explain: lr needs wrt (the parameters to update)")
    g = _Graph(root, names, keep=ws, decimals=decimals)
    found = {w: find_paths(root, w, max_paths) for w in ws if w in g.values}
    promoted = [n for w in found for n in _promotions(g, found[w][0])]
    if promoted:
        # Name the intermediates that tell alike paths apart, keeping every name already given.
        keep = list(ws) + [n for n in g.name if not n.is_leaf] + promoted
        g = _Graph(root, names, keep=keep, decimals=decimals)
    fwd = _forward(g, split_root=bool(ws))
    secs = [_given(g, _forward_nodes(g))] if given else []
    secs += fwd
    for w in ws:
        if w not in g.values:   # the root does not depend on it: no path, derivative 0
            g.name[w] = (names or {}).get(w) or w.label or "x"
        secs.append(_backward(g, w, max_paths, found.get(w)))
    if lr is not None:
        upd = Section("update", f"Update (gradient descent, learning rate {_const(lr)})")
        for w, b in zip(ws, [s for s in secs if s.key == "backward"]):
            total = b.steps[-1]
            upd.steps.append(_update_step(g.name[w], w.data, total.value, total.exact, lr,
                                          decimals))
        secs.append(upd)
    return Explanation(secs, decimals)


def explain_forward(root: Value, *, decimals: Optional[int] = None,
                    names: Optional[Mapping[Value, str]] = None,
                    given: bool = False) -> Explanation:
    """The forward pass only: one line per named node (see :func:`explain`)."""
    return explain(root, decimals=decimals, names=names, given=given)


def explain_backward(root: Value, wrt: Wrt, *, decimals: Optional[int] = None,
                     max_paths: int = DEFAULT_MAX_PATHS,
                     names: Optional[Mapping[Value, str]] = None) -> Explanation:
    """The chain rule only: for each ``wrt``, every path from ``root`` and their sum."""
    return explain(root, wrt, decimals=decimals, max_paths=max_paths, names=names,
                   given=False).select(("backward",))


def explain_update(param: Value, lr: float, grad: Optional[float] = None, *,
                   decimals: Optional[int] = None, name: Optional[str] = None) -> Explanation:
    """One gradient-descent step on ``param``: ``w <- w - lr * grad = new``.

    Args:
        param: the parameter (its ``data`` is the old value; it is not changed).
        lr: the learning rate.
        grad: the gradient; ``param.grad`` when omitted (call ``backward()`` first).
        decimals: round the gradient and the new value to this many decimals.
        name: the name shown; ``param.label`` when omitted.

    Example:
        >>> w = Value(0.5, label="w21")
        >>> print(explain_update(w, 0.1, -1.5).text().splitlines()[1])
          w21 <- 0.5 - 0.1 * (-1.5) = 0.65
    """
    if not isinstance(param, Value):
        raise TypeError(f"explain_update: param must be a Value, got {type(param).__name__}")
    lr = _check_lr(lr)
    g = param.grad if grad is None else float(grad)
    shown = round_half_up(g, decimals) if decimals is not None else g
    nm = name or param.label or "w"
    sec = Section("update", f"Update (gradient descent, learning rate {_const(lr)})",
                  [_update_step(nm, param.data, shown, g, lr, decimals)])
    return Explanation([sec], decimals)
