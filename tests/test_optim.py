"""Optimisers: single steps by hand, and SGD/Adam against torch.optim step for step."""
from __future__ import annotations

import math
import random

import pytest
from helpers import assert_all_close, assert_close

from microgradnet import Value
from microgradnet.nn import Linear
from microgradnet.optim import SGD, Adam, StepRecord, soft_threshold


def quartic(ps):
    """A non-quadratic loss with distinct gradients per parameter."""
    x, y, z = ps
    return (x * y - 1) ** 2 + (y + 2 * z) ** 4 * 0.1 + (x - z).tanh()


def test_sgd_step_record_is_the_s13_update():
    """S1-3.3: w21 = 0.5 - 0.1 * (-1.5) = 0.65."""
    w = Value(0.5, label="w21")
    w.grad = -1.5
    (rec,) = SGD([w], lr=0.1).step()
    assert rec == StepRecord("w21", 0.5, -1.5, 0.5 - 0.1 * -1.5)
    assert w.data == rec.new


def test_s2q5_one_gradient_step_of_y2_plus_y_minus_x_squared():
    for s, expected in [(0.01, (1.0, 0.98)), (0.1, (1.0, 0.8)), (10, (1.0, -19.0))]:
        x, y = Value(1.0, label="x"), Value(1.0, label="y")
        (y ** 2 + (y - x) ** 2).backward()
        SGD([x, y], lr=s).step()
        assert_all_close([x.data, y.data], expected, rtol=1e-12)


def test_names_come_from_named_parameters_or_labels():
    lin = Linear(2, 1, rng=0)
    recs = SGD(lin.named_parameters(), lr=0.1).step()
    assert [r.name for r in recs] == ["weight.0.0", "weight.0.1", "bias.0"]
    assert [r.name for r in SGD(lin, lr=0.1).step()] == ["weight.0.0", "weight.0.1", "bias.0"]
    assert [r.name for r in SGD(lin.parameters(), lr=0.1).step()] == ["W[1,1]", "W[1,2]", "b[1]"]


def test_l1_subgradient_chatters_about_zero_and_l2_shrinks():
    """S4-Q3a: with zero data gradient, L1 sub-gradient steps subtract lr * l1 * sign(w):
    0.3 comes within rounding of 0 after 3 steps (-2.8e-17, not 0), and from there hops
    between that and 0.1 = lr * l1 for ever; L2 multiplies w by (1 - lr * wd), never 0."""
    a, b = Value(0.3), Value(0.3)
    l1, l2 = SGD([a], lr=0.1, l1=1.0), SGD([b], lr=0.1, weight_decay=1.0)
    seen = []
    for _ in range(8):
        l1.step()
        l2.step()
        seen.append(a.data)
    assert_close(seen[2], 0.0, atol=1e-15)
    assert seen[2] != 0.0
    assert all(x != 0.0 and abs(x) <= 0.1 for x in seen[2:])     # within lr * l1 of 0
    assert seen[3::2] == [seen[3]] * 3 and seen[4::2] == [seen[2]] * 2   # a 2-cycle
    assert_close(seen[3], 0.1, rtol=1e-12)
    assert_close(b.data, 0.3 * 0.9 ** 8, rtol=1e-12)


def soft(w, t):
    """Written out: sign(w) * max(|w| - t, 0)."""
    return math.copysign(max(abs(w) - t, 0.0), w)


def test_l1_proximal_step_is_a_soft_threshold_and_stays_at_zero():
    a = Value(0.3)
    opt = SGD([a], lr=0.1, l1=1.0, l1_step="proximal")
    seen = []
    for _ in range(6):
        opt.step()
        seen.append(a.data)
    assert seen[:2] == [soft(0.3, 0.1), soft(soft(0.3, 0.1), 0.1)]
    assert seen[3:] == [0.0, 0.0, 0.0]
    rng = random.Random(3)
    for _ in range(200):
        w0, g, lr, lam = rng.uniform(-1, 1), rng.uniform(-2, 2), rng.uniform(0, 0.5), \
            rng.uniform(0, 2)
        w = Value(w0)
        w.grad = g
        (rec,) = SGD([w], lr=lr, l1=lam, l1_step="proximal").step()
        assert rec.new == soft(w0 - lr * g, lr * lam)
        assert rec.grad == g and rec.old == w0
    assert soft_threshold(-0.05, 0.1) == 0.0 and soft_threshold(0.1, 0.1) == 0.0


def test_l1_proximal_sgd_matches_torch_softshrink_with_momentum_and_weight_decay():
    """Each step: torch.optim.SGD's update without L1, then softshrink(lr * l1)."""
    torch = pytest.importorskip("torch")
    start = [0.7, -0.04, 1.3]
    ps = [Value(v) for v in start]
    tp = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    kwargs = dict(lr=0.05, momentum=0.8, weight_decay=0.1)
    ours = SGD(ps, l1=0.4, l1_step="proximal", **kwargs)
    theirs = torch.optim.SGD([tp], **kwargs)
    for step in range(10):
        ours.zero_grad()
        quartic(ps).backward()
        ours.step()
        theirs.zero_grad()
        x, y, z = tp[0], tp[1], tp[2]
        ((x * y - 1) ** 2 + (y + 2 * z) ** 4 * 0.1 + torch.tanh(x - z)).backward()
        theirs.step()
        with torch.no_grad():
            tp.copy_(torch.nn.functional.softshrink(tp, 0.05 * 0.4))
        assert_all_close([p.data for p in ps], tp.detach().tolist(), rtol=1e-12, atol=1e-15,
                         what=f"step {step + 1}")


def test_l1_step_kind_is_checked():
    with pytest.raises(ValueError, match="l1_step"):
        SGD([Value(1.0)], lr=0.1, l1=0.1, l1_step="lasso")
    assert "l1_step='proximal'" in repr(SGD([Value(1.0)], lr=0.1, l1_step="proximal"))


def test_optimizers_reject_bad_arguments():
    with pytest.raises(ValueError):
        SGD([Value(1.0)], lr=-1)
    with pytest.raises(ValueError):
        SGD([], lr=0.1)
    with pytest.raises(TypeError):
        SGD([1.0], lr=0.1)
    with pytest.raises(ValueError):
        Adam([Value(1.0)], betas=(0.9, 1.0))
    v = Value(1.0)
    with pytest.raises(ValueError, match="appears twice"):
        SGD([v, v], lr=0.1)


def test_adam_first_step_moves_each_weight_by_lr_and_exposes_its_moments():
    """After one step m_hat = g and v_hat = g^2 exactly (the bias correction, S4-Q3d), so the
    update is lr * g / (|g| + eps)."""
    ps = [Value(1.0, label="a"), Value(-2.0, label="b")]
    ps[0].grad, ps[1].grad = 0.5, -4.0
    opt = Adam(ps, lr=0.01)
    recs = opt.step()
    assert opt.t == 1
    assert_all_close(opt.m, [0.05, -0.4], rtol=1e-12)
    assert_all_close(opt.v, [0.001 * 0.25, 0.001 * 16.0], rtol=1e-9)
    assert_all_close(opt.m_hat, [0.5, -4.0], rtol=1e-12)
    assert_all_close(opt.v_hat, [0.25, 16.0], rtol=1e-9)
    assert_all_close([r.new for r in recs],
                     [1.0 - 0.01 * 0.5 / (0.5 + 1e-8), -2.0 + 0.01 * 4 / (4 + 1e-8)], rtol=1e-12)


def test_adam_bias_correction_removes_the_geometric_sum():
    """S4-Q3d: with a constant gradient g, m_t = (1 - beta1^t) g, so m_hat_t = g."""
    p = Value(0.0)
    opt = Adam([p], lr=1e-3, betas=(0.9, 0.99))
    for t in range(1, 6):
        p.grad = 2.0
        opt.step()
        assert_close(opt.m[0], (1 - 0.9 ** t) * 2.0, rtol=1e-12)
        assert_close(opt.m_hat[0], 2.0, rtol=1e-12)
        assert_close(opt.v_hat[0], 4.0, rtol=1e-12)


@pytest.mark.parametrize("kind,kwargs", [
    ("sgd", dict(lr=0.05)),
    ("sgd", dict(lr=0.05, momentum=0.9)),
    ("sgd", dict(lr=0.05, momentum=0.8, weight_decay=0.1)),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("adam", dict(lr=0.05)),
    ("adam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1)),
])
def test_optimizer_matches_torch_step_for_step(kind, kwargs):
    torch = pytest.importorskip("torch")
    start = [0.7, -0.4, 1.3]
    ps = [Value(v) for v in start]
    tp = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    ours = (SGD if kind == "sgd" else Adam)(ps, **kwargs)
    theirs = (torch.optim.SGD if kind == "sgd" else torch.optim.Adam)([tp], **kwargs)
    for step in range(8):
        ours.zero_grad()
        quartic(ps).backward()
        ours.step()
        theirs.zero_grad()
        x, y, z = tp[0], tp[1], tp[2]
        ((x * y - 1) ** 2 + (y + 2 * z) ** 4 * 0.1 + torch.tanh(x - z)).backward()
        theirs.step()
        assert_all_close([p.data for p in ps], tp.detach().tolist(), rtol=1e-12, atol=1e-14,
                         what=f"step {step + 1}")
    if kind == "adam":
        st = theirs.state[tp]
        assert_all_close(ours.m, st["exp_avg"].tolist(), rtol=1e-12)
        assert_all_close(ours.v, st["exp_avg_sq"].tolist(), rtol=1e-12)
        assert ours.t == int(st["step"])


def test_torch_sgd_l1_matches_an_explicit_l1_term():
    """SGD(l1=lam) equals adding lam * sum |w| to the loss (away from w = 0)."""
    rng = random.Random(0)
    start = [rng.uniform(0.5, 1.0) * rng.choice([-1, 1]) for _ in range(3)]
    a = [Value(v) for v in start]
    b = [Value(v) for v in start]
    opt_a, opt_b = SGD(a, lr=0.01, l1=0.3), SGD(b, lr=0.01)
    for _ in range(5):
        opt_a.zero_grad()
        quartic(a).backward()
        opt_a.step()
        opt_b.zero_grad()
        (quartic(b) + 0.3 * (abs(b[0]) + abs(b[1]) + abs(b[2]))).backward()
        opt_b.step()
    assert_all_close([p.data for p in a], [p.data for p in b], rtol=1e-12)
    assert all(math.isfinite(p.data) for p in a)


def test_adam_without_eps_leaves_a_parameter_with_zero_gradients_where_it_is():
    w, u = Value(1.0, label="w"), Value(2.0, label="u")
    opt = Adam([w, u], lr=0.1, eps=0.0)
    w.grad, u.grad = 0.0, 0.5
    records = opt.step()
    assert records[0] == StepRecord("w", 1.0, 0.0, 1.0)
    assert_close(u.data, 2.0 - 0.1)        # m_hat / sqrt(v_hat) = g / |g| on the first step
