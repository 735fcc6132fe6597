"""Replay a fixed graph: record it once, then re-run its forward and backward pass on new leaf
values without building a single new node.

A training loop builds the same graph every step; only the numbers change. :func:`compile_graph`
walks the graph once and writes it out as straight-line Python (one line per forward op, one
line per gradient contribution), compiled with ``compile()``. Calling the result runs that code
on plain floats.

Exactness: the generated code performs the same float operations, in the same order, as the
eager engine (each op's forward, each op's rule, and the gradient accumulation order of
:meth:`Value.backward`), so values and gradients equal the eager ones to the last bit. The
piecewise ops (relu, leaky_relu, abs, maximum, minimum) pick their slope from the new values
each call, with the same value at the kink as their op record.

What a replay cannot see: a graph whose *structure* depends on the data (choosing a node with
Python's ``max()``, an ``if`` on ``.data``, a constant read from ``.data`` such as a detached
max-shift) replays the recorded structure, not the one the new values would build. Build such
graphs from ops (``maximum``) instead. Leaves of the graph that are not listed in ``leaves`` are
constants: their value at compile time is written into the code.

Example:
    >>> from microgradnet import Value
    >>> a, b = Value(2.0), Value(-3.0)
    >>> fn = compile_graph((a * b).relu() + a * a, [a, b])
    >>> fn([2.0, -3.0])
    (4.0, [4.0, 0.0])
    >>> fn([1.0, 5.0])
    (6.0, [7.0, 1.0])
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

from . import ops
from .engine import DomainError, Value, topological_order

__all__ = ["compile_graph", "compile_forward", "CompiledGraph", "CompiledForward"]


# Each op record carries its own inline source (``Op.code``); an op without it (a user's own,
# or one whose rule branches in ways not worth inlining) is run by calling its fn and rule.
_MATH = {name: getattr(math, name)
         for name in ("exp", "log", "sqrt", "tanh", "sin", "cos", "tan", "atan", "erf")}


def _guarded(op: ops.Op) -> bool:
    """The eager engine skips a node whose gradient is 0, so a rule that can raise there
    (sqrt'(0), 0 ** negative, any rule the replay calls) is guarded by the same test."""
    return op.guarded or op.code is None or op.code[1] is None


def _lit(x: float) -> str:
    return f"({x!r})"


class _Writer:
    """Turns a recorded graph into straight-line Python source."""

    def __init__(self, roots: Sequence[Value], leaves: Sequence[Value], grads: bool) -> None:
        self.order = topological_order(*roots)
        self.leaf_index = {leaf: i for i, leaf in enumerate(leaves)}
        self.names: dict = {}
        self.env: dict = dict(_MATH)
        self.fn_names: dict = {}
        self.lines: list = []
        for j, node in enumerate(self.order):
            if not node.is_leaf:
                self.names[node] = f"v{j}"
            elif node in self.leaf_index:
                self.names[node] = f"x{self.leaf_index[node]}"
            else:
                self.names[node] = _lit(node.data)  # a constant, fixed at compile time

    def fn_name(self, obj, prefix: str) -> str:
        key = (prefix, id(obj))
        if key not in self.fn_names:
            name = f"{prefix}{len(self.fn_names)}"
            self.fn_names[key] = name
            self.env[name] = obj
        return self.fn_names[key]

    def forward_line(self, node: Value) -> str:
        op, out = node.primitive, self.names[node]
        args = [self.names[p] for p in node.parents]
        if op.code is not None and op.code[0] is not None:
            return f"{out} = " + op.code[0].format(a=args[0], b=args[-1])
        return f"{out} = {self.fn_name(op.fn, 'F')}({', '.join(args)})"

    def contributions(self, node: Value, g: str, need: list) -> list:
        """Source expressions of the gradient sent to each parent (None where not needed)."""
        op, out = node.primitive, self.names[node]
        args = [self.names[p] for p in node.parents]
        if op.code is not None and op.code[1] is not None:
            return [t.format(g=g, a=args[0], b=args[-1], out=out) for t in op.code[1]]
        # Any other op: call its own rule, exactly as the engine does.
        r = self.fn_name(op.rule, "R")
        self.lines_pending = f"r = {r}({g}, {out}, {', '.join(args)})"
        return [f"r[{i}]" for i in range(len(args))]

    def write(self, roots: Sequence[Value], grad_of: set, grads: bool) -> str:
        order = self.order
        lines = self.lines
        for node in order:
            if not node.is_leaf:
                lines.append(self.forward_line(node))
        if not grads:
            return "\n".join(lines)
        root = roots[0]
        # needs[node]: the node lies on a path to a leaf whose gradient is wanted.
        needs: dict = {}
        for node in order:
            if node.is_leaf:
                needs[node] = node in grad_of
            else:
                needs[node] = any(needs[p] for p in node.parents)
        started: set = set()
        gname = {}
        for node in order:
            name = self.names[node]
            gname[node] = ("d" + name) if not node.is_leaf or node in self.leaf_index else None
        if needs[root]:
            lines.append(f"{gname[root]} = 1.0")
            started.add(root)
        for node in reversed(order):
            if node.is_leaf or not needs[node] or node not in started:
                continue
            g = gname[node]
            need = [needs[p] for p in node.parents]
            self.lines_pending = None
            exprs = self.contributions(node, g, need)
            guarded = _guarded(node.primitive)
            body = []
            if self.lines_pending:
                body.append(self.lines_pending)
            for p, e, n in zip(node.parents, exprs, need):
                if not n:
                    continue
                target = gname[p]
                if p in started:
                    body.append(f"{target} += {e}")
                elif guarded:
                    lines.append(f"{target} = 0.0")
                    started.add(p)
                    body.append(f"{target} += {e}")
                else:
                    started.add(p)
                    # A leaf's gradient starts from 0.0 as in the engine (after zero_grad), so
                    # a zero gradient is +0.0 there too.
                    body.append(f"{target} = 0.0 + {e}" if p.is_leaf else f"{target} = {e}")
            if not body:
                continue
            if guarded:
                lines.append(f"if {g} != 0.0:")
                lines.extend("    " + s for s in body)
            else:
                lines.extend(body)
        self.started = started
        self.gname = gname
        return "\n".join(lines)


def _build(name: str, params: str, body: str, ret: str, env: dict):
    src = f"def {name}({params}):\n"
    src += "".join("    " + line + "\n" for line in body.split("\n") if line)
    src += f"    return {ret}\n"
    code = compile(src, f"<microgradnet.replay {name}>", "exec")
    exec(code, env)
    return env[name], src


def _check_leaves(leaves: Iterable[Value], what: str) -> list:
    leaves = list(leaves)
    seen: set = set()
    for i, leaf in enumerate(leaves):
        if not isinstance(leaf, Value):
            raise TypeError(f"{what}: leaves[{i}] must be a Value, got {type(leaf).__name__}")
        if not leaf.is_leaf:
            raise ValueError(f"{what}: leaves[{i}] is the result of op {leaf.op!r}, not a leaf "
                             f"(only leaves can be given new values)")
        if leaf in seen:
            raise ValueError(f"{what}: leaves[{i}] ({leaf!r}) is listed twice")
        seen.add(leaf)
    return leaves


def _check_values(values, n: int, what: str) -> list:
    if not isinstance(values, (list, tuple)):
        values = list(values)
    if len(values) != n:
        raise ValueError(f"{what}: expected {n} values (one per leaf), got {len(values)}")
    return values


class CompiledGraph:
    """A recorded graph that re-runs forward and backward on new leaf values.

    Made by :func:`compile_graph`. ``fn(values)`` returns ``(root_value, grads)`` with ``grads[i]``
    = d root / d ``leaves[i]``, as floats. The graph's ``Value`` nodes are not touched, except
    by :meth:`load` and :meth:`backward`, which work on the leaves for use with an optimiser.

    Attributes:
        root: the recorded root node.
        leaves: the leaves whose values change, in the order of ``values``.
        n_nodes: the number of nodes of the recorded graph.
        source: the generated Python source.
    """

    def __init__(self, root: Value, leaves: Sequence[Value], grad_leaves: Sequence[Value]):
        self.root = root
        self.leaves = tuple(leaves)
        w = _Writer([root], self.leaves, grads=True)
        body = w.write([root], set(grad_leaves), grads=True)
        self.n_nodes = len(w.order)
        rets = []
        for i, leaf in enumerate(self.leaves):
            rets.append(w.gname[leaf] if leaf in w.started else "0.0")
        unpack = ""
        if self.leaves:
            unpack = ", ".join(f"x{i}" for i in range(len(self.leaves))) + ", = values\n"
        self._fn, self.source = _build("replay", "values", unpack + body,
                                       f"{w.names[root]}, [{', '.join(rets)}]", w.env)
        self._order = w.order

    def __call__(self, values: Sequence[float]) -> tuple:
        """Forward and backward on ``values`` (one float per leaf, in order).

        Returns:
            ``(out, grads)``: the root's value and the list of d out / d leaf.

        Raises:
            ValueError: wrong number of values.
            DomainError: an op leaves its domain or a result is not finite, exactly where the
                eager engine would raise (found by re-running the graph node by node).
        """
        values = _check_values(values, len(self.leaves), "compiled graph")
        try:
            out, grads = self._fn(values)
        except (ArithmeticError, ValueError, TypeError):
            self._diagnose(values)
            raise
        total = out + sum(grads)
        if total - total != 0.0:
            self._diagnose(values)
        return out, grads

    def _diagnose(self, values: Sequence[float]) -> None:
        """Re-run the graph on fresh nodes, so the eager engine raises its own error (a forward
        op out of its domain, a result or a gradient that is not finite)."""
        clones = {leaf: Value(x, leaf.label) for leaf, x in zip(self.leaves, values)}
        for node in self._order:
            if node.is_leaf:
                clones.setdefault(node, Value(node.data, node.label))
            else:
                clones[node] = Value._apply(node.primitive, *[clones[p] for p in node.parents])
        clones[self.root].backward()

    def values(self) -> list:
        """The leaves' current ``.data``, in order (a starting point for ``fn(values)``)."""
        return [leaf.data for leaf in self.leaves]

    def load(self, values: Sequence[float]) -> None:
        """Write ``values`` into the leaves' ``.data`` (e.g. new inputs for :meth:`backward`)."""
        values = _check_values(values, len(self.leaves), "compiled graph load")
        for leaf, x in zip(self.leaves, values):
            leaf.data = float(x)

    def backward(self, accumulate: bool = True) -> float:
        """Run on the leaves' current ``.data`` and add the gradients to their ``.grad``, as
        ``root.backward()`` would (set them instead with ``accumulate=False``), so an optimiser
        from :mod:`microgradnet.optim` can step as usual. Also stores the result in
        ``root.data``.

        Returns:
            The root's value.
        """
        out, grads = self(self.values())
        for leaf, g in zip(self.leaves, grads):
            leaf.grad = leaf.grad + g if accumulate else g
        self.root.data = out
        return out

    def __repr__(self) -> str:
        return f"CompiledGraph(nodes={self.n_nodes}, leaves={len(self.leaves)})"


class CompiledForward:
    """Forward-only replay of several outputs (e.g. a model's logits for prediction).

    ``fn(values)`` returns the outputs' values as a list of floats.
    """

    def __init__(self, outputs: Sequence[Value], leaves: Sequence[Value]) -> None:
        self.outputs = tuple(outputs)
        self.leaves = tuple(leaves)
        w = _Writer(self.outputs, self.leaves, grads=False)
        body = w.write(self.outputs, set(), grads=False)
        self.n_nodes = len(w.order)
        unpack = ""
        if self.leaves:
            unpack = ", ".join(f"x{i}" for i in range(len(self.leaves))) + ", = values\n"
        self._fn, self.source = _build("replay_forward", "values", unpack + body,
                                       f"[{', '.join(w.names[o] for o in self.outputs)}]", w.env)

    def __call__(self, values: Sequence[float]) -> list:
        values = _check_values(values, len(self.leaves), "compiled forward")
        out = self._fn(values)
        s = sum(out)
        if s - s != 0.0:
            raise DomainError(f"an output is not finite: {out!r}")
        return out

    def __repr__(self) -> str:
        return f"CompiledForward(nodes={self.n_nodes}, outputs={len(self.outputs)})"


def compile_graph(root: Value, leaves: Sequence[Value],
                  grad_leaves: Sequence[Value] | None = None) -> CompiledGraph:
    """Record the graph ending at ``root`` for replay on new values of ``leaves``.

    Args:
        root: the output node (e.g. a loss).
        leaves: leaf Values whose data will change (inputs, targets, parameters); every other
            leaf of the graph is a constant.
        grad_leaves: the leaves whose gradients are wanted (default: all of ``leaves``); the
            others get 0.0 and their part of the backward pass is skipped.

    Returns:
        A :class:`CompiledGraph` ``fn``: ``out, grads = fn(values)``, bit-for-bit what
        ``root.data`` and the leaves' ``.grad`` would be after rebuilding the graph on
        ``values`` and calling ``backward()`` (with zeroed gradients).

    Example:
        >>> x, w = Value(3.0), Value(0.5)
        >>> fn = compile_graph((x * w).tanh(), [x, w])
        >>> out, (gx, gw) = fn([1.0, 2.0])
        >>> round(out, 6), round(gw, 6)
        (0.964028, 0.070651)
    """
    if not isinstance(root, Value):
        raise TypeError(f"compile_graph: root must be a Value, got {type(root).__name__}")
    leaves = _check_leaves(leaves, "compile_graph")
    if grad_leaves is None:
        grad_leaves = leaves
    else:
        grad_leaves = list(grad_leaves)
        listed = set(leaves)
        for i, g in enumerate(grad_leaves):
            if g not in listed:
                raise ValueError(f"compile_graph: grad_leaves[{i}] ({g!r}) is not in leaves")
    return CompiledGraph(root, leaves, grad_leaves)


def compile_forward(outputs: Sequence[Value], leaves: Sequence[Value]) -> CompiledForward:
    """Record the graph of ``outputs`` for forward-only replay on new values of ``leaves``.

    Args:
        outputs: the nodes whose values are wanted (e.g. the logits of one sample).
        leaves: leaf Values whose data will change.

    Returns:
        A :class:`CompiledForward` ``fn``: ``fn(values)`` is the list of output values.
    """
    outputs = list(outputs)
    for i, o in enumerate(outputs):
        if not isinstance(o, Value):
            raise TypeError(f"compile_forward: outputs[{i}] must be a Value, "
                            f"got {type(o).__name__}")
    return CompiledForward(outputs, _check_leaves(leaves, "compile_forward"))
