"""Worked examples of seed 004: each claim's engine values against an independent oracle
(PyTorch float64, least squares, or math) and its verdict."""
from __future__ import annotations

import math

import pytest

from helpers import assert_all_close, assert_close
from microgradnet.catalogue import EXAMPLES

IDS = ["S4-Q1a", "S4-Q1b", "S4-Q1c", "S4-Q2a", "S4-Q2c", "S4-Q3a0", "S4-Q3a", "S4-Q3b",
       "S4-Q3c", "S4-Q3d", "S4-Q4a", "S4-Q4b", "S4-Xavier"]


def run(claim: str):
    ex = EXAMPLES[claim]
    assert ex.seed == "004_cb0f231e9ae3b1c7.txt"
    return ex.run()


def test_every_seed004_claim_is_registered():
    assert sorted(k for k in EXAMPLES if k.startswith("S4-")) == sorted(IDS)


def test_regression_gradients_match_torch():
    torch = pytest.importorskip("torch")
    r = run("S4-Q1a")
    assert r.verdict == "confirmed"
    X = torch.tensor(r.extra["x"], dtype=torch.float64)
    y = torch.tensor(r.extra["y"], dtype=torch.float64)
    w = torch.tensor([v.data for v in r.extra["w"]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(r.extra["b"].data, dtype=torch.float64, requires_grad=True)
    (((y - (X @ w + b)) ** 2).sum() / (2 * len(y))).backward()
    assert_all_close(r.values["grad_w"], w.grad.tolist(), what="dL/dw")
    assert_close(r.values["grad_b"], b.grad.item(), what="dL/db")
    assert r.values["err"] < 1e-12


def test_regression_gradient_verdict_turns_when_the_loss_loses_its_half(monkeypatch):
    """With 1/n in place of 1/(2n) the gradients double and the sheet's formulas no longer
    match them."""
    from microgradnet.catalogue import seed004
    half_mse = seed004._half_mse
    monkeypatch.setattr(seed004, "_half_mse", lambda *a, **k: half_mse(*a, **k) * 2)
    assert run("S4-Q1a").verdict == "erratum"


def test_normal_equation_equals_gradient_descent_limit():
    torch = pytest.importorskip("torch")
    r = run("S4-Q1b")
    assert r.verdict == "confirmed"
    X = torch.tensor(r.extra["x"], dtype=torch.float64)
    A = torch.cat([torch.ones(len(X), 1, dtype=torch.float64), X], dim=1)
    y = torch.tensor(r.extra["y"], dtype=torch.float64)[:, None]
    lstsq = torch.linalg.lstsq(A, y).solution[:, 0].tolist()
    assert_all_close(r.values["theta_normal"], lstsq, rtol=1e-10, atol=1e-12, what="normal")
    assert_all_close(r.values["theta_gd"], lstsq, rtol=1e-9, atol=1e-10, what="GD limit")
    # The seed's design matrix [1, -x^T] gives the same bias and negated weights.
    b, *w = lstsq
    assert_all_close(r.values["theta_seed_X"], [b] + [-v for v in w], rtol=1e-10, atol=1e-12)
    # The gradient at the solution, by torch: the stationarity the seed solves for.
    theta = torch.tensor(r.values["theta_normal"], dtype=torch.float64, requires_grad=True)
    (((y[:, 0] - A @ theta) ** 2).sum() / (2 * len(X))).backward()
    assert_all_close(r.values["grad_at_normal"], theta.grad.tolist(), atol=1e-15)
    assert r.values["max_abs_grad_at_normal"] < 1e-14
    assert r.values["err_literal_minus"] > 0.5


def test_normal_equation_verdict_turns_when_the_solve_is_off(monkeypatch):
    """A solve that keeps the literal '-x^T' rows (weights negated) no longer matches the
    gradient-descent limit: erratum."""
    from microgradnet.catalogue import seed004
    solve = seed004._normal_equation
    monkeypatch.setattr(seed004, "_normal_equation",
                        lambda X, Y: solve([[r[0]] + [-v for v in r[1:]] for r in X], Y))
    assert run("S4-Q1b").verdict == "erratum"


def test_closed_form_cost_grows_linearly_in_n():
    r = run("S4-Q1c")
    assert r.verdict == "erratum"
    v = r.values
    # Doubling n doubles both costs (n^3 would multiply the closed form by 8).
    for counts in (v["gd_nodes_n"], v["closed_nodes_n"]):
        for a, b in zip(counts, counts[1:]):
            assert 1.9 < b / a < 2.1, counts
    assert 0.95 < v["closed_in_n"] < 1.05
    assert 0.95 < v["gd_in_n"] < 1.05
    assert 0.85 < v["gd_in_d"] < 1.05                 # O(n d) per step
    assert v["gd_holds"] and not v["closed_holds"]


def test_closed_form_parts_cost_d_squared_and_d_cubed():
    """Counted by hand: X^T X and X^T Y take (d+1)^2 + (d+1) sums of n products (2n - 1 nodes
    each) over n (d + 2) leaves; elimination on p unknowns takes, for column c, p - 1 - c
    rows of one division and 2 (p - c) updates, and back substitution 2 (p - 1 - r) + 1."""
    v = run("S4-Q1c").values
    n0 = 32
    for d, got in zip(v["d"], v["form_nodes_d"]):
        p = d + 1
        assert got == p * p * (2 * n0 - 1) + p * (2 * n0 - 1) + n0 * (d + 2)
    for p, got in zip(v["p"], v["solve_nodes_p"]):
        want = sum((p - 1 - c) * (1 + 2 * (p - c)) for c in range(p)) \
            + sum(2 * (p - 1 - r) + 1 for r in range(p))
        assert got == want, (p, got, want)
    # 2/3 p^3 + O(p^2): a cube, told apart from a square.
    assert 2.8 < v["solve_in_p"] < 3.1 and 1.7 < v["form_in_d"] < 2.1


def test_cost_verdict_turns_when_the_closed_form_grows_as_n_cubed(monkeypatch):
    """A normal-equation graph that grows like n^3 (the seed's bound) turns the verdict."""
    from microgradnet.catalogue import seed004
    from microgradnet.engine import Value
    solve = seed004._normal_equation

    def padded(X, Y):
        theta = solve(X, Y)
        n = len(X)
        extra = seed004.nested.total([Value(1.0) for _ in range(n * n * n // 20)])
        return [t + extra * 0.0 for t in theta]
    monkeypatch.setattr(seed004, "_normal_equation", padded)
    r = run("S4-Q1c")
    assert r.values["closed_in_n"] > 2.5
    assert r.verdict == "confirmed"


def test_sigmoid_slope_at_most_a_quarter_and_relu_kink_convention():
    torch = pytest.importorskip("torch")
    r = run("S4-Q2a")
    assert r.verdict == "convention"
    x = torch.linspace(-10, 10, 2001, dtype=torch.float64, requires_grad=True)
    torch.sigmoid(x).sum().backward()
    assert_close(r.values["max_sigmoid_slope"], x.grad.max().item(), what="max sigma'")
    assert_close(r.values["max_sigmoid_slope"], 0.25)
    assert_close(r.values["argmax"], 0.0, atol=1e-12)
    assert_close(r.values["second_derivative_at_0"], 0.0, atol=1e-15)
    assert r.values["err_sigmoid"] < 1e-15
    left, right = r.values["relu_one_sided_at_0"]
    assert_close(left, 0.0, atol=1e-6)
    assert_close(right, 1.0, atol=1e-6)
    assert r.values["relu_seed_at_0"] == 1.0
    z = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    torch.relu(z).backward()
    assert r.values["relu_default_at_0"] == z.grad.item() == 0.0
    # torch: the slope through the chains of 10 units from 0.5.
    for name, f in (("sigmoid", torch.sigmoid), ("relu", torch.relu)):
        x0 = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        a = x0
        for _ in range(r.values["chain_depth"]):
            a = f(a)
        a.backward()
        assert_close(r.values["chain_slope"][name], x0.grad.item(), rtol=1e-12, what=name)
    assert r.values["chain_slope"]["sigmoid"] < 0.25 ** 10 * 2


def test_activation_verdict_turns_when_the_slope_is_not_s_one_minus_s(monkeypatch):
    """tanh in the sigmoid's place: its slope is 1 - tanh^2 (up to 1), not s (1 - s)."""
    from microgradnet import Value
    monkeypatch.setattr(Value, "sigmoid", lambda self: self.tanh())
    r = run("S4-Q2a")
    assert not r.values["sigmoid_holds"] and r.verdict == "erratum"


def test_sigmoid_slopes_vanish_for_large_weights_against_torch():
    torch = pytest.importorskip("torch")
    r = run("S4-Q2c")
    v = r.values
    x = torch.tensor(v["x"], dtype=torch.float64, requires_grad=True)
    for w0, gx, gw in zip(v["weights"], v["ds_dx"], v["ds_dw"]):
        w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
        tx, tw = torch.autograd.grad(torch.sigmoid(w * x), [x, w])
        assert_close(gx, tx.item(), rtol=1e-12, atol=1e-300, what=f"ds/dx at w={w0}")
        assert_close(gw, tw.item(), rtol=1e-12, atol=1e-300, what=f"ds/dw at w={w0}")
    assert v["err_analytic"] < 1e-15
    # math: d/dw (w sigma'(wx)) = 0 where 1 + u (1 - 2 sigma(u)) = 0, u = w x.
    u = v["peak_w"] * v["x"]
    assert abs(1 + u * (1 - 2 / (1 + math.exp(-u)))) < 1e-9
    assert abs(v["ds_dx"][-2]) < 1e-8 and abs(v["ds_dw"][-1]) < 1e-9
    assert r.verdict == "confirmed"


def test_sigmoid_saturation_verdict_follows_the_slopes(monkeypatch):
    """A unit that never saturates (a line through sigmoid(0) with slope 1/4) keeps its
    gradient: the verdict turns to erratum."""
    from microgradnet import Value
    monkeypatch.setattr(Value, "sigmoid", lambda self: self * 0.25 + 0.5)
    r = run("S4-Q2c")
    assert r.verdict == "erratum"
    assert r.values["peak_w"] is None


def test_bias_free_models_at_the_origin_against_torch():
    torch = pytest.importorskip("torch")
    r = run("S4-Q3a0")
    v = r.values
    assert r.verdict == "confirmed"
    assert v["logit_at_0_no_bias"] == [0.0] * 3
    assert all(abs(z) > 0.4 for z in v["logit_at_0_with_bias"])
    acts = {"identity": lambda t: t, "tanh": torch.tanh, "relu": torch.relu,
            "leaky_relu": lambda t: torch.nn.functional.leaky_relu(t, 0.01),
            "swish": torch.nn.functional.silu, "sigmoid": torch.sigmoid,
            "softplus": torch.nn.functional.softplus}
    assert set(acts) == set(v["f_at_0"])
    u = torch.tensor(v["u"], dtype=torch.float64)
    for name, g in acts.items():
        net = r.extra["nets"][name]
        Ws = [torch.tensor([[w.data for w in row] for row in layer.weight],
                           dtype=torch.float64) for layer in net.layers[::2]]

        def f(x, Ws=Ws, g=g):
            for k, W in enumerate(Ws):
                x = W @ x
                x = g(x) if k < len(Ws) - 1 else x
            return x.item()
        zero = torch.zeros(3, dtype=torch.float64)
        assert_close(v["f_at_0"][name], f(zero), atol=1e-15, what=f"f(0), {name}")
        assert_close(v["f_near_0"][name], f(v["eps"] * u), rtol=1e-12, atol=1e-15,
                     what=f"f(eps u), {name}")
        assert_close(v["g_at_0"][name], g(zero)[0].item(), atol=1e-15, what=f"g(0), {name}")
        assert (v["f_at_0"][name] == 0.0) == (g(zero)[0].item() == 0.0), name
    # ReLU networks without bias are positively homogeneous: f(eps u) = eps f(u).
    assert_close(v["f_near_0"]["relu"], v["eps"] * v["f_at_u"]["relu"], rtol=1e-12)
    assert abs(v["f_at_0"]["sigmoid"]) > 0.1 and abs(v["f_at_0"]["softplus"]) > 0.1


def test_bias_free_verdict_turns_when_a_layer_adds_a_constant(monkeypatch):
    from microgradnet import nn
    one = nn.Linear._one
    monkeypatch.setattr(nn.Linear, "_one", lambda self, x: [y + 0.3 for y in one(self, x)])
    r = run("S4-Q3a0")
    assert r.verdict == "erratum"
    assert not r.values["boundary_through_origin"]


def test_l1_step_multiplies_the_whole_gradient_by_the_learning_rate():
    torch = pytest.importorskip("torch")
    r = run("S4-Q3a")
    assert r.verdict == "erratum"
    v = r.values
    w = torch.tensor(v["w0"], dtype=torch.float64, requires_grad=True)
    lr, lam = v["lr"], v["lam"]
    a = torch.tensor(v["a"], dtype=torch.float64)
    loss = 0.5 * ((w - a) ** 2).sum() + lam * w.abs().sum()
    loss.backward()
    assert_all_close(v["step"], (w - lr * w.grad).tolist(), what="L1 step")
    assert v["err_autodiff_step"] < 1e-12
    assert v["err_seed_step"] > 0.1 and not v["rule_holds"]
    # The graph shown by `show` still holds the weights the step started from.
    assert [x.data for x in r.extra["w"]] == v["w0"]


def test_l1_subgradient_chatters_and_the_proximal_step_lands_on_zero():
    torch = pytest.importorskip("torch")
    v = run("S4-Q3a").values
    lam, lr, targets = v["lam_run"], v["lr_run"], v["targets"]
    # torch: ISTA, a data step then softshrink(lr * lam), from w = 0.5.
    a = torch.tensor(targets, dtype=torch.float64)
    w = torch.full((len(targets),), 0.5, dtype=torch.float64)
    for _ in range(v["steps"]):
        w = torch.nn.functional.softshrink(w - lr * (w - a), lr * lam)
    assert_all_close(v["final_l1_proximal"], w.tolist(), rtol=1e-12, atol=0.0, what="ISTA")
    for i, (t, sub, prox, l2) in enumerate(zip(targets, v["final_l1"], v["final_l1_proximal"],
                                               v["final_l2"])):
        assert_close(l2, t / (1 + lam), rtol=1e-6, what="L2 fixed point")
        if abs(t) <= lam:
            assert i in v["small_targets"]
            assert prox == 0.0                                  # exactly zero
            assert sub != 0.0                                   # never reaches it
            assert abs(sub) <= lr * (lam + abs(t)) + 1e-12      # but chatters next to it
            assert abs(l2) > 0.04
        else:
            assert_close(sub, t - math.copysign(lam, t), rtol=1e-5, what="soft threshold")
            assert_close(prox, t - math.copysign(lam, t), rtol=1e-5, what="soft threshold")
    assert v["exact_zeros"] == {"subgradient": 0, "proximal": 3, "l2": 0}
    assert v["chatter_sign_flips"] > v["tail"]      # each small weight flips most steps
    assert 0 < v["chatter_max_abs"] <= lr * (lam + 0.15) + 1e-12


def test_l1_verdict_follows_the_step_and_the_zeros(monkeypatch):
    """The seed's rule as the optimiser's step, and proximal steps standing in for the
    sub-gradient run: each turns its part, both together turn the verdict to confirmed."""
    from microgradnet.catalogue import seed004

    def seed_rule(w0, g_data, lr, lam):
        return [x - lr * math.copysign(1.0, x) - g for x, g in zip(w0, g_data)]
    run_l1 = seed004._l1_run

    def proximal_run(targets, lam, lr, steps, **penalty):
        if "l1" in penalty:
            penalty["l1_step"] = "proximal"
        return run_l1(targets, lam, lr, steps, **penalty)
    monkeypatch.setattr(seed004, "_l1_step", seed_rule)
    r = run("S4-Q3a")
    assert r.values["rule_holds"] and not r.values["zeros_hold"] and r.verdict == "erratum"
    monkeypatch.setattr(seed004, "_l1_run", proximal_run)
    r = run("S4-Q3a")
    assert r.values["rule_holds"] and r.values["zeros_hold"] and r.verdict == "confirmed"


def test_input_noise_adds_half_the_stated_penalty():
    r = run("S4-Q3b")
    assert r.verdict == "erratum"
    v = r.values
    norm2 = sum(w * w for w in v["w"])
    assert_close(v["norm2"], norm2)
    expected = v["clean_loss"] + v["s"] ** 2 * norm2 / 2          # math: E[(d.w)^2] = s^2|w|^2
    assert v["pairs"] >= 1000 and v["standard_error"] < 0.005
    assert abs(v["monte_carlo"] - expected) < 4 * v["standard_error"]
    assert abs(v["monte_carlo"] - v["seed_value"]) > 15 * v["standard_error"]
    assert abs(v["penalty_ratio"] - 0.5) < 4 * v["standard_error"] / (v["s"] ** 2 * norm2)


def test_input_noise_clean_loss_against_torch():
    torch = pytest.importorskip("torch")
    r = run("S4-Q3b")
    from microgradnet.catalogue import seed004
    xs, ys = seed004._regression_data(4, 2, seed=46)
    X, y = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    w = torch.tensor(r.values["w"], dtype=torch.float64)
    assert_close(r.values["clean_loss"], (((y - X @ w) ** 2).sum() / 8).item(), rtol=1e-12)


def test_input_noise_verdict_turns_with_twice_the_noise_variance(monkeypatch):
    """Noise of variance 2 s^2 makes the expected penalty s^2 ||w||^2, the seed's box."""
    from microgradnet.catalogue import seed004
    monkeypatch.setattr(seed004, "_input_noise", lambda rng, s: rng.gauss(0, s * math.sqrt(2)))
    assert run("S4-Q3b").verdict == "confirmed"


def test_batch_statistics_noise_shrinks_with_batch_size():
    r = run("S4-Q3c")
    assert r.verdict == "confirmed"
    v = r.values
    s, K = v["s"], v["batches"]
    assert K >= 250
    for B, sd_m, sd_v in zip(v["sizes"], v["sd_batch_mean"], v["sd_batch_var"]):
        # math: sd of the batch mean s/sqrt(B); of the biased variance sqrt(2(B-1)) s^2 / B.
        assert_close(sd_m, s / math.sqrt(B), rtol=0.15, what=f"sd mean B={B}")
        assert_close(sd_v, math.sqrt(2 * (B - 1)) * s * s / B, rtol=0.25, what=f"sd var B={B}")
    assert all(a > b for a, b in zip(v["sd_batch_mean"], v["sd_batch_mean"][1:]))


def test_batch_statistics_verdict_turns_when_the_spread_does_not_shrink(monkeypatch):
    """A batch norm whose running mean ignores the batch (always mu) has no spread to shrink."""
    from microgradnet import nn
    forward = nn.BatchNorm1d.forward

    def fixed(self, x):
        out = forward(self, x)
        self.running_mean[0] = 1.0
        self.running_var[0] = 4.0
        return out
    monkeypatch.setattr(nn.BatchNorm1d, "forward", fixed)
    assert run("S4-Q3c").verdict == "erratum"


def test_adam_first_moment_against_torch_and_the_geometric_sum():
    torch = pytest.importorskip("torch")
    r = run("S4-Q3d")
    assert r.verdict == "erratum"
    v = r.values
    b1 = v["beta1"]
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=0.01, betas=(b1, 0.999))
    for g, m in zip(v["grads"], v["m"]):
        opt.zero_grad()
        (theta * g).sum().backward()
        opt.step()
        assert_close(m, opt.state[theta]["exp_avg"].item(), what="m_t")
    assert_all_close(v["m"], v["unrolled"], rtol=1e-12, atol=1e-15)
    t_max = len(v["factor"])
    assert_all_close(v["factor"], [1 - b1 ** t for t in range(1, t_max + 1)], rtol=1e-12)
    assert_all_close(v["m_hat_const"], [v["const_g"]] * t_max, rtol=1e-12)
    t = v["t"]
    assert_close(v["geometric_sum"], (1 - b1 ** t) / (1 - b1), rtol=1e-12)
    assert abs(v["seed_geometric_sum"] - v["geometric_sum"]) > 1.0
    assert v["conclusion_holds"] and not v["geometric_holds"]
    for k, got in v["one_minus_beta1_t"].items():
        assert_close(got, 1 - b1 ** k, rtol=1e-12, what=f"1 - b1^{k}")


def test_adam_step_through_matches_torch_for_two_steps():
    torch = pytest.importorskip("torch")
    v = run("S4-Q3d").values
    steps = v["adam_steps"]
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=0.01, betas=(v["beta1"], 0.999), eps=1e-8)
    for t, g in enumerate(v["grads"][:2]):
        opt.zero_grad()
        (theta * g).sum().backward()
        opt.step()
        st = opt.state[theta]
        assert_close(steps["m"][t], st["exp_avg"].item(), rtol=1e-12, what="m")
        assert_close(steps["v"][t], st["exp_avg_sq"].item(), rtol=1e-12, what="v")
        assert_close(steps["theta"][t], theta.item(), rtol=1e-12, what="theta")
        assert_close(steps["m_hat"][t], st["exp_avg"].item() / (1 - v["beta1"] ** (t + 1)),
                     rtol=1e-12, what="m_hat")


def test_adam_verdict_parts_follow_the_moments(monkeypatch):
    """Moments that follow the seed's geometric sum, m_t = (1 - b1) g b1^(t-1)/(b1 - 1), make
    that line hold and its conclusion (1 - b1^t) fail: the sheet's two lines cannot both
    hold, so the verdict stays erratum while the part that decides it turns."""
    from microgradnet.catalogue import seed004
    moments = seed004._adam_moments

    def seed_moments(gs, b1):
        if len(set(gs)) > 1:
            return moments(gs, b1)
        g = gs[0]
        m = [(1 - b1) * g * b1 ** (t - 1) / (b1 - 1) for t in range(1, len(gs) + 1)]
        return m, [x / (1 - b1 ** t) for t, x in enumerate(m, start=1)]
    monkeypatch.setattr(seed004, "_adam_moments", seed_moments)
    r = run("S4-Q3d")
    assert r.values["geometric_holds"] and not r.values["conclusion_holds"]
    assert r.verdict == "erratum"


def test_zero_initialised_sigmoid_network():
    torch = pytest.importorskip("torch")
    r = run("S4-Q4a")
    assert r.verdict == "confirmed"
    v = r.values
    assert v["outputs"] and all(o == 0.5 for o in v["outputs"])
    assert v["two_layer_output"] == 0.5
    assert v["signs"][0] != v["signs"][1]
    # torch: the 3-2-1 sigmoid network from zero, one example.
    x = torch.tensor([0.3, -1.2, 0.8], dtype=torch.float64)
    W1 = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    W2 = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
    p = torch.sigmoid(W2 @ torch.sigmoid(W1 @ x))
    torch.nn.functional.binary_cross_entropy(p, torch.ones(1, dtype=torch.float64)).backward()
    assert_all_close(v["hidden_weight_grads"], W1.grad.flatten().tolist(), what="hidden")
    assert_all_close(v["output_weight_grads"], W2.grad.flatten().tolist(), what="output")
    assert all(g == 0.0 for g in v["hidden_weight_grads"])
    assert len(set(v["output_weight_grads"])) == 1


def test_zero_init_verdict_turns_when_the_output_unit_is_not_centred_at_half(monkeypatch):
    from microgradnet import nn
    monkeypatch.setattr(nn.Sigmoid, "fn", lambda self, v: v.tanh() * 0.5 + 0.6)
    r = run("S4-Q4a")
    assert r.values["outputs"][0] == 0.6 and r.verdict == "erratum"


def test_zero_initialised_softmax_model_gradients():
    torch = pytest.importorskip("torch")
    r = run("S4-Q4b")
    assert r.verdict == "erratum"
    v = r.values
    d = len(v["du"])
    u = torch.zeros(d, dtype=torch.float64, requires_grad=True)
    m = v["seed_du_formula"].index(min(v["seed_du_formula"]))
    torch.nn.functional.cross_entropy(u[None], torch.tensor([m])).backward()
    assert_all_close(v["du"], u.grad.tolist(), what="dL/du")
    assert_all_close(v["du"], [1 / d - (j == m) for j in range(d)], what="1/d - I")
    assert max(abs(g) for g in v["du"]) > 0.1          # the seed's "= 0" is wrong
    assert v["max_abs_dW"] == 0.0 and v["max_abs_dWp"] == 0.0
    assert v["err_du_formula_random"] < 1e-12


def test_softmax_model_partials_at_random_weights_show_the_index_slip():
    torch = pytest.importorskip("torch")
    v = run("S4-Q4b").values
    x = torch.tensor(v["random_x"], dtype=torch.float64)
    W = torch.tensor(v["random_W"], dtype=torch.float64, requires_grad=True)
    Wp = torch.tensor(v["random_Wp"], dtype=torch.float64, requires_grad=True)
    u = Wp.T @ (W.T @ x)
    torch.nn.functional.cross_entropy(u[None], torch.tensor([1])).backward()
    assert_all_close(v["random_dW"], W.grad.tolist(), what="dL/dW")
    assert_all_close(v["random_dWp"], Wp.grad.tolist(), what="dL/dW'")
    # dL/dW'_ij = dL/du_j h_i with h = W^T x; the sheet's sum_k W_ik x_k is (W x)_i.
    du = torch.softmax(u, 0).detach() - torch.nn.functional.one_hot(torch.tensor(1), 4)
    assert_all_close(Wp.grad.tolist(), torch.outer(W.detach().T @ x, du).tolist())
    slip = torch.outer(W.detach() @ x, du)
    assert (slip - Wp.grad).abs().max().item() > 0.5
    assert v["err_dWp_seed"] > 0.5 and v["err_dWp_fixed"] < 1e-12 and v["err_dW_seed"] < 1e-12


def test_softmax_verdict_parts_follow_the_model(monkeypatch):
    """A loss whose gradient vanishes at u = 0 makes the sheet's dL/du = 0 hold; the verdict
    stays erratum on the dL/dW' slip. Reading the model as h = W x instead (square W) makes the
    sheet's dL/dW' hold and its dL/dW fail: the two formulas assume different models, so no
    model makes both hold."""
    from microgradnet.catalogue import seed004
    model = seed004._word2vec

    def flat_loss(x, W, Wp, m):
        h, u, _ = model(x, W, Wp, m)
        return h, u, seed004.nested.total([ui * ui for ui in u]) * 0.5
    monkeypatch.setattr(seed004, "_word2vec", flat_loss)
    r = run("S4-Q4b")
    assert r.values["du_zero"] and r.values["err_dWp_seed"] > 0.5 and r.verdict == "erratum"

    def h_is_w_x(x, W, Wp, m):
        if len(W) != len(W[0]):
            return flat_loss(x, W, Wp, m)
        Wt = [list(col) for col in zip(*W)]          # the same nodes: h = Wt^T x = W x
        return flat_loss(x, Wt, Wp, m)
    monkeypatch.setattr(seed004, "_word2vec", h_is_w_x)
    r = run("S4-Q4b")
    assert r.values["du_zero"] and r.values["err_dWp_seed"] < 1e-12
    assert r.values["err_dW_seed"] > 0.1 and r.verdict == "erratum"
    # Symmetric random weights hide the slip as zero weights do (W x = W^T x): confirmed.
    values = seed004.nested.values

    def symmetric(xs, label=""):
        if len(xs) == len(xs[0]) and isinstance(xs[0], list):
            xs = [[(a + b) / 2 for a, b in zip(row, col)] for row, col in zip(xs, zip(*xs))]
        return values(xs, label)
    monkeypatch.setattr(seed004, "_word2vec", flat_loss)
    monkeypatch.setattr(seed004.nested, "values", symmetric)
    r = run("S4-Q4b")
    assert r.values["err_dWp_seed"] < 1e-12 and r.verdict == "confirmed"


def _torch_layer_stats(torch, act, width, layers, networks, var_x=1.0):
    """The example's statistics from many more torch float64 networks: the mean per-network
    gain sum z_l^2 / sum z_(l-1)^2 and the plain mean of z_l^2, per layer."""
    gen = torch.Generator().manual_seed(0)
    y = torch.randn(networks, width, 1, generator=gen, dtype=torch.float64) * var_x ** 0.5
    before = (y ** 2).sum(dim=(1, 2))
    gains, var = [], []
    for _ in range(layers):
        W = torch.randn(networks, width, width, generator=gen, dtype=torch.float64) / width ** 0.5
        z = W @ y
        after = (z ** 2).sum(dim=(1, 2))
        gains.append((after / before).mean().item())
        var.append((after / width).mean().item())
        before, y = after, act(z)
    return gains, var


def test_variance_kept_only_for_the_identity():
    torch = pytest.importorskip("torch")
    r = run("S4-Xavier")
    v = r.values
    N, L = v["N"], v["layers"]
    gains, se = v["gains"], v["gain_se"]
    assert v["networks"] >= 100 and v["identity_networks"] >= 250

    def near(got, want, err, what):
        assert abs(got - want) <= 4 * err, f"{what}: {got} against {want} (se {err})"
    for layer in range(L):
        # math: a linear layer with Var(w) = 1/N keeps E[z^2]; a ReLU in front halves it,
        # He's 2/N makes up for it.
        near(gains["identity"][layer], 1.0, se["identity"][layer], f"identity {layer + 1}")
        near(gains["relu"][layer], 1.0 if layer == 0 else 0.5, se["relu"][layer],
             f"relu {layer + 1}")
        near(gains["relu_he"][layer], 1.0, se["relu_he"][layer], f"He {layer + 1}")
        assert se["identity"][layer] < 0.05 and se["relu"][layer] < 0.1
    # torch: tanh, the same statistics over 20000 networks.
    t_gains, t_var = _torch_layer_stats(torch, torch.tanh, N, L, 20000)
    for layer in range(L):
        near(gains["tanh"][layer], t_gains[layer], se["tanh"][layer], f"tanh gain {layer + 1}")
        near(v["var_tanh"][layer], t_var[layer], v["var_tanh_se"][layer], f"tanh var {layer + 1}")
    assert t_var[-1] < 0.15 and v["var_tanh"][-1] < 0.15            # 1 -> about 0.1
    s_gains, _ = _torch_layer_stats(torch, torch.tanh, N, L, 20000, var_x=0.01)
    for layer in range(L):
        near(gains["tanh_small_x"][layer], s_gains[layer], se["tanh_small_x"][layer],
             f"tanh near 0, layer {layer + 1}")
        assert s_gains[layer] > 0.97
    assert v["kept"] == {"identity": True, "tanh": False, "relu": False, "relu_he": True,
                         "tanh_small_x": True}
    assert r.verdict == "erratum"


def test_variance_contrasts_and_the_init_names():
    v = run("S4-Xavier").values
    N, K = v["N"], v["contrast_networks"]
    for layer in range(1, v["layers"] + 1):
        # math: 2/N and 1/(2N) multiply E[z^2] by 2 and 1/2 per layer; the relative spread
        # of a product of `layer` mean gains is about sqrt(layer * (2/N) / K).
        rel = 4 * math.sqrt(layer * (2 / N) / K)
        assert_close(v["var_2_over_N"][layer - 1], 2.0 ** layer, rtol=rel)
        assert_close(v["var_half_over_N"][layer - 1], 0.5 ** layer, rtol=rel)
    # fan_in 8, fan_out 24: LeCun keeps 1, Glorot gives 8 * 2 / (8 + 24) = 1/2.
    for name, want in (("lecun", 1.0), ("xavier", 0.5)):
        err = v[f"se_fan_8_to_24_{name}"]
        assert err < 0.1
        assert abs(v[f"var_fan_8_to_24_{name}"] - want) <= 4 * err


def test_variance_verdict_turns_when_every_g_is_linear(monkeypatch):
    from microgradnet import nn
    monkeypatch.setattr(nn.Tanh, "fn", lambda self, v: v)
    monkeypatch.setattr(nn.ReLU, "fn", lambda self, v: v)
    assert run("S4-Xavier").verdict == "confirmed"
