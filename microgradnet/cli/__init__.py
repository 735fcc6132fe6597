"""The ``microgradnet`` command line.

Each group of subcommands lives in its own module of this package and adds itself to the parser
through ``add_commands(subparsers)``: :mod:`.catalogue` (``list``, ``show``, ``verify``),
:mod:`.solve` (``solve``), :mod:`.check` (``check``), :mod:`.render` (``render``) and
:mod:`.train` (``train``). This
package is the top layer: the only one that uses both the catalogue and the pictures. The
command modules are imported here as they are, so a broken import fails loudly; to keep
``microgradnet list`` quick, they import graphviz and the training code only inside the
commands that need them.
"""
from __future__ import annotations

import argparse
import sys

from . import catalogue, check, render, solve, train

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line: list, show, verify, solve, render and train."""
    parser = argparse.ArgumentParser(
        prog="microgradnet",
        description="Step through, verify and draw textbook backpropagation examples.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (catalogue, solve, check, render, train):
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``).

    Returns:
        The command's exit status: 0 when it succeeded, 2 for a usage error, 141 when the
        reader of its output went away; each command documents its others.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # `microgradnet list | head`: the reader left; quiet exit, as other Unix tools do.
        import os
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141

