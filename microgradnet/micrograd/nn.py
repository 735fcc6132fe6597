"""micrograd's ``Module``, ``Neuron``, ``Layer`` and ``MLP``, line for line.

Weights are drawn from the global :mod:`random` module, as micrograd draws them, so after
``random.seed(1337)`` a model has micrograd's weights. A layer of one unit returns its Value.

Example:
    >>> import random
    >>> random.seed(1337)
    >>> model = MLP(2, [16, 16, 1])
    >>> len(model.parameters()), type(model([1.0, -2.0])).__name__
    (337, 'Value')
"""
from __future__ import annotations

import random

from .engine import Value

__all__ = ["Module", "Neuron", "Layer", "MLP"]


class Module:

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0

    def parameters(self) -> list:
        return []


class Neuron(Module):
    """``relu(b + w1 x1 + ... + wn xn)`` (or without the ReLU for ``nonlin=False``)."""

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        if len(x) != len(self.w):
            raise ValueError(f"Neuron({len(self.w)}): expected {len(self.w)} inputs, "
                             f"got {len(x)}")
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):

    def __init__(self, nin: int, nout: int, **kwargs) -> None:
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):

    def __init__(self, nin: int, nouts: list) -> None:
        sz = [nin] + list(nouts)
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
