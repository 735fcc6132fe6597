"""The ``microgradnet`` command line.

Each group of subcommands lives in its own module of this package and adds itself to the parser
through ``add_commands(subparsers)``: :mod:`.catalogue` (``list``, ``show``, ``verify``),
:mod:`.solve` (``solve``), :mod:`.check` (``check``), :mod:`.render` (``render``) and
:mod:`.train` (``train``); :mod:`.common` holds what they share (exit statuses, option
names, suggestions, running a command), and :mod:`.bounded` runs ``render --file --timeout``
in a child process it can kill. This package is the top layer: the only one that uses both the
catalogue and the pictures. The command modules are imported here as they are,
so a broken import fails loudly; to keep ``microgradnet list`` quick, they import graphviz and
the training code only inside the commands that need them.
"""
from __future__ import annotations

import argparse

from .. import __version__
from . import catalogue, check, render, solve, train
from .common import USAGE, deepest_parser, interrupted, printable_stdout, run_command, \
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
    try:
        args, extras = parser.parse_known_args(argv)
    except KeyboardInterrupt:
        return interrupted()
    if extras:
        # The usage of the subcommand that was mistyped, not the top-level one.
        deepest_parser(parser, args).error(unrecognised(deepest_parser(parser, args), extras))
    if not getattr(args, "func", None):
        parser.print_help()
        return USAGE
    printable_stdout()
    return run_command(args.func, args)
