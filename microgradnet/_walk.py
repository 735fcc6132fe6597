"""The engine's machinery over whole graphs: the topological order that everything reads, the
faster walk that ``backward`` takes, a graph flattened for pickling and copying, and the pause
of the cyclic garbage collector.

Both walks are iterative depth-first searches (graphs far deeper than the recursion limit work)
that visit parents in order, so the order, and anything drawn or summed from it, is
deterministic.
"""
from __future__ import annotations

import gc
import math
import threading
from typing import Callable, Sequence

from . import ops

__all__ = ["walk", "backward_order", "first_stale", "IDENTITY_STAMPS", "ZERO", "flatten",
           "rebuild", "CollectorPause", "PAUSE"]

# backward_order marks the nodes it has walked with a fresh float 0.0 compared by identity.
# That needs an interpreter where two equal floats made apart are two objects, as in CPython;
# elsewhere backward falls back to walk(), which keeps a set of the nodes it saw.
IDENTITY_STAMPS = float("0") is not float("0")

# The 0.0 that every new node's grad is, and zero_grad's: backward_order tells an untouched
# grad by identity, without reading the float (on a big graph of old leaves, reading each
# grad's float object costs a cache miss per node: the walk of the 100,000-product sum took
# half as long again).
ZERO = 0.0


def walk(roots: Sequence) -> list:
    """The topological order of everything reachable from ``roots`` (each node after all of
    its parents), without touching any node: a set holds the nodes seen."""
    order: list = []
    seen: set = set()
    for root in roots:
        stack = [root]
        while stack:
            node = stack.pop()
            if node is None:  # the marker: every parent of the node below it is done
                order.append(stack.pop())
                continue
            if node in seen:
                continue
            seen.add(node)
            stack.append(node)
            stack.append(None)
            if node._op is not None:
                # Push b before a so a's inputs come first in the order.
                b = node._b
                if b is not None and b not in seen:
                    stack.append(b)
                if node._a not in seen:
                    stack.append(node._a)
    return order


def first_stale(order) -> tuple | None:
    """``(node, leaf)`` for the first op node in ``order`` that reads a leaf assigned after the
    node was made (the engine's ``_version``); None if the graph is current. Only leaves are
    assigned, so only the edges into leaves need looking at."""
    for node in order:
        if node._op is not None:
            a, b = node._a, node._b
            if a._version > node._version:
                return node, a
            if b is not None and b._version > node._version:
                return node, b
    return None


def backward_order(root) -> tuple:
    """``(order, saved, stale, stamp)``: the op nodes reachable from ``root`` in topological
    order (with the leaves too on the fallback path, which backward's loop passes over), each
    op node's grad reset to 0.0 on the way (backward's first step, done here to save a second
    pass); ``node, grad, node, grad, ...`` (a flat list: no tuple per entry) for every node
    whose grad was not 0.0 before, so that a pass that fails can put every grad back (a grad
    that is the object ``ZERO`` counts as zero; another 0.0 is saved, which is harmless);
    :func:`first_stale`'s answer, found on the way (one comparison per edge into a
    leaf); and the float 0.0 the op nodes' grads were reset to.

    The reset is also the visited mark: an op node's grad is set to ``busy``, a float 0.0 made
    for this walk, while its parents are walked, then to ``stamp``, another, once it is in the
    order; ``grad is stamp`` means this walk is done with the node (a later pass leaves it at
    0.0 or adds to it, making a new float). Two marks instead of a marker entry on the stack
    after each node: a third fewer pushes and pops (the walk of the sum of products is about
    3% faster). Leaves keep their grad (they accumulate), so they carry no mark. The op nodes
    come in the order :func:`walk` gives them, so every gradient is summed in the same order
    as ``grad``'s. Two passes over one graph must not run at once in threads: the marks would
    mix (``backward`` holds a lock).
    """
    order: list
    saved: list
    if not IDENTITY_STAMPS or root._op is None:
        order = walk((root,))
        saved = [x for node in order if node._grad is not ZERO for x in (node, node._grad)]
        for node in order:
            if node._op is not None:
                node._grad = ZERO
        return order, saved, first_stale(order), ZERO
    stamp = float("0")
    busy = float("0")
    zero = ZERO
    order = []
    saved = []
    stale = None
    stack = [root]
    while stack:
        node = stack.pop()
        old = node._grad
        if old is busy:  # met again under its parents: every one of them is in the order
            node._grad = stamp
            order.append(node)
            continue
        if old is stamp:
            continue
        if old is not zero:
            saved.append(node)
            saved.append(old)
        node._grad = busy
        stack.append(node)
        # Push b before a so a's inputs come first in the order. Leaves are left out of it:
        # backward checks their sums as it adds to them, and they have nothing to send.
        b = node._b
        if b is not None:
            if b._op is None:
                if b._grad is not zero:
                    saved.append(b)
                    saved.append(b._grad)
                if b._version > node._version and stale is None:
                    stale = node, b
            elif b._grad is not stamp:
                stack.append(b)
        a = node._a
        if a._op is None:
            if a._grad is not zero:
                saved.append(a)
                saved.append(a._grad)
            if a._version > node._version and stale is None:
                stale = node, a
        elif a._grad is not stamp:
            stack.append(a)
    return order, saved, stale, stamp


# ---- a graph as flat records, for pickle and copy ----------------------------------------------
# Pickling a node as an object that holds its parents would recurse once per level (a RecursionError
# on a chain of a few thousand nodes), and op records hold lambdas, which pickle cannot save. So
# a graph is saved as one flat table, nodes in topological order with their parents as
# positions, and each op as the name (and parameters) it is made from again on loading.

_FACTORIES: dict = {"relu": ops.relu, "leaky_relu": ops.leaky_relu, "abs": ops.abs_op,
                    "swish": ops.swish, "elu": ops.elu, "max": ops.maximum, "min": ops.minimum}


def op_key(op):
    """How ``op`` is saved: its name for an op of the table, ``(name, *parameters)`` for one
    made by a factory, else the record itself (a user's op; pickle saves its functions by
    reference, so they must be importable)."""
    if ops.OPS.get(op.name) is op:
        return op.name
    factory = ops.pow_const if op.name.startswith("**") else _FACTORIES.get(op.name)
    args = tuple(v for _, v in op.params)
    name = "**" if op.name.startswith("**") else op.name
    # The factories cache one record per call, and a parameter left at its default
    # (leaky_relu's kink) is a call of its own: try the shorter calls too.
    for n in range(len(args), -1, -1):
        try:
            if factory is not None and factory(*args[:n]) is op:
                return (name, *args[:n])
        except (TypeError, ValueError):
            break
    return op


def op_from_key(key) -> "ops.Op":
    if isinstance(key, str):
        return ops.OPS[key]
    if isinstance(key, tuple):
        name, *args = key
        return ops.pow_const(*args) if name == "**" else _FACTORIES[name](*args)
    return key


def flatten(root, base: type) -> tuple:
    """``(keys, records)``: the graph of ``root`` as a table, ``records`` in topological order
    (the root last), each ``(data, grad, op index or -1, a position, b position, meta,
    stale, cls)``: ``stale`` tells an op node that reads a leaf assigned after it was made (the
    clock's readings mean nothing in another process, so only that is kept), ``cls`` the
    node's class where it is a subclass (``nn.Parameter``), else None."""
    order = walk((root,))
    position = {node: i for i, node in enumerate(order)}
    keys: list = []
    key_index: dict = {}
    records = []
    for node in order:
        op = node._op
        cls = None if node.__class__ is base else node.__class__
        if op is None:
            records.append((node._data, node._grad, -1, -1, -1, node._meta, False, cls))
            continue
        k = key_index.get(op)
        if k is None:
            k = key_index[op] = len(keys)
            keys.append(op_key(op))
        a, b = node._a, node._b
        stale = a._version > node._version or (b is not None and b._version > node._version)
        records.append((node._data, node._grad, k, position[a],
                        -1 if b is None else position[b], node._meta, stale, cls))
    return tuple(keys), tuple(records)


def rebuild(make: Callable, keys: tuple, records: tuple):
    """The root of the graph :func:`flatten` saved, every node made anew by ``make(cls)``."""
    table = [op_from_key(k) for k in keys]
    nodes: list = []
    for data, grad, k, a, b, meta, stale, cls in records:
        node = make(cls)
        node._data = data
        node._grad = ZERO if grad == 0.0 and math.copysign(1.0, grad) > 0 else grad
        node._meta = meta
        node._version = -1 if stale else 0  # older than any leaf: still refused
        if k < 0:
            node._op = node._a = node._b = None
        else:
            node._op = table[k]
            node._a = nodes[a]
            node._b = None if b < 0 else nodes[b]
        nodes.append(node)
    return nodes[-1]


class CollectorPause:
    """A context manager: CPython's cyclic garbage collector is paused while any block of it is
    open, in any thread, and resumed when the last one closes, exceptions or not.

    Why: building a graph makes no reference cycles (a node points only at older nodes, and the
    refcount frees a graph the moment its last reference goes), yet every node is an object the
    collector tracks, so while a graph grows the collector keeps rescanning it, and everything
    else on the heap, for nothing: about two thirds of the forward pass on a 100,000-node sum
    (scripts/bench_engine.py prints the share). A block is the bound on that pause.

    The collector's state is read when the first block opens and given back when the last one
    closes: a pause never leaves the collector off, a block in one thread does not resume it
    under a block still open in another, and a collector the user had turned off stays off.
    Cyclic garbage made inside a block is collected soon after it: the allocations counted
    while paused start a collection at the first allocation after it.
    """
    __slots__ = ("_lock", "_open", "_resume")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0          # blocks open now, in every thread
        self._resume = False    # the collector was on when the first of them opened

    def __enter__(self) -> "CollectorPause":
        with self._lock:
            if self._open == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._open += 1
        return self

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._open -= 1
            if self._open == 0 and self._resume:
                if gc.get_freeze_count() == 0:
                    # Hand what the block made to the oldest generation without a scan: else
                    # the first allocation after the block scans every node still alive once
                    # (a third of the forward pass on the demo), because the count of young
                    # objects is far past the threshold. Cyclic garbage among them waits for
                    # the next full collection. (Frozen objects are someone's: left alone.)
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()


# The engine's one pause: backward, grad and every no_gc() block share it, so the collector
# comes back only when the last of them, in any thread, is done.
PAUSE = CollectorPause()
