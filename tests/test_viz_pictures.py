"""The pictures of S1-3 fit a 1400-px page with text at least 10 px high (measured from the
SVG's own size and font sizes), and the network view shows the engine's numbers where a
textbook figure has them: neurons with pre-activation, activation and gradient, weights with
value and gradient on the edges, the update on the edge."""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from helpers import assert_close
from microgradnet import Value, nn, scope
from microgradnet import functional as F
from microgradnet.catalogue.seed001 import build_s1_3
from microgradnet.viz import backends, render_source, to_dot
from microgradnet.viz.graph import analyse, scene
from microgradnet.viz.network import network_layers

SVG = "{http://www.w3.org/2000/svg}"
PAGE_PX = 1400
MIN_TEXT_PX = 10
PX_PER_PT = 4 / 3            # CSS: 1pt = 4/3 px; Graphviz gives the SVG's size in points
BACKENDS = [
    pytest.param("dot", marks=pytest.mark.skipif(shutil.which("dot") is None,
                                                 reason="no Graphviz dot")),
    pytest.param("pure", marks=pytest.mark.skipif(backends.pure_executable() is None,
                                                  reason="graphviz-pure is not installed"))]


def s1_3():
    net = build_s1_3()
    net["MSE"].backward()
    return net


def page_measure(svg: bytes) -> dict:
    """The SVG drawn at its own size, shrunk to the page if wider: its width in px and the
    height in px of its smallest text inside a node or on an edge."""
    root = ET.fromstring(svg)
    width_pt = float(re.match(r"([\d.]+)pt", root.get("width")).group(1))
    view_w = float(root.get("viewBox").split()[2])
    scale = min(1.0, PAGE_PX / (width_pt * PX_PER_PT))
    sizes = [float(t.get("font-size")) for g in root.iter(f"{SVG}g")
             if g.get("class") in ("node", "edge") for t in g.iter(f"{SVG}text")]
    # user units are points here: the viewBox is as wide as the width in pt
    assert abs(view_w - width_pt) < 1
    return {"width_px": width_pt * PX_PER_PT * scale,
            "natural_px": width_pt * PX_PER_PT,
            "text_px": min(sizes) * PX_PER_PT * scale, "texts": len(sizes)}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("view,stage", [("graph", "backward"), ("network", "backward"),
                                        ("graph", "update"), ("network", "update")])
def test_s1_3_pictures_fit_a_1400_px_page_with_readable_text(backend, view, stage):
    net = s1_3()
    w = net["w21"]
    updates = {w: (w.data, w.grad, 0.1, w.data - 0.1 * w.grad)} if stage == "update" else None
    dot = to_dot(net["MSE"], view=view, stage=stage, highlight="w21", updates=updates)
    m = page_measure(render_source(dot, "svg", backend))
    assert m["texts"] > 30
    assert m["natural_px"] <= PAGE_PX, m        # no shrinking needed at all
    assert m["text_px"] >= MIN_TEXT_PX, m


def test_the_old_op_graph_would_not_have_fitted():
    # The check above can fail: forced left to right, the same graph is wider than the page.
    net = s1_3()
    m = page_measure(render_source(to_dot(net["MSE"], rankdir="LR"), "svg"))
    assert m["natural_px"] > PAGE_PX


# ---- the network view ----------------------------------------------------------------------

def svg_texts(svg: bytes) -> dict:
    """{node or edge title: its text joined}."""
    out = {}
    for g in ET.fromstring(svg).iter(f"{SVG}g"):
        if g.get("class") in ("node", "edge"):
            title = g.find(f"{SVG}title").text
            out[title] = " ".join("".join(t.itertext()).strip() for t in g.iter(f"{SVG}text"))
    return out


def test_network_view_of_s1_3_has_the_textbook_layout():
    net = s1_3()
    sc = scene(net["MSE"])
    inputs, layers, loss = network_layers(sc)
    name = sc.graph.name
    assert [name(sc.graph.order[n.out]) for n in inputs] == ["i1", "i2"]
    assert [layer for layer, _ in layers] == ["layer1", "layer2"]     # relu drawn inside
    hidden = {name(sc.graph.order[n.out]): n for n in layers[0][1]}
    assert set(hidden) == {"h1", "h2"}
    assert name(sc.graph.order[hidden["h1"].activation]) == "h3"
    weights = sorted(name(sc.graph.order[w]) for _, ns in layers for n in ns
                     for _, w, _, _ in n.inputs)
    assert weights == sorted(f"w{j}{k}" for j in range(1, 5) for k in (1, 2))
    root, reads, leaves = loss
    assert [name(sc.graph.order[i]) for i in leaves] == ["t1", "t2"]
    assert len(reads) == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_network_view_shows_the_engines_numbers(backend):
    net = s1_3()
    texts = svg_texts(render_source(to_dot(net["MSE"], view="network"), "svg", backend))
    graph = analyse(net["MSE"])
    nid = {k: f"n{graph.index[net[k]]}" for k in ("i1", "h1", "h2", "o1", "MSE")}
    # A neuron: pre-activation and activation, each with value and gradient, and its bias.
    h1 = texts[nid["h1"]]
    for k in ("h1", "h3", "b1"):
        assert re.search(rf"{k} {net[k].data:.4f} grad {net[k].grad:.4f}", h1), (k, h1)
    assert "relu" in h1
    # An edge: the weight's value and gradient, from input i1 into neuron h1.
    edge = texts[f"{nid['i1']}->{nid['h1']}"]
    assert edge == f"w11 {net['w11'].data:.4f} grad {net['w11'].grad:.4f}"
    assert_close(float(edge.split()[-1]), net["i1"].data * net["h1"].grad, atol=0.5e-4,
                 what="dMSE/dw11 = i1 * dMSE/dh1")
    # The loss node lists the targets it reads.
    assert f"t2 {net['t2'].data:.4f}" in texts[nid["MSE"]]


def test_network_view_update_stage_puts_the_step_on_the_edge():
    net = s1_3()
    w = net["w21"]
    new = w.data - 0.1 * w.grad
    dot = to_dot(net["MSE"], view="network", stage="update", highlight=w,
                 updates={w: (w.data, w.grad, 0.1, new)})
    assert f"<b>w21</b> {w.data:.4f} →  <b>{new:.4f}</b><br/>grad {w.grad:.4f}" in dot
    assert "on a path from w21" in dot
    live = re.findall(r'(n\d+) -> (n\d+) \[label=<<b>(w\d+)</b>[^\]]*color="#7c3aed"', dot)
    assert {wname for _, _, wname in live} == {"w21", "w31", "w32"}


def test_network_view_of_an_mlp_groups_its_neurons_into_layers():
    model = nn.MLP(3, [4, 2])
    x = [Value(1.0, label="x1"), Value(-2.0, label="x2"), Value(0.5, label="x3")]
    loss = F.mse(model(x), [1.0, 0.0])
    loss.backward()
    inputs, layers, loss_part = network_layers(scene(loss))
    assert len(inputs) == 3
    assert [len(ns) for _, ns in layers] == [4, 2]
    assert all(len(n.inputs) == 3 for n in layers[0][1])
    assert all(len(n.inputs) == 4 for n in layers[1][1])
    assert loss_part is not None


def test_network_view_needs_scopes():
    x = Value(2.0, label="x")
    y = x * x
    y.backward()
    with pytest.raises(ValueError, match="view='graph'"):
        to_dot(y, view="network")
    with pytest.raises(ValueError, match="view must be one of"):
        to_dot(y, view="sideways")
    with scope("layer"):
        z = x * Value(3.0, label="w")
    z.backward()
    assert "w</b> 3.0000" in to_dot(z, view="network")


def test_network_view_forward_stage_shows_values_only_and_color_grad_shades():
    net = build_s1_3()
    dot = to_dot(net["MSE"], view="network", stage="forward")
    assert "grad " not in dot and "neuron: value<" in dot
    net["MSE"].backward()
    shaded = to_dot(net["MSE"], view="network", color_grad=True)
    assert "grad &gt; 0" in shaded and "grad &lt; 0" in shaded
    # h2's gradient is 0: its cell stays white; w11's edge keeps its own colour
    assert re.search(r'bgcolor="#ffffff">grad 0.0000', shaded)
