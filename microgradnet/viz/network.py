"""The network view: a graph built from layers drawn as a textbook draws a network, neurons in
layer columns with the weights on the edges.

A layer is the set of op nodes made inside one ``scope`` (every ``nn`` module runs inside one).
Its neurons are its outputs: the nodes of the scope that something outside it uses (or the
root). Walking back from a neuron inside its scope finds what feeds it: a parameter multiplied
with an input is the weight on that input's edge, any other parameter is a bias, and the input
is a neuron of an earlier layer or an input of the network. A scope whose every neuron takes
exactly one neuron of a single other layer and has no parameters (an activation layer such as
``nn.ReLU``) is drawn inside that layer's neurons: pre-activation, activation and gradients in
one node. What follows the last layer outside any scope (a loss) is one node, the root, with
the targets it reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .graph import Scene
from .style import (DEAD, FILL, LIVE, MUTED, OP_FILL, SMALL, UPDATED, caption_label,
                    fmt_number, grad_colour, graph_header, h, paths_sentence, q)

__all__ = ["network_dot", "Neuron", "network_layers"]


@dataclass
class Neuron:
    """One unit of the network view.

    Attributes:
        out: index (graph order) of the node the layer gives out; for an input, the input.
        name: what the picture calls it.
        activation: index of the activation applied to ``out`` (drawn inside), or ``None``.
        inputs: ``(source index, weight index or None, consumer index, operand position)`` per
            edge into the neuron; the consumer and position name the edge in the graph.
        biases: indices of the neuron's other parameters.
    """
    out: int
    name: str
    activation: int | None = None
    inputs: list = field(default_factory=list)
    biases: list = field(default_factory=list)

    @property
    def gives(self) -> int:
        """The node later layers read: the activation if there is one."""
        return self.out if self.activation is None else self.activation


def network_layers(sc: Scene) -> tuple:
    """``(inputs, layers, loss)``: the input neurons, ``[(layer name, [Neuron])]`` in order,
    and for an unscoped root ``(root index, [(source, consumer, position)], [leaf indices])``
    or ``None``.

    Raises:
        ValueError: no node of the graph was made inside a scope.
    """
    g = sc.graph
    order = g.order
    scopes: dict = {}
    for i, node in enumerate(order):
        if node.parents and node.scope:
            scopes.setdefault(node.scope, []).append(i)
    if not scopes:
        raise ValueError("the network view draws graphs built from layers (nodes made inside "
                         "`with scope(...)`, as every nn module does); this graph has none: "
                         "use view='graph'")
    root = len(order) - 1
    outs_of = {name: _outputs(sc, set(members), root) for name, members in scopes.items()}
    layers: list = []
    owner: dict = {}                      # node index -> Neuron that gives it out
    for layer_name, parts in _layers(scopes, outs_of):
        neurons = []
        for part in parts:
            inside = set(scopes[part])
            for k, o in enumerate(outs_of[part]):
                name = order[o].label or (part[-1] if part != layer_name
                                          else f"{part[-1]}[{k + 1}]")
                n = Neuron(o, name)
                _split_activation(sc, n, inside)
                _walk_inputs(sc, n, inside)
                neurons.append(n)
                owner[n.gives] = n
        layers.append([layer_name, neurons])
    layers = _merge_activations(sc, layers, owner)
    gives = {n.gives: n for _, ns in layers for n in ns}
    inputs: dict = {}
    for _, ns in layers:
        for n in ns:
            for src, _, _, _ in n.inputs:
                if src not in gives and src not in inputs:
                    inputs[src] = Neuron(src, g.name(order[src]))
    loss = None
    if order[root].scope == () and order[root].parents:
        loss = _loss(sc, gives)
    return list(inputs.values()), [(name[-1], ns) for name, ns in layers], loss


def _outputs(sc: Scene, inside: set, root: int) -> list:
    """The nodes of a scope that something outside it uses, or the root."""
    return [i for i in sorted(inside) if i == root
            or any(c not in inside for c, _ in sc.graph.consumers[i])]


def _layers(scopes: dict, outs_of: dict) -> list:
    """``[(layer scope, [member scopes])]``: a scope is a layer, except that scopes of one
    output each that share a parent with no nodes of its own (an MLP's ``layer1/neuron1``,
    ``layer1/neuron2``...) make one layer, their parent."""
    by_parent: dict = {}
    for name in scopes:
        by_parent.setdefault(name[:-1], []).append(name)
    merged = {parent for parent, kids in by_parent.items()
              if parent and parent not in scopes and all(len(outs_of[k]) == 1 for k in kids)}
    out: dict = {}
    for name in scopes:
        key = name[:-1] if name[:-1] in merged else name
        out.setdefault(key, []).append(name)
    return list(out.items())


def _split_activation(sc: Scene, neuron: Neuron, inside: set) -> None:
    """A neuron whose output is a one-operand op of a node of its own scope used only there
    (``relu(z)``): draw ``z`` as the pre-activation and the op as the activation."""
    g = sc.graph
    node = g.order[neuron.out]
    if len(node.parents) != 1:
        return
    pre = g.index[node.parents[0]]
    if pre in inside and len(g.consumers[pre]) == 1:
        neuron.activation, neuron.out = neuron.out, pre


def _walk_inputs(sc: Scene, neuron: Neuron, inside: set) -> None:
    """Fill ``neuron.inputs`` and ``biases`` by walking back from its node inside its scope."""
    g = sc.graph
    index = g.index
    seen = {neuron.out}
    stack = [neuron.out]
    weighted: set = set()
    while stack:
        c = stack.pop()
        parents = [index[p] for p in g.order[c].parents]
        params = [j for j in parents if g.kinds[j] == "param"]
        others = [(pos, j) for pos, j in enumerate(parents) if j not in inside
                  and g.kinds[j] != "param"]
        if len(parents) == 2 and len(params) == 1 and len(others) == 1:
            pos, src = others[0]
            neuron.inputs.append((src, params[0], c, pos))
            weighted.add(params[0])
            continue
        for pos, j in enumerate(parents):
            if j in inside:
                if j not in seen:
                    seen.add(j)
                    stack.append(j)
            elif g.kinds[j] == "param":
                if j not in weighted and j not in neuron.biases:
                    neuron.biases.append(j)
            elif g.kinds[j] != "const":
                neuron.inputs.append((j, None, c, pos))
    neuron.inputs.sort(key=lambda t: t[0])
    neuron.biases.sort()


def _merge_activations(sc: Scene, layers: list, owner: dict) -> list:
    """Fold activation layers into the neurons they apply to (see the module's text)."""
    kept: list = []
    for name, neurons in layers:
        sources = [n.inputs[0][0] if len(n.inputs) == 1 and n.inputs[0][1] is None else None
                   for n in neurons]
        found = [owner.get(s) for s in sources]
        targets = [t for t in found if t is not None]
        ok = (len(targets) == len(found) and all(t.activation is None for t in targets)
              and all(n.activation is None for n in neurons)
              and not any(n.biases for n in neurons)
              and len({id(t) for t in targets}) == len(targets)
              and all(len(sc.graph.consumers[t.out]) == 1 for t in targets))
        if not ok:
            kept.append([name, neurons])
            continue
        for n, t in zip(neurons, targets, strict=True):
            t.activation = n.gives
            owner[n.gives] = t
    return kept


def _loss(sc: Scene, gives: dict) -> tuple:
    """The unscoped part after the last layer: which neurons and leaves the root reads."""
    g = sc.graph
    index = g.index
    root = len(g.order) - 1
    reads, leaves = [], []
    seen = {root}
    stack = [root]
    while stack:
        c = stack.pop()
        for pos, p in enumerate(g.order[c].parents):
            j = index[p]
            if j in gives:
                reads.append((j, c, pos))
            elif j in seen:
                continue
            elif p.parents and p.scope == ():
                seen.add(j)
                stack.append(j)
            elif not p.parents and g.kinds[j] != "const":
                seen.add(j)
                leaves.append(j)
    return root, sorted(reads), sorted(leaves)


# ---- DOT ---------------------------------------------------------------------------------

def _state(sc: Scene, indices) -> str | None:
    """LIVE if one of the nodes is on a live path from the target, DEAD if only on dead ones."""
    if sc.target is None:
        return None
    idx = [i for i in indices if i is not None]
    if any(i in sc.live for i in idx):
        return LIVE
    if any(i in sc.on_path for i in idx):
        return DEAD
    return None


def _value_row(sc: Scene, i: int, name: str, gmax: float, bg: str | None = None) -> str:
    """One row: the name and data of node ``i``, and its gradient (or its update)."""
    g = sc.graph
    node = g.order[i]
    p = sc.precision
    style = f' bgcolor="{bg}"' if bg else ""
    if sc.stage == "update" and node in sc.updates:
        old, gr, lr, new = sc.updates[node]
        return (f'<tr><td align="left"{style}><b>{h(name)}</b></td>'
                f'<td align="right"{style}>{fmt_number(old, p)} →  <b>{fmt_number(new, p)}'
                f'</b></td><td align="right"{style}>grad {fmt_number(gr, p)}</td></tr>')
    cells = (f'<tr><td align="left"{style}><b>{h(name)}</b></td>'
             f'<td align="right"{style}>{fmt_number(node.data, p)}</td>')
    if sc.stage != "forward":
        shade = f' bgcolor="{grad_colour(sc.grads[i], gmax)}"' if gmax else style
        cells += f'<td align="right"{shade}>grad {fmt_number(sc.grads[i], p)}</td>'
    return cells + "</tr>"


def _neuron_label(sc: Scene, n: Neuron, kind: str, gmax: float, loss_leaves=()) -> str:
    g = sc.graph
    width = 3 if sc.stage != "forward" else 2
    rows = []
    act = g.order[n.activation] if n.activation is not None else None
    if act is not None:
        pre = g.order[n.out]
        if pre.label and act.label:
            head = (f"<b>{h(pre.label)}</b>"
                    f' <font color="{MUTED}">→  {h(act.primitive.name)} →  </font>'
                    f"<b>{h(act.label)}</b>")
        else:
            head = f"<b>{h(n.name)}</b>"
        rows.append(f'<tr><td colspan="{width}" bgcolor="{OP_FILL}">{head}</td></tr>')
        rows.append(_value_row(sc, n.out, pre.label or "net", gmax))
        rows.append(_value_row(sc, n.gives, act.label or act.primitive.name, gmax))
    else:
        rows.append(_value_row(sc, n.out, n.name, gmax,
                               FILL["output"] if kind == "output" else None))
    for b in n.biases:
        rows.append(_value_row(sc, b, g.name(g.order[b]), gmax, FILL["param"]))
    for leaf in loss_leaves:
        rows.append(_value_row(sc, leaf, g.name(g.order[leaf]), gmax, FILL["input"]))
    border = _state(sc, [n.out, n.activation])
    fill = FILL[kind]
    attrs = (f'border="{2 if border or kind == "output" else 1}" cellborder="0" '
             f'cellspacing="0" cellpadding="3" bgcolor="{fill}" style="rounded"')
    if border:
        attrs += f' color="{border}"'
    return f"<<table {attrs}>{''.join(rows)}</table>>"


def _edge(sc: Scene, src_id: str, dst_id: str, w: int | None, c: int, pos: int,
          gmax: float) -> str:
    g = sc.graph
    p = sc.precision
    attrs = []
    if w is not None:
        node = g.order[w]
        name = h(g.name(node))
        if sc.stage == "update" and node in sc.updates:
            old, gr, _, new = sc.updates[node]
            text = (f"<b>{name}</b> {fmt_number(old, p)} →  <b>{fmt_number(new, p)}</b>"
                    f"<br/>grad {fmt_number(gr, p)}")
        else:
            text = f"<b>{name}</b> {fmt_number(node.data, p)}"
            if sc.stage != "forward":
                text += f"<br/>grad {fmt_number(sc.grads[w], p)}"
        colour = UPDATED if node in sc.updates else "#b45309"
        attrs.append(f'label=<{text}>, fontsize={SMALL}, fontcolor="{colour}"')
    state = None
    if sc.target is not None:
        keys = [(c, pos)] + ([(c, 1 - pos)] if w is not None else [])
        hits = [sc.edges[k] for k in keys if k in sc.edges]
        if any(live for live, _ in hits):
            state = LIVE
        elif hits:
            state = DEAD
    if state == LIVE:
        attrs.append(f'color="{LIVE}", penwidth=2.5')
    elif state == DEAD:
        attrs.append(f'color="{DEAD}", style=dashed')
    tail = f" [{', '.join(attrs)}]" if attrs else ""
    return f"  {src_id} -> {dst_id}{tail};"


def network_dot(sc: Scene, clusters: bool = True, color_grad: bool = False,
                legend: bool = True, rankdir: str = "LR") -> str:
    """The DOT text of the network view of ``sc`` (arguments as in
    :func:`microgradnet.viz.to_dot`)."""
    g = sc.graph
    inputs, layers, loss = network_layers(sc)
    finite = [abs(x) for x in sc.grads if x == x and abs(x) != float("inf")]
    gmax = max(finite, default=0.0) if color_grad else 0.0
    out = graph_header(rankdir, nodesep=0.35, ranksep=0.9)
    lines = [sc.title] if sc.title else []
    if sc.target is not None:
        what = f"d {g.name(g.root)} / d {g.name(sc.target)}"
        if sc.stage != "forward":
            what += f" = {fmt_number(sc.grads[g.index[sc.target]], sc.precision)}"
        lines.append(f"{what}: {paths_sentence(sc.counts[1], sc.counts[0])}")
    entries: list[tuple[str | None, str, str, bool]] = []
    if legend:
        shown = "value" if sc.stage == "forward" else "value, grad"
        entries = [(FILL["input"], "input", "#6b7280", False),
                   (FILL["intermediate"], f"neuron: {shown}", "#6b7280", False),
                   (FILL["param"], "bias; weights on the edges", "#6b7280", False),
                   (FILL["output"], "output", "#6b7280", False)]
        if sc.target is not None:
            entries.append(("#ffffff", f"on a path from {g.name(sc.target)}", LIVE, False))
            if sc.live != sc.on_path:
                entries.append(("#ffffff", "path with gradient 0", DEAD, True))
        if sc.updates:
            entries.append((None, "update: old → new = old - lr × grad", "", False))
        if color_grad:
            entries.append((grad_colour(1.0, 1.0), "grad > 0", "#6b7280", False))
            entries.append((grad_colour(-1.0, 1.0), "grad < 0", "#6b7280", False))
    if lines or entries:
        out.append(f"  label={caption_label(lines, entries)};")
        out.append("  labelloc=t;")
    node_id = {}
    columns = [("inputs", inputs)] + layers
    for k, (name, neurons) in enumerate(columns):
        pad = "    " if clusters else "  "
        if clusters:
            out.append(f"  subgraph cluster_{k} {{")
            out.append(f'{pad}label={q(name)}; style="rounded,dashed"; color="#9ca3af"; '
                       f'fontcolor="{MUTED}";')
        ids = []
        for n in neurons:
            nid = f"n{n.out}"
            node_id[n.gives] = nid
            kind = g.kinds[n.gives] if k == 0 else \
                ("output" if n.gives == len(g.order) - 1 else "intermediate")
            out.append(f"{pad}{nid} [shape=plain, label={_neuron_label(sc, n, kind, gmax)}];")
            ids.append(nid)
        out.append(f"{pad}{{rank=same; {'; '.join(ids)}}}")
        if clusters:
            out.append("  }")
    if loss is not None:
        root, reads, leaves = loss
        n = Neuron(root, g.name(g.root))
        out.append(f"  n{root} [shape=plain, "
                   f"label={_neuron_label(sc, n, 'output', gmax, leaves)}];")
    for _, neurons in layers:
        for n in neurons:
            for src, w, c, pos in n.inputs:
                out.append(_edge(sc, node_id[src], f"n{n.out}", w, c, pos, gmax))
    if loss is not None:
        root, reads, _ = loss
        for src, c, pos in reads:
            out.append(_edge(sc, node_id[src], f"n{root}", None, c, pos, gmax))
    out.append("}")
    return "\n".join(out) + "\n"
