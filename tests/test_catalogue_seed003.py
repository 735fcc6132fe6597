"""Worked examples of seed 003: each claim's engine values against an independent oracle
(PyTorch float64, central differences, or math) and its verdict."""
from __future__ import annotations

import math

import pytest

from helpers import assert_all_close, assert_close
from microgradnet import Value
from microgradnet.catalogue import EXAMPLES
from microgradnet.checks import numerical_grad

IDS = ["S3-Q1.1", "S3-Q1.2", "S3-Q1.3", "S3-Q1.4", "S3-Q1.5", "S3-Q7.1", "S3-Q7.2"]


def run(claim: str):
    ex = EXAMPLES[claim]
    assert ex.seed == "003_46b4f35227c027e8.txt"
    return ex.run()


def _data(xs):
    return [_data(x) for x in xs] if isinstance(xs, list) else float(getattr(xs, "data", xs))


def test_every_seed003_claim_is_registered():
    assert sorted(k for k in EXAMPLES if k.startswith("S3-") and k != "S3-Q2-5") == sorted(IDS)


def test_fully_connected_backward_erratum_on_bias_and_input_gradients():
    torch = pytest.importorskip("torch")
    r = run("S3-Q1.1")
    assert r.verdict == "erratum"
    X = torch.tensor(_data(r.extra["X"]), dtype=torch.float64, requires_grad=True)
    W = torch.tensor(r.extra["W"], dtype=torch.float64, requires_grad=True)      # d x m
    b = torch.tensor(_data(r.extra["layer"].bias), dtype=torch.float64, requires_grad=True)
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


def test_relu_mask_uses_zero_at_the_kink():
    torch = pytest.importorskip("torch")
    r = run("S3-Q1.2")
    assert r.verdict == "convention"
    X = torch.tensor(_data(r.extra["X"]), dtype=torch.float64, requires_grad=True)
    assert 0.0 in X.tolist()
    (torch.relu(X) * torch.tensor(r.extra["G"], dtype=torch.float64)).sum().backward()
    assert_all_close(r.values["dX"], X.grad.tolist(), what="dX")
    assert r.values["err"] == 0.0
    left, right = r.values["one_sided_at_0"]
    assert_close(left, 0.0, atol=1e-6)
    assert_close(right, 1.0, atol=1e-6)


def test_dropout_mask_is_the_applied_inverted_mask():
    torch = pytest.importorskip("torch")
    r = run("S3-Q1.3")
    assert r.verdict == "convention"
    p = r.values["p"]
    X = torch.tensor(_data(r.extra["X"]), dtype=torch.float64, requires_grad=True)
    applied = torch.tensor([m / (1 - p) for m in r.values["mask"]], dtype=torch.float64)
    (X * applied * torch.tensor(r.extra["G"], dtype=torch.float64)).sum().backward()
    assert_all_close(r.values["dX"], X.grad.tolist(), what="dX")
    assert set(r.values["mask"]) == {0.0, 1.0}
    assert r.values["err_scaled_mask"] < 1e-12
    assert r.values["err_01_mask"] > 0.1          # a 0/1 mask misses the 1/(1-p)


def test_batchnorm_backward_matches_the_closed_form_and_torch():
    torch = pytest.importorskip("torch")
    r = run("S3-Q1.4")
    assert r.verdict == "confirmed"
    X = torch.tensor(_data(r.extra["X"]), dtype=torch.float64, requires_grad=True)
    gamma = torch.tensor([r.extra["gamma"].data], dtype=torch.float64)
    beta = torch.tensor([r.extra["beta"].data], dtype=torch.float64)
    Y = torch.nn.functional.batch_norm(X[:, None], None, None, gamma, beta, training=True,
                                       eps=r.values["eps"])
    (Y[:, 0] * torch.tensor(r.extra["G"], dtype=torch.float64)).sum().backward()
    assert_all_close(r.values["dX"], X.grad.tolist(), rtol=1e-9, atol=1e-12, what="dX")
    assert_all_close(r.values["seed_dX"], X.grad.tolist(), rtol=1e-9, atol=1e-12,
                     what="seed closed form")
    assert r.values["err_dsigma"] < 1e-12


def test_batchnorm_dsigma_dmu_factor_in_the_derivation():
    r = run("S3-Q1.4")
    xs = _data(r.extra["X"])
    n, eps, m = len(xs), r.values["eps"], r.values["mu"] + 0.3

    def sigma(mu):
        return (sum((Value(x) - mu) ** 2 for x in xs) / n + eps).sqrt()
    numeric = numerical_grad(sigma, [m])[0]
    assert_close(r.values["dsigma_dmu_off_mean"], numeric, rtol=1e-6)
    assert_close(r.values["seed_dsigma_dmu_off_mean"], 2 * numeric, rtol=1e-6)
    assert abs(r.values["dsigma_dmu"]) < 1e-12    # zero at the batch mean


def test_valid_conv_backward_is_full_convolution_and_filtering():
    torch = pytest.importorskip("torch")
    r = run("S3-Q1.5")
    assert r.verdict == "confirmed"
    layer = r.extra["layer"]
    X = torch.tensor(_data(r.extra["X"]), dtype=torch.float64, requires_grad=True)
    W = torch.tensor(_data(layer.weight), dtype=torch.float64, requires_grad=True)
    b = torch.tensor(_data(layer.bias), dtype=torch.float64)
    Y = torch.nn.functional.conv2d(X, W, b)
    (Y * torch.tensor(r.extra["G"], dtype=torch.float64)).sum().backward()
    assert_all_close(r.values["dX"], X.grad.tolist(), rtol=1e-9, atol=1e-12, what="dX")
    assert_all_close(r.values["dW"], W.grad.tolist(), rtol=1e-9, atol=1e-12, what="dW")
    for key in ("err_dX_sum", "err_dX_full", "err_dW_sum", "err_dW_filt"):
        assert r.values[key] < 1e-12, key


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
