"""Parity with PyTorch float64 on random expression graphs built from every op: values, first
derivatives (backward on every node, and grad) and second derivatives (grad with
create_graph=True against torch.autograd.grad with create_graph=True), to 1e-9 relative.

Graphs are generated from a seed: a DAG whose nodes reuse earlier ones (``a * a``, diamonds,
long and short paths to the same leaf). Each op's operands are chosen, from the values computed
so far, inside the op's domain and away from kinks by construction; the conventions at exact
kinks are compared separately (test_kink_conventions_match_pytorch).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from helpers import assert_close
from microgradnet import Value, grad, maximum, minimum
from microgradnet.ops import OPS

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL = 1e-9
SEEDS = range(40)
N_INPUTS = 4
N_NODES = 30
KINK_GAP = 1e-3   # inputs of relu, abs, max, ... stay this far from the kink


@dataclass(frozen=True)
class Step:
    """One node: ``kind`` names an entry of BUILD, ``args`` index earlier nodes."""
    kind: str
    args: tuple
    param: float | None = None


# Each kind, applied to microgradnet Values and to torch tensors.
BUILD = {
    "+": (lambda a, b, p: a + b, lambda a, b, p: a + b),
    "-": (lambda a, b, p: a - b, lambda a, b, p: a - b),
    "*": (lambda a, b, p: a * b, lambda a, b, p: a * b),
    "/": (lambda a, b, p: a / b, lambda a, b, p: a / b),
    "neg": (lambda a, p: -a, lambda a, p: -a),
    "**": (lambda a, b, p: a ** b, lambda a, b, p: torch.pow(a, b)),
    "**n": (lambda a, p: a ** p, lambda a, p: a ** p),
    "exp": (lambda a, p: a.exp(), lambda a, p: torch.exp(a)),
    "log": (lambda a, p: a.log(), lambda a, p: torch.log(a)),
    "sqrt": (lambda a, p: a.sqrt(), lambda a, p: torch.sqrt(a)),
    "tanh": (lambda a, p: a.tanh(), lambda a, p: torch.tanh(a)),
    "sigmoid": (lambda a, p: a.sigmoid(), lambda a, p: torch.sigmoid(a)),
    # F.softplus switches to x above a threshold; logaddexp(x, 0) is log(1 + e^x) throughout.
    "softplus": (lambda a, p: a.softplus(), lambda a, p: torch.logaddexp(a, torch.zeros_like(a))),
    "relu": (lambda a, p: a.relu(), lambda a, p: torch.relu(a)),
    "leaky_relu": (lambda a, p: a.leaky_relu(p), lambda a, p: F.leaky_relu(a, p)),
    "abs": (lambda a, p: abs(a), lambda a, p: torch.abs(a)),
    "swish": (lambda a, p: a.swish(p),
              lambda a, p: F.silu(a) if p == 1.0 else a * torch.sigmoid(p * a)),
    "sin": (lambda a, p: a.sin(), lambda a, p: torch.sin(a)),
    "cos": (lambda a, p: a.cos(), lambda a, p: torch.cos(a)),
    "tan": (lambda a, p: a.tan(), lambda a, p: torch.tan(a)),
    "atan": (lambda a, p: a.atan(), lambda a, p: torch.atan(a)),
    "erf": (lambda a, p: a.erf(), lambda a, p: torch.erf(a)),
    "sign": (lambda a, p: a.sign(), lambda a, p: torch.sign(a)),
    "gelu": (lambda a, p: a.gelu(), lambda a, p: F.gelu(a)),
    "softsign": (lambda a, p: a.softsign(), lambda a, p: F.softsign(a)),
    "mish": (lambda a, p: a.mish(), lambda a, p: F.mish(a)),
    "selu": (lambda a, p: a.selu(), lambda a, p: F.selu(a)),
    "elu": (lambda a, p: a.elu(p), lambda a, p: F.elu(a, p)),
    "max": (lambda a, b, p: maximum(a, b), lambda a, b, p: torch.maximum(a, b)),
    "min": (lambda a, b, p: minimum(a, b), lambda a, b, p: torch.minimum(a, b)),
}
TABLE_NAME = {"**n": "**"}  # pow_const ops are named "**2", "**-1", ...; "**n" stands for them


def test_every_op_in_the_table_is_generated():
    covered = {TABLE_NAME.get(kind, kind) for kind in BUILD}
    missing = set(OPS) - covered
    assert not missing, f"add {sorted(missing)} to BUILD in tests/test_torch_parity.py"


# ---- the generator ----------------------------------------------------------------------------

class Graph:
    """A seeded random DAG, recorded as steps so it can be built in both engines."""

    def __init__(self, seed: int) -> None:
        self.rng = rng = random.Random(seed)
        self.inputs = [rng.choice([-1, 1]) * rng.uniform(0.1, 2.0) for _ in range(N_INPUTS)]
        self.steps: list[Step] = []
        self.values = [Value(x) for x in self.inputs]   # the microgradnet nodes, built as we go
        kinds = list(BUILD) * 2                          # every op at least twice per graph
        rng.shuffle(kinds)
        while len(self.steps) < N_NODES or kinds:
            self._add(kinds.pop() if kinds else rng.choice(list(BUILD)))

    # Operand choice: mostly recent nodes (deep paths), sometimes any node (reuse, diamonds).
    def _pick(self, ok=lambda v: True) -> int | None:
        n = len(self.values)
        candidates = [i for i in range(n) if ok(self.values[i].data)]
        if not candidates:
            return None
        recent = [i for i in candidates if i >= n - 4]
        return self.rng.choice(recent if recent and self.rng.random() < 0.6 else candidates)

    def _emit(self, kind: str, args: tuple, param: float | None = None) -> int:
        build = BUILD[kind][0]
        node = build(*[self.values[i] for i in args], param)
        self.steps.append(Step(kind, args, param))
        self.values.append(node)
        return len(self.values) - 1

    def _small(self, bound: float = 3.0) -> int:
        """A node with |value| <= bound: an existing one, or tanh of one, scaled."""
        i = self._pick(lambda v: abs(v) <= bound)
        if i is None:
            i = self._emit("tanh", (self._pick(),))
        return i

    def _positive(self, low: float = 0.2) -> int:
        """A node with low <= value <= 10: an existing one, or x * x + 0.5 of a small one."""
        i = self._pick(lambda v: low <= v <= 10.0)
        if i is None:
            s = self._small(2.0)
            i = self._emit("*", (s, s))
            i = self._emit("+", (i, self._const(0.5)))
        return i

    def _away_from_zero(self) -> int:
        i = self._pick(lambda v: KINK_GAP <= abs(v) <= 10.0)
        if i is None:
            i = self._positive()
        return i

    def _const(self, x: float) -> int:
        # A plain number in an op becomes a leaf; record it as a leaf of the graph.
        self.inputs.append(x)
        self.values.append(Value(x))
        self.steps.append(Step("leaf", (), x))
        return len(self.values) - 1

    def _add(self, kind: str) -> None:
        rng = self.rng
        if kind in ("+", "-", "*"):
            a = self._small(5.0)
            b = a if rng.random() < 0.2 else self._small(5.0)   # a + a, a * a
            self._emit(kind, (a, b))
        elif kind == "/":
            self._emit(kind, (self._small(5.0), self._away_from_zero()
                              if rng.random() < 0.5 else self._positive()))
        elif kind == "**":
            self._emit(kind, (self._positive(), self._small(2.0)))
        elif kind == "**n":
            n = rng.choice([2, 3, -1, -2, 0.5, 1.5, -0.5, 0, 1])
            base = self._small(3.0) if n in (0, 1, 2, 3) else (
                self._away_from_zero() if n in (-1, -2) else self._positive())
            if n < 0 and abs(self.values[base].data) < 0.2:
                base = self._positive()
            self._emit(kind, (base,), float(n))
        elif kind == "exp":
            self._emit(kind, (self._small(3.0),))
        elif kind in ("log", "sqrt"):
            self._emit(kind, (self._positive(),))
        elif kind in ("max", "min"):
            a = self._small(5.0)

            def far(v, a=a):
                return abs(v - self.values[a].data) >= KINK_GAP and abs(v) <= 5.0

            b = self._pick(far)
            if b is None:
                b = self._emit("+", (a, self._const(rng.uniform(0.1, 1.0))))
            self._emit(kind, (a, b))
        elif kind == "tan":
            self._emit(kind, (self._small(1.3),))
        elif kind in ("relu", "abs", "leaky_relu", "sign", "softsign", "selu", "elu"):
            param = (rng.choice([0.01, 0.2]) if kind == "leaky_relu" else
                     rng.choice([1.0, 0.5]) if kind == "elu" else None)
            self._emit(kind, (self._away_from_zero(),), param)
        elif kind == "swish":
            self._emit(kind, (self._small(5.0),), rng.choice([1.0, 0.5, 2.0]))
        else:  # neg, tanh, sigmoid, softplus, sin, cos, atan, erf, gelu, mish
            self._emit(kind, (self._small(5.0),))

    def output_indices(self) -> list:
        """The nodes no other node reads: summed, they make every node matter."""
        used = {i for s in self.steps for i in s.args}
        first = N_INPUTS
        return [i for i in range(first, len(self.values)) if i not in used
                and self.steps[i - first].kind != "leaf"]

    # ---- replay in torch -----------------------------------------------------------------------
    def torch_nodes(self) -> tuple[list, list]:
        """All nodes as float64 tensors, and the leaves (requires_grad)."""
        leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True)
                  for x in self.inputs[:N_INPUTS]]
        nodes = list(leaves)
        for s in self.steps:
            if s.kind == "leaf":
                t = torch.tensor(s.param, dtype=torch.float64, requires_grad=True)
                leaves.append(t)
            else:
                t = BUILD[s.kind][1](*[nodes[i] for i in s.args], s.param)
                t.retain_grad()
            nodes.append(t)
        return nodes, leaves

    def leaves(self) -> list:
        return [v for v in self.values if v.is_leaf]


def _loss(nodes: list, idx: list):
    total = nodes[idx[0]]
    for i in idx[1:]:
        total = total + nodes[i]
    return total


def _close(actual: float, expected: float, what: str) -> None:
    assert_close(actual, expected, rtol=RTOL, atol=1e-12, what=what)


# ---- the parity tests --------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_values_and_every_node_gradient_match_pytorch(seed):
    g = Graph(seed)
    idx = g.output_indices()
    loss = _loss(g.values, idx)
    tnodes, _ = g.torch_nodes()
    tloss = _loss(tnodes, idx)
    for i, (v, t) in enumerate(zip(g.values, tnodes)):
        _close(v.data, t.item(), f"seed {seed}, value of node {i} ({v.op or 'leaf'})")
    loss.backward()
    tloss.backward()
    for i, (v, t) in enumerate(zip(g.values, tnodes)):
        expected = 0.0 if t.grad is None else t.grad.item()
        _close(v.grad, expected, f"seed {seed}, grad of node {i} ({v.op or 'leaf'})")


@pytest.mark.parametrize("seed", SEEDS)
def test_first_and_second_derivatives_match_pytorch(seed):
    g = Graph(seed)
    idx = g.output_indices()
    leaves = g.leaves()
    loss = _loss(g.values, idx)
    tnodes, tleaves = g.torch_nodes()
    tloss = _loss(tnodes, idx)

    first = grad(loss, leaves, create_graph=True)
    tfirst = torch.autograd.grad(tloss, tleaves, create_graph=True, allow_unused=True)
    floats = grad(loss, leaves)
    for i, (d, f, t) in enumerate(zip(first, floats, tfirst)):
        expected = 0.0 if t is None else t.item()
        _close(d.data, expected, f"seed {seed}, d loss / d x{i} (create_graph)")
        _close(f, expected, f"seed {seed}, d loss / d x{i}")

    for i, (d, t) in enumerate(zip(first, tfirst)):
        row = grad(d, leaves)
        if t is None or not t.requires_grad:
            trow = [None] * len(tleaves)
        else:
            trow = torch.autograd.grad(t, tleaves, retain_graph=True, allow_unused=True)
        for j, (h, th) in enumerate(zip(row, trow)):
            expected = 0.0 if th is None else th.item()
            _close(h, expected, f"seed {seed}, d2 loss / dx{i} dx{j}")


def test_generated_graphs_use_every_op_and_reuse_nodes():
    kinds, reused, squares = set(), 0, 0
    for seed in SEEDS:
        g = Graph(seed)
        kinds |= {s.kind for s in g.steps}
        reads = [i for s in g.steps for i in s.args]
        reused += len(reads) - len(set(reads))
        squares += sum(1 for s in g.steps if len(s.args) == 2 and s.args[0] == s.args[1])
    assert set(BUILD) <= kinds
    assert reused > 100 and squares > 10


@pytest.mark.parametrize("name,build,tbuild", [
    ("relu(0)", lambda a: (a - a).relu(), lambda a: torch.relu(a - a)),
    ("abs(0)", lambda a: abs(a - a), lambda a: torch.abs(a - a)),
    ("leaky_relu(0)", lambda a: (a - a).leaky_relu(0.2), lambda a: F.leaky_relu(a - a, 0.2)),
    ("max(a, a)", lambda a: maximum(a, a * 1.0) * a, lambda a: torch.maximum(a, a * 1.0) * a),
    ("min(a, a)", lambda a: minimum(a * 1.0, a) * a, lambda a: torch.minimum(a * 1.0, a) * a),
    ("sign(0)", lambda a: (a - a).sign() + a, lambda a: torch.sign(a - a) + a),
    ("elu(0)", lambda a: (a - a).elu(0.5), lambda a: F.elu(a - a, 0.5)),
    ("selu(0)", lambda a: (a - a).selu(), lambda a: F.selu(a - a)),
    ("softsign(0)", lambda a: (a - a).softsign(), lambda a: F.softsign(a - a)),
])
def test_kink_conventions_match_pytorch(name, build, tbuild):
    x = Value(0.7)
    t = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    d = grad(build(x), x, create_graph=True)
    (td,) = torch.autograd.grad(tbuild(t), t, create_graph=True)
    assert_close(d.data, td.item(), rtol=0.0, atol=0.0, what=name)
    assert_close(grad(d, x), torch.autograd.grad(td, t)[0].item() if td.requires_grad else 0.0,
                 rtol=0.0, atol=0.0, what=f"{name} second derivative")
