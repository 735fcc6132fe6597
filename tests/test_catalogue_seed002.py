"""The worked examples of seed 002 (002_8bcde06e66854de4.txt): one test per claim id.

Each test checks the engine's numbers against an oracle that shares no code with the engine
(math, central differences, PyTorch float64) and asserts the verdict.
"""
from __future__ import annotations

import math

import pytest

import microgradnet.catalogue.seed002 as seed002

from helpers import assert_all_close, assert_close
from microgradnet import Value, maximum, nested
from microgradnet import grad as engine_grad
from microgradnet.catalogue import EXAMPLES
from microgradnet.checks import numerical_grad, numerical_hessian

SEED002_IDS = ["S2-Q1.1", "S2-Q1.2", "S2-Q1.3", "S2-Q1.4", "S2-Q1.5", "S2-Q1.6", "S2-Q2.1ab",
               "S2-Q2.1d", "S2-Q2.2", "S2-Q2.3", "S2-Q2.4", "S2-Q3", "S2-Q4", "S2-Q5",
               "S2-Q5.3"]

_cache: dict = {}


def run(claim: str):
    if claim not in _cache:
        _cache[claim] = EXAMPLES[claim].run()
    return _cache[claim]


def sig(t: float) -> float:
    return 1.0 / (1.0 + math.exp(-t))


def test_every_claim_of_seed_002_is_registered_with_its_seed_file():
    for claim in SEED002_IDS:
        assert claim in EXAMPLES, claim
        assert EXAMPLES[claim].seed == "002_8bcde06e66854de4.txt"
    assert sorted(k for k in EXAMPLES if k.startswith("S2-")) == sorted(SEED002_IDS)


@pytest.mark.parametrize("claim", SEED002_IDS)
def test_every_seed_002_example_states_its_problem(claim):
    problem = run(claim).problem
    assert 40 < len(problem) < 500, problem


def test_S2_Q1_1_sigmoid_network_gradients_match_torch_and_dLda_is_an_erratum():
    torch = pytest.importorskip("torch")
    r = run("S2-Q1.1")
    v = r.values
    T = {k: torch.tensor(v[k], dtype=torch.float64, requires_grad=True)
         for k in ("W1", "b1", "W2", "b2", "W3", "b3")}
    x = torch.tensor(v["x"], dtype=torch.float64)
    y = torch.tensor(v["y"], dtype=torch.float64)
    h = T["W1"] @ x + T["b1"]
    a = torch.sigmoid(T["W2"] @ h + T["b2"])
    o = T["W3"] @ a + T["b3"]
    for t in (h, a, o):
        t.retain_grad()
    (0.5 * ((o - y) ** 2).sum()).backward()
    ref = {k: T[k].grad.tolist() for k in T}
    ref.update(h=h.grad.tolist(), a=a.grad.tolist(), o=o.grad.tolist())
    for k, want in ref.items():
        assert_all_close(v[f"dL/d{k}"], want, rtol=1e-10, atol=1e-13, what=f"dL/d{k}")
    # The seed's lines for b3, W2, b2 are right as written; its a dL/do is dL/dW3 transposed
    # (r x s, W3 is s x r); dL/da carries an extra sigmoid'.
    written = v["seed_as_written"]
    for k in ("b3", "W2", "b2"):
        assert_all_close(written[k], ref[k], rtol=1e-10, atol=1e-13, what=k)
    assert len(written["W3"]) == len(ref["W3"][0]) and len(written["W3"][0]) == len(ref["W3"])
    assert_all_close(written["W3"], T["W3"].grad.T.tolist(), rtol=1e-10, atol=1e-13, what="W3")
    assert v["layouts"]["W3"] == "transposed" and v["layouts"]["W2"] == "as written"
    assert v["matrix_layouts"]["W1"] == "transposed"
    assert "up to transposition" in r.engine_says and "transposed" in r.note
    an = a.detach().tolist()
    assert_all_close(written["a"], [g * ai * (1 - ai) for g, ai in zip(ref["a"], an)],
                     rtol=1e-10, atol=1e-13, what="seed dL/da = true dL/da * a(1-a)")
    assert all(abs(p - q) > 1e-3 for p, q in zip(written["a"], ref["a"]))
    assert r.values["agrees"] == {"W3": True, "b3": True, "W2": True, "b2": True,
                                  "a": False, "h": False, "W1": False, "b1": False}
    # With the right dL/da the seed's dL/dh, dL/dW1, dL/db1 lines are correct.
    assert max(v["max_abs_diff_with_right_dL/da"].values()) < 1e-12
    assert r.verdict == "erratum"
    assert r.graph is not None and r.graph.label == "L"


def test_S2_Q1_1_autodiff_with_the_seeds_extra_sigmoid_makes_it_confirmed(monkeypatch):
    # If backpropagation put a(1-a) into dL/da too (and carried it on to h, W1, b1), the
    # seed's lines would be the engine's numbers.
    honest = seed002._autodiff_grads

    def seed_world(net):
        out = honest(net)
        a = nested.data_of(net["a"])
        out["a"] = [g * ai * (1 - ai) for g, ai in zip(out["a"], a)]
        W2 = nested.data_of(net["W2"])
        out["h"] = [sum(W2[i][j] * a[i] * (1 - a[i]) * out["a"][i] for i in range(len(a)))
                    for j in range(len(W2[0]))]
        out["b1"] = list(out["h"])
        out["W1"] = [[g * xj for xj in nested.data_of(net["x"])] for g in out["h"]]
        return out

    monkeypatch.setattr(seed002, "_autodiff_grads", seed_world)
    r = EXAMPLES["S2-Q1.1"].run()
    assert all(r.values["agrees"].values()) and r.verdict == "confirmed"


def test_S2_Q1_1_a_right_dLda_line_makes_it_confirmed(monkeypatch):
    # With the seed's dL/da line written without the extra a(1-a), every line would hold
    # (the weight products up to transposition), and the verdict must say so.
    honest = seed002._seed_q1_expressions

    def without_extra_sigmoid(net, dLdo, dLda_for_h=None):
        e = honest(net, dLdo, dLda_for_h)
        W3 = nested.data_of(net["W3"])
        e["a"] = [sum(dLdo[k] * W3[k][i] for k in range(len(dLdo))) for i in range(len(W3[0]))]
        return honest(net, dLdo, e["a"] if dLda_for_h is None else dLda_for_h) | {"a": e["a"]}

    monkeypatch.setattr(seed002, "_seed_q1_expressions", without_extra_sigmoid)
    r = EXAMPLES["S2-Q1.1"].run()
    assert all(r.values["agrees"].values()) and r.verdict == "confirmed"


def test_S2_Q1_1_gradients_match_central_differences():
    r = run("S2-Q1.1")
    v = r.values
    x, y = v["x"], v["y"]

    def loss(*flat):
        it = iter(flat)
        W1 = [[next(it) for _ in row] for row in v["W1"]]
        b1 = [next(it) for _ in v["b1"]]
        W2 = [[next(it) for _ in row] for row in v["W2"]]
        b2 = [next(it) for _ in v["b2"]]
        W3 = [[next(it) for _ in row] for row in v["W3"]]
        b3 = [next(it) for _ in v["b3"]]
        h = [sum((w * xi for w, xi in zip(W1[i], x)), b1[i]) for i in range(len(b1))]
        a = [sum((w * hi for w, hi in zip(W2[i], h)), b2[i]).sigmoid() for i in range(len(b2))]
        o = [sum((w * ai for w, ai in zip(W3[i], a)), b3[i]) for i in range(len(b3))]
        return 0.5 * sum(((ok - yk) ** 2 for ok, yk in zip(o, y)), Value(0.0))

    flat = [w for k in ("W1", "b1", "W2", "b2", "W3", "b3")
            for w in (sum(v[k], []) if isinstance(v[k][0], list) else v[k])]
    engine = [g for k in ("W1", "b1", "W2", "b2", "W3", "b3")
              for g in (sum(v[f"dL/d{k}"], []) if isinstance(v[k][0], list) else v[f"dL/d{k}"])]
    assert_all_close(engine, numerical_grad(loss, flat), rtol=1e-6, atol=1e-8)


def test_S2_Q1_2_backward_reads_h_a_and_the_outputs_only():
    r = run("S2-Q1.2")
    v = r.values
    for size, kept, by_name, nbytes in zip(v["sizes"], v["kept"], v["kept_by_name"],
                                           v["engine_bytes"]):
        m, rr, s = size["m"], size["r"], size["s"]
        assert by_name == {"h": m, "a": rr, "o - y": s, "other": 0}
        assert kept == m + rr + s
        assert nbytes == 2 * (m + rr + s)
    assert r.verdict == "confirmed"


def test_S2_Q1_2_its_backward_with_stored_values_is_the_engines():
    net = seed002._sigmoid_net(3, 4, 3, 2)
    params = seed002._flat(net, seed002.PARAM_NAMES)
    stored = {n: n.data for n in seed002.topological_order(net["L"])}
    assert seed002._param_grads(net["L"], params, stored) == \
        pytest.approx(engine_grad(net["L"], params), rel=1e-12, abs=1e-15)


def test_S2_Q1_3_relu_left_and_right_derivative_at_zero():
    torch = pytest.importorskip("torch")
    r = run("S2-Q1.3")
    assert_close(r.values["left"], 0.0, atol=1e-9)
    assert_close(r.values["right"], 1.0, rtol=1e-9)
    # The backward pass's value at the kink is PyTorch's convention.
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    torch.relu(t).backward()
    assert r.values["backward_at_0"] == t.grad.item() == 0.0
    assert r.verdict == "confirmed"


def test_S2_Q1_4_relu_second_derivative_vanishes_swish_does_not():
    torch = pytest.importorskip("torch")
    r = run("S2-Q1.4")
    v = r.values
    assert v["relu2"] == [0.0] * len(v["points"])
    assert v["relu_net2"] == [0.0] * len(v["net_points"])
    for x0, got in zip(v["points"], v["swish2"]):
        s = sig(x0)
        assert_close(got, s * (1 - s) * (2 + x0 * (1 - 2 * s)), rtol=1e-12, atol=1e-15,
                     what=f"swish''({x0})")
        t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        (d1,) = torch.autograd.grad(t * torch.sigmoid(t), t, create_graph=True)
        (d2,) = torch.autograd.grad(d1, t)
        assert_close(got, d2.item(), rtol=1e-12, atol=1e-15)
    for h, got in zip(v["relu2_fd_steps"], v["relu2_fd_at_0"]):
        assert_close(got, 1.0 / h, rtol=1e-9)   # a spike, not a number
    w = v["net_weights"]
    for x0, got in zip(v["net_points"], v["swish_net2"]):
        t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        z = torch.tensor(w["w1"], dtype=torch.float64) * t + torch.tensor(w["b1"],
                                                                          dtype=torch.float64)
        out = (torch.tensor(w["w2"], dtype=torch.float64) * z * torch.sigmoid(z)).sum()
        (d1,) = torch.autograd.grad(out, t, create_graph=True)
        (d2,) = torch.autograd.grad(d1, t)
        assert_close(got, d2.item(), rtol=1e-10, atol=1e-13)
    # The graph shown is swish'' itself: its value, and its own derivative (the third
    # derivative of swish), match torch.
    g = r.graph
    assert g.label == "swish''(x)" and v["graph_value"] == g.data
    t = torch.tensor(v["graph_at"], dtype=torch.float64, requires_grad=True)
    (d1,) = torch.autograd.grad(t * torch.sigmoid(t), t, create_graph=True)
    (d2,) = torch.autograd.grad(d1, t, create_graph=True)
    (d3,) = torch.autograd.grad(d2, t)
    assert_close(g.data, d2.item(), rtol=1e-12)
    x_leaf = next(n for n in _leaves(g) if n.label == "x")
    assert_close(engine_grad(g, x_leaf), d3.item(), rtol=1e-10)
    assert r.verdict == "confirmed"


def test_S2_Q1_5_swish_tends_to_half_x_and_to_relu():
    r = run("S2-Q1.5")
    v = r.values
    xmax2 = max(x * x for x in v["xs"])
    for beta, gap in zip(v["small_betas"], v["gap_to_half_x"]):
        # |x (sigmoid(beta x) - 1/2)| <= beta x^2 / 4, since |sigmoid(t) - 1/2| <= |t|/4
        assert gap <= beta * xmax2 / 4 * (1 + 1e-9)
        direct = max(abs(x * sig(beta * x) - x / 2) for x in v["xs"])
        assert_close(gap, direct, rtol=1e-6, atol=1e-15)
    for beta, gap in zip(v["large_betas"], v["gap_to_relu"]):
        assert gap <= 1 / (math.e * beta)   # max over x of |x| e^(-beta |x|)
    assert v["gap_to_half_x"][-1] < 1e-5 and v["gap_to_relu"][-1] < 1e-3
    assert r.verdict == "confirmed"


def test_S2_Q1_6_swish_dips_below_zero_relu_never_falls():
    r = run("S2-Q1.6")
    v = r.values
    assert v["relu_min_slope"] == 0.0
    assert v["swish_min_slope"] < 0
    # swish'(x) = sigmoid(x) (1 + x (1 - sigmoid(x))) = 0: bisection in plain floats.
    lo, hi = -3.0, -0.5
    for _ in range(200):
        mid = (lo + hi) / 2
        if 1 + mid * (1 - sig(mid)) > 0:
            hi = mid
        else:
            lo = mid
    assert_close(v["swish_argmin"], lo, rtol=1e-12)
    assert_close(v["swish_min"], lo * sig(lo), rtol=1e-12)
    assert v["falling_to"] < v["swish_argmin"] < v["falling_to"] + 0.011
    assert r.verdict == "confirmed"


def test_S2_Q3_mixture_of_logistic_regressions_is_a_sigmoid_hidden_layer():
    r = run("S2-Q3")
    v = r.values
    x = v["x"]
    hidden = [sig(sum(wj * xj for wj, xj in zip(wk, x))) for wk in v["w"]]
    marginal = sum(p * a for p, a in zip(v["pi"], hidden))
    assert_all_close(v["hidden"], hidden, rtol=1e-12)
    assert_close(v["network"], marginal, rtol=1e-12)
    assert abs(v["sampled"] - marginal) < 4 * math.sqrt(marginal * (1 - marginal) / v["draws"])
    linear = sum(p * sum(wj * xj for wj, xj in zip(wk, x)) for p, wk in zip(v["pi"], v["w"]))
    assert_close(v["as_written"], linear, rtol=1e-12)
    assert abs(linear - marginal) > 0.05
    assert "P(y=1|z=k|x)" in r.note and "P(y=1 | z=k, x)" in r.note
    assert r.verdict == "erratum"


def test_S2_Q3_hidden_units_without_a_sigmoid_are_the_erratum(monkeypatch):
    # A network whose "linear" hidden units were sigmoids after all would make the seed's
    # a_k = (w_k^T x) right.
    honest = seed002._q3_network
    monkeypatch.setattr(seed002, "_q3_network",
                        lambda w, pi, hidden_activation: honest(w, pi, True))
    r = EXAMPLES["S2-Q3"].run()
    assert r.values["as_written"] == r.values["network"] and r.verdict == "confirmed"


def test_S2_Q4_an_entropy_of_the_seeds_sign_makes_it_confirmed(monkeypatch):
    # With H(P) = x log x + (1-x) log(1-x), the seed's sign, its naming holds and ce is
    # KL - H, a difference: the verdict must turn.
    honest = seed002._bernoulli_terms

    def seed_sign(x, p):
        t = honest(x, p)
        return dict(t, H=-t["H"])

    monkeypatch.setattr(seed002, "_bernoulli_terms", seed_sign)
    r = EXAMPLES["S2-Q4"].run()
    assert r.values["naming_gap"] < 1e-12 and r.verdict == "confirmed"


def test_S2_Q4_cross_entropy_is_entropy_plus_kl():
    r = run("S2-Q4")
    v = r.values
    for (x, p), neg_h, h in zip(v["pairs"], v["seed_entropy"], v["entropy"]):
        entropy = -(x * math.log(x) + (1 - x) * math.log(1 - x))
        assert_close(h, entropy, rtol=1e-12)
        assert_close(neg_h, -entropy, rtol=1e-12)
        ce = -x * math.log(p) - (1 - x) * math.log(1 - p)
        kl = x * math.log(x / p) + (1 - x) * math.log((1 - x) / (1 - p))
        assert_close(ce, entropy + kl, rtol=1e-12)
        assert h > 0 > neg_h
    assert v["identity_residual"] < 1e-12 and v["sum_residual"] < 1e-12
    assert v["difference_residual_min"] > 1e-3      # ce is not H - KL
    assert v["grad_ce_minus_grad_kl"] < 1e-12 and v["grad_ce_at_p_eq_x"] < 1e-12
    assert v["mle_residual"] < 1e-12
    # d ce / dp against central differences through the graph the example drew.
    g = r.graph
    p_leaf = next(n for n in _leaves(g) if n.label == "p")
    g.zero_grad()
    g.backward()
    x = 0.6

    def ce(p):
        return -(x * p.log()) - (1 - x) * (1 - p).log()

    assert_close(p_leaf.grad, numerical_grad(ce, [p_leaf.data])[0], rtol=1e-7)
    assert r.verdict == "erratum"


def _leaves(root):
    from microgradnet import topological_order
    return [n for n in topological_order(root) if n.is_leaf]


def test_S2_Q5_minimum_and_one_gradient_step():
    torch = pytest.importorskip("torch")
    r = run("S2-Q5")
    v = r.values

    def f(x, y):
        return y ** 2 + (y - x) ** 2

    assert_all_close(v["minimum"], [0.0, 0.0], atol=1e-12)
    assert_all_close(numerical_grad(f, v["minimum"]), [0.0, 0.0], atol=1e-9)
    assert_all_close(v["hessian"], numerical_hessian(f, [1.0, 1.0]), rtol=1e-6, atol=1e-6)
    assert min(v["eigenvalues"]) > 0
    for s, step in v["steps"].items():
        p = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([p], lr=s)
        (p[1] ** 2 + (p[1] - p[0]) ** 2).backward()
        opt.step()
        assert_all_close([step["x1"], step["y1"]], p.tolist(), rtol=1e-12, atol=1e-15)
        assert_close(step["distance"], math.hypot(*p.tolist()), rtol=1e-12)
    assert v["steps"][10.0]["f1"] > v["steps"][10.0]["f0"]   # s = 10 overshoots
    assert 2 / max(v["eigenvalues"]) < 10.0
    assert r.verdict == "confirmed"


def test_S2_Q2_1d_conv_bias_cancels_in_batchnorm():
    torch = pytest.importorskip("torch")
    r = run("S2-Q2.1d")
    v = r.values
    x = torch.tensor(v["batch"], dtype=torch.float64)
    W = torch.tensor(v["W"], dtype=torch.float64)
    readout = torch.tensor(v["readout"], dtype=torch.float64)
    outs = []
    for bias in (torch.tensor(v["b"], dtype=torch.float64, requires_grad=True), None):
        z = torch.nn.functional.conv2d(x, W, bias)
        y = torch.relu(torch.nn.functional.batch_norm(z, None, None, training=True, eps=1e-5))
        outs.append(y.flatten().tolist())
        if bias is not None:
            (y * readout).sum().backward()
            assert_all_close(v["bias_grads"], bias.grad.tolist(), atol=1e-12)
    assert_all_close(v["outputs_with_bias"], outs[0], rtol=1e-9, atol=1e-12)
    assert_all_close(v["outputs_without_bias"], outs[1], rtol=1e-9, atol=1e-12)
    assert v["max_output_gap"] < 1e-12 and v["max_weight_grad_gap"] < 1e-12
    assert max(abs(g) for g in v["bias_grads"]) < 1e-12
    # The two-image case drawn for the step-through: its paths to b add up to zero too.
    assert abs(v["demo_bias_grad"]) < 1e-12
    leaves = {n.label: n.data for n in _leaves(r.graph)}

    def demo_loss(b):   # batch norm written out by hand, as a function of the bias
        z = [leaves["w"] * leaves["x1"] + b, leaves["w"] * leaves["x2"] + b]
        mu = (z[0] + z[1]) * 0.5
        sd = (((z[0] - mu) ** 2 + (z[1] - mu) ** 2) * 0.5 + 1e-5).sqrt()
        return (z[0] - mu) / sd * 1.0 + (z[1] - mu) / sd * -2.0

    assert_close(r.graph.data, demo_loss(Value(leaves["b"])).data, rtol=1e-12)
    assert abs(numerical_grad(demo_loss, [leaves["b"]])[0]) < 1e-7
    assert r.verdict == "confirmed"


def test_S2_Q2_3_cnn_shapes_and_parameter_counts_match_torch():
    torch = pytest.importorskip("torch")
    r = run("S2-Q2.3")
    tnn = torch.nn
    layers = [tnn.Conv2d(1, 5, 4, stride=2), tnn.MaxPool2d(3), tnn.Conv2d(5, 5, 3),
              tnn.MaxPool2d(2), tnn.Sequential(tnn.Flatten(), tnn.Linear(80, 5))]
    x = torch.zeros(1, 1, 64, 64)
    want = []
    for layer in layers:
        x = layer(x)
        shape = tuple(x.shape[1:])
        hwd = (shape[1], shape[2], shape[0]) if len(shape) == 3 else (1, 1, shape[0])
        want.append((list(hwd), sum(p.numel() for p in layer.parameters())))
    got = [(row["shape_hwd"], row["params"]) for row in r.values["rows"]]
    assert got == want
    assert r.values["forward_shapes_hwd"] == [w[0] for w in want]
    assert r.verdict == "confirmed"


def _torch_stack(torch, weights):
    layers = []
    for W in weights:
        w = torch.tensor(W, dtype=torch.float64)
        layers.append((w, torch.full((w.shape[0],), 0.1, dtype=torch.float64)))
    return layers


def test_S2_Q2_4_receptive_field_gradients_match_torch():
    torch = pytest.importorskip("torch")
    r = run("S2-Q2.4")
    v = r.values
    assert v["channels"] == [1, 8, 8, 8, 8, 1] and v["side"] == 12
    layers = _torch_stack(torch, v["weights"])
    x = torch.tensor(v["image"], dtype=torch.float64).unsqueeze(0).requires_grad_()
    features, y = [], x
    for w, b in layers:
        y = torch.nn.functional.conv2d(y, w, b, stride=1, padding=2)
        features.append(y)
    for d, (feature, got) in enumerate(zip(features, v["corner_grads"]), start=1):
        (g,) = torch.autograd.grad(feature[0, 0, 0, 0], x, retain_graph=True)
        assert_all_close(got, g[0, 0].tolist(), rtol=1e-10, atol=0, what=f"depth {d}")
        rows, cols = torch.nonzero(g[0, 0], as_tuple=True)
        assert v["corner_boxes"][d - 1] == (0, int(rows.max()), 0, int(cols.max()),
                                            len(rows))
    c = v["centre_pixel"]
    for d, box in zip((1, 2), v["centre_boxes"]):
        (g,) = torch.autograd.grad(features[d - 1][0, 0, c, c], x, retain_graph=True)
        rows, cols = torch.nonzero(g[0, 0], as_tuple=True)
        assert box == (int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max()),
                       len(rows))
    assert v["reach"] == [(2 * d, 2 * d) for d in range(1, 6)]   # 2 pixels a layer
    assert v["field"][-1] == (21, 21)
    assert r.verdict == "confirmed"


def test_S2_Q2_4_pixels_built_on_demand_equal_nn_conv2d():
    torch = pytest.importorskip("torch")
    import random
    from microgradnet import nn
    rng = random.Random(3)
    convs = [nn.Conv2d(2, 3, 5, padding=2, rng=1), nn.Conv2d(3, 2, 3, padding=1, rng=2)]
    for conv in convs:
        conv.bias = [Value(rng.uniform(-1, 1)) for _ in conv.bias]
    image = [[[Value(rng.uniform(-1, 1)) for _ in range(5)] for _ in range(4)] for _ in range(2)]
    pixel = seed002._conv_pixels(convs, image)
    full = nn.Sequential(*convs)(image)
    for i in range(4):
        for j in range(5):
            assert [v.data for v in pixel(2, i, j)] == [full[f][i][j].data for f in range(2)]
    y = torch.tensor([[[v.data for v in row] for row in plane] for plane in image],
                     dtype=torch.float64).unsqueeze(0)
    for conv in convs:
        w = torch.tensor([[[[k.data for k in r_] for r_ in c] for c in f] for f in conv.weight],
                         dtype=torch.float64)
        b = torch.tensor([v.data for v in conv.bias], dtype=torch.float64)
        y = torch.nn.functional.conv2d(y, w, b, padding=conv.padding)
    assert_all_close([v.data for v in pixel(2, 3, 4)], y[0, :, 3, 4].tolist(), rtol=1e-12)
    with pytest.raises(ValueError, match="stride"):
        seed002._conv_pixels([nn.Conv2d(2, 1, 3, stride=2)], image)(1, 0, 0)


def test_S2_Q2_4_a_smaller_kernel_makes_it_an_erratum(monkeypatch):
    # Five 3x3 layers with padding 1 have an 11 x 11 field, not the seed's 21 x 21.
    from microgradnet import nn

    def three_by_three(rng):
        chans = seed002.Q24_CHANNELS
        return [nn.Conv2d.from_weights(
            [[[[rng.uniform(0.1, 1.0) for _ in range(3)] for _ in range(3)]
              for _ in range(cin)] for _ in range(cout)], [0.1] * cout, padding=1)
            for cin, cout in zip(chans, chans[1:])]

    monkeypatch.setattr(seed002, "_q24_layers", three_by_three)
    r = EXAMPLES["S2-Q2.4"].run()
    assert r.values["field"][-1] == (11, 11) and r.verdict == "erratum"


# ---- S2-Q2.1ab, S2-Q2.2: convolution sizes and counts ------------------------------------------

def test_S2_Q2_1ab_output_sides_match_torch_and_the_no_padding_rule_fails():
    torch = pytest.importorskip("torch")
    r = EXAMPLES["S2-Q2.1ab"].run()
    cases = r.values["cases"]
    assert len(cases) == 72
    for c in cases:
        x = torch.zeros(1, 1, c["n"], c["n"], dtype=torch.float64)
        w = torch.zeros(1, 1, c["f"], c["f"], dtype=torch.float64)
        out = torch.nn.functional.conv2d(x, w, stride=c["s"], padding=c["p"])
        assert (c["side"], c["width"]) == tuple(out.shape[2:]), c
        assert c["shrinks"] == (out.shape[2] < c["n"])
    # The seed's rule, by hand: a 1x1 filter without padding keeps the size; a 5x5 filter
    # with padding 1 shrinks it (by 2), though there is padding.
    kept = {(c["n"], c["f"], c["p"], c["s"]) for c in r.values["kept_without_padding"]}
    assert kept == {(5, 1, 0, 1), (8, 1, 0, 1)}
    shrunk = {(c["n"], c["f"], c["p"], c["s"]) for c in r.values["shrunk_with_padding"]}
    assert (8, 5, 1, 1) in shrunk and (8, 3, 1, 1) not in shrunk
    for s, count in r.values["params_by_stride"].items():
        assert count == sum(p.numel() for p in torch.nn.Conv2d(3, 4, 3, stride=s).parameters())
    for sweep in r.values["stride_sweeps"]:
        n, f, p = sweep["n"], sweep["f"], sweep["p"]
        assert sweep["sides"] == [(n + 2 * p - f) // s + 1 for s in (1, 2, 3)]
    assert r.verdict == "erratum"


def test_S2_Q2_1ab_verdict_follows_the_measured_sides(monkeypatch):
    # Sides that shrink exactly when unpadded (the seed's rule) and fall with the stride
    # would make the seed right; the formula check would stop the example, so patch it too.
    def seed_world(n, f, p, s):
        side = n - s if p == 0 else n + 3 - s
        return side, side

    monkeypatch.setattr(seed002, "_conv_output_side", seed_world)
    monkeypatch.setattr(seed002, "_side_formula", lambda n, f, p, s: seed_world(n, f, p, s)[0])
    assert EXAMPLES["S2-Q2.1ab"].run().verdict == "confirmed"


def test_S2_Q2_2_counts_match_torch_and_max_pool_stays_in_its_channel():
    torch = pytest.importorskip("torch")
    r = EXAMPLES["S2-Q2.2"].run()
    v = r.values
    for depth, count in v["weights_by_depth"].items():
        assert count == torch.nn.Conv2d(depth, 4, 3).weight.numel()
    for k, count in v["biases_by_filters"].items():
        assert count == torch.nn.Conv2d(3, k, 3).bias.numel()
    for key, total in v["totals_by_stride_padding"].items():
        s, p = (int(part.split("=")[1]) for part in key.split(","))
        layer = torch.nn.Conv2d(3, 4, (3, 2), stride=s, padding=p)
        assert total == sum(t.numel() for t in layer.parameters()) == (3 * 2 * 3 + 1) * 4
    x = torch.tensor(v["pool"]["image"], dtype=torch.float64, requires_grad=True)
    pooled = torch.nn.functional.max_pool2d(x, 2)
    assert_all_close(v["pool"]["pooled"], pooled.tolist(), rtol=0, atol=0)
    for c in range(x.shape[0]):
        (g,) = torch.autograd.grad(pooled[c].sum(), x, retain_graph=True)
        mass = g.abs().sum(dim=(1, 2)).tolist()
        assert_all_close(v["pool"]["grad_mass"][c], mass, rtol=0, atol=0)
        assert mass[c] == 4.0 and sum(mass) == 4.0   # one winner per 2x2 window, own channel
    assert v["engine"] == {"a": True, "b": True, "c": False, "d": True}
    assert r.verdict == "confirmed"


def test_S2_Q2_2_a_stride_dependent_count_makes_c_an_erratum(monkeypatch):
    from microgradnet import nn
    honest = nn.Conv2d.num_parameters
    monkeypatch.setattr(nn.Conv2d, "num_parameters", lambda self: honest(self) + self.stride[0])
    r = EXAMPLES["S2-Q2.2"].run()
    assert r.values["engine"]["c"] is True and r.verdict == "erratum"


def test_S2_Q2_2_pooling_across_channels_makes_d_an_erratum(monkeypatch):
    from microgradnet import nn
    honest = nn.MaxPool2d._one

    def mixing(self, x):   # every channel pooled from the channel-wise maximum
        out = honest(self, x)
        return [[[maximum(a, b) for a, b in zip(ra, rb)] for ra, rb in zip(out[c], out[-1])]
                for c in range(len(out))]

    monkeypatch.setattr(nn.MaxPool2d, "_one", mixing)
    r = EXAMPLES["S2-Q2.2"].run()
    assert r.values["engine"]["d"] is False and r.verdict == "erratum"


# ---- S2-Q5.3: step sizes and momentum ---------------------------------------------------------

def _float_descent(lr, mu=0.0, tol=1e-4, max_steps=3000, blow_up=1e3):
    """Heavy-ball GD on y^2 + (y - x)^2 in plain floats (PyTorch's momentum form)."""
    x, y, vx, vy = 1.0, 1.0, 0.0, 0.0
    for t in range(1, max_steps + 1):
        gx, gy = -2 * (y - x), 2 * y + 2 * (y - x)
        vx, vy = (gx, gy) if t == 1 else (mu * vx + gx, mu * vy + gy)
        x, y = x - lr * vx, y - lr * vy
        d = math.hypot(x, y)
        if d < tol:
            return t
        if d > blow_up:
            return "diverges"
    return None


def test_S2_Q5_3_threshold_and_momentum_match_numpy_and_a_float_iteration():
    np = pytest.importorskip("numpy")
    r = EXAMPLES["S2-Q5.3"].run()
    v = r.values
    lam = np.linalg.eigvalsh(np.array([[2.0, -2.0], [-2.0, 4.0]]))
    assert_all_close(v["eigenvalues"], lam.tolist(), rtol=1e-12)
    assert_close(v["threshold"], 2 / lam[-1], rtol=1e-12)
    assert_close(v["threshold"], 2 / (3 + math.sqrt(5)), rtol=1e-12)
    for run_ in list(v["plain"].values()) + list(v["momentum"].values()):
        want = _float_descent(run_["lr"], run_["momentum"])
        got = run_["steps"] if run_["converged"] else ("diverges" if run_["diverged"] else None)
        assert got == want, run_
    plain, heavy = v["plain"], v["momentum"]
    assert plain["below"]["converged"] and plain["above"]["diverged"] and plain["10"]["diverged"]
    assert plain["0.01"]["steps"] > plain["0.1"]["steps"] > plain["best"]["steps"]
    assert heavy["tuned"]["steps"] < plain["best"]["steps"]
    assert heavy["0.1, 0.9"]["steps"] > plain["0.1"]["steps"]    # too much momentum
    assert heavy["above, tuned"]["converged"]                    # stable past 2/lambda_max
    assert r.verdict == "confirmed"


def test_S2_Q5_3_momentum_ignored_by_the_optimiser_makes_it_an_erratum(monkeypatch):
    from microgradnet import optim
    honest = optim.SGD.__init__

    def no_momentum(self, params, lr, momentum=0.0, **kw):
        honest(self, params, lr, momentum=0.0, **kw)

    monkeypatch.setattr(optim.SGD, "__init__", no_momentum)
    r = EXAMPLES["S2-Q5.3"].run()
    assert not r.values["claims"]["momentum_faster"] and r.verdict == "erratum"


# ---- confirmed claims turn into errata when the engine's numbers are broken -------------------

def test_S2_Q1_3_a_smooth_relu_at_zero_makes_it_an_erratum(monkeypatch):
    monkeypatch.setattr(seed002, "one_sided", lambda f, xs: [(0.5, 0.5)])
    assert EXAMPLES["S2-Q1.3"].run().verdict == "erratum"


def test_S2_Q2_1d_batch_norm_that_does_not_centre_makes_it_an_erratum(monkeypatch):
    from microgradnet import nn
    monkeypatch.setattr(nn.batchnorm._BatchNorm, "_normalise",
                        lambda self, c, xs: [x * 1.0 for x in xs])
    assert EXAMPLES["S2-Q2.1d"].run().verdict == "erratum"


def test_S2_Q2_3_a_miscounted_conv_makes_it_an_erratum(monkeypatch):
    from microgradnet import nn
    honest = nn.Conv2d.num_parameters
    monkeypatch.setattr(nn.Conv2d, "num_parameters", lambda self: honest(self) + 1)
    assert EXAMPLES["S2-Q2.3"].run().verdict == "erratum"


def test_S2_Q5_a_step_of_twice_the_rate_makes_it_an_erratum(monkeypatch):
    from microgradnet import optim
    honest = optim.SGD.__init__
    monkeypatch.setattr(optim.SGD, "__init__",
                        lambda self, params, lr, **kw: honest(self, params, 2 * lr, **kw))
    assert EXAMPLES["S2-Q5"].run().verdict == "erratum"
