"""The ``microgradnet`` command line.

Each group of subcommands lives in its own module of this package and adds itself to the parser
through ``add_commands(subparsers)``: :mod:`.catalogue` (``list``, ``show``, ``verify``),
:mod:`.solve` (``solve``), :mod:`.check` (``check``), :mod:`.render` (``render``) and
:mod:`.train` (``train``); :mod:`.common` holds what they share
(exit statuses, option names, suggestions). This package is the top layer: the only one that
uses both the catalogue and the pictures. The command modules are imported here as they are,
so a broken import fails loudly; to keep ``microgradnet list`` quick, they import graphviz and
the training code only inside the commands that need them.
"""
from __future__ import annotations

import argparse
import os
import sys

from .. import __version__
from . import catalogue, check, render, solve, train
from .common import BROKEN_PIPE, INTERRUPTED, MISSING, USAGE, deepest_parser, missing_extra, \
    unrecognised

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line: list, show, verify, solve, render and train."""
    parser = argparse.ArgumentParser(
        prog="microgradnet",
        description="Step through, verify and draw textbook backpropagation examples.",
        epilog="Exit status: 0 success, 1 a check or step failed, 2 a usage error, 3 a "
               "missing optional dependency, 130 interrupted.")
    parser.add_argument("--version", action="version", version=f"microgradnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (catalogue, solve, check, render, train):
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``).

    Returns:
        The command's exit status (:mod:`microgradnet.cli.common` lists them): 0 when it
        succeeded, 2 for a usage error, 3 for a missing optional dependency, 130 when
        interrupted, 141 when the reader of its output went away; each command documents its
        others.
    """
    parser = build_parser()
    args = None
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            # The usage of the subcommand that was mistyped, not the top-level one.
            deepest_parser(parser, args).error(unrecognised(deepest_parser(parser, args),
                                                            extras))
        if not getattr(args, "func", None):
            parser.print_help()
            return USAGE
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        # Ctrl-C in `show --step` or `train`: one line, the shell's status for SIGINT.
        print("\nmicrogradnet: interrupted", file=sys.stderr)
        return INTERRUPTED
    except ImportError as e:
        line = missing_extra(e)
        if line is None:
            raise
        command = " ".join(w for w in (getattr(args, "command", None),
                                       getattr(args, "experiment", None)) if w)
        print(f"microgradnet {command}: {line}", file=sys.stderr)
        return MISSING
    except BrokenPipeError:
        # `microgradnet list | head`: the reader left; quiet exit, as other Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE
