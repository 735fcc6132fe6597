"""Worked examples of seed 003: each claim's engine values against an independent oracle
(PyTorch float64, central differences, or math) and its verdict."""
from __future__ import annotations

import math

import pytest

from helpers import assert_all_close, assert_close
from microgradnet import Value, nn
from microgradnet.catalogue import EXAMPLES, seed003
from microgradnet.nested import data_of
from microgradnet.checks import numerical_grad

IDS = ["S3-Q1.1", "S3-Q1.2", "S3-Q1.3", "S3-Q1.4", "S3-Q1.5", "S3-Q7.1", "S3-Q7.2"]


def run(claim: str):
    ex = EXAMPLES[claim]
    assert ex.seed == "003_46b4f35227c027e8.txt"
    return ex.run()


def test_every_seed003_claim_is_registered():
    assert sorted(k for k in EXAMPLES if k.startswith("S3-") and k != "S3-Q2-5") == sorted(IDS)


@pytest.mark.parametrize("claim", IDS)
def test_every_seed003_example_states_its_problem(claim):
    problem = run(claim).problem
    assert 80 < len(problem) < 600 and "seed 003" in problem


@pytest.mark.parametrize("claim", IDS)
def test_step_through_lines_stay_readable(claim):
    from microgradnet.catalogue.run import explain_result
    e = explain_result(run(claim))
    assert e is not None
    widest = max(len(line) for line in str(e).splitlines())
    assert widest <= 400, f"{claim}: a step-through line of {widest} characters"


def test_verdict_by_reading_picks_from_the_numbers():
    v = seed003._verdict_by_reading
    assert v({"a": True, "b": True}) == "confirmed"
    assert v({"a": True, "b": False}) == "convention"
    assert v({"a": False, "b": False}) == "erratum"
    with pytest.raises(ValueError):
        v({})


def test_fully_connected_backward_erratum_on_bias_and_input_gradients():
    torch = pytest.importorskip("torch")
    r = run("S3-Q1.1")
    assert r.verdict == "erratum"
    X = torch.tensor(data_of(r.extra["X"]), dtype=torch.float64, requires_grad=True)
    W = torch.tensor(r.extra["W"], dtype=torch.float64, requires_grad=True)      # d x m
    b = torch.tensor(data_of(r.extra["layer"].bias), dtype=torch.float64, requires_grad=True)
    G = torch.tensor(r.extra["G"], dtype=torch.float64)
    ((X @ W + b) * G).sum().backward()
    assert_all_close(r.values["dW"], W.grad.tolist(), what="dW")
    assert_all_close(r.values["db"], b.grad.tolist(), what="db")
    assert_all_close(r.values["dX"], X.grad.tolist(), what="dX")
    # X^T dY is right; dY for db only with one sample; W dY does not even conform.
    assert r.values["err_dW"] < 1e-12
    assert r.values["err_db"] == math.inf and r.values["err_db_sum"] < 1e-12
    assert r.values["err_db_single"] < 1e-12
    assert not r.values["seed_dX_conforms"]
    assert r.values["err_dX_rows"] < 1e-12 and r.values["err_dX_cols"] < 1e-12
    assert r.values["holds"] == {"dW": True, "db": False, "dX": False}


def test_fully_connected_verdict_follows_the_numbers(monkeypatch):
    """With the bias gradient made to come out as the seed's dY, that formula holds but the
    verdict stays erratum on dX (W dY does not conform); were every formula to match with no
    difference, the verdict would be confirmed."""
    upstream = []
    real_loss, real_grads = seed003._upstream_loss, seed003._grads

    def keep_upstream(ys, g):
        upstream.append(g)
        return real_loss(ys, g)

    def bias_as_seed(loss, xs):
        if all(getattr(x, "label", "").startswith("b[") for x in xs):
            return upstream[0]                   # the batch's dL/dY, as the seed writes db
        return real_grads(loss, xs)
    monkeypatch.setattr(seed003, "_upstream_loss", keep_upstream)
    monkeypatch.setattr(seed003, "_grads", bias_as_seed)
    r = run("S3-Q1.1")
    assert r.values["holds"] == {"dW": True, "db": True, "dX": False}
    assert r.verdict == "erratum"
    monkeypatch.setattr(seed003.nested, "max_diff", lambda a, b: 0.0)
    monkeypatch.setattr(seed003.nested, "matmul", lambda a, b: [[0.0]])
    assert run("S3-Q1.1").verdict == "confirmed"


def test_relu_mask_uses_zero_at_the_kink():
    torch = pytest.importorskip("torch")
    r = run("S3-Q1.2")
    assert r.verdict == "convention"
    X = torch.tensor(data_of(r.extra["X"]), dtype=torch.float64, requires_grad=True)
    assert 0.0 in X.tolist()
    (torch.relu(X) * torch.tensor(r.extra["G"], dtype=torch.float64)).sum().backward()
    assert_all_close(r.values["dX"], X.grad.tolist(), what="dX")
    assert r.values["err"] == 0.0
    left, right = r.values["one_sided_at_0"]
    assert_close(left, 0.0, atol=1e-6)
    assert_close(right, 1.0, atol=1e-6)
    # Oracle for the other convention: ReLU'(0) = 1 passes dY through at the kink.
    G = r.extra["G"]
    expected = [g if x >= 0 else 0.0 for g, x in zip(G, X.tolist())]
    assert_all_close(r.values["dX_kink1"], expected, what="kink 1")
    assert r.values["holds"] == {"ReLU'(0) = 0": True, "ReLU'(0) = 1": False}


def test_relu_verdict_follows_the_kink(monkeypatch):
    """With both layers taking ReLU'(0) = 0 the two readings agree: confirmed."""
    real = nn.ReLU
    monkeypatch.setattr(seed003.nn, "ReLU", lambda kink=0.0: real(0.0))
    assert run("S3-Q1.2").verdict == "confirmed"


def test_dropout_mask_is_the_applied_inverted_mask():
    torch = pytest.importorskip("torch")
    r = run("S3-Q1.3")
    assert r.verdict == "convention"
    p = r.values["p"]
    X = torch.tensor(data_of(r.extra["X"]), dtype=torch.float64, requires_grad=True)
    applied = torch.tensor([m / (1 - p) for m in r.values["mask"]], dtype=torch.float64)
    (X * applied * torch.tensor(r.extra["G"], dtype=torch.float64)).sum().backward()
    assert_all_close(r.values["dX"], X.grad.tolist(), what="dX")
    assert set(r.values["mask"]) == {0.0, 1.0}
    assert r.values["err_scaled_mask"] < 1e-12
    assert r.values["err_01_mask"] > 0.1          # a 0/1 mask misses the 1/(1-p)
    assert list(r.values["holds"].values()) == [True, False]


def _torch_batchnorm(torch, xs, gamma, beta, G, eps):
    """Batch norm of one feature written out in PyTorch float64, its intermediates kept."""
    X = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    mu = X.mean()
    var = ((X - mu) ** 2).mean()
    sigma = (var + eps).sqrt()
    xhat = (X - mu) / sigma
    for t in (mu, sigma, xhat):
        t.retain_grad()
    Y = gamma * xhat + beta
    (Y * torch.tensor(G, dtype=torch.float64)).sum().backward()
    return X, mu, sigma, xhat


def test_batchnorm_backward_matches_the_closed_form_and_torch():
    torch = pytest.importorskip("torch")
    r = run("S3-Q1.4")
    assert r.verdict == "confirmed"
    gamma, beta, eps = r.extra["gamma"].data, r.extra["beta"].data, r.values["eps"]
    X = torch.tensor(data_of(r.extra["X"]), dtype=torch.float64, requires_grad=True)
    Y = torch.nn.functional.batch_norm(X[:, None], None, None,
                                       torch.tensor([gamma], dtype=torch.float64),
                                       torch.tensor([beta], dtype=torch.float64),
                                       training=True, eps=eps)
    (Y[:, 0] * torch.tensor(r.extra["G"], dtype=torch.float64)).sum().backward()
    assert_all_close(r.values["dX"], X.grad.tolist(), rtol=1e-9, atol=1e-12, what="dX")
    assert_all_close(r.values["seed_dX"], X.grad.tolist(), rtol=1e-9, atol=1e-12,
                     what="seed closed form")
    assert r.values["err_trials"] < 1e-12 and r.values["trials"] >= 10


def test_batchnorm_seed_steps_match_torch_at_each_intermediate():
    torch = pytest.importorskip("torch")
    r = run("S3-Q1.4")
    X, mu, sigma, xhat = _torch_batchnorm(torch, data_of(r.extra["X"]), r.extra["gamma"].data,
                                          r.extra["beta"].data, r.extra["G"], r.values["eps"])
    steps = r.values["steps"]
    assert_all_close(steps["dxhat"], xhat.grad.tolist(), what="dL/dxhat")
    assert_close(steps["dsigma"], sigma.grad.item(), what="dL/dsigma")
    assert_close(steps["dmu"], mu.grad.item(), atol=1e-12, what="dL/dmu")
    assert_close(steps["dX"], X.grad[0].item(), what="dL/dX[1]")
    n = len(steps["dxhat"])
    assert_close(steps["dsigma_dX"], (X[0].item() - mu.item()) / (n * sigma.item()))
    assert max(r.values["step_err"].values()) < 1e-12
    # the step-through is the seed's derivation of dL/dX[1], by the seed's names
    assert r.graph.label == "dL/dX[1]"
    text = str(seed003_explain(r))
    for name in ("mu =", "sigma =", "dL/dxhat[1] =", "dL/dsigma =", "dL/dmu =",
                 "dsigma/dX[1] ="):
        assert name in text, name


def seed003_explain(r):
    from microgradnet.catalogue.run import explain_result
    return explain_result(r)


def test_batchnorm_seed_closed_form_on_random_batches_against_torch():
    torch = pytest.importorskip("torch")
    import random
    rng = random.Random(7)
    for n in (2, 3, 5, 8):
        xs = [rng.uniform(-2, 3) for _ in range(n)]
        G = [rng.uniform(-1, 1) for _ in range(n)]
        gamma, beta = rng.uniform(0.5, 2), rng.uniform(-1, 1)
        X, *_ = _torch_batchnorm(torch, xs, gamma, beta, G, 1e-5)
        assert_all_close(seed003._seed_bn_closed_form(xs, G, gamma, 1e-5), X.grad.tolist(),
                         rtol=1e-9, atol=1e-12, what=f"n={n}")


def test_batchnorm_verdict_follows_the_layer_gradient(monkeypatch):
    real = seed003._grads
    monkeypatch.setattr(seed003, "_grads", lambda loss, xs: [
        g * 1.01 for g in real(loss, xs)])
    assert run("S3-Q1.4").verdict == "erratum"


def test_batchnorm_dsigma_dmu_factor_in_the_derivation():
    r = run("S3-Q1.4")
    xs = data_of(r.extra["X"])
    n, eps, m = len(xs), r.values["eps"], r.values["mu"] + 0.3

    def sigma(mu):
        return (sum((Value(x) - mu) ** 2 for x in xs) / n + eps).sqrt()
    numeric = numerical_grad(sigma, [m])[0]
    assert_close(r.values["dsigma_dmu_off_mean"], numeric, rtol=1e-6)
    assert_close(r.values["seed_dsigma_dmu_off_mean"], 2 * numeric, rtol=1e-6)
    assert abs(r.values["dsigma_dmu"]) < 1e-12    # zero at the batch mean
    assert "-1/n, not -2/n" in r.note


def test_valid_conv_backward_is_full_convolution_and_filtering():
    torch = pytest.importorskip("torch")
    r = run("S3-Q1.5")
    assert r.verdict == "confirmed"
    layer = r.extra["layer"]
    X = torch.tensor(data_of(r.extra["X"]), dtype=torch.float64, requires_grad=True)
    W = torch.tensor(data_of(layer.weight), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(data_of(layer.bias), dtype=torch.float64)
    Y = torch.nn.functional.conv2d(X, W, b)
    (Y * torch.tensor(r.extra["G"], dtype=torch.float64)).sum().backward()
    assert_all_close(r.values["dX"], X.grad.tolist(), rtol=1e-9, atol=1e-12, what="dX")
    assert_all_close(r.values["dW"], W.grad.tolist(), rtol=1e-9, atol=1e-12, what="dW")
    for key in ("err_dX_sum", "err_dX_full", "err_dW_sum", "err_dW_filt"):
        assert r.values[key] < 1e-12, key
        assert r.values["shown_errs"][key] < 1e-12, key
    # the step-through's small case, against torch too
    shown = r.extra["shown"]
    X = torch.tensor(data_of(shown["X"]), dtype=torch.float64)
    W = torch.tensor(data_of(shown["layer"].weight), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(data_of(shown["layer"].bias), dtype=torch.float64)
    (torch.nn.functional.conv2d(X, W, b) * torch.tensor(shown["G"], dtype=torch.float64)
     ).sum().backward()
    lines = str(seed003_explain(r)).strip().splitlines()
    # the sum of the paths, its "= ..." continued on the lines after it
    first = max(i for i, line in enumerate(lines) if line.startswith("  dL/dW[1,1,1,1] ="))
    total = " ".join(line.strip() for line in lines[first:])
    assert total.startswith("dL/dW[1,1,1,1] =")
    assert_close(float(total.rsplit("=", 1)[1]), W.grad[0, 0, 0, 0].item())


def test_valid_conv_verdict_follows_the_layer_gradient(monkeypatch):
    real = seed003._grads

    def off(loss, xs):
        out = real(loss, xs)
        out[0][0][0][0] += 1e-6                 # one gradient entry moved
        return out
    monkeypatch.setattr(seed003, "_grads", off)
    assert run("S3-Q1.5").verdict == "erratum"


def test_positive_inputs_give_one_signed_weight_gradients():
    r = run("S3-Q7.1")
    assert r.verdict == "confirmed"
    assert r.values["frac_same_sign_sigmoid"] == 1.0
    assert r.values["frac_same_sign_tanh"] < 0.5   # zero-centred inputs mix the signs
    # Oracle: central differences on one such layer; every dL/dw_i has the sign of dL/df.
    xs = [Value(a).sigmoid().data for a in (-2.0, 0.3, 1.7, -0.4)]

    def loss(*w):
        f = sum((wi * xi for wi, xi in zip(w, xs)), Value(0.1))
        return (f.sigmoid() - 1.0) ** 2
    g = numerical_grad(loss, [0.5, -1.0, 0.2, 0.8])
    assert len({math.copysign(1.0, gi) for gi in g}) == 1


def test_positive_inputs_verdict_follows_the_gradients(monkeypatch):
    real = seed003.grad

    def first_flipped(out, xs, *a, **k):
        g = real(out, xs, *a, **k)
        return [-g[0]] + g[1:] if isinstance(g, list) else g
    monkeypatch.setattr(seed003, "grad", first_flipped)
    assert run("S3-Q7.1").verdict == "erratum"


def test_dropout_at_inference_scales_by_the_keep_probability():
    r = run("S3-Q7.2")
    assert r.verdict == "convention"
    v = r.values
    q, W, x = v["keep"], v["W"], v["x"]
    expected = [sum(wj * xj * q for wj, xj in zip(row, x)) for row in W]   # math: E[m] = q
    assert_all_close(v["exact"], expected, rtol=1e-12, what="exact expectation")
    assert v["samples"] >= 10000
    for mc, e, se, drop in zip(v["monte_carlo"], v["exact"], v["standard_error"],
                               v["drop_reading_y"]):
        assert se < 0.01
        assert abs(mc - e) < 5 * se, (mc, e, se)
        assert abs(drop - e) > 20 * se               # p read as the drop probability: wrong
    assert v["holds"] == {"p = keep probability": True, "p = drop probability": False}
