"""Choices for an option that are looked up when the command line is parsed, not when the
parser is built.

``microgradnet list`` builds the whole parser, ``render`` and ``train`` included. Their options
accept names that the pictures part and the training code define (stages, back ends, model
kinds); importing those modules to build the parser made ``list`` take 116 ms instead of 97.

Example:
    >>> import argparse
    >>> p = argparse.ArgumentParser(prog="demo")
    >>> _ = p.add_argument("--kind", choices=LazyChoices(lambda: ("a", "b")))
    >>> p.parse_args(["--kind", "b"]).kind
    'b'
"""
from __future__ import annotations

from typing import Callable, Iterator, Sequence

__all__ = ["LazyChoices"]


class LazyChoices:
    """The names ``load()`` returns, asked for the first time argparse needs them (to check a
    value, or to write usage, help or an "invalid choice" message).

    Args:
        load: a function that imports the module defining the names and returns them.
    """

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load

    def __contains__(self, value: object) -> bool:
        return value in self._load()

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())
