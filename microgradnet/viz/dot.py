"""DOT text for a computation graph, in two views.

``view="graph"`` (the default) is the op graph, compact: one node per operation, headed by the
op (and the result's label, when it has one) and showing the result's data and gradient; an
unlabelled constant used once is written into its op (``a*0.5``). Leaves (parameters, inputs,
constants) are nodes of their own; a parameter sits in the box of the layer that uses it.
``view="network"`` is the textbook picture of a network built from layers
(:mod:`microgradnet.viz.network`).

Colours tell the kinds of node apart: the output (green, heavy border), parameters (amber),
inputs (blue), constants (grey) and operations (grey header); a legend under the caption says
so. Output is deterministic: ids come from graph order (``n0``, ``n1``...), so the same graph
always gives the same text.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from ..engine import Value, topological_order
from ..formula import Printer, num, sym
from .graph import STAGES, Scene, scene
from .network import network_dot
from .style import (DEAD, FILL, KIND_NAMES, LIVE, MUTED, OP_FILL, PAGE_PT, SMALL, UPDATED,
                    caption_label, fmt_number, grad_colour, graph_header, h, paths_sentence, q)

__all__ = ["to_dot", "STAGES", "VIEWS", "fmt_number", "FILL", "LIVE", "DEAD"]

VIEWS = ("graph", "network")
RANKDIRS = ("auto", "LR", "RL", "TB", "BT")


#: Graphs with more nodes than this are refused: their picture could not be read, and laying
#: it out can take Graphviz minutes. Raise it (``microgradnet.viz.dot.MAX_NODES``) on purpose.
MAX_NODES = 3000


def _check_size(root: Value) -> None:
    n = len(topological_order(root)) if isinstance(root, Value) else 0
    if n > MAX_NODES:
        raise ValueError(f"the graph has {n:,} nodes, more than a picture can show "
                         f"(MAX_NODES = {MAX_NODES:,}); draw the graph of a part of it (one "
                         "neuron's output, one sample's loss) or replay it with "
                         "microgradnet.replay instead")


def to_dot(root: Value, stage: str = "backward", precision: int = 4,
           highlight: Value | str | None = None, clusters: bool = True,
           color_grad: bool = False, updates=None, params: Iterable[Value] | None = None,
           rankdir: str = "auto", title: str | None = None,
           grads: Mapping[Value, float] | None = None, view: str = "graph",
           legend: bool = True, ids: bool = False) -> str:
    """The DOT text of the graph that ends at ``root``.

    Args:
        root: the output Value.
        stage: ``"forward"`` (label and data), ``"backward"`` (label, data and ``.grad``) or
            ``"update"`` (as backward, and for each updated parameter old value, gradient,
            learning rate and new value: ``new = old - lr * grad``).
        precision: decimals shown for every number.
        highlight: a parameter (a Value, or the label of one): the edges of every path from it
            to the root are drawn violet, a path whose gradient is zero (a ReLU that is off)
            dashed grey; the caption gives d root / d parameter and the path counts.
        clusters: group the nodes made inside ``with scope(name):`` blocks in labelled boxes.
        color_grad: shade each gradient cell by sign (blue +, red -) and size.
        updates: for ``stage="update"``: a mapping ``{param: (old, grad, lr, new)}`` (``lr``
            may be ``None``) or a list of optimiser step records (``label``/``name``, ``old``,
            ``grad``, ``new``, optionally ``lr`` and the Value as ``param``).
        params: the parameter leaves, coloured amber; by default the leaves labelled like
            ``w21``, ``b1``, ``weight``, ``bias``, plus the highlighted and updated ones.
        rankdir: ``"auto"`` (left to right when that fits a 1400-px page, else top to
            bottom), ``"LR"``, ``"TB"``, ``"RL"`` or ``"BT"``.
        title: a caption at the top of the picture.
        grads: the gradient to show for each node instead of its ``.grad``.
        view: ``"graph"`` (the op graph) or ``"network"`` (neurons in layer columns, weights
            on the edges; for graphs built from ``nn`` layers).
        legend: a legend of the colours under the caption.
        ids: write the id of each unlabelled result in its header (``n5``), for text that
            names nodes so (the frames page's arithmetic).

    Returns:
        The DOT source, one statement a line.

    Example:
        >>> a = Value(2.0, label="a"); c = a + a; c.label = "c"; c.backward()
        >>> "n0 -> n1;\\n  n0 -> n1;" in to_dot(c)     # two edges for the reused a
        True
    """
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    if color_grad and stage == "forward":
        raise ValueError("color_grad shades gradients; stage='forward' shows none")
    _check_size(root)
    sc = scene(root, stage, precision, highlight, updates, params, grads, title)
    if view == "network":
        return network_dot(sc, clusters=clusters, color_grad=color_grad, legend=legend,
                           rankdir="LR" if rankdir == "auto" else rankdir)
    return _graph_dot(sc, clusters, color_grad, rankdir, legend, ids)


# ---- the compact op graph ---------------------------------------------------------------

def _folded(sc: Scene) -> list:
    """Per node: is it an unlabelled constant used once, shown inside its op instead?"""
    g = sc.graph
    return [g.kinds[i] == "const" and len(g.consumers[i]) == 1 and node is not sc.target
            for i, node in enumerate(g.order)]


def _op_text(sc: Scene, i: int, folded: list) -> str:
    """The op of node ``i`` as its header shows it: the name of a unary op (``relu``,
    ``**2``); ``+`` for a commutative op of two nodes; else the formula in ``a``, ``b`` with
    any folded constant written in (``a - b``, ``a*0.5``)."""
    g = sc.graph
    node = g.order[i]
    op = node.primitive
    if len(node.parents) != 2:
        return op.name
    args, any_folded = [], False
    letters = iter("ab")          # the operands drawn as edges, in order
    for parent in node.parents:
        if folded[g.index[parent]]:
            args.append(num(parent.data))
            any_folded = True
        else:
            args.append(sym(next(letters)))
    if op.commutative and not any_folded:
        return op.name
    return Printer("text", {"a": "a", "b": "b"})(op.formula_of(*args))


def _ordered(sc: Scene, i: int, folded: list) -> bool:
    """Do the operand edges of node ``i`` need the letters a and b?"""
    node = sc.graph.order[i]
    op = node.primitive
    return (op is not None and len(node.parents) == 2 and not op.commutative
            and not any(folded[sc.graph.index[p]] for p in node.parents))


def _border(sc: Scene, i: int) -> str | None:
    if sc.target is not None and i in sc.on_path:
        return LIVE if i in sc.live else DEAD
    if sc.graph.order[i] in sc.updates:
        return UPDATED
    return None


def _rows(sc: Scene, i: int, folded: list, grad_bg: str | None, ids: bool = False) -> list:
    """The label's rows as ``(text, html, bgcolor)``; text is for measuring width."""
    g = sc.graph
    node = g.order[i]
    p = sc.precision
    kind = g.kinds[i]
    if node.primitive is not None:
        op = _op_text(sc, i, folded)
        if node.label:
            head = (f"{node.label}  {op}",
                    f'<b>{h(node.label)}</b>  <font color="{MUTED}">{h(op)}</font>')
        elif ids:
            head = (f"{g.id(node)}  {op}",
                    f'<font color="{MUTED}">{g.id(node)}  {h(op)}</font>')
        else:
            head = (op, f'<font color="{MUTED}">{h(op)}</font>')
        rows: list[tuple[str, str, str | None]] = [
            (head[0], head[1], FILL["output"] if kind == "output" else OP_FILL)]
    else:
        name = node.label or g.id(node)
        rows = [(name, f"<b>{h(name)}</b>" if node.label else h(name), None)]
    if sc.stage == "update" and node in sc.updates:
        old, gr, lr, new = sc.updates[node]
        rows += [(t, h(t), bg) for t, bg in (
            (f"old {fmt_number(old, p)}", None), (f"grad {fmt_number(gr, p)}", grad_bg))]
        if lr is not None:
            rows.append((f"lr {fmt_number(lr, p)}", h(f"lr {fmt_number(lr, p)}"), None))
        rows.append((f"new {fmt_number(new, p)}", f"<b>new {fmt_number(new, p)}</b>", None))
        if lr is not None and abs(new - (old - lr * gr)) <= 1e-9 * max(1.0, abs(new)):
            step = (f"{fmt_number(old, p)} - {fmt_number(lr, p)} × "
                    f"({fmt_number(gr, p)}) = {fmt_number(new, p)}")
            rows.append((step, h(step), None))
        return rows
    rows.append((f"data {fmt_number(node.data, p)}", h(f"data {fmt_number(node.data, p)}"),
                 None))
    if sc.stage != "forward":
        t = f"grad {fmt_number(sc.grads[i], p)}"
        rows.append((t, h(t), grad_bg))
    return rows


def _label(sc: Scene, i: int, rows: list) -> str:
    kind = sc.graph.kinds[i]
    border = _border(sc, i)
    attrs = (f'border="0" cellborder="{2 if kind == "output" or border else 1}" '
             f'cellspacing="0" cellpadding="3" bgcolor="{FILL[kind]}"')
    if border:
        attrs += f' color="{border}"'
    cells = "".join(f'<tr><td{f" bgcolor={q(bg)}" if bg else ""}>{html}</td></tr>'
                    for _, html, bg in rows)
    return f"<<table {attrs}>{cells}</table>>"


def _width_pt(rows: list) -> float:
    # Helvetica at 11 pt averages about 6 pt a character; 10 pt of cell padding and border.
    return max(len(text) for text, _, _ in rows) * 6.0 + 10.0


def _choose_rankdir(sc: Scene, shown: list, widths: dict) -> str:
    """``"LR"`` if the picture laid out left to right fits the page, else whichever of LR and
    TB is narrower: an estimate from the ranks Graphviz will use (a node one rank after its
    furthest operand, a leaf one rank before its first consumer)."""
    g = sc.graph
    rank: dict = {}
    for i in shown:        # graph order: operands first
        operands = [rank[g.index[pn]] for pn in g.order[i].parents if g.index[pn] in rank]
        rank[i] = 1 + max(operands) if operands else 0
    for i in shown:
        if not g.order[i].parents and g.consumers[i]:
            rank[i] = max(0, min(rank[c] for c, _ in g.consumers[i] if c in rank) - 1)
    by_rank: dict = {}
    for i in shown:
        by_rank.setdefault(rank[i], []).append(i)
    nodesep, ranksep = 18.0, 22.0
    lr_width = sum(max(widths[i] for i in r) for r in by_rank.values()) \
        + ranksep * (len(by_rank) - 1)
    tb_width = max(sum(widths[i] for i in r) + nodesep * (len(r) - 1)
                   for r in by_rank.values())
    if lr_width <= PAGE_PT or lr_width <= tb_width:
        return "LR"
    return "TB"


def _legend(sc: Scene, color_grad: bool, kinds: set, lettered: bool) -> list:
    entries: list[tuple[str | None, str, str, bool]] = []
    for kind in ("output", "param", "input", "const", "intermediate"):
        if kind in kinds:
            fill = OP_FILL if kind == "intermediate" else FILL[kind]
            entries.append((fill, KIND_NAMES[kind], "#6b7280", False))
    if sc.target is not None:
        name = sc.graph.name(sc.target)
        entries.append(("#ffffff", f"on a path from {name}", LIVE, False))
        if sc.live != sc.on_path:
            entries.append(("#ffffff", "path with gradient 0", DEAD, True))
    if sc.updates:
        entries.append(("#ffffff", "updated: new = old - lr × grad", UPDATED, False))
    if color_grad:
        entries.append((grad_colour(1.0, 1.0), "grad > 0", "#6b7280", False))
        entries.append((grad_colour(-1.0, 1.0), "grad < 0", "#6b7280", False))
    if lettered:
        entries.append((None, "a, b: first and second operand", "", False))
    return entries


def caption_lines(sc: Scene) -> list:
    """The title, and for a highlighted parameter d root / d parameter and its paths."""
    lines = [sc.title] if sc.title else []
    if sc.target is not None:
        g = sc.graph
        what = f"d {g.name(g.root)} / d {g.name(sc.target)}"
        if sc.stage != "forward":
            what += f" = {fmt_number(sc.grads[g.index[sc.target]], sc.precision)}"
        total, n_live = sc.counts
        lines.append(f"{what}: {paths_sentence(n_live, total)}")
    return lines


def _graph_dot(sc: Scene, clusters: bool, color_grad: bool, rankdir: str,
               legend: bool, ids: bool = False) -> str:
    g = sc.graph
    order = g.order
    folded = _folded(sc)
    shown = [i for i in range(len(order)) if not folded[i]]
    finite = [abs(x) for x in sc.grads if x == x and abs(x) != float("inf")]
    gmax = max(finite, default=0.0) if color_grad else 0.0
    rows = {i: _rows(sc, i, folded, grad_colour(sc.grads[i], gmax) if color_grad else None,
                     ids) for i in shown}
    widths = {i: _width_pt(r) for i, r in rows.items()}
    if rankdir == "auto":
        rankdir = _choose_rankdir(sc, shown, widths)
    out = graph_header(rankdir)
    lettered = any(_ordered(sc, i, folded) for i in shown)
    lines = caption_lines(sc)
    entries = _legend(sc, color_grad, {g.kinds[i] for i in shown}, lettered) if legend else []
    if lines or entries:
        out.append(f"  label={caption_label(lines, entries)};")
        out.append("  labelloc=t;")

    groups: dict = {}
    for i in shown:
        statement = f"n{i} [shape=plain, label={_label(sc, i, rows[i])}];"
        groups.setdefault(_scope_of(sc, i) if clusters else (), []).append(statement)
    out.extend(_nest(groups))

    index = g.index
    for i in shown:
        node = order[i]
        ordered = _ordered(sc, i, folded)
        for pos, parent in enumerate(node.parents):
            j = index[parent]
            if folded[j]:
                continue
            attrs = []
            text = "ab"[pos] if ordered else ""
            if (i, pos) in sc.edges:
                is_live, d = sc.edges[(i, pos)]
                if is_live:
                    attrs.append(f'color="{LIVE}", penwidth=2.5')
                else:
                    attrs.append(f'color="{DEAD}", style=dashed')
                    if d == 0.0:
                        text = (text + " " if text else "") + "×0"
            if text:
                attrs.insert(0, f'label={q(text)}, fontsize={SMALL}, fontcolor="{MUTED}"')
            tail = f" [{', '.join(attrs)}]" if attrs else ""
            out.append(f"  n{j} -> n{i}{tail};")
    out.append("}")
    return "\n".join(out) + "\n"


def _scope_of(sc: Scene, i: int) -> tuple:
    """The scope a node is drawn in: its own; for a parameter, the one scope all its
    consumers share (a layer's weights sit in the layer's box), else none."""
    g = sc.graph
    node = g.order[i]
    if node.parents or not g.consumers[i] or g.kinds[i] != "param":
        return node.scope
    scopes = {g.order[c].scope for c, _ in g.consumers[i]}
    return scopes.pop() if len(scopes) == 1 else node.scope


def _nest(groups: dict) -> list:
    """Lines for the node statements, the scoped ones inside nested ``cluster`` subgraphs
    (labelled with the scope's name), in order of first appearance; no recursion."""
    children: dict = {(): []}
    for sc in groups:
        for k in range(1, len(sc) + 1):
            pre = sc[:k]
            if pre not in children:
                children[pre] = []
                children[pre[:-1]].append(pre)
    lines: list = []
    counter = 0
    stack: list = [((), 1, False)]
    while stack:
        sc, depth, closing = stack.pop()
        pad = "  " * depth
        if closing:
            lines.append("  " * (depth - 1) + "}")
            continue
        if sc:
            lines.append("  " * (depth - 1) + f"subgraph cluster_{counter} {{")
            counter += 1
            lines.append(f'{pad}label={q(sc[-1])}; style="rounded,dashed"; '
                         f'color="#9ca3af"; fontcolor="{MUTED}";')
            stack.append((sc, depth, True))
        lines.extend(pad + line for line in groups.get(sc, ()))
        for child in reversed(children[sc]):
            stack.append((child, depth + 1, False))
    return lines
