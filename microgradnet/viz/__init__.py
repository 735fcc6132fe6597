"""Pictures of computation graphs: every node's value and gradient, the ops, the paths that
carry a parameter's gradient, and the backward pass as frames of an HTML page.

``to_dot`` gives DOT text, ``draw`` a picture that shows inline in Jupyter, ``render`` a file
(svg anywhere; png and pdf with the Graphviz ``dot`` program), ``frames`` and ``frames_html``
the backward pass step by step.

Example:
    >>> from microgradnet import Value
    >>> from microgradnet.viz import to_dot
    >>> a = Value(2.0, label="a"); b = a + a; b.label = "b"; b.backward()
    >>> print(to_dot(b, clusters=False).count("n0 -> n1op"))
    2
"""
from typing import Any

from .backends import BACKEND_ENV, GraphvizNotFoundError, render_source, resolve_backend
from .dot import STAGES, fmt_number, to_dot
from .frames import Frame, frames, frames_html

__all__ = ["to_dot", "draw", "render", "frames", "frames_html", "Frame", "Picture",
           "render_source", "resolve_backend", "GraphvizNotFoundError", "BACKEND_ENV",
           "STAGES", "fmt_number"]


def __getattr__(name: str) -> Any:
    # draw/render/Picture need the graphviz package; importing it lazily keeps the command
    # line quick to start.
    if name in ("draw", "render", "Picture"):
        from . import picture
        return getattr(picture, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
