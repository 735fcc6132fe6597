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
from typing import Any, Callable, Sequence

from .. import nested, nn
from ..checks import analytic_hessian, numerical_hessian, one_sided
from ..engine import Value, scope, topological_order
from ..gradients import grad
from ..optim import SGD
from .base import Result, example, judge
from .shared import label_batchnorm

__all__: list[str] = []  # examples register themselves in EXAMPLES; nothing to import by name

SEED = "002_8bcde06e66854de4.txt"


# ---- small helpers over Values ------------------------------------------------------------------

def _dot(ws: Sequence, xs: Sequence) -> Value:
    return nested.total([w * x for w, x in zip(ws, xs)])


def _matrix(rng: random.Random, rows: int, cols: int, name: str) -> list:
    return [[Value(round(rng.uniform(-1.0, 1.0), 2), f"{name}[{i + 1},{j + 1}]")
             for j in range(cols)] for i in range(rows)]


def _vector(rng: random.Random, size: int, name: str) -> list:
    return [Value(round(rng.uniform(-1.0, 1.0), 2), f"{name}[{i + 1}]") for i in range(size)]


def _fmt(x: float, digits: int = 4) -> str:
    return f"{x:.{digits}g}"


# ---- Q1: the three-layer sigmoid network ------------------------------------------------------

def _sigmoid_net(n: int, m: int, r: int, s: int, seed: int = 2) -> dict:
    """h = W1 x + b1, a = sigmoid(W2 h + b2), o = W3 a + b3, L = 1/2 sum (o - y)^2, built from
    Values on seeded random numbers. Returns every named node by name."""
    rng = random.Random(seed)
    x = [Value(round(rng.uniform(-1.0, 1.0), 2), f"x[{i + 1}]") for i in range(n)]
    y = [round(rng.uniform(-1.0, 1.0), 2) for _ in range(s)]
    W1, b1 = _matrix(rng, m, n, "W1"), _vector(rng, m, "b1")
    W2, b2 = _matrix(rng, r, m, "W2"), _vector(rng, r, "b2")
    W3, b3 = _matrix(rng, s, r, "W3"), _vector(rng, s, "b3")
    with scope("layer1"):
        h = [_dot(W1[i], x) + b1[i] for i in range(m)]
    with scope("layer2"):
        a = [(_dot(W2[i], h) + b2[i]).sigmoid() for i in range(r)]
    with scope("layer3"):
        o = [_dot(W3[i], a) + b3[i] for i in range(s)]
    targets = [Value(v, f"y[{k + 1}]") for k, v in enumerate(y)]   # named, as o - y reads
    with scope("loss"):
        diff = [o[k] - targets[k] for k in range(s)]
        L = 0.5 * nested.total([d ** 2 for d in diff])
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


PARAM_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def _autodiff_grads(net: dict) -> dict:
    """dL/d(every parameter), dL/da, dL/dh, dL/do by the engine, in the shapes of the nodes."""
    names = PARAM_NAMES + ("a", "h", "o")
    flat = grad(net["L"], _flat(net, names))
    out, k = {}, 0
    for name in names:
        size = len(_flat(net, [name]))
        out[name] = nested.unflatten(flat[k:k + size], net[name])
        k += size
    return out


def _seed_q1_expressions(net: dict, dLdo: list, dLda_for_h: list | None = None) -> dict:
    """The seed's final expressions of Answer 1.1, transcribed as written, in terms of
    dL/do, h, a, x and the weights. Products of two vectors are outer products in the order
    the seed writes them: ``a dL/do`` is r x s and ``x dL/dh`` is n x m, the transposes of
    the s x r matrix W3 and the m x n matrix W1 (:func:`_layout_match` tries both layouts).

    ``dLda_for_h``: the dL/da fed into the seed's dL/dh line; by default the seed's own dL/da.
    """
    x, h, a = nested.data_of(net["x"]), nested.data_of(net["h"]), nested.data_of(net["a"])
    W2, W3 = nested.data_of(net["W2"]), nested.data_of(net["W3"])
    m, r, s = len(h), len(a), len(dLdo)
    sig = [ai * (1 - ai) for ai in a]                                  # a (1 - a)
    row = [sum(dLdo[k] * W3[k][i] for k in range(s)) for i in range(r)]  # dL/do . W3
    e = {}
    e["W3"] = [[a[i] * dLdo[k] for k in range(s)] for i in range(r)]    # a dL/do: r x s
    e["b3"] = list(dLdo)                                                # dL/do
    e["W2"] = [[row[i] * h[j] * sig[i] for j in range(m)] for i in range(r)]  # dL/do W3 h a(1-a)
    e["b2"] = [row[i] * sig[i] for i in range(r)]                       # dL/do W3 a(1-a)
    e["a"] = [row[i] * sig[i] for i in range(r)]                        # W3 a(1-a) dL/do
    dLda = e["a"] if dLda_for_h is None else dLda_for_h
    # W2 a(1-a) dL/da
    e["h"] = [sum(W2[i][j] * sig[i] * dLda[i] for i in range(r)) for j in range(m)]
    e["W1"] = [[x[j] * e["h"][i] for i in range(m)] for j in range(len(x))]  # x dL/dh: n x m
    e["b1"] = list(e["h"])                                              # dL/dh
    return e


def _layout_match(written, auto, tol: float = 1e-12) -> tuple:
    """Compare the seed's expression with autodiff: first in the layout the seed writes, then
    (for a matrix) transposed. Returns (layout that matched or None, its largest difference;
    for no match, the difference in the layout whose shape fits)."""
    candidates = [("as written", written)]
    if isinstance(written[0], list):
        candidates.append(("transposed", nested.transpose(written)))
    best = math.inf
    for layout, value in candidates:
        if nested.shape_of(value) != nested.shape_of(auto):
            continue
        gap = nested.max_diff(value, auto)
        if gap <= tol:
            return layout, gap
        best = min(best, gap)
    return None, best


Q1_ORDER = ("W3", "b3", "W2", "b2", "a", "h", "W1", "b1")


@example("S2-Q1.1", SEED, "Q1.1", "Backpropagation through h = W1 x + b1, a = sigmoid(W2 h + b2), "
         "o = W3 a + b3: each gradient expression against autodiff")
def q1_1_gradient_expressions() -> Result:
    net = _sigmoid_net(n=3, m=4, r=3, s=2)
    auto = _autodiff_grads(net)
    written = _seed_q1_expressions(net, auto["o"])
    # The seed's dL/dh line with the right dL/da in it: is the line itself right?
    fixed = _seed_q1_expressions(net, auto["o"], dLda_for_h=auto["a"])
    matched = {k: _layout_match(written[k], auto[k]) for k in Q1_ORDER}
    diff = {k: gap for k, (_, gap) in matched.items()}
    layouts = {k: layout for k, (layout, _) in matched.items()}
    matched_fixed = {k: _layout_match(fixed[k], auto[k]) for k in ("h", "W1", "b1")}
    diff_fixed = {k: gap for k, (_, gap) in matched_fixed.items()}
    agrees = {k: layouts[k] is not None for k in Q1_ORDER}
    wrong = [k for k in Q1_ORDER if not agrees[k]]
    # Which layout matched, for the weight matrices (W1 once its dL/da is put right).
    matrix_layouts = {"W3": layouts["W3"], "W2": layouts["W2"],
                      "W1": matched_fixed["W1"][0]}
    transposed = [k for k, layout in matrix_layouts.items() if layout == "transposed"]
    layout_text = "; ".join(
        f"the seed's dL/d{k} product is {'x'.join(map(str, nested.shape_of(written[k])))}, "
        f"dL/d{k} is {'x'.join(map(str, nested.shape_of(auto[k])))}: they agree up to "
        "transposition"
        + (" (with the right dL/da)" if k == "W1" else "") for k in transposed)
    right = [k + (" (up to transposition)" if layouts[k] == "transposed" else "")
             for k in Q1_ORDER if agrees[k]]
    engine = ("the expressions for " + ", ".join(right)
              + " agree with autodiff; those for " + ", ".join(wrong) + " do not"
              if wrong else "every expression agrees with autodiff")
    values = {name: nested.data_of(net[name]) for name in ("x",) + PARAM_NAMES}
    values["y"] = list(net["y"])
    values.update({f"dL/d{k}": auto[k] for k in PARAM_NAMES + ("a", "h", "o")})
    values["seed_as_written"] = written
    values["max_abs_diff"] = diff
    values["max_abs_diff_with_right_dL/da"] = diff_fixed
    values["agrees"] = agrees
    values["layouts"] = layouts
    values["matrix_layouts"] = matrix_layouts
    return Result(
        problem="The network h = W1 x + b1, a = sigmoid(W2 h + b2), o = W3 a + b3 with a "
                "squared-error loss L = 1/2 |o - y|^2, here with sizes (n, m, r, s) = "
                "(3, 4, 3, 2) on seeded random numbers. Backpropagate to every weight and bias "
                "(and to a and h); each of the seed's expressions is evaluated as written.",
        seed_says="dL/dW3 = a dL/do, dL/db3 = dL/do, dL/dW2 = dL/do W3 h a(1-a), "
                  "dL/db2 = dL/do W3 a(1-a), dL/da = W3 a(1-a) dL/do, dL/dh = W2 a(1-a) dL/da, "
                  "dL/dW1 = x dL/dh, dL/db1 = dL/dh",
        engine_says=engine + "; dL/da = W3^T dL/do" + (f"; {layout_text}" if transposed
                                                         else ""),
        verdict=judge(not wrong),
        note="dL/da = W3^T dL/do has no a(1-a) factor: sigmoid' belongs to dL/dh only, so as "
             "written it is applied twice in dL/dh, dL/dW1, dL/db1 (with the right dL/da those "
             "lines are correct). Each weight gradient is compared in the seed's layout first, "
             "then transposed; the layout that matched: "
             + ", ".join(f"{k} {v or 'neither'}" for k, v in matrix_layouts.items())
             + ". The outer products a dL/do and x dL/dh come out as the transposes of W3 and "
             "W1's shapes, so they hold up to transposition",
        values=values, graph=net["L"],
        extra={"nodes": net, "params": _flat(net, PARAM_NAMES), "wrt": "W1[1,1]"})


def _param_grads(root: Value, params: list, stored: dict) -> list:
    """The parameters' gradients by the chain rule over ``root``'s graph, each op's rule reading
    the stored forward values from ``stored`` (node -> value) instead of the nodes: a backward
    pass that can be handed a changed value, which the engine refuses (the graph would be
    stale)."""
    grads: dict = {root: 1.0}
    for node in reversed(topological_order(root)):
        g = grads.get(node, 0.0)
        if node.is_leaf or g == 0.0:
            continue
        sent = node.primitive.rule(g, stored[node], *[stored[p] for p in node.parents])
        for p, gp in zip(node.parents, sent):
            grads[p] = grads.get(p, 0.0) + gp
    return [grads.get(p, 0.0) for p in params]


def _kept_for_backward(net: dict) -> list:
    """Intermediate nodes whose stored forward value the backward pass reads: hand the backward
    pass one node's value changed by 0.5 and see whether any parameter gradient changes."""
    params = _flat(net, PARAM_NAMES)
    nodes = topological_order(net["L"])
    stored = {node: node.data for node in nodes}
    base = _param_grads(net["L"], params, stored)
    kept = []
    for node in nodes:
        if node.is_leaf:
            continue  # parameters, the input x and constants are stored anyway
        moved = _param_grads(net["L"], params, {**stored, node: node.data + 0.5})
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
        problem="For the same network: which forward-pass values must be kept so that the "
                "backward pass recomputes nothing, and how many bytes is that at 2 bytes a "
                "number? Measured for sizes (n, m, r, s) = (3, 4, 3, 2) and (2, 5, 3, 4).",
        seed_says="keep h, a and dL/do: 2(m + r + s) bytes",
        engine_says=f"the backward pass reads h (m), a (r) and o - y (s) values: "
                    f"{engine_bytes[0]} bytes for (m, r, s) = (4, 3, 2), "
                    f"{engine_bytes[1]} for (5, 3, 4)",
        verdict=judge(ok),
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
        problem="The left and right derivatives of ReLU(x) = max(0, x) at x = 0, and the "
                "value the backward pass uses at that kink.",
        seed_says="left 0, right 1; ReLU'(0) undefined",
        engine_says=f"left {_fmt(left)}, right {_fmt(right)}: no derivative at 0; the backward "
                    f"pass uses ReLU'(0) = {_fmt(at_kink)}",
        verdict=judge(ok),
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
        return lambda x: nested.total([w2[i] * getattr(w1[i] * x + b1[i], act)() for i in range(6)])

    net_points = (-1.3, 0.4, 1.7)
    relu_net2 = [_second_derivative(net("relu"), x) for x in net_points]
    swish_net2 = [_second_derivative(net("swish"), x) for x in net_points]
    # The evidence to step through: swish''(x) as a graph (differentiate, keep the graph,
    # differentiate again), at a point where the second derivative is not zero.
    x = Value(1.0, "x")
    d1 = grad(x.swish(), x, create_graph=True)
    d1.label = "swish'(x)"
    d2 = grad(d1, x, create_graph=True)
    d2.label = "swish''(x)"
    ok = (all(v == 0.0 for v in relu2) and all(v == 0.0 for v in relu_net2)
          and all(abs(v) > 1e-3 for v in swish2)
          and all(abs(a - b) < 1e-6 for a, b in zip(swish2, swish2_fd))
          and all(b > 5 * a for a, b in zip(relu2_fd_at_0, relu2_fd_at_0[1:])))
    return Result(
        problem="Why ReLU is no use when a network must be differentiated twice: its second "
                "derivative against that of swish(x) = x sigmoid(x), at five points and "
                "through a small one-hidden-layer network.",
        seed_says="ReLU'' is 0 everywhere except at 0, where it is undefined: useless; "
                  "swish can be differentiated twice",
        engine_says=f"ReLU'' = 0 at {list(SECOND_POINTS)} (0 at the kink by convention), its "
                    f"second difference at 0 is {', '.join(_fmt(v) for v in relu2_fd_at_0)} for "
                    f"h = {', '.join(map(str, steps))}; swish''(0) = {_fmt(swish2[2])}",
        verdict=judge(ok),
        note="second derivatives by differentiating the gradient graph; at x = 0 ReLU'' is a "
             "spike of 1/h in finite differences, taken as 0 by the engine",
        values={"points": list(SECOND_POINTS), "relu2": relu2, "swish2": swish2,
                "swish2_numerical": swish2_fd, "relu2_fd_steps": list(steps),
                "relu2_fd_at_0": relu2_fd_at_0, "net_points": list(net_points),
                "relu_net2": relu_net2, "swish_net2": swish_net2,
                "net_weights": {"w1": w1, "b1": b1, "w2": w2}, "graph_at": x.data,
                "graph_value": d2.data},
        graph=d2)


@example("S2-Q1.5", SEED, "Q1.5", "Swish x sigmoid(beta x) as beta -> 0 and beta -> infinity")
def q1_5_swish_limits() -> Result:
    rng = random.Random(5)
    xs = [rng.uniform(-3.0, 3.0) for _ in range(20)] + [0.0]

    def seed_small(x: float) -> float:                  # the seed's limit for beta -> 0
        return 0.5 * x

    def seed_large(x: float) -> float:                  # the seed's limit for beta -> infinity
        return x if x > 0 else 0.0

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
        problem="The limits of swish(x) = x sigmoid(beta x) as beta goes to 0 and to "
                "infinity, measured as the largest gap to the seed's limits over 21 points "
                "in [-3, 3].",
        seed_says="beta -> 0: x/2; beta -> infinity: x for x > 0, 0 for x <= 0 (ReLU)",
        engine_says=f"max |swish - x/2| = {', '.join(_fmt(v, 2) for v in small)} for beta = "
                    f"{', '.join(map(str, small_betas))}; max |swish - ReLU| = "
                    f"{', '.join(_fmt(v, 2) for v in large)} for beta = "
                    f"{', '.join(map(str, large_betas))}",
        verdict=judge(ok),
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
        problem="Swish against ReLU on monotonicity: where is each slope negative on "
                "[-6, 6], and where does swish reach its minimum?",
        seed_says="ReLU is monotonically increasing; swish is not monotonic",
        engine_says=f"ReLU' >= 0 on [-6, 6]; swish' < 0 on [{falling[0]:.2f}, {falling[-1]:.2f}]"
                    f" of the grid: swish falls to its minimum {_fmt(swish_min, 6)} at "
                    f"x = {_fmt(x_min, 6)}, then rises",
        verdict=judge(ok),
        note="slopes from the engine's gradient on a grid of step 0.01; the minimum by Newton's "
             "method on swish' = 0 with second derivatives; ReLU is non-decreasing (flat for "
             "x < 0)",
        values={"relu_min_slope": min(relu_slopes), "swish_min_slope": min(swish_slopes),
                "falling_from": falling[0], "falling_to": falling[-1],
                "swish_argmin": x_min, "swish_min": swish_min},
        graph=g)


# ---- Q2: convolutions ---------------------------------------------------------------------------

def _random_image(rng: random.Random, c: int, h: int, w: int, lo: float = -1.0,
                  hi: float = 1.0) -> list:
    return [[[rng.uniform(lo, hi) for _ in range(w)] for _ in range(h)] for _ in range(c)]


# ---- Q2.1 (a), (b) and Q2.2: when a convolution shrinks the map, and what it counts ------------

#: The input sides, filter sizes, paddings and strides the shrinking rule is checked on.
Q21_SIDES, Q21_FILTERS, Q21_PADDINGS, Q21_STRIDES = (5, 8), (1, 2, 3, 5), (0, 1, 2), (1, 2, 3)


def _conv_output_side(n: int, f: int, p: int, s: int) -> tuple:
    """(height, width) of the map a real ``nn.Conv2d`` forward pass makes from an n x n
    one-channel image with an f x f filter, padding p and stride s (not the formula)."""
    conv = nn.Conv2d(1, 1, f, stride=s, padding=p, bias=False, init="zeros")
    image = [[[Value(1.0) for _ in range(n)] for _ in range(n)]]
    _, height, width = nn.shape_of(conv(image))
    return height, width


def _side_formula(n: int, f: int, p: int, s: int) -> int:
    return (n + 2 * p - f) // s + 1          # floor((n + 2p - f) / s) + 1


def _seed_says_shrinks(p: int, s: int) -> bool:
    """Answer 2.1 (a) as a rule: the map gets smaller when there is no padding and s >= 1."""
    return p == 0 and s >= 1


def _q21_cases() -> list:
    cases = []
    for n in Q21_SIDES:
        for f in Q21_FILTERS:
            for p in Q21_PADDINGS:
                for s in Q21_STRIDES:
                    h, w = _conv_output_side(n, f, p, s)
                    cases.append(dict(n=n, f=f, p=p, s=s, side=h, width=w,
                                      formula=_side_formula(n, f, p, s),
                                      shrinks=h < n, seed_shrinks=_seed_says_shrinks(p, s)))
    return cases


def _case_text(c: dict) -> str:
    return f"n={c['n']}, f={c['f']}, p={c['p']}, s={c['s']}: {c['n']} -> {c['side']}"


def _stride_sweep(cases: list) -> list:
    """For each (n, f, p): the output sides at strides 1, 2, 3, in that order."""
    by_key: dict = {}
    for c in cases:
        by_key.setdefault((c["n"], c["f"], c["p"]), []).append(c["side"])
    return [dict(n=n, f=f, p=p, sides=sides) for (n, f, p), sides in by_key.items()]


def _params_by_stride(strides: Sequence[int] = (1, 2, 3, 4)) -> dict:
    """Parameter count of a 3 -> 4 channel, 3x3 convolution for each stride."""
    return {s: nn.Conv2d(3, 4, 3, stride=s, rng=s).num_parameters() for s in strides}


@example("S2-Q2.1ab", SEED, "Q2.1(a), (b)", "When a convolution shrinks the feature map, and "
         "what a larger stride changes")
def q2_1ab_shrinking() -> Result:
    cases = _q21_cases()
    formula_gap = [c for c in cases if c["side"] != c["formula"] or c["width"] != c["side"]]
    if formula_gap:
        raise RuntimeError(f"S2-Q2.1ab: nn.Conv2d disagrees with floor((n + 2p - f)/s) + 1 "
                           f"on {formula_gap[0]}")
    # Where the seed's rule (shrinks exactly when there is no padding) is wrong, both ways.
    kept_without_padding = [c for c in cases if c["seed_shrinks"] and not c["shrinks"]]
    shrunk_with_padding = [c for c in cases if c["shrinks"] and not c["seed_shrinks"]]
    rule_holds = not kept_without_padding and not shrunk_with_padding
    sweeps = _stride_sweep(cases)
    never_grows = all(a >= b for w in sweeps for a, b in zip(w["sides"], w["sides"][1:]))
    shrinks_somewhere = any(w["sides"][-1] < w["sides"][0] for w in sweeps)
    params = _params_by_stride()
    same_params = len(set(params.values())) == 1
    shrinking = sum(c["shrinks"] for c in cases)
    # One counter-example of each kind, a stride-1 one first (padding alone, no stride).
    counter = [_case_text(min(x, key=lambda c: c["s"]))
               for x in (kept_without_padding, shrunk_with_padding) if x]
    x = [[[Value(float(i * 3 + j + 1), f"x[{i + 1},{j + 1}]") for j in range(3)]
          for i in range(3)]]
    demo = nn.Conv2d.from_weights([[[[Value(0.5, "w[1,1]"), Value(-1.0, "w[1,2]")],
                                     [Value(2.0, "w[2,1]"), Value(1.0, "w[2,2]")]]]],
                                  [Value(0.1, "b")], stride=1, padding=0, name="conv")(x)
    out = demo[0][0][0]
    out.label = "y[1,1]"
    return Result(
        problem="An n x n feature map goes through a convolution with an f x f filter, padding "
                "p and stride s. When is the output smaller than the input, and what does a "
                "larger stride do to the output and to the number of parameters?",
        seed_says="(a) the map shrinks when there is no padding and the stride is at least 1; "
                  "(b) a larger stride gives smaller outputs and lowers the model capacity",
        engine_says=f"nn.Conv2d on {len(cases)} (n, f, p, s) cases: the output side is "
                    f"floor((n + 2p - f)/s) + 1 in every one; {shrinking} shrink. The seed's "
                    f"rule fails {len(kept_without_padding)} times without padding and "
                    f"{len(shrunk_with_padding)} times with it"
                    + (f" (e.g. {'; '.join(counter)})" if counter else "")
                    + f"; a larger stride never enlarges the map; parameters of a 3->4 channel "
                    f"3x3 conv at strides {list(params)}: {list(params.values())}",
        verdict=judge(rule_holds and never_grows and shrinks_somewhere),
        note="the map shrinks exactly when floor((n + 2p - f)/s) + 1 < n: at stride 1 when the "
             "filter is wider than 2p + 1 (a 1x1 filter without padding keeps the size, a 5x5 "
             "one with padding 1 shrinks it), at stride 2 or more nearly always. The stride "
             "leaves the parameter count alone; what it lowers is the number of output "
             "positions (and the work), so 'capacity' cannot mean weights here. The "
             "step-through: one output pixel of a 2x2 filter on a 3x3 image (no padding, "
             "stride 1: 3 -> 2)",
        values={"cases": cases, "kept_without_padding": kept_without_padding,
                "shrunk_with_padding": shrunk_with_padding, "stride_sweeps": sweeps,
                "params_by_stride": params, "rule_holds": rule_holds,
                "never_grows": never_grows, "same_params": same_params},
        graph=out, extra={"wrt": "w[1,1]"})


#: The seed's answers to the true/false statements of Q2.2.
Q22_SEED = {"a": True, "b": True, "c": False, "d": True}


def _weight_and_bias_counts(conv) -> tuple:
    names = [n for n, _ in conv.named_parameters()]
    return (sum(n.startswith("weight") for n in names), sum(n.startswith("bias") for n in names))


def _seed_param_formula(n: int, m: int, depth: int, k: int) -> int:
    return (n * m * depth + 1) * k           # Answer 2.2 (c): (n*m*l + 1)*k, l the input depth


def _pool_per_channel(rng: random.Random, channels: int = 3, side: int = 4) -> dict:
    """Max-pool a multi-channel image; compare each output channel with pooling that channel
    alone, and take the gradient of each output channel's sum with respect to every input
    channel (zero off the diagonal when pooling stays within a channel)."""
    image = [[[Value(round(rng.uniform(-1, 1), 2), f"x[{c + 1},{i + 1},{j + 1}]")
               for j in range(side)] for i in range(side)] for c in range(channels)]
    pool = nn.MaxPool2d(2, name="pool")
    out = pool(image)
    alone = [pool([plane])[0] for plane in image]
    same_alone = all(nested.data_of(out[c]) == nested.data_of(alone[c]) for c in range(channels))
    reach = []
    for c in range(channels):
        total = nested.total([v for row in out[c] for v in row])
        grads = [grad(total, [v for row in image[d] for v in row]) for d in range(channels)]
        reach.append([sum(abs(g) for g in gs) for gs in grads])
    return dict(image=nested.data_of(image), pooled=nested.data_of(out), same_as_alone=same_alone,
                grad_mass=reach, out_shape=list(nn.shape_of(out)), root=out[1][0][0])


@example("S2-Q2.2", SEED, "Q2.2 (a)-(d)", "True or false: weights, biases and parameter count "
         "of a convolution, and max pooling per channel")
def q2_2_true_false() -> Result:
    depths, filters = (1, 3, 8), (1, 4, 7)
    weights = {d: _weight_and_bias_counts(nn.Conv2d(d, 4, 3, rng=d))[0] for d in depths}
    biases = {k: _weight_and_bias_counts(nn.Conv2d(3, k, 3, rng=k))[1] for k in filters}
    # (c): a 3 x 2 filter, l = 3 input maps, k = 4 filters, at every stride and padding.
    n, m, depth, k = 3, 2, 3, 4
    totals = {(s, p): nn.Conv2d(depth, k, (n, m), stride=s, padding=p, rng=7).num_parameters()
              for s in (1, 2, 3) for p in (0, 1, 2)}
    formula = _seed_param_formula(n, m, depth, k)
    pool = _pool_per_channel(random.Random(22))
    off_diagonal = max(g for c, row in enumerate(pool["grad_mass"])
                       for d, g in enumerate(row) if d != c)
    engine = {
        "a": len(set(weights.values())) > 1,                        # depends on input depth
        "b": all(biases[k_] == k_ for k_ in filters),               # one bias per filter
        "c": len(set(totals.values())) > 1,                         # stride/padding matter
        "d": (pool["same_as_alone"] and off_diagonal == 0.0
              and pool["out_shape"][0] == len(pool["image"])),      # per channel, H x W only
    }
    formula_ok = all(t == formula for t in totals.values())
    agree = {q: engine[q] == Q22_SEED[q] for q in Q22_SEED}

    def tf(b: bool) -> str:
        return "true" if b else "false"

    root = pool["root"]
    root.label = "pool[2,1,1]"
    window = [n_ for n_ in topological_order(root) if n_.is_leaf]
    argmax = max(window, key=lambda v: v.data).label   # the input the gradient goes to
    return Result(
        problem="Four true/false statements on a convolutional layer: (a) its weight count "
                "depends on the input depth, (b) it has one bias per filter, (c) stride and "
                "padding change its parameter count, (d) max pooling acts on height and width "
                "only, channel by channel.",
        seed_says="(a) true, (b) true, (c) false: parameters = (n*m*l + 1)*k, (d) true",
        engine_says=f"(a) {tf(engine['a'])}: weights {weights} for input depths {list(depths)}; "
                    f"(b) {tf(engine['b'])}: biases {biases} for {list(filters)} filters; "
                    f"(c) {tf(engine['c'])}: a 3x2 filter, l = 3, k = 4 has "
                    f"{sorted(set(totals.values()))} parameters at strides 1-3 and paddings 0-2 "
                    f"(the formula: {formula}); (d) {tf(engine['d'])}: MaxPool2d(2) on a "
                    f"{'x'.join(map(str, nn.shape_of(pool['image'])))} image gives "
                    f"{'x'.join(map(str, pool['out_shape']))}, each channel as if pooled "
                    f"alone, gradient between different channels {_fmt(off_diagonal)}",
        verdict=judge(all(agree.values()) and formula_ok),
        note="counts from the layers' own parameter lists (Conv2d(l, k, (n, m)) holds "
             "k*l*n*m weights and k biases); the stride and padding only move the filter and "
             "pad the input. Max pooling takes each window's maximum within one channel, so "
             "an output channel's gradient reaches its own input channel only",
        values={"weights_by_depth": weights, "biases_by_filters": biases,
                "totals_by_stride_padding": {f"s={s},p={p}": t for (s, p), t in totals.items()},
                "seed_formula": formula, "engine": engine, "seed": dict(Q22_SEED),
                "agree": agree, "pool": {k_: v for k_, v in pool.items() if k_ != "root"},
                "off_diagonal_grad": off_diagonal},
        graph=root, extra={"wrt": argmax})


def _bias_demo() -> Value:
    """The smallest case to step through: a 1x1 convolution ``w x + b`` on a batch of two
    one-pixel images, batch norm, and a weighted sum; every chain-rule path to ``b`` is listed
    and they add up to zero."""
    w, b = Value(0.8, "w"), Value(1.5, "b")
    conv = nn.Conv2d.from_weights([[[[w]]]], [b], name="conv")
    bn = nn.BatchNorm2d(1, name="bn")
    images = [[[[Value(v, f"x{i + 1}")]]] for i, v in enumerate((0.5, -1.0))]
    zs = conv(images)
    for i, z in enumerate(zs):
        z[0][0][0].label = f"z{i + 1}"
    ys = [img[0][0][0] for img in bn(zs)]
    for i, y in enumerate(ys):
        y.label = f"y{i + 1}"
    label_batchnorm(ys, bn)
    loss = ys[0] * 1.0 + ys[1] * -2.0
    loss.label = "L"
    return loss


@example("S2-Q2.1d", SEED, "Q2.1(d)", "A convolution bias followed by batch norm has no effect")
def q2_1d_bias_before_batchnorm() -> Result:
    seed_says = "no impact: normalising removes the bias"
    rng = random.Random(21)
    cout, k = 2, 3
    W = [[[[rng.uniform(-1, 1) for _ in range(k)] for _ in range(k)]] for _ in range(cout)]
    b = [rng.uniform(-2, 2) for _ in range(cout)]
    batch = [_random_image(rng, 1, 5, 5) for _ in range(3)]
    mix = [[[[rng.uniform(-1, 1) for _ in range(3)] for _ in range(3)] for _ in range(cout)]
           for _ in batch]  # a random readout, so every output feeds the loss

    def run(bias: list | None) -> tuple:
        conv = nn.Conv2d.from_weights(W, bias, name="conv")
        bn = nn.BatchNorm2d(cout, name="bn")
        model = nn.Sequential(conv, bn, nn.ReLU(name="relu"))
        out = model(batch)
        loss = nested.total([m * v for img, mimg in zip(out, mix) for plane, mp in zip(img, mimg)
                     for row, mr in zip(plane, mp) for v, m in zip(row, mr)])
        loss.label = "loss"
        loss.backward()
        flat = [v.data for img in out for plane in img for row in plane for v in row]
        w_grads = [w.grad for f in conv.weight for c in f for r in c for w in r]
        b_grads = [v.grad for v in conv.bias] if conv.bias is not None else []
        return flat, w_grads, b_grads, loss, bn.running_mean

    with_b, wg_b, bg, loss, rm_b = run(b)
    without, wg_0, _, _, rm_0 = run(None)
    demo = _bias_demo()
    demo_b = next(n for n in topological_order(demo) if n.label == "b")
    demo_grad = grad(demo, demo_b)
    out_gap = nested.max_diff(with_b, without)
    grad_gap = nested.max_diff(wg_b, wg_0)
    bias_grad = max(abs(g) for g in bg)
    ok = out_gap < 1e-12 and grad_gap < 1e-12 and max(bias_grad, abs(demo_grad)) < 1e-12
    return Result(
        problem="A convolution with biases, then batch norm on batch statistics, then "
                "ReLU: does dropping the convolution's biases change the outputs or the "
                "weight gradients? Checked on three 5x5 images and two 3x3 filters.",
        seed_says=seed_says,
        engine_says=f"conv -> BatchNorm2d (batch statistics) -> ReLU with biases "
                    f"{', '.join(_fmt(v, 3) for v in b)} and without: outputs differ by at most "
                    f"{_fmt(out_gap, 2)}, "
                    f"weight gradients by {_fmt(grad_gap, 2)}; the bias gradient is "
                    f"{_fmt(bias_grad, 2)}",
        verdict=judge(ok),
        note="batch norm subtracts the batch mean, which carries the bias, so the bias cancels "
             "and gets no gradient; in eval mode the running mean cancels it only once it has "
             "absorbed the bias",
        values={"W": W, "b": b, "batch": batch, "readout": mix, "outputs_with_bias": with_b,
                "outputs_without_bias": without, "max_output_gap": out_gap,
                "max_weight_grad_gap": grad_gap, "bias_grads": bg,
                "running_mean_with_bias": list(rm_b), "running_mean_without_bias": list(rm_0),
                "demo_bias_grad": demo_grad},
        graph=demo, extra={"wrt": "b", "full_loss": loss})


#: The seed's table for the 64x64x1 CNN: output volume (H x W x D) and parameters per layer.
Q23_SEED = [("Conv4-5-Pvalid-S2", (31, 31, 5), 85), ("Pool3", (10, 10, 5), 0),
            ("Conv3-5-Pvalid-S1", (8, 8, 5), 230), ("Pool2", (4, 4, 5), 0),
            ("FC5", (1, 1, 5), 405)]


def _q23_model():
    return nn.Sequential(
        nn.Conv2d(1, 5, 4, stride=2, padding=0, rng=23, name="Conv4-5-Pvalid-S2"),
        nn.MaxPool2d(3, name="Pool3"),
        nn.Conv2d(5, 5, 3, stride=1, padding=0, rng=24, name="Conv3-5-Pvalid-S1"),
        nn.MaxPool2d(2, name="Pool2"),
        nn.Flatten(name="flatten"),
        nn.Linear(80, 5, rng=25, name="FC5"))


def _hwd(shape: tuple) -> tuple:
    """(C, H, W) as the seed's H x W x D; a flat vector of n as 1 x 1 x n."""
    if len(shape) == 1:
        return (1, 1, shape[0])
    c, h, w = shape
    return (h, w, c)


@example("S2-Q2.3", SEED, "Q2.3", "Output shape and parameter count of each layer of the "
         "64x64x1 CNN")
def q2_3_cnn_shapes() -> Result:
    seed_says = "; ".join(f"{n}: {'x'.join(map(str, s))}, {p}" for n, s, p in Q23_SEED)
    model = _q23_model()
    table = nn.summary(model, (1, 64, 64), channels_last=True)
    rows = [(r[0], _hwd(tuple(r[1])), r[2]) for r in table if r[0] != "flatten"]
    # The same shapes from a real forward pass through the layers (one 64x64 image).
    rng = random.Random(23)
    x = _random_image(rng, 1, 64, 64)
    measured = []
    for layer in model.layers:
        x = layer(x)
        if layer.name != "flatten":
            measured.append(_hwd(nn.shape_of(x)))
    ok = (rows == Q23_SEED and measured == [s for _, s, _ in Q23_SEED])
    return Result(
        problem="A CNN on a 64x64x1 input: five 4x4 filters with no padding and stride 2, "
                "3x3 max pooling, five 3x3 filters with no padding and stride 1, 2x2 max "
                "pooling, then a fully connected layer of 5 units. Give each layer's output "
                "volume and parameter count.",
        seed_says=seed_says,
        engine_says="; ".join(f"{n}: {'x'.join(map(str, s))}, {p}" for n, s, p in rows),
        verdict=judge(ok),
        note="max pooling with stride = window (the seed's Pool3, Pool2); shapes from "
             "nn.summary and from a forward pass; FC5 sees the flattened 4x4x5 volume "
             "(80 x 5 weights + 5 biases)",
        values={"rows": [{"layer": n, "shape_hwd": list(s), "params": p} for n, s, p in rows],
                "forward_shapes_hwd": [list(s) for s in measured],
                "total_params": sum(p for _, _, p in rows), "summary": str(table)},
        extra={"model": model})


#: Q2.4's network: five 5x5 convolutions, stride 1, padding 2; 8 channels between them.
Q24_CHANNELS = (1, 8, 8, 8, 8, 1)
Q24_SIDE = 12   # the input side: a corner pixel's field (10 pixels on) and one pixel beyond


def _q24_layers(rng: random.Random) -> list:
    """The five convolutions, with positive weights so that no two paths can cancel: an input
    pixel's gradient is then zero exactly when no path joins it to the output pixel."""
    layers = []
    for i, (cin, cout) in enumerate(zip(Q24_CHANNELS, Q24_CHANNELS[1:])):
        W = [[[[round(rng.uniform(0.1, 1.0), 2) for _ in range(5)] for _ in range(5)]
              for _ in range(cin)] for _ in range(cout)]
        layers.append(nn.Conv2d.from_weights(W, [0.1] * cout, stride=1, padding=2,
                                             name=f"conv{i + 1}"))
    return layers


def _conv_pixels(layers: Sequence, image: list) -> Callable[[int, int, int], list]:
    """``pixel(depth, i, j)``: the channels of layer ``depth``'s output at (i, j) (depth 0:
    the image), built on first use with nn.Conv2d's formula and summation order, for stride
    1: ``b[f] + sum_c sum_m sum_n W[f][c][m][n] x[c][i + m - p][j + n - p]``, padded zeros
    left out as Conv2d leaves them out. Only the pixels an output pixel is made from are
    built, so one output pixel of an 8-channel stack costs a few hundred thousand nodes,
    not the millions of the whole map."""
    H, Wd = len(image[0]), len(image[0][0])
    cache: dict = {}

    def pixel(depth: int, i: int, j: int) -> list:
        if depth == 0:
            return [plane[i][j] for plane in image]
        if (depth, i, j) not in cache:
            conv = layers[depth - 1]
            if conv.stride != (1, 1):
                raise ValueError(f"_conv_pixels: {conv.display_name} has stride {conv.stride}; "
                                 "only stride 1 is supported")
            (kh, kw), (ph, pw) = conv.kernel_size, conv.padding
            taps = [(m, n, pixel(depth - 1, i + m - ph, j + n - pw))
                    for m in range(kh) for n in range(kw)
                    if 0 <= i + m - ph < H and 0 <= j + n - pw < Wd]
            out = []
            for f in range(conv.out_channels):
                acc = None
                for c in range(conv.in_channels):
                    for m, n, below in taps:
                        t = conv.weight[f][c][m][n] * below[c]
                        acc = t if acc is None else acc + t
                out.append(acc + conv.bias[f] if conv.bias is not None else acc)
            cache[(depth, i, j)] = out
        return cache[(depth, i, j)]

    return pixel


def _reached(feature: Value, image: list) -> list:
    """The input gradient of ``feature`` as H x W (summed over input channels), by
    ``backward()`` (several times faster than ``grad()`` on a graph this size; the image's
    leaves are zeroed first, as leaves accumulate)."""
    for plane in image:
        for row in plane:
            for v in row:
                v.grad = 0.0
    feature.backward()
    return [[sum(plane[i][j].grad for plane in image) for j in range(len(image[0][0]))]
            for i in range(len(image[0]))]


def _box(grads: list) -> tuple:
    """(first row, last row, first column, last column) of the non-zero gradients."""
    hit = [(i, j) for i, row in enumerate(grads) for j, g in enumerate(row) if g != 0.0]
    rows, cols = [i for i, _ in hit], [j for _, j in hit]
    return min(rows), max(rows), min(cols), max(cols), len(hit)


@example("S2-Q2.4", SEED, "Q2.4", "Receptive field of five 5x5 convolutions (stride 1, "
         "padding 2, 8 channels), measured from gradients")
def q2_4_receptive_field() -> Result:
    seed_says = "21 x 21 (5, 9, 13, 17, 21 after layers 1..5)"
    rng = random.Random(24)
    layers = _q24_layers(rng)
    n = Q24_SIDE
    image = [[[Value(round(rng.uniform(0.1, 1.0), 2), f"x[{i + 1},{j + 1}]") for j in range(n)]
              for i in range(n)]]
    pixel = _conv_pixels(layers, image)
    # The top-left output pixel, after each layer (channel 1): the padding hides the half
    # of its field above and left of the image, the rest lies on the image.
    corner_grads = [_reached(pixel(d, 0, 0)[0], image) for d in range(1, 6)]
    corner = [_box(g) for g in corner_grads]
    reach = [(b[1], b[3]) for b in corner]                 # last row and column reached
    # A pixel in the middle, after layers 1 and 2: its field is centred (the same reach on
    # all four sides), so the hidden half of the corner's field is as wide as the seen one.
    mid = n // 2
    centre = [_box(_reached(pixel(d, mid, mid)[0], image)) for d in (1, 2)]
    centred = all(b[0] == mid - 2 * d and b[1] == mid + 2 * d and b[2] == mid - 2 * d
                  and b[3] == mid + 2 * d for d, b in zip((1, 2), centre))
    full_quarter = all(b[:4] == (0, r, 0, c) and b[4] == (r + 1) * (c + 1)
                       for b, (r, c) in zip(corner, reach))
    field = [(2 * r + 1, 2 * c + 1) for r, c in reach]
    # The seed's recurrence, transcribed: R_l = R_{l-1} + (k_l - 1) * prod_{i<l} s_i.
    seed_rf, r_prev, stride_prod = [], 1, 1
    for _ in range(5):
        r_prev = r_prev + (5 - 1) * stride_prod
        seed_rf.append(r_prev)
    edge_seen = reach[-1][0] < n - 1 and reach[-1][1] < n - 1
    ok = (centred and full_quarter and edge_seen
          and field == [(r, r) for r in seed_rf])
    first = pixel(1, 0, 0)[0]        # to step through: 9 of its 25 taps lie on the image
    first.label = "conv1[1,1,1]"
    return Result(
        problem="Five convolutions, each 5x5 with stride 1 and zero padding 2, with 8 channels "
                "between them and one output channel. How large is the patch of the input "
                "that one output pixel depends on (its receptive field)?",
        seed_says=seed_says,
        engine_says=f"the top-left output pixel's gradient on a {n}x{n} input reaches rows and "
                    f"columns 0..{reach[-1][0]} (all {corner[-1][4]} pixels, none beyond): "
                    f"{reach[-1][0]} pixels on each side, so "
                    f"{field[-1][0]} x {field[-1][1]}; after layers 1..5: "
                    f"{', '.join(str(h) for h, _ in field)}",
        verdict=judge(ok),
        note="all 8 channels, in 2-D, on positive weights and inputs so no paths cancel; only "
             "the pixels the output pixel is made from are built (the whole 8-channel map "
             "would be millions of nodes). Half of a corner pixel's field lies in the "
             "padding, so the measured reach r on the image gives the field 2r + 1; a middle "
             "pixel after layers 1 and 2 shows the field is centred (2 and 4 pixels on all "
             "four sides). Each 5x5 layer adds 4. The step-through: the corner pixel after "
             "layer 1, where 9 of the 25 taps fall on the image",
        values={"side": n, "channels": list(Q24_CHANNELS),
                "weights": [nested.data_of(conv.weight) for conv in layers],
                "image": nested.data_of(image), "corner_boxes": corner, "reach": reach,
                "centre_pixel": mid, "centre_boxes": centre, "field": field,
                "corner_grads": corner_grads, "seed_recurrence": seed_rf},
        graph=first, extra={"layers": layers, "wrt": "x[1,1]"})


# ---- Q3: a mixture of logistic regressions is a one-hidden-layer network ----------------------

def _q3_network(w: list, pi: list, hidden_activation: bool) -> nn.Sequential:
    """Input x (d units); hidden w_k . x (K units, no bias), through a sigmoid when
    ``hidden_activation``; output sum_k pi_k a_k (one linear unit, no bias, weights pi)."""
    layers: list[nn.Module] = [nn.Linear.from_weights(w, None, name="hidden",
                                                      w_labels=lambda k, j: f"w{k}[{j}]")]
    if hidden_activation:
        layers.append(nn.Sigmoid(name="sigmoid"))
    layers.append(nn.Linear.from_weights([pi], None, w_labels=lambda k, j: f"pi{j}",
                                         name="output"))
    return nn.Sequential(*layers)


@example("S2-Q3", SEED, "Q3", "A mixture of K logistic regressions as a one-hidden-layer network")
def q3_mixture_network() -> Result:
    rng = random.Random(3)
    d, K = 3, 4
    # Short decimals, as on a worked sheet; the mixing weights sum to one.
    w = [[round(rng.uniform(-2.0, 2.0), 1) for _ in range(d)] for _ in range(K)]
    raw = [rng.randint(1, 5) for _ in range(K)]
    pi = [round(v / sum(raw), 2) for v in raw[:-1]]
    pi.append(round(1.0 - sum(pi), 2))
    x = [Value(round(rng.uniform(-1.5, 1.5), 1), f"x[{j + 1}]") for j in range(d)]
    model = _q3_network(w, pi, hidden_activation=True)
    a = model.layers[1](model.layers[0](x))
    for k, v in enumerate(a):
        v.label = f"a[{k + 1}]"
    out = model.layers[2](a)[0]
    out.label = "P(y=1|x)"
    # The generative model, sampled: z ~ Categorical(pi), then y ~ Bernoulli(sigmoid(w_z . x)).
    xs = [v.data for v in x]
    p_given_z = [1.0 / (1.0 + math.exp(-sum(wj * xj for wj, xj in zip(w[k], xs))))
                 for k in range(K)]
    draws, ones = 40000, 0
    for _ in range(draws):
        z = rng.choices(range(K), weights=pi)[0]
        ones += rng.random() < p_given_z[z]
    freq = ones / draws
    stderr = math.sqrt(out.data * (1.0 - out.data) / draws)
    # The seed's hidden layer as written: a_k = w_k . x, output sum_k a_k pi_k.
    as_written = _q3_network(w, pi, hidden_activation=False)(x)[0].data
    seed_formula = sum(p * s for p, s in zip(pi, p_given_z))  # sum_k sigma(w_k . x) pi_k
    if abs(freq - out.data) >= 4 * stderr or abs(seed_formula - out.data) >= 1e-12:
        raise RuntimeError(f"S2-Q3: the network ({out.data!r}) disagrees with the mixture "
                           f"(sampled {freq!r}, formula {seed_formula!r})")
    written_ok = abs(as_written - out.data) < 4 * stderr
    return Result(
        problem="Binary labels from a mixture of K logistic regressions: draw z from "
                "Categorical(pi), then y from Bernoulli(sigmoid(w_z^T x)). Show P(y=1 | x) is "
                "the output of a network and name its layers, activations and weights; here "
                "d = 3 inputs and K = 4.",
        seed_says="P(y=1|x) = sum_k sigma(w_k^T x) pi_k; network: d inputs, K hidden units "
                  "a_k = (w_k^T x), output sum_k a_k pi_k",
        engine_says=f"network with sigmoid hidden units gives {_fmt(out.data, 6)}, sampling the "
                    f"mixture {_fmt(freq, 6)} (+- {_fmt(stderr, 2)}); hidden units without the "
                    f"sigmoid give {_fmt(as_written, 6)}",
        verdict=judge(written_ok),
        note="the hidden activation must be a_k = sigmoid(w_k^T x), no bias, output weights pi_k "
             "(linear output); the seed's a_k = (w_k^T x), like its Bernoulli(E[w_k^T x]), "
             "drops the sigmoid, though its final sum is right. A smaller slip: the seed sums "
             "P(y=1|z=k|x), a double condition that means the joint P(y=1, z=k | x) = "
             "P(y=1 | z=k, x) P(z=k | x), as its next line expands it; the network computes "
             "that sum with P(y=1 | z=k, x) = sigmoid(w_k^T x) and P(z=k | x) = pi_k",
        values={"w": w, "pi": pi, "x": xs, "network": out.data, "sampled": freq,
                "stderr": stderr, "draws": draws, "seed_formula": seed_formula,
                "as_written": as_written, "hidden": [v.data for v in a]},
        graph=out, extra={"model": model})


# ---- Q4: cross-entropy, KL divergence and entropy ----------------------------------------------

def _bernoulli_terms(x: float, p: Value) -> dict:
    """ce, KL(P||Q) and H(P) for P = Bernoulli(x), Q = Bernoulli(p), from their definitions."""
    P, Q = (1.0 - x, x), (1.0 - p, p)
    ce = nested.total([-P[i] * Q[i].log() for i in (0, 1)])                        # -sum P log Q
    kl = nested.total([P[i] * (math.log(P[i]) - Q[i].log()) for i in (0, 1)])  # sum P log P/Q
    H = -sum(P[i] * math.log(P[i]) for i in (0, 1))                        # -sum P log P
    return {"ce": ce, "kl": kl, "H": H}


@example("S2-Q4", SEED, "Q4", "Cross-entropy with real-valued targets: KL divergence and entropy")
def q4_cross_entropy_kl() -> Result:
    rng = random.Random(44)
    pairs = [(rng.uniform(0.05, 0.95), rng.uniform(0.05, 0.95)) for _ in range(12)]
    res_identity, res_sum, res_difference, seed_entropy, true_entropy = [], [], [], [], []
    grad_gap, grad_at_target, mle_gap = [], [], []
    for x, p0 in pairs:
        p = Value(p0, "p")
        t = _bernoulli_terms(x, p)
        ce_seed = -x * math.log(p0) - (1 - x) * math.log(1 - p0)          # ce(p, x) as defined
        neg_h = x * math.log(x) + (1 - x) * math.log(1 - x)                # the seed's "entropy"
        res_identity.append(abs(t["kl"].data - (ce_seed + neg_h)))         # KL = ce + x log x + ...
        res_sum.append(abs(t["ce"].data - (t["H"] + t["kl"].data)))        # ce = H + KL
        # The prose: ce is the difference of the entropy and the KL divergence, either way.
        res_difference.append(abs(t["ce"].data - abs(t["H"] - t["kl"].data)))
        seed_entropy.append(neg_h)
        true_entropy.append(t["H"])
        gce, gkl = grad(t["ce"], p), grad(t["kl"], p)
        grad_gap.append(abs(gce - gkl))
        at = Value(x)
        grad_at_target.append(abs(grad(_bernoulli_terms(x, at)["ce"], at)))
    for x in (0.0, 1.0):  # Answer 4.1: -log of the Bernoulli likelihood is ce, for binary x
        for p0 in (0.2, 0.7):
            p = Value(p0)
            nll = -((p ** x) * ((1 - p) ** (1 - x))).log()
            mle_gap.append(abs(nll.data - (-x * math.log(p0) - (1 - x) * math.log(1 - p0))))
    identity_ok = max(res_identity) < 1e-12 and max(mle_gap) < 1e-12
    # "That last sum is the entropy of P": the seed's sum against the entropy by definition.
    naming_gap = max(abs(a - b) for a, b in zip(seed_entropy, true_entropy))
    prose_ok = naming_gap < 1e-12 and max(res_difference) < 1e-9
    p = Value(0.3, "p")
    ce = _bernoulli_terms(0.6, p)["ce"]
    ce.label = "ce(p, x=0.6)"
    return Result(
        problem="The cross-entropy ce(p, x) = -x log p - (1 - x) log(1 - p): derive it by "
                "maximum likelihood for binary x, and read it, for real x in (0, 1), through "
                "the KL divergence between Bernoulli(x) and Bernoulli(p).",
        seed_says="KL(P||Q) = ce(p, x) + x log x + (1-x) log(1-x); that last sum is the "
                  "entropy of P; ce is the difference of the entropy and the KL divergence",
        engine_says=f"the identity holds (residual {_fmt(max(res_identity), 2)}); "
                    f"x log x + (1-x) log(1-x) lies in [{_fmt(min(seed_entropy), 3)}, "
                    f"{_fmt(max(seed_entropy), 3)}], minus the entropy; ce = H(P) + KL(P||Q) "
                    f"(residual {_fmt(max(res_sum), 2)})",
        verdict=judge(identity_ok and prose_ok),
        note="H(P) = -(x log x + (1-x) log(1-x)) >= 0, so ce = H(P) + KL(P||Q), a sum; the "
             "seed's 'difference' holds only for its own sum S = -H(P) (ce = KL - S), so its "
             "slip is the sign of the entropy. Minimising ce over p is minimising KL (same "
             "gradient, zero at p = x)",
        values={"pairs": pairs, "identity_residual": max(res_identity),
                "sum_residual": max(res_sum), "difference_residual_min": min(res_difference),
                "naming_gap": naming_gap,
                "seed_entropy": seed_entropy, "entropy": true_entropy,
                "grad_ce_minus_grad_kl": max(grad_gap), "grad_ce_at_p_eq_x": max(grad_at_target),
                "mle_residual": max(mle_gap)},
        graph=ce)


# ---- Q5: one gradient-descent step -------------------------------------------------------------

def _q5_f(x: Value, y: Value) -> Value:
    return y ** 2 + (y - x) ** 2


def _q5_eigenvalues(H: list) -> tuple:
    """(smallest, largest) eigenvalue of a symmetric 2 x 2 matrix, in closed form."""
    tr = H[0][0] + H[1][1]
    det = H[0][0] * H[1][1] - H[0][1] * H[1][0]
    half_gap = math.sqrt(tr * tr / 4 - det)
    return tr / 2 - half_gap, tr / 2 + half_gap


def _q5_newton(start: tuple) -> tuple:
    """The engine's gradient and Hessian (second derivatives through ``create_graph``) at
    ``start``, the minimum one Newton step away (exact, as f is quadratic), the eigenvalues."""
    xv, yv = Value(start[0]), Value(start[1])
    g0 = grad(_q5_f(xv, yv), [xv, yv])
    H = analytic_hessian(_q5_f, start)
    det = H[0][0] * H[1][1] - H[0][1] * H[1][0]
    inv = [[H[1][1] / det, -H[0][1] / det], [-H[1][0] / det, H[0][0] / det]]
    minimum = [start[i] - (inv[i][0] * g0[0] + inv[i][1] * g0[1]) for i in range(2)]
    return g0, H, minimum, _q5_eigenvalues(H)


Q5_STEPS = (0.01, 0.1, 10.0)
#: The seed's numbers for s = 0.01, 0.1, 10: (x1, y1) and the distance, rounded to 2 decimals.
Q5_SEED = {0.01: (1.0, 0.98, 1.40), 0.1: (1.0, 0.8, 1.28), 10.0: (1.0, -19.0, 19.03)}


@example("S2-Q5", SEED, "Q5", "Minimum of y^2 + (y - x)^2 and one gradient-descent step from "
         "(1, 1)")
def q5_gradient_step() -> Result:
    start = (1.0, 1.0)
    g0, H, minimum, (lam_min, lam_max) = _q5_newton(start)
    xm, ym = Value(minimum[0]), Value(minimum[1])
    grad_at_min = grad(_q5_f(xm, ym), [xm, ym])
    # The seed's partial derivatives, transcribed, against autodiff at random points.
    rng = random.Random(55)
    formula_gap = 0.0
    for _ in range(10):
        a, b = rng.uniform(-3, 3), rng.uniform(-3, 3)
        va, vb = Value(a), Value(b)
        ga, gb = grad(_q5_f(va, vb), [va, vb])
        formula_gap = max(formula_gap, abs(ga - (-2 * (b - a))), abs(gb - (2 * b + 2 * (b - a))))
    steps: dict[float, dict[str, Any]] = {}     # step size -> the new point and its numbers
    records: dict[float, list] = {}
    for s in Q5_STEPS:
        x, y = Value(start[0], "x"), Value(start[1], "y")
        f = _q5_f(x, y)
        f.backward()
        step = SGD([x, y], lr=s).step()        # x <- x - s df/dx, y <- y - s df/dy
        new = (x.data, y.data)
        dist = math.hypot(new[0] - minimum[0], new[1] - minimum[1])
        steps[s] = {"x1": new[0], "y1": new[1], "distance": dist,
                    "f0": f.data, "f1": _q5_f(Value(new[0]), Value(new[1])).data,
                    "grad": (step[0].grad, step[1].grad)}
        records[s] = [(name, rec.old, rec.grad, rec.new)
                      for name, rec in zip(("x", "y"), step)]
    # The graph at the starting point, for step-through and pictures (s = 0.1 as the example).
    x, y = Value(start[0], "x"), Value(start[1], "y")
    graph = _q5_f(x, y)
    graph.label = "f"
    ok = (formula_gap < 1e-12 and all(abs(v) < 1e-12 for v in minimum) and
          all(abs(steps[s]["x1"] - Q5_SEED[s][0]) < 1e-12 and
              abs(steps[s]["y1"] - Q5_SEED[s][1]) < 1e-12 and
              round(steps[s]["distance"], 2) == Q5_SEED[s][2] for s in Q5_STEPS))
    return Result(
        problem="Minimise f(x, y) = y^2 + (y - x)^2: find the minimum, then take one "
                "gradient-descent step from (1, 1) with step sizes 0.01, 0.1 and 10 and give "
                "each new point's distance to the minimum.",
        seed_says="minimum (0, 0); (x1, y1) = (1, 0.98), (1, 0.8), (1, -19); distances "
                  "1.40, 1.28, 19.03",
        engine_says=f"minimum ({_fmt(minimum[0] + 0.0)}, {_fmt(minimum[1] + 0.0)}); "
                    + "; ".join(f"s = {s}: ({_fmt(steps[s]['x1'])}, {_fmt(steps[s]['y1'])}), "
                                f"distance {steps[s]['distance']:.4f}" for s in Q5_STEPS)
                    + f"; steps above 2/lambda_max = {2 / lam_max:.3f} diverge",
        verdict=judge(ok),
        note=f"gradient at (1, 1) is ({_fmt(g0[0] + 0.0)}, {_fmt(g0[1])}); the Hessian "
             f"{H} has eigenvalues {_fmt(lam_min)}, {_fmt(lam_max)} > 0, so the stationary "
             f"point is the minimum; s = 10 overshoots (f: {_fmt(steps[10.0]['f0'])} -> "
             f"{_fmt(steps[10.0]['f1'])})",
        values={"minimum": minimum, "grad_at_min": grad_at_min, "hessian": H,
                "eigenvalues": [lam_min, lam_max], "formula_gap": formula_gap,
                "grad_at_start": g0, "steps": steps},
        graph=graph,
        extra={"params": [x, y], "wrt": "y", "lr": 0.1, "steps": records,
               "updates": {v: (rec[1], rec[2], 0.1, rec[3]) for v, rec in zip((x, y),
                                                                             records[0.1])}})


# ---- Q5.3: the step size, the stability threshold 2/lambda_max, and momentum -------------------

Q53_TOL, Q53_MAX_STEPS, Q53_BLOW_UP = 1e-4, 3000, 1e3


def _q53_descend(lr: float, momentum: float = 0.0, start: tuple = (1.0, 1.0)) -> dict:
    """Run ``optim.SGD`` (momentum as PyTorch's) on f(x, y) = y^2 + (y - x)^2 from ``start``
    until the distance to the minimum (0, 0) is below Q53_TOL, grows past Q53_BLOW_UP, or
    Q53_MAX_STEPS steps are made."""
    x, y = Value(start[0], "x"), Value(start[1], "y")
    opt = SGD([x, y], lr=lr, momentum=momentum)
    distances = [math.hypot(*start)]
    while len(distances) <= Q53_MAX_STEPS:
        opt.zero_grad()
        _q5_f(x, y).backward()
        opt.step()
        distances.append(math.hypot(x.data, y.data))
        if distances[-1] < Q53_TOL or distances[-1] > Q53_BLOW_UP:
            break
    steps = len(distances) - 1
    converged = distances[-1] < Q53_TOL
    return dict(lr=lr, momentum=momentum, steps=steps if converged else None,
                converged=converged, diverged=distances[-1] > distances[0],
                final=distances[-1], distances=distances[:6])


def _steps_text(run: dict) -> str:
    if run["converged"]:
        return f"{run['steps']} steps"
    return "diverges" if run["diverged"] else f"not there in {Q53_MAX_STEPS} steps"


@example("S2-Q5.3", SEED, "Q5.3", "Step sizes on y^2 + (y - x)^2: the threshold 2/lambda_max, "
         "and what momentum does")
def q5_3_step_sizes() -> Result:
    _, H, _, (lam_min, lam_max) = _q5_newton((1.0, 1.0))
    threshold = 2.0 / lam_max                          # GD is stable iff s < 2/lambda_max
    best_lr = 2.0 / (lam_min + lam_max)                # the fastest fixed step of plain GD
    # Heavy ball tuned to the curvature: the classical best lr and momentum for a quadratic.
    hb_lr = 4.0 / (math.sqrt(lam_max) + math.sqrt(lam_min)) ** 2
    hb_mu = ((math.sqrt(lam_max) - math.sqrt(lam_min))
             / (math.sqrt(lam_max) + math.sqrt(lam_min))) ** 2
    plain = {name: _q53_descend(lr) for name, lr in (
        ("0.01", 0.01), ("0.1", 0.1), ("best", best_lr), ("below", 0.99 * threshold),
        ("above", 1.01 * threshold), ("10", 10.0))}
    heavy = {name: _q53_descend(lr, mu) for name, (lr, mu) in (
        ("0.1, 0.5", (0.1, 0.5)), ("0.1, 0.9", (0.1, 0.9)), ("tuned", (hb_lr, hb_mu)),
        ("above, tuned", (1.01 * threshold, hb_mu)))}
    big_fails = plain["10"]["diverged"]
    small_slower = (plain["0.01"]["converged"] and plain["0.1"]["converged"]
                    and plain["0.01"]["steps"] > plain["0.1"]["steps"])
    # "Momentum speeds convergence up": tuned, it beats the best plain step; at s = 0.1 a
    # moderate momentum beats plain s = 0.1.
    momentum_faster = (heavy["tuned"]["converged"] and heavy["0.1, 0.5"]["converged"]
                       and heavy["tuned"]["steps"] < plain["best"]["steps"]
                       and heavy["0.1, 0.5"]["steps"] < plain["0.1"]["steps"])
    threshold_seen = plain["below"]["converged"] and plain["above"]["diverged"]
    too_much_is_slower = (heavy["0.1, 0.9"]["steps"] or math.inf) > plain["0.1"]["steps"]
    x, y = Value(1.0, "x"), Value(1.0, "y")
    dfdy = grad(_q5_f(x, y), y, create_graph=True)
    dfdy.label = "g"
    return Result(
        problem="Gradient descent on f(x, y) = y^2 + (y - x)^2 from (1, 1) with step sizes "
                "0.01, 0.1 and 10 (S2-Q5): what does the step size do, and does momentum help? "
                "The Hessian's largest eigenvalue sets the largest stable step.",
        seed_says="a big step (s = 10) overshoots and does not converge; a small one "
                  "(s = 0.01) converges very slowly; s = 0.1 converges efficiently; momentum "
                  "accelerates the descent and so speeds up convergence",
        engine_says=f"Hessian eigenvalues {_fmt(lam_min)}, {_fmt(lam_max)}: 2/lambda_max = "
                    f"{_fmt(threshold)}. Steps to distance {Q53_TOL:g}: s = 0.01: "
                    f"{_steps_text(plain['0.01'])}; s = 0.1: {_steps_text(plain['0.1'])}; "
                    f"the best s = {_fmt(best_lr)}: {_steps_text(plain['best'])}; "
                    f"s = 0.99 * 2/lambda_max: {_steps_text(plain['below'])}; "
                    f"s = 1.01 * 2/lambda_max: {_steps_text(plain['above'])}; s = 10: "
                    f"{_steps_text(plain['10'])}. With momentum mu: s = 0.1, mu = 0.5: "
                    f"{_steps_text(heavy['0.1, 0.5'])}; s = 0.1, mu = 0.9: "
                    f"{_steps_text(heavy['0.1, 0.9'])}; tuned s = {_fmt(hb_lr)}, mu = "
                    f"{_fmt(hb_mu)}: {_steps_text(heavy['tuned'])}; "
                    f"s = 1.01 * 2/lambda_max, mu = {_fmt(hb_mu)}: "
                    f"{_steps_text(heavy['above, tuned'])}",
        verdict=judge(big_fails and small_slower and momentum_faster),
        note="plain GD converges exactly when s < 2/lambda_max "
             + ("(seen: 0.99x converges, 1.01x diverges)" if threshold_seen else
                "(yet this run did not show it)")
             + f"; s = 0.1 works but is {best_lr / 0.1:.1f} times smaller than the best fixed "
             "step 2/(lambda_min + lambda_max). Momentum tuned to the curvature beats that "
             "best plain step"
             + (" and lets the step pass 2/lambda_max (the heavy ball is stable up to "
                "2(1 + mu)/lambda_max)" if heavy["above, tuned"]["converged"] else "")
             + ("; too much of it (mu = 0.9 at s = 0.1) is slower than none"
                if too_much_is_slower else "")
             + ". The quadratic has one minimum, so the seed's 'small pits' and its early "
             "stopping cannot be checked here. The step-through differentiates g = df/dy "
             "once more: dg/dy is the Hessian entry d2f/dy2",
        values={"hessian": H, "eigenvalues": [lam_min, lam_max], "threshold": threshold,
                "best_lr": best_lr, "heavy_ball": {"lr": hb_lr, "momentum": hb_mu},
                "plain": plain, "momentum": heavy, "threshold_seen": threshold_seen,
                "claims": {"big_fails": big_fails, "small_slower": small_slower,
                           "momentum_faster": momentum_faster}},
        graph=dfdy, extra={"wrt": "y"})
