"""The engine: Value nodes, their read-only views, the graph structure, backward and its traps
(reused nodes, a chain far deeper than the recursion limit, repeated backward, zero_grad)."""
from __future__ import annotations

import gc
import math
import sys
from fractions import Fraction

import pytest

from helpers import assert_close
from microgradnet import Value, _walk, grad, maximum, scope, topological_order

DEPTH = 1_000_000


# ---- Value -------------------------------------------------------------------------------------

def test_value_stores_a_float():
    for x in (3, -2, 0, 2.5, Fraction(1, 4)):
        v = Value(x)
        assert type(v.data) is float and v.data == float(x)
    assert Value(1.0).grad == 0.0 and type(Value(1).grad) is float


def test_value_accepts_numpy_scalars():
    np = pytest.importorskip("numpy")
    for x in (np.float64(0.25), np.float32(0.5), np.int64(3)):
        v = Value(x)
        assert type(v.data) is float and v.data == float(x)


def test_leaf_has_no_op_no_parents_and_an_empty_label():
    v = Value(1.5)
    assert v.op == "" and v.parents == () and v.primitive is None and v.is_leaf
    assert v.label == ""


def test_label_is_settable_and_must_be_a_string():
    v = Value(1.0, label="w1")
    assert v.label == "w1"
    v.label = "w2"
    assert v.label == "w2"
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


@pytest.mark.parametrize("attr", ["op", "parents", "primitive", "scope", "is_leaf"])
def test_structural_views_are_read_only(attr):
    v = Value(1.0) * 2
    with pytest.raises(AttributeError):
        setattr(v, attr, getattr(v, attr))


def test_repr_shows_data_grad_op_and_label():
    w = Value(2.0, label="w21")
    w.grad = -1.5
    assert repr(w) == "Value(data=2.0, grad=-1.5, label='w21')"
    y = w * 3
    assert "op='*'" in repr(y) and "data=6.0" in repr(y)


def test_a_format_spec_formats_the_value():
    v = Value(2.0 / 3.0, label="p") * 1.0
    assert f"{v:.4f}" == "0.6667" and f"{v:>8.2e}" == "6.67e-01"
    assert f"{v}" == repr(v)
    with pytest.raises(ValueError):
        f"{v:d}"  # an integer spec on a float, as for a float


def test_equality_is_identity_so_nodes_are_hashable():
    a, b = Value(1.0), Value(1.0)
    assert a is not b and a != b and len({a, b, a}) == 2


def test_comparisons_read_the_data():
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= b and b > a and b >= a and a < 1.5 and b > 1.5
    assert max([a, b]) is b and sorted([b, a]) == [a, b]


# ---- structure ---------------------------------------------------------------------------------

def test_parents_are_ordered_and_keep_duplicates():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    assert (a * a).parents == (a, a)
    assert (a + a).parents == (a, a)
    assert (a - b).parents == (a, b)
    assert (b - a).parents == (b, a)
    assert (a / b).parents == (a, b)
    assert (a ** b).parents == (a, b)
    assert maximum(b, a).parents == (b, a)
    assert a.tanh().parents == (a,)
    assert (a ** 2).parents == (a,)


def test_numbers_become_leaves_on_their_own_side():
    a = Value(2.0)
    right = a - 5
    left = 5 - a
    assert right.parents[0] is a and right.parents[1].is_leaf and right.parents[1].data == 5.0
    assert left.parents[1] is a and left.parents[0].is_leaf and left.parents[0].data == 5.0
    assert (right.data, left.data) == (-3.0, 3.0)
    assert (2 ** a).parents[1] is a and (2 ** a).op == "**"


def test_op_names_follow_the_table():
    a, b = Value(0.5), Value(2.0)
    made = {"+": a + b, "-": a - b, "*": a * b, "/": a / b, "neg": -a, "**": a ** b,
            "**2": a ** 2, "**-0.5": a ** -0.5, "exp": a.exp(), "log": a.log(),
            "sqrt": a.sqrt(), "tanh": a.tanh(), "sigmoid": a.sigmoid(), "relu": a.relu(),
            "leaky_relu": a.leaky_relu(), "softplus": a.softplus(), "swish": a.swish(),
            "abs": abs(a), "max": maximum(a, b)}
    for name, node in made.items():
        assert node.op == name and node.primitive.name == name
    assert +a is a


def _is_inputs_first(order):
    where = {id(n): i for i, n in enumerate(order)}
    return all(where[id(p)] < i for i, n in enumerate(order) for p in n.parents)


def test_topological_order_is_inputs_first_with_each_node_once():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    order = topological_order(d)
    # Depth-first, parents in order: each node right after everything it needs.
    assert [n.label for n in order] == ["a", "b", "c", "d"]
    assert _is_inputs_first(order) and order[-1] is d
    assert topological_order(a) == [a]


def _graph():
    x, y = Value(0.3, label="x"), Value(-1.2, label="y")
    h = (x * y).tanh() + x
    return ((h * h).exp() + maximum(h, y) * x.sigmoid()) / (y * y + 1)


def test_topological_order_is_the_same_on_every_build():
    first = [(n.op, n.label, n.data) for n in topological_order(_graph())]
    second = [(n.op, n.label, n.data) for n in topological_order(_graph())]
    assert first == second
    order = topological_order(_graph())
    assert _is_inputs_first(order) and len(set(map(id, order))) == len(order)


def test_topological_order_of_several_roots_shares_nodes():
    x = Value(1.0)
    h = x * 2
    u, v = h + 1, h * h
    order = topological_order(u, v, u)
    assert len(order) == len({id(n) for n in order}) == 6  # x, the 2, h, the 1, u, v
    assert _is_inputs_first(order)
    with pytest.raises(TypeError):
        topological_order(1.0)


def test_scope_tags_nodes_made_inside_the_block():
    with scope("layer1"):
        w = Value(0.5)
        with scope("neuron0"):
            y = w * 2
        z = y + 1
    outside = z * 1
    assert w.scope == ("layer1",) and y.scope == ("layer1", "neuron0")
    assert z.scope == ("layer1",) and outside.scope == ()
    with pytest.raises(RuntimeError):
        with scope("broken"):
            raise RuntimeError
    assert Value(1.0).scope == ()


# ---- backward: the traps -----------------------------------------------------------------------

def test_reused_node_in_a_sum_counts_every_path():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    assert grad(a + a, a) == 2.0


def test_reused_node_in_a_product_counts_every_path():
    a = Value(3.0)
    b = a * a
    b.backward()
    assert a.grad == 6.0
    assert grad(a * a, a) == 6.0


def test_diamond_accumulates_four_paths():
    a = Value(1.5)
    b = a + a
    c = b + b
    c.backward()
    assert (a.grad, b.grad, c.grad) == (4.0, 2.0, 1.0)
    assert grad(c, [a, b]) == [4.0, 2.0]


def test_node_reused_through_different_ops_gets_the_sum_of_its_paths():
    x = Value(0.7)
    y = x.tanh() * x.exp() + x * x
    y.backward()
    t, e = math.tanh(0.7), math.exp(0.7)
    assert_close(x.grad, (1 - t * t) * e + t * e + 2 * 0.7)


def test_backward_fills_every_node_leaves_and_intermediates():
    a, b = Value(2.0), Value(-3.0)
    c = a * b
    d = c.tanh()
    d.backward()
    s = 1 - math.tanh(-6.0) ** 2
    assert d.grad == 1.0
    assert_close(c.grad, s)
    assert_close(a.grad, s * -3.0)
    assert_close(b.grad, s * 2.0)


def test_backward_twice_accumulates_on_leaves_and_refreshes_intermediates():
    a, b = Value(2.0), Value(3.0)
    c = a * b
    d = c + a
    d.backward()
    once = (a.grad, b.grad)
    d.backward()
    assert (a.grad, b.grad) == (2 * once[0], 2 * once[1]) == (8.0, 4.0)
    assert (c.grad, d.grad) == (1.0, 1.0)  # the latest pass only


def test_backward_of_another_output_refreshes_shared_intermediates():
    a = Value(2.0)
    c = a * 3
    (c + 1).backward()
    (c * 5).backward()
    assert c.grad == 5.0      # intermediate: the latest pass
    assert a.grad == 3.0 + 15.0  # leaf: both passes


def test_zero_grad_resets_the_whole_graph():
    a, b = Value(2.0), Value(3.0)
    c = a * b
    d = c + a
    d.backward()
    d.zero_grad()
    assert all(n.grad == 0.0 for n in (a, b, c, d))
    d.backward()
    assert (a.grad, b.grad, c.grad, d.grad) == (4.0, 2.0, 1.0, 1.0)


def test_backward_seed_scales_every_gradient():
    x = Value(2.0)
    y = x * x
    y.backward(2.5)
    assert (y.grad, x.grad) == (2.5, 10.0)


def test_backward_of_a_leaf_gives_it_gradient_one():
    x = Value(2.0)
    x.backward()
    assert x.grad == 1.0


def test_node_the_output_does_not_depend_on_gets_zero():
    x, z = Value(2.0), Value(5.0)
    y = x * 3
    y.backward()
    assert z.grad == 0.0
    assert grad(y, [x, z]) == [3.0, 0.0]
    zero = grad(y, z, create_graph=True)
    assert isinstance(zero, Value) and zero.data == 0.0


def test_node_outside_the_output_graph_is_untouched_by_backward():
    x = Value(2.0)
    other = x * 7           # shares the leaf, not part of y
    y = x * 3
    other.grad = 42.0
    y.backward()
    assert other.grad == 42.0 and x.grad == 3.0


def test_label_setter_refuses_a_non_string_and_keeps_the_old_label():
    v = Value(1.0, label="w")
    for bad in (3, None, b"w"):
        with pytest.raises(TypeError, match="label must be a str"):
            v.label = bad
    assert v.label == "w"
    v.label = ""
    assert v.label == "" and repr(v) == "Value(data=1.0, grad=0.0)"


def test_label_and_scope_are_kept_apart():
    with scope("layer"):
        w = Value(0.5, label="w")
        y = w * 2
        z = Value(1.0)
    assert (w.label, w.scope) == ("w", ("layer",))
    assert (y.label, y.scope) == ("", ("layer",)) and (z.label, z.scope) == ("", ("layer",))
    y.label = "y"
    assert (y.label, y.scope) == ("y", ("layer",))
    y.label = ""
    assert (y.label, y.scope) == ("", ("layer",))
    assert z.scope == ("layer",) and z.label == ""  # relabelling y left the shared record alone


def _random_graph(seed: int, n_leaves: int = 6, n_ops: int = 60):
    """A DAG that reuses nodes: leaves and intermediates are drawn again and again."""
    import random
    rng = random.Random(seed)
    leaves = [Value(rng.uniform(-1, 1), label=f"x{i}") for i in range(n_leaves)]
    nodes = list(leaves)
    for _ in range(n_ops):
        a, b = rng.choice(nodes), rng.choice(nodes)
        kind = rng.randrange(7)
        y = (a + b if kind == 0 else a * b if kind == 1 else (a - b).tanh() if kind == 2
             else maximum(a, b) if kind == 3 else a.sigmoid() * 0.5 if kind == 4
             else (a - a).relu() + b if kind == 5 else a.relu())  # relu at its kink, and not
        nodes.append(y)
    out = nodes[-1]
    for y in nodes[-10:-1]:
        out = out + y
    return leaves, out


def test_backward_marks_leave_no_trace_in_the_public_views():
    leaves, out = _random_graph(0)
    before = [(n, n.parents, n.op, n.label) for n in topological_order(out)]
    out.backward()
    out.backward()
    assert [(n, n.parents, n.op, n.label) for n in topological_order(out)] == before
    assert all(x.is_leaf and x.parents == () for x in leaves)


@pytest.mark.parametrize("seed", range(6))
def test_backward_equals_grad_on_graphs_that_share_leaves(seed):
    """Two graphs over the same leaves, each differentiated in turn, twice: a walk's marks
    from one graph must not make the next walk skip a node."""
    leaves, out1 = _random_graph(seed)
    out2 = sum(x * x for x in leaves) * out1
    for out in (out1, out2, out1, out2):
        for x in leaves:
            x.grad = 0.0
        out.backward()
        assert [x.grad for x in leaves] == grad(out, leaves)
        ops = [n for n in topological_order(out) if not n.is_leaf]  # constants accumulate
        assert [n.grad for n in ops] == grad(out, ops)


@pytest.mark.parametrize("seed", range(6))
def test_backward_without_identity_marks_gives_the_same_floats(seed, monkeypatch):
    """The fallback walk (a set of seen nodes, for interpreters where equal floats can be one
    object) gives every node the same gradient, bit for bit."""
    leaves, out = _random_graph(seed)
    out.backward()
    order = topological_order(out)
    marked = [n.grad for n in order]
    for n in order:  # every leaf, the constants made inside the graph too
        n.grad = 0.0
    monkeypatch.setattr(_walk, "IDENTITY_STAMPS", False)
    out.backward()
    assert [n.grad for n in order] == marked


@pytest.mark.parametrize("seed", range(6))
def test_backward_order_is_topological_with_each_op_node_once(seed):
    _, out = _random_graph(seed)
    full = topological_order(out)
    out.backward()
    before = {n: n.grad for n in full}
    order, saved, stale, _ = _walk.backward_order(out)
    assert stale is None
    # every op node is there once, after its op-node parents; no leaf
    assert sorted(map(id, order)) == sorted(id(n) for n in full if not n.is_leaf)
    position = {n: i for i, n in enumerate(order)}
    assert all(position[p] < i for i, n in enumerate(order) for p in n.parents
               if not p.is_leaf)
    # what every grad was before the walk, at least where it was not zero (a 0.0 may be kept
    # too); the op nodes' grads are now zero
    kept = dict(zip(saved[::2], saved[1::2]))
    assert all(before[n] == g for n, g in kept.items())
    assert {n for n, g in before.items() if g != 0.0} <= set(kept)
    assert all(n.grad == 0.0 for n in order if not n.is_leaf)
    # op nodes in the same order as topological_order, so sums are added in the same order
    assert [n for n in order if not n.is_leaf] == [n for n in full if not n.is_leaf]


def test_a_value_fits_a_96_byte_block():
    # object header + seven slots + the garbage collector's header; memory per node, and the
    # collector's time on big graphs, follow this size (scripts/bench_engine.py)
    assert sys.getsizeof(Value(1.0)) <= 96 and sys.getsizeof(Value(1.0) * 2) <= 96


def test_backward_leaves_the_garbage_collector_as_it_found_it():
    x = Value(1.0)
    y = x * 2
    assert gc.isenabled()
    y.backward()
    assert gc.isenabled()
    gc.disable()
    try:
        y.backward()
        assert not gc.isenabled()
    finally:
        gc.enable()


# ---- a chain far deeper than the recursion limit ----------------------------------------------

@pytest.fixture(scope="module")
def deep_chain():
    """y = x + x + ... + x: a chain of DEPTH '+' nodes, each also reading x."""
    x = Value(0.5, label="x")
    y = x
    for _ in range(DEPTH):
        y = y + x
    yield x, y
    del y  # freeing the chain must not recurse either


@pytest.fixture
def default_recursion_limit():
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(saved)


def test_chain_of_1m_nodes_backward_has_no_recursion_error(deep_chain, default_recursion_limit):
    x, y = deep_chain
    assert DEPTH > 100 * sys.getrecursionlimit()
    x.grad = 0.0
    y.backward()
    assert x.grad == DEPTH + 1.0
    assert y.parents[0].grad == 1.0


def test_chain_of_1m_nodes_grad_has_no_recursion_error(deep_chain, default_recursion_limit):
    x, y = deep_chain
    assert grad(y, x) == DEPTH + 1.0


def test_chain_of_1m_nodes_create_graph_can_be_differentiated_again(deep_chain,
                                                                      default_recursion_limit):
    x, y = deep_chain
    d1 = grad(y, x, create_graph=True)   # itself a sum of DEPTH + 1 ones
    assert isinstance(d1, Value) and d1.data == DEPTH + 1.0
    assert grad(d1, x) == 0.0


def test_chain_of_1m_nodes_topological_order(deep_chain, default_recursion_limit):
    x, y = deep_chain
    order = topological_order(y)
    assert len(order) == DEPTH + 1 and order[0] is x and order[-1] is y
