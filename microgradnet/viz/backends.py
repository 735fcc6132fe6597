"""Turning DOT text into a picture: with the Graphviz ``dot`` program when it is on PATH,
otherwise with ``graphviz-pure`` (a port of Graphviz 16.1 to Rust, installed from PyPI with
this package), which draws the same HTML-like labels and writes SVG, PNG and JPEG with fonts of
its own, so pictures need no system package.

The backend is chosen by the ``backend`` argument, else by the environment variable
``MICROGRADNET_GRAPHVIZ``, else automatically: ``"auto"`` (``dot`` if found, else
graphviz-pure), ``"dot"`` (system Graphviz, an error if missing) or ``"pure"`` (graphviz-pure).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

__all__ = ["render_source", "resolve_backend", "GraphvizNotFoundError", "BACKENDS",
           "BACKEND_ENV", "FORMATS", "INSTALL_HINT", "pure_executable"]

BACKEND_ENV = "MICROGRADNET_GRAPHVIZ"
BACKENDS = ("auto", "dot", "pure")
#: Output formats by file suffix. ``dot``/``gv`` are the DOT text itself; ``pdf`` needs the
#: system ``dot`` program (graphviz-pure does not write PDF); the others render anywhere.
FORMATS = ("svg", "png", "pdf", "dot", "gv", "jpg", "jpeg")
_TEXT = ("dot", "gv")
_PURE_FORMATS = ("svg", "png", "jpg", "jpeg")
_PURE = "graphviz-pure"

INSTALL_HINT = ("Install Graphviz: Debian/Ubuntu `apt-get install graphviz`, Fedora "
                "`dnf install graphviz`, macOS `brew install graphviz`, conda `conda install "
                "-c conda-forge graphviz`, Windows `winget install graphviz`; then check that "
                "`dot -V` runs.")
PURE_HINT = "`pip install graphviz-pure` (a dependency of microgradnet)"


class GraphvizNotFoundError(RuntimeError):
    """No program that can draw the picture is installed (neither Graphviz's ``dot`` nor
    graphviz-pure, or ``dot`` for a PDF). The message says how to install one."""


def pure_executable() -> str | None:
    """The path of the ``graphviz-pure`` program: first in this interpreter's own scripts
    folder (a virtual environment that is not activated has it there, off PATH), then on PATH."""
    name = _PURE + (".exe" if os.name == "nt" else "")
    here = Path(sysconfig.get_path("scripts")) / name
    if here.is_file():
        return str(here)
    return shutil.which(_PURE)


def resolve_backend(backend: str | None = None) -> str:
    """``"dot"`` or ``"pure"``: the backend that will render.

    Args:
        backend: ``"auto"``, ``"dot"`` or ``"pure"``; ``None`` reads ``MICROGRADNET_GRAPHVIZ``
            (and falls back to ``"auto"``).

    Raises:
        ValueError: an unknown backend name.
        GraphvizNotFoundError: ``"dot"`` was asked for and is not on PATH.
    """
    choice = backend if backend is not None else (os.environ.get(BACKEND_ENV) or "auto")
    if not isinstance(choice, str):
        raise TypeError(f"backend must be a str, got {type(choice).__name__}")
    choice = choice.strip().lower()
    if choice not in BACKENDS:
        source = "backend" if backend is not None else f"${BACKEND_ENV}"
        raise ValueError(f"{source} must be one of {BACKENDS}, got {choice!r}")
    if choice == "auto":
        return "dot" if shutil.which("dot") else "pure"
    if choice == "dot" and not shutil.which("dot"):
        raise GraphvizNotFoundError("the Graphviz `dot` program was asked for but is not on "
                                    "PATH. " + INSTALL_HINT)
    return choice


def render_source(source: str, fmt: str = "svg", backend: str | None = None) -> bytes:
    """Render DOT text to ``fmt`` (one of :data:`FORMATS`).

    Args:
        source: DOT text.
        fmt: output format; ``dot``/``gv`` return the text itself.
        backend: see :func:`resolve_backend`.

    Returns:
        The picture's bytes.

    Raises:
        GraphvizNotFoundError: no program for the format is installed (the message says which
            to install).
        RuntimeError: Graphviz refused the input.
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"cannot write {fmt!r} pictures; formats: {', '.join(FORMATS)}")
    if fmt in _TEXT:
        return source.encode("utf-8")
    which = resolve_backend(backend)
    if which == "pure" and fmt not in _PURE_FORMATS:
        raise GraphvizNotFoundError(f"writing {fmt} needs the Graphviz `dot` program, which is "
                                    "not on PATH (graphviz-pure writes svg, png and jpg). "
                                    + INSTALL_HINT)
    exe = shutil.which("dot") if which == "dot" else pure_executable()
    if exe is None:
        raise GraphvizNotFoundError("neither the Graphviz `dot` program nor graphviz-pure is "
                                    f"installed: {PURE_HINT}, or " + INSTALL_HINT)
    return _run(exe, source, "jpeg" if fmt == "jpg" else fmt)


#: Seconds a Graphviz program may take to lay out one picture before it is stopped.
LAYOUT_TIMEOUT_S = 60.0


def _run(exe: str, source: str, fmt: str) -> bytes:
    try:
        proc = subprocess.run([exe, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, check=False, timeout=LAYOUT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{Path(exe).name} took more than {LAYOUT_TIMEOUT_S:g} s to lay "
                           "out the picture and was stopped; draw a smaller graph") from None
    if proc.returncode != 0:
        raise RuntimeError(f"{Path(exe).name} -T{fmt} failed (exit {proc.returncode}): "
                           + proc.stderr.decode("utf-8", "replace").strip())
    return proc.stdout
