"""A problem written as a Python file: it builds the graph with the public API and leaves
``root`` (or defines ``build()``), and optionally ``params``, ``lr``, ``optimiser``, ``wrt``."""
from __future__ import annotations

import runpy
import traceback
from pathlib import Path

from ..engine import Value, topological_order
from ..graph import PARAM_LABEL
from .records import Problem, ProblemError, labelled
from .toml_file import optimiser_from

__all__ = ["load_python"]


def load_python(path: Path) -> Problem:
    try:
        ns = runpy.run_path(str(path), run_name="__microgradnet_problem__")
        root = ns.get("root")
        if root is None and callable(ns.get("build")):
            root = ns["build"]()
    except Exception as e:   # the user's code: any error becomes one line naming its place
        raise file_error(path, e) from None
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
    title = ns.get("title", "") or " ".join((ns.get("__doc__") or "").split("\n\n")[0].split())
    is_loss = ns.get("is_loss")
    return Problem(path, root, list(params), opt.lr if opt else None, opt, nodes, list(wrt),
                   ns.get("decimals"), str(title),
                   bool(is_loss) if is_loss is not None else None)


def file_error(path: Path, e: Exception, name: str | None = None) -> ProblemError:
    """An error raised by a user's Python file, as one line: which exception, at which line
    of the file (named ``name``, by default its file name)."""
    if isinstance(e, SyntaxError):
        line, text = e.lineno, e.msg
    else:
        line = next((f.lineno for f in reversed(traceback.extract_tb(e.__traceback__))
                     if f.filename == str(path)), None)
        text = str(e)
    where = f", line {line}" if line else ""
    return ProblemError(f"{name or path.name}{where}: {type(e).__name__}: {text}")

