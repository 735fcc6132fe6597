"""microgradnet: a scalar reverse-mode autodiff engine for learning and checking backpropagation
by hand."""
from .engine import DomainError, Value, grad, maximum, minimum, scope, topological_order

__all__ = ["Value", "grad", "maximum", "minimum", "scope", "topological_order", "DomainError"]
__version__ = "0.1.0"
