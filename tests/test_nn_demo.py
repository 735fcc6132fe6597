"""micrograd's demo, with microgradnet: MLP(2, [16, 16, 1]) on 100 two-moons points, max-margin
(hinge) loss + 1e-4 * L2, SGD with learning rate 1.0 - 0.9 k / 100, 100 full-batch steps."""
from __future__ import annotations

import gc

import pytest

from microgradnet import functional as F
from microgradnet.nn import MLP
from microgradnet.optim import SGD

pytest.importorskip("sklearn")
from microgradnet.training import make_moons  # noqa: E402


def train(seed: int, steps: int = 100):
    X, y = make_moons(100, noise=0.1, seed=seed)
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


@pytest.fixture
def no_cyclic_gc():
    """The training graphs hold no reference cycles, so reference counting frees them; the
    cyclic collector would only rescan every node while a graph is built (2.5x the time)."""
    was_on = gc.isenabled()
    gc.disable()
    yield
    if was_on:
        gc.enable()


def test_micrograd_demo_reaches_full_training_accuracy_deterministically(no_cyclic_gc):
    # Seed 1 draws both the points (scikit-learn's random_state) and the weights. Measured:
    # seeds 0 to 3 all reach 100% in 100 steps.
    history, final = train(seed=1)
    assert final == 1.0
    assert history[-1][1] == 1.0                     # as the demo reports it (before the step)
    assert history[-1][0] < 0.1 * history[0][0]      # the loss fell by more than 10x
    assert history[0][1] < 1.0                       # it had something to learn
    again, _ = train(seed=1, steps=5)                # same seed, same numbers
    assert again == history[:5]


def test_moons_are_scikit_learns_with_micrograds_labels():
    from sklearn.datasets import make_moons as sk_make_moons
    X, y = make_moons(100, seed=1)
    sk_X, sk_y = sk_make_moons(n_samples=100, noise=0.1, random_state=1)
    assert X == sk_X.tolist() and y == [2 * int(t) - 1 for t in sk_y]
    assert len(X) == 100 and y.count(1) == y.count(-1) == 50
