"""The ``microgradnet`` command line. Each group of subcommands lives in its own module and
adds itself to the parser through ``add_commands(subparsers)``."""
from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main"]

# Modules that contribute subcommands, imported lazily so `microgradnet list` does not pay
# for graphviz or training code.
_COMMAND_MODULES = (
    "microgradnet.catalogue.commands",   # list, show, verify
    "microgradnet.viz.commands",         # render
    "microgradnet.training.commands",    # train
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="microgradnet",
        description="Step through, verify and draw textbook backpropagation examples.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name is not None and e.name.startswith("microgradnet"):
                continue  # that part of the package is not there yet
            raise
        module.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
