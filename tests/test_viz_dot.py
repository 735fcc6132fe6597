"""DOT text of computation graphs: exact output for small graphs, stages, highlight, clusters,
determinism and deep graphs."""
from __future__ import annotations

import math
import re

import pytest

from helpers import assert_close
from microgradnet import Value, scope, topological_order
from microgradnet.viz import fmt_number, to_dot
from microgradnet.viz.graph import analyse, highlight_paths

HEAD = """digraph microgradnet {{
  graph [rankdir={rankdir}, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=0.3];
  node [fontname="Helvetica", fontsize=11];
  edge [fontname="Helvetica", fontsize=10, arrowsize=0.6, color="#4b5563"];
"""
INPUT, PARAM, MID, OUT, OPHEAD = "#dbeafe", "#fde68a", "#ffffff", "#bbf7d0", "#e5e7eb"


def node_line(i, head, data, grad, fill, border=1, head_bg=None, pad="  "):
    """A compact node: a header row, then data and (unless None) grad, one row each."""
    table = (f'<table border="0" cellborder="{border}" cellspacing="0" cellpadding="3" '
             f'bgcolor="{fill}">')
    hb = f' bgcolor="{head_bg}"' if head_bg else ""
    rows = f"<tr><td{hb}>{head}</td></tr><tr><td>data {data}</td></tr>"
    if grad is not None:
        rows += f"<tr><td>grad {grad}</td></tr>"
    return f"{pad}n{i} [shape=plain, label=<{table}{rows}</table>>];\n"


def op_head(op, label=None):
    mark = f'<font color="#4b5563">{op}</font>'
    return f"<b>{label}</b>  {mark}" if label else mark


def test_a_plus_a_has_two_edges_and_exact_dot():
    a = Value(2.0, label="a")
    b = a + a
    b.label = "b"
    b.backward()
    expected = (HEAD.format(rankdir="LR")
                + node_line(0, "<b>a</b>", "2.0000", "2.0000", INPUT)
                + node_line(1, op_head("+", "b"), "4.0000", "1.0000", OUT, border=2,
                            head_bg=OUT)
                + "  n0 -> n1;\n  n0 -> n1;\n}\n")
    assert to_dot(b, legend=False) == expected


def test_diamond_exact_dot_shows_a_grad_4():
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    c = b + b
    c.label = "c"
    c.backward()
    expected = (HEAD.format(rankdir="LR")
                + node_line(0, "<b>a</b>", "3.0000", "4.0000", INPUT)
                + node_line(1, op_head("+", "b"), "6.0000", "2.0000", MID, head_bg=OPHEAD)
                + node_line(2, op_head("+", "c"), "12.0000", "1.0000", OUT, border=2,
                            head_bg=OUT)
                + "  n0 -> n1;\n  n0 -> n1;\n  n1 -> n2;\n  n1 -> n2;\n}\n")
    assert to_dot(c, legend=False) == expected


def test_legend_names_the_kinds_present_and_the_marks_used():
    x, w = Value(5.0, label="x"), Value(2.0, label="w")
    y = (x - w) * 0.5
    y.label = "y"
    y.backward()
    dot = to_dot(y, highlight=w, color_grad=True)
    legend = re.search(r"label=<<table border=\"0\" cellspacing=\"2\".*>>;", dot).group(0)
    for text in ("output", "parameter", "input", "operation: result, gradient",
                 "on a path from w", "grad &gt; 0", "grad &lt; 0",
                 "a, b: first and second operand"):
        assert f">{text}</td>" in legend, text
    assert ">constant</td>" not in legend         # the 0.5 is written into its op
    assert "  label=<" not in to_dot(y, legend=False)


def neuron():
    """The tanh neuron of micrograd's README: o = tanh(x1 w1 + x2 w2 + b), ops in a scope."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    with scope("neuron"):
        x1w1 = x1 * w1
        x1w1.label = "x1*w1"
        x2w2 = x2 * w2
        x2w2.label = "x2*w2"
        s = x1w1 + x2w2
        s.label = "x1*w1 + x2*w2"
        n = s + b
        n.label = "n"
        o = n.tanh()
        o.label = "o"
    o.backward()
    return o


def test_neuron_exact_dot_with_a_cluster():
    o = neuron()
    # By hand: n = -6 + 0 + 6.8814 = 0.8814, o = tanh(n) = 1/sqrt(2), do/dn = 1 - o^2 = 0.5;
    # x1.grad = w1 * 0.5, w1.grad = x1 * 0.5, x2.grad = w2 * 0.5, w2.grad = x2 * 0.5.
    # The parameters sit in the box of the scope that uses them; the inputs stay outside.
    pad = "    "
    expected = (HEAD.format(rankdir="LR")
                + node_line(0, "<b>x1</b>", "2.0000", "-1.5000", INPUT)
                + node_line(3, "<b>x2</b>", "0.0000", "0.5000", INPUT)
                + "  subgraph cluster_0 {\n"
                + f'{pad}label="neuron"; style="rounded,dashed"; color="#9ca3af"; '
                  'fontcolor="#4b5563";\n'
                + node_line(1, "<b>w1</b>", "-3.0000", "1.0000", PARAM, pad=pad)
                + node_line(2, op_head("*", "x1*w1"), "-6.0000", "0.5000", MID, pad=pad,
                            head_bg=OPHEAD)
                + node_line(4, "<b>w2</b>", "1.0000", "0.0000", PARAM, pad=pad)
                + node_line(5, op_head("*", "x2*w2"), "0.0000", "0.5000", MID, pad=pad,
                            head_bg=OPHEAD)
                + node_line(6, op_head("+", "x1*w1 + x2*w2"), "-6.0000", "0.5000", MID,
                            pad=pad, head_bg=OPHEAD)
                + node_line(7, "<b>b</b>", "6.8814", "0.5000", PARAM, pad=pad)
                + node_line(8, op_head("+", "n"), "0.8814", "0.5000", MID, pad=pad,
                            head_bg=OPHEAD)
                + node_line(9, op_head("tanh", "o"), "0.7071", "1.0000", OUT, border=2,
                            pad=pad, head_bg=OUT)
                + "  }\n"
                + "  n0 -> n2;\n  n1 -> n2;\n  n3 -> n5;\n  n4 -> n5;\n"
                + "  n2 -> n6;\n  n5 -> n6;\n  n6 -> n8;\n  n7 -> n8;\n  n8 -> n9;\n}\n")
    assert to_dot(o, legend=False) == expected


def test_forward_stage_shows_no_gradient_and_clusters_can_be_off():
    o = neuron()
    dot = to_dot(o, stage="forward", clusters=False)
    assert ">grad " not in dot
    assert "subgraph" not in dot
    assert node_line(9, op_head("tanh", "o"), "0.7071", None, OUT, border=2,
                     head_bg=OUT) in dot


def test_same_graph_gives_same_dot_and_ids_follow_graph_order():
    first, second = to_dot(neuron()), to_dot(neuron())
    assert first == second
    o = neuron()
    order = topological_order(o)
    ids = re.findall(r"^\s*(n\d+) \[", to_dot(o), flags=re.M)
    assert sorted(ids, key=lambda s: int(s[1:])) == [f"n{i}" for i in range(len(order))]
    assert "id(" not in to_dot(o)


def test_non_commutative_operands_are_labelled_a_and_b():
    x, y = Value(5.0, label="x"), Value(2.0, label="y")
    d = x - y
    d.backward()
    dot = to_dot(d)
    assert 'n0 -> n2 [label="a", fontsize=10, fontcolor="#4b5563"];' in dot
    assert 'n1 -> n2 [label="b", fontsize=10, fontcolor="#4b5563"];' in dot
    assert '<font color="#4b5563">a - b</font>' in dot      # the header says what a, b are


def test_a_constant_used_once_is_written_into_its_op_and_shared_ones_are_nodes():
    x = Value(1.5, label="x")
    y = 2 * x
    y.label = "y"
    y.backward()
    dot = to_dot(y, legend=False)
    assert "n0 [" not in dot and "n0 -> " not in dot           # 2 is inside the op
    assert op_head("2*a", "y") in dot and "n1 -> n2;" in dot
    c = Value(3.0)                                            # one constant, used twice
    z = (c * x) + (x - c)
    z.backward()
    dot = to_dot(z, legend=False)
    i = topological_order(z).index(c)
    assert f'n{i} [shape=plain, label=<<table border="0" cellborder="1" cellspacing="0" ' \
           f'cellpadding="3" bgcolor="#f3f4f6"><tr><td>n{i}</td></tr>' in dot


def test_unlabelled_results_show_the_op_and_no_id():
    x = Value(1.5, label="x")
    y = (x * x).tanh()
    y.backward()
    dot = to_dot(y, legend=False)
    assert "<td>n1</td>" not in dot and ">n1<" not in dot
    assert f'<td bgcolor="{OPHEAD}">{op_head("*")}</td>' in dot


def test_labels_are_escaped():
    x = Value(1.0, label='<w&"b>')
    y = x * 3
    y.label = "y"
    y.backward()
    dot = to_dot(y)
    assert "<b>&lt;w&amp;&quot;b&gt;</b>" in dot
    assert op_head("a*3", "y") in dot


def test_precision_and_number_format():
    x = Value(1.0 / 3.0, label="x")
    y = x * 1.0
    y.backward()
    assert "data 0.333333" in to_dot(y, precision=6)
    assert "data 0.33<" in to_dot(y, precision=2)
    assert fmt_number(-0.00001, 2) == "-1.00e-05"
    assert fmt_number(-0.004, 2) == "-4.00e-03"     # would round to -0.00
    assert fmt_number(-0.006, 2) == "-0.01"
    assert fmt_number(-0.0, 4) == "0.0000"
    assert fmt_number(2.5e8, 3) == "2.500e+08"
    for x in (0.123456, -7.5, 1234.5678, 3e-9, -2e7):
        assert_close(float(fmt_number(x, 4)), x, rtol=1e-4, atol=0.5e-4, what=f"fmt({x})")


def test_nested_scopes_give_nested_clusters():
    x = Value(1.0, label="x")
    with scope("mlp"):
        with scope("layer1"):
            h = x * 2
        with scope("layer2"):
            y = h + 1
    y.backward()
    dot = to_dot(y)
    lines = dot.splitlines()
    opens = [i for i, line in enumerate(lines) if "subgraph cluster_" in line]
    assert [lines[i].strip() for i in opens] == ["subgraph cluster_0 {", "subgraph cluster_1 {",
                                                  "subgraph cluster_2 {"]
    assert lines[opens[1]].startswith("    subgraph")     # inside mlp
    labels = re.findall(r'label="(mlp|layer1|layer2)"', dot)
    assert labels == ["mlp", "layer1", "layer2"]
    assert dot.count("{") == dot.count("}")


def test_color_grad_shades_by_sign():
    a, b = Value(2.0, label="a"), Value(-1.0, label="b")
    y = a * b
    y.backward()               # a.grad = -1 (red), b.grad = 2 (blue)
    dot = to_dot(y, color_grad=True)
    cell_a = re.search(r'<b>a</b>.*?<td bgcolor="(#[0-9a-f]{6})">grad', dot).group(1)
    cell_b = re.search(r'<b>b</b>.*?<td bgcolor="(#[0-9a-f]{6})">grad', dot).group(1)
    assert f'bgcolor="{INPUT}"><tr><td><b>a</b>' in dot     # the kind colour stays
    ra, ga, ba = (int(cell_a[k:k + 2], 16) for k in (1, 3, 5))
    rb, gb, bb = (int(cell_b[k:k + 2], 16) for k in (1, 3, 5))
    assert ra > ba and bb > rb


# ---- the 2-2-2 network of seed 001 section 3 (S1-3.1 .. S1-3.3), built by hand -------------

def two_two_two():
    """The network of seed 001_34f8d7f6bc1ecf0d.txt section 3, with the seed's formulas:
    h1 = i1 w11 + i2 w21 + b1, h2 = i1 w12 + i2 w22 + b2, h3 = relu h1, h4 = relu h2,
    o1 = h3 w31 + h4 w41 + b3, o2 = h3 w32 + h4 w42 + b4, MSE = (t1-o1)^2/2 + (t2-o2)^2/2."""
    v = {k: Value(x, label=k) for k, x in dict(
        i1=2.0, i2=-1.0, w11=1.0, w12=-0.5, w21=0.5, w22=-1.0, w31=0.5, w32=-1.0, w41=-0.5,
        w42=1.0, b1=0.5, b2=-0.5, b3=-1.0, b4=0.5, t1=1.0, t2=0.5).items()}
    with scope("hidden"):
        h1 = v["i1"] * v["w11"] + v["i2"] * v["w21"] + v["b1"]
        h2 = v["i1"] * v["w12"] + v["i2"] * v["w22"] + v["b2"]
        h3, h4 = h1.relu(), h2.relu()
    with scope("output"):
        o1 = h3 * v["w31"] + h4 * v["w41"] + v["b3"]
        o2 = h3 * v["w32"] + h4 * v["w42"] + v["b4"]
    with scope("loss"):
        mse = 0.5 * (v["t1"] - o1) ** 2 + 0.5 * (v["t2"] - o2) ** 2
    for name, node in dict(h1=h1, h2=h2, h3=h3, h4=h4, o1=o1, o2=o2, MSE=mse).items():
        node.label = name
        v[name] = node
    return mse, v


def test_highlight_w21_picks_out_two_live_paths_through_o1_and_o2():
    mse, v = two_two_two()
    mse.backward()
    graph = analyse(mse)
    on_path, live, edges, (total, n_live) = highlight_paths(graph, v["w21"])
    names = {graph.order[i].label for i in live if graph.order[i].label}
    assert names == {"w21", "h1", "h3", "o1", "o2", "MSE"}
    assert (total, n_live) == (2, 2)
    dot = to_dot(mse, highlight=v["w21"])
    assert "d MSE / d w21 = -1.5000: 2 of 2 paths carry gradient" in dot
    i = graph.index
    live_edge = '[color="#7c3aed", penwidth=2.5];'
    for name in ("w21", "h3"):          # w21 * i2; h3 * w31 and h3 * w32
        for c, _ in graph.consumers[i[v[name]]]:
            assert f'n{i[v[name]]} -> n{c} {live_edge}' in dot, name
    assert f'n{i[v["o1"]]} -> ' in dot and f'n{i[v["o2"]]} -> ' in dot
    # h4 is not on any path from w21 (w21 feeds h1 only), so its edges stay plain.
    assert f'n{i[v["h2"]]} -> n{i[v["h4"]]};' in dot
    assert "#d62728" not in dot                  # no red: red is for negative gradients
    assert to_dot(mse, highlight="w21") == dot


def test_highlight_w22_shows_paths_through_the_off_relu_as_dead():
    mse, v = two_two_two()
    mse.backward()
    assert v["h2"].data < 0           # ReLU off at h4 = relu(h2)
    graph = analyse(mse)
    on_path, live, edges, (total, n_live) = highlight_paths(graph, v["w22"])
    assert (total, n_live) == (2, 0)
    assert live == set()
    i = graph.index
    h4 = i[v["h4"]]
    assert edges[(h4, 0)] == (False, 0.0)
    dot = to_dot(mse, highlight=v["w22"])
    assert f'n{i[v["h2"]]} -> n{h4} [label="×0", fontsize=10, fontcolor="#4b5563", ' \
           f'color="#9ca3af", style=dashed];' in dot
    assert "0 of 2 paths carry gradient" in dot
    assert "#7c3aed" not in dot.split("label=<", 2)[2]      # no live edge or node


def test_caption_counts_paths_in_words_that_agree():
    x = Value(2.0, label="w")
    y = x.relu()
    y.label = "y"
    y.backward()
    assert "d y / d w = 1.0000: 1 of 1 path carries gradient" in to_dot(y, highlight=x)
    z = x * x
    z.label = "z"
    z.backward()
    assert "2 of 2 paths carry gradient" in to_dot(z, highlight=x)


def test_update_stage_shows_old_grad_lr_new_for_w21():
    mse, v = two_two_two()
    mse.backward()
    w21 = v["w21"]
    lr = 0.1
    new = w21.data - lr * w21.grad            # S1-3.3: 0.5 - 0.1 * (-1.5) = 0.65
    dot = to_dot(mse, stage="update", updates={w21: (w21.data, w21.grad, lr, new)})
    assert ("<tr><td><b>w21</b></td></tr><tr><td>old 0.5000</td></tr><tr><td>grad -1.5000"
            "</td></tr><tr><td>lr 0.1000</td></tr><tr><td><b>new 0.6500</b></td></tr>"
            "<tr><td>0.5000 - 0.1000 × (-1.5000) = 0.6500</td></tr>") in dot

    class Record:            # the shape of an optimiser step record
        def __init__(self, label, old, grad, new):
            self.label, self.old, self.grad, self.new = label, old, grad, new

    dot2 = to_dot(mse, stage="update", updates=[Record("w21", 0.5, -1.5, 0.65)])
    assert ("<td>old 0.5000</td></tr><tr><td>grad -1.5000</td></tr><tr><td><b>new 0.6500"
            in dot2)
    dot3 = to_dot(mse, stage="update", updates=[{"name": "w21", "old": 0.5, "grad": -1.5,
                                                  "new": 0.65, "lr": 0.1}])
    assert "0.5000 - 0.1000 × (-1.5000) = 0.6500" in dot3


def test_highlighted_gradient_equals_torch():
    torch = pytest.importorskip("torch")
    mse, v = two_two_two()
    mse.backward()
    t = {k: torch.tensor(v[k].data, dtype=torch.float64, requires_grad=True)
         for k in ("w11", "w12", "w21", "w22", "w31", "w32", "w41", "w42", "b1", "b2", "b3",
                   "b4")}
    i1, i2, t1, t2 = 2.0, -1.0, 1.0, 0.5
    h3 = torch.relu(i1 * t["w11"] + i2 * t["w21"] + t["b1"])
    h4 = torch.relu(i1 * t["w12"] + i2 * t["w22"] + t["b2"])
    o1 = h3 * t["w31"] + h4 * t["w41"] + t["b3"]
    o2 = h3 * t["w32"] + h4 * t["w42"] + t["b4"]
    (0.5 * (t1 - o1) ** 2 + 0.5 * (t2 - o2) ** 2).backward()
    for k in ("w21", "w22"):
        shown = re.search(rf"d MSE / d {k} = (\S+):", to_dot(mse, highlight=k)).group(1)
        assert_close(float(shown), t[k].grad.item(), atol=0.5e-4, what=k)


# ---- errors and big graphs ------------------------------------------------------------------

def test_bad_arguments_raise_clear_errors():
    x = Value(1.0, label="x")
    y = x * 2
    y.backward()
    with pytest.raises(ValueError, match="stage must be one of"):
        to_dot(y, stage="sideways")
    with pytest.raises(TypeError, match="precision must be an int"):
        to_dot(y, precision=2.5)
    with pytest.raises(TypeError, match="root of a picture must be a Value"):
        to_dot(3.0)
    with pytest.raises(ValueError, match="not in the graph"):
        to_dot(y, highlight=Value(1.0))
    with pytest.raises(ValueError, match="no node labelled 'w9'.*labels: x"):
        to_dot(y, highlight="w9")
    with pytest.raises(ValueError, match="stage='update' needs updates"):
        to_dot(y, stage="update")
    with pytest.raises(ValueError, match="updates are drawn with stage='update'"):
        to_dot(y, updates={x: (1.0, 2.0, 0.1, 0.8)})
    with pytest.raises(ValueError, match=r"\(old, grad, lr, new\)"):
        to_dot(y, stage="update", updates={x: (1.0, 2.0)})
    with pytest.raises(ValueError, match="not a finite number"):
        to_dot(y, stage="update", updates={x: (1.0, math.nan, 0.1, 0.8)})
    with pytest.raises(ValueError, match="color_grad"):
        to_dot(y, stage="forward", color_grad=True)


def test_drawing_gradients_before_backward_warns():
    y = Value(1.0, label="x") * 2
    with pytest.warns(UserWarning, match="backward"):
        to_dot(y)


def test_chain_of_100k_nodes_has_no_recursion_error(monkeypatch):
    from microgradnet.viz import dot as dot_module
    monkeypatch.setattr(dot_module, "MAX_NODES", 200_000)   # past the picture limit on purpose
    x = Value(0.5, label="x")
    y = x
    for _ in range(50_000):
        y = y * 1.0
    # x, then a constant leaf and a product per step: far deeper than any recursion limit.
    # Each constant is written into its product, so one edge a step is left.
    assert len(topological_order(y)) == 1 + 2 * 50_000
    dot = to_dot(y, stage="forward", clusters=False)
    assert dot.count(" -> ") == 50_000
