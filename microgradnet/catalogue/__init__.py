"""The catalogue of worked examples, one per claim id of TEXTBOOK.md."""
from .base import EXAMPLES, Example, Result, example, report

# Importing a seed module registers its examples; a module not written yet is skipped.
import importlib as _importlib

for _name in ("seed001", "seed002", "seed003", "seed004", "experiments"):
    try:
        _importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _e:
        if _e.name != f"{__name__}.{_name}":
            raise

__all__ = ["EXAMPLES", "Example", "Result", "example", "report"]
