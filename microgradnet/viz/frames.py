"""The backward pass as frames: one per node, in the order the engine visits them, each with the
line of arithmetic that gave the node its gradient; and a self-contained HTML page that steps
through them (previous, next, play), for a course site.

A node's gradient is final when the engine reaches it (nodes are visited in reverse graph
order), and it is the sum over the nodes that use it of their gradient times the local
derivative: ``h3.grad = o1.grad × do1/dh3 + o2.grad × do2/dh3``.
"""
from __future__ import annotations

import html
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..engine import Value
from .dot import to_dot
from .graph import Graph, analyse, replay_backward
from .picture import Picture
from .style import FONT_SIZE, LIVE, drawable, fmt_number

__all__ = ["Frame", "frames", "frames_html", "frames_page", "FramesPage"]


@dataclass(frozen=True)
class Frame:
    """One step of the backward pass.

    Attributes:
        step: 0 for the root, then one more per node visited.
        node: the node visited.
        node_id: its id in the picture (``n5``).
        name: its label, or its id when it has none.
        grad: its gradient, d root / d node (final from this step on).
        terms: the contributions that were added up, one per edge to a node that uses it.
        formula: the sum in symbols, ``h3.grad = o1.grad × do1/dh3 + ...``.
        line: the same sum in numbers, ``h3.grad = (-1.0000) × 0.5000 + ... = 1.5000``.
        sources: ids of the nodes that use it, whose edges brought the terms.
    """
    step: int
    node: Value
    node_id: str
    name: str
    grad: float
    terms: tuple
    formula: str
    line: str
    sources: tuple


def _paren(s: str) -> str:
    return f"({s})" if s.startswith("-") else s


def _frames(graph: Graph, precision: int, seed: float = 1.0) -> list:
    grads, terms = replay_backward(graph, seed)
    order = graph.order
    out = []
    for step, i in enumerate(range(len(order) - 1, -1, -1)):
        node = order[i]
        name = graph.name(node)
        ts: tuple = tuple(terms[i])
        g = grads[i]
        if node is graph.root:
            formula = f"{name}.grad = 1 (the seed: d{name}/d{name})"
            line = f"{name}.grad = {fmt_number(g, precision)}"
        elif not ts:
            formula = f"{name}.grad = 0 (no gradient reaches the nodes that use it)"
            line = f"{name}.grad = {fmt_number(0.0, precision)}"
        else:
            sym = [f"{graph.name(t.out)}.grad × d{graph.name(t.out)}/d{name}" for t in ts]
            num = [f"{_paren(fmt_number(t.grad_out, precision))} × "
                   f"{_paren(fmt_number(t.local, precision))}" for t in ts]
            formula = f"{name}.grad = " + " + ".join(sym)
            line = f"{name}.grad = " + " + ".join(num) + f" = {fmt_number(g, precision)}"
        sources = tuple(dict.fromkeys(graph.id(t.out) for t in ts))
        out.append(Frame(step, node, graph.id(node), name, g, ts, formula, line, sources))
    return out


def frames(root: Value, precision: int = 4,
           params: Iterable[Value] | None = None) -> list:
    """The backward pass from ``root`` as a list of :class:`Frame`, one per node, in the order
    the engine visits them. Reads no ``.grad`` and changes none: the pass is replayed with the
    op table's rules, so the gradients equal those of a first ``root.backward()``.

    Args:
        root: the output Value.
        precision: decimals in the frames' arithmetic lines.
        params: the parameter leaves (only their colour in a picture depends on it).

    Returns:
        The frames, the root's first.

    Example:
        >>> from microgradnet import Value
        >>> a = Value(3.0, label="a"); b = Value(4.0, label="b"); c = a * b; c.label = "c"
        >>> [f.line for f in frames(c, precision=1)][1:]
        ['b.grad = 1.0 × 3.0 = 3.0', 'a.grad = 1.0 × 4.0 = 4.0']
    """
    if not isinstance(root, Value):
        raise TypeError(f"frames need a Value, got {type(root).__name__}")
    return _frames(analyse(root, params), precision)


class FramesPage:
    """The self-contained HTML page of the backward pass; ``.html`` is its text, ``.save()``
    writes it, and a Jupyter notebook shows it inline, running, in a frame of its own."""

    def __init__(self, html_text: str, height_px: int) -> None:
        self.html = html_text
        self.height_px = height_px

    def __repr__(self) -> str:
        return f"FramesPage({len(self.html)} characters)"

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path``: whole, or not at all (it is written beside it under
        another name, then renamed over it, so a failure leaves no partial page)."""
        path = Path(path)
        data = self.html.encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        # created as open() creates a file (mode 0o666 less the umask), never over another one
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def _repr_html_(self) -> str:
        # An iframe keeps the page's script, styles and element ids apart from the notebook's.
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width: 100%; height: {self.height_px}px; border: 1px solid #e5e7eb" '
                f'title="backward pass"></iframe>')


def frames_page(root: Value, precision: int = 4, title: str | None = None,
                interval_ms: int = 1000, clusters: bool = True,
                params: Iterable[Value] | None = None, backend: str | None = None,
                height_px: int = 760) -> FramesPage:
    """The page of :func:`frames_html` as a :class:`FramesPage` (shown inline in Jupyter).

    Args:
        root, precision, title, interval_ms, clusters, params, backend: as in
            :func:`frames_html`.
        height_px: the height of the frame a notebook shows it in.
    """
    if not isinstance(root, Value):
        raise TypeError(f"frames_html needs a Value, got {type(root).__name__}")
    if isinstance(interval_ms, bool) or not isinstance(interval_ms, int) or interval_ms <= 0:
        raise ValueError(f"interval_ms must be a positive int, got {interval_ms!r}")
    graph = analyse(root, params)
    fr = _frames(graph, precision)
    final = {f.node: f.grad for f in fr}
    dot = to_dot(root, stage="backward", precision=precision, clusters=clusters,
                 params=graph.params, grads=final, ids=True)
    svg = Picture(dot, backend).svg()
    # The page's text is drawn as the picture's is: a character no page can hold (a lone
    # surrogate) as U+FFFD.
    title = drawable(title or f"Backward pass of {graph.name(root)}")
    data = {
        "frames": [{"id": f.node_id, "name": drawable(f.name),
                    "grad": fmt_number(f.grad, precision), "exact": repr(f.grad),
                    "formula": drawable(f.formula), "line": drawable(f.line),
                    "sources": list(f.sources)} for f in fr],
        "interval": interval_ms,
        # The zoom below which the picture's text would be smaller than 10 px.
        "readable": 10 / (FONT_SIZE * 4 / 3),
    }
    return FramesPage(_fill(_PAGE, TITLE=html.escape(title), SVG=svg, DATA=_json_for_html(data),
                            LIVE=LIVE), height_px)


def _json_for_html(data) -> str:
    """JSON that can stand inside a ``<script type="application/json">`` block whatever its
    strings hold: no ``<``, ``>`` or ``&`` (so no ``</script>`` or ``<!--``), and the line
    separators JavaScript once read as line ends, all written as ``\\u`` escapes."""
    text = json.dumps(data, ensure_ascii=False)
    for c in "<>&\u2028\u2029":
        text = text.replace(c, f"\\u{ord(c):04x}")
    return text


def _fill(template: str, **values: str) -> str:
    """``template`` with each ``%NAME%`` replaced by ``values[NAME]``, in one pass: a value
    that itself holds ``%DATA%`` (a hostile label) is inserted as it is, never filled again."""
    return re.sub(r"%([A-Z]+)%", lambda m: values[m.group(1)], template)


def frames_html(root: Value, path: str | os.PathLike, precision: int = 4,
                title: str | None = None, interval_ms: int = 1000, clusters: bool = True,
                params: Iterable[Value] | None = None, backend: str | None = None) -> Path:
    """Write one self-contained HTML page (no outside files, no network) that steps through
    the backward pass: the picture of the graph, the current node outlined, the nodes that use
    it (whose edges bring its gradient) in amber, and the line of arithmetic; buttons Previous,
    Play/Pause, Next, a slider, the arrow keys and space bar; zoom (buttons, Ctrl+wheel),
    pan (drag), fit to width, and the view following the current node.

    Args:
        root: the output Value.
        path: the ``.html`` file to write.
        precision: decimals shown.
        title: the page's heading (by default, "Backward pass of <root>").
        interval_ms: time between frames when playing.
        clusters: group scoped nodes in boxes.
        params: the parameter leaves (coloured amber).
        backend: ``"auto"``, ``"dot"`` or ``"pure"`` for the SVG.

    Returns:
        The path written.
    """
    return frames_page(root, precision, title, interval_ms, clusters, params,
                       backend).save(path)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%TITLE%</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1em 1.5em; color: #111827; }
h1 { font-size: 1.3em; margin: 0 0 0.4em 0; }
.bar { display: flex; gap: 0.5em; align-items: center; margin-bottom: 0.5em; flex-wrap: wrap; }
.bar button { font-size: 1em; padding: 0.25em 0.8em; cursor: pointer; }
#counter, #zoomlevel { font-variant-numeric: tabular-nums; min-width: 5em; }
#slider { flex: 1; max-width: 30em; }
#explain { background: #f9fafb; border: 1px solid #e5e7eb; border-radius: 6px;
           padding: 0.5em 0.9em; margin-bottom: 0.5em; min-height: 2.6em; }
#formula { color: #4b5563; }
#line { font-family: Menlo, Consolas, monospace; font-size: 1.05em; margin-top: 0.3em; }
#graph { overflow: auto; height: calc(100vh - 15em); min-height: 20em;
         border: 1px solid #e5e7eb; border-radius: 6px; cursor: grab; }
#graph.dragging { cursor: grabbing; user-select: none; }
#graph svg { display: block; }
.note { color: #6b7280; font-size: 0.9em; margin: 0.4em 0 0 0; }
g.node.current polygon, g.node.current ellipse, g.node.current path {
  stroke: %LIVE%; stroke-width: 3px; }
g.node.source polygon, g.node.source ellipse, g.node.source path {
  stroke: #f59e0b; stroke-width: 3px; }
g.edge.flow path { stroke: %LIVE%; stroke-width: 2.5px; }
g.edge.flow polygon { stroke: %LIVE%; fill: %LIVE%; }
text.pending { fill: #9ca3af; }
</style>
</head>
<body>
<h1>%TITLE%</h1>
<div class="bar" id="controls">
  <button id="prev" type="button" title="previous frame (left arrow)">&#9664; Previous</button>
  <button id="play" type="button" title="play or pause (space)">&#9654; Play</button>
  <button id="next" type="button" title="next frame (right arrow)">Next &#9654;</button>
  <input id="slider" type="range" min="0" value="0" aria-label="frame">
  <span id="counter"></span>
  <span style="flex: 0 0 1em"></span>
  <button id="zoomout" type="button" title="zoom out (-)">&minus;</button>
  <span id="zoomlevel"></span>
  <button id="zoomin" type="button" title="zoom in (+)">+</button>
  <button id="fit" type="button" title="fit the picture to the width (0)">Fit width</button>
  <label><input id="follow" type="checkbox" checked> follow the current node</label>
</div>
<div id="explain">
  <div id="formula"></div>
  <div id="line"></div>
</div>
<div id="graph">
%SVG%
</div>
<p class="note">Each frame visits one node, in the order of the backward pass (the output
first). Its gradient is the sum, over the nodes that use it, of their gradient times the local
derivative; those nodes are outlined in amber. A gradient shown as ? is not known yet. Drag to
pan, Ctrl+wheel or the buttons to zoom.</p>
<script type="application/json" id="frames-data">%DATA%</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("frames-data").textContent);
const FRAMES = DATA.frames;
const view = document.getElementById("graph");
const svg = view.querySelector("svg");
const nodes = {}, gradText = {}, finalGrad = {}, edges = [];
for (const g of svg.querySelectorAll("g.node")) {
  const t = g.querySelector("title");
  if (!t) continue;
  nodes[t.textContent] = g;
  for (const x of g.querySelectorAll("text")) {
    if (x.textContent.startsWith("grad ")) gradText[t.textContent] = x;
  }
}
for (const g of svg.querySelectorAll("g.edge")) {
  const t = g.querySelector("title");
  if (t) edges.push([t.textContent.replace("&#45;", "-"), g]);
}
for (const f of FRAMES) finalGrad[f.id] = f.grad;
let cur = 0, timer = null;
const $ = (id) => document.getElementById(id);
$("slider").max = FRAMES.length - 1;

// Zoom: the SVG is drawn at `zoom` times its own size (Graphviz gives it in points).
const natural = {w: svg.width.baseVal.value, h: svg.height.baseVal.value};
let zoom = 1;
function fitZoom() { return (view.clientWidth - 2) / natural.w; }
function setZoom(z, keep) {
  const before = keep || {x: view.scrollLeft + view.clientWidth / 2,
                          y: view.scrollTop + view.clientHeight / 2};
  const ratio = z / zoom;
  zoom = Math.max(0.1, Math.min(8, z));
  svg.style.width = (natural.w * zoom) + "px";
  svg.style.height = (natural.h * zoom) + "px";
  view.scrollLeft = before.x * ratio - view.clientWidth / 2;
  view.scrollTop = before.y * ratio - view.clientHeight / 2;
  $("zoomlevel").textContent = Math.round(zoom * 100) + "%";
}
function follow() {
  const g = nodes[FRAMES[cur].id];
  if (!$("follow").checked || !g) return;
  const r = g.getBoundingClientRect(), v = view.getBoundingClientRect();
  if (r.left >= v.left && r.right <= v.right && r.top >= v.top && r.bottom <= v.bottom) return;
  view.scrollLeft += (r.left + r.right) / 2 - (v.left + v.right) / 2;
  view.scrollTop += (r.top + r.bottom) / 2 - (v.top + v.bottom) / 2;
}
// Start at the width of the page, unless that makes the text smaller than 10 px: then at
// the smallest readable zoom, following the current node.
setZoom(Math.max(Math.min(1, fitZoom()), DATA.readable));
$("zoomin").addEventListener("click", () => { setZoom(zoom * 1.25); follow(); });
$("zoomout").addEventListener("click", () => { setZoom(zoom / 1.25); follow(); });
$("fit").addEventListener("click", () => setZoom(fitZoom()));
$("follow").addEventListener("change", follow);
view.addEventListener("wheel", (e) => {
  if (!e.ctrlKey) return;
  e.preventDefault();
  const v = view.getBoundingClientRect();
  setZoom(zoom * (e.deltaY < 0 ? 1.1 : 1 / 1.1),
          {x: view.scrollLeft + e.clientX - v.left, y: view.scrollTop + e.clientY - v.top});
}, {passive: false});
let drag = null;
view.addEventListener("pointerdown", (e) => {
  drag = {x: e.clientX, y: e.clientY, left: view.scrollLeft, top: view.scrollTop};
  view.classList.add("dragging");
});
window.addEventListener("pointermove", (e) => {
  if (!drag) return;
  view.scrollLeft = drag.left - (e.clientX - drag.x);
  view.scrollTop = drag.top - (e.clientY - drag.y);
});
window.addEventListener("pointerup", () => { drag = null; view.classList.remove("dragging"); });

function show(k) {
  cur = Math.max(0, Math.min(FRAMES.length - 1, k));
  const f = FRAMES[cur];
  const done = new Set();
  for (let i = 0; i <= cur; i++) done.add(FRAMES[i].id);
  for (const [id, x] of Object.entries(gradText)) {
    const known = done.has(id);
    x.textContent = "grad " + (known ? finalGrad[id] : "?");
    x.classList.toggle("pending", !known);
  }
  for (const [id, g] of Object.entries(nodes)) {
    g.classList.toggle("current", id === f.id);
    g.classList.toggle("source", f.sources.includes(id));
  }
  const flows = new Set(f.sources.map((s) => f.id + "->" + s));
  for (const [name, g] of edges) g.classList.toggle("flow", flows.has(name));
  $("formula").textContent = f.formula;
  $("line").textContent = f.line;
  $("counter").textContent = (cur + 1) + " / " + FRAMES.length;
  $("slider").value = cur;
  $("prev").disabled = cur === 0;
  $("next").disabled = cur === FRAMES.length - 1 && timer === null;
  document.body.dataset.frame = String(cur);
  follow();
}

function stop() {
  if (timer !== null) clearInterval(timer);
  timer = null;
  $("play").innerHTML = "&#9654; Play";
  show(cur);
}

function play() {
  if (timer !== null) { stop(); return; }
  if (cur === FRAMES.length - 1) show(0);
  $("play").innerHTML = "&#10074;&#10074; Pause";
  timer = setInterval(() => {
    if (cur >= FRAMES.length - 1) { stop(); return; }
    show(cur + 1);
  }, DATA.interval);
}

$("prev").addEventListener("click", () => { stop(); show(cur - 1); });
$("next").addEventListener("click", () => { stop(); show(cur + 1); });
$("play").addEventListener("click", play);
$("slider").addEventListener("input", (e) => { stop(); show(Number(e.target.value)); });
document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT" && e.target.type !== "range") return;
  if (e.key === "ArrowLeft") { stop(); show(cur - 1); }
  else if (e.key === "ArrowRight") { stop(); show(cur + 1); }
  else if (e.key === " ") { e.preventDefault(); play(); }
  else if (e.key === "Home") { stop(); show(0); }
  else if (e.key === "End") { stop(); show(FRAMES.length - 1); }
  else if (e.key === "+" || e.key === "=") { setZoom(zoom * 1.25); follow(); }
  else if (e.key === "-") { setZoom(zoom / 1.25); follow(); }
  else if (e.key === "0") { setZoom(fitZoom()); }
});
show(0);
</script>
</body>
</html>
"""
