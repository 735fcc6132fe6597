"""``microgradnet render``: a picture of a worked example's graph, or of a graph built by a
Python file of your own.

    microgradnet render S1-3.3 -o w21.svg --wrt w21
    microgradnet render S1-3.3 -o net.svg --view network      # neurons in layers
    microgradnet render S1-3.3 -o step.svg --stage update --lr 0.1 --wrt w21
    microgradnet render --file mygraph.py -o graph.png --stage forward
    microgradnet render --file mygraph.py -o backward.html      # the backward-pass frames page

A user file is run as a script and must leave a ``Value`` named ``root``, or define a function
``build()`` that returns one (the output of the graph). It may also define ``params`` (the
parameter leaves, to colour them) and ``updates`` (for ``--stage update``: a mapping
``{param: (old, grad, lr, new)}`` or a list of optimiser step records). For example::

    from microgradnet import Value
    def build():
        x = Value(2.0, label="x"); w = Value(-3.0, label="w")
        y = (x * w).tanh(); y.label = "y"
        return y

The suffix of ``-o`` picks the format: .svg, .png, .jpg (need no system Graphviz), .pdf (needs the
Graphviz ``dot`` program), .dot/.gv (the DOT text), .html (the backward pass, frame by frame).
If the graph has no gradients yet, ``backward()`` is called on it before drawing them.

``--timeout S`` runs the command in a child process and kills it if the file (running it,
``build()``, the backward pass) is not done within S seconds, whatever the file catches or
ignores; anything the file raises, and a ``sys.exit`` or ``os._exit`` in it, is one line.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from ..engine import Value
from ..problem.python_file import run_user_file
from .choices import LazyChoices
from .bounded import can_bound, run_bounded
from .common import USAGE, add_output_option, add_round_option, add_wrt_option, run_command, \
    seconds, unknown_name

__all__ = ["add_commands", "load_user_graph"]


def _stages() -> tuple:
    from ..viz.dot import STAGES
    return STAGES


def _backends() -> tuple:
    from ..viz.backends import BACKENDS
    return BACKENDS


def _views() -> tuple:
    from ..viz.dot import VIEWS
    return VIEWS


def add_commands(subparsers) -> None:
    """Add the ``render`` subcommand to the CLI's subparsers."""
    p = subparsers.add_parser(
        "render", help="draw the computation graph of a worked example or of your own file",
        description="Draw a computation graph with every node's value and gradient.",
        epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("example", nargs="?", metavar="EXAMPLE_ID",
                   help="a worked example of the catalogue (see `microgradnet list`)")
    p.add_argument("--file", "-f", metavar="PY",
                   help="a Python file that sets `root` or defines `build()`")
    p.add_argument("--timeout", type=seconds, metavar="S",
                   help="stop the --file if running it (and build(), and its backward pass) "
                        "takes longer than S seconds; it runs in a child process, killed then")
    add_output_option(p, required=True,
                      help="the file to write: .svg .png .pdf .jpg .dot .gv .html")
    # A metavar, so that building the parser does not list (and so import) the choices.
    p.add_argument("--stage", choices=LazyChoices(_stages), default="backward", metavar="STAGE",
                   help="forward: values; backward: values and gradients (default); update: "
                        "a gradient-descent step on the parameters")
    p.add_argument("--view", choices=LazyChoices(_views), default="graph", metavar="VIEW",
                   help="graph: the operations (default); network: neurons in layer columns "
                        "with the weights on the edges, for graphs built from nn layers")
    add_wrt_option(p, help="pick out the paths from the output to the parameter with this "
                           "label")
    p.add_argument("--lr", type=float, metavar="LR",
                   help="with --stage update and no recorded updates: the learning rate of a "
                        "plain gradient-descent step (new = old - lr * grad)")
    add_round_option(p, default=4, help="decimals shown (default 4)")
    p.add_argument("--color-grad", action="store_true", help="shade gradients by sign and size")
    p.add_argument("--no-clusters", action="store_true", help="no boxes around scoped nodes")
    p.add_argument("--title", help="a caption for the picture")
    p.add_argument("--backend", choices=LazyChoices(_backends), default=None, metavar="BACKEND",
                   help="how Graphviz runs: dot (the system program), pure (graphviz-pure, "
                        "installed with microgradnet) or auto (default: dot if installed; also "
                        "$MICROGRADNET_GRAPHVIZ)")
    p.set_defaults(func=_run)


def load_user_graph(path: str | Path) -> dict:
    """Run a user's file and return what it defines: ``root`` (from the variable or from
    ``build()``), and ``params``, ``updates`` and ``lr`` if it sets them.

    Raises:
        ValueError: the file defines neither ``root`` nor ``build``, or not a Value; it called
            ``sys.exit`` or ``os._exit``; or running it (or ``build()``) raised, the message
            naming the exception and the file's line
            (:func:`microgradnet.problem.python_file.run_user_file`).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: " + ("not a regular file (a folder, a pipe...); give a .py "
                                        "file" if path.exists() else "no such file"))
    ns, root = run_user_file(path, "__microgradnet_render__", name=str(path))
    if root is None:
        raise ValueError(f"{path} must set a variable `root` (a Value) or define a "
                         "function `build()` that returns one")
    if isinstance(root, tuple) and root and isinstance(root[0], Value):
        root = root[0]
    if not isinstance(root, Value):
        raise ValueError(f"{path}: `root` must be a Value, got {type(root).__name__}")
    return {"root": root, "params": ns.get("params"), "updates": ns.get("updates"),
            "lr": ns.get("lr")}


def _load_example(example_id: str) -> dict:
    from ..catalogue import EXAMPLES
    from ..catalogue.run import resolve_ids, sort_ids
    ids = resolve_ids(example_id)
    if not ids:
        raise ValueError(unknown_name("render", "worked example", example_id, sort_ids(EXAMPLES),
                                      hint="; `microgradnet list` shows every id")
                         .removeprefix("microgradnet render: "))
    if len(ids) > 1:
        raise ValueError(f"{example_id!r} is a group ({', '.join(ids)}); give one of its ids")
    example_id = ids[0]
    result = EXAMPLES[example_id].run()
    root = result.graph
    if not isinstance(root, Value):
        raise ValueError(f"worked example {example_id} has no graph to draw")
    extra = result.extra or {}
    return {"root": root, "params": extra.get("params"), "updates": extra.get("updates"),
            "lr": extra.get("lr")}


def _sgd_updates(root: Value, params, targets, lr: float) -> dict:
    from ..viz.graph import analyse
    graph = analyse(root, params, targets)
    chosen = targets or [n for n, k in zip(graph.order, graph.kinds, strict=True) if k == "param"]
    return {p: (p.data, p.grad, lr, p.data - lr * p.grad) for p in chosen}


def _recorded_for(updates, target: Value) -> bool:
    """Do recorded ``updates`` (a mapping or step records) include ``target``?"""
    if isinstance(updates, dict):
        return target in updates
    for rec in updates:
        get = rec.get if isinstance(rec, dict) else lambda k, r=rec: getattr(r, k, None)
        if any(get(k) is target for k in ("param", "value", "parameter", "node")) \
                or (target.label and target.label in (get("label"), get("name"))):
            return True
    return False


def _choose_updates(root: Value, got: dict, target: Value | None, lr: float | None):
    """The updates to draw: the recorded ones, unless ``--lr`` asks for another step or the
    highlighted parameter is not among them; then a plain gradient-descent step (on the
    highlighted parameter, or on every parameter). ``None`` if there is no learning rate."""
    recorded = got.get("updates")
    if recorded is not None and lr is None and (target is None
                                                or _recorded_for(recorded, target)):
        return recorded
    lr = lr if lr is not None else got.get("lr")
    if lr is None:
        return None
    return _sgd_updates(root, got.get("params"), [target] if target is not None else [],
                        float(lr))


def _run(args: argparse.Namespace) -> int:
    err = sys.stderr
    if (args.example is None) == (args.file is None):
        print("microgradnet render: give either EXAMPLE_ID or --file PY", file=err)
        return USAGE
    if not args.out:
        print("microgradnet render: -o/--out: the path is empty", file=err)
        return USAGE
    if args.timeout is None:
        return _draw(args, lambda: None)
    if args.file is None:
        print("microgradnet render: --timeout bounds a --file, not a worked example", file=err)
        return USAGE
    if not can_bound():
        print("microgradnet render: --timeout needs os.fork (a POSIX system, main thread)",
              file=err)
        return USAGE
    outcome = run_bounded(args.timeout, lambda user_done: run_command(
        lambda a: _draw(a, user_done), args))
    if outcome.timed_out:
        print(f"microgradnet render: {args.file} ran longer than {args.timeout:g} s "
              "(--timeout), stopped", file=err)
        return USAGE
    if outcome.ended:
        print(f"microgradnet render: {args.file} ended the process ({outcome.ended}) before "
              "the picture was drawn", file=err)
        return USAGE
    return outcome.status


def _draw(args: argparse.Namespace, user_done: Callable[[], None]) -> int:
    """Load the graph, run its backward pass (the user's part: then ``user_done()``), draw."""
    from ..viz.backends import GraphvizNotFoundError
    from ..viz.frames import frames_html
    from ..viz.graph import analyse, find_labelled
    from ..viz.picture import render
    err = sys.stderr
    try:
        got = (_load_example(args.example) if args.example
               else load_user_graph(args.file))
        root = got["root"]
        if args.stage != "forward" and root.grad == 0.0:
            root.backward()
        user_done()
        target = None
        if args.wrt:
            target = find_labelled(analyse(root), args.wrt)
        updates = None
        if args.stage == "update":
            updates = _choose_updates(root, got, target, args.lr)
            if updates is None:
                print("microgradnet render: --stage update needs --lr (or updates "
                      "recorded by the example or file)", file=err)
                return 2
        out = Path(args.out)
        if out.suffix.lower() == ".html":
            frames_html(root, out, precision=args.decimals, title=args.title,
                        clusters=not args.no_clusters, params=got.get("params"),
                        backend=args.backend)
        else:
            render(root, out, backend=args.backend, view=args.view, stage=args.stage,
                   precision=args.decimals, highlight=target,
                   clusters=not args.no_clusters, color_grad=args.color_grad,
                   updates=updates, params=got.get("params"), title=args.title)
    except GraphvizNotFoundError as e:
        print(f"microgradnet render: {e}", file=err)
        return 3
    except (ValueError, TypeError, OSError) as e:
        print(f"microgradnet render: {e}", file=err)
        return 2
    except RuntimeError as e:       # Graphviz refused the picture or ran out of time
        print(f"microgradnet render: {e}", file=err)
        return 1
    print(f"wrote {out}")
    return 0
