"""Export to PyTorch: the same outputs and the same gradients as the engine."""
from __future__ import annotations

import random

import pytest

from helpers import assert_all_close
from microgradnet import Value
from microgradnet import nn
from microgradnet.training.export import to_torch

torch = pytest.importorskip("torch")


def _compare(model, torch_model, nin: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    batch = [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(3)]
    xs = [[Value(v) for v in x] for x in batch]
    outs = [model(x) for x in xs]
    outs = [o if isinstance(o, list) else [o] for o in outs]
    # a scalar function of all outputs, with different weights per output
    loss = None
    for o in outs:
        for k, v in enumerate(o):
            term = v * (k + 1.5)
            loss = term if loss is None else loss + term
    model.zero_grad()
    loss.backward()

    tx = torch.tensor(batch, dtype=torch.float64, requires_grad=True)
    tout = torch_model(tx)
    assert list(tout.shape) == [len(outs), len(outs[0])]
    weights = torch.tensor([k + 1.5 for k in range(tout.shape[1])], dtype=torch.float64)
    (tout * weights).sum().backward()

    assert_all_close(tout.detach().tolist(), [[v.data for v in o] for o in outs],
                     what="outputs")
    assert_all_close(tx.grad.tolist(), [[v.grad for v in x] for x in xs], what="input grads")
    ours = [p.grad for p in model.parameters()]
    theirs = []
    for m in torch_model:
        if isinstance(m, torch.nn.Linear):
            # the engine lists a layer neuron by neuron: w_k1..w_kn, b_k
            for k in range(m.out_features):
                theirs += m.weight.grad[k].tolist() + [m.bias.grad[k].item()]
    if isinstance(model, nn.MLP):
        assert_all_close(ours, theirs, what="parameter grads")


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_exports_with_equal_outputs_and_gradients(activation):
    model = nn.MLP(3, [5, 4, 2], activation=activation, rng=1)
    _compare(model, to_torch(model), 3)


def test_micrograd_demo_mlp_exports():
    model = nn.MLP(2, [16, 16, 1], rng=0)
    net = to_torch(model)
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    _compare(model, net, 2, seed=3)


def test_sequential_of_linear_and_activations_exports():
    model = nn.Sequential(nn.Linear(3, 4, rng=2), nn.Tanh(), nn.Linear(4, 2, rng=3),
                          nn.LeakyReLU(0.1))
    net = to_torch(model)
    rng = random.Random(1)
    x = [rng.uniform(-1, 1) for _ in range(3)]
    ours = [v.data for v in model([Value(v) for v in x])]
    theirs = net(torch.tensor([x], dtype=torch.float64))[0].tolist()
    assert_all_close(theirs, ours, what="outputs")


def test_a_relu_with_another_kink_is_refused():
    model = nn.Sequential(nn.Linear(2, 2, rng=0), nn.ReLU(kink=1.0))
    with pytest.raises(ValueError, match="derivative 1.0 at 0"):
        to_torch(model)


def test_an_unsupported_layer_is_named():
    with pytest.raises(TypeError, match="cannot export"):
        to_torch(nn.Sequential(nn.Linear(2, 2, rng=0), nn.Dropout(0.5)))
