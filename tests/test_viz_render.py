"""Rendered pictures, with the system Graphviz and with graphviz-pure: the SVG parsed as XML
shows every node's label, value and gradient equal to the engine's; PNG without system
Graphviz; formats that need it say how to install it; the ``render`` command."""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from helpers import assert_close
from microgradnet import Value, topological_order
from microgradnet.cli import main
from microgradnet.viz import (GraphvizNotFoundError, draw, render, render_source,
                              resolve_backend, to_dot)
from microgradnet.viz import backends
from microgradnet.viz.graph import analyse
from test_viz_dot import neuron, two_two_two

SVG = "{http://www.w3.org/2000/svg}"
HAS_DOT = shutil.which("dot") is not None
HAS_PURE = backends.pure_executable() is not None
needs_pure = pytest.mark.skipif(not HAS_PURE, reason="graphviz-pure is not installed")
BACKENDS = [pytest.param("dot", marks=pytest.mark.skipif(not HAS_DOT, reason="no Graphviz dot")),
            pytest.param("pure", marks=needs_pure)]
PREC = 4
TOL = 0.5 * 10 ** -PREC + 1e-12     # the rounding of a number printed with PREC decimals


def svg_nodes(svg: bytes | str) -> dict:
    """{node name: [texts]} of every node of a Graphviz SVG."""
    root = ET.fromstring(svg.encode() if isinstance(svg, str) else svg)
    out = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "node":
            continue
        title = g.find(f"{SVG}title").text
        out[title] = ["".join(t.itertext()).replace("\xa0", " ").strip()
                      for t in g.iter(f"{SVG}text")]
    return out


def check_svg_matches_engine(svg, root: Value, grads: bool = True) -> None:
    nodes = svg_nodes(svg)
    graph = analyse(root)
    for i, node in enumerate(graph.order):
        if graph.kinds[i] == "const" and len(graph.consumers[i]) == 1:
            assert f"n{i}" not in nodes        # written into the op that uses it
            continue
        texts = nodes[f"n{i}"]
        if node.label or node.is_leaf:
            name = node.label or f"n{i}"
            assert name in texts, (name, texts)
        data = [t for t in texts if t.startswith("data ")]
        assert len(data) == 1, texts
        assert_close(float(data[0][5:]), node.data, rtol=0, atol=TOL, what=f"{name}.data")
        grad = [t for t in texts if t.startswith("grad ")]
        if grads:
            assert len(grad) == 1, texts
            assert_close(float(grad[0][5:]), node.grad, rtol=0, atol=TOL, what=f"{name}.grad")
        else:
            assert grad == []
        if node.primitive is not None:       # the op heads the node of its result
            head = texts[:next(k for k, t in enumerate(texts) if t.startswith("data "))]
            assert node.primitive.name in " ".join(head), texts


@pytest.mark.parametrize("backend", BACKENDS)
def test_svg_of_the_2_2_2_network_shows_engine_numbers(backend):
    mse, v = two_two_two()
    mse.backward()
    svg = render_source(to_dot(mse, highlight="w21"), "svg", backend)
    check_svg_matches_engine(svg, mse)
    # The S1-3.1 forward values and S1-3.3 gradient, as the seed works them by hand.
    nodes = svg_nodes(svg)
    texts = {t for ts in nodes.values() for t in ts}
    assert {"data 2.0000", "data -0.5000", "data -1.5000", "grad -1.5000"} <= texts
    caption = " ".join("".join(t.itertext()) for t in ET.fromstring(svg).find(f"{SVG}g")
                       .findall(f"{SVG}text"))
    assert "d MSE / d w21 = -1.5000" in caption.replace("\xa0", " ")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stage", ["forward", "backward"])
def test_render_writes_svg_of_a_neuron(tmp_path, backend, stage):
    o = neuron()
    path = render(o, tmp_path / "n.svg", backend=backend, stage=stage)
    check_svg_matches_engine(path.read_bytes(), o, grads=stage == "backward")


def test_render_makes_the_folders_it_writes_into(tmp_path):
    path = render(neuron(), tmp_path / "notes" / "week1" / "n.dot")
    assert path.read_text().startswith("digraph")


@pytest.mark.parametrize("backend", BACKENDS)
def test_reused_operand_has_two_edges_in_the_svg(backend):
    a = Value(2.0, label="a")
    b = a * a
    b.label = "b"
    b.backward()
    root = ET.fromstring(render_source(to_dot(b), "svg", backend))
    titles = [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class") == "edge"]
    assert sorted(titles) == ["n0->n1", "n0->n1"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_update_stage_svg_shows_w21_step(backend):
    mse, v = two_two_two()
    mse.backward()
    w = v["w21"]
    svg = render_source(to_dot(
        mse, stage="update", updates={w: (w.data, w.grad, 0.1, w.data - 0.1 * w.grad)}),
        "svg", backend)
    texts = {t for ts in svg_nodes(svg).values() for t in ts}
    assert {"old 0.5000", "grad -1.5000", "lr 0.1000", "new 0.6500"} <= texts


def test_svg_without_dot_or_graphviz_pure_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(backends, "pure_executable", lambda: None)
    with pytest.raises(GraphvizNotFoundError, match="pip install graphviz-pure.*apt-get"):
        render(neuron(), tmp_path / "o.svg")
    assert render(neuron(), tmp_path / "o.dot").read_text().startswith("digraph")


@needs_pure
def test_png_without_dot_and_pdf_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))          # no `dot` to be found
    assert resolve_backend() == "pure"
    o = neuron()
    assert render(o, tmp_path / "o.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert render(o, tmp_path / "o.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    with pytest.raises(GraphvizNotFoundError, match="pdf needs the Graphviz `dot`.*apt-get"):
        render(o, tmp_path / "o.pdf")
    with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
        render(o, tmp_path / "o.svg", backend="dot")
    check_svg_matches_engine(render(o, tmp_path / "o.svg").read_bytes(), o)


@needs_pure
def test_render_command_writes_png_with_no_system_graphviz(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("MICROGRADNET_GRAPHVIZ", raising=False)
    src = tmp_path / "my_graph.py"
    src.write_text(USER_FILE_ROOT)
    out = tmp_path / "graph.png"
    assert main(["render", "--file", str(src), "-o", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.skipif(not HAS_DOT, reason="no Graphviz dot")
def test_png_and_pdf_with_dot(tmp_path):
    o = neuron()
    assert render(o, tmp_path / "o.png", backend="dot").read_bytes()[:8] == \
        b"\x89PNG\r\n\x1a\n"
    assert render(o, tmp_path / "o.pdf", backend="dot").read_bytes()[:5] == b"%PDF-"


def test_backend_is_chosen_by_argument_or_environment(monkeypatch):
    monkeypatch.setenv("MICROGRADNET_GRAPHVIZ", "pure")
    assert resolve_backend() == "pure"
    assert resolve_backend("auto") == ("dot" if HAS_DOT else "pure")
    monkeypatch.setenv("MICROGRADNET_GRAPHVIZ", "nonsense")
    with pytest.raises(ValueError, match="MICROGRADNET_GRAPHVIZ"):
        resolve_backend()
    with pytest.raises(ValueError, match="cannot write '.bmp'"):
        render(neuron(), "x.bmp", backend="pure")
    with pytest.raises(ValueError, match="backend must be one of"):
        render_source("digraph { a }", "svg", "wasm")


@needs_pure
def test_draw_shows_inline_svg_without_system_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    o = neuron()
    pic = draw(o, stage="backward")
    assert pic.source.startswith("digraph microgradnet {")
    bundle = pic._repr_mimebundle_()          # what Jupyter calls to show it
    check_svg_matches_engine(bundle["image/svg+xml"], o)
    check_svg_matches_engine(pic._repr_svg_(), o)


@needs_pure
def test_graphviz_pure_draws_the_html_labels_dot_draws():
    # The same texts in every node, and the same node and edge ids, with either program.
    mse, v = two_two_two()
    mse.backward()
    dot_text = to_dot(mse, highlight="w21", color_grad=True)
    pure = render_source(dot_text, "svg", "pure")
    assert svg_nodes(pure) and "<b>" not in pure.decode()
    if HAS_DOT:
        assert svg_nodes(pure) == svg_nodes(render_source(dot_text, "svg", "dot"))
    bold = ET.fromstring(pure).iter(f"{SVG}text")
    assert any(t.get("font-weight") == "bold" and t.text == "w21" for t in bold)


def test_a_graph_of_thousands_of_nodes_renders():
    # A neuron with 500 inputs summed as a balanced tree: 2000 value nodes, 1000 op nodes.
    terms = [Value(0.01 * i, label=f"x{i}") * Value(1.0 - 0.001 * i, label=f"w{i}")
             for i in range(500)]
    while len(terms) > 1:
        terms = [terms[k] + terms[k + 1] if k + 1 < len(terms) else terms[k]
                 for k in range(0, len(terms), 2)]
    y = terms[0].tanh()
    y.backward()
    order = topological_order(y)
    assert len(order) == 2000
    svg = render_source(to_dot(y), "svg")
    nodes = svg_nodes(svg)
    assert len(nodes) == 2000                 # one node per leaf and per operation
    top = nodes[f"n{len(order) - 1}"]
    assert_close(float(top[1][5:]), y.data, rtol=0, atol=TOL)


# ---- the command line -----------------------------------------------------------------------

USER_FILE_ROOT = """
from microgradnet import Value
x = Value(2.0, label="x"); w = Value(-3.0, label="w")
root = (x * w).tanh(); root.label = "y"
"""
USER_FILE_BUILD = """
from microgradnet import Value
def build():
    a = Value(3.0, label="a"); b = a + a; b.label = "b"; c = b + b; c.label = "c"
    return c
"""


@needs_pure
@pytest.mark.parametrize("text,name", [(USER_FILE_ROOT, "y"), (USER_FILE_BUILD, "c")])
def test_render_command_draws_a_user_file(tmp_path, capsys, text, name):
    src = tmp_path / "user.py"
    src.write_text(text)
    out = tmp_path / "g.svg"
    assert main(["render", "--file", str(src), "-o", str(out), "--backend", "pure"]) == 0
    nodes = svg_nodes(out.read_bytes())
    assert any(name in texts for texts in nodes.values())
    assert "wrote" in capsys.readouterr().out
    if name == "c":     # the diamond: a.grad == 4
        assert "grad 4.0000" in nodes["n0"]


def test_render_command_errors(tmp_path, capsys):
    bad = tmp_path / "bad.py"
    bad.write_text("x = 1\n")
    assert main(["render", "--file", str(bad), "-o", str(tmp_path / "g.svg")]) == 2
    assert "`root`" in capsys.readouterr().err
    assert main(["render", "-o", str(tmp_path / "g.svg")]) == 2
    assert main(["render", "NO-SUCH-ID", "-o", str(tmp_path / "g.svg")]) == 2
    assert "no worked example" in capsys.readouterr().err
    good = tmp_path / "good.py"
    good.write_text(USER_FILE_ROOT)
    assert main(["render", "--file", str(good), "-o", str(tmp_path / "g.svg"), "--stage",
                 "update"]) == 2
    assert "--lr" in capsys.readouterr().err


@pytest.mark.parametrize("text,what", [("x = 1 / 0\n", "ZeroDivisionError"),
                                        ("def build(:\n", "SyntaxError"),
                                        ("def build():\n    return undefined_name\n",
                                         "NameError")])
def test_render_command_reports_a_user_file_that_fails_with_its_line(tmp_path, capsys, text,
                                                                     what):
    src = tmp_path / "broken.py"
    src.write_text(text)
    assert main(["render", "--file", str(src), "-o", str(tmp_path / "g.svg")]) == 2
    err = capsys.readouterr().err
    assert "broken.py" in err and what in err
    assert "line " + str(text.count("\n")) in err
    assert "Traceback" not in err


def test_render_command_reads_ids_as_show_does(tmp_path, capsys):
    out = tmp_path / "g.dot"
    assert main(["render", "s1-3.3", "-o", str(out)]) == 0
    assert "w21" in out.read_text()
    assert main(["render", "S1-3", "-o", str(out)]) == 2
    assert "S1-3.1, S1-3.2, S1-3.3" in capsys.readouterr().err


def _all_example_ids():  # every example; those without a graph are checked to say so
    from microgradnet.catalogue import EXAMPLES
    return sorted(EXAMPLES)


@pytest.mark.parametrize("example_id", _all_example_ids())
def test_render_command_writes_dot_for_every_worked_example_or_says_it_has_no_graph(
        tmp_path, capsys, example_id):
    from microgradnet.catalogue import EXAMPLES
    out = tmp_path / "g.dot"
    code = main(["render", example_id, "-o", str(out)])
    if isinstance(EXAMPLES[example_id].run().graph, Value):
        assert code == 0
        assert out.read_text().startswith("digraph microgradnet {")
    else:  # a closed-form or table claim: one line saying so, nothing written
        assert code == 2 and not out.exists()
        assert f"{example_id} has no graph to draw" in capsys.readouterr().err


@needs_pure
@pytest.mark.parametrize("example_id", ["S1-3.1", "S1-3.3"])
def test_render_command_draws_the_seed_001_network(tmp_path, example_id):
    from microgradnet.catalogue import EXAMPLES
    if example_id not in EXAMPLES:
        pytest.skip(f"{example_id} is not in the catalogue yet")
    out = tmp_path / "g.svg"
    args = ["render", example_id, "-o", str(out), "--highlight", "w21", "--backend", "pure"]
    if example_id == "S1-3.3":
        args += ["--stage", "update", "--lr", "0.1"]
    assert main(args) == 0
    texts = {t for ts in svg_nodes(out.read_bytes()).values() for t in ts}
    # Each number comes from the engine on our own copy of the network.
    mse, v = two_two_two()
    mse.backward()
    assert f"data {v['o2'].data:.4f}" in texts
    assert f"grad {v['w21'].grad:.4f}" in texts
    if example_id == "S1-3.3":
        assert f"new {v['w21'].data - 0.1 * v['w21'].grad:.4f}" in texts


@pytest.mark.parametrize("backend", BACKENDS)
def test_labels_with_record_and_html_characters_survive_rendering(backend):
    x = Value(1.25, label='w{1|2} <"x"> & \\')
    y = x * 2.0
    y.label = "y"
    y.backward()
    svg = render_source(to_dot(y), "svg", backend)
    assert x.label in svg_nodes(svg)["n0"]


@pytest.mark.parametrize("lr", [[], ["--lr", "0.1"]])
def test_update_stage_draws_the_highlighted_parameters_own_step(tmp_path, lr):
    # S1-3.3 records the step of w21; highlighting w11 must draw w11's, under w11's title.
    out = tmp_path / "g.dot"
    assert main(["render", "S1-3.3", "-o", str(out), "--stage", "update",
                 "--highlight", "w11"] + lr) == 0
    dot = out.read_text()
    mse, v = two_two_two()
    mse.backward()
    w11 = v["w11"]
    assert "d MSE / d w11 = " in dot
    assert f"<b>new {w11.data - 0.1 * w11.grad:.4f}</b>" in dot
    assert dot.count("<td>old ") == 1           # one step drawn, w11's
    assert re.search(r"<b>w11</b></td></tr><tr><td>old ", dot)


def test_render_command_draws_the_network_view(tmp_path):
    out = tmp_path / "net.dot"
    assert main(["render", "S1-3.3", "-o", str(out), "--view", "network"]) == 0
    assert "h1</b>" in out.read_text() and "w21</b>" in out.read_text()
    with pytest.raises(SystemExit) as e:         # argparse: one line and exit code 2
        main(["render", "S1-3.3", "-o", str(out), "--view", "sideways"])
    assert e.value.code == 2
