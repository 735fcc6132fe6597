"""How a notebook shows microgradnet's objects: a ``Value`` as the picture of its graph, an
explanation as Markdown tables and LaTeX, a model summary as a table.

Each function gives what a ``_repr_mimebundle_`` or ``_repr_html_`` method returns, so the
classes can call them; :func:`enable_notebook_display` registers them with the running IPython
for the classes as they are.
"""
from __future__ import annotations

from ..engine import Value, topological_order
from .backends import GraphvizNotFoundError
from .picture import draw
from .style import h

__all__ = ["value_mimebundle", "explanation_mimebundle", "summary_html",
           "enable_notebook_display", "INLINE_MAX_NODES"]

#: Larger graphs show as text only: their picture would be too large to read inline (and
#: slow to lay out); draw them with ``draw(value, ...)`` on purpose.
INLINE_MAX_NODES = 400


def value_mimebundle(value: Value, include=None, exclude=None) -> dict:
    """The picture of the graph that ends at ``value`` (SVG, with gradients once
    ``backward()`` has run) and its repr as text.

    Example:
        >>> from microgradnet import Value
        >>> x = Value(2.0, label="x"); y = x * x; y.label = "y"; y.backward()
        >>> sorted(value_mimebundle(y))
        ['image/svg+xml', 'text/plain']
    """
    bundle = {"text/plain": repr(value)}
    if len(topological_order(value)) > INLINE_MAX_NODES:
        return bundle
    stage = "forward" if value.grad == 0.0 else "backward"
    try:
        bundle["image/svg+xml"] = draw(value, stage=stage).svg()
    except (GraphvizNotFoundError, RuntimeError):
        pass                  # the text is still worth showing; draw() gives the reason
    return bundle


def explanation_mimebundle(explanation, include=None, exclude=None) -> dict:
    """An :class:`~microgradnet.explain.Explanation` as Markdown tables, a LaTeX ``align*``
    block and text; a notebook shows the richest it can."""
    return {"text/markdown": explanation.markdown(), "text/latex": explanation.latex(),
            "text/plain": explanation.text()}


def summary_html(summary) -> str:
    """An :func:`~microgradnet.nn.summary` as an HTML table: layer, output shape, parameters,
    with the input's shape first and the total last."""
    head = "Output shape" + (" (HxWxC)" if summary.channels_last else "")
    rows = [("Input", summary.format_shape(summary.input_shape), "")]
    rows += [(r.name, summary.format_shape(r.output_shape), f"{r.params:,}") for r in summary]
    body = "".join(f"<tr><td>{h(a)}</td><td>{h(b)}</td><td style=\"text-align: right\">"
                   f"{h(c)}</td></tr>" for a, b, c in rows)
    total = (f'<tr style="font-weight: bold"><td>Total</td><td></td>'
             f'<td style="text-align: right">{summary.total_params:,}</td></tr>')
    return (f"<table><thead><tr><th>Layer</th><th>{h(head)}</th><th>Parameters</th></tr>"
            f"</thead><tbody>{body}{total}</tbody></table>")


def enable_notebook_display() -> bool:
    """Register the displays above with the running IPython (a no-op outside one).

    Returns:
        Whether an IPython shell was found.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    from ..explain import Explanation
    from ..nn import Summary
    formatters = shell.display_formatter
    formatters.mimebundle_formatter.for_type(Value, value_mimebundle)
    formatters.mimebundle_formatter.for_type(Explanation, explanation_mimebundle)
    formatters.formatters["text/html"].for_type(Summary, summary_html)
    return True
