"""Activations, softmax and losses: values and gradients against formulas, central differences
and PyTorch."""
from __future__ import annotations

import math
import random

import pytest
from helpers import assert_all_close, assert_close
from hypothesis import given, strategies as st

from microgradnet import Value, functional as F, topological_order
from microgradnet.checks import numerical_grad


def vals(xs):
    return [Value(x) for x in xs]


def check_grad(f, xs, rtol=1e-6, atol=1e-8):
    """Gradient of f (a function of a list of Values) against central differences."""
    vs = vals(xs)
    f(vs).backward()
    num = numerical_grad(lambda *a: f(list(a)), xs)
    assert_all_close([v.grad for v in vs], num, rtol, atol)


# ---- sums ---------------------------------------------------------------------------------

def test_sum_starts_from_the_first_term():
    xs = vals([1.0, 2.0, 3.0])
    s = F.sum(xs)
    assert s.data == 6.0
    assert len([n for n in topological_order(s) if not n.is_leaf]) == 2
    assert F.sum([]) == 0.0
    assert F.sum(xs, start=Value(10.0)).data == 16.0


def test_dot_is_the_textbook_chain_and_checks_lengths():
    w, x = vals([1.0, 2.0]), vals([3.0, 4.0])
    d = F.dot(w, x, bias=Value(0.5))
    assert d.data == 11.5 and d.op == "+"
    with pytest.raises(ValueError, match="2 weights, 1 inputs"):
        F.dot(w, x[:1])


# ---- activations ----------------------------------------------------------------------------

@pytest.mark.parametrize("fn,ref", [
    (F.relu, lambda x: max(0.0, x)),
    (lambda x: F.leaky_relu(x, 0.1), lambda x: x if x > 0 else 0.1 * x),
    (F.sigmoid, lambda x: 1 / (1 + math.exp(-x))),
    (F.tanh, math.tanh),
    (F.softplus, lambda x: math.log1p(math.exp(x))),
    (lambda x: F.swish(x, 2.0), lambda x: x / (1 + math.exp(-2.0 * x))),
])
def test_activations_on_values_numbers_and_nested_lists(fn, ref):
    assert_close(fn(Value(0.7)).data, ref(0.7), rtol=1e-12)
    assert_close(fn(-1.3).data, ref(-1.3), rtol=1e-12)
    out = fn([[0.5, -2.0], [Value(1.5)]])
    assert_all_close([[v.data for v in r] for r in out], [[ref(0.5), ref(-2.0)], [ref(1.5)]],
                     rtol=1e-12)


def test_leaky_relu_kink_convention_of_seed_001():
    """S1-2.6 takes the slope 1 at z = 0; PyTorch (and the default) take alpha there."""
    z = Value(0.0)
    F.leaky_relu(z, 0.01, kink=1.0).backward()
    assert z.grad == 1.0
    z = Value(0.0)
    F.leaky_relu(z, 0.01).backward()
    assert z.grad == 0.01


def test_activation_by_name_rejects_unknown_names():
    with pytest.raises(ValueError, match="hardtanh"):
        F.get_activation("hardtanh")
    with pytest.raises(TypeError):
        F.relu("x")


# ---- softmax ------------------------------------------------------------------------------

def test_softmax_derivatives_are_the_seed_formulas():
    """S1-2.2 and S1-2.3: d yk/d zk = yk (1 - yk), d yk/d zi = -yk yi."""
    z = vals([0.3, -1.2, 2.0, 0.5])
    y = F.softmax(z)
    k = 2
    y[k].backward()
    yd = [v.data for v in y]
    expected = [yd[k] * (1 - yd[k]) if i == k else -yd[k] * yd[i] for i in range(4)]
    assert_all_close([v.grad for v in z], expected, rtol=1e-12, atol=1e-15)


def test_softmax_never_overflows_and_agrees_with_the_naive_formula():
    """S1-2.8: e^1000 overflows a float; the max-shifted softmax stays finite."""
    with pytest.raises(OverflowError):
        math.exp(1000.0)
    big = F.softmax([1000.0, 999.0, -1000.0])
    assert_all_close([v.data for v in big],
                     [1 / (1 + math.exp(-1)), math.exp(-1) / (1 + math.exp(-1)), 0.0],
                     rtol=1e-12, atol=1e-300)
    small = [0.1, -0.4, 1.2]
    naive = [math.exp(z) / sum(math.exp(t) for t in small) for z in small]
    assert_all_close([v.data for v in F.softmax(small)], naive, rtol=1e-12)
    lsm = F.log_softmax([1000.0, 0.0])
    assert_close(lsm[1].data, -1000.0, rtol=1e-12)
    assert_close(F.logsumexp([1000.0, 1000.0]).data, 1000.0 + math.log(2), rtol=1e-15)


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    """S1-2.4: dL/dz_i = yhat_i - 1 for the target, yhat_i otherwise."""
    z = vals([0.3, -1.2, 2.0, 0.5])
    F.cross_entropy(z, 1).backward()
    p = [v.data for v in F.softmax([v.data for v in z])]
    assert_all_close([v.grad for v in z], [pi - (i == 1) for i, pi in enumerate(p)],
                     rtol=1e-12, atol=1e-15)
    assert math.isfinite(F.cross_entropy([1e4, -1e4], 1).data)


@pytest.mark.parametrize("name,loss", [
    ("softmax", lambda v: F.sum([(i + 1) * s for i, s in enumerate(F.softmax(v))])),
    ("log_softmax", lambda v: F.sum([(i - 1.5) * s for i, s in enumerate(F.log_softmax(v))])),
    ("cross_entropy", lambda v: F.cross_entropy(v, 2)),
    ("multiclass_hinge", lambda v: F.multiclass_hinge(v, 0)),
    ("mse", lambda v: F.mse(v, [0.1, 0.2, 0.3, 0.4])),
    ("bce", lambda v: F.binary_cross_entropy(F.sigmoid(v), [1, 0, 0.3, 1])),
    ("bce_logits", lambda v: F.binary_cross_entropy_with_logits(v, [1, 0, 0.3, 1])),
    ("hinge", lambda v: F.hinge(v, [1, -1, 1, 1])),
    ("l1", F.l1_penalty),
    ("l2", F.l2_penalty),
])
def test_losses_gradients_match_central_differences(name, loss):
    check_grad(loss, [0.3, -1.2, 0.8, 0.5])


# ---- losses: values -----------------------------------------------------------------------

def test_mse_reductions_and_the_seed_half_convention():
    o, t = [0.0, -1.5], [1.0, 0.5]             # S1-3.2
    assert F.mse(o, t, "half").data == 2.5
    assert F.mse(o, t, "sum").data == 5.0
    assert F.mse(o, t, "mean").data == 2.5     # for two outputs mean and half agree
    three = ([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    assert F.mse(*three, "half").data == 7.0 and F.mse(*three, "mean").data == 14.0 / 3
    o = vals([0.0, -1.5])
    F.mse(o, t, "half").backward()
    assert [v.grad for v in o] == [-1.0, -2.0]     # o - t, as in S1-3.3
    with pytest.raises(ValueError, match="2 entries.*3"):
        F.mse(o, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="reduction"):
        F.mse(o, t, "avg")


def test_hinge_and_multiclass_hinge_values():
    assert F.hinge(0.3, 1).data == 0.7
    assert F.hinge(2.0, 1).data == 0.0
    assert F.hinge([0.3, 0.5], [1, -1]).data == (0.7 + 1.5) / 2
    with pytest.raises(ValueError, match="-1 or"):
        F.hinge(0.3, 0)
    # scores (3.2, 5.1, -1.7), class 0: max(0, 5.1-3.2+1) + max(0, -1.7-3.2+1) = 2.9
    assert_close(F.multiclass_hinge([3.2, 5.1, -1.7], 0).data, 2.9, rtol=1e-12)
    with pytest.raises(ValueError, match="out of range"):
        F.multiclass_hinge([1.0, 2.0], 2)


def test_binary_cross_entropy_at_certain_targets_skips_the_unneeded_log():
    assert F.binary_cross_entropy(Value(1.0), 1).data == 0.0
    assert_close(F.binary_cross_entropy(0.25, 0).data, -math.log(0.75), rtol=1e-15)


def test_penalties():
    ps = vals([0.5, -2.0, 0.0])
    assert F.l1_penalty(ps).data == 2.5
    assert F.l2_penalty(ps).data == 4.25


# ---- PyTorch parity -----------------------------------------------------------------------

def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    rng = random.Random(0)
    Z = [[rng.uniform(-3, 3) for _ in range(4)] for _ in range(3)]
    targets = [2, 0, 3]

    def both(ours, theirs, data):
        vs = [[Value(v) for v in row] for row in data]
        out = ours(vs)
        out.backward()
        t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
        tout = theirs(t)
        tout.backward()
        assert_close(out.data, tout.item(), rtol=1e-12)
        assert_all_close([[v.grad for v in r] for r in vs], t.grad.tolist(), rtol=1e-10,
                         atol=1e-15)

    tt = torch.tensor(targets)
    both(lambda v: F.cross_entropy(v, targets), lambda t: tf.cross_entropy(t, tt), Z)
    both(lambda v: F.nll_loss([F.log_softmax(r) for r in v], targets),
         lambda t: tf.nll_loss(tf.log_softmax(t, dim=1), tt), Z)
    C = len(Z[0])
    both(lambda v: F.multiclass_hinge(v, targets) * (1.0 / C),
         lambda t: tf.multi_margin_loss(t, tt), Z)
    Y = [[rng.random() for _ in range(4)] for _ in range(3)]
    ty = torch.tensor(Y, dtype=torch.float64)
    both(lambda v: F.mse(v, Y), lambda t: tf.mse_loss(t, ty), Z)
    both(lambda v: F.mse(v, Y, "sum"), lambda t: tf.mse_loss(t, ty, reduction="sum"), Z)
    both(lambda v: F.binary_cross_entropy(F.sigmoid(v), Y),
         lambda t: tf.binary_cross_entropy(torch.sigmoid(t), ty), Z)
    both(lambda v: F.binary_cross_entropy_with_logits(v, Y),
         lambda t: tf.binary_cross_entropy_with_logits(t, ty), Z)
    both(lambda v: F.sum([F.sum([(i + 1) * s for i, s in enumerate(F.softmax(r))]) for r in v]),
         lambda t: (torch.softmax(t, 1) * torch.arange(1, 5, dtype=torch.float64)).sum(), Z)


# ---- properties ---------------------------------------------------------------------------

logits = st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=6)


@given(logits)
def test_softmax_sums_to_one_and_log_softmax_is_finite_for_any_finite_logits(zs):
    p = [v.data for v in F.softmax(zs)]
    assert_close(sum(p), 1.0, rtol=1e-12)
    assert all(0.0 <= v <= 1.0 for v in p)
    lp = [v.data for v in F.log_softmax(zs)]
    assert all(math.isfinite(v) and v <= 0.0 for v in lp)
    assert_close(max(lp), 0.0 - math.log(sum(math.exp(v - max(zs)) for v in zs)), atol=1e-9)


# ---- fixed-structure forms for replay -----------------------------------------------------

def test_max_node_shift_gives_the_same_loss_and_gradient_and_never_overflows():
    z = [0.3, -1.2, 2.0, 0.5]
    a, b = vals(z), vals(z)
    F.cross_entropy(a, 2).backward()
    F.cross_entropy(b, 2, max_node=True).backward()
    assert_close(F.cross_entropy(b, 2, max_node=True).data, F.cross_entropy(a, 2).data,
                 rtol=1e-15)
    assert_all_close([v.grad for v in b], [v.grad for v in a], rtol=1e-14, atol=1e-16)
    assert "max" in {n.op for n in topological_order(F.logsumexp(b, max_node=True))}
    assert_close(F.logsumexp([1e4, 1e4], max_node=True).data, 1e4 + math.log(2), rtol=1e-15)
    check_grad(lambda v: F.logsumexp(v, max_node=True), z)


def test_max_node_cross_entropy_replays_on_logits_far_from_the_recorded_ones():
    from microgradnet.replay import compile_graph
    z, t = vals([0.1, 0.2, 0.3]), vals([0.0, 1.0, 0.0])
    fn = compile_graph(F.cross_entropy(z, t, max_node=True), z + t)
    out, g = fn([800.0, -5.0, 790.0, 0.0, 0.0, 1.0])    # exp(800) would overflow unshifted
    ref = vals([800.0, -5.0, 790.0])
    loss = F.cross_entropy(ref, 2)
    loss.backward()
    assert_close(out, loss.data, rtol=1e-12)
    assert_all_close(g[:3], [v.grad for v in ref], rtol=1e-12, atol=1e-300)


def test_cross_entropy_with_class_probabilities_matches_its_index_and_torch():
    z = [0.3, -1.2, 2.0, 0.5]
    assert_close(F.cross_entropy(vals(z), [0, 1, 0, 0]).data, F.cross_entropy(vals(z), 1).data,
                 rtol=1e-15)
    probs = [0.1, 0.6, 0.3, 0.0]
    check_grad(lambda v: F.cross_entropy(v, probs), z)
    with pytest.raises(ValueError, match="4 logits but 3"):
        F.cross_entropy(vals(z), [0.5, 0.5, 0.0])
    torch = pytest.importorskip("torch")
    Z = [z, [1.0, 0.0, -1.0, 2.0]]
    P = [probs, [0.25, 0.25, 0.25, 0.25]]
    zs = [vals(r) for r in Z]
    loss = F.cross_entropy(zs, [vals(p) for p in P])
    loss.backward()
    tz = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tz, torch.tensor(P, dtype=torch.float64))
    tl.backward()
    assert_close(loss.data, tl.item(), rtol=1e-13)
    assert_all_close([v.grad for r in zs for v in r], tz.grad.flatten().tolist(), rtol=1e-12,
                     atol=1e-16)


def test_sum_reductions_and_value_labels_keep_targets_in_the_graph():
    z = [0.3, -1.2, 0.8]
    assert_close(F.hinge(z, [1, -1, 1], reduction="sum").data,
                 3 * F.hinge(z, [1, -1, 1]).data, rtol=1e-15)
    assert_close(F.binary_cross_entropy_with_logits(z, [1, 0, 1], reduction="sum").data,
                 3 * F.binary_cross_entropy_with_logits(z, [1, 0, 1]).data, rtol=1e-15)
    with pytest.raises(ValueError, match="reduction"):
        F.hinge(z, [1, -1, 1], reduction="avg")
    y = vals([1.0, -1.0, 1.0])
    loss = F.hinge(vals(z), y, reduction="sum")
    assert all(v in topological_order(loss) for v in y)      # labels are leaves, not constants
    assert loss.data == F.hinge(z, [1, -1, 1], reduction="sum").data
    with pytest.raises(ValueError, match="-1 or"):
        F.hinge(z, vals([1.0, 0.0, 1.0]))


@pytest.mark.parametrize("targets", [[0], [0, 1, 1], 0])
def test_nll_loss_batch_needs_one_target_per_sample(targets):
    log_probs = [[-0.5, -1.0], [-2.0, -0.2]]
    with pytest.raises(ValueError, match="a batch of 2 needs as many targets"):
        F.nll_loss(log_probs, targets)
