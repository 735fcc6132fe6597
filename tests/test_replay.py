"""Replay of a recorded graph equals the eager engine bit for bit: values and gradients."""
from __future__ import annotations

import math
import random

import pytest

from microgradnet import DomainError, StaleGraphError, Value, apply, maximum, minimum
from microgradnet.ops import OPS
from microgradnet.replay import compile_forward, compile_graph
from microgradnet.training import make_moons


def bits(x: float) -> str:
    """The exact float, sign of zero included."""
    return float(x).hex()


def assert_same_bits(actual, expected, what: str = "") -> None:
    actual, expected = list(actual), list(expected)
    assert len(actual) == len(expected), f"{what}: {len(actual)} != {len(expected)}"
    for i, (a, e) in enumerate(zip(actual, expected)):
        assert bits(a) == bits(e), f"{what}[{i}]: replay {a!r} != eager {e!r}"


def eager(build, values):
    """Build the graph on fresh leaves holding ``values``, run backward, return out and grads."""
    leaves = [Value(v) for v in values]
    root = build(leaves)
    root.backward()
    return root.data, [leaf.grad for leaf in leaves]


def check_replay(build, values_list):
    """Compile on the first values, replay on every set, compare with a fresh eager build."""
    leaves = [Value(v) for v in values_list[0]]
    fn = compile_graph(build(leaves), leaves)
    for values in values_list:
        out, grads = fn(values)
        e_out, e_grads = eager(build, values)
        assert bits(out) == bits(e_out), f"output: replay {out!r} != eager {e_out!r}"
        assert_same_bits(grads, e_grads, "grads")
    return fn


# ---- micrograd's demo: MLP(2, [16, 16, 1]), ReLU, max-margin loss + L2 ---------------------------

def demo_builder(n_points: int, sizes=(2, 16, 16, 1)):
    n_params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))

    def build(leaves):
        xs = leaves[:2 * n_points]
        ys = leaves[2 * n_points:3 * n_points]
        params = leaves[3 * n_points:]
        assert len(params) == n_params
        losses = []
        for k in range(n_points):
            h = xs[2 * k:2 * k + 2]
            pos = 0
            for li, (nin, nout) in enumerate(zip(sizes, sizes[1:])):
                out = []
                for _ in range(nout):
                    w = params[pos:pos + nin]
                    b = params[pos + nin]
                    pos += nin + 1
                    s = w[0] * h[0]
                    for wi, hi in zip(w[1:], h[1:]):
                        s = s + wi * hi
                    s = s + b
                    out.append(s.relu() if li < len(sizes) - 2 else s)
                h = out
            losses.append((1 + -ys[k] * h[0]).relu())
        total = losses[0]
        for x in losses[1:]:
            total = total + x
        reg = params[0] * params[0]
        for p in params[1:]:
            reg = reg + p * p
        return total * (1.0 / n_points) + 1e-4 * reg

    return build, n_params


def demo_values(n_points: int, n_params: int, seed: int) -> list:
    rng = random.Random(seed)
    X, y = make_moons(n_points, noise=0.1, seed=seed)
    return ([c for point in X for c in point] + [float(label) for label in y]
            + [rng.uniform(-1, 1) for _ in range(n_params)])


def test_demo_mlp_step_equals_eager_to_the_last_bit():
    build, n_params = demo_builder(20)
    check_replay(build, [demo_values(20, n_params, s) for s in (0, 1, 2)])


def test_demo_training_with_replay_follows_eager_training_exactly():
    build, n_params = demo_builder(10, sizes=(2, 8, 1))
    values = demo_values(10, n_params, 3)
    leaves = [Value(v) for v in values]
    fn = compile_graph(build(leaves), leaves)
    n_data = 30
    params_r = values[n_data:]
    params_e = list(params_r)
    for step in range(5):
        lr = 1.0 - 0.9 * step / 100
        _, grads = fn(values[:n_data] + params_r)
        params_r = [p - lr * g for p, g in zip(params_r, grads[n_data:])]
        _, e_grads = eager(build, values[:n_data] + params_e)
        params_e = [p - lr * g for p, g in zip(params_e, e_grads[n_data:])]
    assert_same_bits(params_r, params_e, "params after 5 steps")


# ---- a small CNN: conv 3x3, relu, 2x2 max-pool from `maximum`, linear, cross-entropy ---------

def cnn_build(leaves):
    """Input 1x5x5 (25 leaves), 2 filters 3x3 (+bias), pool 2x2 stride 1 on 3x3 -> 2x2,
    linear 8 -> 3, softmax cross-entropy with a max shift built from `maximum`, one-hot target."""
    x = leaves[:25]
    pos = 25
    filters = []
    for _ in range(2):
        filters.append((leaves[pos:pos + 9], leaves[pos + 9]))
        pos += 10
    feats = []
    for w, b in filters:
        fmap = [[None] * 3 for _ in range(3)]
        for i in range(3):
            for j in range(3):
                s = b
                for di in range(3):
                    for dj in range(3):
                        s = s + w[3 * di + dj] * x[5 * (i + di) + j + dj]
                fmap[i][j] = s.relu()
        for i in range(2):
            for j in range(2):
                m = maximum(maximum(fmap[i][j], fmap[i][j + 1]),
                            maximum(fmap[i + 1][j], fmap[i + 1][j + 1]))
                feats.append(m)
    logits = []
    for _ in range(3):
        w, b = leaves[pos:pos + 8], leaves[pos + 8]
        pos += 9
        s = b
        for wi, f in zip(w, feats):
            s = s + wi * f
        logits.append(s)
    onehot = leaves[pos:pos + 3]
    shift = maximum(maximum(logits[0], logits[1]), logits[2])
    z = [lg - shift for lg in logits]
    lse = (z[0].exp() + z[1].exp() + z[2].exp()).log()
    return lse - (onehot[0] * z[0] + onehot[1] * z[1] + onehot[2] * z[2])


def test_cnn_with_max_pool_equals_eager_to_the_last_bit():
    values_list = []
    for seed in range(4):
        rng = random.Random(seed)
        x = [rng.choice([0.0, 0.5, 1.0]) for _ in range(25)]   # ties in the pooling windows
        params = [rng.uniform(-1, 1) for _ in range(20 + 27)]
        target = [0.0, 0.0, 0.0]
        target[seed % 3] = 1.0
        values_list.append(x + params + target)
    check_replay(cnn_build, values_list)


# ---- random graphs over every op, kinks and ties included ------------------------------------

# Every one-input op of the table (so a new op is replayed with no edit here), then the
# parameterised ops away from their defaults and a few mixed forms.
UNARY = [(lambda a, op=op: apply(op, a)) for op in OPS.values() if op.arity == 1] + [
    lambda a: a.relu(kink=1.0), lambda a: a.leaky_relu(0.2, kink=0.5),
    lambda a: a.abs(kink=0.25), lambda a: a.swish(beta=2.0), lambda a: a.elu(0.5),
    lambda a: a ** 2, lambda a: a ** 3, lambda a: a ** 0.5, lambda a: a ** -1, lambda a: a ** 0,
    lambda a: a ** 1, lambda a: a * 0.5 + 1.0, lambda a: 2.0 - a, lambda a: 1.0 / a,
]
BINARY = [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
    lambda a, b: a ** b, lambda a, b: maximum(a, b), lambda a, b: minimum(a, b),
    lambda a, b: maximum(a, b, tie=0.25), lambda a, b: minimum(a, b, tie=1.0),
    lambda a, b: a * a, lambda a, b: a + a,
]


def random_program(rng: random.Random, n_leaves: int, n_ops: int) -> list:
    """A program: each step (kind, op index, operand indices) into the growing node list."""
    program = []
    for k in range(n_ops):
        binary = rng.random() < 0.5
        op = rng.randrange(len(BINARY) if binary else len(UNARY))
        program.append((binary, op, rng.randrange(n_leaves + k), rng.randrange(n_leaves + k)))
    return program


def run_program(program, leaves):
    nodes = list(leaves)
    for binary, k, i, j in program:
        try:
            nodes.append(BINARY[k](nodes[i], nodes[j]) if binary else UNARY[k](nodes[i]))
        except DomainError:
            nodes.append(nodes[i])      # keeps the program's shape on any values
    root = nodes[-1]
    for extra in nodes[len(leaves):-1:3]:   # several paths into the root
        root = root + extra
    return root


def test_every_op_of_the_table_is_covered_by_the_random_graphs():
    from microgradnet import ops as op_table
    a, b = Value(0.7), Value(0.3)
    used = {f(a).op for f in UNARY} | {f(a, b).op for f in BINARY}
    assert set(op_table.OPS) <= used | {"**"} and "**" in used


@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_equal_eager_values_and_gradients(seed):
    rng = random.Random(seed)
    n_leaves = rng.randint(1, 4)
    pool = [0.0, 0.0, 1.0, -1.0, 0.5, 2.0, -0.5, 1.5]   # zeros and repeats hit kinks and ties

    def draw():
        return [rng.choice(pool) if rng.random() < 0.4 else rng.uniform(-2, 2)
                for _ in range(n_leaves)]

    program = random_program(rng, n_leaves, rng.randint(1, 12))
    first = draw()
    leaves = [Value(v) for v in first]
    fn = compile_graph(run_program(program, leaves), leaves)
    for values in [first] + [draw() for _ in range(6)]:
        # The eager graph on new values may differ in shape (an op hit its domain and was
        # replaced); replay only promises the recorded shape, so compare where they agree.
        probe = [Value(v) for v in values]
        if _shape(run_program(program, probe)) != _shape(fn.root):
            continue
        try:
            e_out, e_grads = eager(lambda ls: run_program(program, ls), values)
        except ArithmeticError:     # a gradient out of a domain, e.g. sqrt'(0)
            with pytest.raises(DomainError):
                fn(values)
            continue
        try:
            out, grads = fn(values)
        except DomainError:
            pytest.fail(f"replay raised where eager did not, on {values}")
        assert bits(out) == bits(e_out), f"{values}: replay {out!r} != eager {e_out!r}"
        assert_same_bits(grads, e_grads, f"grads on {values}")


def _shape(root):
    from microgradnet import topological_order
    return [n.op for n in topological_order(root)]


# ---- the kinks, domain errors and the guarded zero-gradient branch -------------------------------

def test_relu_kink_value_is_the_op_records_value():
    x = Value(1.0)
    fn = compile_graph(x.relu(kink=1.0) + x.relu(), [x])
    assert fn([0.0]) == (0.0, [1.0])
    assert fn([-2.0]) == (0.0, [0.0])
    assert fn([3.0]) == (6.0, [2.0])


def test_maximum_tie_splits_the_gradient_as_the_op_says():
    a, b = Value(1.0), Value(2.0)
    fn = compile_graph(maximum(a, b, tie=0.25), [a, b])
    assert fn([3.0, 3.0]) == (3.0, [0.25, 0.75])
    assert fn([4.0, 3.0]) == (4.0, [1.0, 0.0])


def test_sqrt_of_zero_on_a_dead_branch_is_skipped_like_eager():
    x = Value(4.0)
    root = (-x.sqrt()).relu() + x      # at x = 0 the sqrt node gets gradient 0
    fn = compile_graph(root, [x])
    e_out, e_grads = eager(lambda ls: (-ls[0].sqrt()).relu() + ls[0], [0.0])
    assert fn([0.0]) == (e_out, e_grads)


def test_a_value_outside_the_domain_raises_the_engines_domain_error():
    x = Value(2.0)
    fn = compile_graph(x.log() * 3.0, [x])
    with pytest.raises(DomainError, match="log"):
        fn([-1.0])
    y = Value(1.0)
    fn = compile_graph((y * 1e100) * (y * 1e100), [y])
    with pytest.raises(DomainError, match="not a finite number"):
        fn([1e110])


def test_constants_are_fixed_and_unlisted_leaves_get_no_gradient():
    x, c = Value(2.0), Value(3.0)
    fn = compile_graph(x * c, [x])
    assert fn([5.0]) == (15.0, [3.0])
    fn = compile_graph(x * c, [x, c], grad_leaves=[c])
    assert fn([5.0, 4.0]) == (20.0, [0.0, 5.0])


def test_a_leaf_outside_the_graph_gets_zero_and_the_root_may_be_a_leaf():
    x, y = Value(2.0), Value(3.0)
    fn = compile_graph(x, [x, y])
    assert fn([7.0, 1.0]) == (7.0, [1.0, 0.0])


def test_backward_adds_to_leaf_grads_like_value_backward():
    w, x = Value(0.5), Value(2.0)
    root = (w * x).tanh()
    fn = compile_graph(root, [w, x])
    fn.load([0.25, -1.0])
    out = fn.backward()
    e_out, e_grads = eager(lambda ls: (ls[0] * ls[1]).tanh(), [0.25, -1.0])
    assert (out, w.grad, x.grad) == (e_out, e_grads[0], e_grads[1])
    fn.backward()
    assert w.grad == e_grads[0] + e_grads[0]
    # the recorded nodes still hold the first forward pass, read from the old leaf values
    with pytest.raises(StaleGraphError, match="assigned after"):
        root.backward()


def test_compile_forward_returns_every_output():
    a, b = Value(1.0), Value(2.0)
    fwd = compile_forward([a * b, maximum(a, b), a.exp()], [a, b])
    assert fwd([3.0, -1.0]) == [-3.0, 3.0, math.exp(3.0)]


def test_bad_arguments_name_the_problem():
    a = Value(1.0)
    b = a * 2
    with pytest.raises(ValueError, match="not a leaf"):
        compile_graph(b, [b])
    with pytest.raises(ValueError, match="twice"):
        compile_graph(b, [a, a])
    with pytest.raises(TypeError, match="Value"):
        compile_graph(b, [1.0])
    fn = compile_graph(b, [a])
    with pytest.raises(ValueError, match="expected 1 values"):
        fn([1.0, 2.0])


# ---- a graph cut into many compiled pieces -----------------------------------------------------
# Big graphs are compiled as several functions that hand numbers over; forcing pieces of a few
# lines makes every small graph above such a graph, so every hand-over path is exercised.

@pytest.fixture(params=[1, 2, 3, 7], ids=lambda n: f"{n}-line pieces")
def tiny_pieces(request, monkeypatch):
    from microgradnet import replay
    monkeypatch.setattr(replay, "PIECE_LINES", (request.param, request.param))
    return request.param


@pytest.mark.parametrize("seed", range(12))
def test_random_graphs_in_tiny_pieces_equal_eager(seed, tiny_pieces):
    test_random_graphs_equal_eager_values_and_gradients(seed)


def test_demo_and_cnn_in_tiny_pieces_equal_eager(tiny_pieces):
    build, n_params = demo_builder(3, sizes=(2, 4, 1))
    fn = check_replay(build, [demo_values(3, n_params, s) for s in (0, 1)])
    assert len(fn._pieces) > 10
    values = []
    for seed in range(2):
        rng = random.Random(seed)
        values.append([rng.choice([0.0, 0.5, 1.0]) for _ in range(25)]
                      + [rng.uniform(-1, 1) for _ in range(47)] + [0.0, 1.0, 0.0])
    check_replay(cnn_build, values)


def test_forward_replay_in_tiny_pieces_equals_eager(tiny_pieces):
    a, b = Value(1.0), Value(2.0)
    outs = [a * b, maximum(a, b), (a - b).exp(), Value(3.0) * 2.0, a]
    fwd = compile_forward(outs, [a, b])
    for x, y in [(3.0, -1.0), (0.5, 0.5)]:
        expected = [o.data for o in [x * Value(y), maximum(Value(x), Value(y)),
                                     (Value(x) - Value(y)).exp(), Value(6.0), Value(x)]]
        assert_same_bits(fwd([x, y]), expected, "outputs")


def test_the_source_is_the_code_that_runs(tiny_pieces):
    x, w = Value(0.5), Value(-2.0)
    fn = compile_graph((x * w).tanh() + w.relu(), [x, w])
    env: dict = dict(math.__dict__)
    exec(fn.source, env)
    n_pieces = fn.source.count("def _piece")
    assert n_pieces == len(fn._pieces) > 1
    assert [f.__code__.co_code for f in fn._pieces] == \
        [env[f"_piece{p}"].__code__.co_code for p in range(n_pieces)]
