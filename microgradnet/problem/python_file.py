"""A problem written as a Python file: it builds the graph with the public API and leaves
``root`` (or defines ``build()``), and optionally ``params``, ``lr``, ``optimiser``, ``wrt``.

:func:`run_user_file` runs such a file for every command that reads one (``solve``, ``check``,
``render --file``), so each turns whatever the file does into the same one-line error."""
from __future__ import annotations

import os
import runpy
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NoReturn

from ..engine import Value, topological_order
from ..graph import PARAM_LABEL
from .records import Problem, ProblemError, check_decimals, labelled
from .toml_file import optimiser_from

__all__ = ["load_python", "run_user_file", "file_error"]


class _ProcessEnded(Exception):
    """The file called ``os._exit``, which would end the command without a word."""


@contextmanager
def _no_hard_exit() -> Iterator[None]:
    """``os._exit`` raises instead of ending the process while the user's code runs, so that
    a file calling it is reported, not mistaken for a command that succeeded silently. (A file
    reaching ``posix._exit`` directly still ends the process.)"""
    real, pid = os._exit, os.getpid()

    def refuse(status: int = 0) -> NoReturn:
        if os.getpid() != pid:       # a process the file forked ends as it asks
            real(status)
        raise _ProcessEnded(f"os._exit({status!r})")
    os._exit = refuse
    try:
        yield
    finally:
        os._exit = real


def run_user_file(path: Path, run_name: str, name: str | None = None) -> tuple:
    """Run a user's Python file and read its graph: ``(namespace, root)``, root from the
    variable ``root`` or from calling ``build()`` (``None`` if it has neither).

    Anything the file raises becomes one :class:`ProblemError` naming the exception and the
    file's line (``name``, by default its file name): any exception, ``BaseException``
    subclasses and ``GeneratorExit`` included; ``sys.exit`` and ``os._exit`` are named as
    such. Only ``KeyboardInterrupt`` passes through (Ctrl-C stops the command as it stops any
    other).
    """
    name = name or path.name
    try:
        with _no_hard_exit():
            ns = runpy.run_path(str(path), run_name=run_name)
            root = ns.get("root")
            if root is None and callable(ns.get("build")):
                root = ns["build"]()
    except KeyboardInterrupt:
        raise
    except SystemExit as e:
        raise ProblemError(f"{name} called sys.exit({e.code!r}) instead of leaving `root`") \
            from None
    except _ProcessEnded as e:
        raise ProblemError(f"{name} called {e} instead of leaving `root`") from None
    except BaseException as e:   # the user's code: any error becomes one line naming its place
        raise file_error(path, e, name) from None
    return ns, root


def load_python(path: Path) -> Problem:
    ns, root = run_user_file(path, "__microgradnet_problem__")
    try:
        return _problem(path, ns, root)
    except (ProblemError, KeyboardInterrupt):
        raise
    except BaseException as e:  # reading what the file left can run its code (a property...)
        raise file_error(path, e) from None


def _problem(path: Path, ns: dict, root) -> Problem:
    if isinstance(root, tuple) and root and isinstance(root[0], Value):
        root = root[0]
    if root is None:
        raise ProblemError(f"{path.name} must set a variable `root` (a Value) or define a "
                           "function `build()` that returns one")
    if not isinstance(root, Value):
        raise ProblemError(f"{path.name}: `root` must be a Value, got {type(root).__name__}")
    nodes = labelled(root)
    params = ns.get("params")
    if params is None:
        params = [n for n in topological_order(root) if n.is_leaf and PARAM_LABEL.match(n.label)]
    elif isinstance(params, dict):
        params = list(params.values())
    elif hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if not isinstance(params, (list, tuple)) or not all(isinstance(p, Value) for p in params):
        raise ProblemError(f"{path.name}: `params` must be a list (or dict) of Values")
    lr = ns.get("lr")
    table = ns.get("optimiser", ns.get("optimizer"))
    if table is None and lr is not None:
        table = {"kind": "sgd", "lr": lr}
    elif isinstance(table, str):
        table = {"kind": table, "lr": lr}
    opt = optimiser_from(table, "optimiser",
                         lambda key, msg: ProblemError(f"{path.name}: {key}: {msg}"))
    wrt = ns.get("wrt", [])
    if isinstance(wrt, str):
        wrt = [wrt]
    wrt = [w.label if isinstance(w, Value) else w for w in wrt]
    for w in wrt:
        if w not in nodes:
            raise ProblemError(f"{path.name}: wrt: no node labelled {w!r}")
    decimals = ns.get("decimals")
    wrong = check_decimals(decimals)
    if wrong:
        raise ProblemError(f"{path.name}: decimals: {wrong}")
    title = ns.get("title", "") or " ".join((ns.get("__doc__") or "").split("\n\n")[0].split())
    is_loss = ns.get("is_loss")
    return Problem(path, root, list(params), opt.lr if opt else None, opt, nodes, list(wrt),
                   decimals, str(title),
                   bool(is_loss) if is_loss is not None else None)


def file_error(path: Path, e: BaseException, name: str | None = None) -> ProblemError:
    """An error raised by a user's Python file, as one line: which exception, at which line
    of the file (named ``name``, by default its file name)."""
    if isinstance(e, SyntaxError):
        line, text = e.lineno, e.msg
    else:
        line = next((f.lineno for f in reversed(traceback.extract_tb(e.__traceback__))
                     if f.filename == str(path)), None)
        try:
            text = str(e)
        except KeyboardInterrupt:
            raise
        except BaseException:  # an exception of the file's own whose __str__ fails
            text = "(its message cannot be shown)"
    where = f", line {line}" if line else ""
    said = f": {text}" if text else ""
    return ProblemError(f"{name or path.name}{where}: {type(e).__name__}{said}")

