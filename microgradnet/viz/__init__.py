"""Pictures of computation graphs: every node's value and gradient, the ops, the paths that
carry a parameter's gradient, the network of layers as a textbook draws it, and the backward
pass as frames of an HTML page.

``to_dot`` gives DOT text, ``draw`` a picture that shows inline in Jupyter, ``render`` a file
(svg, png, jpg anywhere; pdf with the Graphviz ``dot`` program), ``frames``, ``frames_html``
and ``frames_page`` the backward pass step by step. ``view="network"`` draws neurons in layer
columns with the weights on the edges; ``view="graph"`` (the default) the op graph.

Example:
    >>> from microgradnet import Value
    >>> from microgradnet.viz import to_dot
    >>> a = Value(2.0, label="a"); b = a + a; b.label = "b"; b.backward()
    >>> print(to_dot(b, clusters=False).count("n0 -> n1"))
    2
"""
from .backends import BACKEND_ENV, GraphvizNotFoundError, render_source, resolve_backend
from .dot import STAGES, VIEWS, to_dot
from .frames import Frame, FramesPage, frames, frames_html, frames_page
from .jupyter import enable_notebook_display, explanation_mimebundle, summary_html, \
    value_mimebundle
from .picture import Picture, draw, render
from .style import fmt_number

__all__ = ["to_dot", "draw", "render", "frames", "frames_html", "frames_page", "Frame",
           "FramesPage", "Picture", "render_source", "resolve_backend",
           "GraphvizNotFoundError", "BACKEND_ENV", "STAGES", "VIEWS", "fmt_number",
           "value_mimebundle", "explanation_mimebundle", "summary_html",
           "enable_notebook_display"]
