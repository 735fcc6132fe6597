"""Worked examples of seed 004 (``004_cb0f231e9ae3b1c7.txt``): linear regression by gradient
descent and by the normal equation, activation derivatives, L1, input noise, batch-norm
statistics, Adam's first moment, zero initialisation and the Var(w) = 1/N initialisation.

Each example computes the claim with the engine and evaluates the seed's formula as the seed
writes it, on seeded random inputs. Monte Carlo examples state their sample counts.
"""
from __future__ import annotations

import math
import random
from typing import Any, Optional, cast

from .. import functional as F
from .. import init, nn, optim
from ..checks import one_sided
from ..engine import Value, topological_order
from ..gradients import grad
from .base import Result, example, judge
from .. import nested

__all__: list[str] = []

SEED = "004_cb0f231e9ae3b1c7.txt"
TOL = 1e-11


def _grads(out: Value, inputs: list, create_graph: bool = False) -> list:
    """d out / d x for each x of ``inputs`` (``gradients.grad`` of a list, typed as a list)."""
    return cast(list, grad(out, list(inputs), create_graph=create_graph))


def _grad1(out: Value, x: Value, create_graph: bool = False) -> Any:
    """d out / d x: a float, or a Value with ``create_graph`` (``gradients.grad`` of one input)."""
    return grad(out, x, create_graph=create_graph)


# ---- linear regression -------------------------------------------------------------------------

def _regression_data(n: int, d: int, seed: int) -> tuple:
    """Features x (n x d), targets y = x . w_true + b_true + noise."""
    rng = random.Random(seed)
    xs = nested.random_like(rng, n, d)
    w_true = [rng.uniform(-2, 2) for _ in range(d)]
    b_true = rng.uniform(-1, 1)
    ys = [sum(wj * xj for wj, xj in zip(w_true, x)) + b_true + rng.gauss(0, 0.1) for x in xs]
    return xs, ys


def _named_data(xs, ys) -> tuple:
    """The data as leaves named x[i,j] and y[i] (example i, feature j), so a step-through
    writes yhat[i] = w1*x[i,1] + ... and (y[i] - yhat[i])**2 as the seed does."""
    return ([[Value(v, f"x[{i + 1},{j + 1}]") for j, v in enumerate(x)]
             for i, x in enumerate(xs)],
            [Value(v, f"y[{i + 1}]") for i, v in enumerate(ys)])


def _half_mse(xs, ys, w, b, label: bool = False) -> Value:
    """L = 1/(2n) sum_i (y_i - (w . x_i + b))^2; with ``label`` the predictions are named
    yhat[i] and the loss L, as the seed writes them."""
    n = len(xs)
    if label:
        xs, ys = _named_data(xs, ys)
    yhat = [nested.total([wj * xj for wj, xj in zip(w, x)]) + b for x in xs]
    loss = nested.total([(y - yh) ** 2 for yh, y in zip(yhat, ys)]) / (2 * n)
    if label:
        for i, yh in enumerate(yhat):
            yh.label = f"yhat[{i + 1}]"
        loss.label = "L"
    return loss


@example("S4-Q1a", SEED, "Q1.a", "Gradients of the 1/(2n) squared-error linear regression")
def regression_gradients() -> Result:
    n, d = 6, 3
    xs, ys = _regression_data(n, d, seed=41)
    rng = random.Random(410)
    w = [Value(rng.uniform(-1, 1), f"w{j + 1}") for j in range(d)]
    b = Value(rng.uniform(-1, 1), "b")
    loss = _half_mse(xs, ys, w, b, label=True)
    gw, gb = _grads(loss, w), _grad1(loss, b)
    yhat = [sum(wj.data * xj for wj, xj in zip(w, x)) + b.data for x in xs]
    # The seed: dL/dw_j = 1/(2n) sum_i 2 x_j (yhat - y); dL/db = 1/(2n) sum_i 2 (yhat - y).
    seed_gw = [1 / (2 * n) * sum(2 * x[j] * (yh - y) for x, yh, y in zip(xs, yhat, ys))
               for j in range(d)]
    seed_gb = 1 / (2 * n) * sum(2 * (yh - y) for yh, y in zip(yhat, ys))
    err = max(nested.max_diff(seed_gw, gw), abs(seed_gb - gb))
    return Result(
        problem=(f"Linear regression yhat = w . x + b on {n} seeded examples with {d} features "
                 "and the loss L = 1/(2n) sum_i (y_i - yhat_i)^2, at random w and b: are the "
                 "gradients dL/dw_j and dL/db the sheet writes in Q1.a the ones autodiff gives?"),
        seed_says="dL/dw_j = 1/(2n) sum 2 x_j (yhat - y); dL/db = 1/(2n) sum 2 (yhat - y)",
        engine_says=f"same, max difference {err:.1e}",
        verdict=judge(err <= TOL),
        note=("x_j is read as x_j of example i (the seed drops the superscript (i)). The "
              "middle step writes 'dL/dw_j (y - yhat)^2' inside the sum: read it as the "
              "operator d/dw_j applied to (y - yhat)^2, not as dL/dw_j times it."),
        values={"grad_w": gw, "grad_b": gb, "seed_grad_w": seed_gw, "seed_grad_b": seed_gb,
                "err": err},
        graph=loss,
        extra={"w": w, "b": b, "x": xs, "y": ys, "wrt": "w1"},
    )


def _solve(A: list, rhs: list) -> list:
    """Solve A theta = rhs by Gaussian elimination with partial pivoting; entries may be
    Values (the result is then a graph) or floats."""
    n = len(A)
    M = [list(row) + [r] for row, r in zip(A, rhs)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(nested.data_of(M[r][col])))
        if nested.data_of(M[piv][col]) == 0:
            raise ValueError("normal equation: X^T X is singular")
        M[col], M[piv] = M[piv], M[col]
        for r in range(col + 1, n):
            f = M[r][col] / M[col][col]
            M[r] = [M[r][k] - f * M[col][k] if k > col else M[r][k] for k in range(n + 1)]
    theta = [None] * n
    for r in range(n - 1, -1, -1):
        acc = M[r][n]
        for k in range(r + 1, n):
            acc = acc - M[r][k] * theta[k]
        theta[r] = acc / M[r][r]
    return theta


def _normal_equation(X: list, Y: list) -> list:
    """theta = (X^T X)^{-1} X^T Y, solved (not inverted); X, Y may hold Values."""
    p = len(X[0])
    XtX = [[nested.total([row[i] * row[j] for row in X]) for j in range(p)] for i in range(p)]
    XtY = [nested.total([row[i] * y for row, y in zip(X, Y)]) for i in range(p)]
    return _solve(XtX, XtY)


def _gradient_descent(xs, ys, lr: float, steps: int) -> list:
    """Plain gradient descent on the 1/(2n) squared error, from zero."""
    d = len(xs[0])
    w = [Value(0.0, f"w{j + 1}") for j in range(d)]
    b = Value(0.0, "b")
    opt = optim.SGD([b] + w, lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        _half_mse(xs, ys, w, b).backward()
        opt.step()
    return [p.data for p in opt.params]


@example("S4-Q1b", SEED, "Q1.b", "Normal equation against where gradient descent converges")
def normal_equation() -> Result:
    n, d = 8, 2
    xs, ys = _regression_data(n, d, seed=42)
    lr, steps = 0.5, 400
    theta_gd = _gradient_descent(xs, ys, lr=lr, steps=steps)
    # The design matrix with rows [1, x_i^T] and theta = [b; w] (d + 1 entries).
    theta_ne = [v.data for v in _normal_equation([[Value(1.0)] + [Value(x) for x in r]
                                                  for r in xs], [Value(y) for y in ys])]
    # Read literally, rows [1, -x_i^T]: the same fit, with its weights negated.
    theta_minus = _normal_equation([[1.0] + [-x for x in r] for r in xs], ys)
    err = nested.max_diff(theta_gd, theta_ne)
    err_minus = nested.max_diff(theta_gd, theta_minus)
    # At the normal-equation solution the gradient the seed sets to 0 is 0.
    b = Value(theta_ne[0], "b")
    w = [Value(t, f"w{j + 1}") for j, t in enumerate(theta_ne[1:])]
    loss = _half_mse(xs, ys, w, b, label=True)
    grad_at_ne = _grads(loss, [b] + w)
    stationary = max(abs(g) for g in grad_at_ne)
    return Result(
        problem=(f"Linear regression on {n} seeded examples with {d} features, loss "
                 "1/(2n) ||Y - X theta||^2 with theta = [b; w]. Solve the normal equation "
                 "theta = (X^T X)^{-1} X^T Y with the engine and compare it with where "
                 f"{steps} gradient-descent steps (lr {lr:g}, from 0) end up."),
        seed_says="X = [1, -x^T], w = [b; w; 1] ((d+1) x 1); w = (X^T X)^{-1} X^T Y",
        engine_says=(f"normal equation = GD limit (difference {err:.1e}); the loss gradient "
                     f"there is {stationary:.1e}"),
        verdict=judge(err <= 1e-9 and stationary <= TOL),
        note=("Notation: the sheet's '-x^T' and the '1' under w read as the bars of a row "
              "(-- x^(i)T --) and of a column vector lost in transcription; the sizes it states, "
              "n x (d+1) and (d+1) x 1, fit X = [1, x^T] and theta = [b; w]. With a literal "
              f"minus sign the solve returns -w (distance to the GD limit {err_minus:.2f}); a "
              "literal trailing 1 would make d+2 entries."),
        values={"theta_gd": theta_gd, "theta_normal": theta_ne, "theta_seed_X": theta_minus,
                "err": err, "err_literal_minus": err_minus, "grad_at_normal": grad_at_ne,
                "max_abs_grad_at_normal": stationary, "lr": lr, "steps": steps},
        graph=loss,
        extra={"x": xs, "y": ys, "wrt": "b"},
    )


def _slope(xs: list, ys: list) -> float:
    """Least-squares slope of log y against log x: the growth exponent."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return (sum((a - mx) * (c - my) for a, c in zip(lx, ly))
            / sum((a - mx) ** 2 for a in lx))


def _named_normal_equation(xs: list, ys: list) -> Value:
    """The closed form for a small case, every entry named: A = X^T X (A[i,j]), c = X^T Y
    (c[i]), then the solve, which ends at b (back substitution finds w first)."""
    X = [[Value(1.0)] + [Value(v, f"x[{i + 1},{j + 1}]") for j, v in enumerate(r)]
         for i, r in enumerate(xs)]
    Y = [Value(y, f"y[{i + 1}]") for i, y in enumerate(ys)]
    p = len(X[0])
    A = [[nested.total([row[i] * row[j] for row in X]) for j in range(p)] for i in range(p)]
    c = [nested.total([row[i] * y for row, y in zip(X, Y)]) for i in range(p)]
    for i in range(p):
        c[i].label = f"c[{i + 1}]"
        for j in range(p):
            A[i][j].label = f"A[{i + 1},{j + 1}]"
    theta = _solve(A, c)
    for t, name in zip(theta, ["b"] + [f"w{j}" for j in range(1, p)]):
        t.label = name
    return theta[0]


@example("S4-Q1c", SEED, "Q1.c", "Cost of gradient descent and of the closed form in n and d")
def regression_cost() -> Result:
    """Cost = nodes in the engine's graph: one gradient-descent step (loss and its gradient),
    the whole normal-equation solve, and its two parts (forming X^T X, X^T Y; solving the
    (d+1) x (d+1) system) for growing n (examples) and d (features)."""
    def gd_nodes(n: int, d: int) -> int:
        xs, ys = _regression_data(n, d, seed=43)
        w = [Value(0.1) for _ in range(d)]
        b = Value(0.0)
        gs = _grads(_half_mse(xs, ys, w, b), [b] + w, create_graph=True)
        return len(topological_order(*gs))

    def design(n: int, d: int) -> tuple:
        xs, ys = _regression_data(n, d, seed=43)
        return [[Value(1.0)] + [Value(x) for x in r] for r in xs], [Value(y) for y in ys]

    def ne_nodes(n: int, d: int) -> int:
        return len(topological_order(*_normal_equation(*design(n, d))))

    def form_nodes(n: int, d: int) -> int:
        X, Y = design(n, d)
        p = d + 1
        parts = [nested.total([row[i] * row[j] for row in X]) for i in range(p) for j in range(p)]
        parts += [nested.total([row[i] * y for row, y in zip(X, Y)]) for i in range(p)]
        return len(topological_order(*parts))          # leaves included: n (d + 2)

    def solve_nodes(p: int) -> int:
        # A p x p system from floats: only the elimination and back substitution are nodes.
        rng = random.Random(p)
        A = [[Value(rng.uniform(-1, 1) + (3.0 if i == j else 0.0)) for j in range(p)]
             for i in range(p)]
        rhs = [Value(1.0) for _ in range(p)]
        return len(topological_order(*_solve(A, rhs))) - p * p - p     # minus the leaves

    ns, d0 = [40, 80, 160], 3
    ds, n0 = [4, 8, 16], 32                 # the closed form needs n >= d + 1
    gd_ds = [8, 16, 32]                     # past the per-example overhead of the loss
    ps = [8, 16, 32]
    gd_n = [gd_nodes(n, d0) for n in ns]
    gd_d = [gd_nodes(n0, d) for d in gd_ds]
    ne_n = [ne_nodes(n, d0) for n in ns]
    ne_d = [ne_nodes(n0, d) for d in ds]
    form_d = [form_nodes(n0, d) for d in ds]
    solve_p = [solve_nodes(p) for p in ps]
    slopes = {"gd_in_n": _slope(ns, gd_n), "gd_in_d": _slope(gd_ds, gd_d),
              "closed_in_n": _slope(ns, ne_n), "closed_in_d": _slope(ds, ne_d),
              "form_in_d": _slope([d + 1 for d in ds], form_d),
              "solve_in_p": _slope(ps, solve_p)}
    # The seed: GD ~ n m (m = d features) per step, closed form ~ n^3 for d << n.
    gd_holds = abs(slopes["gd_in_n"] - 1) < 0.25 and abs(slopes["gd_in_d"] - 1) < 0.25
    closed_holds = abs(slopes["closed_in_n"] - 3) < 0.5
    small_xs, small_ys = _regression_data(3, 1, seed=430)
    return Result(
        problem=("How does the work grow with n examples and d features, for one "
                 "gradient-descent step and for the closed form (X^T X) theta = X^T Y? Count "
                 "the nodes of the engine's graphs for n = 40, 80, 160 at d = 3, for d = 4, 8, "
                 "16 (closed form) and 8, 16, 32 (GD) at n = 32, and the solve alone for 8, "
                 "16, 32 unknowns (d + 1)."),
        seed_says="GD O(nm); closed form O(n^3 + n^2 d)",
        engine_says=(f"GD step ~ n^{slopes['gd_in_n']:.2f} d^{slopes['gd_in_d']:.2f}; "
                     f"closed form ~ n^{slopes['closed_in_n']:.2f}; forming X^T X ~ "
                     f"(d+1)^{slopes['form_in_d']:.2f}, the solve ~ (d+1)^"
                     f"{slopes['solve_in_p']:.2f}"),
        verdict=judge(gd_holds and closed_holds),
        note=("The closed form forms X^T X in O(n d^2) and solves a (d+1) x (d+1) system in "
              "O(d^3): O(n d^2 + d^3), linear in n, not O(n^3 + n^2 d) (the sheet's bound "
              "would fit with n and d swapped); gradient descent costs O(n d) per step "
              "(m = d), O(n d T) for T steps. The solve alone grows as the cube of the "
              "number of unknowns, forming X^T X as its square (times n)."),
        values={"n": ns, "d": ds, "gd_d": gd_ds, "p": ps, "gd_nodes_n": gd_n,
                "gd_nodes_d": gd_d,
                "closed_nodes_n": ne_n, "closed_nodes_d": ne_d, "form_nodes_d": form_d,
                "solve_nodes_p": solve_p, "gd_holds": gd_holds, "closed_holds": closed_holds,
                **slopes},
        graph=_named_normal_equation(small_xs, small_ys),
    )


# ---- activations -------------------------------------------------------------------------------

@example("S4-Q2a", SEED, "Q2.a", "sigmoid' = s(1 - s) <= 1/4; ReLU' as the seed defines it")
def activation_derivatives() -> Result:
    rng = random.Random(44)
    pts = [rng.uniform(-6, 6) for _ in range(20)]
    # sigma'(x) by autodiff against the seed's sigma(x)(1 - sigma(x)).
    auto = []
    for x in pts:
        v = Value(x)
        auto.append(_grad1(v.sigmoid(), v))
    seed = [(1 / (1 + math.exp(-x))) * (1 - 1 / (1 + math.exp(-x))) for x in pts]
    grid = [k / 100 for k in range(-1000, 1001)]
    slopes = []
    for x in grid:
        v = Value(x)
        slopes.append(_grad1(v.sigmoid(), v))
    best = max(range(len(grid)), key=lambda k: slopes[k])
    # At the maximum the second derivative vanishes.
    v0 = Value(0.0, "x")
    s0 = v0.sigmoid()
    s0.label = "s"
    d2_at_0 = _grad1(_grad1(s0, v0, create_graph=True), v0)
    # ReLU: the seed takes 1 at x >= 0; the left and right slopes at 0 differ.
    left, right = one_sided(lambda x: x.relu(), [0.0])[0]
    z = Value(0.0)
    relu_seed = _grad1(z.relu(kink=1.0), z)
    relu_default = _grad1(z.relu(), z)
    # The vanishing-gradient argument: the slope through a chain of 10 units from x = 0.5.
    depth = 10
    chains = {}
    for name in ("sigmoid", "relu"):
        x0 = Value(0.5)
        a = x0
        for _ in range(depth):
            a = getattr(a, name)()
        chains[name] = _grad1(a, x0)
    err = nested.max_diff(seed, auto)
    sigmoid_holds = err <= 1e-15 and slopes[best] < 1
    kink_open = left != right                  # no derivative at 0: a value must be chosen
    return Result(
        problem=("Is the sigmoid's derivative sigma(1 - sigma), and how large can it get (the "
                 "sheet says below 1)? What is ReLU's derivative, in particular at 0, and what "
                 f"does each do to a gradient passed back through a chain of {depth} units?"),
        seed_says="sigma' = sigma(1 - sigma) < 1; ReLU'(x) = 1 for x >= 0, 0 for x < 0",
        engine_says=(f"max sigma' = {slopes[best]} at x = {grid[best]}; ReLU'(0): one-sided "
                     f"({left:g}, {right:g}), kink=1 gives {relu_seed:g}; through {depth} "
                     f"units: sigmoid {chains['sigmoid']:.1e}, ReLU {chains['relu']:g}"),
        verdict=("convention" if sigmoid_holds and kink_open else judge(sigmoid_holds)),
        note=("sigma' = sigma(1 - sigma) holds and is at most 1/4 (at x = 0), so < 1 is true but "
              "loose. ReLU has no derivative at 0; the seed takes ReLU'(0) = 1 (relu(kink=1)), "
              "the engine's default and PyTorch take 0. The sheet's sentence on ReLU is garbled "
              "in transcription; as it reads, the problem 'does arise' for ReLU, which its own "
              "derivative table contradicts: for x >= 0 the slope is 1, so a chain of active "
              f"ReLUs passes the gradient unchanged ({chains['relu']:g} through {depth} units) "
              f"where sigmoids shrink it ({chains['sigmoid']:.1e}); the likely intent is 'does "
              "not arise' (a dropped negation), with only units at x < 0 passing nothing."),
        values={"err_sigmoid": err, "max_sigmoid_slope": slopes[best],
                "argmax": grid[best], "second_derivative_at_0": d2_at_0,
                "relu_one_sided_at_0": (left, right), "relu_seed_at_0": relu_seed,
                "relu_default_at_0": relu_default, "chain_depth": depth,
                "chain_slope": chains, "sigmoid_holds": sigmoid_holds},
        graph=s0,
    )


def _sigmoid_slopes(x: float, w: float) -> tuple:
    """The node s = sigmoid(z), z = w*x (named), and ds/dx, ds/dw by autodiff."""
    xv, wv = Value(x, "x"), Value(w, "w")
    z = wv * xv
    z.label = "z"
    s = z.sigmoid()
    s.label = "s"
    ds_dx, ds_dw = _grads(s, [xv, wv])
    return s, ds_dx, ds_dw


def _peak_of_input_slope(x: float, lo: float, hi: float) -> Optional[float]:
    """The w > 0 where ds/dx = w sigma'(wx) is largest: bisection on the sign of
    d/dw (ds/dx), a second derivative taken by the engine."""
    def rise(w: float) -> float:
        xv, wv = Value(x), Value(w)
        return _grad1(_grad1((wv * xv).sigmoid(), xv, create_graph=True), wv)
    if not rise(lo) > 0 > rise(hi):
        return None                     # no peak in [lo, hi]: ds/dx does not turn down there
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if rise(mid) > 0 else (lo, mid)
    return (lo + hi) / 2


@example("S4-Q2c", SEED, "Q2.c", "Large weights saturate the sigmoid; its gradient vanishes")
def sigmoid_saturation() -> Result:
    """s = sigmoid(w x) at a fixed x for growing |w|: ds/dx = w s(1 - s), ds/dw = x s(1 - s)."""
    x = 1.5
    weights = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, -16.0]
    d_dx, d_dw, analytic_dx, analytic_dw = [], [], [], []
    for w in weights:
        s, gx, gw = _sigmoid_slopes(x, w)
        d_dx.append(gx)
        d_dw.append(gw)
        slope = s.data * (1 - s.data)                   # sigma'(wx), as the seed's Q2.a writes it
        analytic_dx.append(slope * w)
        analytic_dw.append(slope * x)
    err = max(nested.max_diff(d_dx, analytic_dx), nested.max_diff(d_dw, analytic_dw))
    # Vanishes: at the largest |w| both slopes are below 1/1000 of their largest value.
    big = [k for k, w in enumerate(weights) if abs(w) == max(map(abs, weights))]
    vanishes = all(abs(d_dx[k]) < 1e-3 * max(map(abs, d_dx))
                   and abs(d_dw[k]) < 1e-3 * max(map(abs, d_dw)) for k in big)
    # ds/dx = w sigma'(wx) first grows with w; past its peak both slopes fall like e^-|wx|.
    w_peak = _peak_of_input_slope(x, 0.5, 4.0)
    tail = [k for k, w in enumerate(weights) if w_peak is not None and w >= w_peak]
    falling = w_peak is not None and all(
        abs(d_dx[a]) > abs(d_dx[b]) and abs(d_dw[a]) > abs(d_dw[b])
        for a, b in zip(tail, tail[1:]))
    graph, _, _ = _sigmoid_slopes(x, 8.0)
    return Result(
        problem=("Take one sigmoid unit s = sigmoid(w x) at the input x = 1.5 and let the weight "
                 "grow (w = 0.25 ... 16, and -16). Do ds/dx and ds/dw shrink toward 0 as |w| "
                 "grows, as the sheet's answer to Q2.c says (large weights push the sigmoid "
                 "into saturation)?"),
        seed_says="large weights make the sigmoid's input large, its gradient small: vanishing",
        engine_says=("for w = " + ", ".join(f"{w:g}" for w in weights) + ": ds/dx = "
                     + ", ".join(f"{g:.2g}" for g in d_dx) + "; ds/dw = "
                     + ", ".join(f"{g:.2g}" for g in d_dw)),
        verdict=judge(vanishes and falling),
        note=("Both slopes carry sigma'(wx) = s(1 - s) <= 1/4, which falls like e^-|wx|. "
              "ds/dw = x sigma'(wx) falls from the start; ds/dx = w sigma'(wx) first grows "
              + (f"(largest at w = {w_peak:.3f}, wx = {w_peak * x:.3f}, where d/dw (ds/dx) = 0) "
                 "and only then vanishes. " if w_peak is not None else
                 "and has no peak for w in [0.5, 4]. ")
              + f"Autodiff against s(1 - s) w and s(1 - s) x: max difference {err:.1e}."),
        values={"x": x, "weights": weights, "ds_dx": d_dx, "ds_dw": d_dw,
                "analytic_ds_dx": analytic_dx, "analytic_ds_dw": analytic_dw,
                "err_analytic": err, "peak_w": w_peak, "vanishes": vanishes,
                "falls_past_peak": falling},
        graph=graph, extra={"wrt": "w"},
    )


# ---- Q3: regularisation, noise, batch norm, Adam -----------------------------------------------

#: Hidden activations tried on a bias-free network, by name.
_ACTIVATIONS = {"identity": nn.Identity, "tanh": nn.Tanh, "relu": nn.ReLU,
                "leaky_relu": nn.LeakyReLU, "swish": nn.Swish, "sigmoid": nn.Sigmoid,
                "softplus": nn.Softplus}


def _bias_free_net(sizes: list, act, rng: random.Random, names: bool = False):
    """Linear (no bias) - g - Linear (no bias) - ... with seeded N(0, 1/fan_in) weights;
    with ``names`` the layers' weights are W1[k,j], W2[k,j], ..."""
    layers = []
    for n, (nin, nout) in enumerate(zip(sizes, sizes[1:]), start=1):
        W = init.lecun_normal((nout, nin), rng=rng)
        layers.append(nn.Linear.from_weights(
            W, None, w_labels=(lambda k, j, n=n: f"W{n}[{k},{j}]") if names else None))
        if n < len(sizes) - 1:
            layers.append(act())
    return nn.Sequential(*layers)


def _origin_graph(rng: random.Random) -> Value:
    """A 2-2-1 bias-free sigmoid network at x = (0, 0), every node named, for the
    step-through: h = sigmoid(W1 x) = 1/2 whatever W1 is, so f = (W2[1,1] + W2[1,2]) / 2."""
    net = _bias_free_net([2, 2, 1], nn.Sigmoid, rng, names=True)
    x = [Value(0.0, f"x[{j + 1}]") for j in range(2)]
    h = net[1](net[0](x))
    for k, hk in enumerate(h):
        hk.label = f"h[{k + 1}]"
    f = net[2](h)[0]
    f.label = "f"
    return f


@example("S4-Q3a0", SEED, "3 (alef), first part",
         "Without biases the boundary passes the origin; f(0) = 0 only when g(0) = 0")
def bias_free_models() -> Result:
    """Logistic regression p = sigmoid(w . x) with and without b, and 3-5-4-1 networks with
    no biases for several hidden activations g, evaluated at x = 0 and next to it."""
    rng = random.Random(451)
    # Logistic regression: the boundary is {x : w . x + b = 0}; at x = 0 the logit is b.
    logit_at_0: list = []
    logit_at_0_bias: list = []
    for d in (2, 3, 5):
        for with_bias in (False, True):
            model = nn.Linear(d, 1, bias=with_bias, init="normal", rng=rng)
            if model.bias is not None:
                model.bias[0].data = rng.uniform(0.5, 1.5) * rng.choice([-1, 1])
            z = model([0.0] * d)[0]
            (logit_at_0_bias if with_bias else logit_at_0).append(z.data)
    boundary_through_origin = all(z == 0.0 for z in logit_at_0) and \
        all(z != 0.0 for z in logit_at_0_bias)
    # Networks without biases: f(0) against g(0), and |f(eps u)| next to the origin.
    eps = 1e-3
    g_at_0, f_at_0, f_near_0, f_at_u, nets = {}, {}, {}, {}, {}
    u = [rng.gauss(0, 1) for _ in range(3)]
    for name, act in _ACTIVATIONS.items():
        net = nets[name] = _bias_free_net([3, 5, 4, 1], act, random.Random(452))
        g_at_0[name] = act()(Value(0.0)).data
        f_at_0[name] = net([0.0] * 3)[0].data
        f_near_0[name] = net([eps * ui for ui in u])[0].data
        f_at_u[name] = net(u)[0].data
    zero_iff = {name: (f_at_0[name] == 0.0) == (g_at_0[name] == 0.0) for name in _ACTIVATIONS}
    holds = boundary_through_origin and all(zero_iff.values())
    nonzero = [name for name in _ACTIVATIONS if g_at_0[name] != 0.0]
    return Result(
        problem=("Models without a bias: logistic regression p = sigmoid(w . x) and 3-5-4-1 "
                 "networks with no bias in any layer (seeded N(0, 1/fan_in) weights), for "
                 "several hidden activations g. Does the decision boundary w . x = 0 pass "
                 "through the origin, and does the network give 0 at (and next to) x = 0?"),
        seed_says=("with b = 0 the boundary passes through the origin; a 2-layer net without "
                   "biases outputs about 0 for inputs near 0 (the weights are regularised too)"),
        engine_says=(f"logit at 0: {logit_at_0} without b; f(0) = "
                     + ", ".join(f"{k} {v:.3g}" for k, v in f_at_0.items())),
        verdict=judge(holds),
        note=("The boundary claim holds (logit(0) = b). The network claim needs g(0) = 0: "
              "then every layer maps 0 to 0 whatever the weights (no regularisation needed), "
              "and next to 0 the output is O(|x|) (exactly linear along a ray for ReLU). With "
              + ", ".join(nonzero) + " (g(0) != 0) the hidden units sit at g(0) and f(0) != 0. "
              f"Near the origin: x = {eps:g} u, u ~ N(0, I)."),
        values={"logit_at_0_no_bias": logit_at_0, "logit_at_0_with_bias": logit_at_0_bias,
                "boundary_through_origin": boundary_through_origin, "g_at_0": g_at_0,
                "f_at_0": f_at_0, "f_near_0": f_near_0, "f_at_u": f_at_u, "eps": eps, "u": u,
                "zero_iff_g0_zero": zero_iff},
        graph=_origin_graph(random.Random(453)), extra={"nets": nets},
    )


def _l1_step(w0: list, g_data: list, lr: float, lam: float) -> list:
    """``optim.SGD(l1=lam)``'s step from ``w0`` with data gradient ``g_data``, on fresh
    Values (the graph that explains the step keeps its own weights at ``w0``)."""
    ws = [Value(x, f"w{i + 1}") for i, x in enumerate(w0)]
    for wi, g in zip(ws, g_data):
        wi.grad = g
    return [r.new for r in optim.SGD(ws, lr=lr, l1=lam).step()]


def _l1_run(targets: list, lam: float, lr: float, steps: int, **penalty) -> list:
    """Weights after each of ``steps`` SGD steps on 1/2 sum (w_i - a_i)^2 from w = 0.5, with
    the penalty given as ``optim.SGD`` keywords (``l1=``, ``l1_step=``, ``weight_decay=``)."""
    ws = [Value(0.5, f"w{i + 1}") for i in range(len(targets))]
    opt = optim.SGD(ws, lr=lr, **penalty)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        (nested.total([(wi - ai) ** 2 for wi, ai in zip(ws, targets)]) * 0.5).backward()
        opt.step()
        history.append([v.data for v in ws])
    return history


@example("S4-Q3a", SEED, "3 (alef)", "L1 update rule; does L1 zero weights where L2 shrinks them?")
def l1_update() -> Result:
    """One step on J(w) = L(w) + lam sum |w_i|: w <- w - lr (dL/dw + lam sign(w)), and runs on
    L(w) = 1/2 sum (w_i - a_i)^2 comparing L1 sub-gradient steps, L1 proximal steps and L2."""
    rng = random.Random(45)
    lr, lam = 0.1, 1.0
    w0 = [rng.uniform(-1, 1) for _ in range(4)]
    a = [rng.uniform(-2, 2) for _ in range(4)]
    w = [Value(x, f"w{i + 1}") for i, x in enumerate(w0)]
    data_loss = nested.total([(wi - ai) ** 2 for wi, ai in zip(w, a)]) * 0.5
    data_loss.label = "L"
    penalty = lam * nested.total([wi.abs() for wi in w])
    penalty.label = "R"
    total = data_loss + penalty
    total.label = "J"
    g_total = _grads(total, w)                    # dL/dw + lam sign(w), by autodiff
    g_data = _grads(data_loss, w)
    step = _l1_step(w0, g_data, lr, lam)          # the optimiser's L1 step
    seed_step = [x - lr * math.copysign(1.0, x) - g for x, g in zip(w0, g_data)]
    err_autodiff = nested.max_diff([x - lr * g for x, g in zip(w0, g_total)], step)
    err_seed = nested.max_diff(seed_step, step)
    rule_holds = err_seed <= TOL
    # Long runs: the minimiser of 1/2 (w - a)^2 + lam |w| is 0 for |a| <= lam.
    targets = [0.05, -0.08, 0.15, 0.9, -1.4]
    lam2, lr2, steps, tail = 0.2, 0.05, 300, 50
    runs = {"subgradient": _l1_run(targets, lam2, lr2, steps, l1=lam2),
            "proximal": _l1_run(targets, lam2, lr2, steps, l1=lam2, l1_step="proximal"),
            "l2": _l1_run(targets, lam2, lr2, steps, weight_decay=lam2)}
    final = {k: h[-1] for k, h in runs.items()}
    small = [i for i, t in enumerate(targets) if abs(t) <= lam2]
    zeros = {k: sum(1 for i in small if final[k][i] == 0.0) for k in runs}
    # Over the last ``tail`` steps: the largest |w| of a small-target weight, and its sign flips.
    last = runs["subgradient"][-tail:]
    chatter = max(abs(h[i]) for h in last for i in small)
    flips = sum(1 for h, h2 in zip(last, last[1:]) for i in small if h[i] * h2[i] < 0)
    zeros_hold = zeros["subgradient"] == len(small)
    return Result(
        problem=("Four weights with L(w) = 1/2 sum (w_i - a_i)^2 plus an L1 penalty lam sum |w_i| "
                 f"(lam = {lam:g}, learning rate {lr:g}): what is one gradient step? Then "
                 f"{steps} steps toward targets {targets} with lam = {lam2:g}, lr = {lr2:g}: do "
                 "the L1 weights with small targets become exactly 0, where L2 only shrinks "
                 "them? Sub-gradient steps and proximal (soft-threshold) steps side by side."),
        seed_says="w := w - eta sign(w) - dL/dw; the constant pull makes many weights zero",
        engine_says=(f"w := w - eta (dL/dw + lam sign(w)); after {steps} sub-gradient steps "
                     f"{zeros['subgradient']} of {len(small)} small-target weights are 0 "
                     f"(|w| <= {chatter:.3g}, {flips} sign flips in the last {tail} steps); "
                     f"proximal steps: {zeros['proximal']} of {len(small)} are exactly 0"),
        verdict=judge(rule_holds and zeros_hold),
        note=("The learning rate multiplies the whole gradient, data term included: "
              "w - eta (dL/dw + lam sign(w)); the seed's rule leaves eta off dL/dw (and takes "
              "lam = 1). The sparsity argument does not hold for the rule as written: a weight "
              "whose target is inside [-lam, lam] is pulled to 0 by eta*lam per step, crosses "
              "it and chatters within eta (lam + |dL/dw|) of 0 without reaching it. Exact zeros "
              "come from the proximal step (optim.SGD(l1_step='proximal'): a soft threshold "
              "sign(w) max(|w| - eta lam, 0) after the data step), which lands on the minimiser "
              "sign(a) max(|a| - lam, 0). L2 stops at a / (1 + lam), never 0."),
        values={"w0": w0, "a": a, "step": step, "seed_step": seed_step, "lr": lr, "lam": lam,
                "grad_data": g_data, "grad_total": g_total,
                "err_seed_step": err_seed, "err_autodiff_step": err_autodiff,
                "rule_holds": rule_holds, "targets": targets,
                "lam_run": lam2, "lr_run": lr2, "steps": steps,
                "final_l1": final["subgradient"], "final_l1_proximal": final["proximal"],
                "final_l2": final["l2"], "exact_zeros": zeros, "small_targets": small,
                "chatter_max_abs": chatter, "chatter_sign_flips": flips, "tail": tail,
                "zeros_hold": zeros_hold},
        graph=total,
        extra={"w": w, "wrt": "w1", "lr": lr},
    )


def _input_noise(rng: random.Random, s: float) -> float:
    """One coordinate of delta ~ N(0, s^2 I)."""
    return rng.gauss(0, s)


@example("S4-Q3b", SEED, "Q3.b", "Input-noise injection as an L2 penalty (Monte Carlo)")
def input_noise() -> Result:
    """L'(w) = 1/(2n) sum_i (y_i - (x_i + delta_i) . w)^2, delta_i ~ N(0, s^2 I), averaged
    over antithetic pairs (delta, -delta): the term linear in delta cancels within a pair,
    which leaves the mean unchanged and removes most of the spread."""
    n, d, s = 4, 2, 0.5
    pairs = 1000
    xs, ys = _regression_data(n, d, seed=46)
    rng = random.Random(460)
    w = [Value(rng.uniform(-1.5, 1.5), f"w{j + 1}") for j in range(d)]

    def loss(inputs) -> Value:
        yhat = [nested.total([wj * xj for wj, xj in zip(w, x)]) for x in inputs]
        return nested.total([(y - yh) ** 2 for yh, y in zip(yhat, ys)]) / (2 * n)

    mc_rng = random.Random(461)
    total = total_sq = 0.0
    for _ in range(pairs):
        delta = [[_input_noise(mc_rng, s) for _ in x] for x in xs]
        plus = loss([[a + b for a, b in zip(x, dx)] for x, dx in zip(xs, delta)]).data
        minus = loss([[a - b for a, b in zip(x, dx)] for x, dx in zip(xs, delta)]).data
        v = (plus + minus) / 2
        total += v
        total_sq += v * v
    mean = total / pairs
    se = math.sqrt((total_sq / pairs - mean * mean) / (pairs - 1))
    clean_graph = _half_mse_no_bias(xs, ys, w)
    clean = clean_graph.data
    norm2 = sum(wj.data ** 2 for wj in w)
    seed_value = clean + s ** 2 * norm2
    half_value = clean + s ** 2 * norm2 / 2
    # The step-through: the measured penalty as a multiple of s^2 ||w||^2 (the seed: 1).
    mc = Value(mean, "E_mc[L']")
    sv = Value(s, "s")
    norm = nested.total([wj ** 2 for wj in w])
    norm.label = "norm2"
    excess = mc - clean_graph
    excess.label = "penalty"
    ratio = excess / (sv ** 2 * norm)
    ratio.label = "penalty/(s^2 norm2)"
    return Result(
        problem=(f"Linear regression without bias on {n} seeded examples, d = {d}, at fixed "
                 f"w; every input gets Gaussian noise of standard deviation s = {s:g}. Is the "
                 "expected noisy loss E[L'(w)] equal to L(w) + s^2 ||w||^2, as the sheet's box "
                 f"says? Monte Carlo over {pairs} antithetic pairs of noise draws."),
        seed_says="E[L'(w)] = L(w) + s^2 ||w||^2",
        engine_says=(f"E[L'(w)] = {mean:.4f} +- {se:.4f} = L(w) + {ratio.data:.3f} s^2 ||w||^2 "
                     f"(seed: {seed_value:.4f}, half the penalty: {half_value:.4f})"),
        verdict=judge(abs(mean - seed_value) <= 4 * se),
        note=("The 1/(2n) in front of sum_i E[(delta_i . w)^2] = n s^2 ||w||^2 leaves "
              "s^2 ||w||^2 / 2, not s^2 ||w||^2. Monte Carlo: "
              f"{pairs} pairs (delta, -delta), {2 * pairs} noisy losses."),
        values={"monte_carlo": mean, "standard_error": se, "clean_loss": clean,
                "seed_value": seed_value, "half_penalty_value": half_value, "s": s,
                "norm2": norm2, "samples": 2 * pairs, "pairs": pairs,
                "penalty_ratio": ratio.data, "w": [wj.data for wj in w]},
        graph=ratio,
    )


def _half_mse_no_bias(xs, ys, w) -> Value:
    """L(w) = 1/(2n) sum_i (y_i - w . x_i)^2 with yhat[i], x[i,j], y[i] and L named."""
    n = len(xs)
    X, Y = _named_data(xs, ys)
    yhat = [nested.total([wj * xj for wj, xj in zip(w, x)]) for x in X]
    for i, yh in enumerate(yhat):
        yh.label = f"yhat[{i + 1}]"
    out = nested.total([(y - yh) ** 2 for yh, y in zip(yhat, Y)]) / (2 * n)
    out.label = "L"
    return out


@example("S4-Q3c", SEED, "3 (jim)", "Batch-norm statistics get noisier as the batch shrinks")
def batch_statistics() -> Result:
    """Batch mean and (biased) variance, as ``nn.BatchNorm1d`` computes them in training, over
    ``batches`` batches of each size drawn from N(mu, s^2)."""
    mu, s = 1.0, 2.0
    sizes, batches = [4, 8, 16, 32, 64], 250
    rng = random.Random(47)
    sd_mean, sd_var = [], []
    for size in sizes:
        means, variances = [], []
        for _ in range(batches):
            # momentum=1: the running statistics are this batch's (variance unbiased).
            layer = nn.BatchNorm1d(1, momentum=1.0)
            layer([[rng.gauss(mu, s)] for _ in range(size)])
            means.append(layer.running_mean[0])
            variances.append(layer.running_var[0] * (size - 1) / size)
        sd_mean.append(_sd(means))
        sd_var.append(_sd(variances))
    shrinking = all(a > b for a, b in zip(sd_mean, sd_mean[1:])) and \
        all(a > b for a, b in zip(sd_var, sd_var[1:]))
    return Result(
        problem=(f"Draw {batches} batches of each size B = " + ", ".join(map(str, sizes))
                 + f" from N({mu:g}, {s:g}^2) and let nn.BatchNorm1d compute each batch's "
                 "mean and variance. Does their spread from batch to batch grow as the batch "
                 "shrinks, as the sheet's answer (3, jim) says?"),
        seed_says="small batches give noisy batch-norm mean and variance",
        engine_says=(f"sd of the batch mean {sd_mean[0]:.2f} (B={sizes[0]}) -> "
                     f"{sd_mean[-1]:.2f} (B={sizes[-1]})"),
        verdict=judge(shrinking),
        note=(f"Monte Carlo: {batches} batches per size from N({mu:g}, {s:g}^2); the batch "
              "mean's spread falls like s/sqrt(B)."),
        values={"sizes": sizes, "batches": batches, "sd_batch_mean": sd_mean,
                "sd_batch_var": sd_var, "mu": mu, "s": s},
    )


def _sd(xs: list) -> float:
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _adam_graph(gs: list, theta0: float, lr: float, b1: float, b2: float, eps: float) -> tuple:
    """Adam's first steps written as a graph of named nodes: m[t], v[t], m_hat[t], v_hat[t],
    step[t] and theta[t], from m[0] = v[0] = 0, for the gradients ``gs`` (given values)."""
    beta1, beta2 = Value(b1, "beta1"), Value(b2, "beta2")
    rate, tiny = Value(lr, "lr"), Value(eps, "eps")
    theta = Value(theta0, "theta[0]")
    m = Value(0.0, "m[0]")
    v = Value(0.0, "v[0]")
    nodes: dict = {}
    for t, g_t in enumerate(gs, start=1):
        g = Value(g_t, f"g[{t}]")
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        step = rate * m_hat / (v_hat ** 0.5 + tiny)
        theta = theta - step
        for name, node in (("m", m), ("v", v), ("m_hat", m_hat), ("v_hat", v_hat),
                           ("step", step), ("theta", theta)):
            node.label = f"{name}[{t}]"
            nodes.setdefault(name, []).append(node.data)
    return theta, nodes


@example("S4-Q3d", SEED, "Q3.d", "Adam's first moment: geometric sum and bias correction")
def adam_first_moment() -> Result:
    b1, t_max = 0.9, 10
    rng = random.Random(48)
    gs = [rng.gauss(0.3, 1.0) for _ in range(t_max)]
    # Adam's recursion on a loss whose gradient at step t is gs[t-1]: L_t = g_t * theta.
    ms = _adam_moments(gs, b1)[0]
    unrolled = [(1 - b1) * sum(b1 ** (t - i) * gs[i - 1] for i in range(1, t + 1))
                for t in range(1, t_max + 1)]
    err_unrolled = nested.max_diff(ms, unrolled)
    # A constant gradient g: E[g] = g, so m_t is E[m_t] exactly.
    g = 0.7
    const, corrected = _adam_moments([g] * t_max, b1)
    factor = [m / g for m in const]
    # sum_i b1^(t-i) read off optim.Adam: m_t = (1 - b1) g sum_i b1^(t-i) for a constant g.
    t = 5
    geometric = const[t - 1] / ((1 - b1) * g)
    seed_geometric = b1 ** (t - 1) / (b1 - 1)
    geometric_holds = abs(geometric - seed_geometric) <= TOL
    # The sheet's conclusion, E[m_t] = (1 - b1^t) E[g], against the engine's m_t / g.
    err_factor = nested.max_diff(factor, [1 - b1 ** k for k in range(1, t_max + 1)])
    conclusion_holds = err_factor <= TOL
    # How far 1 - b1^t is from 1, early and late (the sheet's sentence on large t).
    late = _adam_moments([g] * 100, b1)[0]
    one_minus = {k: late[k - 1] / g for k in (1, 2, 10, 50, 100)}
    theta_2, steps = _adam_graph(gs[:2], 0.0, 0.01, b1, 0.999, 1e-8)
    return Result(
        problem=("Adam's first moment m_t = b1 m_(t-1) + (1 - b1) g_t from m_0 = 0, b1 = 0.9, "
                 f"on {t_max} seeded gradients and on a constant one: does m_t unroll to "
                 "(1 - b1) sum_i b1^(t-i) g_i, what is that geometric sum, and does dividing by "
                 "1 - b1^t remove the bias toward 0?"),
        seed_says="sum_i b1^(t-i) = b1^(t-1)/(b1 - 1); E[m_t] = (1 - b1^t) E[g]",
        engine_says=(f"m_t / g = 1 - b1^t; at t={t} the sum is {geometric:.4f}, the seed's "
                     f"expression {seed_geometric:.4f}; 1 - b1^t = " + ", ".join(
                         f"{v:.3g} (t={k})" for k, v in one_minus.items())),
        verdict=judge(geometric_holds and conclusion_holds and err_unrolled <= TOL),
        note=("The geometric sum is (1 - b1^t)/(1 - b1), not b1^(t-1)/(b1 - 1); with it "
              "E[m_t] = (1 - b1^t) E[g] and m_t/(1 - b1^t) is unbiased, as the seed concludes. "
              "The sheet's sentence on 1 - b1^t is garbled; as it reads, 1 - b1^t goes to 0 "
              "for large t. It does so for small t (early steps, b1 near 1) and goes to 1 for "
              "large t, where the correction no longer matters. The step-through shows "
              "optim.Adam's two first steps on two of the gradients (lr 0.01, b2 0.999)."),
        values={"m": ms, "unrolled": unrolled, "err_unrolled": err_unrolled,
                "const_g": g, "m_const": const, "factor": factor, "m_hat_const": corrected,
                "err_factor": err_factor, "geometric_holds": geometric_holds,
                "conclusion_holds": conclusion_holds, "beta1": b1, "t": t,
                "geometric_sum": geometric,
                "seed_geometric_sum": seed_geometric, "grads": gs,
                "one_minus_beta1_t": one_minus, "adam_steps": steps},
        graph=theta_2,
    )


def _adam_moments(gs: list, b1: float) -> tuple:
    """``optim.Adam``'s first moment m_t and its bias-corrected m_hat after each step on the
    losses g_t * theta (whose gradient is g_t)."""
    theta = Value(0.0, "theta")
    opt = optim.Adam([theta], lr=0.01, betas=(b1, 0.999))
    ms, m_hats = [], []
    for g in gs:
        opt.zero_grad()
        (theta * g).backward()
        opt.step()
        ms.append(opt.m[0])
        m_hats.append(opt.m_hat[0])
    return ms, m_hats


# ---- Q4: zero initialisation -------------------------------------------------------------------

@example("S4-Q4a", SEED, "4 (alef)", "All-zero sigmoid network: output 0.5; one update")
def zero_init_sigmoid() -> Result:
    """Logistic regression p = sigmoid(w . x + b) from w = b = 0; one gradient step on the
    mean binary cross-entropy, for two data sets; and a 3-2-1 sigmoid network from zero."""
    lr = 0.5
    rng = random.Random(49)
    outputs: list = []
    signs: list = []
    for flip in (1.0, -1.0):
        xs = [[rng.uniform(0, 1), rng.uniform(-1, 0)] for _ in range(6)]
        ys = [1.0 if k % 3 else 0.0 for k in range(6)]
        xs = [[flip * v for v in x] for x in xs]
        model = nn.Sequential(nn.Linear(2, 1, init="zeros"), nn.Sigmoid())
        ps = [out[0] for out in model(xs)]
        outputs.extend(p.data for p in ps)
        F.binary_cross_entropy(ps, ys).backward()
        w = model[0].weight[0]
        records = optim.SGD(w, lr=lr).step()
        signs.append([math.copysign(1.0, r.new) if r.new else 0.0 for r in records])
    # Two layers: 3 inputs, 2 sigmoid hidden units, all weights and biases zero.
    x, y = [0.3, -1.2, 0.8], 1.0

    def zeros(nout: int, nin: int, n: int):
        """Layer n from zero weights, named W1[k,j], b1[k] / W2[k,j], b2[k] so the two
        layers' names differ."""
        return nn.Linear.from_weights([[0.0] * nin for _ in range(nout)], [0.0] * nout,
                                      w_labels=lambda k, j: f"W{n}[{k},{j}]",
                                      b_labels=lambda k: f"b{n}[{k}]")
    net = nn.Sequential(zeros(2, 3, 1), nn.Sigmoid(), zeros(1, 2, 2), nn.Sigmoid())
    xv = [Value(v, label=f"x[{j + 1}]") for j, v in enumerate(x)]
    h = net[1](net[0](xv))
    for k, hk in enumerate(h):
        hk.label = f"h[{k + 1}]"
    p = net[3](net[2](h))[0]
    p.label = "p"
    loss2 = F.binary_cross_entropy([p], [y])
    loss2.label = "L"
    g_hidden = _grads(loss2, [v for row in net[0].weight for v in row])
    g_out = _grads(loss2, net[2].weight[0])
    return Result(
        problem=("Logistic regression p = sigmoid(w . x + b) on 6 examples with every weight and "
                 "the bias 0, on two data sets, and a 3-2-1 sigmoid network with all weights "
                 f"and biases 0: what is the output, and after one gradient step (lr {lr:g}) on "
                 "the cross-entropy, are the weights' signs fixed or do they depend on the data?"),
        seed_says="output 0.5; after one update weights may be positive or negative",
        engine_says=(f"output {outputs[0]}; update signs {signs[0]} on one data set, "
                     f"{signs[1]} on another"),
        verdict=judge(all(o == 0.5 for o in outputs) and signs[0] != signs[1]),
        note=("The first update is -lr * mean((0.5 - y) x), so its signs depend on the data. "
              "With a hidden layer, the hidden weights get zero gradient (the output weights "
              "are zero) and every output weight gets the same one: symmetry is never broken."),
        values={"outputs": outputs, "signs": signs, "two_layer_output": p.data,
                "hidden_weight_grads": g_hidden, "output_weight_grads": g_out},
        graph=loss2, extra={"wrt": "W2[1,1]", "lr": lr},
    )


def _word2vec(x: list, W: list, Wp: list, m: int) -> tuple:
    """h = W^T x (W: d x H), u = W'^T h (W': H x d), L = cross-entropy(softmax(u), m), with
    h1.., u1.., L named: h_j = sum_k W_kj x_k, u_k = sum_j W'_jk h_j."""
    d, H = len(W), len(W[0])
    h = [nested.total([W[k][j] * x[k] for k in range(d)]) for j in range(H)]
    u = [nested.total([Wp[j][k] * h[j] for j in range(H)]) for k in range(len(Wp[0]))]
    for name, vs in (("h", h), ("u", u)):
        for i, v in enumerate(vs):
            v.label = f"{name}{i + 1}"
    loss = F.cross_entropy(u, m)
    loss.label = "L"
    return h, u, loss


def _seed_partials(x: list, W: list, Wp: list, du: list) -> tuple:
    """The sheet's Q4.b partials, as written: dL/dW'_ij = dL/du_j sum_k W_ik x_k and
    dL/dW_ij = sum_k dL/du_k W'_jk x_i. W_ik needs W square (d = H) to be read at all."""
    d, H = len(W), len(W[0])
    dWp = [[du[j] * sum(W[i][k] * x[k] for k in range(d)) for j in range(d)] for i in range(H)]
    dW = [[sum(du[k] * Wp[j][k] * x[i] for k in range(d)) for j in range(H)] for i in range(d)]
    return dWp, dW


@example("S4-Q4b", SEED, "Q4.b", "Zero-initialised linear + softmax model: each gradient")
def zero_init_softmax() -> Result:
    """h = W^T x (W: d x H), u = W'^T h (W': H x d), L = cross-entropy(softmax(u), m), at zero
    weights (the sheet's case) and at random ones, where the index slip shows."""
    d, H, m = 5, 3, 2
    x = [0.0] * d
    x[1] = 1.0                                           # a one-hot input word
    W = [[Value(0.0, f"W{i + 1}{j + 1}") for j in range(H)] for i in range(d)]
    Wp = [[Value(0.0, f"W'{j + 1}{k + 1}") for k in range(d)] for j in range(H)]
    _, u, loss = _word2vec(x, W, Wp, m)
    du = _grads(loss, u)
    dW = [_grads(loss, row) for row in W]
    dWp = [_grads(loss, row) for row in Wp]
    seed_du_formula = [1.0 / d - (1.0 if j == m else 0.0) for j in range(d)]
    du_zero = max(abs(g) for g in du) <= TOL                  # the sheet's "= 0"
    # Random non-zero weights, d = H = 4 so the sheet's W_ik can be read as written.
    rng = random.Random(410)
    ds = 4
    xr = nested.random_like(rng, ds)
    Wr = nested.values(nested.random_like(rng, ds, ds))
    Wpr = nested.values(nested.random_like(rng, ds, ds))
    _, ur, lr_ = _word2vec(xr, Wr, Wpr, 1)
    dur = _grads(lr_, ur)
    e = [math.exp(v.data) for v in ur]
    err_du_formula = nested.max_diff(
        [v / sum(e) - (1.0 if j == 1 else 0.0) for j, v in enumerate(e)], dur)
    auto_dWp = [_grads(lr_, row) for row in Wpr]
    auto_dW = [_grads(lr_, row) for row in Wr]
    seed_dWp, seed_dW = _seed_partials(xr, nested.data_of(Wr), nested.data_of(Wpr), dur)
    fixed_dWp = [[dur[j] * sum(Wr[k][i].data * xr[k] for k in range(ds)) for j in range(ds)]
                 for i in range(ds)]                      # W_ki: h_i = sum_k W_ki x_k
    err_dWp_seed = nested.max_diff(seed_dWp, auto_dWp)
    err_dWp_fixed = nested.max_diff(fixed_dWp, auto_dWp)
    err_dW_seed = nested.max_diff(seed_dW, auto_dW)
    return Result(
        problem=(f"A word2vec-like model: one-hot x of size d = {d}, h = W^T x with W d x H "
                 f"(H = {H}), scores u = W'^T h, softmax cross-entropy for the word m = {m + 1}. "
                 "With every weight 0, what are dL/du, dL/dW' and dL/dW? And do the sheet's "
                 "partial-derivative formulas hold at random non-zero weights (d = H = 4)?"),
        seed_says=("dL/du_j = yhat_j - I{j=m} = 0; dL/dW'_ij = dL/du_j sum_k W_ik x_k = 0; "
                   "dL/dW_ij = sum_k dL/du_k W'_jk x_i = 0"),
        engine_says=(f"dL/du = {[round(g, 3) for g in du]}; dL/dW' = 0; dL/dW = 0; at random "
                     f"weights the dL/dW' formula is off by {err_dWp_seed:.2f} (with W_ki: "
                     f"{err_dWp_fixed:.0e}), dL/dW's by {err_dW_seed:.0e}"),
        verdict=judge(du_zero and err_dWp_seed <= TOL and err_dW_seed <= TOL),
        note=("At zero weights u = 0 and yhat = 1/d, so dL/du_j = 1/d - I{j=m}, not 0; the "
              "weight gradients are exactly 0 anyway (h = 0 and W' = 0), so gradient descent "
              "never leaves zero. At zero weights every partial vanishes, which hides an index "
              "slip: du_j/dW'_ij = h_i = sum_k W_ki x_k (W is d x H), not sum_k W_ik x_k; the "
              "sheet's dL/dW formula, W'_jk x_i, is right (the two formulas assume different "
              "layouts: W_ik would fit h = W x). yhat_j - I{j=m} holds at random "
              f"weights too (difference {err_du_formula:.0e})."),
        values={"du": du, "seed_du_formula": seed_du_formula,
                "err_du_formula_zero": nested.max_diff(seed_du_formula, du),
                "err_du_formula_random": err_du_formula, "dW": dW, "dWp": dWp,
                "max_abs_dW": max(abs(g) for row in dW for g in row),
                "max_abs_dWp": max(abs(g) for row in dWp for g in row),
                "du_zero": du_zero, "random_x": xr, "random_W": nested.data_of(Wr),
                "random_Wp": nested.data_of(Wpr), "random_dW": auto_dW, "random_dWp": auto_dWp,
                "err_dWp_seed": err_dWp_seed, "err_dWp_fixed": err_dWp_fixed,
                "err_dW_seed": err_dW_seed},
        graph=loss, extra={"wrt": "W'11"},
    )


# ---- Xavier / LeCun initialisation -------------------------------------------------------------

def _layer_gains(act, networks: int, rng: random.Random, width: int = 6, layers: int = 6,
                 var_x: float = 1.0, scale: float = 1.0, relu_gain: float = 1.0) -> dict:
    """Random bias-free networks y = g(z), z = W y_prev, W ~ N(0, scale / width) (times
    ``relu_gain`` on a layer fed by a ReLU: 2 is He's init), x ~ N(0, var_x).

    Returns, per layer, ``gain``: Var(z_l) / Var(z_(l-1)) (z_0 = x) as sum z_l^2 / sum
    z_(l-1)^2 in one network averaged over networks, ``gain_se`` its standard error,
    ``var``: Var(z_l) as the plain mean of z_l^2 over units and networks, ``var_se``, and
    ``var_by_gains``: Var(x) times the product of the gains so far. A network whose units a
    ReLU has all switched off drops out of the later layers' gains (0/0 there).

    The plain mean of z_l^2 is carried by a few networks at depth 6 when g is linear or ReLU
    (a product of six chi-square factors); there the gains are scale-free (each network's
    gain has the same law whatever its input's size), so their product estimates Var(z_l)
    with far less noise. For tanh the gain depends on the size and the plain mean is the
    estimate (tanh's outputs are bounded, so a hundred networks suffice)."""
    gains: list = [[] for _ in range(layers)]
    squares: list = [[] for _ in range(layers)]
    for _ in range(networks):
        y = [Value(rng.gauss(0, math.sqrt(var_x))) for _ in range(width)]
        before = sum(v.data ** 2 for v in y)
        for layer in range(layers):
            gain = relu_gain if layer and act is nn.ReLU else 1.0
            std = math.sqrt(scale * gain / width)
            W = [[rng.gauss(0, std) for _ in range(width)] for _ in range(width)]
            z = nn.Linear.from_weights(W)(y)
            after = sum(v.data ** 2 for v in z)
            squares[layer].append(after / width)
            if before:
                gains[layer].append(after / before)
            before = after
            y = act()(z)
    out = {"gain": [sum(r) / len(r) for r in gains],
           "gain_se": [_sd(r) / math.sqrt(len(r)) for r in gains],
           "var": [sum(r) / len(r) for r in squares],
           "var_se": [_sd(r) / math.sqrt(len(r)) for r in squares]}
    out["var_by_gains"] = [var_x * math.prod(out["gain"][:k + 1]) for k in range(layers)]
    return out


def _unit_graph(rng: random.Random, n: int = 4) -> Value:
    """One tanh unit of a layer of fan-in n, named as the sheet writes it: z = w1 x1 + ... +
    wN xN (b = 0), y = g(z), with w ~ N(0, 1/n) and x ~ N(0, 1)."""
    x = [Value(rng.gauss(0, 1), f"x{i + 1}") for i in range(n)]
    w = [Value(rng.gauss(0, math.sqrt(1 / n)), f"w{i + 1}") for i in range(n)]
    z = nested.total([wi * xi for wi, xi in zip(w, x)])
    z.label = "z"
    y = z.tanh()
    y.label = "y"
    return y


def _fan_variance(name: str, fan_in: int, fan_out: int, count: int, rng) -> tuple:
    """Var(z) of one bias-free ``nn.Linear(fan_in, fan_out, init=name)`` on x ~ N(0, I)."""
    per = []
    for _ in range(count):
        z = nn.Linear(fan_in, fan_out, bias=False, init=name, rng=rng)(
            [Value(rng.gauss(0, 1)) for _ in range(fan_in)])
        per.append(sum(v.data ** 2 for v in z) / len(z))
    return sum(per) / len(per), _sd(per) / math.sqrt(len(per))


@example("S4-Xavier", SEED, "last part", "Var(w) = 1/N keeps Var(z) = Var(x) layer after layer")
def variance_preserving_init() -> Result:
    """Bias-free layers of width N, y = g(z), z = W y_prev, W ~ N(0, 1/N), x ~ N(0, 1), for
    g = identity, tanh, ReLU (and ReLU with He's 2/N); the gain Var(z_l) / Var(z_(l-1)) of
    each layer over random networks."""
    width, layers, networks, linear_networks = 6, 6, 100, 250
    rng = random.Random(410)
    kinds = {"identity": (nn.Identity, {}), "tanh": (nn.Tanh, {}), "relu": (nn.ReLU, {}),
             "relu_he": (nn.ReLU, {"relu_gain": 2.0}),
             "tanh_small_x": (nn.Tanh, {"var_x": 0.01})}
    # More networks for identity: it is the g for which the claim holds, and Var(z_6) is
    # the product of six noisy gains.
    runs = {kind: _layer_gains(act, linear_networks if kind == "identity" else networks, rng,
                               width, layers, **opts)
            for kind, (act, opts) in kinds.items()}
    gains = {k: r["gain"] for k, r in runs.items()}
    se = {k: r["gain_se"] for k, r in runs.items()}
    # Kept: every layer's gain within 4 standard errors of 1.
    kept = {k: all(abs(g - 1) <= 4 * e for g, e in zip(gains[k], se[k])) for k in kinds}
    sheet = ("identity", "tanh", "relu")          # the g tried with the sheet's 1/N
    tanh_var = runs["tanh"]["var"]
    # Linear contrasts: 2/N and 1/(2N) double and halve Var(z) per layer.
    contrast, fan_draws = 30, 60
    var_2 = _layer_gains(nn.Identity, contrast, rng, width, layers, scale=2.0)["var_by_gains"]
    var_half = _layer_gains(nn.Identity, contrast, rng, width, layers,
                            scale=0.5)["var_by_gains"]
    # Fan-in 8, fan-out 24: LeCun (1/fan_in) against Glorot/Xavier (2/(fan_in + fan_out)).
    fans = {name: _fan_variance(name, 8, 24, fan_draws, rng)
            for name in ("lecun_normal", "xavier_normal")}
    names = {"identity": "identity", "tanh": "tanh", "relu": "ReLU", "relu_he": "ReLU, He 2/N"}
    return Result(
        problem=(f"Stack {layers} bias-free layers of width N = {width}, y = g(z), "
                 "z = w1 x1 + ... + wN xN, weights from N(0, 1/N), inputs from N(0, 1), for "
                 "g = identity, tanh and ReLU. Does Var(z) stay equal to Var(x) layer after "
                 "layer (gain Var(z_l) / Var(z_(l-1)) = 1), as the sheet's last part says, and "
                 "what is this initialisation called?"),
        seed_says="Var(w) = 1/N keeps Var(z) = Var(x) through the layers; called Xavier init",
        engine_says=("gain per layer, 1-6: " + "; ".join(
            f"{names[k]} " + ", ".join(f"{g:.2f}" for g in gains[k]) for k in names)
            + "; Var(z) under tanh " + ", ".join(f"{v:.2f}" for v in tanh_var)
            + "; identity Var(z_6) " + f"{runs['identity']['var_by_gains'][-1]:.2f}"),
        verdict=judge(all(kept[k] for k in sheet)),
        note=("Var(z) = N Var(w) Var(x) needs zero-mean, independent w and x; it holds at the "
              "first layer for every g (its input is x) and through every layer only for "
              "g = identity. tanh shrinks the signal (E[tanh(z)^2] < Var(z)): Var(z) falls "
              f"{tanh_var[0]:.2f} -> {tanh_var[-1]:.2f} over {layers} layers; with inputs "
              "near 0 (Var(x) = 0.01) tanh is nearly linear and its gains stay near 1 ("
              + ", ".join(f"{g:.2f}" for g in gains["tanh_small_x"]) + "). ReLU halves "
              "Var(z) at every layer it feeds (E[relu(z)^2] = Var(z)/2); He's Var(w) = 2/N "
              "there keeps it. Var(w) = 1/fan_in is LeCun initialisation "
              "(init.lecun_normal); Glorot/Xavier's is 2/(fan_in + fan_out), the same only "
              f"when fan_in = fan_out (8 -> 24: Var(z) {fans['lecun_normal'][0]:.2f} against "
              f"{fans['xavier_normal'][0]:.2f}); the sheet follows the usage that calls 1/N "
              f"Xavier. Monte Carlo: {networks} networks per g ({linear_networks} for identity, "
              f"{contrast} for the linear 2/N "
              f"and 1/(2N) contrasts, {fan_draws} draws of an 8 -> 24 layer per init); kept = "
              "every layer's gain within 4 standard errors of 1."),
        values={"var": runs["identity"]["var_by_gains"], "gains": gains, "gain_se": se,
                "var_tanh": tanh_var, "var_tanh_se": runs["tanh"]["var_se"],
                "var_by_gains": {k: r["var_by_gains"] for k, r in runs.items()},
                "kept": kept, "var_2_over_N": var_2, "var_half_over_N": var_half,
                "N": width, "layers": layers, "networks": networks,
                "identity_networks": linear_networks,
                "contrast_networks": contrast, "fan_draws": fan_draws,
                "var_fan_8_to_24_lecun": fans["lecun_normal"][0],
                "var_fan_8_to_24_xavier": fans["xavier_normal"][0],
                "se_fan_8_to_24_lecun": fans["lecun_normal"][1],
                "se_fan_8_to_24_xavier": fans["xavier_normal"][1]},
        graph=_unit_graph(random.Random(411)),
    )
