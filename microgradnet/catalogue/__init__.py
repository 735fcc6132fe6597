"""The catalogue of worked examples, one per claim id of TEXTBOOK.md."""
from .base import EXAMPLES, Example, Result, example, report

# Importing a seed module registers its examples.
from . import experiments, seed001, seed002, seed003, seed004  # noqa: F401

__all__ = ["EXAMPLES", "Example", "Result", "example", "report"]
