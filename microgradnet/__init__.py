"""microgradnet: a scalar reverse-mode autodiff engine for learning and checking backpropagation
by hand."""
from .engine import (DivisionByZero, DomainError, Overflow, StaleGraphError, Value, apply,
                     maximum, minimum, no_gc, no_grad, scope, topological_order)
from .gradients import grad
from .ops import Op

__all__ = ["Value", "grad", "apply", "Op", "maximum", "minimum", "scope", "no_grad", "no_gc",
           "topological_order", "DomainError", "DivisionByZero", "Overflow", "StaleGraphError"]
__version__ = "0.1.0"

import sys as _sys

# In a notebook a Value shows as the picture of its graph, an explanation as Markdown and LaTeX,
# a model summary as a table. Only where IPython is already running, so a plain import stays
# light.
if "IPython" in _sys.modules:
    from .viz.jupyter import enable_notebook_display as _enable_notebook_display
    _enable_notebook_display()
