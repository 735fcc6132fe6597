"""The reverse sweep is the backward pass that shows its work: backward() is the same loop
written out for speed, so the two must agree to the last bit; grad(), with or without
create_graph, agrees with backward() on where a gradient is defined."""
from __future__ import annotations

import random

import pytest

from microgradnet import DomainError, Value, grad, maximum, minimum
from microgradnet.gradients import local_derivatives, sweep

UNARY = [lambda a: a.tanh(), lambda a: a.relu(), lambda a: a.sigmoid(), lambda a: a * a,
         lambda a: a.exp() * 0.1, lambda a: abs(a), lambda a: a.leaky_relu(), lambda a: -a,
         lambda a: a.sin(), lambda a: a.gelu()]
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
          lambda a, b: maximum(a, b), lambda a, b: minimum(a, b), lambda a, b: a / (b * b + 1)]


def random_graph(seed: int):
    rng = random.Random(seed)
    nodes = [Value(rng.choice([0.0, 1.0, -0.5, rng.uniform(-2, 2)])) for _ in range(4)]
    leaves = list(nodes)
    for _ in range(30):
        if rng.random() < 0.5:
            nodes.append(rng.choice(UNARY)(rng.choice(nodes)))
        else:
            nodes.append(rng.choice(BINARY)(rng.choice(nodes), rng.choice(nodes)))
    out = nodes[-1]
    for n in nodes[-6:-1]:
        out = out + n
    return leaves, out


@pytest.mark.parametrize("seed", range(40))
def test_backward_and_the_sweep_give_every_node_the_same_float(seed):
    leaves, out = random_graph(seed)
    out.backward()
    from microgradnet import topological_order
    by_backward = {n: n.grad for n in topological_order(out)}
    visits = list(sweep(out))
    assert {v.node for v in visits} <= set(by_backward)
    for v in visits:
        assert v.grad == by_backward[v.node], v           # the same float, not just close
        if v.sent:                                          # what it sends is rule(g, ...)
            local = local_derivatives(v.node)
            assert len(v.sent) == len(v.node.parents) == len(local)
    # a node no sweep visit reaches has no gradient in backward either
    for n, g in by_backward.items():
        if n not in {v.node for v in visits}:
            assert g == 0.0


@pytest.mark.parametrize("seed", range(20))
def test_grad_with_and_without_create_graph_agree_with_backward(seed):
    leaves, out = random_graph(seed)
    out.backward()
    floats = grad(out, leaves)
    values = grad(out, leaves, create_graph=True)
    for leaf, f, v in zip(leaves, floats, values):
        assert f == leaf.grad
        assert v.data == pytest.approx(f, rel=1e-12, abs=1e-300)


def test_a_zero_gradient_sends_nothing_in_grad_with_create_graph_too():
    # max(sqrt(x), 1) at x = 0: max sends sqrt 0, and sqrt'(0) is never needed.
    x = Value(0.0)
    y = maximum(x.sqrt(), 1.0)
    y.backward()
    assert x.grad == 0.0 and grad(y, x) == 0.0
    d = grad(y, x, create_graph=True)
    assert d.data == 0.0 and grad(d, x) == 0.0
    # where a non-zero gradient reaches sqrt at 0, every form fails alike
    z = x.sqrt() * 2.0
    for f in (z.backward, lambda: grad(z, x), lambda: grad(z, x, create_graph=True)):
        with pytest.raises(DomainError, match="derivative of sqrt"):
            f()
