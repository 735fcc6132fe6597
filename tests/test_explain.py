"""The step-through explainer: forward lines, chain-rule paths, updates, rounding, exports."""
from __future__ import annotations

import math
import random
import time

import pytest

from helpers import assert_close
from microgradnet import Value, grad, maximum
from microgradnet.checks import numerical_grad
from microgradnet.explain import (Explanation, count_paths, explain, explain_backward,
                                  explain_forward, explain_update, find_paths, format_number, INLINE_LIMIT,
                                  latex_name, round_half_up)


def s1_3_plain():
    """Seed 001 section 3 with plain Values, written the way the seed writes it."""
    v = dict(i1=2.0, i2=-1.0, w11=1.0, w12=-0.5, w21=0.5, w22=-1.0, w31=0.5, w32=-1.0,
             w41=-0.5, w42=1.0, b1=0.5, b2=-0.5, b3=-1.0, b4=0.5, t1=1.0, t2=0.5)
    n = {k: Value(x, label=k) for k, x in v.items()}
    n["h1"] = n["i1"] * n["w11"] + n["i2"] * n["w21"] + n["b1"]
    n["h2"] = n["i1"] * n["w12"] + n["i2"] * n["w22"] + n["b2"]
    n["h3"] = n["h1"].relu()
    n["h4"] = n["h2"].relu()
    n["o1"] = n["h3"] * n["w31"] + n["h4"] * n["w41"] + n["b3"]
    n["o2"] = n["h3"] * n["w32"] + n["h4"] * n["w42"] + n["b4"]
    n["MSE"] = 0.5 * (n["t1"] - n["o1"]) ** 2 + 0.5 * (n["t2"] - n["o2"]) ** 2
    for k in ("h1", "h2", "h3", "h4", "o1", "o2", "MSE"):
        n[k].label = k
    return n


def test_s1_3_step_through_text_forward_chain_rule_update():
    n = s1_3_plain()
    e = explain(n["MSE"], wrt=n["w21"], lr=0.1)
    assert e.section_text(e["forward"]) == "\n".join([
        "Forward pass",
        "  h1 = i1*w11 + i2*w21 + b1 = 2.0*1.0 + (-1.0)*0.5 + 0.5 = 2.0",
        "  h2 = i1*w12 + i2*w22 + b2 = 2.0*(-0.5) + (-1.0)*(-1.0) + (-0.5) = -0.5",
        "  h3 = max(0, h1) = max(0, 2.0) = 2.0",
        "  h4 = max(0, h2) = max(0, -0.5) = 0.0",
        "  o1 = h3*w31 + h4*w41 + b3 = 2.0*0.5 + 0.0*(-0.5) + (-1.0) = 0.0",
        "  o2 = h3*w32 + h4*w42 + b4 = 2.0*(-1.0) + 0.0*1.0 + 0.5 = -1.5",
    ])
    assert e.section_text(e["loss"]) == (
        "Loss\n  MSE = 0.5*(t1 - o1)**2 + 0.5*(t2 - o2)**2 = "
        "0.5*(1.0 - 0.0)**2 + 0.5*(0.5 - (-1.5))**2 = 2.5")
    assert e.section_text(e["backward"]).splitlines() == [
        "Backward pass: dMSE/dw21",
        "  2 paths from MSE to w21; each is a product of local derivatives, and the "
        "derivative is their sum",
        "  path 1: MSE -> o1 -> h3 -> h1 -> w21",
        "    dMSE/do1 * do1/dh3 * dh3/dh1 * dh1/dw21 = (o1 - t1)*w31*1*i2 = "
        "(0.0 - 1.0)*0.5*1*(-1.0) = 0.5",
        "  path 2: MSE -> o2 -> h3 -> h1 -> w21",
        "    dMSE/do2 * do2/dh3 * dh3/dh1 * dh1/dw21 = (o2 - t2)*w32*1*i2 = "
        "(-1.5 - 0.5)*(-1.0)*1*(-1.0) = -2.0",
        "  dMSE/dw21 = (o1 - t1)*w31*1*i2 + (o2 - t2)*w32*1*i2 = 0.5 + -2.0 = -1.5",
    ]
    assert e.section_text(e["update"]) == (
        "Update (gradient descent, learning rate 0.1)\n  w21 <- 0.5 - 0.1 * (-1.5) = 0.65")
    assert e.section_text(e["given"]).splitlines()[1].startswith("  i1 = 2.0, i2 = -1.0, w11")


def test_explain_does_not_touch_grads_or_data():
    n = s1_3_plain()
    explain(n["MSE"], wrt=[n["w21"], n["w12"]], lr=0.1)
    assert n["w21"].grad == 0.0 and n["w21"].data == 0.5 and n["MSE"].grad == 0.0


def test_dead_relu_path_shows_zero():
    n = s1_3_plain()
    e = explain_backward(n["MSE"], n["w12"])
    steps = e["backward"].steps
    assert [s.value for s in steps] == [0.0, 0.0, 0.0]
    assert all("dead path: relu is off at h4" in s.note for s in steps[:2])
    assert "*0*" in steps[0].parts[0][0]


def test_reused_node_counts_every_path():
    a = Value(3.0, label="a")
    y = a * a
    y.label = "y"
    paths, total = find_paths(y, a)
    assert total == 2 and [p.args for p in paths] == [(0,), (1,)]
    e = explain_backward(y, a)
    last = e["backward"].steps[-1]
    assert last.parts[0][0] == "a + a" and last.value == 6.0


def test_diamond_has_four_paths_summing_to_the_gradient():
    a = Value(1.5, label="a")
    b = a + a
    c = b + b
    assert count_paths(c, a) == 4
    paths, total = find_paths(c, a)
    assert total == 4 and sum(p.value for p in paths) == 4.0 == grad(c, a)


def _random_graph(rng: random.Random, nleaves: int = 4, nops: int = 14):
    leaves = [Value(rng.uniform(0.5, 2.0), label=f"x{i + 1}") for i in range(nleaves)]
    nodes = list(leaves)
    for _ in range(nops):
        a, b = rng.choice(nodes), rng.choice(nodes)
        op = rng.choice("+-*ts e")
        if op == "+":
            c = a + b
        elif op == "-":
            c = a - b
        elif op == "*":
            c = a * b
        elif op == "t":
            c = a.tanh()
        elif op == "s":
            c = a.sigmoid()
        elif op == "e":
            c = (a * 0.1).exp()
        else:
            c = maximum(a, b)
        nodes.append(c)
    root = nodes[-1] * nodes[-2] + nodes[-3]
    return root, leaves


@pytest.mark.parametrize("seed", range(12))
def test_sum_over_paths_equals_autodiff_and_finite_differences(seed):
    rng = random.Random(seed)
    root, leaves = _random_graph(rng)
    for x in leaves:
        paths, total = find_paths(root, x, max_paths=100000)
        assert len(paths) == total == count_paths(root, x)
        assert_close(math.fsum(p.value for p in paths), grad(root, x), rtol=1e-12, atol=1e-12)
    # The explanation's total is the same number, and matches central differences.
    e = explain(root, wrt=leaves, max_paths=100000)
    totals = [s.steps[-1].value for s in e.sections if s.key == "backward"]

    def f(*xs):
        r, ls = _random_graph(random.Random(seed))
        mapping = dict(zip(ls, xs))
        return _rebuild(r, mapping)
    num = numerical_grad(f, [x.data for x in leaves])
    for t, d in zip(totals, num):
        assert_close(t, d, rtol=1e-5, atol=1e-7)


def _rebuild(root, mapping):
    """Re-evaluate ``root``'s graph with some leaves replaced (for finite differences)."""
    from microgradnet import topological_order
    new = {}
    for n in topological_order(root):
        if n.is_leaf:
            new[n] = mapping.get(n, n)
        else:
            args = [new[p] for p in n.parents]
            new[n] = Value._apply(n.primitive, *args)
    return new[root]


def test_path_enumeration_is_capped_and_says_so():
    # 30 diamonds in a row: 2**30 paths. Listing them all would never finish.
    a = Value(1.0, label="a")
    x = a
    for _ in range(30):
        x = x + x
    x.label = "L"
    t0 = time.perf_counter()
    assert count_paths(x, a) == 2 ** 30
    e = explain_backward(x, a, max_paths=50)
    assert time.perf_counter() - t0 < 5
    sec = e["backward"]
    assert any("showing the first 50 of 1073741824 paths" in n for n in sec.notes)
    assert sec.steps[-1].value == 2.0 ** 30       # the engine's gradient, not a partial sum
    assert len([s for s in sec.steps if s.caption]) == 50


def test_chain_deeper_than_the_recursion_limit():
    x = Value(0.1, label="x")
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.label = "y"
    e = explain(y, wrt=x)
    assert_close(e["backward"].steps[-1].value, 1.0001 ** 5000, rtol=1e-9)
    assert len(e["forward"].steps) >= 5000 // (INLINE_LIMIT + 1)   # long chains get cut


def test_unlabelled_intermediates_get_names_when_reused():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    s = a * b            # used twice, no label
    y = s + s.tanh()
    lines = explain_forward(y)["forward"].steps
    assert [l.lhs for l in lines] == ["v1", "out"]
    assert lines[0].parts[0][0] == "a*b"
    assert lines[1].parts[0][0] == "v1 + tanh(v1)"


def test_constants_print_as_numbers_and_negative_operands_get_parentheses():
    x = Value(-2.0, label="x")
    y = 3 * x - (-1.5) + x ** 2
    y.label = "y"
    line = explain_forward(y)["forward"].steps[0]
    assert line.parts[0][0] == "3*x - (-1.5) + x**2"
    assert line.parts[1][0] == "3*(-2.0) - (-1.5) + (-2.0)**2"
    assert line.value == y.data


def test_local_derivative_formulas_of_common_ops():
    x = Value(0.5, label="x")
    for build, text in [
            (lambda v: v.tanh(), "1 - y**2"),
            (lambda v: v.sigmoid(), "y*(1 - y)"),
            (lambda v: v.exp(), "y"),
            (lambda v: v.log(), "1/x"),
            (lambda v: v ** 3, "3*x**2"),
            (lambda v: v.relu(), "1")]:
        y = build(x)
        y.label = "y"
        step = explain_backward(y, x)["backward"].steps[-1]
        assert step.parts[0][0] == text
        assert_close(step.value, grad(y, x), rtol=1e-12)


def test_rounding_carries_rounded_values_and_shows_the_unrounded_ones():
    x = Value(0.3, label="x")
    h = x.sigmoid()
    h.label = "h"
    y = h * 2.0
    y.label = "y"
    e = explain(y, wrt=x, lr=0.1, decimals=3)
    fwd = e["forward"].steps
    assert fwd[0].value == 0.574 and fwd[0].exact == h.data
    assert e.section_text(e["forward"]).splitlines()[1] == (
        f"  h = sigmoid(x) = sigmoid(0.3) = 0.574  (unrounded {format_number(h.data)})")
    assert e["loss"].steps[0].value == 1.148    # 0.574 * 2 from the rounded h, as by hand
    assert e["backward"].steps[-1].value == round_half_up(2 * 0.574 * (1 - 0.574), 3)


def test_round_half_up_rounds_like_a_hand_worked_sheet():
    assert round_half_up(0.5, 0) == 1.0 and round_half_up(2.675, 2) == 2.68
    assert round_half_up(-0.25, 1) == -0.3


def test_latex_and_markdown_exports():
    n = s1_3_plain()
    e = explain(n["MSE"], wrt=n["w21"], lr=0.1)
    tex = e.latex()
    assert tex.startswith("\\begin{align*}") and tex.rstrip().endswith("\\end{align*}")
    assert ("h_{1} &= i_{1} \\cdot w_{11} + i_{2} \\cdot w_{21} + b_{1} = "
            "2.0 \\cdot 1.0 + (-1.0) \\cdot 0.5 + 0.5 = 2.0 \\\\") in tex
    assert "w_{21} &\\leftarrow 0.5 - 0.1 \\cdot (-1.5) = 0.65 \\\\" in tex
    assert "\\frac{\\partial \\mathrm{MSE}}{\\partial w_{21}} &=" in tex
    md = e.markdown()
    assert "### Forward pass" in md
    assert "| `h1` | `i1*w11 + i2*w21 + b1` | `2.0*1.0 + (-1.0)*0.5 + 0.5` | 2.0 |" in md
    assert e._repr_markdown_() == md


def test_latex_names():
    assert latex_name("w21") == "w_{21}" and latex_name("MSE") == "\\mathrm{MSE}"
    assert latex_name("alpha") == "\\alpha" and latex_name("W[1,2]") == "\\mathrm{W[1,2]}"


def test_explain_update_uses_param_grad_by_default():
    w = Value(0.5, label="w21")
    (w * -1.5).backward()
    e = explain_update(w, 0.1)
    assert isinstance(e, Explanation)
    assert e.text().splitlines()[1] == "  w21 <- 0.5 - 0.1 * (-1.5) = 0.65"


def test_no_path_means_zero():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    y = a * 3.0
    y.label = "y"
    sec = explain(y, wrt=b, lr=0.1)["backward"]
    assert sec.notes == ["y does not depend on b: no path, the derivative is 0"]
    assert sec.steps[-1].value == 0.0
    assert find_paths(y, b) == ([], 0)


def test_bad_arguments_raise_clear_errors():
    x = Value(1.0, label="x")
    with pytest.raises(TypeError, match="root must be a Value"):
        explain(1.0)
    with pytest.raises(ValueError, match="decimals"):
        explain(x * 2, decimals=-1)
    with pytest.raises(ValueError, match="lr needs wrt"):
        explain(x * 2, lr=0.1)
    with pytest.raises(TypeError, match="lr must be a number"):
        explain(x * 2, wrt=x, lr="0.1")
    with pytest.raises(ValueError, match="max_paths"):
        find_paths(x * 2, x, max_paths=-1)
