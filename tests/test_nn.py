"""Layers: structure, shapes, errors, and gradients against central differences and PyTorch."""
from __future__ import annotations

import random

import pytest
from helpers import assert_all_close, assert_close

from microgradnet.nested import flatten, values
from microgradnet import Value, functional as F
from microgradnet.init import Generator
from microgradnet.nn import (MLP, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten,
                             Identity, Layer, LeakyReLU, Linear, MaxPool2d, Module, Neuron,
                             Parameter, ReLU, Sequential, Sigmoid, Softplus, Swish, Tanh, shape_of,
                             summary)


# ---- helpers ---------------------------------------------------------------------------------

def rand(shape, rng, lo=-1.0, hi=1.0):
    if not shape:
        return rng.uniform(lo, hi)
    return [rand(shape[1:], rng, lo, hi) for _ in range(shape[0])]


def probe(out, seed=7):
    """A random linear functional of the output, so every output's gradient is distinct."""
    rng = random.Random(seed)
    ys = flatten(out)
    cs = [rng.uniform(-1, 1) for _ in ys]
    return F.sum([c * y for c, y in zip(cs, ys)]), cs


def check_central(build, leaves, h=1e-6, rtol=1e-6, atol=1e-8):
    """Backward gradients of ``build()`` w.r.t. ``leaves`` against central differences on
    their ``.data``."""
    for v in leaves:
        v.grad = 0.0
    build().backward()
    analytic = [v.grad for v in leaves]
    for i, v in enumerate(leaves):
        old = v.data
        v.data = old + h
        up = build().data
        v.data = old - h
        down = build().data
        v.data = old
        assert_close(analytic[i], (up - down) / (2 * h), rtol, atol, f"d/d leaf {i} ({v.label})")


def grads(xs):
    return [v.grad for v in flatten(xs)]


# ---- Module structure ------------------------------------------------------------------------

def test_named_parameters_follow_assignment_order_and_are_unique():
    model = Sequential(Linear(3, 2, rng=0), ReLU(), Linear(2, 1, rng=1))
    names = [n for n, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.weight.0.0", "layers.0.weight.0.1", "layers.0.weight.0.2"]
    assert names[6:8] == ["layers.0.bias.0", "layers.0.bias.1"]
    assert len(names) == len(set(names)) == 3 * 2 + 2 + 2 + 1
    assert model.parameters() == [p for _, p in model.named_parameters()]


def test_shared_parameter_is_listed_once():
    lin = Linear(2, 2, rng=0)
    model = Sequential(lin, lin)
    assert len(model.parameters()) == 6


def test_mlp_matches_micrograd_given_the_same_weights():
    mg = pytest.importorskip("micrograd.nn")
    ours = MLP(3, [4, 4, 1], rng=3)
    theirs = mg.MLP(3, [4, 4, 1])
    assert len(ours.parameters()) == len(theirs.parameters())
    for a, b in zip(ours.parameters(), theirs.parameters()):
        b.data = a.data
    x = [0.5, -1.2, 2.0]
    y_ours, y_theirs = ours(x), theirs(x)
    assert isinstance(y_ours, list) and len(y_ours) == 1      # micrograd would return a Value
    assert_close(y_ours[0].data, y_theirs.data, rtol=1e-12)
    y_ours[0].backward()
    y_theirs.backward()
    assert_all_close([p.grad for p in ours.parameters()],
                     [p.grad for p in theirs.parameters()], rtol=1e-12, atol=1e-15)


def test_layer_of_one_unit_returns_a_list_unless_squeezed():
    x = [1.0, 2.0]
    assert isinstance(Layer(2, 1, rng=0)(x), list)
    assert isinstance(Layer(2, 1, squeeze=True, rng=0)(x), Value)
    assert isinstance(MLP(2, [3, 1], rng=0, squeeze=True)(x), Value)


def test_mlp_last_layer_is_linear_by_default():
    model = MLP(2, [3, 2], rng=0)
    assert [n.activation for n in model.layers[-1].neurons] == ["linear", "linear"]
    assert model.layers[0].neurons[0].activation == "relu"
    assert MLP(2, [3, 2], last_activation="sigmoid").layers[-1].neurons[0].activation == "sigmoid"


def test_neuron_accepts_micrograd_nonlin_flag():
    assert Neuron(2, nonlin=False).activation == "linear"
    assert Neuron(2, nonlin=True).activation == "relu"


def test_same_seed_same_model_and_different_seed_different_model():
    a, b, c = (MLP(2, [4, 1], rng=s) for s in (5, 5, 6))
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    assert [p.data for p in a.parameters()] != [p.data for p in c.parameters()]
    assert [p.data for p in Linear(3, 2, rng=1).parameters()] == \
           [p.data for p in Linear(3, 2, rng=Generator(1)).parameters()]


def test_zero_grad_train_eval_propagate():
    model = Sequential(Linear(2, 2, rng=0), Sequential(Dropout(0.5), BatchNorm1d(2)))
    y = model([[1.0, 2.0], [3.0, -1.0]])
    F.sum(flatten(y)).backward()
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_state_dict_round_trip_includes_running_statistics():
    a = Sequential(Linear(2, 2, rng=0), BatchNorm1d(2))
    a([[1.0, 2.0], [3.0, -1.0]])
    b = Sequential(Linear(2, 2, rng=9), BatchNorm1d(2))
    b.load_state_dict(a.state_dict())
    assert b.state_dict() == a.state_dict()
    assert b.layers[1].running_mean == a.layers[1].running_mean != [0.0, 0.0]


def test_repr_is_informative():
    model = Sequential(Conv2d(1, 2, 3, rng=0), ReLU(), Flatten(), Linear(8, 2, rng=0))
    text = repr(model)
    assert "Conv2d(1, 2, kernel_size=(3, 3)" in text
    assert "Linear(in_features=8, out_features=2, bias=True)" in text
    assert repr(Dropout(0.2)) == "Dropout(p=0.2)"


def test_every_node_of_a_layer_is_tagged_with_its_scope():
    model = MLP(2, [2, 1], rng=0)
    y = model([1.0, 2.0])[0]
    assert y.scope == (model.display_name, "layer2", "neuron1")
    h = y.parents[0].parents[0]       # (w1*h1 + w2*h2) + b: the first product w1*h1
    assert h.op == "*" and h.scope == (model.display_name, "layer2", "neuron1")
    seq = Sequential(Linear(2, 2, rng=0), ReLU())
    out = seq([1.0, 1.0])
    assert out[0].scope == ("Sequential", "ReLU-2")
    assert out[0].parents[0].scope == ("Sequential", "Linear-1")


def test_custom_module_subclass_finds_its_parameters():
    class Affine(Module):
        def __init__(self):
            super().__init__()
            self.a = Parameter(2.0, label="a")
            self.inner = Linear(1, 1, rng=0)

        def forward(self, x):
            self.cached = [self.a * v for v in self.inner(x)]   # a plain Value: no parameter
            self.offset = Value(1.0)
            return self.cached

    m = Affine()
    assert [n for n, _ in m.named_parameters()] == ["a", "inner.weight.0.0", "inner.bias.0"]
    assert m([1.0])[0].scope == ("Affine",)
    assert [n for n, _ in m.named_parameters()] == ["a", "inner.weight.0.0", "inner.bias.0"]
    assert list(m.state_dict()) == ["a", "inner.weight", "inner.bias"]


# ---- Linear ---------------------------------------------------------------------------------

def s13_network():
    """The 2-2-2 ReLU network of seed 001, S1-3 (w_jk: from unit j to unit k)."""
    l1 = Linear.from_weights([[1.0, 0.5], [-0.5, -1.0]], [0.5, -0.5],
                             w_labels=[["w11", "w21"], ["w12", "w22"]], b_labels=["b1", "b2"])
    l2 = Linear.from_weights([[0.5, -0.5], [-1.0, 1.0]], [-1.0, 0.5],
                             w_labels=[["w31", "w41"], ["w32", "w42"]], b_labels=["b3", "b4"])
    return Sequential(l1, ReLU(), l2)


def test_from_weights_rebuilds_the_s13_network_with_the_seeds_labels():
    net = s13_network()
    labels = [p.label for p in net.parameters()]
    assert sorted(labels) == sorted(["w11", "w12", "w21", "w22", "w31", "w32", "w41", "w42",
                                     "b1", "b2", "b3", "b4"])
    o = net([2.0, -1.0])
    h = net.layers[0]([2.0, -1.0])
    # S1-3.1 as the seed computes it: h1 = i1 w11 + i2 w21 + b1 ...
    assert [v.data for v in h] == [2.0 * 1.0 + -1.0 * 0.5 + 0.5, 2.0 * -0.5 + -1.0 * -1.0 - 0.5]
    assert [v.data for v in o] == [0.0, -1.5]
    loss = F.mse(o, [1.0, 0.5], reduction="half")
    assert loss.data == 2.5                                            # S1-3.2
    loss.backward()
    w21 = {p.label: p for p in net.parameters()}["w21"]
    assert_close(w21.grad, -1.5)                                       # S1-3.3
    # the chain is written in the textbook's order: w11*i1 + w21*i2 + b1
    h1 = h[0]
    assert h1.op == "+" and h1.parents[1].label == "b1"
    assert [p.label for p in h1.parents[0].parents[0].parents] == ["w11", ""]


def test_from_weights_accepts_label_functions_and_values():
    w = Value(3.0, label="shared")
    lin = Linear.from_weights([[w, 1.0]], [0.0], w_labels=lambda k, j: f"w{j}{k}",
                              b_labels=lambda k: f"b{k}")
    assert [p.label for p in lin.parameters()] == ["w11", "w21", "b1"]
    assert lin.weight[0][0] is w


@pytest.mark.parametrize("bad", [[[1.0, 2.0], [3.0]], [1.0, 2.0], []])
def test_from_weights_rejects_bad_shapes(bad):
    with pytest.raises(ValueError):
        Linear.from_weights(bad)


def test_from_weights_rejects_mismatched_bias_and_labels():
    with pytest.raises(ValueError, match="2 biases"):
        Linear.from_weights([[1.0], [2.0]], [0.0])
    with pytest.raises(ValueError, match="labels"):
        Linear.from_weights([[1.0], [2.0]], w_labels=[["a"]])


def test_shape_mismatch_names_the_layer_and_both_shapes():
    model = Sequential(Linear(3, 2, rng=0), Linear(2, 1, rng=0))
    with pytest.raises(ValueError, match=r"Linear-1.*shape 3.*got 2"):
        model([1.0, 2.0])
    with pytest.raises(ValueError, match=r"Conv2d-1.*2xHxW.*got 1x5x5"):
        Sequential(Conv2d(2, 1, 3))([[[0.0] * 5] * 5])
    with pytest.raises(ValueError, match=r"Linear-2.*shape 5.*got 8"):
        summary(Sequential(Flatten(), Linear(5, 1)), (2, 2, 2))
    with pytest.raises(ValueError, match="layer1"):
        MLP(3, [2])([1.0])


def test_linear_batch_equals_samples():
    lin = Linear(3, 2, rng=0)
    xs = [[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]
    batch = lin(xs)
    assert [[v.data for v in row] for row in batch] == \
           [[v.data for v in lin(x)] for x in xs]


def test_linear_makes_no_needless_nodes():
    lin = Linear(3, 1, rng=0)
    x = [Value(1.0), Value(2.0), Value(3.0)]
    from microgradnet import topological_order
    nodes = topological_order(lin(x)[0])
    assert len([n for n in nodes if not n.is_leaf]) == 3 + 3       # 3 products, 3 additions


# ---- gradients against central differences ---------------------------------------------------

def test_linear_and_mlp_gradients_match_central_differences():
    rng = random.Random(1)
    lin = Linear(3, 2, rng=0)
    x = values(rand((2, 3), rng))
    check_central(lambda: probe(lin(x))[0], lin.parameters() + flatten(x))
    mlp = MLP(3, [4, 2], activation="tanh", rng=1)
    x = values(rand((3,), rng))
    check_central(lambda: probe(mlp(x))[0], mlp.parameters() + flatten(x))


@pytest.mark.parametrize("act", [ReLU(), LeakyReLU(0.1), Sigmoid(), Tanh(), Softplus(),
                                 Swish(1.7), Identity()])
def test_activation_modules_gradients_match_central_differences(act):
    x = values([[0.3, -1.2, 2.1], [-0.4, 0.9, -2.5]])
    check_central(lambda: probe(act(x))[0], flatten(x))


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((1, 2), (0, 1))])
def test_conv2d_gradients_match_central_differences(stride, padding):
    rng = random.Random(2)
    conv = Conv2d(2, 2, (2, 3), stride=stride, padding=padding, rng=0)
    for b in conv.bias:
        b.data = rng.uniform(-1, 1)
    x = values(rand((2, 4, 5), rng))
    check_central(lambda: probe(conv(x))[0], conv.parameters() + flatten(x))


@pytest.mark.parametrize("pool", [MaxPool2d(2), MaxPool2d(3, stride=1), AvgPool2d(2),
                                  AvgPool2d((2, 1), stride=(1, 2))])
def test_pooling_gradients_match_central_differences(pool):
    x = values(rand((2, 4, 5), random.Random(3)))
    check_central(lambda: probe(pool(x))[0], flatten(x))


def test_batchnorm_gradients_match_central_differences_in_both_modes():
    rng = random.Random(4)
    bn = BatchNorm1d(3)
    for p in bn.parameters():
        p.data = rng.uniform(0.5, 1.5)
    x = values(rand((4, 3), rng))
    check_central(lambda: probe(bn(x))[0], bn.parameters() + flatten(x), rtol=1e-5)
    bn.eval()
    check_central(lambda: probe(bn(x))[0], bn.parameters() + flatten(x), rtol=1e-5)
    bn2 = BatchNorm2d(2)
    x2 = values(rand((2, 2, 2, 3), rng))
    check_central(lambda: probe(bn2(x2))[0], bn2.parameters() + flatten(x2), rtol=1e-5)


def test_dropout_gradient_is_the_mask():
    x = values(rand((3, 4), random.Random(5)))
    drop = Dropout(0.5, rng=11)
    loss, cs = probe(drop(x))
    loss.backward()
    assert_all_close(grads(x), [c * m for c, m in zip(cs, flatten(drop.mask))], rtol=1e-15)
    assert set(flatten(drop.mask)) <= {0.0, 2.0}


# ---- PyTorch parity --------------------------------------------------------------------------

def torch_grads(torch, fn, *arrays):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = fn(*ts)
    cs = probe([v for v in out.detach().flatten().tolist()])[1]
    (out.flatten() * torch.tensor(cs, dtype=torch.float64)).sum().backward()
    return out.detach().tolist(), [t.grad.tolist() for t in ts]


def test_linear_matches_torch():
    torch = pytest.importorskip("torch")
    rng = random.Random(6)
    lin = Linear(4, 3, rng=0)
    for b in lin.bias:
        b.data = rng.uniform(-1, 1)
    X = rand((5, 4), rng)
    xv = values(X)
    out = lin(xv)
    probe(out)[0].backward()
    W = [[w.data for w in row] for row in lin.weight]
    b = [v.data for v in lin.bias]
    t_out, (gx, gw, gb) = torch_grads(torch, torch.nn.functional.linear, X, W, b)
    assert_all_close([[v.data for v in r] for r in out], t_out, rtol=1e-12)
    assert_all_close(grads(xv), flatten(gx), rtol=1e-10, atol=1e-14)
    assert_all_close([w.grad for row in lin.weight for w in row], flatten(gw),
                     rtol=1e-10, atol=1e-14)
    assert_all_close([v.grad for v in lin.bias], gb, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), ((2, 1), (1, 0))])
def test_conv2d_matches_torch(stride, padding):
    torch = pytest.importorskip("torch")
    rng = random.Random(7)
    W, b = rand((3, 2, 3, 2), rng), rand((3,), rng)
    X = rand((2, 2, 5, 6), rng)
    conv = Conv2d.from_weights(W, b, stride=stride, padding=padding)
    xv = values(X)
    out = conv(xv)
    probe(out)[0].backward()
    t_out, (gx, gw, gb) = torch_grads(
        torch, lambda x, w, bb: torch.nn.functional.conv2d(x, w, bb, stride, padding), X, W, b)
    assert shape_of(out) == shape_of(t_out)
    assert_all_close(flatten([[[[v.data for v in r] for r in p] for p in s] for s in out]),
                     flatten(t_out), rtol=1e-12, atol=1e-14)
    assert_all_close(grads(xv), flatten(gx), rtol=1e-10, atol=1e-14)
    assert_all_close(grads(conv.weight), flatten(gw), rtol=1e-10, atol=1e-14)
    assert_all_close(grads(conv.bias), gb, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kind,k,s", [("max", 2, None), ("max", 3, 2), ("avg", 2, None),
                                      ("avg", (3, 2), (1, 2))])
def test_pooling_matches_torch(kind, k, s):
    torch = pytest.importorskip("torch")
    X = rand((2, 2, 6, 7), random.Random(8))
    pool = (MaxPool2d if kind == "max" else AvgPool2d)(k, s)
    xv = values(X)
    out = pool(xv)
    probe(out)[0].backward()
    tf = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    t_out, (gx,) = torch_grads(torch, lambda x: tf(x, k, s), X)
    assert_all_close([v.data for v in flatten(out)], flatten(t_out), rtol=1e-12)
    assert_all_close(grads(xv), flatten(gx), rtol=1e-10, atol=1e-14)


def test_maxpool_tie_sends_the_gradient_to_the_first_maximum_like_torch():
    torch = pytest.importorskip("torch")
    X = [[[1.0, 1.0], [0.0, 1.0]]]
    xv = values(X)
    MaxPool2d(2)(xv)[0][0][0].backward()
    t = torch.tensor([X], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.max_pool2d(t, 2).sum().backward()
    assert grads(xv) == flatten(t.grad.tolist()) == [1.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("name,ours,theirs", [
    ("relu", ReLU(), lambda t, x: t.relu(x)),
    ("leaky", LeakyReLU(0.2), lambda t, x: t.nn.functional.leaky_relu(x, 0.2)),
    ("sigmoid", Sigmoid(), lambda t, x: t.sigmoid(x)),
    ("tanh", Tanh(), lambda t, x: t.tanh(x)),
    ("softplus", Softplus(), lambda t, x: t.nn.functional.softplus(x)),
    ("swish", Swish(), lambda t, x: t.nn.functional.silu(x)),
    ("swish2", Swish(2.5), lambda t, x: x * t.sigmoid(2.5 * x)),
])
def test_activation_modules_match_torch(name, ours, theirs):
    torch = pytest.importorskip("torch")
    X = rand((3, 4), random.Random(9), -3, 3)
    xv = values(X)
    out = ours(xv)
    probe(out)[0].backward()
    t_out, (gx,) = torch_grads(torch, lambda x: theirs(torch, x), X)
    assert_all_close([v.data for v in flatten(out)], flatten(t_out), rtol=1e-12, atol=1e-15)
    assert_all_close(grads(xv), flatten(gx), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("dims", [1, 2])
def test_batchnorm_matches_torch_in_training_and_eval(dims):
    torch = pytest.importorskip("torch")
    rng = random.Random(10)
    C = 3
    shape = (4, C) if dims == 1 else (3, C, 2, 3)
    bn = BatchNorm1d(C, momentum=0.3) if dims == 1 else BatchNorm2d(C, momentum=0.3)
    for p in bn.parameters():
        p.data = rng.uniform(0.5, 1.5)
    gamma, beta = [g.data for g in bn.weight], [b.data for b in bn.bias]
    rm = torch.zeros(C, dtype=torch.float64)
    rv = torch.ones(C, dtype=torch.float64)
    for _ in range(2):        # two batches: the running statistics accumulate
        X = rand(shape, rng, -2, 3)
        xv = values(X)
        out = bn(xv)
        for p in bn.parameters():
            p.grad = 0.0
        probe(out)[0].backward()
        t_out, (gx, gg, gb) = torch_grads(
            torch, lambda x, g, b: torch.nn.functional.batch_norm(
                x, rm, rv, g, b, training=True, momentum=0.3, eps=1e-5), X, gamma, beta)
        assert_all_close([v.data for v in flatten(out)], flatten(t_out), rtol=1e-10, atol=1e-12)
        assert_all_close(grads(xv), flatten(gx), rtol=1e-8, atol=1e-12)
        assert_all_close(grads(bn.weight), gg, rtol=1e-10, atol=1e-12)
        assert_all_close(grads(bn.bias), gb, rtol=1e-10, atol=1e-12)
        assert_all_close(bn.running_mean, rm.tolist(), rtol=1e-12, atol=1e-15)
        assert_all_close(bn.running_var, rv.tolist(), rtol=1e-12)
    bn.eval()
    X = rand(shape, rng)
    out = bn(values(X))
    t_out = torch.nn.functional.batch_norm(torch.tensor(X, dtype=torch.float64), rm, rv,
                                           torch.tensor(gamma, dtype=torch.float64),
                                           torch.tensor(beta, dtype=torch.float64),
                                           training=False, eps=1e-5)
    assert_all_close([v.data for v in flatten(out)], flatten(t_out.tolist()),
                     rtol=1e-12, atol=1e-14)


def test_mlp_matches_torch():
    torch = pytest.importorskip("torch")
    model = MLP(3, [4, 2], activation="tanh", rng=12)
    x = [0.3, -0.8, 1.1]
    xv = values(x)
    probe(model(xv))[0].backward()
    tl = []
    for layer in model.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        tl.append((W, b))
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    h = torch.tanh(tl[0][0] @ t + tl[0][1])
    out = tl[1][0] @ h + tl[1][1]
    cs = probe(out.tolist())[1]
    (out * torch.tensor(cs, dtype=torch.float64)).sum().backward()
    assert_all_close(grads(xv), t.grad.tolist(), rtol=1e-10)
    for layer, (W, b) in zip(model.layers, tl):
        assert_all_close([[w.grad for w in n.w] for n in layer.neurons], W.grad.tolist(),
                         rtol=1e-10, atol=1e-15)
        assert_all_close([n.b.grad for n in layer.neurons], b.grad.tolist(), rtol=1e-10)


# ---- dropout ---------------------------------------------------------------------------------

def test_dropout_p_is_the_drop_probability_and_keeps_the_mean():
    drop = Dropout(0.8, rng=1)
    x = [1.0] * 20000
    y = drop(x)
    kept = sum(1 for m in drop.mask if m != 0.0) / len(x)
    assert abs(kept - 0.2) < 0.01
    assert abs(sum(v.data for v in y) / len(x) - 1.0) < 0.05
    assert {m for m in drop.mask} == {0.0, 1 / (1 - 0.8)}


def test_dropout_is_identity_in_eval_and_reproducible_by_seed():
    x = values([0.5, -1.0, 2.0])
    assert Dropout(0.5).eval()(x) is x
    a, b = Dropout(0.5, rng=3), Dropout(0.5, rng=3)
    a(x)
    b(x)
    assert a.mask == b.mask
    assert Dropout(1.0)(x)[0].data == 0.0
    with pytest.raises(ValueError):
        Dropout(1.5)


def test_dropout_masks_are_leaves_and_draw_mask_feeds_new_ones():
    x = values(rand((2, 3), random.Random(6)))
    drop = Dropout(0.25, rng=5)
    y = drop(x)
    leaves = drop.mask_leaves
    assert [m.data for m in leaves] == flatten(drop.mask) and all(m.is_leaf for m in leaves)
    assert [m.label for m in leaves] == ["mask"] * 6
    assert all(m in y[i][j].parents for (i, j), m in zip([(0, 0), (0, 1), (0, 2), (1, 0),
                                                           (1, 1), (1, 2)], leaves))
    assert drop.parameters() == []           # mask leaves are not parameters
    again = Dropout(0.25, rng=5)
    again(x)
    draws = [again.draw_mask() for _ in range(200)]
    assert all(len(d) == 6 and set(d) <= {0.0, 1 / 0.75} for d in draws)
    dropped = sum(v == 0.0 for d in draws for v in d) / (6 * 200)
    assert abs(dropped - 0.25) < 0.04
    assert Dropout(0.5).draw_mask() == []    # no training pass yet


def test_batchnorm_exposes_its_batch_statistics_as_nodes():
    torch = pytest.importorskip("torch")
    X = rand((3, 2, 2, 3), random.Random(12))
    bn = BatchNorm2d(2)
    bn(values(X))
    t = torch.tensor(X, dtype=torch.float64)
    mean, var = t.mean(dim=(0, 2, 3)), t.var(dim=(0, 2, 3), unbiased=False)
    st = bn.batch_stats
    assert [n for _, _, n in st] == [18, 18]        # N * H * W values per channel
    assert_all_close([m.data for m, _, _ in st], mean.tolist(), rtol=1e-13, atol=1e-16)
    assert_all_close([v.data for _, v, _ in st], var.tolist(), rtol=1e-13)
    bn.eval()
    bn(values(X))
    assert bn.batch_stats == []


def test_a_training_graph_of_every_layer_replays_like_a_fresh_eager_pass():
    """Conv, batch norm, max-pool (ties included), dropout: the graph is recorded once and
    replayed on new inputs, parameters and masks; each replay equals a new eager pass."""
    from microgradnet.replay import compile_graph
    rng = random.Random(13)
    drop = Dropout(0.5, rng=3)
    model = Sequential(Conv2d(1, 2, 2, rng=1), BatchNorm2d(2), ReLU(), MaxPool2d(2), Flatten(),
                       Linear(8, 3, rng=2), BatchNorm1d(3), ReLU(), drop, Linear(3, 2, rng=4))
    B = 3
    xs = [[[[Value(0.0) for _ in range(5)] for _ in range(5)]] for _ in range(B)]
    out = model(xs)
    params = model.parameters()
    masks = drop.mask_leaves
    leaves = flatten(xs) + masks + params
    fn = compile_graph(probe(out)[0], leaves)
    for _ in range(3):
        state = drop._rng.getstate()
        mask = drop.draw_mask()
        xv = [rng.choice([0.0, 1.0, 2.0]) for _ in range(B * 25)]   # ties in the pool windows
        pv = [rng.uniform(-1, 1) for _ in params]
        r_out, r_grads = fn(xv + mask + pv)
        drop._rng.setstate(state)                 # the eager pass draws the same mask
        for p, v in zip(params, pv):
            p.data, p.grad = v, 0.0
        fresh = values([[[xv[25 * b + 5 * i:25 * b + 5 * i + 5] for i in range(5)]]
                        for b in range(B)])
        loss = probe(model(fresh))[0]
        loss.backward()
        assert [m.data for m in drop.mask_leaves] == mask
        assert r_out == loss.data
        assert r_grads[:B * 25] == grads(fresh)
        assert r_grads[len(leaves) - len(params):] == [p.grad for p in params]


# ---- S2-Q2.3: the CNN summary --------------------------------------------------------------

def s2q23_cnn():
    """Seed 002, Q2.3: Conv4-5-Pvalid-S2, Pool3, Conv3-5-Pvalid-S1, Pool2, FC5."""
    return Sequential(Conv2d(1, 5, 4, stride=2, rng=0), MaxPool2d(3), Conv2d(5, 5, 3, rng=0),
                      MaxPool2d(2), Flatten(), Linear(80, 5, rng=0))


def test_s2q23_summary_shapes_and_parameter_counts():
    s = summary(s2q23_cnn(), (1, 64, 64), channels_last=True)
    rows = [r for r in s if not r.name.startswith("Flatten")]
    # the seed writes shapes as width x height x depth and FC5's output as 1x1x5
    assert [s.format_shape(r.output_shape) for r in rows[:4]] == \
           ["31x31x5", "10x10x5", "8x8x5", "4x4x5"]
    assert rows[4].output_shape == (5,)
    assert [r.params for r in rows] == [85, 0, 230, 0, 405]
    assert s.total_params == 85 + 230 + 405
    text = str(s)
    assert "31x31x5" in text and "405" in text and "Conv2d-1" in text


@pytest.mark.parametrize("size", [28, 30])
def test_summary_shapes_equal_the_shapes_of_a_real_forward_pass(size):
    model = s2q23_cnn()
    model.layers[-1] = Linear(5 * ((((size - 4) // 2 + 1) // 3 - 2) // 2) ** 2, 5, rng=0)
    model.layers[-1].name = "Linear-6"
    x = rand((1, size, size), random.Random(0))
    s = summary(model, (1, size, size))
    for layer, row in zip(model.layers, s):
        x = layer(x)
        assert shape_of(x) == row.output_shape, layer


def test_summary_of_an_mlp_lists_its_layers():
    s = summary(MLP(2, [16, 16, 1]), (2,))
    assert [(r.name, r.output_shape, r.params) for r in s] == \
           [("layer1", (16,), 48), ("layer2", (16,), 272), ("layer3", (1,), 17)]
