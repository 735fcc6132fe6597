"""``draw`` (a picture object that shows inline in Jupyter) and ``render`` (a picture file)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..engine import Value
from .backends import FORMATS, render_source
from .dot import to_dot
from .style import FONT

__all__ = ["Picture", "draw", "render"]

# Graphviz writes the font as "Helvetica,sans-Serif"; a browser without Helvetica would take
# its own sans-serif, often wider than the font the layout measured. The list names the fonts
# with Helvetica's widths first (graphviz-pure measures with Arimo, one of them).
_SVG_FONT = f'font-family="{FONT},sans-Serif"'
_SVG_FONTS = f'font-family="{FONT},Arial,Liberation Sans,Arimo,sans-serif"'


class Picture:
    """A picture of a graph: its DOT text, drawn on demand (and once) as SVG.

    Jupyter shows it inline as SVG (``_repr_svg_``, ``_repr_mimebundle_``); ``.source`` is the
    DOT text, ``.svg()`` the SVG text, ``.pipe(fmt)`` the bytes in any format of
    :data:`~microgradnet.viz.backends.FORMATS`, ``.save(path)`` a file.
    """

    def __init__(self, source: str, backend: str | None = None) -> None:
        self.source = source
        self.backend = backend
        self._svg: str | None = None

    def __repr__(self) -> str:
        return f"Picture({len(self.source.splitlines())} lines of DOT)"

    def pipe(self, format: str = "svg") -> bytes:
        """The picture in ``format`` as bytes."""
        return render_source(self.source, format, self.backend)

    def svg(self) -> str:
        """The picture as SVG text (without the XML prolog, ready to put in a page)."""
        if self._svg is None:
            text = self.pipe("svg").decode("utf-8")
            self._svg = text[text.index("<svg"):].replace(_SVG_FONT, _SVG_FONTS)
        return self._svg

    def save(self, path: str | os.PathLike) -> Path:
        """Write the picture; the suffix picks the format."""
        path = Path(path)
        fmt = _format_of(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.svg().encode("utf-8") if fmt == "svg" else self.pipe(fmt))
        return path

    def _repr_svg_(self) -> str:
        return self.svg()

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {"image/svg+xml": self.svg(), "text/plain": repr(self)}


def _format_of(path: Path) -> str:
    fmt = path.suffix.lower().lstrip(".")
    if not fmt:
        raise ValueError(f"{str(path)!r} has no suffix; use one of "
                         + ", ".join("." + f for f in FORMATS))
    if fmt not in FORMATS:
        raise ValueError(f"cannot write {path.suffix!r} pictures; use one of "
                         + ", ".join("." + f for f in FORMATS))
    return fmt


def draw(root: Value, backend: str | None = None, **options: Any) -> Picture:
    """The picture of the graph that ends at ``root``, as an object Jupyter shows inline.

    Args:
        root: the output Value.
        backend: ``"auto"``, ``"dot"`` or ``"pure"`` (see :mod:`microgradnet.viz.backends`).
        **options: passed to :func:`~microgradnet.viz.to_dot` (``view``, ``stage``,
            ``precision``, ``highlight``, ``clusters``, ``color_grad``, ``updates``, ...).

    Returns:
        A :class:`Picture`: ``.source`` is the DOT text.

    Example:
        >>> from microgradnet import Value
        >>> x = Value(3.0, label="x"); y = x * x; y.backward()
        >>> draw(y).source.count("n0 -> n1")
        2
    """
    return Picture(to_dot(root, **options), backend)


def render(root: Value, path: str | os.PathLike, backend: str | None = None,
           **options: Any) -> Path:
    """Write the picture of the graph that ends at ``root``; the suffix picks the format.

    ``.svg``, ``.png`` and ``.jpg`` render anywhere (with graphviz-pure when the Graphviz
    ``dot`` program is missing); ``.pdf`` needs ``dot``; ``.dot``/``.gv`` are the DOT text.

    Args:
        root: the output Value.
        path: the file to write.
        backend: ``"auto"``, ``"dot"`` or ``"pure"``.
        **options: passed to :func:`~microgradnet.viz.to_dot`.

    Returns:
        The path written.

    Raises:
        GraphvizNotFoundError: no program for the format is installed (the message says how
            to install one).
    """
    path = Path(path)
    _format_of(path)
    return Picture(to_dot(root, **options), backend).save(path)
