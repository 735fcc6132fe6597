"""Worked examples of seed 002 (``002_8bcde06e66854de4.txt``): backpropagation through a
sigmoid network, ReLU and swish, convolution shapes and receptive fields, a mixture of
logistic regressions, cross-entropy and KL divergence, one gradient-descent step.

Every number is computed with the engine; the seed's stated answers are kept as short strings
(and, where the seed gives numbers or formulas, as constants or transcribed formulas) only to be
compared with what the engine finds.
"""
from __future__ import annotations

import math
import random
from typing import Callable, Sequence

from ..checks import analytic_hessian, numerical_hessian, one_sided
from ..engine import Value, grad, scope, topological_order
from .base import Result, example

__all__: list[str] = []  # examples register themselves in EXAMPLES; nothing to import by name

SEED = "002_8bcde06e66854de4.txt"


# ---- small helpers over Values ------------------------------------------------------------------

def _sum(xs: Sequence) -> Value:
    """Sum starting from the first term (no extra ``Value(0)`` node)."""
    it = iter(xs)
    total = next(it)
    for x in it:
        total = total + x
    return total


def _dot(ws: Sequence, xs: Sequence) -> Value:
    return _sum([w * x for w, x in zip(ws, xs)])


def _matrix(rng: random.Random, rows: int, cols: int, name: str) -> list:
    return [[Value(rng.uniform(-1.0, 1.0), f"{name}[{i + 1},{j + 1}]") for j in range(cols)]
            for i in range(rows)]


def _vector(rng: random.Random, size: int, name: str) -> list:
    return [Value(rng.uniform(-1.0, 1.0), f"{name}[{i + 1}]") for i in range(size)]


def _data(xs):
    """Floats of a (nested) list of Values."""
    if isinstance(xs, Value):
        return xs.data
    return [_data(x) for x in xs]


def _max_abs_diff(a, b) -> float:
    if isinstance(a, (int, float)):
        return abs(a - b)
    return max(_max_abs_diff(x, y) for x, y in zip(a, b))


def _fmt(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}g}"


# ---- Q1: the three-layer sigmoid network ------------------------------------------------------

def _sigmoid_net(n: int, m: int, r: int, s: int, seed: int = 2) -> dict:
    """h = W1 x + b1, a = sigmoid(W2 h + b2), o = W3 a + b3, L = 1/2 sum (o - y)^2, built from
    Values on seeded random numbers. Returns every named node by name."""
    rng = random.Random(seed)
    x = [Value(rng.uniform(-1.0, 1.0), f"x[{i + 1}]") for i in range(n)]
    y = [rng.uniform(-1.0, 1.0) for _ in range(s)]
    W1, b1 = _matrix(rng, m, n, "W1"), _vector(rng, m, "b1")
    W2, b2 = _matrix(rng, r, m, "W2"), _vector(rng, r, "b2")
    W3, b3 = _matrix(rng, s, r, "W3"), _vector(rng, s, "b3")
    with scope("layer1"):
        h = [_dot(W1[i], x) + b1[i] for i in range(m)]
    with scope("layer2"):
        a = [(_dot(W2[i], h) + b2[i]).sigmoid() for i in range(r)]
    with scope("layer3"):
        o = [_dot(W3[i], a) + b3[i] for i in range(s)]
    with scope("loss"):
        diff = [o[k] - y[k] for k in range(s)]
        L = 0.5 * _sum([d ** 2 for d in diff])
    for name, vec in (("h", h), ("a", a), ("o", o)):
        for i, v in enumerate(vec):
            v.label = f"{name}[{i + 1}]"
    L.label = "L"
    return dict(x=x, y=y, W1=W1, b1=b1, W2=W2, b2=b2, W3=W3, b3=b3, h=h, a=a, o=o,
                diff=diff, L=L)


def _flat(net: dict, names: Sequence[str]) -> list:
    out = []
    for name in names:
        for item in net[name]:
            out.extend(item if isinstance(item, list) else [item])
    return out


def _reshape(flat: list, like) -> list:
    """Put the floats of ``flat`` back into the (nested) shape of ``like``."""
    it = iter(flat)
    return [[next(it) for _ in row] if isinstance(row, list) else next(it) for row in like]


PARAM_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def _autodiff_grads(net: dict) -> dict:
    """dL/d(every parameter), dL/da, dL/dh, dL/do by the engine, in the shapes of the nodes."""
    names = PARAM_NAMES + ("a", "h", "o")
    flat = grad(net["L"], _flat(net, names))
    out, k = {}, 0
    for name in names:
        size = len(_flat(net, [name]))
        out[name] = _reshape(flat[k:k + size], net[name])
        k += size
    return out


def _seed_q1_expressions(net: dict, dLdo: list, dLda_for_h: list | None = None) -> dict:
    """The seed's final expressions of Answer 1.1, transcribed as written, in terms of
    dL/do, h, a, x and the weights. Products are read in the only way the shapes allow
    (numerator layout: dL/do is a row, so the weight gradients come out transposed, e.g.
    ``a dL/do`` is r x s for the s x r matrix W3).

    ``dLda_for_h``: the dL/da fed into the seed's dL/dh line; by default the seed's own dL/da.
    """
    x, h, a = _data(net["x"]), _data(net["h"]), _data(net["a"])
    W2, W3 = _data(net["W2"]), _data(net["W3"])
    m, r, s = len(h), len(a), len(dLdo)
    sig = [ai * (1 - ai) for ai in a]                                  # a (1 - a)
    row = [sum(dLdo[k] * W3[k][i] for k in range(s)) for i in range(r)]  # dL/do . W3
    e = {}
    e["W3"] = [[a[j] * dLdo[i] for j in range(r)] for i in range(s)]    # a dL/do, transposed back
    e["b3"] = list(dLdo)                                                # dL/do
    e["W2"] = [[row[i] * h[j] * sig[i] for j in range(m)] for i in range(r)]  # dL/do W3 h a(1-a)
    e["b2"] = [row[i] * sig[i] for i in range(r)]                       # dL/do W3 a(1-a)
    e["a"] = [row[i] * sig[i] for i in range(r)]                        # W3 a(1-a) dL/do
    dLda = e["a"] if dLda_for_h is None else dLda_for_h
    e["h"] = [sum(W2[i][j] * sig[i] * dLda[i] for i in range(r)) for j in range(m)]  # W2 a(1-a) dL/da
    e["W1"] = [[e["h"][i] * x[j] for j in range(len(x))] for i in range(m)]  # x dL/dh
    e["b1"] = list(e["h"])                                              # dL/dh
    return e


Q1_ORDER = ("W3", "b3", "W2", "b2", "a", "h", "W1", "b1")


@example("S2-Q1.1", SEED, "Q1.1", "Backpropagation through h = W1 x + b1, a = sigmoid(W2 h + b2), "
         "o = W3 a + b3: each gradient expression against autodiff")
def q1_1_gradient_expressions() -> Result:
    net = _sigmoid_net(n=3, m=4, r=3, s=2)
    auto = _autodiff_grads(net)
    written = _seed_q1_expressions(net, auto["o"])
    # The seed's dL/dh line with the right dL/da in it: is the line itself right?
    fixed = _seed_q1_expressions(net, auto["o"], dLda_for_h=auto["a"])
    diff = {k: _max_abs_diff(written[k], auto[k]) for k in Q1_ORDER}
    diff_fixed = {k: _max_abs_diff(fixed[k], auto[k]) for k in ("h", "W1", "b1")}
    tol = 1e-12
    agrees = {k: diff[k] <= tol for k in Q1_ORDER}
    wrong = [k for k in Q1_ORDER if not agrees[k]]
    engine = ("as written, the expressions for " + ", ".join(k for k in Q1_ORDER if agrees[k])
              + " agree with autodiff; those for " + ", ".join(wrong) + " do not"
              if wrong else "every expression agrees with autodiff")
    values = {name: _data(net[name]) for name in ("x",) + PARAM_NAMES}
    values["y"] = list(net["y"])
    values.update({f"dL/d{k}": auto[k] for k in PARAM_NAMES + ("a", "h", "o")})
    values["seed_as_written"] = written
    values["max_abs_diff"] = diff
    values["max_abs_diff_with_right_dL/da"] = diff_fixed
    values["agrees"] = agrees
    return Result(
        seed_says="dL/dW3 = a dL/do, dL/db3 = dL/do, dL/dW2 = dL/do W3 h a(1-a), "
                  "dL/db2 = dL/do W3 a(1-a), dL/da = W3 a(1-a) dL/do, dL/dh = W2 a(1-a) dL/da, "
                  "dL/dW1 = x dL/dh, dL/db1 = dL/dh",
        engine_says=engine + "; dL/da = W3^T dL/do",
        verdict="erratum" if wrong else "confirmed",
        note="dL/da = W3^T dL/do has no a(1-a) factor: sigmoid' belongs to dL/dh only, so as "
             "written it is applied twice in dL/dh, dL/dW1, dL/db1 (with the right dL/da those "
             "lines are correct)",
        values=values, graph=net["L"],
        extra={"nodes": net, "params": _flat(net, PARAM_NAMES)})


def _kept_for_backward(net: dict) -> list:
    """Intermediate nodes whose stored forward value the backward pass reads: change one
    node's value after the forward pass and see whether any parameter gradient changes."""
    params = _flat(net, PARAM_NAMES)
    base = grad(net["L"], params)
    kept = []
    for node in topological_order(net["L"]):
        if node.is_leaf:
            continue  # parameters, the input x and constants are stored anyway
        saved = node.data
        node.data = saved + 0.5  # a measurement: put the forward value back right after
        try:
            moved = grad(net["L"], params)
        finally:
            node.data = saved
        if any(abs(p - q) > 1e-15 for p, q in zip(base, moved)):
            kept.append(node)
    return kept


@example("S2-Q1.2", SEED, "Q1.2", "Which forward values the backward pass needs, and the "
         "memory at 2 bytes a float")
def q1_2_memory() -> Result:
    sizes, counts, groups = [], [], []
    for n, m, r, s in ((3, 4, 3, 2), (2, 5, 3, 4)):
        net = _sigmoid_net(n, m, r, s)
        kept = set(_kept_for_backward(net))
        named = {"h": set(net["h"]), "a": set(net["a"]), "o - y": set(net["diff"])}
        group = {k: len(kept & v) for k, v in named.items()}
        group["other"] = len(kept - set().union(*named.values()))
        sizes.append({"n": n, "m": m, "r": r, "s": s})
        counts.append(len(kept))
        groups.append(group)
    seed_bytes = [2 * (z["m"] + z["r"] + z["s"]) for z in sizes]   # the seed's 2(m + r + s)
    engine_bytes = [2 * c for c in counts]
    ok = seed_bytes == engine_bytes and all(g["other"] == 0 for g in groups)
    return Result(
        seed_says="keep h, a and dL/do: 2(m + r + s) bytes",
        engine_says=f"the backward pass reads h (m), a (r) and o - y (s) values: "
                    f"{engine_bytes[0]} bytes for (m, r, s) = (4, 3, 2), "
                    f"{engine_bytes[1]} for (5, 3, 4)",
        verdict="confirmed" if ok else "erratum",
        note="measured by changing each stored forward value and watching the gradients; "
             "W2 h + b2 need not be kept since sigmoid' = a(1 - a); the s output values are "
             "what dL/do is made from (here o - y for the squared error)",
        values={"sizes": sizes, "kept": counts, "kept_by_name": groups,
                "engine_bytes": engine_bytes, "seed_bytes": seed_bytes})


# ---- Q1.3 - Q1.6: ReLU and swish ---------------------------------------------------------------

@example("S2-Q1.3", SEED, "Q1.3", "Left and right derivatives of ReLU at 0")
def q1_3_relu_one_sided() -> Result:
    (left, right), = one_sided(lambda x: x.relu(), [0.0])
    x = Value(0.0, "x")
    y = x.relu()
    y.label = "relu(x)"
    y.backward()
    at_kink = x.grad
    ok = abs(left - 0.0) < 1e-9 and abs(right - 1.0) < 1e-9
    return Result(
        seed_says="left 0, right 1; ReLU'(0) undefined",
        engine_says=f"left {_fmt(left)}, right {_fmt(right)}: no derivative at 0; the backward "
                    f"pass uses ReLU'(0) = {_fmt(at_kink)}",
        verdict="confirmed" if ok else "erratum",
        note="one-sided differences of second order; the engine's backward takes ReLU'(0) = 0 "
             "(PyTorch's convention; relu(kink=1.0) takes 1)",
        values={"left": left, "right": right, "backward_at_0": at_kink}, graph=y)


def _second_derivative(f: Callable[[Value], Value], x0: float) -> float:
    x = Value(x0)
    return grad(grad(f(x), x, create_graph=True), x)


SECOND_POINTS = (-2.0, -0.5, 0.0, 0.5, 2.0)


@example("S2-Q1.4", SEED, "Q1.4", "Second derivative of ReLU against swish")
def q1_4_second_derivatives() -> Result:
    relu2 = [_second_derivative(lambda v: v.relu(), x) for x in SECOND_POINTS]
    swish2 = [_second_derivative(lambda v: v.swish(), x) for x in SECOND_POINTS]
    swish2_fd = [numerical_hessian(lambda v: v.swish(), [x])[0][0] for x in SECOND_POINTS]
    # ReLU's second difference at 0 is 1/h: it grows without bound as h shrinks (a spike).
    steps = (1e-1, 1e-2, 1e-3)
    relu2_fd_at_0 = [numerical_hessian(lambda v: v.relu(), [0.0], h)[0][0] for h in steps]
    # A whole network: d2 out / dx2 of a one-hidden-layer net, ReLU against swish.
    rng = random.Random(4)
    w1 = [rng.uniform(-1, 1) for _ in range(6)]
    b1 = [rng.uniform(-1, 1) for _ in range(6)]
    w2 = [rng.uniform(-1, 1) for _ in range(6)]

    def net(act: str) -> Callable[[Value], Value]:
        return lambda x: _sum([w2[i] * getattr(w1[i] * x + b1[i], act)() for i in range(6)])

    net_points = (-1.3, 0.4, 1.7)
    relu_net2 = [_second_derivative(net("relu"), x) for x in net_points]
    swish_net2 = [_second_derivative(net("swish"), x) for x in net_points]
    x = Value(0.0, "x")
    d1 = grad(x.swish(), x, create_graph=True)
    d1.label = "swish'(x)"
    ok = (all(v == 0.0 for v in relu2) and all(v == 0.0 for v in relu_net2)
          and all(abs(v) > 1e-3 for v in swish2)
          and all(abs(a - b) < 1e-6 for a, b in zip(swish2, swish2_fd))
          and all(b > 5 * a for a, b in zip(relu2_fd_at_0, relu2_fd_at_0[1:])))
    return Result(
        seed_says="ReLU'' is 0 everywhere except at 0, where it is undefined: useless; "
                  "swish can be differentiated twice",
        engine_says=f"ReLU'' = 0 at {list(SECOND_POINTS)} (0 at the kink by convention), its "
                    f"second difference at 0 is {', '.join(_fmt(v) for v in relu2_fd_at_0)} for "
                    f"h = {', '.join(map(str, steps))}; swish''(0) = {_fmt(swish2[2])}",
        verdict="confirmed" if ok else "erratum",
        note="second derivatives by differentiating the gradient graph; at x = 0 ReLU'' is a "
             "spike of 1/h in finite differences, taken as 0 by the engine",
        values={"points": list(SECOND_POINTS), "relu2": relu2, "swish2": swish2,
                "swish2_numerical": swish2_fd, "relu2_fd_steps": list(steps),
                "relu2_fd_at_0": relu2_fd_at_0, "net_points": list(net_points),
                "relu_net2": relu_net2, "swish_net2": swish_net2,
                "net_weights": {"w1": w1, "b1": b1, "w2": w2}},
        graph=d1)


@example("S2-Q1.5", SEED, "Q1.5", "Swish x sigmoid(beta x) as beta -> 0 and beta -> infinity")
def q1_5_swish_limits() -> Result:
    rng = random.Random(5)
    xs = [rng.uniform(-3.0, 3.0) for _ in range(20)] + [0.0]
    seed_small = lambda x: 0.5 * x                      # the seed's limit for beta -> 0
    seed_large = lambda x: x if x > 0 else 0.0          # the seed's limit for beta -> infinity
    small_betas = (1e-1, 1e-2, 1e-4, 1e-6)
    large_betas = (1e1, 1e2, 1e3, 1e4)

    def gap(beta: float, limit: Callable[[float], float]) -> float:
        return max(abs(Value(x).swish(beta).data - limit(x)) for x in xs)

    small = [gap(b, seed_small) for b in small_betas]
    large = [gap(b, seed_large) for b in large_betas]
    shrinking = all(b < a for a, b in zip(small, small[1:])) and \
        all(b < a for a, b in zip(large, large[1:]))
    ok = shrinking and small[-1] < 1e-5 and large[-1] < 1e-3
    x = Value(1.5, "x")
    g = x.swish(1e-6)
    g.label = "swish(x)"
    return Result(
        seed_says="beta -> 0: x/2; beta -> infinity: x for x > 0, 0 for x <= 0 (ReLU)",
        engine_says=f"max |swish - x/2| = {', '.join(_fmt(v, 2) for v in small)} for beta = "
                    f"{', '.join(map(str, small_betas))}; max |swish - ReLU| = "
                    f"{', '.join(_fmt(v, 2) for v in large)} for beta = "
                    f"{', '.join(map(str, large_betas))}",
        verdict="confirmed" if ok else "erratum",
        note="the gap to x/2 shrinks like beta x^2/4; the gap to ReLU is at most 1/(e beta)",
        values={"xs": xs, "small_betas": list(small_betas), "gap_to_half_x": small,
                "large_betas": list(large_betas), "gap_to_relu": large},
        graph=g)


def _swish_minimum(beta: float = 1.0) -> float:
    """Where swish'(x) = 0, by Newton's method with the engine's first and second derivatives."""
    x0 = -1.0
    for _ in range(50):
        x = Value(x0)
        d1 = grad(x.swish(beta), x, create_graph=True)
        d2 = grad(d1, x)
        step = d1.data / d2
        x0 -= step
        if abs(step) < 1e-15:
            break
    return x0


@example("S2-Q1.6", SEED, "Q1.6", "Swish is not monotonic, ReLU is")
def q1_6_monotonicity() -> Result:
    grid = [-6.0 + 0.01 * i for i in range(1201)]

    def slopes(f: Callable[[Value], Value]) -> list:
        out = []
        for x0 in grid:
            x = Value(x0)
            out.append(grad(f(x), x))
        return out

    relu_slopes = slopes(lambda v: v.relu())
    swish_slopes = slopes(lambda v: v.swish())
    x_min = _swish_minimum()
    swish_min = Value(x_min).swish().data
    falling = [x for x, d in zip(grid, swish_slopes) if d < 0]
    ok = min(relu_slopes) >= 0.0 and len(falling) > 0
    x = Value(x_min, "x")
    g = x.swish()
    g.label = "swish(x)"
    return Result(
        seed_says="ReLU is monotonically increasing; swish is not monotonic",
        engine_says=f"ReLU' >= 0 on [-6, 6]; swish' < 0 on [{falling[0]:.2f}, {falling[-1]:.2f}]"
                    f" of the grid: swish falls to its minimum {_fmt(swish_min, 6)} at "
                    f"x = {_fmt(x_min, 6)}, then rises",
        verdict="confirmed" if ok else "erratum",
        note="slopes from the engine's gradient on a grid of step 0.01; the minimum by Newton's "
             "method on swish' = 0 with second derivatives; ReLU is non-decreasing (flat for x < 0)",
        values={"relu_min_slope": min(relu_slopes), "swish_min_slope": min(swish_slopes),
                "falling_from": falling[0], "falling_to": falling[-1],
                "swish_argmin": x_min, "swish_min": swish_min},
        graph=g)
