"""Replay a fixed graph: record it once, then re-run its forward and backward pass on new leaf
values without building a single new node.

A training loop builds the same graph every step; only the numbers change. :func:`compile_graph`
walks the graph once and writes it out as straight-line Python (one line per forward op, one
line per node of the backward pass), compiled with ``compile()``. Calling the result runs that
code on plain floats.

Exactness: the generated code performs the same float operations, in the same order, as the
eager engine (each op's forward, each op's rule, and the gradient accumulation order of
:meth:`Value.backward`), so values and gradients equal the eager ones to the last bit. The
piecewise ops (relu, leaky_relu, abs, maximum, minimum) pick their slope from the new values
each call, with the same value at the kink as their op record.

Errors: new leaf values go through the checks of ``Value`` itself (so NaN, infinity, a bool or
a str are refused with its messages, and a ``numpy.float32`` or a ``Fraction`` becomes the
float ``Value`` would hold), and a replay raises wherever the eager engine would: an op outside
its domain, a forward result or a gradient that is not finite. Testing every number for
finiteness would cost a test per node; instead each call adds up the outputs, the gradients and
a few chosen intermediates once, and only if that sum is not finite re-runs the graph eagerly,
which raises the engine's own error naming the node. The intermediates are chosen by a rule of
IEEE arithmetic: an infinity or a NaN stays infinite or NaN through ``+``, ``-``, ``*`` and the
numerator of ``/``, so a number that reaches the outputs along such edges needs no test of its
own; one that may be hidden on the way (``1 / inf`` is 0, ``tanh(inf)`` is 1, relu's slope
left of 0 is 0 whatever the gradient) is added to the sum. Which edges are safe is read from
each op's replay source (``Op.code``). One gap is left on purpose: the gradients of leaves
left out of ``grad_leaves`` (and of nodes that lead only to them) are not computed, which is
what ``grad_leaves`` is for, so an overflow there, which ``backward`` would report, goes
unseen. The constants' gradients are computed and checked, as ``backward`` does.

Size: CPython compiles one function in time and memory that grow faster than its length (a
million-node graph as one function took minutes and gigabytes), so the code is cut into
about twenty functions (:data:`PIECE_LINES`), called one after the other by
:func:`_make_runner`'s runner. A number one piece makes and a later one reads goes through a
list shared by the pieces (see :func:`_assemble`).

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

import ast
import math
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from functools import lru_cache
from operator import itemgetter

from . import ops
from ._checks import check_number, describe, gradient_error
from .engine import Value, apply, topological_order

__all__ = ["compile_graph", "compile_forward", "CompiledGraph", "CompiledForward"]

#: Lines of generated code per compiled function: about a twentieth of the graph, within
#: these bounds. Compiling a function takes about 2.3 KB per line while it runs, so a
#: twentieth keeps that near 250 bytes per node, and the cost per line stays flat up to some
#: 20,000 lines; every extra function costs a call and the hand-over of the numbers it shares
#: (leaves and their gradients are handed over by every piece that uses them), which slows a
#: replay down where the pieces are small (scripts/bench_replay.py measures both).
PIECE_LINES = (1000, 20000)
PIECES = 20
#: At most this many local variables per piece, so its frame fits in the room
#: :func:`_run_pieces` makes.
PIECE_LOCALS = 3000


def _piece_lines(estimate: int) -> int:
    low, high = PIECE_LINES
    return max(low, min(high, estimate // PIECES))


# Each op record carries its own inline source (``Op.code``); an op without it (a user's own,
# or one whose rule branches in ways not worth inlining) is run by calling its fn and rule.
_MATH = {name: getattr(math, name)
         for name in ("exp", "log", "sqrt", "tanh", "sin", "cos", "tan", "atan", "erf")}


def _make_runner(room: int) -> Callable:
    """``run(pieces, S)``: call each piece on ``S`` and add up what they return.

    CPython (3.11 and later) takes each call's frame from a stack of memory chunks of 16 KB or
    more; a frame that does not fit in what is left of the current chunk gets a new chunk,
    allocated and freed on every call: about 9 us, as much as a thousand lines of replay. So
    whether a piece of some 1,500 variables paid it depended on how deep the caller's stack
    was (a 10k-node replay took 0.59 or 0.86 ms). The runner's frame holds ``room`` unused
    variables, which gives it a chunk of its own of 64 KB per replay, with room left for any
    piece of up to :data:`PIECE_LOCALS` variables (scripts/bench_replay.py)."""
    source = ("def run(pieces, S):\n    total = 0.0\n    for piece in pieces:\n"
              "        total += piece(S)\n    return total\n    "
              + " = ".join(f"room{i}" for i in range(room)) + " = None\n")
    env: dict = {}
    exec(compile(source, "<microgradnet.replay runner>", "exec"), env)
    return env["run"]


_run_pieces = _make_runner(4200)


def _run_piece(pieces, S) -> float:
    """The same for a replay in one piece (or none), which needs no room made."""
    return pieces[0](S) if pieces else 0.0


def _guarded(op: ops.Op) -> bool:
    """The eager engine skips a node whose gradient is 0, so a rule that can raise there
    (sqrt'(0), 0 ** negative, any rule the replay calls) is guarded by the same test."""
    return op.guarded or op.code is None or op.code[1] is None


def _lit(x: float) -> str:
    return f"({x!r})"


@lru_cache(maxsize=None)
def _carries(template: str, name: str) -> bool:
    """Whether the replay source ``template`` is infinite or NaN whenever its placeholder
    ``name`` is (the other operands finite): true where ``name`` reaches the top of the
    expression through ``+ - *``, unary minus and the numerator of ``/`` only (IEEE 754 keeps
    a non-finite operand non-finite there, and Python raises on a division by zero). A
    comparison, a call, a divisor or a conditional may turn it into a finite number."""
    def carries(e: ast.expr) -> bool:
        if isinstance(e, ast.Name):
            return e.id == name
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
            return carries(e.operand)
        if isinstance(e, ast.BinOp) and isinstance(e.op, (ast.Add, ast.Sub, ast.Mult)):
            return carries(e.left) or carries(e.right)
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Div):
            return carries(e.left)
        return False
    expr = template.format(a="a", b="b", g="g", out="out")
    return carries(ast.parse(expr, mode="eval").body)


def _uses(template: str) -> tuple:
    """Which of ``a``, ``b``, ``out`` the replay source reads."""
    return ("{a}" in template, "{b}" in template, "{out}" in template)


class _Writer:
    """Turns a recorded graph into straight-line Python statements.

    Variables are numbered: the value of the node at position ``j`` of the topological order
    is variable ``j`` (named ``v{j}``), its gradient variable ``n + j`` (``d{j}``). A constant
    leaf has no variable: its compile-time value is written as a literal.

    Args:
        outputs: the nodes whose values are wanted (the root of a backward pass).
        leaves: the leaves whose values are given each call, in order.
        grad_of: the leaves whose gradients are wanted; ``None`` for a forward-only replay.
        constants: the compile-time values of constant leaves, if already recorded (to write
            the same source again).
    """

    def __init__(self, outputs: Sequence[Value], leaves: Sequence[Value], grad_of: set | None,
                 constants: dict | None = None) -> None:
        self.order = order = topological_order(*outputs)
        self.n = n = len(order)
        index = {node: j for j, node in enumerate(order)}
        self.outputs = [index[o] for o in outputs]
        self.leaf_of = [index.get(leaf) for leaf in leaves]     # None: not in the graph
        self.slot = {j: i for i, j in enumerate(self.leaf_of) if j is not None}
        self.constants = {} if constants is None else constants
        self.n_ops = sum(1 for node in order if not node.is_leaf)
        self.parents: list = []
        self.names: list = []
        self.is_var = bytearray(n)
        for j, node in enumerate(order):
            self.parents.append(tuple(index[p] for p in node.parents))
            if not node.is_leaf or j in self.slot:
                self.names.append(f"v{j}")
                self.is_var[j] = 1
            else:  # a constant, fixed at compile time
                self.names.append(_lit(self.constants.setdefault(node, node.data)))
        self.env: dict = dict(_MATH)
        self.fn_names: dict = {}
        self.forward_checks = self._forward_checks()
        if grad_of is not None:
            self._plan_backward(grad_of)

    def fn_name(self, obj, prefix: str) -> str:
        key = (prefix, id(obj))
        if key not in self.fn_names:
            name = f"{prefix}{len(self.fn_names)}"
            self.fn_names[key] = name
            self.env[name] = obj
        return self.fn_names[key]

    # ---- where the finiteness checks go ------------------------------------------------------
    def _forward_checks(self) -> bytearray:
        """The op nodes whose value must be added to the check sum: those from which no path
        to an output carries a non-finite value along (see :func:`_carries`). Consumers come
        after a node in the order, so walking backwards each node is settled before its
        parents are looked at."""
        reaches = bytearray(self.n)
        for j in self.outputs:
            reaches[j] = 1
        checks = bytearray(self.n)
        for j in range(self.n - 1, -1, -1):
            node = self.order[j]
            if node.is_leaf:
                continue       # leaves are checked as they come in
            if not reaches[j]:
                checks[j] = reaches[j] = 1
            code = node.primitive.code
            forward = code[0] if code is not None else None
            for pos, p in enumerate(self.parents[j]):
                if forward is not None and _carries(forward, "ab"[pos]):
                    reaches[p] = 1
        return checks

    def _plan_backward(self, grad_of: set) -> None:
        """Which gradients are computed (``started``), and which of them must be added to the
        check sum (``backward_checks``; ``final_checks`` for leaves, read at the end).

        A gradient is computed where it leads to a wanted leaf or to a constant (the engine
        computes and checks the constants' gradients too). A non-finite gradient is seen if it
        is returned, checked, or flows along an edge whose rule carries it (see
        :func:`_carries`) into a gradient that is seen; parents come first in the order."""
        n, order, parents = self.n, self.order, self.parents
        needs = bytearray(n)
        for j, node in enumerate(order):
            if node.is_leaf:
                needs[j] = (order[j] in grad_of) if j in self.slot else 1
            else:
                needs[j] = any(needs[p] for p in parents[j])
        started = bytearray(n)
        root = self.outputs[0]
        started[root] = needs[root]
        for j in range(n - 1, -1, -1):
            if started[j] and not order[j].is_leaf:
                for p in parents[j]:
                    if needs[p]:
                        started[p] = 1
        seen = bytearray(n)
        checks = bytearray(n)
        self.final_checks: list = []
        for j, node in enumerate(order):
            if not started[j] or j == root:     # the root's gradient is the seed, 1.0
                continue
            if node.is_leaf:
                if j not in self.slot:
                    self.final_checks.append(n + j)     # a constant's gradient
                seen[j] = 1
                continue
            code = node.primitive.code
            rule = code[1] if code is not None else None
            seen[j] = rule is not None and any(
                needs[p] and seen[p] and _carries(rule[pos], "g")
                for pos, p in enumerate(parents[j]))
            if not seen[j]:
                checks[j] = seen[j] = 1
        self.needs, self.started, self.backward_checks = needs, started, checks

    # ---- the statements ------------------------------------------------------------------------
    def forward(self) -> Iterator[tuple]:
        """``(text, uses, defs, check)`` per op node: the source line, the variables it reads
        and writes, and the variable to add to the check sum (-1 for none)."""
        names, checks = self.names, self.forward_checks
        for j, node in enumerate(self.order):
            if node.is_leaf:
                continue
            op, ps = node.primitive, self.parents[j]
            args = [names[p] for p in ps]
            if op.code is not None and op.code[0] is not None:
                text = f"v{j} = " + op.code[0].format(a=args[0], b=args[-1])
            else:
                text = f"v{j} = {self.fn_name(op.fn, 'F')}({', '.join(args)})"
            uses = tuple(p for p in ps if self.is_var[p])
            yield text, uses, (j,), (j if checks[j] else -1)

    def backward(self) -> Iterator[tuple]:
        """The backward pass as :meth:`forward`'s statements, one per op node (its gradient
        sent to each parent that needs one), in the order of :meth:`Value.backward`."""
        n, order, names, needs = self.n, self.order, self.names, self.needs
        root = self.outputs[0]
        if self.started[root]:
            yield f"d{root} = 1.0", (), (n + root,), -1
        begun = bytearray(n)       # the gradient variable has been assigned
        for j in range(n - 1, -1, -1):
            node = order[j]
            if node.is_leaf or not self.started[j]:
                continue
            op, ps = node.primitive, self.parents[j]
            g = f"d{j}"
            args = [names[p] for p in ps]
            uses = [n + j]
            head: list = []
            body: list = []
            if op.code is not None and op.code[1] is not None:
                templates = op.code[1]
                exprs = [t.format(g=g, a=args[0], b=args[-1], out=f"v{j}") for t in templates]
            else:
                # Any other op: call its own rule, exactly as the engine does.
                templates = None
                body.append(f"r = {self.fn_name(op.rule, 'R')}({g}, v{j}, {', '.join(args)})")
                exprs = [f"r[{i}]" for i in range(len(ps))]
                uses += [j] + [p for p in ps if self.is_var[p]]
            guarded = _guarded(op)
            defs = []
            mine = set()           # gradients this statement assigns first (not read from S)
            for pos, (p, e) in enumerate(zip(ps, exprs)):
                if not needs[p]:
                    continue
                if templates is not None:
                    reads_a, reads_b, reads_out = _uses(templates[pos])
                    uses += [q for q, r in ((ps[0], reads_a), (ps[-1], reads_b), (j, reads_out))
                             if r and self.is_var[q]]
                target = f"d{p}"
                if begun[p]:
                    body.append(f"{target} += {e}")
                    if p not in mine:
                        uses.append(n + p)
                elif guarded:
                    head.append(f"{target} = 0.0")
                    body.append(f"{target} += {e}")
                    mine.add(p)
                else:
                    # A leaf's gradient starts from 0.0 as in the engine (after zero_grad), so
                    # a zero gradient is +0.0 there too.
                    body.append(f"{target} = 0.0 + {e}" if order[p].is_leaf else
                                f"{target} = {e}")
                    mine.add(p)
                begun[p] = 1
                defs.append(n + p)
            if guarded:
                body = [f"if {g} != 0.0:"] + ["    " + s for s in body]
            text = "\n    ".join(head + body)
            yield text, tuple(uses), tuple(defs), (n + j if self.backward_checks[j] else -1)

    def var_name(self, u: int) -> str:
        return f"v{u}" if u < self.n else f"d{u - self.n}"


def _assemble(w: _Writer, statements: Callable[[], Iterable[tuple]], finals: Sequence,
              piece_lines: int, emit: Callable[[int, str, Callable | None], None]) -> tuple:
    """Cut ``statements`` into functions ``piece(S)`` of about ``piece_lines`` lines each.

    ``S`` is one list per call: the leaf values first (slot ``i`` is leaf ``i``), then the
    numbers that pass from one piece to a later one. A piece reads what it needs from earlier
    pieces in one ``itemgetter`` call at its top, writes what later pieces (or the caller)
    read in one slice assignment at its end, and returns the sum of its checked numbers.
    ``finals`` are the variables the caller reads after the last piece (a number stands for
    itself: a constant output, or the 0.0 of a gradient that is never computed).

    Two passes over ``statements()``: the first cuts the pieces and finds, for each variable
    a piece reads, the piece that last wrote it (which must then hand it over); the second
    numbers the slots and hands each piece, head and tail added, to ``emit(p, source,
    getter)``, which compiles it. The statements are written twice rather than kept, so the
    source of only one piece exists at a time.

    Returns:
        ``(final_slots, presets)``: the slot of each final, and the values of the slots after
        the leaves (the finals that are numbers, then room for the hand-overs).
    """
    n_vars = 2 * w.n
    unset = -2
    wrote = array("i", [unset]) * n_vars     # the piece that last wrote each variable
    for j in w.slot:
        wrote[j] = -1                        # the leaves: written by the caller
    handed = array("i", [unset]) * n_vars    # the last piece known to hand the variable over
    fetched = array("i", [unset]) * n_vars   # the last piece that reads it from S
    # sizes: statements per piece; reads, checks, hands: per piece, the variables it fetches,
    # the values it adds to the finiteness check, those it hands over
    sizes: list[int] = []
    reads: list[list] = []
    checks: list[list] = []
    hands: list[list] = []
    p = -1

    def hand_over(u: int) -> None:
        q = wrote[u]
        if q == unset:
            raise AssertionError(f"replay: {w.var_name(u)} is read before it is written")
        if q >= 0 and handed[u] != q:
            handed[u] = q
            hands[q].append(u)

    count = n_locals = piece_lines
    for text, uses, defs, check in statements():
        if count >= piece_lines or n_locals >= PIECE_LOCALS:
            p += 1
            count = n_locals = 0
            sizes.append(0)
            reads.append([])
            checks.append([])
            hands.append([])
        for u in uses:
            if wrote[u] != p and fetched[u] != p:
                fetched[u] = p
                reads[p].append(u)
                hand_over(u)
                n_locals += 1
        for u in defs:
            if wrote[u] != p and fetched[u] != p:
                n_locals += 1
            wrote[u] = p
        sizes[p] += 1
        count += text.count("\n") + 1
        if check >= 0:
            checks[p].append(check)
    for u in finals:
        if isinstance(u, int):
            hand_over(u)

    n_leaves = len(w.leaf_of)
    presets = [u for u in finals if not isinstance(u, int)]
    slot_of = array("i", [unset]) * n_vars
    for j, i in w.slot.items():
        slot_of[j] = i
    free = n_leaves + len(presets)
    name = w.var_name
    texts = (s[0] for s in statements())
    for p, size in enumerate(sizes):
        body = "\n    ".join(next(texts) for _ in range(size))
        head = ""
        getter = None
        if len(reads[p]) == 1:
            head = f"{name(reads[p][0])} = S[{slot_of[reads[p][0]]}]\n    "
        elif reads[p]:
            getter = itemgetter(*[slot_of[u] for u in reads[p]])
            head = f"{', '.join(name(u) for u in reads[p])} = _get{p}(S)\n    "
        tail = ""
        if hands[p]:
            for k, u in enumerate(hands[p]):
                slot_of[u] = free + k
            outs = ", ".join(name(u) for u in hands[p])
            tail = f"\n    S[{free}:{free + len(hands[p])}] = {outs},"
            free += len(hands[p])
        # The checked numbers added up as a chain of float additions (half the cost of
        # sum() over a tuple), 50 to a line so the expression stays shallow.
        checked = [name(u) for u in checks[p]]
        total = "".join(f"\n    total {'+' if k else ''}= {' + '.join(checked[k:k + 50])}"
                        for k in range(0, len(checked), 50))
        ret = "total" if checked else "0.0"
        emit(p, f"def _piece{p}(S):\n    {head}{body}{tail}{total}\n    return {ret}\n",
             getter)
    k = n_leaves
    final_slots = []
    for u in finals:
        if isinstance(u, int):
            final_slots.append(slot_of[u])
        else:
            final_slots.append(k)
            k += 1
    return final_slots, presets + [0.0] * (free - n_leaves - len(presets))


class _Pieces(list):
    """The compiled pieces: ``emit`` for :func:`_assemble` compiles each as it comes."""

    def __init__(self, env: dict) -> None:
        super().__init__()
        self.env = env

    def emit(self, p: int, source: str, getter) -> None:
        if getter is not None:
            self.env[f"_get{p}"] = getter
        exec(compile(source, f"<microgradnet.replay piece {p}>", "exec"), self.env)
        self.append(self.env.pop(f"_piece{p}"))


class _Sources(list):
    """The pieces' sources, for reading: ``emit`` for :func:`_assemble` keeps each."""

    def emit(self, p: int, source: str, getter) -> None:
        self.append(source)


def _reader(slots: Sequence[int]) -> Callable:
    """``S -> [S[i] for i in slots]``, in one C call where there are several."""
    if not slots:
        return lambda S: []
    if len(slots) == 1:
        i = slots[0]
        return lambda S: [S[i]]
    get = itemgetter(*slots)
    return lambda S: list(get(S))


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


def _leaf_values(values, leaves: Sequence[Value], what: str) -> list:
    """``values`` as a new list of finite floats, one per leaf, converted and checked exactly
    as ``Value(x)`` converts and checks (same accepted types, same messages)."""
    if isinstance(values, (Mapping, Set, str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{what}: values must be a sequence of numbers, one per leaf in order "
                        f"(a list, a tuple or an array), got {type(values).__name__}")
    values = list(values)
    if len(values) != len(leaves):
        raise ValueError(f"{what}: expected {len(leaves)} values (one per leaf), "
                         f"got {len(values)}")
    # The common case, floats that add up to a finite number, costs two C loops; the sum
    # of finite floats can overflow, and then the slow path finds nothing to refuse.
    if set(map(type, values)) <= {float}:
        total = sum(values)
        if total - total == 0.0:
            return values
    return [x if x.__class__ is float and x - x == 0.0 else
            check_number(x, f"{what}: values[{i}] (leaf {describe(leaf)})")
            for i, (x, leaf) in enumerate(zip(values, leaves))]


def _rebuild(order: Sequence[Value], clones: dict, constants: dict) -> dict:
    """The recorded graph built again with the eager engine on fresh nodes (``clones`` maps
    each given leaf to its new node), so an op out of its domain or a result that is not
    finite raises the engine's own error, naming the nodes as the user labelled them."""
    for node in order:
        if node in clones:
            continue
        if node.is_leaf:
            clones[node] = Value(constants[node], node.label)
        else:
            op = node.primitive
            assert op is not None  # not a leaf
            clone = apply(op, *[clones[p] for p in node.parents])
            if node.label:
                clone.label = node.label
            clones[node] = clone
    return clones


class CompiledGraph:
    """A recorded graph that re-runs forward and backward on new leaf values.

    Made by :func:`compile_graph`. ``fn(values)`` returns ``(root_value, grads)`` with ``grads[i]``
    = d root / d ``leaves[i]``, as floats. The graph's ``Value`` nodes are not touched, except
    by :meth:`load` and :meth:`backward`, which work on the leaves for use with an optimiser.

    Attributes:
        root: the recorded root node.
        leaves: the leaves whose values change, in the order of ``values``.
        n_nodes: the number of nodes of the recorded graph.
        source: the generated Python source (written again when asked for).
    """

    def __init__(self, root: Value, leaves: Sequence[Value], grad_leaves: Sequence[Value]):
        self.root = root
        self.leaves = tuple(leaves)
        self._grad_of = set(grad_leaves)
        w = _Writer([root], self.leaves, self._grad_of)
        self._order, self._constants = w.order, w.constants
        self.n_nodes = w.n
        pieces = _Pieces(w.env)
        slots, self._pad = self._program(w, pieces.emit)
        self._pieces = tuple(pieces)
        self._run = _run_pieces if len(pieces) > 1 else _run_piece
        self._out = slots[0]
        n = len(self.leaves)
        self._grads = _reader(slots[1:1 + n])
        self._checked = _reader(slots[1 + n:])

    def _program(self, w: _Writer, emit: Callable) -> tuple:
        root = w.outputs[0]
        finals: list = [root if w.is_var[root] else w.constants[w.order[root]]]
        for j in w.leaf_of:
            finals.append(w.n + j if j is not None and w.started[j] else 0.0)
        finals += w.final_checks
        def statements():
            yield from w.forward()
            yield from w.backward()
        return _assemble(w, statements, finals, _piece_lines(2 * w.n_ops), emit)

    @property
    def source(self) -> str:
        sources = _Sources()
        self._program(_Writer([self.root], self.leaves, self._grad_of, self._constants),
                      sources.emit)
        return "\n".join(sources)

    def __call__(self, values: Sequence[float]) -> tuple:
        """Forward and backward on ``values`` (one number per leaf, in order).

        Returns:
            ``(out, grads)``: the root's value and the list of d out / d leaf.

        Raises:
            TypeError, ValueError: ``values`` is not one real, finite number per leaf (the
                checks and messages of ``Value``).
            DomainError: an op leaves its domain or a result or a gradient is not finite,
                exactly where the eager engine would raise (found by re-running the graph
                node by node), except in the gradients of leaves outside ``grad_leaves``.
        """
        values = _leaf_values(values, self.leaves, "compiled graph")
        S = values + self._pad
        try:
            total = self._run(self._pieces, S)
            out, grads = S[self._out], self._grads(S)
            total += out + sum(grads) + sum(self._checked(S))
        except (ArithmeticError, ValueError, TypeError):
            total = math.nan
        if total - total != 0.0:
            return self._eager(values)
        return out, grads

    def _eager(self, values: list) -> tuple:
        """The eager engine on ``values``: raises its error, or returns what it computes (if
        the check sum only overflowed, the replay's numbers were right, and these are the
        same)."""
        clones = {leaf: Value(x, leaf.label) for leaf, x in zip(self.leaves, values)}
        _rebuild(self._order, clones, self._constants)
        clones[self.root].backward()
        return (clones[self.root].data,
                [clones[leaf].grad if leaf in self._grad_of else 0.0 for leaf in self.leaves])

    def values(self) -> list:
        """The leaves' current ``.data``, in order (a starting point for ``fn(values)``)."""
        return [leaf.data for leaf in self.leaves]

    def load(self, values: Sequence[float]) -> None:
        """Write ``values`` into the leaves' ``.data`` (e.g. new inputs for :meth:`backward`);
        all of them or, if one is refused, none."""
        for leaf, x in zip(self.leaves, _leaf_values(values, self.leaves,
                                                      "compiled graph load")):
            leaf.data = x

    def backward(self, accumulate: bool = True) -> float:
        """Run on the leaves' current ``.data`` and add the gradients to their ``.grad``, as
        ``root.backward()`` would (set them instead with ``accumulate=False``), so an optimiser
        from :mod:`microgradnet.optim` can step as usual. The recorded graph's own nodes
        keep the values of the forward pass that made them (so ``root.backward()`` on it
        raises :class:`~microgradnet.StaleGraphError` once a leaf has been loaded).

        Returns:
            The root's value.
        """
        out, grads = self(self.values())
        # Every sum first, then the assignments: as with backward(), a pass that fails
        # changes no .grad.
        sums = [leaf.grad + g if accumulate else g for leaf, g in zip(self.leaves, grads)]
        for leaf, total in zip(self.leaves, sums):
            if total - total != 0.0:
                raise gradient_error(leaf, total)
        for leaf, total in zip(self.leaves, sums):
            leaf.grad = total
        return out

    def __repr__(self) -> str:
        return f"CompiledGraph(nodes={self.n_nodes}, leaves={len(self.leaves)})"


class CompiledForward:
    """Forward-only replay of several outputs (e.g. a model's logits for prediction).

    ``fn(values)`` returns the outputs' values as a list of floats; it raises where building
    the graph eagerly on ``values`` would.
    """

    def __init__(self, outputs: Sequence[Value], leaves: Sequence[Value]) -> None:
        self.outputs = tuple(outputs)
        self.leaves = tuple(leaves)
        w = _Writer(self.outputs, self.leaves, None)
        self._order, self._constants = w.order, w.constants
        self.n_nodes = w.n
        pieces = _Pieces(w.env)
        slots, self._pad = self._program(w, pieces.emit)
        self._pieces = tuple(pieces)
        self._run = _run_pieces if len(pieces) > 1 else _run_piece
        self._outs = _reader(slots)

    def _program(self, w: _Writer, emit: Callable) -> tuple:
        finals = [j if w.is_var[j] else w.constants[w.order[j]] for j in w.outputs]
        return _assemble(w, w.forward, finals, _piece_lines(w.n_ops), emit)

    @property
    def source(self) -> str:
        sources = _Sources()
        self._program(_Writer(self.outputs, self.leaves, None, self._constants), sources.emit)
        return "\n".join(sources)

    def __call__(self, values: Sequence[float]) -> list:
        values = _leaf_values(values, self.leaves, "compiled forward")
        S = values + self._pad
        try:
            total = self._run(self._pieces, S)
            out = self._outs(S)
            total += sum(out)
        except (ArithmeticError, ValueError, TypeError):
            total = math.nan
        if total - total != 0.0:
            clones = {leaf: Value(x, leaf.label) for leaf, x in zip(self.leaves, values)}
            _rebuild(self._order, clones, self._constants)
            return [clones[o].data for o in self.outputs]
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
            others get 0.0 and their part of the backward pass is skipped (so it cannot
            raise, where ``backward`` would check every gradient).

    Returns:
        A :class:`CompiledGraph` ``fn``: ``out, grads = fn(values)``, bit-for-bit what
        ``root.data`` and the leaves' ``.grad`` would be after rebuilding the graph on
        ``values`` and calling ``backward()`` (with zeroed gradients), and the same error
        where that would raise one.

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
