"""``microgradnet solve FILE``: the worked solution of a problem of your own.

    microgradnet solve examples/s1_3.toml              # given, forward, loss, backward, update
    microgradnet solve my_net.toml --wrt w21 --round 3
    microgradnet solve my_net.toml --latex             # also --markdown, --json
    microgradnet solve my_graph.py -o out/net.svg         # and the pictures

FILE is a TOML problem (inputs, layers with their weights and biases, activations, targets,
loss, optimiser and learning rate, what to show) or a Python file that builds the graph and
leaves ``root`` (and optionally ``params``, ``lr``); :mod:`microgradnet.problem` describes both.

The solution: the given numbers, the forward pass (one line per named node), the loss, the
backward pass node by node (every named node's gradient as the sum over the nodes that use it
of their gradient times the local derivative), the chain rule path by path for the chosen
parameters when they have few paths, and the update of every parameter (or of those chosen
with ``--wrt``), Adam's m, v, m_hat and v_hat included. ``--json`` gives the numbers instead:
``{"nodes": {label: {"value", "grad"}}, "updates": {label: {"old", "grad", "lr", "new"}}}``.

Exit status: 0, or 2 for a file that cannot be solved (one line on stderr names the key or the
line), 3 when a picture format needs the Graphviz ``dot`` program and it is missing.
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Optional

from ..engine import DomainError, StaleGraphError
from ..explain.records import WIDTH, md_line
from ..formula import visible
from ..problem import Problem, ProblemError, load_problem, solve
from ..problem.solution import PATHS_LISTED
from .common import add_output_option, add_round_option

__all__ = ["add_commands"]


def add_commands(subparsers) -> None:
    """Add ``solve`` to the ``microgradnet`` command line."""
    p = subparsers.add_parser(
        "solve", help="the worked solution of a problem file of your own",
        description="Print the whole worked solution of a problem: given, forward pass, loss, "
                    "backward pass node by node, and the update of every parameter.",
        epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE", help="a problem file: .toml, or .py leaving `root`")
    p.add_argument("--wrt", metavar="LABEL", action="append",
                   help="update (and explain path by path) only this parameter; repeat it "
                        "or separate labels with commas (default: the file's [show] wrt for "
                        "the paths, every parameter for the update)")
    add_round_option(p, help="round every intermediate to K decimals and carry it, as by hand")
    p.add_argument("--lr", type=float, help="the learning rate (overrides the file's)")
    p.add_argument("--paths", type=int, default=PATHS_LISTED, metavar="N",
                   help=f"list a parameter's paths when it has at most N (default "
                        f"{PATHS_LISTED}); 0 never")
    add_output_option(p, metavar="FILE", aliases=("--render",),
                      help="also write the pictures FILE-forward, FILE-backward, FILE-update "
                           "(the suffix picks the format: .svg, .png, .pdf, .dot), or with "
                           ".html the backward pass as a page of frames")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="print the solution as LaTeX")
    fmt.add_argument("--markdown", action="store_true", help="print it as Markdown")
    fmt.add_argument("--json", action="store_true", help="print the numbers as JSON")
    p.set_defaults(func=_run)


def _chosen(problem: Problem, labels: Optional[list]) -> list:
    """The parameters named by ``--wrt`` (labels, comma-separated or repeated)."""
    out = []
    for item in labels or []:
        for label in (s.strip() for s in item.split(",")):
            if label:
                node = problem.node(label)
                if node not in out:
                    out.append(node)
    return out


def _render(problem: Problem, path: str, updates: dict, wrt: list) -> list:
    """Write the pictures of the problem's graph; returns the paths written."""
    from .. import viz   # here: drawing loads graphviz
    from ..viz.frames import frames_html
    root = problem.root
    root.zero_grad()
    root.backward()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() == ".html":
        frames_html(root, p, params=problem.params)
        return [p]
    suffix = p.suffix or ".svg"
    stem = p.with_suffix("")
    target = wrt[0] if wrt else None
    written = []
    for stage in ("forward", "backward", "update"):
        if stage == "update" and not updates:
            continue
        out = Path(f"{stem}-{stage}{suffix}")
        viz.render(root, out, stage=stage, params=problem.params,
                   highlight=target if stage != "forward" else None,
                   updates=updates if stage == "update" else None)
        written.append(out)
    return written


def _run(args: argparse.Namespace) -> int:
    err = sys.stderr
    if args.paths < 0:
        print("microgradnet solve: --paths needs N >= 0", file=err)
        return 2
    if args.out == "":
        print("microgradnet solve: -o/--out: the path is empty", file=err)
        return 2
    try:
        problem = load_problem(args.file)
        wrt = _chosen(problem, args.wrt)
        solution = solve(problem, wrt or None, args.decimals, args.lr, args.paths)
    except (ProblemError, DomainError, StaleGraphError, ValueError, TypeError) as e:
        print(f"microgradnet solve: {e}", file=err)
        return 2
    expl, updates = solution.explanation, solution.updates
    if args.json:
        print(json.dumps(solution.json(), indent=2))
    elif args.latex:
        print(f"% {visible(problem.title or str(problem.path))}")
        print(expl.latex(), end="")
    elif args.markdown:
        print(f"## {md_line(problem.title or str(problem.path))}\n")
        print(expl.markdown())
    else:
        if problem.title:
            print(textwrap.fill(visible(problem.title), WIDTH) + "\n")
        print(expl.text(), end="")
    if args.out:
        from ..viz.backends import GraphvizNotFoundError
        try:
            written = _render(problem, args.out, updates, wrt or
                              [problem.node(w) for w in problem.wrt])
        except GraphvizNotFoundError as e:
            print(f"microgradnet solve: {e}", file=err)
            return 3
        except (ValueError, OSError, RuntimeError) as e:
            print(f"microgradnet solve: cannot draw pictures: {type(e).__name__}: {e}",
                  file=err)
            return 1
        for w in written:
            print(f"wrote {w}", file=err if args.json else sys.stdout)
    return 0
