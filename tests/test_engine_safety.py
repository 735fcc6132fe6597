"""The engine under stress: backward in threads over shared subgraphs, a backward that fails
half-way, Values pickled and deep-copied (deep graphs too)."""
from __future__ import annotations

import copy
import math
import pickle
import sys
import threading

import pytest

from microgradnet import DomainError, StaleGraphError, Value, grad, scope, topological_order
from microgradnet.gradients import sweep
from microgradnet.nn import MLP, Parameter
from microgradnet.optim import SGD, Adam


@pytest.fixture
def tiny_switch_interval():
    saved = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(saved)


def _shared_graph():
    """Two outputs over one shared subgraph of a few hundred nodes."""
    xs = [Value(0.01 * i - 0.5, label=f"x{i}") for i in range(40)]
    shared = sum((x * x).tanh() for x in xs)
    return xs, shared * 2.0 + xs[0], shared * shared - xs[1]


def test_concurrent_backward_passes_give_the_sequential_result(tiny_switch_interval):
    xs, out1, out2 = _shared_graph()
    sequential = []  # the leaves' sums after both passes, one after the other, in each order
    for first, second in ((out1, out2), (out2, out1)):
        for x in xs:
            x.grad = 0.0
        first.backward()
        second.backward()
        sequential.append([x.grad for x in xs])
    for trial in range(30):
        for x in xs:
            x.grad = 0.0
        threads = [threading.Thread(target=out.backward) for out in (out1, out2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        got = [x.grad for x in xs]
        assert got in sequential, f"trial {trial}"


def test_concurrent_backward_and_zero_grad_never_mix(tiny_switch_interval):
    """Many passes at once over one graph: every pass runs whole, so each leaf ends with an
    exact multiple of its gradient (the sums of equal terms are exact at these sizes)."""
    x = Value(0.75)
    y = (x * x + x) * 4.0         # dy/dx = 4 (2x + 1) = 10
    passes = 16

    def run() -> None:
        for _ in range(passes):
            y.backward()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert x.grad == 10.0 * passes * len(threads)
    assert y.parents[0].grad == 4.0  # an intermediate shows one pass, not a mix


# ---- a failed backward changes no .grad --------------------------------------------------------

def _grads(root):
    return [(n, n.grad) for n in topological_order(root)]


def test_a_failed_backward_leaves_every_grad_as_it_was():
    x, w = Value(0.0, "x"), Value(2.0, "w")
    ok = w * x + w * w             # differentiable everywhere
    ok.backward()
    bad = ok + x.sqrt() * w        # sqrt'(0) is infinite
    before = _grads(bad)
    assert any(g != 0.0 for _, g in before)
    with pytest.raises(ZeroDivisionError):
        bad.backward()
    assert _grads(bad) == before
    # and a second failure, after grads were assigned by hand, too
    w.grad = -7.5
    before = _grads(bad)
    with pytest.raises(DomainError):
        bad.backward()
    assert _grads(bad) == before


def test_a_backward_that_overflows_leaves_every_grad_as_it_was():
    x = Value(1e200)
    y = x * 1e-100 + x * 1.0
    x.grad = 3.0
    before = _grads(y)
    with pytest.raises(OverflowError):
        y.backward(gradient=1e200)
    assert _grads(y) == before


# ---- pickle and deepcopy -----------------------------------------------------------------------

def _structure(root):
    """Every node's value, grad, op record, label, scope and parents (as positions)."""
    order = topological_order(root)
    at = {n: i for i, n in enumerate(order)}
    return [(n.data, n.grad, n.primitive, n.label, n.scope, [at[p] for p in n.parents])
            for n in order]


def _mixed_graph():
    from microgradnet import maximum
    x, w = Value(0.5, "x"), Value(-1.25, "w")
    with scope("layer"):
        h = (w * x + 0.1).relu(kink=1.0) + (x ** 3).leaky_relu(0.2) + maximum(x, w, tie=0.25)
    y = (h.tanh() * w + x.abs() + (x * x).sqrt()).softplus()
    y.label = "y"
    y.backward()
    return y


@pytest.mark.parametrize("copy_of", [lambda v: pickle.loads(pickle.dumps(v)), copy.deepcopy],
                         ids=["pickle", "deepcopy"])
def test_a_copy_has_the_same_graph_and_differentiates_alike(copy_of):
    y = _mixed_graph()
    y2 = copy_of(y)
    assert y2 is not y and _structure(y2) == _structure(y)
    assert not set(topological_order(y2)) & set(topological_order(y))
    for out in (y, y2):
        for n in topological_order(out):
            n.grad = 0.0
        out.backward()
    assert [n.grad for n in topological_order(y2)] == [n.grad for n in topological_order(y)]


def test_deepcopy_of_two_outputs_shares_their_copied_inputs():
    x = Value(2.0, "x")
    a, b = x * 3, x + 1
    a2, b2 = copy.deepcopy([a, b])
    assert a2.parents[0] is b2.parents[0] and a2.parents[0] is not x


def test_copy_is_a_new_node_over_the_same_parents():
    x = Value(2.0)
    y = x * 3
    y2 = copy.copy(y)
    assert y2 is not y and y2.parents[0] is x and y2.data == 6.0 and y2.op == "*"


@pytest.mark.parametrize("copy_of", [lambda v: pickle.loads(pickle.dumps(v)), copy.deepcopy],
                         ids=["pickle", "deepcopy"])
def test_a_10k_chain_copies_without_recursion(copy_of):
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        x = Value(1.0)
        y = x
        for _ in range(10_000):
            y = y * 1.0 + x
        y2 = copy_of(y)
    finally:
        sys.setrecursionlimit(saved)
    assert y2.data == y.data == 10_001.0
    assert grad(y2, topological_order(y2)[0]) == grad(y, x)


def cube_fn(a):
    return a ** 3


def cube_rule(g, out, a):
    return (g * 3 * a * a,)


def test_a_users_op_with_importable_functions_pickles():
    from microgradnet import Op, apply
    cube = Op("cube", cube_fn, cube_rule, 1)
    y = apply(cube, Value(2.0))
    y2 = pickle.loads(pickle.dumps(y))
    assert y2.data == 8.0 and y2.op == "cube" and grad(y2, y2.parents[0]) == 12.0


def test_every_op_of_the_table_and_of_the_factories_is_saved_by_name():
    from microgradnet import _walk, ops
    made = list(ops.OPS.values()) + [
        ops.relu(0.5), ops.leaky_relu(0.2), ops.leaky_relu(0.2, 1.0), ops.abs_op(1.0),
        ops.swish(2.0), ops.elu(0.5), ops.maximum(0.0), ops.minimum(1.0), ops.pow_const(-1.5)]
    for op in made:
        key = _walk.op_key(op)
        assert not isinstance(key, ops.Op), op
        assert _walk.op_from_key(pickle.loads(pickle.dumps(key))) is op


# ---- a leaf assigned after the graph read it (PyTorch's version counter) -----------------------

def test_assigning_a_leaf_between_forward_and_backward_is_refused_naming_the_node():
    # The failure this reproduces: the gradient matched neither point, mixing the stored
    # tanh(2) with the new x.
    x = Value(1.0, label="x")
    y = (x * 2.0).tanh()
    x.grad = 0.25
    x.data = 0.5
    with pytest.raises(StaleGraphError, match=r"label='x'.*op '\*'"):
        y.backward()
    assert x.grad == 0.25 and y.grad == 0.0  # nothing changed
    for wrt in (lambda: grad(y, x), lambda: list(sweep(y))):
        with pytest.raises(StaleGraphError):
            wrt()
    # the forward pass run again is current
    y = (x * 2.0).tanh()
    y.backward()
    assert x.grad == pytest.approx(0.25 + 2.0 * (1.0 - math.tanh(1.0) ** 2), rel=1e-15)


def test_the_old_graph_is_refused_after_an_update_and_the_next_forward_is_not():
    w, b = Value(0.3, label="w"), Value(-0.1, label="b")
    opt = SGD([w, b], lr=0.1)
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = (w * 2.0 + b - 1.0) ** 2
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses == sorted(losses, reverse=True)
    with pytest.raises(StaleGraphError, match="label='[wb]'"):
        loss.backward()  # the graph of the last step read w and b before that step's update


def test_a_leaf_assigned_the_same_number_still_counts_and_unrelated_leaves_do_not():
    x, other = Value(2.0), Value(5.0)
    y = x * x
    other.data = 6.0            # not in y's graph
    y.backward()
    x.data = 2.0                # the same number: an assignment all the same, as in PyTorch
    with pytest.raises(StaleGraphError):
        y.backward()


def test_an_unchanged_graph_backs_up_any_number_of_times():
    x = Value(3.0)
    y = x * x + x
    for k in range(1, 4):
        y.backward()
        assert x.grad == 7.0 * k


@pytest.mark.parametrize("copy_of", [copy.deepcopy,
                                     lambda v: pickle.loads(pickle.dumps(v))])
def test_copies_keep_whether_a_graph_is_stale(copy_of):
    x = Value(1.0)
    fresh = x * 3.0
    x.data = 2.0
    stale = x * x
    before = fresh
    copy_of(stale).backward()   # made after the assignment: current
    with pytest.raises(StaleGraphError):
        copy_of(before).backward()


@pytest.mark.parametrize("copy_of", [copy.copy, copy.deepcopy,
                                     lambda v: pickle.loads(pickle.dumps(v))])
def test_a_parameter_stays_a_parameter_when_copied(copy_of):
    w = Parameter(0.5, label="w")
    new = copy_of(w)
    assert type(new) is Parameter and (new.data, new.label) == (0.5, "w")


@pytest.mark.parametrize("copy_of", [copy.deepcopy, lambda v: pickle.loads(pickle.dumps(v))])
def test_a_copied_model_keeps_parameters_and_trains_alike(copy_of):
    model = MLP(2, [3, 1], rng=0)
    twin = copy_of(model)
    assert all(type(p) is Parameter for p in twin.parameters())
    for m in (model, twin):
        loss = (m([1.0, -2.0])[0] - 0.5) ** 2
        loss.backward()
    assert [p.grad for p in twin.parameters()] == [p.grad for p in model.parameters()]


def test_a_stale_graph_is_neither_drawn_nor_explained_nor_shown_as_a_picture(tmp_path):
    # The failure this reproduces: explain printed "tanh(2.0*0.4) = 0.761", the new w next to
    # the value tanh(2.0*0.5) computed from the old one.
    from microgradnet.explain import explain
    from microgradnet.viz import render
    from microgradnet.viz.jupyter import value_mimebundle
    x, w = Value(2.0, label="x"), Value(0.5, label="w")
    y = (x * w).tanh()
    y.backward()
    assert "image/svg+xml" in value_mimebundle(y)
    w.data = 0.4
    for show in (lambda: explain(y), lambda: explain(y, wrt=w),
                 lambda: render(y, tmp_path / "y.svg")):
        with pytest.raises(StaleGraphError, match="cannot be drawn or explained.*label='w'"):
            show()
    assert not (tmp_path / "y.svg").exists()
    assert sorted(value_mimebundle(y)) == ["text/plain"]  # a notebook still shows the repr


# ---- failures that changed something, or let a wrong type through ------------------------------

def test_a_users_op_result_is_checked_as_a_constructor_argument_is():
    np = pytest.importorskip("numpy")
    from microgradnet import Op, apply
    root_of = Op("root", lambda a: a ** 0.5, lambda g, out, a: (g,), 1)  # complex for a < 0
    with pytest.raises(TypeError, match="result of root.*complex"):
        apply(root_of, Value(-4.0))
    truth = Op("truth", lambda a: True, lambda g, out, a: (g,), 1)
    with pytest.raises(TypeError, match="result of truth.*bool"):
        apply(truth, Value(1.0))
    narrow = Op("narrow", lambda a: np.float32(a), lambda g, out, a: (g,), 1)
    y = apply(narrow, Value(0.1))
    assert type(y.data) is float and type((y * 3.0).data) is float
    with pytest.raises(TypeError, match="needs a real number, got the bool"):
        Value(np.True_)


def test_a_users_rule_that_gives_a_complex_gradient_is_refused_and_changes_nothing():
    from microgradnet import Op, apply
    imaginary = Op("imaginary", lambda a: a, lambda g, out, a: (1j,), 1)
    x = Value(1.0, label="x")
    x.grad = 0.5
    r = apply(imaginary, x) + 1.0
    for differentiate in (r.backward, lambda: grad(r, x)):
        with pytest.raises(TypeError, match="derivative rule of imaginary"):
            differentiate()
    assert x.grad == 0.5


def test_grad_refuses_a_sum_over_outputs_that_overflows():
    from microgradnet import Overflow
    x = Value(1.0, label="x")
    with pytest.raises(Overflow, match="summed over the outputs"):
        grad([x * 1e308, x * 1e308], x)
    with pytest.raises(OverflowError):
        grad([x * 1.0, x * 1.0], x, grad_outputs=[1e308, 1e308])


def test_a_compiled_backward_that_overflows_changes_no_grad():
    from microgradnet import Overflow
    from microgradnet.replay import compile_graph
    a, b = Value(1.0, label="a"), Value(1.0, label="b")
    root = a * 1.0 + (b * 1e308 - 1e308)
    fn = compile_graph(root, [a, b])
    a.grad, b.grad = 1.0, 1e308
    with pytest.raises(Overflow, match="label='b'"):
        fn.backward()
    assert (a.grad, b.grad) == (1.0, 1e308)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=1.0, momentum=0.9),
                                  lambda ps: Adam(ps, lr=1e308, eps=0.0)])
def test_a_step_that_overflows_moves_no_parameter_and_keeps_the_state(make):
    p1, p2 = Parameter(1.0, label="p1"), Parameter(1e308, label="p2")
    opt = make([p1, p2])
    p1.grad, p2.grad = 1.0, -1e308
    before = {k: copy.deepcopy(v) for k, v in vars(opt).items()
              if k not in ("param_groups", "params", "names", "defaults")}
    with pytest.raises(ValueError, match="p2.*nothing was changed"):
        opt.step()
    assert (p1.data, p2.data) == (1.0, 1e308)
    assert {k: v for k, v in vars(opt).items() if k in before} == before


def test_an_op_node_cannot_be_a_parameter():
    from microgradnet import nn
    a = Parameter(1.0, label="a")
    with pytest.raises(ValueError, match="op node"):
        nn.Module().register_parameter("b", a * 2.0)
    with pytest.raises(ValueError, match="must be a leaf"):
        SGD([a, a * 2.0], lr=0.1)


def test_load_state_dict_takes_numbers_as_value_does():
    from decimal import Decimal
    from fractions import Fraction

    from microgradnet import nn
    layer = nn.Linear(1, 1)
    layer.load_state_dict({"weight": [[Decimal("0.5")]], "bias": [Fraction(1, 4)]})
    assert layer.state_dict() == {"weight": [[0.5]], "bias": [0.25]}
    with pytest.raises(ValueError, match="not a finite number"):
        layer.load_state_dict({"weight": [[10 ** 400]], "bias": [0.0]})
    assert layer.state_dict() == {"weight": [[0.5]], "bias": [0.25]}
