"""microgradnet: a scalar reverse-mode autodiff engine for learning and checking backpropagation
by hand."""
from .engine import (DivisionByZero, DomainError, Overflow, Value, apply, grad, maximum,
                     minimum, no_gc, no_grad, scope, topological_order)
from .ops import Op

__all__ = ["Value", "grad", "apply", "Op", "maximum", "minimum", "scope", "no_grad", "no_gc",
           "topological_order", "DomainError", "DivisionByZero", "Overflow"]
__version__ = "0.1.0"
