"""Initialisers: reproducible by seed, the stated bounds and variances, PyTorch's fan rules."""
from __future__ import annotations

import math
import random
import statistics

import pytest
from helpers import assert_close

from microgradnet.nested import flatten
from microgradnet import init


def test_same_seed_same_numbers_and_manual_seed_resets_the_default():
    assert init.normal((3, 4), rng=5) == init.normal((3, 4), rng=init.Generator(5))
    assert init.normal((3, 4), rng=5) != init.normal((3, 4), rng=6)
    init.manual_seed(42)
    a = init.uniform(5)
    init.manual_seed(42)
    assert init.uniform(5) == a
    g = init.Generator(1)
    first = g.random()
    assert g.manual_seed(1).random() == first
    assert isinstance(init.get_rng(random.Random(0)), random.Random)
    with pytest.raises(TypeError):
        init.get_rng("seed")


def test_shapes_and_fans_follow_torch():
    assert init.fan_in_fan_out((5, 3)) == (3, 5)
    assert init.fan_in_fan_out((5, 2, 3, 4)) == (24, 60)
    w = init.xavier_uniform((2, 3, 4, 5), rng=0)
    assert (len(w), len(w[0]), len(w[0][0]), len(w[0][0][0])) == (2, 3, 4, 5)
    torch = pytest.importorskip("torch")
    for shape in [(5, 3), (4, 2, 3, 3)]:
        fi, fo = init.fan_in_fan_out(shape)
        assert (fi, fo) == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal", "kaiming_uniform",
                                  "kaiming_normal", "lecun_uniform", "lecun_normal"])
@pytest.mark.parametrize("shape", [(0, 3), (4, 0), (2, 3, 0, 3)])
def test_a_shape_with_a_zero_dimension_is_named_not_divided_by(name, shape):
    with pytest.raises(ValueError, match=r"zero dimension.*fan_in="):
        getattr(init, name)(shape, rng=0)


@pytest.mark.parametrize("name,shape,var", [
    ("xavier_uniform", (200, 300), 2 / 500),
    ("xavier_normal", (200, 300), 2 / 500),
    ("kaiming_uniform", (200, 300), 2 / 300),
    ("kaiming_normal", (200, 300), 2 / 300),
    ("lecun_uniform", (200, 300), 1 / 300),
    ("lecun_normal", (200, 300), 1 / 300),
    ("lecun_normal", (20, 10, 3, 3), 1 / 90),
])
def test_variance_is_the_stated_one(name, shape, var):
    w = flatten(getattr(init, name)(shape, rng=1))
    n = len(w)
    assert abs(statistics.fmean(w)) < 4 * math.sqrt(var / n)
    # the sample variance of n draws has a relative standard error of about sqrt(2/n)
    assert abs(statistics.pvariance(w) / var - 1) < 5 * math.sqrt(2 / n)


@pytest.mark.parametrize("name,bound", [
    ("xavier_uniform", math.sqrt(6 / (30 + 20))),
    ("kaiming_uniform", math.sqrt(2) * math.sqrt(3 / 20)),
    ("lecun_uniform", math.sqrt(3 / 20)),
])
def test_uniform_initialisers_respect_their_bound(name, bound):
    w = flatten(getattr(init, name)((30, 20), rng=2))
    assert max(abs(v) for v in w) <= bound
    assert max(abs(v) for v in w) > 0.95 * bound


def test_s4_xavier_variance_one_over_n_keeps_the_variance_of_z():
    """S4-Xavier: with Var(w) = 1/N (LeCun normal), z = sum_i w_i x_i has Var(z) = Var(x)."""
    rng = init.Generator(3)
    N, trials = 50, 4000
    zs = []
    for _ in range(trials):
        w = init.lecun_normal((1, N), rng=rng)[0]
        x = [rng.gauss(0, 1.0) for _ in range(N)]
        zs.append(sum(a * b for a, b in zip(w, x)))
    assert abs(statistics.pvariance(zs) - 1.0) < 5 * math.sqrt(2 / trials) * 1.5


def test_initialise_by_name_and_errors():
    assert init.initialise("zeros", (2, 2)) == [[0.0, 0.0], [0.0, 0.0]]
    assert init.initialise("he_normal", (3, 2), rng=1) == init.kaiming_normal((3, 2), rng=1)
    assert init.initialise(lambda s, rng=None: init.constant(s, 2.0), 2) == [2.0, 2.0]
    with pytest.raises(ValueError, match="unknown initialiser"):
        init.initialise("orthogonal", (2, 2))
    with pytest.raises(ValueError):
        init.uniform((2, -1))
    with pytest.raises(ValueError):
        init.uniform(3, 1.0, -1.0)
    assert_close(init.constant((), 1.5), 1.5)
