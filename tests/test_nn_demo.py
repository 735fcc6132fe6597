"""micrograd's demo, with microgradnet: MLP(2, [16, 16, 1]) on 100 two-moons points, max-margin
(hinge) loss + 1e-4 * L2, SGD with learning rate 1.0 - 0.9 k / 100, 100 full-batch steps."""
from __future__ import annotations

import math
import random

from microgradnet import functional as F
from microgradnet.nn import MLP
from microgradnet.optim import SGD


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles (as scikit-learn's make_moons draws them), labels -1/+1."""
    rng = random.Random(seed)
    n_out, n_in = n // 2, n - n // 2
    X, y = [], []
    for i in range(n_out):
        t = math.pi * i / (n_out - 1)
        X.append([math.cos(t) + rng.gauss(0, noise), math.sin(t) + rng.gauss(0, noise)])
        y.append(-1)
    for i in range(n_in):
        t = math.pi * i / (n_in - 1)
        X.append([1 - math.cos(t) + rng.gauss(0, noise),
                  1 - math.sin(t) - 0.5 + rng.gauss(0, noise)])
        y.append(1)
    return X, y


def train(seed: int, steps: int = 100):
    X, y = make_moons(seed=seed)
    model = MLP(2, [16, 16, 1], rng=seed)
    opt = SGD(model.parameters(), lr=1.0)
    history = []
    for k in range(steps):
        scores = [model(x)[0] for x in X]
        loss = F.hinge(scores, y) + 1e-4 * F.l2_penalty(model.parameters())
        accuracy = sum((s.data > 0) == (t > 0) for s, t in zip(scores, y)) / len(y)
        history.append((loss.data, accuracy))
        opt.zero_grad()
        loss.backward()
        opt.lr = 1.0 - 0.9 * k / 100
        opt.step()
    scores = [model(x)[0].data for x in X]
    final = sum((s > 0) == (t > 0) for s, t in zip(scores, y)) / len(y)
    return history, final


def test_micrograd_demo_reaches_full_training_accuracy_deterministically():
    # Seed 1 draws both the points and the weights. Measured: seeds 1, 2 and 3 reach 100%
    # in 100 steps, seed 0 ends at 99% (one point), so the claim holds for most draws, not all.
    history, final = train(seed=1)
    assert final == 1.0
    assert history[-1][1] == 1.0                     # as the demo reports it (before the step)
    assert history[-1][0] < 0.1 * history[0][0]      # the loss fell by more than 10x
    assert history[0][1] < 1.0                       # it had something to learn
    again, _ = train(seed=1, steps=5)                # same seed, same numbers
    assert again == history[:5]


def test_moons_are_two_classes_of_fifty():
    X, y = make_moons(seed=1)
    assert len(X) == 100 and y.count(1) == y.count(-1) == 50
    assert make_moons(seed=1) == (X, y)
