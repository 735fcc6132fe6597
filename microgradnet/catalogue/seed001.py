"""Worked examples of seed 001 (``001_34f8d7f6bc1ecf0d.txt``): stacked linear layers,
learning-rate grids, vanishing gradients, Adam against gradient descent, softmax +
cross-entropy backpropagation, and the 2-2-2 ReLU network of section 3.

Every number is computed with the engine and :mod:`microgradnet.nn`; the seed's answers are
quoted in short only to compare. S1-1.4 (learning-rate curves) is an experiment, registered by
:mod:`microgradnet.catalogue.experiments`.
"""
from __future__ import annotations

import math
import random
import statistics
from typing import Sequence

from .. import functional as F
from .. import init as _init
from .. import nn
from .. import nested, optim
from ..checks import one_sided
from ..engine import DomainError, Value
from ..gradients import grad
from .base import Result, example, judge

__all__ = ["SEED", "S1_3_VALUES", "build_s1_3"]

SEED = "001_34f8d7f6bc1ecf0d.txt"

#: The inputs, weights, biases and targets of section 3, as the seed's table gives them.
S1_3_VALUES = {
    "i1": 2.0, "i2": -1.0,
    "w11": 1.0, "w12": -0.5, "w21": 0.5, "w22": -1.0,
    "w31": 0.5, "w32": -1.0, "w41": -0.5, "w42": 1.0,
    "b1": 0.5, "b2": -0.5, "b3": -1.0, "b4": 0.5,
    "t1": 1.0, "t2": 0.5,
}


def build_s1_3(values: dict | None = None) -> dict:
    """The 2-2-2 ReLU network of seed 001 section 3, built with ``nn.Linear.from_weights``.

    ``w_jk`` joins unit j to unit k (``h1 = i1 w11 + i2 w21 + b1``), so it sits in row k,
    column j of the layer's weight matrix. Hidden pre-activations h1, h2; after ReLU h3, h4;
    outputs o1, o2; loss ``MSE = 1/2 (o1 - t1)^2 + 1/2 (o2 - t2)^2`` (the seed's convention,
    ``functional.mse(reduction="half")``).

    Args:
        values: overrides of :data:`S1_3_VALUES` (same keys).

    Returns:
        A dict: every labelled node by name (``"i1"``, ``"w21"``, ``"h1"``, ``"MSE"``, ...),
        plus ``"params"`` (the weights and biases by name) and ``"layers"``.

    Example:
        >>> net = build_s1_3()
        >>> net["o2"].data, net["MSE"].data
        (-1.5, 2.5)
    """
    v = dict(S1_3_VALUES)
    v.update(values or {})
    i1, i2 = Value(v["i1"], label="i1"), Value(v["i2"], label="i2")
    t1, t2 = Value(v["t1"], label="t1"), Value(v["t2"], label="t2")
    layer1 = nn.Linear.from_weights([[v["w11"], v["w21"]], [v["w12"], v["w22"]]],
                                    [v["b1"], v["b2"]],
                                    w_labels=[["w11", "w21"], ["w12", "w22"]],
                                    b_labels=["b1", "b2"], name="layer1")
    layer2 = nn.Linear.from_weights([[v["w31"], v["w41"]], [v["w32"], v["w42"]]],
                                    [v["b3"], v["b4"]],
                                    w_labels=[["w31", "w41"], ["w32", "w42"]],
                                    b_labels=["b3", "b4"], name="layer2")
    relu = nn.ReLU(name="relu")
    h1, h2 = layer1([i1, i2])
    h3, h4 = relu([h1, h2])
    o1, o2 = layer2([h3, h4])
    loss = F.mse([o1, o2], [t1, t2], reduction="half")
    nodes = {"h1": h1, "h2": h2, "h3": h3, "h4": h4, "o1": o1, "o2": o2, "MSE": loss}
    for name, node in nodes.items():
        node.label = name
    params = {p.label: p for layer in (layer1, layer2) for p in layer.parameters()}
    out = {"i1": i1, "i2": i2, "t1": t1, "t2": t2, **params, **nodes}
    out["params"] = params
    out["layers"] = (layer1, layer2)
    return out


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _s1_3_extra(net: dict, sections: Sequence[str]) -> dict:
    w = net["w21"]
    g = grad(net["MSE"], w)
    lr = 0.1
    return {"params": list(net["params"].values()), "nodes": {k: net[k] for k in
                                               ("i1", "i2", "t1", "t2", "h1", "h2", "h3",
                                                "h4", "o1", "o2", "MSE")},
            "wrt": "w21", "lr": lr, "sections": tuple(sections),
            "updates": {w: (w.data, g, lr, w.data - lr * g)}}


# ---- 1 Short questions -------------------------------------------------------------------------

def _label_layer(layer, n: int) -> None:
    """Name layer ``n``'s parameters as the seed does, W[n] and b[n]: ``W2[k,j]``, ``b2[k]``."""
    for k, row in enumerate(layer.weight):
        for j, w in enumerate(row):
            w.label = f"W{n}[{k + 1},{j + 1}]"
    for k, b in enumerate(layer.bias or []):
        b.label = f"b{n}[{k + 1}]"


def _biases(layer: nn.Linear) -> list[nn.Parameter]:
    """The layer's biases: every layer of these examples has them."""
    if layer.bias is None:
        raise ValueError(f"{layer.display_name} was built without a bias")
    return layer.bias


def _label(nodes: Sequence[Value], name: str) -> None:
    """``name[1]``, ``name[2]``, ... on a layer's outputs (``z1[j]`` is z[1]_j of the seed)."""
    for j, v in enumerate(nodes):
        v.label = f"{name}[{j + 1}]"


def _stacked_pair(seed: int, sizes: Sequence[int]) -> tuple:
    """Two seeded Linear layers ``sizes[0] -> sizes[1] -> sizes[2]`` with nonzero biases,
    named W1, b1, W2, b2."""
    rng = _init.Generator(seed)
    layers = []
    for n, (nin, nout) in enumerate(zip(sizes, sizes[1:]), start=1):
        layer = nn.Linear(nin, nout, init="normal", rng=rng, name=f"layer{n}")
        for b in _biases(layer):
            b.data = rng.uniform(-1.0, 1.0)
        _label_layer(layer, n)
        layers.append(layer)
    return layers[0], layers[1]


def _merge(layer1, layer2) -> "nn.Linear":
    """The single layer the seed says the stack equals: weight W2 W1, bias W2 b1 + b2, each
    entry a sum of products of the two layers' Values (so the engine does the arithmetic)."""
    W1, W2 = layer1.weight, layer2.weight
    weight = [[F.sum([W2[k][j] * W1[j][i] for j in range(layer1.nout)]).data
               for i in range(layer1.nin)] for k in range(layer2.nout)]
    bias = [(F.sum([W2[k][j] * layer1.bias[j] for j in range(layer1.nout)])
             + layer2.bias[k]).data for k in range(layer2.nout)]
    return nn.Linear.from_weights(weight, bias, name="merged")


def _weighted_output(out: Sequence[Value], r: Sequence[float]) -> Value:
    """sum_k r_k y_k: a scalar whose gradient with respect to the input is W^T r."""
    return F.sum([y * rk for y, rk in zip(out, r)])


def _stack_vs_merged(seed: int, sizes: Sequence[int], between=None, trials: int = 10) -> tuple:
    """Largest |stack - merged| over ``trials`` random inputs, for the outputs and for the
    gradient of a random weighted sum of the outputs with respect to the input, and the
    largest affinity defect |f(u + v) - f(u) - f(v) + f(0)| of the stack (0 for any affine
    map). ``between`` is an activation put between the two layers (None: the seed's case)."""
    layer1, layer2 = _stacked_pair(seed, sizes)
    merged = _merge(layer1, layer2)
    act = between or (lambda h: h)

    def stack(x):
        return layer2(act(layer1(x)))

    def f(x):
        return [y.data for y in stack(x)]

    rng = random.Random(seed)
    out_err = grad_err = defect = 0.0
    for _ in range(trials):
        u = [rng.uniform(-2.0, 2.0) for _ in range(sizes[0])]
        v = [rng.uniform(-2.0, 2.0) for _ in range(sizes[0])]
        r = [rng.uniform(-1.0, 1.0) for _ in range(sizes[-1])]
        xs, xm = [Value(a) for a in u], [Value(a) for a in u]
        ys, ym = stack(xs), merged(xm)
        out_err = max(out_err, max(abs(a.data - b.data) for a, b in zip(ys, ym)))
        gs, gm = grad(_weighted_output(ys, r), xs), grad(_weighted_output(ym, r), xm)
        grad_err = max(grad_err, max(abs(a - b) for a, b in zip(gs, gm)))
        parts = (f([a + b for a, b in zip(u, v)]), f(u), f(v), f([0.0] * sizes[0]))
        defect = max(defect, max(abs(s - a - b + z) for s, a, b, z in zip(*parts)))
    return out_err, grad_err, defect, merged


def _s1_1_2_graph() -> tuple:
    """A 2-2-1 stack without activation, y = W2 (W1 x + b1) + b2, for the step-through (the
    chain rule for dy/dx[1] sums W2[1,j] W1[j,1] over j), and its merged layer."""
    layer1, layer2 = _stacked_pair(7, (2, 2, 1))
    x = [Value(v, label=f"x[{i + 1}]") for i, v in enumerate((0.5, -1.0))]
    z1 = layer1(x)
    _label(z1, "z1")
    y, = layer2(z1)
    y.label = "y"
    return y, _merge(layer1, layer2)


@example("S1-1.2", SEED, "1.2", "stacked linear layers without activation are one linear map")
def s1_1_2() -> Result:
    sizes, seeds, tol = (3, 4, 2), range(3), 1e-12
    runs = [_stack_vs_merged(s, sizes) for s in seeds]
    out_err = max(r[0] for r in runs)
    grad_err = max(r[1] for r in runs)
    defect = max(r[2] for r in runs)
    tanh_runs = [_stack_vs_merged(s, sizes, F.tanh) for s in seeds]
    tanh_out_err = max(r[0] for r in tanh_runs)
    tanh_defect = max(r[2] for r in tanh_runs)
    one_map = max(out_err, grad_err, defect) < tol
    needs_nonlinearity = min(tanh_out_err, tanh_defect) > 1e-3
    y, small = _s1_1_2_graph()
    w11 = small.weight[0][0].data
    return Result(
        problem="Why must a deep network's layers be nonlinear? Two dense layers "
                f"{sizes[0]} -> {sizes[1]} -> {sizes[2]} with seeded random weights and "
                "biases and no activation between them are compared with the one layer of "
                "weight W2 W1 and bias W2 b1 + b2, on random inputs.",
        seed_says="without nonlinear activations the layers compose into one linear layer, "
                  "so the network can only learn linear functions",
        engine_says=f"stack vs one layer (W2 W1, W2 b1 + b2): outputs differ by at most "
                    f"{out_err:.1e}, input gradients by {grad_err:.1e}, affinity defect "
                    f"{defect:.1e} ({len(seeds)} networks x 10 inputs); with tanh between "
                    f"the layers: outputs differ by {tanh_out_err:.2g}, defect "
                    f"{tanh_defect:.2g}",
        verdict=judge(one_map and needs_nonlinearity),
        note="affinity defect = max |f(u + v) - f(u) - f(v) + f(0)|, zero for every affine map; "
             "the tanh stack is not affine: the nonlinearity is what adds expressiveness. In "
             "the step-through (a 2-2-1 stack), dy/dx[1] = sum_j W2[1,j] W1[j,1] = "
             f"(W2 W1)[1,1] = {_fmt(w11)}",
        values={"max_output_difference": out_err, "max_gradient_difference": grad_err,
                "affinity_defect": defect, "tanh_output_difference": tanh_out_err,
                "tanh_affinity_defect": tanh_defect, "sizes": sizes,
                "merged_weight": [[w.data for w in row] for row in runs[0][3].weight],
                "merged_bias": [b.data for b in runs[0][3].bias], "small_merged_w11": w11},
        graph=y, extra={"wrt": "x[1]"})


#: The seed's count (1.3): one value in [0.01, 0.1), four in [0.1, 1].
_S1_1_3_SEED_COUNTS = (1, 4)


@example("S1-1.3", SEED, "1.3", "learning-rate grid: values per decade, log-uniform sampling")
def s1_1_3() -> Result:
    grid = [0.01, 0.16, 0.21, 0.84, 0.94]
    low = sum(1 for a in grid if 0.01 <= a < 0.1)
    high = sum(1 for a in grid if 0.1 <= a <= 1.0)
    # Log-uniform sampling: alpha = 10^u, u ~ U(-2, 0); each decade gets half the samples.
    rng = random.Random(1)
    n = 20000
    samples = [10 ** rng.uniform(-2.0, 0.0) for _ in range(n)]
    frac_low = sum(1 for a in samples if a < 0.1) / n
    lin = [rng.uniform(0.01, 1.0) for _ in range(n)]
    frac_low_linear = sum(1 for a in lin if a < 0.1) / n
    ok = (low, high) == _S1_1_3_SEED_COUNTS and abs(frac_low - 0.5) < 0.02
    return Result(
        problem=f"A learning-rate search tries alpha in {{{', '.join(map(str, grid))}}} to "
                "cover 0.01 to 1. Is that a good choice? The grid's values are counted per "
                f"decade, and {n} log-uniform and {n} uniform random draws on the same range "
                "are compared.",
        seed_says="not a good grid: 4 values in [0.1, 1], 1 in [0.01, 0.1); search on a log scale",
        engine_says=f"{low} value in [0.01, 0.1), {high} in [0.1, 1]; log-uniform sampling puts "
                    f"{frac_low:.3f} of {n} draws in the lower decade (uniform: "
                    f"{frac_low_linear:.3f})",
        verdict=judge(ok),
        values={"per_decade": [low, high], "log_uniform_low_fraction": frac_low,
                "uniform_low_fraction": frac_low_linear, "samples": n})


#: The deep chains of S1-1.5 by name: the activation (None: none) and the init it is used with.
_CHAINS = {
    "linear": (None, "xavier_normal"),
    "sigmoid": (F.sigmoid, "xavier_normal"),
    "tanh": (F.tanh, "xavier_normal"),
    "leaky_relu": (lambda v: F.leaky_relu(v, 0.01), "kaiming_normal"),
}


def _deep_chain(kind: str, seed: int, depth: int = 20, width: int = 8) -> tuple:
    """One deep chain of ``depth`` Linear(width, width) layers, each followed by the
    activation of ``kind``; L = sum of the outputs. Returns, per layer (input side first),
    the mean |dL/dW| (how fast the layer learns) and |dL/dz| (the norm of the gradient that
    reaches its pre-activations z). Every kind draws the same normal numbers for a seed:
    He init is Xavier's draws times sqrt(2) here, where fan_in = fan_out."""
    act, init = _CHAINS[kind]
    rng = _init.Generator(seed)
    layers = [nn.Linear(width, width, init=init, rng=rng) for _ in range(depth)]
    h = [Value(x) for x in _init.uniform((width,), -1.0, 1.0, rng)]
    pre = []
    for layer in layers:
        z = layer(h)
        pre.append(z)
        h = act(z) if act else z
    F.sum(h).backward()
    weight_grad = [statistics.fmean(abs(w.grad) for row in layer.weight for w in row)
                   for layer in layers]
    signal = [math.sqrt(sum(v.grad ** 2 for v in z)) for z in pre]
    return weight_grad, signal


def _geomean(xs: Sequence[float]) -> float:
    return math.exp(statistics.fmean(math.log(x) for x in xs))


def _s1_1_5_verdicts(i_true: bool, ii_true: bool, tanh_keeps: float) -> str:
    """What the measurement says about statements (i) and (ii), in words."""
    if i_true:
        first = ("In some seed tanh brings layer 1 as much gradient as the same weights "
                 "without activation: (i) holds on these chains.")
    else:
        first = ("In every seed tanh brings layer 1 less gradient than the same weights "
                 f"without activation, keeping {tanh_keeps:.2f} of it per layer; the loss "
                 "compounds with depth, so (i) is false.")
    second = ("(ii) holds: the layers near the output get the smallest gradients" if ii_true
              else "(ii) is backwards: the layers near the input get the smallest gradients")
    return f"{first} {second}"


@example("S1-1.5", SEED, "1.5", "vanishing gradients: sigmoid vs tanh vs leaky ReLU")
def s1_1_5() -> Result:
    depth, width, seeds = 20, 8, range(5)
    runs = {k: [_deep_chain(k, s, depth, width) for s in seeds] for k in _CHAINS}
    # First layer over last layer, per seed: below 1, the gradient shrank on its way back.
    learn = {k: [w[0] / w[-1] for w, _ in r] for k, r in runs.items()}
    reach = {k: [g[0] / g[-1] for _, g in r] for k, r in runs.items()}
    learn_g = {k: _geomean(v) for k, v in learn.items()}
    reach_g = {k: _geomean(v) for k, v in reach.items()}
    # Against the same weights without activation, tanh's share of the loss, per layer.
    tanh_keeps = _geomean([t / lin for t, lin in zip(reach["tanh"], reach["linear"])]) \
        ** (1 / (depth - 1))
    # (i) tanh does not suffer: it delivers as much gradient to layer 1 as the linear chain
    # in some seed. (ii) the layers near the output (the deeper ones) learn slower. (iii)
    # leaky ReLU's first layer keeps more gradient than sigmoid's.
    i_true = not all(t < lin for t, lin in zip(reach["tanh"], reach["linear"]))
    ii_true = learn_g["sigmoid"] > 1
    iii_true = learn_g["leaky_relu"] > learn_g["sigmoid"] and \
        reach_g["leaky_relu"] > reach_g["sigmoid"]
    holds = [s for s, t in (("i", i_true), ("ii", ii_true), ("iii", iii_true)) if t] \
        or ["iv"]
    x0 = Value(0.0)
    slope = {"sigmoid": grad(x0.sigmoid(), x0), "tanh": grad(x0.tanh(), x0)}
    names = {"sigmoid": "sigmoid", "tanh": "tanh", "leaky_relu": "leaky ReLU",
             "linear": "no activation"}

    def ratios(d):
        return ", ".join(f"{names[k]} {d[k]:.2g}" for k in names)

    slow = "input-side (earlier)" if learn_g["sigmoid"] < 1 else "output-side (deeper)"
    return Result(
        problem="Which statement about vanishing gradients is true: (i) tanh does not "
                "suffer from them, (ii) they make deeper layers learn more slowly than "
                "earlier ones, (iii) leaky ReLU suffers less than sigmoid, (iv) none? "
                f"Measured on deep chains of {depth} dense {width}-unit layers with seeded "
                "normal weights (Xavier for sigmoid, tanh and no activation; He for leaky "
                "ReLU), the gradient each layer gets from L = sum of the outputs.",
        seed_says="(iii) only: leaky ReLU suffers less than sigmoid",
        engine_says=f"holds: {', '.join(holds)}. Layer 1 over layer {depth}, geometric mean "
                    f"of {len(seeds)} seeds: mean |dL/dW| {ratios(learn_g)}; |dL/dz| "
                    f"{ratios(reach_g)}; the {slow} layers learn slower",
        verdict=judge(holds == ["iii"]),
        note=f"tanh' <= {slope['tanh']:g} (at 0), sigmoid' <= {slope['sigmoid']:g}. "
             + _s1_1_5_verdicts(i_true, ii_true, tanh_keeps),
        values={"depth": depth, "width": width, "seeds": len(seeds),
                "learn_first_over_last": learn, "reach_first_over_last": reach,
                "learn_geomean": learn_g, "reach_geomean": reach_g,
                "tanh_keeps_per_layer": tanh_keeps, "max_slope": slope, "holds": holds,
                "weight_grads_seed0": {k: r[0][0] for k, r in runs.items()}})


def _ill_conditioned(x: Value, y: Value) -> Value:
    """f = 0.5 (100 x^2 + y^2): curvatures 100 and 1, condition number 100, minimum at 0."""
    return 0.5 * (100 * x * x + y * y)


def _saddle(x: Value, y: Value) -> Value:
    """f = x^2 - y^2: a saddle at 0, falling away along y."""
    return x * x - y * y


def _descend(f, start: Sequence[float], make_opt, steps: int, stop=None) -> list:
    """Run an optimiser of :mod:`microgradnet.optim` on ``f(x, y)`` from ``start``: the
    points visited, start first; ``stop(x, y)`` ends the run early when true."""
    x, y = Value(start[0], label="x"), Value(start[1], label="y")
    opt = make_opt([x, y])
    path = [(x.data, y.data)]
    for _ in range(steps):
        opt.zero_grad()
        f(x, y).backward()
        opt.step()
        path.append((x.data, y.data))
        if not all(map(math.isfinite, path[-1])) or (stop and stop(x.data, y.data)):
            break
    return path


def _best_distance(make_opt, rates: Sequence[float], steps: int) -> tuple:
    """(distance to the minimum after ``steps`` steps, learning rate, loss there) for the
    best rate of ``rates`` on the ill-conditioned quadratic from (1, 1). A run that leaves
    the ball of radius 1e6 has diverged (stopped before it overflows) and counts as inf."""
    best: tuple[float, float | None, float] = (math.inf, None, math.inf)

    def diverged(x, y):
        return math.hypot(x, y) > 1e6

    for lr in rates:
        path = _descend(_ill_conditioned, (1.0, 1.0), lambda p, lr=lr: make_opt(p, lr),
                        steps, stop=diverged)
        x, y = path[-1]
        if len(path) == steps + 1 and not diverged(x, y):
            best = min(best, (math.hypot(x, y), lr, _ill_conditioned(Value(x), Value(y)).data))
    return best


def _escape_steps(make_opt, start: Sequence[float], steps: int):
    """Steps until |y| > 1 on the saddle x^2 - y^2, or None if it never leaves in ``steps``."""
    path = _descend(_saddle, start, make_opt, steps, stop=lambda x, y: abs(y) > 1.0)
    return len(path) - 1 if abs(path[-1][1]) > 1.0 else None


def _s1_1_6_note(rank: dict, ridge, cap: int, faster_valley: bool) -> str:
    """Why the numbers of S1-1.6 come out as they do, in words that follow the numbers."""
    valley = ("GD's rate is capped by the steep direction (it diverges above 2/100), so the "
              "flat one crawls; Adam scales each parameter's step by its own gradient size."
              if faster_valley else "On the valley Adam gains nothing over GD here.")
    momentum = ("momentum alone speeds GD's escape" if rank["gd_momentum"] < rank["gd"]
                else "momentum alone does not speed GD's escape")
    if rank["adam_no_momentum"] < rank["adam"]:
        adam = ("but Adam's per-parameter normalisation does most of it: without momentum "
                "it escapes sooner still")
    else:
        adam = "and Adam's momentum adds to its per-parameter normalisation"
    if ridge is None:
        ridge_text = (f"Started exactly on the ridge (y = 0) Adam does not leave in {cap} "
                      "steps: no optimiser escapes a zero gradient without noise.")
    else:
        ridge_text = f"Started on the ridge (y = 0) Adam leaves after {ridge} steps."
    return f"{valley} On the saddle {momentum}, {adam}. {ridge_text}"


@example("S1-1.6", SEED, "1.6 (iii)", "Adam vs gradient descent: ill-conditioned valley, saddle")
def s1_1_6() -> Result:
    steps, rates, lr = 100, (0.001, 0.003, 0.01, 0.019, 0.03, 0.1, 0.3), 0.1

    def gd(p, r):
        return optim.SGD(p, lr=r)

    def adam(p, r):
        return optim.Adam(p, lr=r)

    gd_dist, gd_lr, gd_loss = _best_distance(gd, rates, steps)
    adam_dist, adam_lr, adam_loss = _best_distance(adam, rates, steps)
    start, cap = (1.0, 1e-3), 200
    escape = {
        "gd": _escape_steps(lambda p: optim.SGD(p, lr=lr), start, cap),
        "gd_momentum": _escape_steps(lambda p: optim.SGD(p, lr=lr, momentum=0.9), start, cap),
        "adam": _escape_steps(lambda p: optim.Adam(p, lr=lr), start, cap),
        "adam_no_momentum": _escape_steps(lambda p: optim.Adam(p, lr=lr, betas=(0.0, 0.999)),
                                          start, cap),
        "adam_on_the_ridge": _escape_steps(lambda p: optim.Adam(p, lr=lr), (1.0, 0.0), cap)}
    never = cap + 1       # a run that never escapes ranks after every one that does
    rank = {k: v if v is not None else never for k, v in escape.items()}
    faster_valley = adam_dist < gd_dist
    adam_escapes_sooner = rank["adam"] < rank["gd"]
    momentum_helps = rank["gd_momentum"] < rank["gd"]

    def shown(n):
        return "never" if n is None else f"{n} steps"

    return Result(
        problem="What does Adam gain over plain gradient descent? Both optimisers run on two "
                "functions of (x, y): the valley f = 0.5 (100 x^2 + y^2) from (1, 1) for "
                f"{steps} steps, each at its best learning rate of "
                f"{{{', '.join(map(str, rates))}}}, and the "
                f"saddle f = x^2 - y^2 from (1, 0.001) at learning rate {lr:g}, counting the "
                "steps until |y| > 1.",
        seed_says="per-parameter updates converge faster; momentum helps avoid getting stuck "
                  "at a saddle point",
        engine_says=f"valley after {steps} steps: GD (best lr {gd_lr}) at distance "
                    f"{gd_dist:.3g} from the minimum (f = {gd_loss:.3g}), Adam (best lr "
                    f"{adam_lr}) at {adam_dist:.3g} (f = {adam_loss:.3g}); saddle, steps to "
                    f"|y| > 1: GD {shown(escape['gd'])}, "
                    f"GD + momentum 0.9 {shown(escape['gd_momentum'])}, Adam "
                    f"{shown(escape['adam'])}, Adam without momentum (beta1 = 0) "
                    f"{shown(escape['adam_no_momentum'])}",
        verdict=judge(faster_valley and adam_escapes_sooner and momentum_helps),
        note=_s1_1_6_note(rank, escape["adam_on_the_ridge"], cap, faster_valley),
        values={"valley": {"gd": {"distance": gd_dist, "lr": gd_lr, "loss": gd_loss},
                           "adam": {"distance": adam_dist, "lr": adam_lr, "loss": adam_loss},
                           "steps": steps, "rates": list(rates)},
                "saddle": {"escape_steps": escape, "lr": lr, "start": start, "cap": cap}})


# ---- 2 Backpropagation through softmax + cross-entropy -----------------------------------------

def _plus_column(M: Sequence[Sequence], b: Sequence) -> list:
    """``M + b 1^T``: the column ``b`` added to every column of ``M``."""
    if len(b) != len(M):
        raise ValueError(f"cannot add a {len(b)} x 1 bias to a {len(M)} x {len(M[0])} matrix")
    return [[v + bk for v in row] for row, bk in zip(M, b)]


def _column(xs: Sequence) -> list:
    return [[x] for x in xs]


#: The seed's answer to 2.1, in its symbols.
_S1_2_1_SEED: dict[str, tuple[str | int, ...]] = {"W[2]": ("K", "Da"), "b[2]": ("K", 1),
                                                  "hidden output": ("Da", "m")}


@example("S1-2.1", SEED, "2.1", "shapes of W[2], b[2] and of the hidden output for a batch")
def s1_2_1() -> Result:
    dims = {"Dx": 3, "Da": 4, "K": 5, "m": 2}        # all different, so no shape is ambiguous
    rng = _init.Generator(0)
    layer1 = nn.Linear(dims["Dx"], dims["Da"], rng=rng, name="layer1")
    layer2 = nn.Linear(dims["Da"], dims["K"], rng=rng, name="layer2")
    # The batch as the seed lays it out: X is Dx x m, one column per sample.
    X = [[Value(rng.uniform(-1, 1)) for _ in range(dims["m"])] for _ in range(dims["Dx"])]
    hidden = F.leaky_relu(_plus_column(nested.matmul(layer1.weight, X), _biases(layer1)))
    # Column c of that product is what the layer computes on sample c alone.
    samples = [[row[c] for row in X] for c in range(dims["m"])]
    per_sample = [F.leaky_relu(layer1(x)) for x in samples]
    column_err = max(abs(hidden[j][c].data - per_sample[c][j].data)
                     for c in range(dims["m"]) for j in range(dims["Da"]))
    a1 = _column(per_sample[0])
    z2 = _plus_column(nested.matmul(layer2.weight, a1), _biases(layer2))    # W[2] a[1] + b[2]
    computed = {"W[2]": nn.shape_of([[w.data for w in row] for row in layer2.weight]),
                "b[2]": nn.shape_of(_column([b.data for b in _biases(layer2)])),
                "hidden output": nn.shape_of([[v.data for v in row] for row in hidden])}
    seed = {k: tuple(dims[d] if isinstance(d, str) else d for d in shape)
            for k, shape in _S1_2_1_SEED.items()}
    try:                      # z[2] as the problem statement writes it: W[2] x + b[2]
        nested.matmul(layer2.weight, _column(samples[0]))
        as_written = "defined"
    except ValueError as e:
        as_written = f"undefined ({e})"
    holds = computed == seed and column_err < 1e-15 and nn.shape_of(z2) == (dims["K"], 1)
    shapes = "; ".join(f"{k}: {r} x {c}" for k, (r, c) in computed.items())
    return Result(
        problem="A two-layer classifier maps an input x (Dx x 1) through a LeakyReLU hidden "
                "layer of Da units to K softmax outputs. What shapes do W[2] and b[2] have, "
                "and what shape is the hidden layer's output for a batch X of m samples "
                f"stacked as columns (Dx x m)? Here Dx, Da, K, m = {dims['Dx']}, {dims['Da']}, "
                f"{dims['K']}, {dims['m']}.",
        seed_says="W[2]: K x Da, b[2]: K x 1, hidden output: Da x m",
        engine_says=f"{shapes} (K, Da, m = {dims['K']}, {dims['Da']}, {dims['m']}); column c "
                    f"of LeakyReLU(W[1] X + b[1]) is the layer's output on sample c (max "
                    f"difference {column_err:.1e}); W[2] a[1] + b[2] is "
                    f"{' x '.join(map(str, nn.shape_of(z2)))}",
        verdict=judge(holds),
        note="the problem statement writes z[2] = W[2] x + b[2]: with x of size Dx that product "
             f"is {as_written}; it means W[2] a[1] + b[2], as the seed's own 2.5 and 2.7 use it "
             "(a typo in the question, not in this answer)",
        values={"W2": computed["W[2]"], "b2": computed["b[2]"],
                "hidden": computed["hidden output"], "seed": seed, "z2": nn.shape_of(z2),
                "column_error": column_err, "as_written": as_written, **dims,
                "X": [[v.data for v in row] for row in X],
                "hidden_values": [[v.data for v in row] for row in hidden],
                "W1": [[w.data for w in row] for row in layer1.weight],
                "b1": [b.data for b in _biases(layer1)]})


def _naive_softmax(z: Sequence[Value]) -> list:
    """The seed's first formula: yhat_k = exp(z_k) / Z, Z = sum_j exp(z_j), no shift; Z and
    each yhat_k carry the seed's names."""
    e = [zi.exp() for zi in z]
    Z = F.sum(e)
    Z.label = "Z"
    out = [ei / Z for ei in e]
    for k, y in enumerate(out):
        y.label = f"yhat{k + 1}"
    return out


def _logits(K: int = 4, seed: int = 0) -> list:
    rng = random.Random(seed)
    return [Value(rng.uniform(-2.0, 2.0), label=f"z{k + 1}") for k in range(K)]


def _softmax_jacobian_errors(seed_formula) -> tuple:
    """Largest |seed formula - autodiff| over every (k, i) of the softmax Jacobian, and the
    graph of the last yhat_k."""
    worst = 0.0
    yk = None
    for s in range(5):
        z = _logits(4, s)
        y = _naive_softmax(z)
        yv = [v.data for v in y]
        for k in range(len(z)):
            dz = grad(y[k], z)
            for i in range(len(z)):
                f = seed_formula(k, i, yv, [v.data for v in z])
                if f is not None:
                    worst = max(worst, abs(f - dz[i]))
        yk = y[0]
    return worst, yk


@example("S1-2.2", SEED, "2.2", "softmax: d yhat_k / d z_k")
def s1_2_2() -> Result:
    def seed(k, i, y, z):
        if i != k:
            return None
        Z = sum(math.exp(v) for v in z)
        quotient = (math.exp(z[k]) * Z - math.exp(z[k]) ** 2) / Z ** 2
        simple = y[k] * (1 - y[k])
        return quotient if abs(quotient - simple) < 1e-15 else float("inf")
    err, g = _softmax_jacobian_errors(seed)
    return Result(problem="For the softmax yhat_k = exp(z_k) / Z with Z = sum_j exp(z_j), "
                          "find d yhat_k / d z_k in terms of yhat. Both of the seed's forms "
                          "(the quotient rule and its simplification) are evaluated on 5 "
                          "random logit vectors of size 4 against autodiff.",
                  seed_says="yhat_k (1 - yhat_k)", engine_says=f"autodiff agrees to {err:.1e} "
                  "(both of the seed's forms, 20 entries)",
                  verdict=judge(err < 1e-12),
                  values={"max_error": err}, graph=g, extra={"wrt": "z1"})


@example("S1-2.3", SEED, "2.3", "softmax: d yhat_k / d z_i, i != k")
def s1_2_3() -> Result:
    def seed(k, i, y, z):
        if i == k:
            return None
        Z = sum(math.exp(v) for v in z)
        quotient = -math.exp(z[k]) * math.exp(z[i]) / Z ** 2
        simple = -y[k] * y[i]
        return quotient if abs(quotient - simple) < 1e-15 else float("inf")
    err, g = _softmax_jacobian_errors(seed)
    return Result(problem="For the same softmax, find the cross derivative d yhat_k / d z_i "
                          "for i != k in terms of yhat; both of the seed's forms are "
                          "evaluated on 5 random logit vectors of size 4 against autodiff.",
                  seed_says="-yhat_k yhat_i", engine_says=f"autodiff agrees to {err:.1e} "
                  "(both of the seed's forms, 60 entries)",
                  verdict=judge(err < 1e-12),
                  values={"max_error": err}, graph=g, extra={"wrt": "z2"})


@example("S1-2.4", SEED, "2.4", "softmax + cross-entropy: d L / d z_i, i = k and i != k")
def s1_2_4() -> Result:
    worst = {"i=k": 0.0, "i!=k": 0.0}
    for s in range(5):
        z = _logits(4, s)
        for k in range(len(z)):
            y = _naive_softmax(z)
            loss = -y[k].log()              # L = -sum_i y_i log yhat_i with one-hot y
            dz = grad(loss, z)
            yv = [v.data for v in y]
            for i in range(len(z)):
                seed = yv[k] - 1 if i == k else yv[i]
                key = "i=k" if i == k else "i!=k"
                worst[key] = max(worst[key], abs(seed - dz[i]))
    loss.label = "L"
    ok = max(worst.values()) < 1e-12
    return Result(problem="With a one-hot label (1 at entry k) the cross-entropy is "
                          "L = -log yhat_k. Find dL/dz_i for i = k and for i != k; checked "
                          "for every k on 5 random logit vectors of size 4 against autodiff.",
                  seed_says="yhat_k - 1 for i = k, yhat_i for i != k",
                  engine_says=f"autodiff agrees to {max(worst.values()):.1e} (both cases)",
                  verdict=judge(ok), values={"max_error": worst},
                  graph=loss, extra={"wrt": f"z{len(z)}"})   # the last k: the case i = k


def _two_layer(seed: int = 0, Dx: int = 3, Da: int = 4, K: int = 3, alpha: float = 0.01):
    """The network of section 2 with seeded weights, as the seed writes it: z1 = W1 x + b1,
    a1 = LeakyReLU(z1), z2 = W2 a1 + b2, yhat = exp(z2_k) / Z (the plain softmax, no shift),
    L = -log yhat_k for a random true class k."""
    rng = _init.Generator(seed)
    layer1 = nn.Linear(Dx, Da, init="normal", rng=rng, name="layer1")
    for b in _biases(layer1):
        b.data = rng.uniform(-0.5, 0.5)
    layer2 = nn.Linear(Da, K, init="normal", rng=rng, name="layer2")
    _label_layer(layer1, 1)
    _label_layer(layer2, 2)
    x = [Value(rng.uniform(-1, 1), label=f"x[{j + 1}]") for j in range(Dx)]
    z1 = layer1(x)
    a1 = F.leaky_relu(z1, alpha)
    z2 = layer2(a1)
    yhat = _naive_softmax(z2)
    for v, name in ((z1, "z1"), (a1, "a1"), (z2, "z2"), (yhat, "yhat")):
        _label(v, name)
    k = rng.randrange(K)
    loss = -yhat[k].log()
    loss.label = "L"
    return {"layer1": layer1, "layer2": layer2, "x": x, "z1": z1, "a1": a1, "z2": z2,
            "yhat": yhat, "k": k, "L": loss}


@example("S1-2.5", SEED, "2.5", "d z[2] / d a[1]")
def s1_2_5() -> Result:
    worst = 0.0
    for s in range(3):
        rng = _init.Generator(s)
        layer2 = nn.Linear(4, 3, init="normal", rng=rng)
        for b in _biases(layer2):
            b.data = rng.uniform(-1, 1)
        _label_layer(layer2, 2)
        a1 = [Value(rng.uniform(-1, 1), label=f"a{j + 1}") for j in range(4)]   # a[1]_j
        z2 = layer2(a1)     # z[2] = W[2] a[1] + b[2], as the seed means it
        _label(z2, "z2")
        for k, zk in enumerate(z2):
            row = grad(zk, a1)
            worst = max(worst, max(abs(r - w.data) for r, w in zip(row, layer2.weight[k])))
    return Result(problem="For z[2] = W[2] a[1] + b[2], find the Jacobian dz[2]/da[1] (the "
                          "seed calls it delta_1); computed by autodiff, row by row, for 3 "
                          "random layers with 4 inputs and 3 outputs.",
                  seed_says="delta_1 = W[2]", engine_says=f"the Jacobian equals W[2] "
                  f"(max difference {worst:.1e}, 3 random layers 4 -> 3)",
                  verdict=judge(worst == 0.0),
                  note="with z[2] = W[2] a[1] + b[2] (see S1-2.1)",
                  values={"max_error": worst}, graph=z2[0], extra={"wrt": "a2"})


def _seed_delta2(z: float, alpha: float = 0.01) -> float:
    """delta_2 as the seed's 2.6 gives it: 1 where z >= 0, alpha otherwise."""
    return 1.0 if z >= 0 else alpha


def _kink_verdict(away_error: float, left: float, right: float, seed_at_0: float) -> str:
    """S1-2.6's verdict: away from 0 the seed's slopes must match autodiff; at 0, where the
    one-sided derivatives differ, any one of them is a convention, anything else an erratum."""

    def close(a, b):
        return abs(a - b) < 1e-6

    if away_error > 1e-12:
        return "erratum"
    if close(left, right):
        return judge(close(seed_at_0, left))
    return "convention" if close(seed_at_0, left) or close(seed_at_0, right) else "erratum"


@example("S1-2.6", SEED, "2.6", "LeakyReLU(alpha = 0.01) derivative")
def s1_2_6() -> Result:
    alpha = 0.01

    def f(v):
        return v.leaky_relu(alpha)

    (left, right), = one_sided(f, [0.0])
    x0 = Value(0.0)
    at0_default = grad(f(x0), x0)
    at0_seed = grad(x0.leaky_relu(alpha, kink=1.0), x0)
    rng = random.Random(0)
    away = [rng.uniform(-3, 3) for _ in range(20)]
    worst = 0.0
    for z in away:
        v = Value(z)
        worst = max(worst, abs(grad(f(v), v) - _seed_delta2(z, alpha)))
    seed_at_0 = _seed_delta2(0.0, alpha)
    slope_pos, slope_neg = (grad(f(v), v) for v in (Value(1.0), Value(-1.0)))
    side = "right" if abs(seed_at_0 - right) < 1e-6 else "left"
    return Result(
        problem="What is the derivative of LeakyReLU(z) = max(0.01 z, z), the identity for "
                "positive z with slope 0.01 below 0? The seed's cases are compared with "
                "autodiff at 20 random points in [-3, 3], and at the kink z = 0 with the "
                "one-sided difference quotients.",
        seed_says="1 if z >= 0, 0.01 otherwise (1 at z = 0)",
        engine_says=f"{slope_pos:g} for z > 0, {slope_neg:g} for z < 0 (20 points, seed's "
                    f"cases differ by at most "
                    f"{worst:.1e}); at 0 left {left:.6g}, right {right:.6g}"
                    f"{': no derivative' if abs(left - right) > 1e-6 else ''}; "
                    f"engine default {at0_default:g} (PyTorch), kink=1.0 gives the seed's "
                    f"{at0_seed:g}",
        verdict=_kink_verdict(worst, left, right, seed_at_0),
        note=f"at z = 0 the seed takes the {side} derivative {seed_at_0:g}; the engine and "
             "PyTorch take alpha unless leaky_relu(kink=1.0) is asked for",
        values={"left": left, "right": right, "at0_default": at0_default,
                "at0_seed_convention": at0_seed, "max_error_away_from_0": worst,
                "seed_at_0": seed_at_0})


def _seed_first_layer_grads(net: dict) -> dict:
    """The seed's answer to 2.7 built as Values from the network's nodes, with the seed's
    names: delta0 = yhat - y (2.4), delta1 = W2 (2.5), delta2 = LeakyReLU'(z1) (2.6),
    dL/db1 = delta1^T delta0 o delta2 and dL/dW1 = (dL/db1) x^T."""
    yhat, z1, x, W2 = net["yhat"], net["z1"], net["x"], net["layer2"].weight
    K, Da = len(yhat), len(z1)
    y = [Value(1.0 if i == net["k"] else 0.0, label=f"y[{i + 1}]") for i in range(K)]
    delta0 = [p - t for p, t in zip(yhat, y)]
    _label(delta0, "delta0")
    delta1 = [[Value(w.data, label=f"delta1[{k + 1},{j + 1}]") for j, w in enumerate(row)]
              for k, row in enumerate(W2)]
    delta2 = [Value(_seed_delta2(z.data), label=f"delta2[{j + 1}]") for j, z in enumerate(z1)]
    db1 = [F.sum([delta1[k][j] * delta0[k] for k in range(K)]) * delta2[j] for j in range(Da)]
    _label(db1, "dL/db1")
    dW1 = [[db1[j] * x[i] for i in range(len(x))] for j in range(Da)]
    for j, row in enumerate(dW1):
        for i, v in enumerate(row):
            v.label = f"dL/dW1[{j + 1},{i + 1}]"
    return {"y": y, "delta0": delta0, "delta1": delta1, "delta2": delta2, "b1": db1,
            "W1": dW1}


@example("S1-2.7", SEED, "2.7", "d L / d W[1] and d L / d b[1] from the seed's expression")
def s1_2_7() -> Result:
    worst_w = worst_b = 0.0
    for s in range(5):
        net = _two_layer(s)
        seed = _seed_first_layer_grads(net)
        W1, b1 = net["layer1"].weight, net["layer1"].bias
        gW = grad(net["L"], [w for row in W1 for w in row])
        gb = grad(net["L"], b1)
        flat = [v.data for row in seed["W1"] for v in row]
        worst_w = max(worst_w, max(abs(a - b) for a, b in zip(flat, gW)))
        worst_b = max(worst_b, max(abs(v.data - g) for v, g in zip(seed["b1"], gb)))
        if s == 0:                      # the first network is the one shown
            shown = (net, seed, gb[0], gW[0])
    net, seed, auto_b, auto_w = shown
    Dx, Da, K = len(net["x"]), len(net["z1"]), len(net["yhat"])
    return Result(
        problem=f"For the network of section 2 with seeded random weights ({Dx} inputs, "
                f"{Da} LeakyReLU hidden units, {K} softmax outputs, cross-entropy loss), "
                "evaluate the seed's expressions for dL/dW[1] and dL/db[1], built from its "
                "delta0 = dL/dz[2], delta1 = dz[2]/da[1] and delta2 = da[1]/dz[1], and "
                "compare them with the engine's gradients of L.",
        seed_says="dL/dW[1] = (delta1^T delta0 o delta2) x^T, dL/db[1] = delta1^T delta0 o "
                  "delta2",
        engine_says=f"autodiff agrees to {worst_w:.1e} (W[1]) and {worst_b:.1e} (b[1]) on 5 "
                    f"random {Dx}-{Da}-{K} networks; on the one shown, autodiff gives "
                    f"dL/db1[1] = {_fmt(auto_b)}, dL/dW1[1,1] = {_fmt(auto_w)} (L = "
                    f"{_fmt(net['L'].data)}, true class {net['k'] + 1})",
        verdict=judge(max(worst_w, worst_b) < 1e-12),
        note="the step-through evaluates the seed's expression: delta0 = yhat - y (2.4), "
             "delta1 = W[2] (2.5), delta2 from 2.6's cases at z1; z[2] = W[2] a[1] + b[2] "
             "(see S1-2.1)",
        values={"max_error_W1": worst_w, "max_error_b1": worst_b,
                "shown": {"W1": [[w.data for w in row] for row in net["layer1"].weight],
                          "b1": [b.data for b in net["layer1"].bias],
                          "W2": [[w.data for w in row] for row in net["layer2"].weight],
                          "b2": [b.data for b in net["layer2"].bias],
                          "x": [v.data for v in net["x"]], "k": net["k"],
                          "seed_db1": [v.data for v in seed["b1"]]}},
        graph=seed["W1"][0][0])


@example("S1-2.8", SEED, "2.8", "softmax overflow and the max-shifted form")
def s1_2_8() -> Result:
    big = [Value(1000.0), Value(999.0), Value(0.0)]
    try:
        _naive_softmax(big)
        naive_big = "finite"
    except DomainError:
        naive_big = "overflow"
    shifted_big = [v.data for v in F.softmax(big)]
    tiny = [Value(-1000.0), Value(-1001.0)]
    try:
        _naive_softmax(tiny)
        naive_tiny = "finite"
    except DomainError:
        naive_tiny = "division by zero"
    shifted_tiny = [v.data for v in F.softmax(tiny)]
    rng = random.Random(0)
    worst = 0.0
    min_denominator = math.inf
    for _ in range(50):
        z = [rng.uniform(-30, 30) for _ in range(5)]
        a = [v.data for v in _naive_softmax([Value(x) for x in z])]
        b = [v.data for v in F.softmax(z)]
        worst = max(worst, max(abs(p - q) for p, q in zip(a, b)))
        m = max(z)
        min_denominator = min(min_denominator, sum(math.exp(x - m) for x in z))
    finite = all(math.isfinite(p) for p in shifted_big + shifted_tiny)
    ok = (naive_big == "overflow" and naive_tiny == "division by zero" and finite
          and worst < 1e-15 and min_denominator >= 1.0)
    return Result(
        problem="Why does the plain softmax exp(z_i) / sum_j exp(z_j) fail in floating "
                "point, and why does subtracting m = max_i z_i from every logit first help? "
                "Tried on [1000, 999, 0], on [-1000, -1001] and on 50 random vectors in "
                "[-30, 30].",
        seed_says="large z overflows, very small z divide by zero; shifting by the max makes "
                  "the largest exponential 1 and the denominator > 1",
        engine_says=f"naive on [1000, 999, 0]: {naive_big}; on [-1000, -1001]: {naive_tiny}; "
                    f"shifted: finite ({_fmt(shifted_big[0])}, ...), equal to naive where "
                    f"both are defined (max difference {worst:.1e}); denominator >= "
                    f"{min_denominator:.3g}",
        verdict=judge(ok),
        note="the shifted denominator is at least 1 (exactly 1 when the other terms "
             "underflow)",
        values={"naive_large": naive_big, "naive_small": naive_tiny,
                "shifted_large": shifted_big, "shifted_small": shifted_tiny,
                "max_difference": worst, "min_denominator": min_denominator})


# ---- 3 Two-layer network -----------------------------------------------------------------------

@example("S1-3.1", SEED, "3.1", "forward pass of the 2-2-2 ReLU network")
def s1_3_1() -> Result:
    net = build_s1_3()
    names = ("h1", "h2", "h3", "h4", "o1", "o2")
    vals = {k: net[k].data for k in names}
    seed = {"h1": 2.0, "h2": -0.5, "h3": 2.0, "h4": 0.0, "o1": 0.0, "o2": -1.5}
    ok = all(vals[k] == seed[k] for k in names)     # seed: the numbers of its 3.1
    return Result(
        problem="A network with two inputs, two ReLU hidden units and two linear outputs: "
                "i1 = 2, i2 = -1, weights w11..w42, biases b1..b4 and targets t1 = 1, "
                "t2 = 0.5 as the seed's table gives them (w_jk joins unit j to unit k). "
                "Compute the pre-activations h1, h2, the ReLU outputs h3, h4 and the outputs "
                "o1, o2.",
        seed_says="h1 2.0, h2 -0.5, h3 2, h4 0, o1 0, o2 -1.5",
        engine_says=", ".join(f"{k} {_fmt(vals[k])}" for k in names),
        verdict=judge(ok), values=vals, graph=net["MSE"],
        extra=_s1_3_extra(net, ("given", "forward")))


#: The seed's loss value (3.2).
_S1_3_2_SEED_MSE = 2.5


@example("S1-3.2", SEED, "3.2", "mean squared error of the outputs")
def s1_3_2() -> Result:
    net = build_s1_3()
    mse = net["MSE"].data
    mean = F.mse([net["o1"], net["o2"]], [net["t1"], net["t2"]], reduction="mean").data
    return Result(
        problem="For the same 2-2-2 network, compute the loss the seed uses: half the sum of "
                "the squared errors of the two outputs against the targets t1, t2.",
        seed_says="1/2 (t1 - o1)^2 + 1/2 (t2 - o2)^2 = 0.5*1.0 + 0.5*4.0 = 2.5",
        engine_says=f"{_fmt(mse)} (1/2 sum of squares; the mean over the 2 outputs is the "
                    f"same here: {_fmt(mean)})",
        verdict=judge(mse == _S1_3_2_SEED_MSE),
        note="the seed's MSE is 1/2 * sum of squares; with 2 outputs it equals the mean",
        values={"MSE": mse, "mean": mean}, graph=net["MSE"],
        extra=_s1_3_extra(net, ("loss",)))


@example("S1-3.3", SEED, "3.3", "d MSE / d w21 and one gradient-descent step at lr 0.1")
def s1_3_3() -> Result:
    net = build_s1_3()
    w = net["w21"]
    g = grad(net["MSE"], w)
    new = w.data - 0.1 * g
    ok = g == -1.5 and abs(new - 0.65) < 1e-12     # the seed's two numbers
    return Result(
        problem="For the same 2-2-2 network and loss, compute dMSE/dw21 by backpropagation "
                "and the new w21 after one gradient-descent step with learning rate 0.1.",
        seed_says="dMSE/dw21 = 0.5 + -2.0 = -1.5; w21 <- 0.5 - 0.1 * -1.5 = 0.65",
        engine_says=f"dMSE/dw21 = {_fmt(g)}; w21 <- {_fmt(new)}",
        verdict=judge(ok),
        values={"dMSE/dw21": g, "w21_new": new}, graph=net["MSE"],
        extra=_s1_3_extra(net, ("backward", "update")))
