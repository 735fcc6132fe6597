"""Pictures of computation graphs: every node's value and gradient, the ops, the paths that
carry a parameter's gradient, and the backward pass as frames of an HTML page.

``to_dot`` gives DOT text, ``draw`` a picture that shows inline in Jupyter, ``render`` a file
(svg anywhere; png and pdf with the Graphviz ``dot`` program), ``frames`` and ``frames_html``
the backward pass step by step.
"""
from .backends import BACKEND_ENV, GraphvizNotFoundError, render_source, resolve_backend
from .dot import STAGES, fmt_number, to_dot
from .frames import Frame, frames, frames_html
from .picture import Picture, draw, render

__all__ = ["to_dot", "draw", "render", "frames", "frames_html", "Frame", "Picture",
           "render_source", "resolve_backend", "GraphvizNotFoundError", "BACKEND_ENV",
           "STAGES", "fmt_number"]
