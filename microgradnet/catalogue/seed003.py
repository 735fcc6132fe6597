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
from typing import Sequence

from .. import nn
from ..checks import one_sided
from ..engine import Value, grad
from .base import Result, example

__all__: list[str] = []

SEED = "003_46b4f35227c027e8.txt"


# ---- small helpers over nested lists -----------------------------------------------------------

def _rand(rng: random.Random, *shape: int, lo: float = -1.0, hi: float = 1.0):
    """A nested list of floats of ``shape``, uniform in [lo, hi)."""
    if len(shape) == 1:
        return [rng.uniform(lo, hi) for _ in range(shape[0])]
    return [_rand(rng, *shape[1:], lo=lo, hi=hi) for _ in range(shape[0])]


def _values(xs, label: str = ""):
    """Wrap a nested list of floats into Values, labelled ``label[i,j,...]`` (1-based, as the
    seeds index)."""
    out = []
    stack = [(xs, out, ())]
    while stack:
        src, dst, idx = stack.pop()
        for i, x in enumerate(src):
            if isinstance(x, list):
                sub: list = []
                dst.append(sub)
                stack.append((x, sub, idx + (i,)))
            else:
                name = f"{label}[{','.join(str(k + 1) for k in idx + (i,))}]" if label else ""
                dst.append(Value(x, label=name))
    return out


def _flat(xs) -> list:
    """Leaves of a nested list, row-major."""
    out, stack = [], [iter(xs)]
    while stack:
        for x in stack[-1]:
            if isinstance(x, list):
                stack.append(iter(x))
                break
            out.append(x)
        else:
            stack.pop()
    return out


def _data(xs):
    """Nested floats from nested Values (or floats)."""
    if isinstance(xs, list):
        return [_data(x) for x in xs]
    return xs.data if isinstance(xs, Value) else float(xs)


def _sum(terms: Sequence):
    """Sum of Values/floats starting from the first term (no extra zero node)."""
    it = iter(terms)
    total = next(it)
    for t in it:
        total = total + t
    return total


def _matmul(a, b):
    """Matrix product of nested lists (Values or floats); needs len(a[0]) == len(b)."""
    if len(a[0]) != len(b):
        raise ValueError(f"matmul: shapes {len(a)}x{len(a[0])} and {len(b)}x{len(b[0])} "
                         "do not conform")
    return [[_sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))]
            for i in range(len(a))]


def _transpose(a):
    return [list(r) for r in zip(*a)]


def _shape(a) -> tuple:
    s = []
    while isinstance(a, list):
        s.append(len(a))
        a = a[0]
    return tuple(s)


def _max_diff(a, b) -> float:
    """Largest absolute element-wise difference; inf when the shapes differ."""
    if _shape(a) != _shape(b):
        return math.inf
    fa, fb = _flat(_data(a)), _flat(_data(b))
    return max(abs(x - y) for x, y in zip(fa, fb))


def _upstream_loss(ys, g):
    """L = sum(G * Y): its gradient with respect to Y is G."""
    loss = _sum(y * gi for y, gi in zip(_flat(ys), _flat(g)))
    loss.label = "L"
    return loss


def _label(xs, name: str) -> None:
    """Label a layer's outputs (nested lists of Values) ``name[i,j,...]``, 1-based, so a
    step-through writes Y[1,2] = ... as the seed does instead of inlining each output."""
    stack = [(xs, ())]
    while stack:
        src, idx = stack.pop()
        for i, x in enumerate(src):
            if isinstance(x, list):
                stack.append((x, idx + (i,)))
            else:
                x.label = f"{name}[{','.join(str(k + 1) for k in idx + (i,))}]"


def _grads(loss: Value, xs):
    """dL/dx for a nested list of Values, in the same nesting."""
    flat = _flat(xs)
    gs = iter(grad(loss, flat))

    def build(x):
        return [build(e) for e in x] if isinstance(x, list) else next(gs)
    return build(xs)


#: Tolerance for "the formula equals autodiff": both are float sums of a few terms.
TOL = 1e-12


# ---- Q1.1 fully-connected layer ----------------------------------------------------------------

@example("S3-Q1.1", SEED, "Q1.1", "Fully-connected layer backward")
def fully_connected() -> Result:
    """Y = X W + b with X of n x d (one sample per row), W of d x m, b of m: an
    ``nn.Linear`` whose weight (PyTorch's m x d layout) is W^T."""
    rng = random.Random(31)
    n, d, m = 3, 4, 2
    X = _values(_rand(rng, n, d), "X")
    Wf = _rand(rng, d, m)
    layer = nn.Linear.from_weights(_transpose(Wf), _rand(rng, m),
                                   w_labels=lambda k, j: f"W[{j},{k}]",
                                   b_labels=lambda k: f"b[{k}]")
    G = _rand(rng, n, m)
    Y = layer(X)
    _label(Y, "Y")
    loss = _upstream_loss(Y, G)
    dX = _grads(loss, X)
    dW = _transpose(_grads(loss, layer.weight))            # back to the seed's d x m
    db = _grads(loss, layer.bias)
    Xf = _data(X)
    # The seed's three formulas, as written.
    seed_dW = _matmul(_transpose(Xf), G)                   # X^T dL/dY
    seed_db = G                                            # dL/dY: n x m against m
    conforms = len(Wf[0]) == len(G)                        # W dL/dY: d x m times n x m
    err_dW = _max_diff(seed_dW, dW)
    err_db = _max_diff(seed_db, db)
    err_db_sum = _max_diff([sum(col) for col in _transpose(G)], db)
    err_dX_rows = _max_diff(_matmul(G, _transpose(Wf)), dX)        # dY W^T
    err_dX_cols = _max_diff(_matmul(Wf, _transpose(G)), _transpose(dX))  # W dY^T = dX^T
    # One sample (n = 1): dL/db = dL/dY holds literally.
    y1 = layer([_data(X[0])])
    db1 = _grads(_upstream_loss(y1, [G[0]]), layer.bias)
    err_db_single = _max_diff([G[0]], [db1])
    return Result(
        seed_says="dW = X^T dY; db = dY; dX = W dY",
        engine_says="dW = X^T dY; db = column sums of dY; dX = dY W^T",
        verdict="erratum",
        note=("With Y = XW + b and one sample per row of X, dL/db sums dL/dY over the batch "
              "(equal to dL/dY only for one sample) and dL/dX = dL/dY W^T; the seed's W dL/dY "
              f"({d}x{m} times {n}x{m}) {'conforms' if conforms else 'does not conform'}: it is "
              "the transpose W dY^T = dX^T."),
        values={"dW": _data(dW), "db": _data(db), "dX": _data(dX),
                "err_dW": err_dW, "err_db": err_db, "err_db_sum": err_db_sum,
                "err_dX_rows": err_dX_rows, "err_dX_cols": err_dX_cols,
                "err_db_single": err_db_single, "seed_dX_conforms": conforms},
        graph=loss,
        extra={"X": X, "W": Wf, "layer": layer, "G": G, "wrt": "X[1,1]",
               "convention": "Y = X W + b, X is n x d, W is d x m"},
    )


# ---- Q1.2 ReLU ---------------------------------------------------------------------------------

@example("S3-Q1.2", SEED, "Q1.2", "ReLU backward mask")
def relu_mask() -> Result:
    rng = random.Random(32)
    xs = _rand(rng, 7)
    xs[2] = 0.0                     # one input exactly at the kink
    X = _values(xs, "X")
    G = _rand(rng, 7)
    Y = nn.ReLU()(X)
    _label(Y, "Y")
    loss = _upstream_loss(Y, G)
    dX = _grads(loss, X)
    seed = [g * (1.0 if x > 0 else 0.0) for g, x in zip(G, xs)]    # dY * I(X > 0)
    left, right = one_sided(lambda x: x.relu(), [0.0])[0]
    ok = _max_diff(seed, dX) <= TOL
    return Result(
        seed_says="dX = dY * I(X > 0)",
        engine_says="dX = dY * I(X > 0) (kink 0)" if ok else "differs",
        verdict="convention" if ok else "erratum",
        note=("ReLU has no derivative at 0 (one-sided slopes 0 and 1); I(X > 0) takes "
              "ReLU'(0) = 0, as the engine's default kink=0.0 and PyTorch do."),
        values={"dX": _data(dX), "seed_dX": seed, "err": _max_diff(seed, dX),
                "one_sided_at_0": (left, right)},
        graph=loss,
        extra={"X": X, "G": G, "wrt": "X[3]"},      # the input at the kink
    )


# ---- Q1.3 dropout ------------------------------------------------------------------------------

@example("S3-Q1.3", SEED, "Q1.3", "Dropout backward mask")
def dropout_mask() -> Result:
    """Inverted dropout in training: Y = X * M / (1 - p), p the drop probability."""
    rng = random.Random(33)
    p = 0.5
    X = _values(_rand(rng, 8), "X")
    G = _rand(rng, 8)
    layer = nn.Dropout(p, rng=330)
    Y = layer(X)
    _label(Y, "Y")
    _label([y.parents[1] for y in Y if y.parents[1].is_leaf], "M")   # the mask leaves
    applied = layer.mask                                          # in {0, 1/(1-p)}
    M = [1.0 if a else 0.0 for a in applied]                      # the 0/1 mask
    loss = _upstream_loss(Y, G)
    dX = _grads(loss, X)
    seed_01 = [g * m for g, m in zip(G, M)]                       # dY * M, M in {0, 1}
    scaled = [g * a for g, a in zip(G, applied)]                  # dY * M / (1 - p)
    return Result(
        seed_says="dX = dY * M",
        engine_says=f"dX = dY * M / (1 - p), p = {p} dropped",
        verdict="convention",
        note=("dX = dY * M holds with M the mask as applied in the forward pass (Y = X * M); "
              "with inverted dropout (PyTorch, nn.Dropout; p = drop probability) and a 0/1 "
              "mask, dX = dY * M / (1 - p)."),
        values={"dX": _data(dX), "mask": M, "p": p, "err_01_mask": _max_diff(seed_01, dX),
                "err_scaled_mask": _max_diff(scaled, dX)},
        graph=loss,
        extra={"X": X, "G": G, "wrt": f"X[{applied.index(max(applied)) + 1}]"},   # kept
    )


# ---- Q1.4 batch norm ---------------------------------------------------------------------------

@example("S3-Q1.4", SEED, "Q1.4", "Batch-norm backward, closed form")
def batchnorm_backward() -> Result:
    """Y_i = gamma (X_i - mu) / sigma + beta over a batch of n, sigma = sqrt(var + eps),
    var the biased (1/n) batch variance."""
    rng = random.Random(34)
    n, eps = 6, 1e-5
    xs = _rand(rng, n, lo=-2.0, hi=3.0)
    X = _values(xs, "X")
    layer = nn.BatchNorm1d(1, eps=eps)
    gamma, beta = layer.weight[0], layer.bias[0]
    gamma.data, beta.data = rng.uniform(0.5, 2.0), rng.uniform(-1, 1)
    G = _rand(rng, n)
    Y = layer([[x] for x in X])                    # a batch of n samples of one feature
    _label([y[0] for y in Y], "Y")
    _label_batchnorm([y[0] for y in Y], layer)
    loss = _upstream_loss(Y, G)
    dX = _grads(loss, X)
    _, mu, sigma = _batchnorm(X, gamma, beta, eps)  # mu and sigma as nodes, for the steps
    # The seed's final closed form, as written, from floats.
    mu_f, s_f, gm = mu.data, sigma.data, gamma.data
    xh = [(x - mu_f) / s_f for x in xs]
    sum_g = sum(G)
    sum_gx = sum(g * h for g, h in zip(G, xh))
    seed_dX = [gm / (n * s_f) * (n * G[i] - sum_g - xh[i] * sum_gx) for i in range(n)]
    # Intermediate: d sigma / d X_i = (X_i - mu) / (n sigma).
    dsigma = grad(sigma, X)
    seed_dsigma = [(x - mu_f) / (n * s_f) for x in xs]
    # Intermediate: d sigma / d mu with mu held as its own variable. It is zero at the batch
    # mean; a point beside the mean (mu + 0.3) shows the seed's factor against autodiff.
    def dsigma_dmu_at(m: float) -> tuple:
        m_free = Value(m)
        s_free = (_sum([(Value(x) - m_free) ** 2 for x in xs]) / n + eps).sqrt()
        seed = -2.0 / n * sum(x - m for x in xs) / s_free.data
        return grad(s_free, m_free), seed
    dsigma_dmu, seed_dsigma_dmu = dsigma_dmu_at(mu_f)
    dsigma_dmu_off, seed_dsigma_dmu_off = dsigma_dmu_at(mu_f + 0.3)
    err = _max_diff(seed_dX, dX)
    return Result(
        seed_says="dX_i = gamma/(n sigma) (n dY_i - sum dY_j - xhat_i sum dY_j xhat_j)",
        engine_says=f"same, max difference {err:.1e}",
        verdict="confirmed" if err <= TOL * 10 else "erratum",
        note=("sigma = sqrt(var + eps) with the biased batch variance. In the derivation the "
              "factor of d sigma / d mu should be -1/n, not -2/n; the term is zero at the batch "
              "mean either way, so the closed form is unaffected."),
        values={"dX": _data(dX), "seed_dX": seed_dX, "err": err,
                "err_dsigma": _max_diff(seed_dsigma, dsigma), "dsigma_dmu": dsigma_dmu,
                "seed_dsigma_dmu": seed_dsigma_dmu, "dsigma_dmu_off_mean": dsigma_dmu_off,
                "seed_dsigma_dmu_off_mean": seed_dsigma_dmu_off, "mu": mu_f, "sigma": s_f,
                "eps": eps},
        graph=loss,
        extra={"X": X, "layer": layer, "gamma": gamma, "beta": beta, "G": G,
               "wrt": "gamma[1]"},   # six paths; dL/dX[1] has 91
    )


# ---- Q1.5 valid convolution --------------------------------------------------------------------

@example("S3-Q1.5", SEED, "Q1.5", "Valid-convolution backward")
def conv_backward() -> Result:
    """Forward (not written in the seed; the deep-learning convention, as in PyTorch):
    Y[n,f,i,j] = sum_c sum_{m,n'} X[n,c,i+m-1,j+n'-1] W[f,c,m,n'] + b[f] (1-based)."""
    rng = random.Random(35)
    N, C, F, H, K = 2, 2, 2, 5, 3
    X = _values(_rand(rng, N, C, H, H), "X")
    layer = nn.Conv2d.from_weights(_rand(rng, F, C, K, K), _rand(rng, F))
    W = layer.weight
    _label(W, "W")
    _label(layer.bias, "b")
    Y = layer(X)
    _label(Y, "Y")
    Ho = H - K + 1
    G = _rand(rng, N, F, Ho, Ho)
    loss = _upstream_loss(Y, G)
    dX, dW = _grads(loss, X), _grads(loss, W)
    Wf, Xf = _data(W), _data(X)

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
    errs = {"err_dX_sum": _max_diff(seed_dX_sum, dX), "err_dX_full": _max_diff(seed_dX_full, dX),
            "err_dW_sum": _max_diff(seed_dW_sum, dW), "err_dW_filt": _max_diff(seed_dW_filt, dW)}
    ok = max(errs.values()) <= TOL * 10
    return Result(
        seed_says="dX = sum_f W *full dY; dW = sum_n X *filt dY",
        engine_says=f"same, max difference {max(errs.values()):.1e}",
        verdict="confirmed" if ok else "erratum",
        note=("Forward taken as valid cross-correlation (PyTorch's conv2d); *full is the true "
              "convolution with zero padding, *filt the valid cross-correlation. The seed reuses "
              "n for the batch index and a kernel index."),
        values={"dX": _data(dX), "dW": _data(dW), **errs},
        graph=loss,
        extra={"X": X, "layer": layer, "G": G, "wrt": "W[1,1,1,1]"},
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
    last = None
    for _ in range(trials):
        a = [Value(rng.gauss(0, 2)) for _ in range(d)]
        w = [Value(rng.gauss(0, 1), f"w{i + 1}") for i in range(d)]
        b = Value(rng.gauss(0, 1), "b")
        t = rng.choice((0.0, 1.0))
        for act in ("sigmoid", "tanh"):
            x = [getattr(ai, act)() for ai in a]
            _label(x, "x")
            f = _sum([wi * xi for wi, xi in zip(w, x)]) + b
            f.label = "f"
            out = f.sigmoid()
            out.label = "s"
            loss = (out - t) ** 2
            loss.label = "L"
            gw = grad(loss, w)
            signs = {math.copysign(1.0, g) for g in gw if g != 0.0}
            if act == "sigmoid":
                same_sigmoid += len(signs) <= 1
                last = loss
            else:
                same_tanh += len(signs) <= 1
    frac_sig, frac_tanh = same_sigmoid / trials, same_tanh / trials
    return Result(
        seed_says="gradients on w all positive or all negative",
        engine_says=f"one sign in {frac_sig:.0%} of trials (tanh inputs: {frac_tanh:.0%})",
        verdict="confirmed" if frac_sig == 1.0 else "erratum",
        note=("Per example dL/dw_i = dL/df * x_i, so with x_i > 0 every component has the sign "
              "of dL/df; summed over a mini-batch the signs can mix."),
        values={"frac_same_sign_sigmoid": frac_sig, "frac_same_sign_tanh": frac_tanh,
                "trials": trials},
        graph=last,
        extra={"wrt": "w1"},
    )


# ---- Q7.2 dropout at inference -----------------------------------------------------------------

@example("S3-Q7.2", SEED, "Q7.2", "Dropout at inference: expectation over masks")
def dropout_inference() -> Result:
    """y = W (x * m), m_i ~ Bernoulli(q) independently, q the KEEP probability. E[y] exactly
    (all 2^d masks, weighted) and by Monte Carlo (seeded, ``samples`` masks)."""
    rng = random.Random(72)
    rows, d, q = 2, 3, 0.8
    samples = 20000
    linear = nn.Linear.from_weights(_rand(rng, rows, d), None,
                                    w_labels=lambda k, j: f"W[{k},{j}]")
    W = linear.weight
    xs = _rand(rng, d, lo=0.5, hi=2.0)

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
    inference = layer([q] * d)                                       # W (x * p), p = keep
    _label(inference, "y")
    seed_y = [v.data for v in inference]
    drop_y = [v.data for v in layer([1 - q] * d)]                    # if p were the drop prob
    err = _max_diff(seed_y, exact)
    return Result(
        seed_says="y = W (x * p)",
        engine_says=f"E[y] = W (x * q), q = keep probability {q}",
        verdict="convention",
        note=("Right when p is the keep probability; with p the drop probability (PyTorch's "
              "nn.Dropout) it is W (x * (1 - p)), and inverted dropout needs no scaling at "
              f"inference. Monte Carlo: {samples} masks."),
        values={"exact": exact, "monte_carlo": mc, "standard_error": se, "seed_y": seed_y,
                "drop_reading_y": drop_y, "err": err, "samples": samples, "keep": q,
                "x": xs, "W": _data(W)},
        graph=inference[0],
        extra={"W": W, "layer": linear},
    )


# ---- batch norm's statistics as nodes ---------------------------------------------------------

def _label_batchnorm(ys: list, layer) -> None:
    """Name the batch statistics of a one-feature batch norm as the seed does: mu, var, sigma
    and xhat[i], when the outputs have the form gamma * xhat_i + beta, xhat_i = (X_i - mu)
    / sigma."""
    stats = layer.batch_stats
    if stats:
        mu, var, _ = stats[0]
        mu.label, var.label = "mu", "var"
    for i, y in enumerate(ys):
        if y.op != "+" or y.parents[0].op != "*":
            return
        xhat = y.parents[0].parents[1]
        if xhat.op != "/":
            return
        xhat.label = f"xhat[{i + 1}]"
        xhat.parents[1].label = "sigma"

def _batchnorm(xs: list, gamma: Value, beta: Value, eps: float) -> tuple:
    """Batch norm of one feature written out, returning (outputs, mu, sigma) so the steps of
    the derivation (d sigma / d X_i, d sigma / d mu) can be differentiated on their own."""
    n = len(xs)
    mu = _sum(xs) / n
    var = _sum([(x - mu) ** 2 for x in xs]) / n
    sigma = (var + eps).sqrt()
    return [gamma * ((x - mu) / sigma) + beta for x in xs], mu, sigma

