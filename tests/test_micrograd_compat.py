"""micrograd's own code runs on ``microgradnet.micrograd`` with only its imports changed: the
README example, the ``demo.ipynb`` training loop and ``trace_graph.ipynb``'s ``draw_dot``.

The oracle is micrograd 0.1.0 itself, run in the same test on the same seeds.
"""
from __future__ import annotations

import gc
import random
import sys

import numpy as np
import pytest

import micrograd.engine
import micrograd.nn
from microgradnet.micrograd import engine as mg_engine
from microgradnet.micrograd import nn as mg_nn

sklearn_datasets = pytest.importorskip("sklearn.datasets")


def readme_example(Value):
    # micrograd's README, verbatim below the import
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    return g.data, a.grad, b.grad


def test_readme_example_gives_microgradnets_numbers_bit_for_bit():
    ours = readme_example(mg_engine.Value)
    theirs = readme_example(micrograd.engine.Value)
    assert ours[0] == theirs[0]                         # the forward pass: same ops, same order
    assert ours == pytest.approx(theirs, rel=1e-14)
    assert f"{ours[0]:.4f} {ours[1]:.4f} {ours[2]:.4f}" == "24.7041 138.8338 645.5773"


def demo(Value, MLP, steps: int):
    """demo.ipynb's cells, verbatim from the seeds to the optimisation loop (plots left out,
    ``steps`` in place of 100); returns the printed lines and the model."""
    np.random.seed(1337)
    random.seed(1337)
    from sklearn.datasets import make_moons
    X, y = make_moons(n_samples=100, noise=0.1)

    y = y*2 - 1 # make y be -1 or 1
    model = MLP(2, [16, 16, 1]) # 2-layer neural network
    printed = [str(model), f"number of parameters {len(model.parameters())}"]

    # loss function
    def loss(batch_size=None):

        # inline DataLoader :)
        if batch_size is None:
            Xb, yb = X, y
        else:
            ri = np.random.permutation(X.shape[0])[:batch_size]
            Xb, yb = X[ri], y[ri]
        inputs = [list(map(Value, xrow)) for xrow in Xb]

        # forward the model to get scores
        scores = list(map(model, inputs))

        # svm "max-margin" loss
        losses = [(1 + -yi*scorei).relu() for yi, scorei in zip(yb, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        # L2 regularization
        alpha = 1e-4
        reg_loss = alpha * sum((p*p for p in model.parameters()))
        total_loss = data_loss + reg_loss

        # also get accuracy
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(yb, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    # optimization
    for k in range(steps):

        # forward
        total_loss, acc = loss()

        # backward
        model.zero_grad()
        total_loss.backward()

        # update (sgd)
        learning_rate = 1.0 - 0.9*k/100
        for p in model.parameters():
            p.data -= learning_rate * p.grad

        if k % 1 == 0:
            printed.append(f"step {k} loss {total_loss.data}, accuracy {acc*100}%")
    return printed, loss


def losses_of(printed):
    return [float(line.split()[3].rstrip(",")) for line in printed[2:]]


def test_demo_matches_micrograd_step_for_step():
    ours, _ = demo(mg_engine.Value, mg_nn.MLP, steps=2)
    theirs, _ = demo(micrograd.engine.Value, micrograd.nn.MLP, steps=2)
    assert ours[:2] == theirs[:2]                       # same model, same parameter count
    # The first loss is a forward pass only: the same floats in the same order.
    assert losses_of(ours)[0] == losses_of(theirs)[0]
    # Later steps differ only by the order in which the backward passes sum the gradients
    # (micrograd orders a node's parents by a set of ids).
    assert losses_of(ours) == pytest.approx(losses_of(theirs), rel=1e-12)
    assert [line.split(",")[1] for line in ours[2:]] == [line.split(",")[1]
                                                          for line in theirs[2:]]


@pytest.fixture
def no_cyclic_gc():
    """The loop's graphs hold no reference cycles, so reference counting frees them; the
    cyclic collector would only rescan every node while a graph is built (4x the time)."""
    was_on = gc.isenabled()
    gc.disable()
    yield
    if was_on:
        gc.enable()


@pytest.mark.slow
def test_demo_loop_verbatim_reaches_full_accuracy(no_cyclic_gc):
    printed, loss = demo(mg_engine.Value, mg_nn.MLP, steps=100)
    assert printed[-1].endswith("accuracy 100.0%")
    assert loss()[1] == 1.0                             # after the last update too


def trace_graph_cells(Value, nn):
    # trace_graph.ipynb, verbatim below its imports (``assert`` and the graphviz calls kept)
    from graphviz import Digraph

    def trace(root):
        nodes, edges = set(), set()
        def build(v):
            if v not in nodes:
                nodes.add(v)
                for child in v._prev:
                    edges.add((child, v))
                    build(child)
        build(root)
        return nodes, edges

    def draw_dot(root, format='svg', rankdir='LR'):
        assert rankdir in ['LR', 'TB']
        nodes, edges = trace(root)
        dot = Digraph(format=format, graph_attr={'rankdir': rankdir})

        for n in nodes:
            dot.node(name=str(id(n)), label = "{ data %.4f | grad %.4f }" % (n.data, n.grad),
                     shape='record')
            if n._op:
                dot.node(name=str(id(n)) + n._op, label=n._op)
                dot.edge(str(id(n)) + n._op, str(id(n)))

        for n1, n2 in edges:
            dot.edge(str(id(n1)), str(id(n2)) + n2._op)

        return dot

    x = Value(1.0)
    y = (x * 2 + 1).relu()
    y.backward()
    simple = draw_dot(y)

    random.seed(1337)
    n = nn.Neuron(2)
    x = [Value(1.0), Value(-2.0)]
    y = n(x)
    y.backward()
    return simple, draw_dot(y)


def labels(dot) -> list:
    """The node labels of a Digraph, sorted (ids differ from run to run)."""
    return sorted(line.split("label=")[1].split(" shape")[0].split("]")[0]
                  for line in dot.body if "label=" in line)


def test_trace_graph_draws_the_same_nodes_as_micrograd():
    ours = trace_graph_cells(mg_engine.Value, mg_nn)
    theirs = trace_graph_cells(micrograd.engine.Value, micrograd.nn)
    for a, b in zip(ours, theirs):
        assert labels(a) == labels(b)
        assert len(a.body) == len(b.body)


def test_a_node_opens_to_microgradnet_tools():
    from microgradnet.explain import explain
    random.seed(1337)
    n = mg_nn.Neuron(2)
    y = n([mg_engine.Value(1.0), mg_engine.Value(-2.0)])
    y.backward()
    w2 = n.w[1]
    assert y.data > 0 and w2.grad == w2.node.grad == -2.0     # dy/dw2 = x2 on the live side
    assert "dout/dv1 = -2*1 = -2.0" in str(explain(y.node, wrt=w2.node))


def test_deep_chain_needs_no_recursion():
    x = mg_engine.Value(0.5)
    y = x
    for _ in range(3 * sys.getrecursionlimit()):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_bad_input_is_refused_with_the_usual_errors():
    with pytest.raises(TypeError, match="only int and float powers"):
        mg_engine.Value(2.0) ** mg_engine.Value(2.0)
    with pytest.raises(TypeError, match="data must be a number"):
        mg_engine.Value(mg_engine.Value(1.0))
    with pytest.raises(ValueError, match="3 inputs"):
        mg_nn.Neuron(3)([1.0])
