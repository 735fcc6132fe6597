"""PyTorch's words on the engine: item, detach, requires_grad, no_grad, backward's and grad's
keywords, errors that the standard except clauses catch; and the blocks that change new nodes
(no_grad, scope) belong to the thread or asyncio task that opened them."""
from __future__ import annotations

import asyncio
import math
import threading

import pytest

from microgradnet import (DivisionByZero, DomainError, Overflow, Value, grad, no_grad, scope)

torch = pytest.importorskip("torch")


def t64(x: float):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


# ---- item, detach, requires_grad ---------------------------------------------------------------

def test_item_is_the_float_value():
    y = Value(1.5) * 2
    assert y.item() == 3.0 and type(y.item()) is float


def test_detach_is_a_new_leaf_that_stops_the_gradient():
    x = Value(3.0, "x")
    d = (x * x).detach()
    assert d.is_leaf and d.data == 9.0 and d.label == ""
    y = d * x           # as torch: only the x factor carries a gradient
    y.backward()
    tx = t64(3.0)
    ((tx * tx).detach() * tx).backward()
    assert x.grad == tx.grad.item() == 9.0
    assert Value(2.0, "w").detach().label == "w"
    d.data = 1.0        # no storage shared, unlike torch
    assert x.data == 3.0


def test_requires_grad_is_true_and_read_only():
    assert Value(1.0).requires_grad and (Value(1.0) * 2).requires_grad
    with pytest.raises(AttributeError):
        Value(1.0).requires_grad = False


def test_a_value_of_a_value_is_refused():
    with pytest.raises(TypeError, match="detach"):
        Value(Value(2.0))


# ---- no_grad -----------------------------------------------------------------------------------

def test_no_grad_makes_leaves_holding_the_results():
    w = Value(2.0)
    with no_grad():
        y = (w * 3 + 1).tanh()
        z = Value(1.0)
    assert y.is_leaf and y.parents == () and y.data == math.tanh(7.0) and z.is_leaf
    assert not (w * 3).is_leaf  # recording again after the block


def test_no_grad_block_ends_on_an_exception():
    with pytest.raises(RuntimeError):
        with no_grad():
            raise RuntimeError("inside")
    assert not (Value(1.0) * 2).is_leaf


def test_backward_inside_no_grad_differentiates_a_graph_built_outside():
    x = Value(2.0)
    y = x * x
    with no_grad():
        y.backward()
    tx = t64(2.0)
    ty = tx * tx
    with torch.no_grad():
        ty.backward()
    assert x.grad == tx.grad.item()


def test_no_grad_keeps_the_scope_and_scope_keeps_no_grad():
    with scope("eval"):
        with no_grad():
            y = Value(1.0) * 2
    assert y.is_leaf and y.scope == ("eval",)
    with no_grad():
        with scope("s"):
            z = Value(1.0) * 2
    assert z.is_leaf and z.scope == ("s",)


def test_no_grad_and_scope_hold_for_their_own_thread_only():
    inside = threading.Event()
    release = threading.Event()
    made = {}

    def other():
        with no_grad(), scope("other"):
            inside.set()
            release.wait(5)
            made["other"] = Value(1.0) * 2

    t = threading.Thread(target=other)
    t.start()
    inside.wait(5)
    mine = Value(1.0) * 2       # made while the other thread's blocks are open
    release.set()
    t.join()
    assert not mine.is_leaf and mine.scope == ()
    assert made["other"].is_leaf and made["other"].scope == ("other",)


def test_scope_holds_for_its_own_asyncio_task_only():
    async def tagged(name, started, go):
        with scope(name):
            started.set()
            await go.wait()
            return Value(1.0) * 2

    async def main():
        started, go = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(tagged("task", started, go))
        await started.wait()
        mine = Value(1.0) * 2
        go.set()
        return mine, await task

    mine, theirs = asyncio.run(main())
    assert mine.scope == () and theirs.scope == ("task",)


# ---- backward's and grad's keywords ------------------------------------------------------------

def test_backward_takes_torchs_keywords():
    x = Value(1.5)
    y = x * x * x
    y.backward(gradient=2.0, retain_graph=True)
    y.backward(gradient=None)
    tx = t64(1.5)
    ty = tx * tx * tx
    ty.backward(gradient=torch.tensor(2.0, dtype=torch.float64), retain_graph=True)
    ty.backward()
    assert x.grad == tx.grad.item()
    with pytest.raises(ValueError, match="create_graph"):
        y.backward(create_graph=True)


def test_grad_of_a_list_of_outputs_weighted_by_grad_outputs_matches_torch():
    a, b = Value(0.3), Value(-1.2)
    outs = [a * b + a.tanh(), (a - b).exp(), b * b]
    got = grad(outs, [a, b], grad_outputs=[1.0, -0.5, 2.0], retain_graph=True)
    ta, tb = t64(0.3), t64(-1.2)
    touts = [ta * tb + ta.tanh(), (ta - tb).exp(), tb * tb]
    want = torch.autograd.grad(touts, [ta, tb],
                               grad_outputs=[torch.tensor(w, dtype=torch.float64)
                                             for w in (1.0, -0.5, 2.0)])
    assert got == pytest.approx([w.item() for w in want], rel=1e-15, abs=0)


def test_grad_of_a_list_of_outputs_with_create_graph_differentiates_again():
    x = Value(0.7)
    d1 = grad([x ** 3, x.sin()], x, create_graph=True)
    tx = t64(0.7)
    (td1,) = torch.autograd.grad([tx ** 3, tx.sin()], tx, create_graph=True)
    assert d1.data == pytest.approx(td1.item(), rel=1e-15)
    (td2,) = torch.autograd.grad(td1, tx)
    assert grad(d1, x) == pytest.approx(td2.item(), rel=1e-15)


def test_unused_inputs_zero_by_default_raise_or_none_as_asked():
    x, unused = Value(2.0), Value(5.0)
    y = x * 3
    assert grad(y, [x, unused]) == [3.0, 0.0]            # the default: d(constant) = 0
    with pytest.raises(ValueError, match="input 1.*not used"):
        grad(y, [x, unused], allow_unused=False)
    assert grad(y, [x, unused], allow_unused=True) == [3.0, None]
    assert grad(y, [x, unused], allow_unused=True, materialize_grads=True) == [3.0, 0.0]
    with pytest.raises(ValueError, match="materialize_grads"):
        grad(y, unused, allow_unused=False, materialize_grads=True)
    # the same three answers in torch
    tx, tu = t64(2.0), t64(5.0)
    with pytest.raises(RuntimeError):
        torch.autograd.grad(tx * 3, [tx, tu])
    assert torch.autograd.grad(tx * 3, [tx, tu], allow_unused=True)[1] is None
    assert torch.autograd.grad(tx * 3, [tx, tu], materialize_grads=True)[1].item() == 0.0


def test_an_input_behind_a_relu_at_rest_is_used():
    x = Value(-1.0)
    assert grad(x.relu(), x, allow_unused=False) == 0.0


def test_grad_outputs_must_match_the_outputs():
    x = Value(1.0)
    with pytest.raises(ValueError, match="2 grad_outputs"):
        grad([x * 2, x * 3], x, grad_outputs=[1.0])
    with pytest.raises(ValueError, match="one number"):
        grad([x * 2, x * 3], x, grad_outputs=1.0)
    with pytest.raises(TypeError, match="outputs must be Values"):
        grad([x * 2, 3.0], x)


# ---- errors the standard except clauses catch --------------------------------------------------

@pytest.mark.parametrize("make, standard", [
    (lambda: Value(1.0) / 0, ZeroDivisionError),
    (lambda: Value(1.0) / Value(0.0), ZeroDivisionError),
    (lambda: Value(0.0) ** -1, ZeroDivisionError),
    (lambda: Value(1000.0).exp(), OverflowError),
    (lambda: Value(1e200) * Value(1e200), OverflowError),
    (lambda: Value(1e308) + 1e308, OverflowError),
])
def test_forward_errors_are_the_standard_ones_and_domain_errors(make, standard):
    with pytest.raises(standard) as info:
        make()
    assert isinstance(info.value, DomainError) and isinstance(info.value, ValueError)
    assert isinstance(info.value, DivisionByZero if standard is ZeroDivisionError else Overflow)


def test_backward_errors_are_the_standard_ones():
    with pytest.raises(ZeroDivisionError, match="sqrt"):
        Value(0.0).sqrt().backward()
    x = Value(1e200)
    with pytest.raises(OverflowError, match="gradient reaching"):
        # forward finite (1e100); the constant's gradient is 1e200 * x = inf
        (x * 1e-100).backward(gradient=1e200)


def test_other_domain_errors_are_not_arithmetic_subclasses():
    with pytest.raises(DomainError) as info:
        Value(-1.0).log()
    assert not isinstance(info.value, (ZeroDivisionError, OverflowError))
