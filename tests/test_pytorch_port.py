"""A PyTorch training script runs on microgradnet with only its import lines changed, and
gives torch's numbers (float64); the PyTorch vocabulary of nn, functional, optim and init is
checked against torch itself."""
from __future__ import annotations

import copy
import math
import pickle
import random

import pytest
from helpers import assert_all_close

from microgradnet import Value
from microgradnet import functional as MF
from microgradnet import nn as mnn
from microgradnet import optim as moptim
from microgradnet.nested import flatten

torch = pytest.importorskip("torch")

TORCH_IMPORTS = "import torch\nfrom torch import nn, optim\nimport torch.nn.functional as F\n"
OUR_IMPORTS = "from microgradnet import nn, optim\nimport microgradnet.functional as F\n"

# A short PyTorch script: Linear, MSE with a reduction, SGD with momentum, zero_grad,
# backward, step, a state-dict round trip of the model and of the optimiser.
SCRIPT = """
model = nn.Linear(3, 2)
model.load_state_dict(start)
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
criterion = nn.MSELoss(reduction="sum")
losses = []
for epoch in range(8):
    optimizer.zero_grad()
    loss = criterion(model(X), Y) if epoch % 2 else F.mse_loss(model(X), Y, reduction="mean")
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

clone = nn.Linear(3, 2)
result = clone.load_state_dict(model.state_dict())
clone_optimizer = optim.SGD(clone.parameters(), lr=0.05, momentum=0.9)
clone_optimizer.load_state_dict(optimizer.state_dict())
for m, o in ((model, optimizer), (clone, clone_optimizer)):
    o.zero_grad(set_to_none=True)
    loss = F.mse_loss(m(X), Y)
    loss.backward()
    o.step()
    losses.append(loss.item())
after = [F.mse_loss(model(X), Y).item(), F.mse_loss(clone(X), Y).item()]
"""


def data():
    rng = random.Random(3)
    X = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(6)]
    Y = [[rng.uniform(-1, 1) for _ in range(2)] for _ in range(6)]
    start = {"weight": [[0.3, -0.2, 0.5], [0.1, 0.4, -0.6]], "bias": [0.05, -0.1]}
    return X, Y, start


def run(imports: str, env: dict) -> dict:
    exec(compile(imports + SCRIPT, "script.py", "exec"), env)
    return env


def test_a_pytorch_script_runs_with_only_its_imports_changed():
    X, Y, start = data()
    ours = run(OUR_IMPORTS, {"X": X, "Y": Y, "start": start})
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        theirs = run(TORCH_IMPORTS, {"X": torch.tensor(X), "Y": torch.tensor(Y),
                                     "start": {k: torch.tensor(v) for k, v in start.items()}})
    finally:
        torch.set_default_dtype(old)
    assert_all_close(ours["losses"], theirs["losses"], rtol=1e-12)
    assert ours["losses"][-1] == ours["losses"][-2]      # the clone trained like the model
    assert ours["after"][0] == ours["after"][1]
    assert ours["losses"][7] < ours["losses"][1]          # it learnt something
    assert list(ours["result"]) == [[], []] and ours["result"].missing_keys == []
    assert list(ours["model"].state_dict()) == list(theirs["model"].state_dict())
    for k, v in theirs["model"].state_dict().items():
        assert_all_close(flatten(ours["model"].state_dict()[k]), v.flatten().tolist(),
                         rtol=1e-12)


@pytest.mark.parametrize("name,ours,theirs,kw", [
    ("mse", MF.mse_loss, "mse_loss", {}),
    ("l1", MF.l1_loss, "l1_loss", {}),
    ("bce_logits", MF.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits", {}),
])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_elementwise_losses_reduce_as_torch(name, ours, theirs, kw, reduction):
    pred = [0.3, -1.2, 2.0, 0.7]
    target = [0.0, 1.0, 1.0, 0.0] if name == "bce_logits" else [0.5, -1.0, 1.0, 0.9]
    vs = [Value(p) for p in pred]
    out = ours(vs, target, reduction=reduction)
    tp = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    ref = getattr(torch.nn.functional, theirs)(tp, torch.tensor(target, dtype=torch.float64),
                                               reduction=reduction)
    if reduction == "none":
        assert_all_close([o.data for o in out], ref.tolist(), rtol=1e-14)
        total = MF.sum(out)
        ref = ref.sum()
    else:
        total = out
        assert_all_close([out.data], [ref.item()], rtol=1e-14)
    total.backward()
    ref.backward()
    assert_all_close([v.grad for v in vs], tp.grad.tolist(), rtol=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_reduce_a_batch_as_torch(reduction):
    logits = [[0.2, -1.0, 0.5], [1.5, 0.3, -0.2]]
    target = [2, 0]
    t = torch.tensor(logits, dtype=torch.float64)
    for ours, theirs in ((MF.cross_entropy, torch.nn.functional.cross_entropy),
                         (MF.nll_loss, torch.nn.functional.nll_loss)):
        out = ours(logits, target, reduction=reduction)
        ref = theirs(t, torch.tensor(target), reduction=reduction)
        got = [o.data for o in out] if reduction == "none" else [out.data]
        assert_all_close(got, ref.flatten().tolist(), rtol=1e-14)
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'none'"):
        MF.cross_entropy(logits, target, reduction="avg")


def test_loss_modules_hold_their_reduction():
    crit = mnn.MSELoss(reduction="none")
    out = crit([Value(1.0), Value(2.0)], [0.0, 0.0])
    assert [o.data for o in out] == [1.0, 4.0]
    assert repr(crit) == "MSELoss(reduction='none')"
    assert mnn.CrossEntropyLoss()([[0.0, 0.0]], [1]).data == pytest.approx(math.log(2), 1e-15)
    with pytest.raises(ValueError, match="reduction"):
        mnn.L1Loss(reduction="avg")


@pytest.mark.parametrize("kind", ["adam", "adamw"])
def test_adam_and_adamw_match_torch_with_weight_decay(kind):
    start = [0.7, -0.4, 1.3]
    ps = [Value(v) for v in start]
    tp = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    cls, tcls = ((moptim.Adam, torch.optim.Adam) if kind == "adam"
                 else (moptim.AdamW, torch.optim.AdamW))
    ours, theirs = cls(ps, lr=0.05, weight_decay=0.1), tcls([tp], lr=0.05, weight_decay=0.1)
    for _ in range(6):
        ours.zero_grad()
        loss = (ps[0] * ps[1] - 1) ** 2 + (ps[2] - ps[0]).tanh()
        loss.backward()
        ours.step()
        theirs.zero_grad()
        ((tp[0] * tp[1] - 1) ** 2 + torch.tanh(tp[2] - tp[0])).backward()
        theirs.step()
    assert_all_close([p.data for p in ps], tp.detach().tolist(), rtol=1e-12)
    assert moptim.AdamW(ps).weight_decay == torch.optim.AdamW([tp]).defaults["weight_decay"]


def test_param_groups_take_their_own_learning_rate_as_torch():
    a, b = Value(1.0), Value(2.0)
    ta = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ours = moptim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD([{"params": [ta]}, {"params": [tb], "lr": 0.5}], lr=0.1,
                             momentum=0.9)
    for _ in range(3):
        ours.zero_grad()
        (a * a * b).backward()
        ours.step()
        theirs.zero_grad()
        (ta * ta * tb).backward()
        theirs.step()
    assert_all_close([a.data, b.data], [ta.item(), tb.item()], rtol=1e-13)
    assert [g["lr"] for g in ours.param_groups] == [0.1, 0.5]
    sd = ours.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert set(sd["state"]) == {0, 1} and "momentum_buffer" in sd["state"][0]
    with pytest.raises(ValueError, match="unknown option"):
        moptim.SGD([{"params": [a], "betas": (0.9, 0.9)}], lr=0.1)
    with pytest.raises(ValueError, match=r"hold \[1, 1\] parameters, this optimiser's \[1\]"):
        moptim.SGD([a], lr=0.1).load_state_dict(sd)


def test_optimiser_state_dict_round_trip_continues_the_same_path():
    def fresh():
        return [Value(0.7), Value(-0.3)]

    def loss(ps):
        return (ps[0] * ps[1] + 0.5) ** 2 + ps[0] ** 4

    for make in (lambda ps: moptim.SGD(ps, lr=0.05, momentum=0.8),
                 lambda ps: moptim.Adam(ps, lr=0.05)):
        ps = fresh()
        opt = make(ps)
        for _ in range(3):
            opt.zero_grad()
            loss(ps).backward()
            opt.step()
        qs = [Value(p.data) for p in ps]
        opt2 = make(qs)
        opt2.load_state_dict(copy.deepcopy(opt.state_dict()))
        for o, vs in ((opt, ps), (opt2, qs)):
            o.zero_grad()
            loss(vs).backward()
            o.step()
        assert [p.data for p in ps] == [q.data for q in qs]


def test_init_in_place_names_match_torch_scale():
    lin = mnn.Linear(200, 100, rng=0)
    mnn.init.kaiming_uniform_(lin.weight, rng=1)
    bound = math.sqrt(6.0 / 200)          # torch: gain sqrt(2) * sqrt(3 / fan_in)
    ws = [w.data for row in lin.weight for w in row]
    assert max(abs(w) for w in ws) <= bound and max(abs(w) for w in ws) > 0.95 * bound
    mnn.init.zeros_(lin.bias)
    assert all(b.data == 0.0 for b in lin.bias)
    assert mnn.init.calculate_gain("leaky_relu", 0.2) == torch.nn.init.calculate_gain(
        "leaky_relu", 0.2)
    assert mnn.init.calculate_gain("tanh") == torch.nn.init.calculate_gain("tanh")
    with pytest.raises(TypeError, match="nested lists of Values"):
        mnn.init.xavier_uniform_([1.0, 2.0])


def test_leaky_relu_silu_and_linear_take_torch_names():
    lin = mnn.Linear(in_features=3, out_features=2, rng=0)
    assert (lin.in_features, lin.out_features, lin.nin, lin.nout) == (3, 2, 3, 2)
    assert repr(mnn.LeakyReLU(negative_slope=0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert mnn.LeakyReLU(alpha=0.2).negative_slope == 0.2
    assert mnn.LeakyReLU(0.2)(Value(-1.0)).data == -0.2
    x = Value(0.7)
    y = mnn.SiLU()(x)
    y.backward()
    tx = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    ty = torch.nn.SiLU()(tx)
    ty.backward()
    assert_all_close([y.data, x.grad], [ty.item(), tx.grad.item()], rtol=1e-15)
    assert repr(mnn.SiLU()) == "SiLU()"


def test_batchnorm_momentum_none_is_a_cumulative_average_as_torch():
    batches = [[[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]], [[2.0, 2.0], [-1.0, 4.0], [0.0, 1.0]]]
    ours = mnn.BatchNorm1d(2, momentum=None)
    theirs = torch.nn.BatchNorm1d(2, momentum=None, dtype=torch.float64)
    for b in batches:
        ours(b)
        theirs(torch.tensor(b, dtype=torch.float64))
    assert_all_close(ours.running_mean, theirs.running_mean.tolist(), rtol=1e-14)
    assert_all_close(ours.running_var, theirs.running_var.tolist(), rtol=1e-14)
    for bad in (dict(momentum="x"), dict(momentum=1.5), dict(eps=0.0), dict(eps=-1.0)):
        with pytest.raises(ValueError, match="momentum|eps"):
            mnn.BatchNorm1d(2, **bad)


def test_state_dict_loads_into_torch_and_back():
    model = mnn.Sequential(mnn.Linear(2, 3, rng=0), mnn.ReLU(), mnn.BatchNorm1d(3))
    model([[1.0, 2.0], [0.0, -1.0], [2.0, 0.5]])
    sd = model.state_dict()
    assert list(sd) == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
                        "layers.2.running_mean", "layers.2.running_var",
                        "layers.2.num_batches_tracked"]
    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.BatchNorm1d(3))
    tmodel.load_state_dict({k.replace("layers.", ""): torch.tensor(v) for k, v in sd.items()})
    back = mnn.Sequential(mnn.Linear(2, 3, rng=5), mnn.ReLU(), mnn.BatchNorm1d(3))
    back.load_state_dict({"layers." + k: v for k, v in tmodel.state_dict().items()})
    got = back.state_dict()
    assert list(got) == list(sd)
    for k in sd:                                        # torch held them as float32
        assert_all_close(flatten(got[k]), flatten(sd[k]), rtol=1e-7, atol=1e-7, what=k)
    assert isinstance(got["layers.2.num_batches_tracked"], int)


def test_load_state_dict_checks_everything_before_changing_anything():
    model = mnn.Sequential(mnn.Linear(2, 2, rng=0), mnn.BatchNorm1d(2))
    before = model.state_dict()
    bad_shape = dict(before, **{"layers.0.weight": [[1.0, 2.0]]})
    with pytest.raises(ValueError, match="'layers.0.weight' has shape 1x2"):
        model.load_state_dict(bad_shape)
    bad_var = dict(before, **{"layers.0.bias": [9.0, 9.0], "layers.1.running_var": [1.0, 0.0]})
    with pytest.raises(ValueError, match="running_var must be positive"):
        model.load_state_dict(bad_var)
    with pytest.raises(ValueError, match="not a finite number"):
        model.load_state_dict(dict(before, **{"layers.0.bias": [float("nan"), 0.0]}))
    with pytest.raises(TypeError, match="must hold numbers"):
        model.load_state_dict(dict(before, **{"layers.0.bias": ["a", 0.0]}))
    extra = dict(before, stray=1.0)
    del extra["layers.1.weight"]
    with pytest.raises(KeyError, match=r"missing keys \['layers.1.weight'\], unexpected keys "
                                       r"\['stray'\]"):
        model.load_state_dict(extra)
    assert model.state_dict() == before                  # nothing changed by the failures
    result = model.load_state_dict(dict(extra, **{"layers.0.bias": [0.5, 0.5]}), strict=False)
    assert result.missing_keys == ["layers.1.weight"] and result.unexpected_keys == ["stray"]
    assert model.state_dict()["layers.0.bias"] == [0.5, 0.5]
    with pytest.raises(TypeError, match="expected a dict"):
        model.load_state_dict([1.0])


def test_named_modules_buffers_and_apply_follow_torch():
    model = mnn.Sequential(mnn.Linear(2, 2, rng=0), mnn.BatchNorm1d(2))
    assert [n for n, _ in model.named_modules()] == ["", "layers.0", "layers.1"]
    assert [n for n, _ in model.named_buffers()] == [
        "layers.1.running_mean", "layers.1.running_var", "layers.1.num_batches_tracked"]
    seen = []
    model.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Sequential"]      # children first, as torch

    class Tracker(mnn.Module):
        def __init__(self):
            super().__init__()
            self.w = mnn.Parameter(1.5)
            self.register_buffer("calls", 0)
            self.register_buffer("scratch", [0.0], persistent=False)

        def forward(self, x, scale=1.0):
            self.calls += 1
            self.last = self.w * x * scale          # cached on self: not a parameter
            return self.last

    t = Tracker()
    assert t(2.0, scale=2.0).data == 6.0
    assert t.parameters() == [t.w]
    assert t.state_dict() == {"w": 1.5, "calls": 1}


def test_values_and_every_module_pickle_and_deep_copy():
    v = Value(2.5, label="w")
    for clone in (pickle.loads(pickle.dumps(v)), copy.deepcopy(v)):
        assert (clone.data, clone.label) == (2.5, "w") and clone is not v
    models = [mnn.MLP(2, [4, 4, 1], rng=0), mnn.MLP(2, [3, 1], activation="tanh", rng=0),
              mnn.Sequential(mnn.Conv2d(1, 2, 2, rng=0), mnn.LeakyReLU(0.1), mnn.MaxPool2d(2),
                             mnn.Flatten(), mnn.Dropout(0.5, rng=0), mnn.Linear(2, 1, rng=0)),
              mnn.Sequential(mnn.Linear(2, 2, rng=0), mnn.BatchNorm1d(2), mnn.SiLU(),
                             mnn.Softplus(), mnn.Sigmoid(), mnn.Swish(2.0))]
    for model in models:
        for clone in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
            assert clone.state_dict() == model.state_dict()
            assert clone.parameters()[0] is not model.parameters()[0]
            assert repr(clone) == repr(model)
    x = [1.0, -0.5]
    model = models[0]
    assert pickle.loads(pickle.dumps(model))(x)[0].data == model(x)[0].data


def test_micrograd_positional_nonlin_and_squeeze():
    n = mnn.Neuron(2, False, rng=0)
    assert n.activation == "linear"
    layer = mnn.Layer(2, 3, False, rng=0)
    assert layer.neurons[0].activation == "linear"
