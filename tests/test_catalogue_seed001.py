"""Seed 001 (001_34f8d7f6bc1ecf0d.txt): one test per claim id, engine value and verdict.

Expected numbers come from working the seed's problem by hand or from an independent oracle
(PyTorch float64, closed forms), never from the catalogue's own output.
"""
from __future__ import annotations

import math

import pytest

from helpers import assert_close
from microgradnet.catalogue import EXAMPLES
from microgradnet.catalogue.seed001 import SEED, build_s1_3

IDS = ["S1-1.3", "S1-1.5", "S1-2.1", "S1-2.2", "S1-2.3", "S1-2.4", "S1-2.5", "S1-2.6",
       "S1-2.7", "S1-2.8", "S1-3.1", "S1-3.2", "S1-3.3"]


def run(i):
    return EXAMPLES[i].run()


@pytest.mark.parametrize("i", IDS)
def test_registered_with_seed_file_and_section(i):
    ex = EXAMPLES[i]
    assert ex.seed == SEED and i.endswith(ex.section)
    r = ex.run()
    assert r.seed_says and r.engine_says


def test_S1_1_3_grid_per_decade_and_log_uniform():
    r = run("S1-1.3")
    assert r.verdict == "confirmed"
    assert r.values["per_decade"] == [1, 4]
    assert abs(r.values["log_uniform_low_fraction"] - 0.5) < 0.02
    # uniform sampling on [0.01, 1] puts 0.09/0.99 of the draws in the lower decade
    assert abs(r.values["uniform_low_fraction"] - 0.09 / 0.99) < 0.01


def test_S1_1_5_only_leaky_relu_statement_holds():
    r = run("S1-1.5")
    assert r.verdict == "confirmed" and r.values["holds"] == ["iii"]
    ratio = r.values["ratio_first_last"]
    assert ratio["sigmoid"] < 1e-3 < 0.1 < ratio["leaky_relu"]
    assert r.values["max_slope"]["sigmoid"] == 0.25 and r.values["max_slope"]["tanh"] == 1.0
    assert r.values["saturated_tanh_chain"] < 1e-6


def test_S1_2_1_shapes_and_the_z2_typo():
    r = run("S1-2.1")
    v = r.values
    assert v["W2"] == (v["K"], v["Da"]) and v["b2"] == (v["K"], 1)
    assert v["hidden"] == (v["Da"], v["m"]) and v["z2"] == (v["K"],)
    assert v["typo_fails"] is True
    assert r.verdict == "erratum"


def _softmax_torch():
    torch = pytest.importorskip("torch")
    z = torch.tensor([0.3, -1.2, 2.0, 0.5], dtype=torch.float64, requires_grad=True)
    y = torch.softmax(z, 0)
    J = torch.stack([torch.autograd.grad(y[k], z, retain_graph=True)[0] for k in range(4)])
    return y.detach(), J


def test_S1_2_2_softmax_diagonal():
    r = run("S1-2.2")
    assert r.verdict == "confirmed" and r.values["max_error"] < 1e-12
    y, J = _softmax_torch()          # the seed's formula holds for PyTorch's softmax too
    for k in range(4):
        assert_close(J[k, k].item(), (y[k] * (1 - y[k])).item(), rtol=1e-12)


def test_S1_2_3_softmax_off_diagonal():
    r = run("S1-2.3")
    assert r.verdict == "confirmed" and r.values["max_error"] < 1e-12
    y, J = _softmax_torch()
    assert_close(J[0, 2].item(), -(y[0] * y[2]).item(), rtol=1e-12)


def test_S1_2_4_cross_entropy_gradient():
    r = run("S1-2.4")
    assert r.verdict == "confirmed"
    assert r.values["max_error"]["i=k"] < 1e-12 and r.values["max_error"]["i!=k"] < 1e-12


def test_S1_2_5_jacobian_is_W2():
    r = run("S1-2.5")
    assert r.verdict == "confirmed" and r.values["max_error"] == 0.0


def test_S1_2_6_leaky_relu_convention_at_zero():
    r = run("S1-2.6")
    assert r.verdict == "convention"
    assert_close(r.values["left"], 0.01, rtol=1e-6)
    assert_close(r.values["right"], 1.0, rtol=1e-6)
    assert r.values["at0_default"] == 0.01 and r.values["at0_seed_convention"] == 1.0
    assert r.values["max_error_away_from_0"] == 0.0


def test_S1_2_7_seed_expression_matches_autodiff():
    r = run("S1-2.7")
    assert r.verdict == "confirmed"
    assert r.values["max_error_W1"] < 1e-12 and r.values["max_error_b1"] < 1e-12


def test_S1_2_8_naive_softmax_breaks_shifted_does_not():
    r = run("S1-2.8")
    v = r.values
    assert r.verdict == "confirmed"
    assert v["naive_large"] == "overflow" and v["naive_small"] == "division by zero"
    e = math.exp(-1.0)
    assert_close(v["shifted_large"][0], 1 / (1 + e + math.exp(-1000.0)), rtol=1e-15)
    assert_close(v["shifted_small"][0], 1 / (1 + e), rtol=1e-15)
    assert v["max_difference"] < 1e-15 and v["min_denominator"] >= 1.0


def test_S1_3_1_forward_pass():
    r = run("S1-3.1")
    assert r.verdict == "confirmed"
    # by hand: h1 = 2*1 + (-1)*0.5 + 0.5, h2 = 2*(-0.5) + (-1)*(-1) - 0.5, ...
    assert r.values == {"h1": 2.0, "h2": -0.5, "h3": 2.0, "h4": 0.0, "o1": 0.0, "o2": -1.5}


def test_S1_3_2_mse():
    r = run("S1-3.2")
    assert r.verdict == "confirmed"
    assert r.values["MSE"] == 0.5 * (1.0 - 0.0) ** 2 + 0.5 * (0.5 + 1.5) ** 2


def test_S1_3_3_gradient_and_update():
    r = run("S1-3.3")
    assert r.verdict == "confirmed"
    assert r.values["dMSE/dw21"] == -1.5
    assert_close(r.values["w21_new"], 0.65, rtol=1e-12)


def test_S1_3_network_matches_pytorch():
    torch = pytest.importorskip("torch")
    net = build_s1_3()
    t = lambda x: torch.tensor(x, dtype=torch.float64, requires_grad=True)   # noqa: E731
    W1 = t([[1.0, 0.5], [-0.5, -1.0]])   # row k = receiving unit, column j = sending unit
    b1 = t([0.5, -0.5])
    W2 = t([[0.5, -0.5], [-1.0, 1.0]])
    b2 = t([-1.0, 0.5])
    x = torch.tensor([2.0, -1.0], dtype=torch.float64)
    o = W2 @ torch.relu(W1 @ x + b1) + b2
    loss = 0.5 * ((o - torch.tensor([1.0, 0.5], dtype=torch.float64)) ** 2).sum()
    loss.backward()
    net["MSE"].backward()
    assert_close(net["MSE"].data, loss.item())
    assert_close(net["w21"].grad, W1.grad[0, 1].item())
    for k, (r, c) in {"w11": (0, 0), "w12": (1, 0), "w22": (1, 1)}.items():
        assert_close(net[k].grad, W1.grad[r, c].item(), what=k)
    for k, (r, c) in {"w31": (0, 0), "w41": (0, 1), "w32": (1, 0), "w42": (1, 1)}.items():
        assert_close(net[k].grad, W2.grad[r, c].item(), what=k)


def test_S1_3_extra_names_what_the_explainer_and_pictures_need():
    r = run("S1-3.3")
    assert r.graph.label == "MSE" and r.extra["wrt"] == "w21" and r.extra["lr"] == 0.1
    labels = {p.label for p in r.extra["params"]}
    assert labels == {"w11", "w12", "w21", "w22", "w31", "w32", "w41", "w42",
                      "b1", "b2", "b3", "b4"}
    (w, (old, g, lr, new)), = r.extra["updates"].items()
    assert w.label == "w21" and (old, g, lr) == (0.5, -1.5, 0.1)
