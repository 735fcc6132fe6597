"""DOT text for a computation graph: every value node with its label, data and gradient, every
op as a node of its own, one edge per operand (``a + a`` has two).

Colours tell the kinds of value node apart: the output (green, heavy border), parameters
(amber), inputs (blue), constants (grey) and intermediate results (white); ops are grey
ellipses. Output is deterministic: ids come from graph order (``n0``, ``n1``... and ``n5op``
for the op that made ``n5``), so the same graph always gives the same text.
"""
from __future__ import annotations

import html
import math
import warnings
from typing import Iterable, Mapping

from ..engine import Value
from .graph import Graph, analyse, coerce_updates, find_labelled, highlight_paths

__all__ = ["to_dot", "STAGES", "fmt_number", "FILL", "LIVE", "DEAD"]

STAGES = ("forward", "backward", "update")

#: Fill colour of each kind of value node.
FILL = {"output": "#bbf7d0", "param": "#fde68a", "input": "#dbeafe", "const": "#f3f4f6",
        "intermediate": "#ffffff"}
OP_FILL = "#e5e7eb"
LIVE = "#d62728"      # a path that carries the highlighted parameter's gradient
DEAD = "#9ca3af"      # a path whose gradient is zero
UPDATED = "#b45309"   # border of a parameter an optimiser step changed
_POSITIVE = (59, 130, 246)   # colour of a positive gradient (blue)
_NEGATIVE = (239, 68, 68)    # colour of a negative gradient (red)


def fmt_number(x: float, precision: int = 4) -> str:
    """``x`` with ``precision`` decimals; scientific notation when that would show no
    significant digit (``1.2345e-07``) or too many (``1.0000e+08``). Never prints ``-0.0000``."""
    if x == 0:
        return f"{0.0:.{precision}f}"
    if abs(x) >= 1e6 or abs(x) < 0.5 * 10.0 ** -precision:
        return f"{x:.{precision}e}"
    s = f"{x:.{precision}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _grad_colour(g: float, gmax: float) -> str:
    """White for zero, deeper blue (positive) or red (negative) as |g| nears the largest."""
    if gmax <= 0 or g == 0 or not math.isfinite(g):
        return "#ffffff"
    t = min(1.0, math.sqrt(abs(g) / gmax))
    r, gr, b = _POSITIVE if g > 0 else _NEGATIVE
    mix = [round(255 + (c - 255) * t) for c in (r, gr, b)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def _check_args(stage: str, precision: int, rankdir: str) -> None:
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    if isinstance(precision, bool) or not isinstance(precision, int):
        raise TypeError(f"precision must be an int, got {type(precision).__name__}")
    if not 0 <= precision <= 17:
        raise ValueError(f"precision must be between 0 and 17, got {precision}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be LR, RL, TB or BT, got {rankdir!r}")


def to_dot(root: Value, stage: str = "backward", precision: int = 4,
           highlight: Value | str | None = None, clusters: bool = True,
           color_grad: bool = False, updates=None, params: Iterable[Value] | None = None,
           rankdir: str = "LR", title: str | None = None,
           grads: Mapping[Value, float] | None = None, labels: str = "html") -> str:
    """The DOT text of the graph that ends at ``root``.

    Args:
        root: the output Value.
        stage: ``"forward"`` (label and data), ``"backward"`` (label, data and ``.grad``) or
            ``"update"`` (as backward, and for each updated parameter old value, gradient,
            learning rate and new value: ``new = old - lr * grad``).
        precision: decimals shown for every number.
        highlight: a parameter (a Value, or the label of one): the edges of every path from it
            to the root are drawn red, a path whose gradient is zero (a ReLU that is off)
            dashed grey; the graph's caption gives d root / d parameter and the path counts.
        clusters: group the nodes made inside ``with scope(name):`` blocks in labelled boxes.
        color_grad: shade each gradient cell by sign (blue +, red -) and size.
        updates: for ``stage="update"``: a mapping ``{param: (old, grad, lr, new)}`` (``lr``
            may be ``None``) or a list of optimiser step records (``label``/``name``, ``old``,
            ``grad``, ``new``, optionally ``lr`` and the Value as ``param``).
        params: the parameter leaves, coloured amber; by default the leaves labelled like
            ``w21``, ``b1``, ``weight``, ``bias``, plus the highlighted and updated ones.
        rankdir: ``"LR"`` (inputs left, output right) or ``"TB"``, ``"RL"``, ``"BT"``.
        title: a caption at the top of the picture.
        grads: the gradient to show for each node instead of its ``.grad``.
        labels: ``"html"`` (tables: bold labels, a shaded gradient cell) or ``"record"``
            (Graphviz records, for renderers without HTML-like labels such as the in-process
            WebAssembly Graphviz; ``color_grad`` then shades the whole node). ``draw`` and
            ``render`` pick the one their renderer supports.

    Returns:
        The DOT source, one statement a line.

    Example:
        >>> a = Value(2.0, label="a"); c = a + a; c.label = "c"; c.backward()
        >>> "n0 -> n1op;\\n  n0 -> n1op;" in to_dot(c)     # two edges for the reused a
        True
    """
    _check_args(stage, precision, rankdir)
    if not isinstance(root, Value):
        raise TypeError(f"the root of a picture must be a Value, got {type(root).__name__}")
    if updates is not None and stage != "update":
        raise ValueError(f"updates are drawn with stage='update', not stage={stage!r}")
    if stage == "update" and updates is None:
        raise ValueError("stage='update' needs updates={param: (old, grad, lr, new)} or the "
                         "records of an optimiser step")
    if labels not in ("html", "record"):
        raise ValueError(f"labels must be 'html' or 'record', got {labels!r}")
    if color_grad and stage == "forward":
        raise ValueError("color_grad shades gradients; stage='forward' shows none")
    graph = analyse(root, params)
    target = None
    if highlight is not None:
        if isinstance(highlight, str):
            target = find_labelled(graph, highlight)
        elif isinstance(highlight, Value):
            if highlight not in graph.index:
                raise ValueError(f"highlight: {highlight!r} is not in the graph of the root")
            target = highlight
        else:
            raise TypeError(f"highlight must be a Value or a label, got "
                            f"{type(highlight).__name__}")
    upd = coerce_updates(graph, updates) if updates is not None else {}
    extra = set(upd) | ({target} if target is not None else set())
    if extra:
        graph = analyse(root, params, extra)
    if grads is None:
        grad_list = [n.grad for n in graph.order]
        if stage != "forward" and root.grad == 0.0 and len(graph.order) > 1:
            warnings.warn("drawing gradients of a graph whose root has grad 0: call "
                          "root.backward() first", stacklevel=2)
    else:
        grad_list = [float(grads.get(n, 0.0)) for n in graph.order]
    return _emit(graph, stage, precision, target, clusters, color_grad, upd, rankdir, title,
                 grad_list, labels)


def _value_label(graph: Graph, i: int, stage: str, p: int, grad: float, upd: dict,
                 grad_bg: str | None, border: str | None) -> str:
    node = graph.order[i]
    kind = graph.kinds[i]
    name = (f"<b>{_h(node.label)}</b>" if node.label
            else f'<font color="#6b7280">{graph.id(node)}</font>')
    attrs = f'border="0" cellborder="{2 if kind == "output" or border else 1}" ' \
            f'cellspacing="0" cellpadding="4" bgcolor="{FILL[kind]}"'
    if border:
        attrs += f' color="{border}"'
    gcell = (f'<td bgcolor="{grad_bg}">' if grad_bg else "<td>")
    if stage == "update" and node in upd:
        old, g, lr, new = upd[node]
        cells = [f"<td>{name}</td>", f"<td>old {fmt_number(old, p)}</td>",
                 f"{gcell}grad {fmt_number(g, p)}</td>"]
        if lr is not None:
            cells.append(f"<td>lr {fmt_number(lr, p)}</td>")
        cells.append(f"<td>new {fmt_number(new, p)}</td>")
        rows = "<tr>" + "".join(cells) + "</tr>"
        if lr is not None and math.isclose(new, old - lr * g, rel_tol=1e-9, abs_tol=1e-12):
            step = (f"{fmt_number(old, p)} - {fmt_number(lr, p)} × "
                    f"({fmt_number(g, p)}) = {fmt_number(new, p)}")
            rows += f'<tr><td colspan="{len(cells)}">{step}</td></tr>'
        return f"<<table {attrs}>{rows}</table>>"
    cells = f"<td>{name}</td><td>data {fmt_number(node.data, p)}</td>"
    if stage != "forward":
        cells += f"{gcell}grad {fmt_number(grad, p)}</td>"
    return f"<<table {attrs}><tr>{cells}</tr></table>>"


def _rec(text: str) -> str:
    """Text for one field of a record label: the record syntax characters escaped."""
    out = []
    for ch in text:
        if ch in '\\{}|<>"':
            out.append("\\")
        out.append(ch)
    return "".join(out).replace("\n", " ")


def _record_node(graph: Graph, i: int, stage: str, p: int, grad: float, upd: dict,
                 grad_bg: str | None, border: str | None, rankdir: str) -> str:
    """A value node as a Graphviz record (for renderers without HTML-like labels)."""
    node = graph.order[i]
    kind = graph.kinds[i]
    name = _rec(node.label) if node.label else graph.id(node)
    across = rankdir in ("LR", "RL")       # in LR records, braces lay fields out in a row
    if stage == "update" and node in upd:
        old, g, lr, new = upd[node]
        cells = [name, f"old {fmt_number(old, p)}", f"grad {fmt_number(g, p)}"]
        if lr is not None:
            cells.append(f"lr {fmt_number(lr, p)}")
        cells.append(f"new {fmt_number(new, p)}")
        step = ""
        if lr is not None and math.isclose(new, old - lr * g, rel_tol=1e-9, abs_tol=1e-12):
            step = (f"{fmt_number(old, p)} - {fmt_number(lr, p)} × ({fmt_number(g, p)}) = "
                    f"{fmt_number(new, p)}")
        row = "{" + "|".join(cells) + "}"
        label = (f"{row}|{step}" if across else f"{{{row}|{step}}}") if step else \
            (row if across else "|".join(cells))
    else:
        cells = [name, f"data {fmt_number(node.data, p)}"]
        if stage != "forward":
            cells.append(f"grad {fmt_number(grad, p)}")
        label = "{" + "|".join(cells) + "}" if across else "|".join(cells)
    fill = grad_bg or FILL[kind]
    # Not _q: the backslashes _rec put in must reach the record parser as they are.
    attrs = f'shape=record, style=filled, fillcolor="{fill}", label="{label}"'
    if border:
        attrs += f', color="{border}", penwidth=2'
    elif kind == "output":
        attrs += ", penwidth=2"
    return f"n{i} [{attrs}];"


def _emit(graph: Graph, stage: str, p: int, target: Value | None, clusters: bool,
          color_grad: bool, upd: dict, rankdir: str, title: str | None,
          grads: list, labels: str = "html") -> str:
    order = graph.order
    caption = [title] if title else []
    on_path = live = frozenset()
    edges: dict = {}
    if target is not None:
        on_path, live, edges, (total, n_live) = highlight_paths(graph, target)
        what = f"d {graph.name(graph.root)} / d {graph.name(target)}"
        if stage != "forward":
            what += f" = {fmt_number(grads[graph.index[target]], p)}"
        caption.append(f"{what}: {n_live} of {total} path{'s' if total != 1 else ''} "
                       f"carry gradient")
    gmax = max((abs(g) for g in grads if math.isfinite(g)), default=0.0) if color_grad else 0.0

    out = ["digraph microgradnet {",
           f'  graph [rankdir={rankdir}, fontname="Helvetica", fontsize=12, nodesep=0.3, '
           f'ranksep=0.35];',
           '  node [fontname="Helvetica", fontsize=11];',
           '  edge [arrowsize=0.6, color="#4b5563"];']
    if caption:
        out.append(f"  label={_q(chr(10).join(caption))};")
        out.append("  labelloc=t;")

    # Node statements, grouped by the scope they were made in.
    groups: dict = {}
    for i, node in enumerate(order):
        border = None
        if target is not None and i in on_path:
            border = LIVE if i in live else DEAD
        elif node in upd:
            border = UPDATED
        grad_bg = _grad_colour(grads[i], gmax) if color_grad else None
        lines = groups.setdefault(node.scope if clusters else (), [])
        if labels == "record":
            lines.append(_record_node(graph, i, stage, p, grads[i], upd, grad_bg, border,
                                      rankdir))
        else:
            label = _value_label(graph, i, stage, p, grads[i], upd, grad_bg, border)
            lines.append(f"n{i} [shape=none, margin=0, label={label}];")
        op = node.primitive
        if op is not None:
            extra = ""
            if border:
                extra = f', color="{border}", penwidth=2'
            tip = f', tooltip={_q(op.formula)}' if op.formula else ""
            lines.append(f'n{i}op [shape=ellipse, style=filled, fillcolor="{OP_FILL}", '
                         f'margin="0.05,0.02", label={_q(op.name)}{tip}{extra}];')
    out.extend(_nest(groups))

    # Edges: each operand to the op (one per operand, duplicates kept), the op to its result.
    index = graph.index
    for i, node in enumerate(order):
        op = node.primitive
        if op is None:
            continue
        ordered = len(node.parents) > 1 and not op.commutative
        for pos, parent in enumerate(node.parents):
            attrs = []
            text = "ab"[pos] if ordered and pos < 2 else (str(pos + 1) if ordered else "")
            if (i, pos) in edges:
                is_live, d = edges[(i, pos)]
                if is_live:
                    attrs.append(f'color="{LIVE}", penwidth=2.5')
                else:
                    attrs.append(f'color="{DEAD}", style=dashed')
                    if d == 0.0:
                        text = (text + " " if text else "") + "×0"
            if text:
                attrs.insert(0, f'label={_q(text)}, fontsize=9, fontcolor="#6b7280"')
            tail = f" [{', '.join(attrs)}]" if attrs else ""
            out.append(f"  n{index[parent]} -> n{i}op{tail};")
        tail = ""
        if i in on_path and target is not None and i != index[target]:
            tail = (f' [color="{LIVE}", penwidth=2.5]' if i in live
                    else f' [color="{DEAD}", style=dashed]')
        out.append(f"  n{i}op -> n{i}{tail};")
    out.append("}")
    return "\n".join(out) + "\n"


def _nest(groups: dict) -> list:
    """Lines for the node statements, the scoped ones inside nested ``cluster`` subgraphs
    (labelled with the scope's name), in order of first appearance; no recursion."""
    # The tree of scopes: every prefix of every scope is a cluster.
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
            lines.append(f'{pad}label={_q(sc[-1])}; style="rounded,dashed"; '
                         f'color="#9ca3af"; fontcolor="#4b5563";')
            stack.append((sc, depth, True))
        lines.extend(pad + line for line in groups.get(sc, ()))
        for child in reversed(children[sc]):
            stack.append((child, depth + 1, False))
    return lines
