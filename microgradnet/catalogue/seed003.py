"""Worked examples of seed 003 (``003_46b4f35227c027e8.txt``): layer backward formulas
(fully connected, ReLU, dropout, batch norm, valid convolution) and two short answers
(sigmoid inputs and gradient signs; dropout at inference).

Every example builds the layer from ``Value`` nodes, lets the engine differentiate it, and
evaluates the seed's formula, transcribed as the seed writes it, on the same seeded random
inputs. The upstream gradient dL/dY is a random matrix ``G``: the loss is ``sum(G * Y)``.
"""
from __future__ import annotations

import itertools
import math
import random

from .. import nn
from ..checks import one_sided
from .. import nested
from ..engine import Value
from ..gradients import grad
from .base import Result, example, judge
from .shared import batchnorm_nodes

__all__: list[str] = []

SEED = "003_46b4f35227c027e8.txt"


# ---- small helpers over nested lists -----------------------------------------------------------

def _short(rng: random.Random, *shape: int, lo: float = -1.0, hi: float = 1.0):
    """Like :func:`~microgradnet.nested.random_like`, but every value has one decimal and none
    is 0: a step-through of such inputs has short lines a reader can redo by hand (the checks
    hold for any values)."""
    if len(shape) > 1:
        return [_short(rng, *shape[1:], lo=lo, hi=hi) for _ in range(shape[0])]
    out: list[float] = []
    while len(out) < shape[0]:
        v = round(rng.uniform(lo, hi), 1)
        if v != 0.0:
            out.append(v)
    return out


def _upstream_loss(ys, g):
    """L = sum(G * Y): its gradient with respect to Y is G."""
    loss = nested.total(y * gi for y, gi in zip(nested.flatten(ys), nested.flatten(g)))
    loss.label = "L"
    return loss


def _label(xs, name: str) -> None:
    """Label a layer's outputs (nested lists of Values) ``name[i,j,...]``, 1-based, so a
    step-through writes Y[1,2] = ... as the seed does instead of inlining each output."""
    stack: list[tuple[list, tuple[int, ...]]] = [(xs, ())]
    while stack:
        src, idx = stack.pop()
        for i, x in enumerate(src):
            if isinstance(x, list):
                stack.append((x, idx + (i,)))
            else:
                x.label = f"{name}[{','.join(str(k + 1) for k in idx + (i,))}]"


def _grads(loss: Value, xs):
    """dL/dx for a nested list of Values, in the same nesting."""
    flat = nested.flatten(xs)
    gs = iter(grad(loss, flat))

    def build(x):
        return [build(e) for e in x] if isinstance(x, list) else next(gs)
    return build(xs)


#: Tolerance for "the formula equals autodiff": both are float sums of a few terms.
TOL = 1e-12


def _verdict_by_reading(holds: dict) -> str:
    """The verdict on a statement that can be read more than one way (``{reading: whether the
    seed's statement held in the numbers under it}``): confirmed when it holds under every
    reading, convention when under some (the note says which), erratum when under none."""
    if not holds:
        raise ValueError("_verdict_by_reading: no readings given")
    if all(holds.values()) or not any(holds.values()):
        return judge(all(holds.values()))
    return "convention"


# ---- Q1.1 fully-connected layer ----------------------------------------------------------------

@example("S3-Q1.1", SEED, "Q1.1", "Fully-connected layer backward")
def fully_connected() -> Result:
    """Y = X W + b with X of n x d (one sample per row), W of d x m, b of m: an
    ``nn.Linear`` whose weight (PyTorch's m x d layout) is W^T."""
    rng = random.Random(31)
    n, d, m = 3, 4, 2
    X = nested.values(_short(rng, n, d), "X")
    Wf = _short(rng, d, m)
    layer = nn.Linear.from_weights(nested.transpose(Wf), _short(rng, m),
                                   w_labels=lambda k, j: f"W[{j},{k}]",
                                   b_labels=lambda k: f"b[{k}]")
    G = _short(rng, n, m)
    Y = layer(X)
    _label(Y, "Y")
    loss = _upstream_loss(Y, G)
    dX = _grads(loss, X)
    dW = nested.transpose(_grads(loss, layer.weight))            # back to the seed's d x m
    db = _grads(loss, layer.bias)
    Xf = nested.data_of(X)
    # The seed's three formulas, as written.
    seed_dW = nested.matmul(nested.transpose(Xf), G)                   # X^T dL/dY
    seed_db = G                                            # dL/dY: n x m against m
    err_dW = nested.max_diff(seed_dW, dW)
    err_db = nested.max_diff(seed_db, db)
    err_db_sum = nested.max_diff([sum(col) for col in nested.transpose(G)], db)
    err_dX_rows = nested.max_diff(nested.matmul(G, nested.transpose(Wf)), dX)        # dY W^T
    err_dX_cols = nested.max_diff(nested.matmul(Wf, nested.transpose(G)),      # W dY^T = dX^T
                                  nested.transpose(dX))
    try:                                                   # W dL/dY: d x m times n x m
        seed_dX = nested.matmul(Wf, G)
    except ValueError:
        seed_dX = None
    conforms = seed_dX is not None
    err_seed_dX = nested.max_diff(seed_dX, dX) if conforms else math.inf
    # One sample (n = 1): dL/db = dL/dY holds literally.
    y1 = layer([nested.data_of(X[0])])
    db1 = _grads(_upstream_loss(y1, [G[0]]), layer.bias)
    err_db_single = nested.max_diff([G[0]], [db1])
    holds = {"dW": err_dW <= TOL, "db": err_db <= TOL, "dX": err_seed_dX <= TOL}
    db_says = "dY" if holds["db"] else ("column sums of dY" if err_db_sum <= TOL else "differs")
    dX_says = "W dY" if holds["dX"] else ("dY W^T" if err_dX_rows <= TOL else "differs")
    return Result(
        problem=("A fully-connected layer Y = X W + b takes a batch X of n = 3 samples (rows) "
                 "of d = 4 features to m = 2 outputs; given the upstream gradient dL/dY, find "
                 "dL/dW, dL/db and dL/dX, and check the three formulas of seed 003 (Q1.1) "
                 "against autodiff on random numbers."),
        seed_says="dW = X^T dY; db = dY; dX = W dY",
        engine_says=(f"dW = {'X^T dY' if holds['dW'] else 'differs'}; db = {db_says}; "
                     f"dX = {dX_says}"),
        verdict=judge(all(holds.values())),
        note=("With Y = XW + b and one sample per row of X, dL/db sums dL/dY over the batch "
              "(equal to dL/dY only for one sample) and dL/dX = dL/dY W^T; the seed's W dL/dY "
              f"({d}x{m} times {n}x{m}) {'conforms' if conforms else 'does not conform'}: it is "
              "the transpose W dY^T = dX^T."),
        values={"dW": nested.data_of(dW), "db": nested.data_of(db), "dX": nested.data_of(dX),
                "err_dW": err_dW, "err_db": err_db, "err_db_sum": err_db_sum,
                "err_dX_rows": err_dX_rows, "err_dX_cols": err_dX_cols,
                "err_seed_dX": err_seed_dX, "err_db_single": err_db_single,
                "seed_dX_conforms": conforms, "holds": holds},
        graph=loss,
        extra={"X": X, "W": Wf, "layer": layer, "G": G, "wrt": "X[1,1]",
               "convention": "Y = X W + b, X is n x d, W is d x m"},
    )


# ---- Q1.2 ReLU ---------------------------------------------------------------------------------

@example("S3-Q1.2", SEED, "Q1.2", "ReLU backward mask")
def relu_mask() -> Result:
    rng = random.Random(32)
    xs = _short(rng, 7)
    at_kink = 2
    xs[at_kink] = 0.0               # one input exactly at the kink
    X = nested.values(xs, "X")
    G = _short(rng, 7)
    Y = nn.ReLU()(X)
    _label(Y, "Y")
    loss = _upstream_loss(Y, G)
    dX = _grads(loss, X)
    seed = [g * (1.0 if x > 0 else 0.0) for g, x in zip(G, xs)]    # dY * I(X > 0)
    # The other convention at the kink, ReLU'(0) = 1, on the same inputs.
    X1 = nested.values(xs)
    dX_kink1 = _grads(_upstream_loss(nn.ReLU(kink=1.0)(X1), G), X1)
    left, right = one_sided(lambda x: x.relu(), [0.0])[0]
    holds = {"ReLU'(0) = 0": nested.max_diff(seed, dX) <= TOL,
             "ReLU'(0) = 1": nested.max_diff(seed, dX_kink1) <= TOL}
    return Result(
        problem=("A ReLU layer Y = max(0, X) on 7 random inputs, one of them exactly 0; given "
                 "dL/dY, find dL/dX and compare it with the mask formula of seed 003 (Q1.2), "
                 "which needs a value for the derivative at the kink."),
        seed_says="dX = dY * I(X > 0)",
        engine_says=("dX = dY * I(X > 0) with ReLU'(0) = 0 (the default kink); with ReLU'(0) = 1 "
                     f"the input at 0 gets {dX_kink1[at_kink]:.3g} instead of 0"),
        verdict=_verdict_by_reading(holds),
        note=("ReLU has no derivative at 0 (one-sided slopes 0 and 1); I(X > 0) takes "
              "ReLU'(0) = 0, as the engine's default kink=0.0 and PyTorch do."),
        values={"dX": nested.data_of(dX), "seed_dX": seed, "err": nested.max_diff(seed, dX),
                "dX_kink1": dX_kink1, "holds": holds, "one_sided_at_0": (left, right)},
        graph=loss,
        extra={"X": X, "G": G, "wrt": "X[3]"},      # the input at the kink
    )


# ---- Q1.3 dropout ------------------------------------------------------------------------------

@example("S3-Q1.3", SEED, "Q1.3", "Dropout backward mask")
def dropout_mask() -> Result:
    """Inverted dropout in training: Y = X * M / (1 - p), p the drop probability."""
    rng = random.Random(33)
    p = 0.5
    X = nested.values(_short(rng, 8), "X")
    G = _short(rng, 8)
    layer = nn.Dropout(p, rng=330)
    Y = layer(X)
    _label(Y, "Y")
    _label([y.parents[1] for y in Y if y.parents[1].is_leaf], "M")   # the mask leaves
    applied = layer.mask                                          # in {0, 1/(1-p)}
    assert isinstance(applied, list)                              # drawn for the list X above
    M = [1.0 if a else 0.0 for a in applied]                      # the 0/1 mask
    loss = _upstream_loss(Y, G)
    dX = _grads(loss, X)
    seed_01 = [g * m for g, m in zip(G, M)]                       # dY * M, M in {0, 1}
    scaled = [g * a for g, a in zip(G, applied)]                  # dY * M / (1 - p)
    holds = {"M as applied (0 or 1/(1-p))": nested.max_diff(scaled, dX) <= TOL,
             "M in {0, 1}": nested.max_diff(seed_01, dX) <= TOL}
    return Result(
        problem=("Inverted dropout in training, Y = X * M / (1 - p) with drop probability "
                 f"p = {p}, on 8 random inputs and one drawn mask; given dL/dY, find dL/dX and "
                 "compare it with dY * M of seed 003 (Q1.3), whose M may be the 0/1 mask or "
                 "the mask as applied."),
        seed_says="dX = dY * M",
        engine_says=(f"dX = dY * M / (1 - p), p = {p} dropped: dY * M with M as applied "
                     f"{'holds' if holds['M as applied (0 or 1/(1-p))'] else 'fails'}, with a "
                     f"0/1 mask {'holds' if holds['M in {0, 1}'] else 'fails'}"),
        verdict=_verdict_by_reading(holds),
        note=("dX = dY * M holds with M the mask as applied in the forward pass (Y = X * M); "
              "with inverted dropout (PyTorch, nn.Dropout; p = drop probability) and a 0/1 "
              "mask, dX = dY * M / (1 - p)."),
        values={"dX": nested.data_of(dX), "mask": M, "p": p,
                "err_01_mask": nested.max_diff(seed_01, dX),
                "err_scaled_mask": nested.max_diff(scaled, dX), "holds": holds},
        graph=loss,
        extra={"X": X, "G": G, "wrt": f"X[{applied.index(max(applied)) + 1}]"},   # kept
    )


# ---- Q1.4 batch norm ---------------------------------------------------------------------------

def _batchnorm_case(rng: random.Random, n: int, eps: float, short: bool = False) -> dict:
    """A batch of ``n`` values of one feature through ``nn.BatchNorm1d`` (training mode) with
    random gamma, beta and upstream gradient G; the loss is sum(G * Y). The layer's nodes are
    named as the seed names them: mu, var, sigma, xhat[i], Y[i]. ``short``: inputs and G
    with one decimal, for the case a step-through shows."""
    draw = _short if short else nested.random_like
    X = nested.values(draw(rng, n, lo=-2.0, hi=3.0), "X")
    layer = nn.BatchNorm1d(1, eps=eps)
    assert layer.weight is not None and layer.bias is not None    # affine, the default
    gamma, beta = layer.weight[0], layer.bias[0]
    gamma.data, beta.data = rng.uniform(0.5, 2.0), rng.uniform(-1, 1)
    G = draw(rng, n)
    Y = [y[0] for y in layer([[x] for x in X])]       # n samples of one feature
    _label(Y, "Y")
    nodes = batchnorm_nodes(Y, layer)
    return {"X": X, "layer": layer, "gamma": gamma, "beta": beta, "G": G, "Y": Y,
            "loss": _upstream_loss(Y, G), **nodes}


def _seed_bn_closed_form(xs: list, G: list, gamma: float, eps: float) -> list:
    """The seed's last line, from floats: dX_i = gamma / (n sigma) (n dY_i - sum_j dY_j -
    (X_i - mu)/sigma * sum_j dY_j (X_j - mu)/sigma)."""
    n = len(xs)
    mu = sum(xs) / n
    sigma = math.sqrt(sum((x - mu) ** 2 for x in xs) / n + eps)
    sum_g = sum(G)
    sum_gx = sum(g * (x - mu) / sigma for g, x in zip(G, xs))
    return [gamma / (n * sigma) * (n * G[i] - sum_g - (xs[i] - mu) / sigma * sum_gx)
            for i in range(n)]


def _seed_bn_derivation(case: dict, i: int) -> dict:
    """The seed's intermediate steps for dL/dX_i, built as Values on the layer's own mu, var,
    sigma and X_j - mu nodes so a step-through shows them by the seed's names. dL/dmu keeps
    the seed's d sigma / d mu term as written, -(2/n) sum_j (X_j - mu) / sigma."""
    X, G, gamma, sigma = case["X"], case["G"], case["gamma"], case["sigma"]
    dev = [xh.parents[0] for xh in case["xhat"]]        # the layer's X_j - mu
    n = len(X)
    dY = nested.values(G, "dL/dY")
    dxhat = [dY[j] * gamma for j in range(n)]
    _label(dxhat, "dL/dxhat")
    # Sums over j with their common factor outside (-1/sigma^2, -1/sigma), so a line fits.
    dsigma = -nested.total([dxhat[j] * dev[j] for j in range(n)]) / sigma ** 2
    dsigma.label = "dL/dsigma"
    dsigma_dmu = -2.0 * nested.total(dev) / (n * sigma)
    dsigma_dmu.label = "dsigma/dmu"
    dmu = -nested.total(dxhat) / sigma + dsigma_dmu * dsigma
    dmu.label = "dL/dmu"
    dsig_dxi = dev[i] / (n * sigma)
    dsig_dxi.label = f"dsigma/dX[{i + 1}]"
    dxi = dxhat[i] / sigma + dmu / n + dsigma * dsig_dxi
    dxi.label = f"dL/dX[{i + 1}]"
    return {"dxhat": dxhat, "dsigma": dsigma, "dmu": dmu, "dsigma_dX": dsig_dxi, "dX": dxi}


def _batchnorm_closed_form_trials(rng: random.Random, trials: int, eps: float) -> float:
    """Largest difference, over ``trials`` random batches (2 to 8 values), between the layer's
    autodiff dL/dX and the seed's closed form, relative to the largest |dL/dX| of the batch."""
    worst = 0.0
    for _ in range(trials):
        case = _batchnorm_case(rng, rng.randint(2, 8), eps)
        dX = _grads(case["loss"], case["X"])
        seed = _seed_bn_closed_form(nested.data_of(case["X"]), case["G"], case["gamma"].data, eps)
        worst = max(worst, nested.max_diff(seed, dX) / max(1.0, max(abs(d) for d in dX)))
    return worst


@example("S3-Q1.4", SEED, "Q1.4", "Batch-norm backward, closed form")
def batchnorm_backward() -> Result:
    """Y_i = gamma (X_i - mu) / sigma + beta over a batch of n, sigma = sqrt(var + eps),
    var the biased (1/n) batch variance; the engine's ``nn.BatchNorm1d`` against the seed's
    steps and its closed form for dL/dX."""
    rng = random.Random(34)
    n, eps, trials = 3, 1e-5, 20
    case = _batchnorm_case(rng, n, eps, short=True)
    X, loss, mu, sigma = case["X"], case["loss"], case["mu"], case["sigma"]
    steps = _seed_bn_derivation(case, 0)
    # Autodiff on the layer's graph, at the nodes the seed names.
    dX = _grads(loss, X)
    auto = {"dxhat": grad(loss, case["xhat"]), "dsigma": grad(loss, sigma),
            "dmu": grad(loss, mu), "dsigma_dX": grad(sigma, X[0]), "dX": dX[0]}
    step_err = {k: nested.max_diff(nested.data_of(steps[k]), auto[k]) if isinstance(auto[k], list)
                else abs(steps[k].data - auto[k]) for k in auto}
    xs = nested.data_of(X)
    seed_dX = _seed_bn_closed_form(xs, case["G"], case["gamma"].data, eps)
    err = nested.max_diff(seed_dX, dX)
    err_trials = _batchnorm_closed_form_trials(random.Random(340), trials, eps)
    holds = err <= TOL and err_trials <= TOL

    # d sigma / d mu with mu held as its own variable: zero at the batch mean, so beside the
    # mean (mu + 0.3) shows the seed's factor -2/n against autodiff's -1/n.
    def dsigma_dmu_at(m: float) -> tuple:
        m_free = Value(m)
        s_free = (nested.total([(Value(x) - m_free) ** 2 for x in xs]) / n + eps).sqrt()
        seed = -2.0 / n * sum(x - m for x in xs) / s_free.data
        return grad(s_free, m_free), seed
    dsigma_dmu, seed_dsigma_dmu = dsigma_dmu_at(mu.data)
    dsigma_dmu_off, seed_dsigma_dmu_off = dsigma_dmu_at(mu.data + 0.3)
    factor_ok = abs(seed_dsigma_dmu_off - dsigma_dmu_off) <= TOL
    return Result(
        problem=(f"Batch norm of one feature over a batch of n = {n}: mu and the biased "
                 "variance var of X, sigma = sqrt(var + eps), xhat_i = (X_i - mu)/sigma, "
                 "Y_i = gamma xhat_i + beta. Given dL/dY, follow seed 003's steps (Q1.4) "
                 "through dL/dxhat, dL/dsigma and dL/dmu to dL/dX, and check its closed form "
                 f"for dL/dX against autodiff here and on {trials} random batches."),
        seed_says="dX_i = gamma/(n sigma) (n dY_i - sum dY_j - xhat_i sum dY_j xhat_j)",
        engine_says=(f"autodiff dL/dX = [{', '.join(f'{d:.6g}' for d in dX)}]; closed form "
                     f"{'equal' if holds else 'differs'} (max difference {err:.1e} here, "
                     f"{err_trials:.1e} relative over {trials} batches); each step of the "
                     "derivation "
                     + ("equals" if max(step_err.values()) <= TOL else "does not all equal")
                     + " autodiff at the node it names"),
        verdict=judge(holds),
        note=("sigma = sqrt(var + eps) with the biased batch variance. The step-through "
              "evaluates the seed's steps for dL/dX[1] on the layer's nodes. In the "
              "derivation the factor of d sigma / d mu "
              + ("is right" if factor_ok else
                 f"should be -1/n, not -2/n (beside the mean: {seed_dsigma_dmu_off:.4g} "
                 f"written, {dsigma_dmu_off:.4g} by autodiff)")
              + "; at the batch mean that term is zero either way, so the closed form is "
              "unaffected."),
        values={"dX": nested.data_of(dX), "seed_dX": seed_dX, "err": err, "err_trials": err_trials,
                "trials": trials, "step_err": step_err,
                "steps": {k: nested.data_of(v) for k, v in steps.items()},
                "err_dsigma": step_err["dsigma_dX"], "dsigma_dmu": dsigma_dmu,
                "seed_dsigma_dmu": seed_dsigma_dmu, "dsigma_dmu_off_mean": dsigma_dmu_off,
                "seed_dsigma_dmu_off_mean": seed_dsigma_dmu_off, "mu": mu.data,
                "sigma": sigma.data, "eps": eps},
        graph=steps["dX"],
        extra={"X": X, "layer": case["layer"], "gamma": case["gamma"], "beta": case["beta"],
               "G": case["G"]},
    )


# ---- Q1.5 valid convolution --------------------------------------------------------------------

def _conv_case(rng: random.Random, N: int, C: int, F: int, H: int, K: int,
               integers: bool = False) -> dict:
    """A valid convolution of N images of C channels, H x H, with F filters K x K, the loss
    sum(G * Y), and the seed's two formulas for dX and dW (each as its sum and as *full /
    *filt) against autodiff. ``integers``: inputs are small random integers, so a step-through
    of the case stays short enough to read."""
    def draw(*shape):
        return _ints(rng, *shape) if integers else nested.random_like(rng, *shape)
    X = nested.values(draw(N, C, H, H), "X")
    layer = nn.Conv2d.from_weights(draw(F, C, K, K), draw(F))
    W = layer.weight
    _label(W, "W")
    _label(layer.bias, "b")
    Y = layer(X)
    _label(Y, "Y")
    Ho = H - K + 1
    G = draw(N, F, Ho, Ho)
    loss = _upstream_loss(Y, G)
    dX, dW = _grads(loss, X), _grads(loss, W)
    Wf, Xf = nested.data_of(W), nested.data_of(X)

    def g_at(nb, f, i, j):  # 1-based; out of range is zero (the full convolution's padding)
        return G[nb][f][i - 1][j - 1] if 1 <= i <= Ho and 1 <= j <= Ho else 0.0

    # dX as the seed's sum, then as its "sum_f W_{f,c} *full dY_{n,f}".
    seed_dX_sum = [[[[sum(g_at(nb, f, i - m + 1, j - q + 1) * Wf[f][c][m - 1][q - 1]
                          for f in range(F) for m in range(1, K + 1) for q in range(1, K + 1))
                      for j in range(1, H + 1)] for i in range(1, H + 1)]
                    for c in range(C)] for nb in range(N)]
    seed_dX_full = [[_add_all([_conv_full(Wf[f][c], G[nb][f]) for f in range(F)])
                     for c in range(C)] for nb in range(N)]
    # dW as the seed's sum, then as "sum_n X_{n,c} *filt dY_{n,f}".
    seed_dW_sum = [[[[sum(G[nb][f][m - 1][q - 1] * Xf[nb][c][i + m - 2][j + q - 2]
                          for nb in range(N) for m in range(1, Ho + 1) for q in range(1, Ho + 1))
                      for j in range(1, K + 1)] for i in range(1, K + 1)]
                    for c in range(C)] for f in range(F)]
    seed_dW_filt = [[_add_all([_filt(Xf[nb][c], G[nb][f]) for nb in range(N)])
                     for c in range(C)] for f in range(F)]
    errs = {"err_dX_sum": nested.max_diff(seed_dX_sum, dX),
            "err_dX_full": nested.max_diff(seed_dX_full, dX),
            "err_dW_sum": nested.max_diff(seed_dW_sum, dW),
            "err_dW_filt": nested.max_diff(seed_dW_filt, dW)}
    return {"X": X, "layer": layer, "G": G, "loss": loss, "dX": dX, "dW": dW, "errs": errs}


def _ints(rng: random.Random, *shape: int):
    """A nested list of small random non-zero integers (as floats), -3 to 3, of ``shape``:
    no zero, so no path of a step-through vanishes by accident."""
    if len(shape) == 1:
        return [float(rng.choice((-3, -2, -1, 1, 2, 3))) for _ in range(shape[0])]
    return [_ints(rng, *shape[1:]) for _ in range(shape[0])]


@example("S3-Q1.5", SEED, "Q1.5", "Valid-convolution backward")
def conv_backward() -> Result:
    """Forward (not written in the seed; the deep-learning convention, as in PyTorch):
    Y[n,f,i,j] = sum_c sum_{m,n'} X[n,c,i+m-1,j+n'-1] W[f,c,m,n'] + b[f] (1-based)."""
    check = _conv_case(random.Random(35), N=2, C=2, F=2, H=5, K=3)
    # One image, one channel, one 2x2 filter on 3x3 integers: the case the step-through shows.
    shown = _conv_case(random.Random(350), N=1, C=1, F=1, H=3, K=2, integers=True)
    errs = check["errs"]
    worst = max(max(errs.values()), max(shown["errs"].values()))
    return Result(
        problem=("A valid convolution (cross-correlation, as in PyTorch; stride 1, no padding) "
                 "of 2 images of 2 channels, 5x5, with 2 filters 3x3 and a bias each; given "
                 "dL/dY, check seed 003's (Q1.5) index sums for dL/dX and dL/dW and their "
                 "short forms (a full convolution for dX, filtering for dW) against autodiff."),
        seed_says="dX = sum_f W *full dY; dW = sum_n X *filt dY",
        engine_says=f"same, max difference {worst:.1e}",
        verdict=judge(worst <= TOL * 10),
        note=("Forward taken as valid cross-correlation (PyTorch's conv2d); *full is the true "
              "convolution with zero padding, *filt the valid cross-correlation. The seed reuses "
              "n for the batch index and a kernel index. The step-through is a smaller case (one "
              "3x3 image of integers, one 2x2 filter) checked the same way."),
        values={"dX": nested.data_of(check["dX"]), "dW": nested.data_of(check["dW"]), **errs,
                "shown_errs": shown["errs"]},
        graph=shown["loss"],
        extra={"X": check["X"], "layer": check["layer"], "G": check["G"],
               "shown": {"X": shown["X"], "layer": shown["layer"], "G": shown["G"]},
               "wrt": "W[1,1,1,1]"},
    )


def _add_all(mats: list) -> list:
    out = mats[0]
    for m in mats[1:]:
        out = [[a + b for a, b in zip(ra, rb)] for ra, rb in zip(out, m)]
    return out


def _conv_full(k: list, g: list) -> list:
    """Full 2-D convolution (kernel flipped, zero padding): (k * g)[i][j] =
    sum_{m,q} k[m][q] g[i-m][j-q], output (K+Ho-1) square."""
    K, Ho = len(k), len(g)
    size = K + Ho - 1
    return [[sum(k[m][q] * g[i - m][j - q] for m in range(K) for q in range(K)
                 if 0 <= i - m < Ho and 0 <= j - q < Ho)
             for j in range(size)] for i in range(size)]


def _filt(x: list, g: list) -> list:
    """Valid cross-correlation (filtering) of ``x`` with ``g``: sum_{m,q} g[m][q] x[i+m][j+q]."""
    H, Ho = len(x), len(g)
    size = H - Ho + 1
    return [[sum(g[m][q] * x[i + m][j + q] for m in range(Ho) for q in range(Ho))
             for j in range(size)] for i in range(size)]


# ---- Q7.1 sigmoid inputs: gradient signs -------------------------------------------------------

@example("S3-Q7.1", SEED, "Q7.1", "All-positive inputs give weight gradients of one sign")
def positive_inputs_sign() -> Result:
    """f = w . x + b with x = sigmoid(a) > 0; per example dL/dw_i = dL/df * x_i."""
    rng = random.Random(71)
    trials, d = 200, 5
    same_sigmoid = same_tanh = 0
    for _ in range(trials):
        a = [Value(rng.gauss(0, 2)) for _ in range(d)]
        w = [Value(rng.gauss(0, 1), f"w{i + 1}") for i in range(d)]
        b = Value(rng.gauss(0, 1), "b")
        t = rng.choice((0.0, 1.0))
        same_sigmoid += _one_sign(grad(_sign_unit(a, w, b, t, "sigmoid"), w))
        same_tanh += _one_sign(grad(_sign_unit(a, w, b, t, "tanh"), w))
    # The case the step-through shows: the same unit on one-decimal numbers.
    shown_rng = random.Random(710)
    shown = _sign_unit(nested.values(_short(shown_rng, d, lo=-3.0, hi=3.0), "a"),
                       [Value(v, f"w{i + 1}") for i, v in enumerate(_short(shown_rng, d))],
                       Value(_short(shown_rng, 1)[0], "b"), 1.0, "sigmoid")
    frac_sig, frac_tanh = same_sigmoid / trials, same_tanh / trials
    return Result(
        problem=(f"A unit f = w . x + b with {d} inputs x = sigmoid(a), all positive, feeds a "
                 "sigmoid output and a squared error; over 200 random draws of a, w, b and "
                 "the target, check seed 003's (Q7.1) claim that the gradients on w all share "
                 "one sign, and compare with zero-centred tanh inputs."),
        seed_says="gradients on w all positive or all negative",
        engine_says=f"one sign in {frac_sig:.0%} of trials (tanh inputs: {frac_tanh:.0%})",
        verdict=judge(frac_sig == 1.0),
        note=("Per example dL/dw_i = dL/df * x_i, so with x_i > 0 every component has the sign "
              "of dL/df; summed over a mini-batch the signs can mix."),
        values={"frac_same_sign_sigmoid": frac_sig, "frac_same_sign_tanh": frac_tanh,
                "trials": trials},
        graph=shown,
        extra={"wrt": "w1"},
    )


def _sign_unit(a: list, w: list, b: Value, t: float, act: str) -> Value:
    """L = (sigmoid(w . x + b) - t)^2 with x = act(a): the unit of Q7.1."""
    x = [getattr(ai, act)() for ai in a]
    _label(x, "x")
    f = nested.total([wi * xi for wi, xi in zip(w, x)]) + b
    f.label = "f"
    out = f.sigmoid()
    out.label = "s"
    loss = (out - t) ** 2
    loss.label = "L"
    return loss


def _one_sign(gs: list) -> bool:
    """Whether the non-zero numbers of ``gs`` all have one sign."""
    return len({math.copysign(1.0, g) for g in gs if g != 0.0}) <= 1


# ---- Q7.2 dropout at inference -----------------------------------------------------------------

@example("S3-Q7.2", SEED, "Q7.2", "Dropout at inference: expectation over masks")
def dropout_inference() -> Result:
    """y = W (x * m), m_i ~ Bernoulli(q) independently, q the KEEP probability. E[y] exactly
    (all 2^d masks, weighted) and by Monte Carlo (seeded, ``samples`` masks)."""
    rng = random.Random(72)
    rows, d, q = 2, 3, 0.8
    samples = 20000
    linear = nn.Linear.from_weights(_short(rng, rows, d), None,
                                    w_labels=lambda k, j: f"W[{k},{j}]")
    W = linear.weight
    xs = _short(rng, d, lo=0.5, hi=2.0)

    def layer(mask) -> list:
        return linear([xi * mi for xi, mi in zip(xs, mask)])

    exact = [0.0] * rows
    for mask in itertools.product((0.0, 1.0), repeat=d):
        prob = math.prod(q if mi else 1 - q for mi in mask)
        for k, y in enumerate(layer(mask)):
            exact[k] += prob * y.data
    mc_rng = random.Random(720)
    total, total_sq = [0.0] * rows, [0.0] * rows
    for _ in range(samples):
        y = layer([1.0 if mc_rng.random() < q else 0.0 for _ in range(d)])
        for k in range(rows):
            total[k] += y[k].data
            total_sq[k] += y[k].data ** 2
    mc = [t / samples for t in total]
    se = [math.sqrt((s / samples - m * m) / samples) for s, m in zip(total_sq, mc)]
    # The seed's rule as a graph: x and p as named leaves, p = q the keep probability.
    x_nodes, p_node = nested.values(xs, "x"), Value(q, label="p")
    inference = linear([xi * p_node for xi in x_nodes])             # W (x * p)
    _label(inference, "y")
    seed_y = [v.data for v in inference]
    drop_y = [v.data for v in layer([1 - q] * d)]                    # if p were the drop prob
    err = nested.max_diff(seed_y, exact)
    # The seed's W (x * p) with p read as the keep probability (q) and as the drop one (1 - q).
    holds = {"p = keep probability": err <= TOL,
             "p = drop probability": nested.max_diff(drop_y, exact) <= TOL}
    return Result(
        problem=(f"A linear layer y = W (x * m) with W of {rows}x{d} and a dropout mask m on "
                 f"its input, each m_i kept (1) with probability {q}; find the expected output "
                 "over all masks (exactly and by Monte Carlo) and check seed 003's (Q7.2) "
                 "inference rule y = W (x * p)."),
        seed_says="y = W (x * p)",
        engine_says=(f"E[y] = W (x * q), q = keep probability {q}: the seed's rule "
                     + " and ".join(f"{'holds' if ok else 'fails'} with {r}"
                                    for r, ok in holds.items())),
        verdict=_verdict_by_reading(holds),
        note=("Right when p is the keep probability; with p the drop probability (PyTorch's "
              "nn.Dropout) it is W (x * (1 - p)), and inverted dropout needs no scaling at "
              f"inference. Monte Carlo: {samples} masks."),
        values={"exact": exact, "monte_carlo": mc, "standard_error": se, "seed_y": seed_y,
                "drop_reading_y": drop_y, "err": err, "holds": holds, "samples": samples,
                "keep": q,
                "x": xs, "W": nested.data_of(W)},
        graph=inference[0],
        extra={"W": W, "layer": linear},
    )
