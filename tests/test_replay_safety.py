"""Replay refuses what the eager engine refuses and raises where it raises: leaves that are not
finite numbers, numbers of other types, and non-finite intermediates (a forward result or a
gradient) that a later op would hide (1/(x*x) at 1e200 is 0.0 once x*x overflows to inf).

The oracle is always the eager engine itself: the same graph built from ``Value`` on the same
numbers, its error (type and message) or its values and gradients, bit for bit.
"""
from __future__ import annotations

import math
import random
from decimal import Decimal
from fractions import Fraction
from functools import partial

import numpy as np
import pytest

from microgradnet import DomainError, Value, topological_order
from microgradnet.ops import OPS
from microgradnet.replay import compile_forward, compile_graph
from test_replay import BINARY, UNARY, assert_same_bits, bits, random_program


def outcome(fn):
    """``("ok", result)`` or ``(exception type, message)``."""
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 (the type is part of the outcome)
        return (type(e), str(e))


def eager_run(build, values):
    """Build on fresh leaves holding ``values`` (converted by ``Value`` itself), backward:
    ``(out, grads)``, or the eager engine's exception."""
    leaves = [Value(v) for v in values]
    root = build(leaves)
    root.backward()
    return root.data, [leaf.grad for leaf in leaves]


def assert_same_outcome(build, compile_values, values):
    """Replay (compiled on ``compile_values``) and eager on ``values``: the same exception type
    and message, or the same floats to the last bit (and Python floats, not another type)."""
    leaves = [Value(v) for v in compile_values]
    fn = compile_graph(build(leaves), leaves)
    expected = outcome(lambda: eager_run(build, values))
    got = outcome(lambda: fn(values))
    if expected[0] != "ok":
        assert got == expected, f"eager raised {expected}, replay gave {got}"
        return
    assert got[0] == "ok", f"replay raised {got} where eager gave {expected[1]}"
    (out, grads), (e_out, e_grads) = got[1], expected[1]
    assert type(out) is float and all(type(g) is float for g in grads), (out, grads)
    assert bits(out) == bits(e_out), f"replay {out!r} != eager {e_out!r}"
    assert_same_bits(grads, e_grads, "grads")


# ---- leaves: what a Value accepts, and with what message ---------------------------------------

NOT_FINITE = [math.nan, math.inf, -math.inf, Decimal("nan"), Decimal("-Infinity"),
              np.float32("inf"), np.float64("nan")]
OTHER_TYPES = [True, False, {}, {"x": 1.0}, "1.0", None, 1 + 2j, b"1", [1.0], 10 ** 400,
               Decimal("0.1"), Fraction(1, 3), np.float32(0.1), np.float64(0.1), np.int64(3), 3]


def leaf_message(x) -> tuple:
    """What ``Value(x)`` raises: type and message with the subject ``Value`` cut off."""
    kind, msg = outcome(lambda: Value(x))
    assert kind != "ok" and msg.startswith("Value ")
    return kind, msg[len("Value"):]


@pytest.mark.parametrize("bad", NOT_FINITE + OTHER_TYPES, ids=repr)
def test_a_leaf_value_is_converted_or_refused_as_value_does_it(bad):
    a = Value(1.0, label="w")
    fn = compile_graph((a * 2.0).relu(), [a])
    if outcome(lambda: Value(bad))[0] == "ok":
        assert_same_outcome(lambda ls: (ls[0] * 2.0).relu(), [1.0], [bad])
        return
    kind, rest = leaf_message(bad)
    with pytest.raises(kind) as info:
        fn([bad])
    assert str(info.value) == "compiled graph: values[0] (leaf Value(data=1.0, label='w'))" + rest


def test_nan_through_relu_is_refused_not_turned_into_zero():
    a = Value(1.0)
    fn = compile_graph(a.relu(), [a])
    with pytest.raises(ValueError, match="needs a finite number, got nan"):
        fn([math.nan])


@pytest.mark.parametrize("bad", [math.nan, True, {}], ids=repr)
def test_forward_replay_and_load_refuse_leaves_as_value_does(bad):
    a, b = Value(1.0), Value(2.0, label="b")
    fwd = compile_forward([a * b], [a, b])
    kind, rest = leaf_message(bad)
    with pytest.raises(kind) as info:
        fwd([1.0, bad])
    assert str(info.value) == "compiled forward: values[1] (leaf Value(data=2.0, label='b'))" + rest
    fn = compile_graph(a * b, [a, b])
    with pytest.raises(kind):
        fn.load([3.0, bad])
    assert (a.data, b.data) == (1.0, 2.0), "a refused load must change no leaf"


def test_float32_leaves_give_the_float64_pass_of_value():
    x, w = Value(0.1), Value(0.3)
    def build(ls):
        return (ls[0] * ls[1]).tanh() + ls[0].exp() * ls[1]
    vals = [np.float32(0.1), np.float32(0.3)]
    assert_same_outcome(build, [0.1, 0.3], vals)
    fwd = compile_forward([build([x, w])], [x, w])
    (y,) = fwd(vals)
    assert type(y) is float and bits(y) == bits(build([Value(v) for v in vals]).data)


@pytest.mark.parametrize("values", [{0: 1.0}, {1.0}, "1", 1.0], ids=repr)
def test_values_must_be_an_ordered_sequence(values):
    a = Value(1.0)
    fn = compile_graph(a * 2.0, [a])
    with pytest.raises(TypeError, match="compiled graph: values must be"):
        fn(values)


def test_values_may_be_any_ordered_iterable_of_numbers():
    a, b = Value(1.0), Value(2.0)
    fn = compile_graph(a * b, [a, b])
    assert fn(np.array([3.0, 4.0])) == fn((v for v in [3.0, 4.0])) == (12.0, [4.0, 3.0])


# ---- a non-finite intermediate that a later op hides -------------------------------------------

def test_one_over_an_overflowed_square_raises_the_eager_error():
    x = Value(1.0)
    fn = compile_graph(1 / (x * x), [x])
    with pytest.raises(DomainError) as eager:
        1 / (Value(1e200) * Value(1e200))
    with pytest.raises(DomainError) as replay:
        fn([1e200])
    assert str(replay.value) == str(eager.value)
    assert "the result is inf" in str(replay.value)


# Every one-input op of the table (and the parameterised forms of test_replay) is fed an
# overflowed product, of either sign: most of them map inf to a finite number (tanh, exp(-inf),
# relu(-inf), sign, atan ...) or raise on it (sin(inf)).
@pytest.mark.parametrize("k", range(len(UNARY)))
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_an_overflow_under_any_unary_op_raises_as_eager(k, sign):
    # Compiled at 2 - 1 = 1, inside every op's domain; replayed where x * x overflows.
    assert_same_outcome(lambda ls: UNARY[k](ls[1] + sign * ls[0] * ls[0]) + ls[0],
                        [1.0, 2.0], [1e200, 2.0])


@pytest.mark.parametrize("k", range(len(BINARY)))
@pytest.mark.parametrize("side", [0, 1])
def test_an_overflow_into_either_side_of_a_binary_op_raises_as_eager(k, side):
    def build(ls):
        big = ls[2] - ls[0] * ls[0]       # 1 at compile time, -inf when replayed
        args = (big, ls[1]) if side == 0 else (ls[1], big)
        return BINARY[k](*args)
    probe = [Value(1.0), Value(2.0), Value(2.0)]
    if probe[0] not in topological_order(build(probe)):
        pytest.skip("this op ignores its second operand (a * a, a + a)")
    assert_same_outcome(build, [1.0, 2.0, 2.0], [1e200, 2.0, 2.0])


def test_a_forward_overflow_is_found_with_several_outputs():
    x = Value(1.0)
    fwd = compile_forward([(x * x).tanh(), x + 1.0], [x])
    with pytest.raises(DomainError) as eager:
        (Value(1e200) * Value(1e200)).tanh()
    with pytest.raises(DomainError) as replay:
        fwd([1e200])
    assert str(replay.value) == str(eager.value)


# ---- a gradient that is not finite -------------------------------------------------------------

def test_a_gradient_overflow_behind_a_dead_relu_raises_as_eager():
    # At x < 0 the relu sends 0 to x, but the gradient reaching the relu node is 1e200 * 1e200.
    assert_same_outcome(lambda ls: ls[0].relu() * ls[1] * ls[2], [1.0, 2.0, 3.0],
                        [-1.0, 1e200, 1e200])
    with pytest.raises(DomainError, match="the gradient reaching .* is inf"):
        eager_run(lambda ls: ls[0].relu() * ls[1] * ls[2], [-1.0, 1e200, 1e200])


def test_a_gradient_overflow_at_a_constant_raises_as_eager():
    # d out / d c1 = c2 * x = 1e300 * 1e300; c1 and c2 are constants, not replayed leaves.
    def build(ls):
        return ls[0] * Value(1e-300) * Value(1e300)
    assert_same_outcome(build, [1.0], [1e300])
    with pytest.raises(DomainError, match="the gradient reaching Value.data=1e-300. is inf"):
        eager_run(build, [1e300])


@pytest.mark.parametrize("k", range(len(UNARY)))
def test_a_gradient_overflow_under_any_unary_op_raises_as_eager(k):
    # The gradient reaching f(x) is c * c (inf at c = 1e200); f's rule may hide it.
    assert_same_outcome(lambda ls: UNARY[k](ls[0]) * ls[1] * ls[1], [0.5, 1.0], [-0.5, 1e200])
    assert_same_outcome(lambda ls: UNARY[k](ls[0]) * ls[1] * ls[1], [0.5, 1.0], [0.0, 1e200])


# ---- random graphs with numbers near the edge of the floats ------------------------------------

def run_strict(program, leaves):
    """The program of ``test_replay.random_program`` without its fallback: an op that fails
    raises, as the user's own code would. Every node it makes reaches the root (so the recorded
    graph holds every node the eager run makes), most of them through an op that maps an
    infinity to a finite number, so a replay cannot count on seeing it in the root."""
    nodes = list(leaves)
    for binary, k, i, j in program:
        nodes.append(BINARY[k](nodes[i], nodes[j]) if binary else UNARY[k](nodes[i]))
    root = nodes[-1]
    hide = [Value.tanh, Value.relu, Value.atan, Value.sigmoid, lambda v: v]
    for n, extra in enumerate(nodes[len(leaves):-1]):
        root = root + hide[n % len(hide)](extra)
    return root


@pytest.mark.parametrize("piece_lines", [None, 2], ids=["pieces as compiled", "2-line pieces"])
@pytest.mark.parametrize("seed", range(40))
def test_random_graphs_near_overflow_raise_exactly_where_eager_does(seed, piece_lines,
                                                                     monkeypatch):
    if piece_lines is not None:   # every hand-over between compiled pieces is checked too
        from microgradnet import replay
        monkeypatch.setattr(replay, "PIECE_LINES", (piece_lines, piece_lines))
    rng = random.Random(seed)
    n_leaves = rng.randint(1, 4)
    edge = [1e154, -1e154, 1e200, 1e300, -1e300, 1e-300, 1.5e308, 0.0, 1.0, -2.0]
    for _ in range(50):   # a program that builds without error on tame values
        program = random_program(rng, n_leaves, rng.randint(1, 12))
        tame = [rng.uniform(0.5, 1.5) for _ in range(n_leaves)]
        if outcome(partial(eager_run, partial(run_strict, program), tame))[0] == "ok":
            break
    else:
        pytest.skip("no program builds on tame values")
    leaves = [Value(v) for v in tame]
    fn = compile_graph(run_strict(program, leaves), leaves)
    for _ in range(8):
        values = [rng.choice(edge) if rng.random() < 0.6 else rng.uniform(-3, 3)
                  for _ in range(n_leaves)]
        expected = outcome(partial(eager_run, partial(run_strict, program), values))
        got = outcome(partial(fn, values))
        if expected[0] == "ok":
            assert got[0] == "ok", f"{values}: replay raised {got}, eager gave {expected}"
            assert bits(got[1][0]) == bits(expected[1][0])
            assert_same_bits(got[1][1], expected[1][1], f"grads on {values}")
        else:
            # A DomainError as eager raises (or its DivisionByZero, Overflow); which op comes
            # first in a forward pass may differ, so only backward errors name the same node.
            assert issubclass(got[0], DomainError), \
                f"{values}: eager raised {expected}, replay {got}"
            if "gradient" in expected[1]:
                # Backward errors come in the engine's own order, so the same node is named.
                assert got[1] == expected[1]


def test_every_op_is_reached_by_the_overflow_tests():
    used = {f(Value(0.7)).op for f in UNARY} | {f(Value(0.7), Value(0.3)).op for f in BINARY}
    assert set(OPS) <= used | {"**"}
