"""``microgradnet check``: mark a student's answers on a worked example or a problem file, and
name the slip behind each wrong one.

    microgradnet check S1-3 --answer dMSE/dw21=-2.0 --answer new:w21=0.65
    microgradnet check S1-3.3 --answer h1=2.0 o1=0.5 --json
    microgradnet check my_problem.py --answer dL/dw=0.3 --lr 0.1 --depth 2

An answer is ``LABEL=VALUE``: ``LABEL`` a node's label (its value), ``dROOT/dLABEL`` a
gradient of the output, ``new:LABEL`` a parameter after one gradient-descent step. An answer
is correct when the engine's number lies within half a unit of the answer's last decimal (a
whole number counts as one decimal; ``--decimals`` sets the rounding). For a wrong one, every slip
of the library that reproduces it is shown as the recomputed line, the slip in [brackets].
Exit status: 0 when every answer is correct, 1 when one is wrong, 2 for a usage error.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..engine import StaleGraphError, Value
from .common import MAX_DECIMALS, decimal_places

__all__ = ["add_commands", "load_problem"]


def add_commands(subparsers) -> None:
    """Add the ``check`` subcommand to the CLI's subparsers."""
    p = subparsers.add_parser(
        "check", help="mark a student's answers and name the slip behind a wrong one",
        description="Check answers against the engine; for a wrong answer, every known slip "
                    "of backpropagation that reproduces it.",
        epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("problem", metavar="ID|FILE",
                   help="a worked example (S1-3.3, or its group S1-3) or a problem file")
    p.add_argument("--answer", "-a", nargs="+", action="extend", required=True,
                   metavar="LABEL=VALUE", help="an answer: h1=2.0, dMSE/dw21=-1.5, "
                                               "new:w21=0.65 (repeat or list several)")
    p.add_argument("--lr", type=float, help="the learning rate of the step, for new: answers "
                   "(default: the example's or the file's)")
    p.add_argument("--depth", type=int, choices=(1, 2), default=1,
                   help="1: single slips (default); 2: also pairs of slips when no single "
                        "one explains an answer")
    p.add_argument("--decimals", type=decimal_places, metavar="K",
                   help=f"judge every answer at K decimals instead of its own (0 to "
                        f"{MAX_DECIMALS})")
    p.add_argument("--json", action="store_true",
                   help='print {"answers": [{"target", "given", "correct", "expected", '
                        '"slips": [...]}]}')
    p.set_defaults(func=_run)


def load_problem(path: str | Path) -> tuple:
    """A problem file as ``(root, params, lr)``: a TOML problem, or a Python file that sets
    ``root`` (or defines ``build()``) and may set ``params`` and ``lr``, read as ``solve``
    reads them.

    Raises:
        ValueError: the file is missing, of a kind not read here, or does not define a root
            (:class:`~microgradnet.problem.ProblemError` names the key or line).
    """
    from ..problem import load_problem as read
    problem = read(path)
    return problem.root, problem.params, problem.lr


def _load_example(query: str) -> tuple:
    """A worked example (or the last one of a group with a graph) as ``(root, params, lr)``."""
    from ..catalogue import EXAMPLES
    from ..catalogue.run import resolve_ids
    ids = resolve_ids(query)
    if not ids:
        raise ValueError(f"no worked example or file {query!r} (`microgradnet list` shows "
                         "the examples)")
    for i in reversed(ids):
        result = EXAMPLES[i].run()
        if isinstance(result.graph, Value):
            extra = result.extra or {}
            params = extra.get("params")
            if isinstance(params, dict):
                params = list(params.values())
            return result.graph, params, extra.get("lr")
    raise ValueError(f"worked example {query} has no graph to check answers on")


def _run(args: argparse.Namespace) -> int:
    from ..diagnose import Checker, parse_answer
    err = sys.stderr
    try:
        if Path(args.problem).exists() or args.problem.endswith((".py", ".toml")):
            root, params, lr = load_problem(args.problem)
        else:
            root, params, lr = _load_example(args.problem)
        if args.lr is not None:
            lr = args.lr
        answers = [parse_answer(a) for a in args.answer]
        checker = Checker(root, params, lr)
        results = checker.check(answers, depth=args.depth, decimals=args.decimals)
    except (StaleGraphError, ValueError, TypeError) as e:
        print(f"microgradnet check: {e}", file=err)
        return 2
    if args.json:
        print(json.dumps({"answers": [r.to_dict() for r in results]}, indent=2))
    else:
        print("\n".join(r.text() for r in results))
    return 0 if all(r.correct for r in results) else 1
