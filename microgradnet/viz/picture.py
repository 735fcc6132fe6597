"""``draw`` (a picture object that shows inline in Jupyter) and ``render`` (a picture file)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import graphviz

from ..engine import Value
from .backends import FORMATS, GraphvizNotFoundError, render_source, resolve_backend
from .dot import to_dot

__all__ = ["Picture", "draw", "render"]


class Picture(graphviz.Source):
    """A ``graphviz.Source`` that renders SVG without system Graphviz when it has to.

    Jupyter shows it inline (as SVG); ``.source`` is the DOT text; ``.svg()`` the SVG text.
    """

    backend: str | None = None

    def pipe(self, format: str | None = None, renderer: str | None = None,
             formatter: str | None = None, neato_no_op: Any = None, quiet: bool = False, *,
             engine: str | None = None, encoding: str | None = None):
        """The picture in ``format`` (the object's own by default) as bytes, or as text when
        an ``encoding`` is given; through :func:`render_source`, so SVG works without dot."""
        fmt = format or self.format or "svg"
        if renderer or formatter or neato_no_op or (engine or self.engine) != "dot" \
                or fmt not in FORMATS:
            # Options only the system program has: let graphviz run it.
            return super().pipe(format=fmt, renderer=renderer, formatter=formatter,
                                neato_no_op=neato_no_op, quiet=quiet, engine=engine,
                                encoding=encoding)
        data = render_source(self.source, fmt, self.backend)
        return data.decode(encoding) if encoding else data

    def svg(self) -> str:
        """The picture as SVG text."""
        return self.pipe(format="svg", encoding="utf-8")


def _labels_for(backend: str | None) -> str:
    """HTML-like labels for the system Graphviz; records for the WebAssembly build, which
    does not read HTML-like labels."""
    try:
        return "record" if resolve_backend(backend) == "wasm" else "html"
    except GraphvizNotFoundError:
        return "html"      # the renderer will raise with install instructions


def draw(root: Value, backend: str | None = None, **options: Any) -> Picture:
    """The picture of the graph that ends at ``root``, as an object Jupyter shows inline.

    Args:
        root: the output Value.
        backend: ``"auto"``, ``"dot"`` or ``"wasm"`` (see :mod:`microgradnet.viz.backends`).
        **options: passed to :func:`~microgradnet.viz.to_dot` (``stage``, ``precision``,
            ``highlight``, ``clusters``, ``color_grad``, ``updates``, ``params``, ...).

    Returns:
        A :class:`Picture` (a ``graphviz.Source``): ``.source`` is the DOT text.

    Example:
        >>> from microgradnet import Value
        >>> x = Value(3.0, label="x"); y = x * x; y.backward()
        >>> draw(y).source.count("n0 -> n1op")
        2
    """
    options.setdefault("labels", _labels_for(backend))
    pic = Picture(to_dot(root, **options), format="svg")
    pic.backend = backend
    return pic


def render(root: Value, path: str | os.PathLike, backend: str | None = None,
           **options: Any) -> Path:
    """Write the picture of the graph that ends at ``root``; the suffix picks the format.

    ``.svg`` renders anywhere (in-process when Graphviz is missing); ``.png``, ``.pdf``,
    ``.jpg`` need the Graphviz ``dot`` program; ``.dot``/``.gv`` are the DOT text.

    Args:
        root: the output Value.
        path: the file to write.
        backend: ``"auto"``, ``"dot"`` or ``"wasm"``.
        **options: passed to :func:`~microgradnet.viz.to_dot`.

    Returns:
        The path written.

    Raises:
        GraphvizNotFoundError: png/pdf asked for and ``dot`` is not installed (the message
            says how to install it).
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if not fmt:
        raise ValueError(f"{str(path)!r} has no suffix; use one of "
                         + ", ".join("." + f for f in FORMATS))
    if fmt not in FORMATS:
        raise ValueError(f"cannot write {path.suffix!r} pictures; use one of "
                         + ", ".join("." + f for f in FORMATS))
    if fmt not in ("dot", "gv"):
        options.setdefault("labels", _labels_for(backend))
    data = render_source(to_dot(root, **options), fmt, backend)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
