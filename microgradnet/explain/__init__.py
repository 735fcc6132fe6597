"""Step-through explanations of any computation graph, in the form of a hand-worked solution.

Forward: one line per named node, its formula, the numbers substituted and the result::

    h1 = i1*w11 + i2*w21 + b1 = 2.0*1.0 + (-1.0)*0.5 + 0.5 = 2.0

A node is named by its ``label`` (or by ``names=``); an unlabelled intermediate used once is
written inside the formula of the node that uses it (so ``((i1*w11) + (i2*w21)) + b1`` is one
line), and an unlabelled intermediate used twice, or a formula grown too long, gets a name of
its own, introduced as such (``let v1 = exp(z4) = ...``). Unlabelled leaves are constants and
print as numbers. The root's line is headed "Loss" when it is one, else "Output".

Backward, node by node (``nodes=True``, :mod:`.nodes`): from the root down, each named node's
gradient as the sum over the named nodes that use it of their gradient times the local
derivative, the textbook's delta form, one line per node whatever the number of paths::

    dMSE/dh3 = dMSE/do1 * ∂o1/∂h3 + dMSE/do2 * ∂o2/∂h3 = dMSE/do1*w31 + dMSE/do2*w32
             = -1.0*0.5 + (-2.0)*(-1.0) = 1.5

Backward, path by path, for a chosen node ``x`` (:mod:`.paths`): every path from the root to
``x``, each a product of local derivatives with their numbers, then their sum (dL/dx = sum
over paths of the product of the local derivatives along the path)::

    dMSE/dw21 = (o1 - t1)*w31*1*i2 + (o2 - t2)*w32*1*i2 = 0.5 + (-2.0) = -1.5

A node reused by several paths is counted once per path; a path through a switched-off ReLU
shows its zero factor (a ReLU's slope stays a factor of its own, ``w31*1*i2``, whether or not
the ReLU has a line). No two paths read alike: when two run between the same named nodes, the
unlabelled intermediate that tells them apart gets a name of its own (``L -> v2 -> v1 -> z4``
through the denominator), and paths through the same nodes that differ only in the operand they
take say which (``y -> a, via operand 2 of a*a``). Paths are enumerated iteratively and capped
(``max_paths``, or ``list_paths`` to list none past a count): past the cap the explanation says
how many there are and gives the gradient.

Update (:mod:`.update`): ``w21 <- 0.5 - 0.1 * (-1.5) = 0.65``, and Adam's m, v, m_hat, v_hat
and step line by line.

``decimals=k`` rounds every named intermediate to k decimals and carries the rounded value
forward, as a hand-worked sheet does, printing the unrounded value beside it; each rounded
line computes its result from the numbers it prints. An :class:`Explanation` prints as text
(lines of at most 100 characters, long equations broken after ``=`` and between terms) and
exports to LaTeX (an ``align*`` block) and Markdown (:mod:`.records`). The notation is a
sheet's: ``x^2``, ``0.5 + (-2.0)``, ``(1/Z)*v1``. Labels and op names are text in every form,
whatever they hold: a character that does not print as itself (a newline, a tab, NUL, a lone
surrogate) is written as Python's ``repr`` writes it (``y\\n``), LaTeX's and Markdown's
special characters are escaped, and a formula in Markdown is a code span no backtick can close.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Union

import re

from ..engine import Value, topological_order
from ..gradients import grad as _engine_grad
from ..formula import const_text as _const, format_number, latex_name, round_half_up, visible
from ..graph import count_paths, refuse_stale
from .forward import (forward_nodes as _forward_nodes, forward_sections as _forward,
                      given_section as _given)
from .naming import INLINE_LIMIT, NamedGraph as _Graph
from .nodes import NodePass, nodes_section
from .paths import (DEFAULT_MAX_PATHS, Path, dname, find_paths, paths_section as _backward,
                    promotions as _promotions)
from .records import Explanation, Section, Step
from .update import check_lr as _check_lr, explain_update, update_step as _update_step

__all__ = [
    "explain", "explain_forward", "round_half_up", "latex_name", "explain_backward",
    "explain_update", "find_paths", "count_paths", "Explanation", "Section", "Step", "Path",
    "DEFAULT_MAX_PATHS",
    "INLINE_LIMIT", "format_number", "nodes_section", "NodePass", "LOSS_LABEL",
]

# ---- public entry points -----------------------------------------------------------------------

Wrt = Union[Value, Sequence[Value], None]


def _wrt_list(wrt: Wrt) -> list:
    if wrt is None:
        return []
    ws = [wrt] if isinstance(wrt, Value) else list(wrt)
    for w in ws:
        if not isinstance(w, Value):
            raise TypeError(f"explain: wrt must be a Value or a list of Values, got "
                            f"{type(w).__name__}")
    return ws


#: Labels read as a loss when ``explain`` is not told whether the root is one: ``L``, ``J``,
#: ``MSE``, ``loss``, ``cost``, ``ce(...)``; any other root is an output.
LOSS_LABEL = re.compile(r"^(?:L|J|E|MSE|SSE|RSS|CE|NLL|BCE|KL|[Ll]oss|[Cc]ost|[Ee]rror|[Rr]isk"
                        r"|ce|mse|nll|bce)(?![A-Za-z])")


def explain(root: Value, wrt: Wrt = None, lr: Optional[float] = None, *,
            decimals: Optional[int] = None, max_paths: int = DEFAULT_MAX_PATHS,
            names: Optional[Mapping[Value, str]] = None, given: bool = True,
            nodes: Union[bool, str] = False, list_paths: Optional[int] = None,
            params: Optional[Sequence[Value]] = None,
            loss: Optional[bool] = None) -> Explanation:
    """Step through ``root``'s graph: given values, forward pass, loss, chain rule, update.

    Forward: one line per named node (``h1 = i1*w11 + ... = 2.0*1.0 + ... = 2.0``).
    Backward, for each ``wrt``: every path from ``root`` as a product of local derivatives,
    and their sum, dL/dx = sum_paths prod_edges d(child)/d(parent).
    Update, when ``lr`` is given: x <- x - lr * dL/dx.

    Args:
        root: the output; when ``wrt`` is given, the loss (its line gets its own section).
        wrt: a node or a list of nodes to differentiate with respect to.
        lr: learning rate for one gradient-descent step on each ``wrt``.
        decimals: round named intermediates to this many decimals and carry the rounded
            values forward, as on a hand-worked sheet (unrounded values are shown beside).
        max_paths: list at most this many paths per ``wrt``.
        names: names for nodes, overriding their labels.
        given: include the section listing the named leaves and their values.
        nodes: include the backward pass node by node (section ``"nodes"``): every named
            node's gradient as the sum over the named nodes that use it of their gradient
            times the local derivative; ``"wrt"``: only the nodes on a path to a ``wrt``.
        list_paths: list the paths to a ``wrt`` only when there are at most this many
            (otherwise say how many there are and give the gradient); ``None``: up to
            ``max_paths``.
        params: the parameter leaves (for the node-by-node order); ``None``: the leaves
            labelled like parameters (``w21``, ``b1``).
        loss: whether the root is a loss (its line is headed "Loss", else "Output");
            ``None``: when its label reads like one (:data:`LOSS_LABEL`).

    Returns:
        An :class:`Explanation` (``str()`` for text, ``.latex()``, ``.markdown()``).

    Example:
        >>> x = Value(2.0, label="x"); w = Value(-3.0, label="w")
        >>> y = (x * w).relu(); y.label = "y"
        >>> print(explain(y, wrt=w).section_text(explain(y, wrt=w)["backward"]))
        Backward pass: dy/dw
          1 path from y to w
          path 1: y -> w
            dy/dw = 0*x = 0*2.0 = 0.0   [dead path: relu is off at y]
          dy/dw = 0*x = 0.0
    """
    ws = _wrt_list(wrt)
    if lr is not None:
        lr = _check_lr(lr)
        if not ws:
            raise ValueError("explain: lr needs wrt (the parameters to update)")
    if nodes not in (True, False, "wrt"):
        raise ValueError(f"explain: nodes must be True, False or 'wrt', got {nodes!r}")
    if list_paths is not None and (isinstance(list_paths, bool) or not isinstance(list_paths, int)
                                   or list_paths < 0):
        raise ValueError(f"explain: list_paths must be a non-negative int, got {list_paths!r}")
    if isinstance(root, Value):
        refuse_stale(topological_order(root))
    g = _Graph(root, names, keep=ws, decimals=decimals)
    counts = {w: count_paths(root, w) for w in ws} if list_paths is not None else {}
    listed = [w for w in ws if list_paths is None or counts[w] <= list_paths]
    found = {w: find_paths(root, w, max_paths) for w in listed if w in g.values}
    promoted = [n for w in found for n in _promotions(g, found[w][0])]
    if promoted:
        # Name the intermediates that tell alike paths apart, keeping every name already given.
        keep = list(ws) + [n for n in g.name if not n.is_leaf] + promoted
        g = _Graph(root, names, keep=keep, decimals=decimals)
    if loss is None:
        loss = bool(LOSS_LABEL.match(g.name[root]))
    fwd = _forward(g, split_root=bool(ws) or bool(nodes), loss=bool(loss))
    secs = [_given(g, _forward_nodes(g), frozenset(params) if params is not None else None)] \
        if given else []
    secs += fwd
    passed = None
    if nodes:
        passed = nodes_section(g, frozenset(params) if params is not None else None,
                               targets=[w for w in ws if w in g.values] if nodes == "wrt"
                               else ())
        secs.append(passed.section)
    for w in ws:
        if w not in g.values:   # the root does not depend on it: no path, derivative 0
            g.name[w] = visible((names or {}).get(w) or w.label or "x")
        if w in listed or w not in g.values:
            secs.append(_backward(g, w, max_paths, found.get(w)))
        else:
            secs.append(_too_many_paths(g, w, counts[w], passed))
    if lr is not None:
        upd = Section("update", f"Update (gradient descent, learning rate {_const(lr)})")
        for w, b in zip(ws, [s for s in secs if s.key == "backward"], strict=True):
            total = b.steps[-1]
            upd.steps.append(_update_step(g.name[w], w.data, total.value, total.exact, lr,
                                          decimals))
        secs.append(upd)
    return Explanation(secs, decimals, g.name, passed)


def _too_many_paths(g: _Graph, w: Value, total: int, passed: Optional[NodePass]) -> Section:
    """The backward section of a node with too many paths to list: how many, and the
    gradient (from the node-by-node pass where there is one, as shown there)."""
    L, X = g.name[g.root], g.name[w]
    dtext, dlatex = dname(L, X)
    sec = Section("backward", f"Backward pass: {dtext}")
    where = ("the node-by-node pass above gives it" if passed is not None and w in passed.grads
             else "the engine's gradient")
    many = "too many to list one by one" if total > 1 else "not listed"
    sec.notes.append(f"{total} path{'s' if total != 1 else ''} from {L} to {X}: {many}; {where}")
    if passed is not None and w in passed.grads:
        value, exact = passed.shown[w], passed.grads[w]
    else:
        found = _engine_grad(g.root, w)
        assert isinstance(found, float)   # one input, no create_graph: a float
        exact = found
        value = round_half_up(exact, g.decimals) if g.decimals is not None else exact
    sec.steps.append(Step(dtext, dlatex, [], value, exact))
    return sec


def explain_forward(root: Value, *, decimals: Optional[int] = None,
                    names: Optional[Mapping[Value, str]] = None,
                    given: bool = False) -> Explanation:
    """The forward pass only: one line per named node (see :func:`explain`)."""
    return explain(root, decimals=decimals, names=names, given=given)


def explain_backward(root: Value, wrt: Wrt, *, decimals: Optional[int] = None,
                     max_paths: int = DEFAULT_MAX_PATHS,
                     names: Optional[Mapping[Value, str]] = None) -> Explanation:
    """The chain rule only: for each ``wrt``, every path from ``root`` and their sum."""
    return explain(root, wrt, decimals=decimals, max_paths=max_paths, names=names,
                   given=False).select(("backward",))


