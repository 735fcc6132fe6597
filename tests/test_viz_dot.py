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

HEAD = """digraph microgradnet {
  graph [rankdir=LR, fontname="Helvetica", fontsize=12, nodesep=0.3, ranksep=0.35];
  node [fontname="Helvetica", fontsize=11];
  edge [arrowsize=0.6, color="#4b5563"];
"""
TABLE = '<table border="0" cellborder="{b}" cellspacing="0" cellpadding="4" bgcolor="{fill}">'
INPUT, PARAM, MID, OUT = "#dbeafe", "#fde68a", "#ffffff", "#bbf7d0"


def value_line(i, label, data, grad, fill, border=1, pad="  "):
    cells = f"<td><b>{label}</b></td><td>data {data}</td>"
    if grad is not None:
        cells += f"<td>grad {grad}</td>"
    table = TABLE.format(b=border, fill=fill)
    return f"{pad}n{i} [shape=none, margin=0, label=<{table}<tr>{cells}</tr></table>>];\n"


def op_line(i, name, formula, pad="  "):
    return (f'{pad}n{i}op [shape=ellipse, style=filled, fillcolor="#e5e7eb", '
            f'margin="0.05,0.02", label="{name}", tooltip="{formula}"];\n')


def test_a_plus_a_has_two_edges_and_exact_dot():
    a = Value(2.0, label="a")
    b = a + a
    b.label = "b"
    b.backward()
    expected = (HEAD
                + value_line(0, "a", "2.0000", "2.0000", INPUT)
                + value_line(1, "b", "4.0000", "1.0000", OUT, border=2)
                + op_line(1, "+", "a + b")
                + "  n0 -> n1op;\n  n0 -> n1op;\n  n1op -> n1;\n}\n")
    assert to_dot(b) == expected


def test_diamond_exact_dot_shows_a_grad_4():
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    c = b + b
    c.label = "c"
    c.backward()
    expected = (HEAD
                + value_line(0, "a", "3.0000", "4.0000", INPUT)
                + value_line(1, "b", "6.0000", "2.0000", MID)
                + op_line(1, "+", "a + b")
                + value_line(2, "c", "12.0000", "1.0000", OUT, border=2)
                + op_line(2, "+", "a + b")
                + "  n0 -> n1op;\n  n0 -> n1op;\n  n1op -> n1;\n"
                + "  n1 -> n2op;\n  n1 -> n2op;\n  n2op -> n2;\n}\n")
    assert to_dot(c) == expected


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
    pad = "    "
    expected = (HEAD
                + value_line(0, "x1", "2.0000", "-1.5000", INPUT)
                + value_line(1, "w1", "-3.0000", "1.0000", PARAM)
                + value_line(3, "x2", "0.0000", "0.5000", INPUT)
                + value_line(4, "w2", "1.0000", "0.0000", PARAM)
                + value_line(7, "b", "6.8814", "0.5000", PARAM)
                + "  subgraph cluster_0 {\n"
                + f'{pad}label="neuron"; style="rounded,dashed"; color="#9ca3af"; '
                  'fontcolor="#4b5563";\n'
                + value_line(2, "x1*w1", "-6.0000", "0.5000", MID, pad=pad)
                + op_line(2, "*", "a*b", pad=pad)
                + value_line(5, "x2*w2", "0.0000", "0.5000", MID, pad=pad)
                + op_line(5, "*", "a*b", pad=pad)
                + value_line(6, "x1*w1 + x2*w2", "-6.0000", "0.5000", MID, pad=pad)
                + op_line(6, "+", "a + b", pad=pad)
                + value_line(8, "n", "0.8814", "0.5000", MID, pad=pad)
                + op_line(8, "+", "a + b", pad=pad)
                + value_line(9, "o", "0.7071", "1.0000", OUT, border=2, pad=pad)
                + op_line(9, "tanh", "tanh(a)", pad=pad)
                + "  }\n"
                + "  n0 -> n2op;\n  n1 -> n2op;\n  n2op -> n2;\n"
                + "  n3 -> n5op;\n  n4 -> n5op;\n  n5op -> n5;\n"
                + "  n2 -> n6op;\n  n5 -> n6op;\n  n6op -> n6;\n"
                + "  n6 -> n8op;\n  n7 -> n8op;\n  n8op -> n8;\n"
                + "  n8 -> n9op;\n  n9op -> n9;\n}\n")
    assert to_dot(o) == expected


def test_forward_stage_shows_no_gradient_and_clusters_can_be_off():
    o = neuron()
    dot = to_dot(o, stage="forward", clusters=False)
    assert ">grad " not in dot
    assert "subgraph" not in dot
    assert value_line(9, "o", "0.7071", None, OUT, border=2) in dot


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
    assert 'n0 -> n2op [label="a", fontsize=9, fontcolor="#6b7280"];' in dot
    assert 'n1 -> n2op [label="b", fontsize=9, fontcolor="#6b7280"];' in dot


def test_constants_and_unlabelled_nodes_show_their_id():
    x = Value(1.5, label="x")
    y = 2 * x
    y.backward()
    dot = to_dot(y)
    assert 'bgcolor="#f3f4f6"><tr><td><font color="#6b7280">n0</font></td><td>data 2.0000' in dot
    assert 'n0 -> n2op;' in dot and 'n1 -> n2op;' in dot


def test_labels_are_escaped():
    x = Value(1.0, label='<w&"b>')
    y = x * 3
    y.label = "y"
    y.backward()
    dot = to_dot(y)
    assert "<b>&lt;w&amp;&quot;b&gt;</b>" in dot


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
    assert f'n{i[v["w21"]]} -> n{graph.index[v["w21"]] + 1}op [color="#d62728", penwidth=2.5];' \
        in dot
    assert f'n{i[v["o1"]]}op -> n{i[v["o1"]]} [color="#d62728", penwidth=2.5];' in dot
    assert f'n{i[v["o2"]]}op -> n{i[v["o2"]]} [color="#d62728", penwidth=2.5];' in dot
    # h4 is not on any path from w21 (w21 feeds h1 only), so its edges stay plain.
    assert f'n{i[v["h4"]]}op -> n{i[v["h4"]]};' in dot
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
    assert f'n{i[v["h2"]]} -> n{h4}op [label="×0", fontsize=9, fontcolor="#6b7280", ' \
           f'color="#9ca3af", style=dashed];' in dot
    assert "0 of 2 paths carry gradient" in dot
    assert "#d62728" not in dot


def test_update_stage_shows_old_grad_lr_new_for_w21():
    mse, v = two_two_two()
    mse.backward()
    w21 = v["w21"]
    lr = 0.1
    new = w21.data - lr * w21.grad            # S1-3.3: 0.5 - 0.1 * (-1.5) = 0.65
    dot = to_dot(mse, stage="update", updates={w21: (w21.data, w21.grad, lr, new)})
    assert ("<td><b>w21</b></td><td>old 0.5000</td><td>grad -1.5000</td><td>lr 0.1000</td>"
            "<td>new 0.6500</td></tr><tr><td colspan=\"5\">0.5000 - 0.1000 × (-1.5000) = "
            "0.6500</td></tr>") in dot

    class Record:            # the shape of an optimiser step record
        def __init__(self, label, old, grad, new):
            self.label, self.old, self.grad, self.new = label, old, grad, new

    dot2 = to_dot(mse, stage="update", updates=[Record("w21", 0.5, -1.5, 0.65)])
    assert "<td>old 0.5000</td><td>grad -1.5000</td><td>new 0.6500</td>" in dot2
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


def test_chain_of_100k_nodes_has_no_recursion_error():
    x = Value(0.5, label="x")
    y = x
    for _ in range(50_000):
        y = y * 1.0
    # x, then a constant leaf and a product per step: far deeper than any recursion limit.
    assert len(topological_order(y)) == 1 + 2 * 50_000
    dot = to_dot(y, stage="forward", clusters=False)
    assert dot.count(" -> ") == 3 * 50_000


def test_record_labels_exact_dot_for_a_plus_a():
    a = Value(2.0, label="a")
    b = a + a
    b.label = "b"
    b.backward()
    expected = (HEAD
                + f'  n0 [shape=record, style=filled, fillcolor="{INPUT}", '
                  'label="{a|data 2.0000|grad 2.0000}"];\n'
                + f'  n1 [shape=record, style=filled, fillcolor="{OUT}", '
                  'label="{b|data 4.0000|grad 1.0000}", penwidth=2];\n'
                + op_line(1, "+", "a + b")
                + "  n0 -> n1op;\n  n0 -> n1op;\n  n1op -> n1;\n}\n")
    assert to_dot(b, labels="record") == expected
    x = Value(1.0, label="{w|b}")
    y = x * 1.0
    y.backward()
    assert 'label="{\\{w\\|b\\}|data 1.0000|grad 1.0000}"' in to_dot(y, labels="record")
