"""micrograd's layers: ``Neuron``, ``Layer`` and ``MLP``, with micrograd's initialisation.
"""
from __future__ import annotations

from typing import Sequence

from .. import functional as F
from .. import init as _init
from ..engine import Value
from ..nested import fmt_shape, shape_of
from .module import Module, Shape, Sequential, _split_batch
from .parameter import Parameter


def _activation_name(activation) -> str:
    if activation is None:
        return "linear"
    return activation if isinstance(activation, str) else getattr(activation, "__name__", "f")


class Neuron(Module):
    """One unit: ``act(w1 x1 + ... + wn xn + b)`` (micrograd's Neuron; weights U(-1, 1),
    bias 0, as micrograd draws them).

    Args:
        nin: number of inputs.
        activation: "relu", "tanh", "sigmoid", "leaky_relu", "softplus", "swish", "linear"
            (or None), or a function of one Value. A bool here is micrograd's ``nonlin``
            (``Neuron(2, False)`` is a linear unit).
        rng: seed or generator for the weights.
        nonlin: micrograd's flag (``nonlin=False`` is ``activation="linear"``).
        bias: include the bias ``b``.
    """

    def __init__(self, nin: int, activation="relu", rng=None, nonlin: bool | None = None,
                 bias: bool = True, name: str | None = None) -> None:
        if isinstance(activation, bool):     # micrograd's Neuron(nin, nonlin) positionally
            activation, nonlin = "relu", activation
        super().__init__(name)
        if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        if nonlin is not None:
            activation = activation if nonlin else "linear"
        self.w = [Parameter(v, label=f"w{j + 1}")
                  for j, v in enumerate(_init.uniform(nin, -1.0, 1.0, rng))]
        self.b = Parameter(0.0, label="b") if bias else None
        self.activation = _activation_name(activation)
        self._act = F.get_activation(activation)

    def __getstate__(self) -> dict:
        # A named activation is looked up again on loading: the table's functions are
        # closures, which pickle cannot store.
        state = dict(self.__dict__)
        if self.activation in F.ACTIVATIONS:
            del state["_act"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "_act" not in state:
            self.__dict__["_act"] = F.get_activation(self.activation)

    def _unit(self, x) -> Value:
        w = self.w
        if len(x) != len(w):
            raise ValueError(f"{self.display_name}: expected an input of shape {len(w)}, "
                             f"got {fmt_shape(shape_of(x))}")
        act = w[0] * x[0]
        for j in range(1, len(w)):
            act = act + w[j] * x[j]
        if self.b is not None:
            act = act + self.b
        return act if self._act is None else self._act(act)

    def forward(self, x):
        samples, batch = _split_batch(self, x, 1)
        out = [self._unit(s) for s in samples]
        return out if batch else out[0]

    def output_shape(self, input_shape: Shape) -> Shape:
        if tuple(input_shape) != (len(self.w),):
            raise ValueError(f"{self.display_name}: expected an input of shape {len(self.w)}, "
                             f"got {fmt_shape(input_shape)}")
        return ()

    def extra_repr(self) -> str:
        return f"{len(self.w)}, activation={self.activation!r}"


class Layer(Module):
    """``nout`` neurons reading the same inputs (micrograd's Layer).

    Unlike micrograd, a layer of one unit still returns a list of one Value; pass
    ``squeeze=True`` to get the Value itself (:mod:`microgradnet.micrograd` keeps micrograd's
    behaviour).
    """

    def __init__(self, nin: int, nout: int, activation="relu", squeeze: bool = False,
                 rng=None, nonlin: bool | None = None, bias: bool = True,
                 name: str | None = None) -> None:
        super().__init__(name)
        if isinstance(activation, bool):     # micrograd's Layer(nin, nout, nonlin)
            activation, nonlin = "relu", activation
        if isinstance(nout, bool) or not isinstance(nout, int) or nout < 1:
            raise ValueError(f"Layer: nout must be a positive int, got {nout!r}")
        rng = _init.get_rng(rng)
        self.neurons = [Neuron(nin, activation, rng, nonlin, bias, name=f"neuron{k + 1}")
                        for k in range(nout)]
        self.squeeze = squeeze
        self.nin, self.nout = nin, nout

    def _one(self, x):
        out = [n(x) for n in self.neurons]
        return out[0] if self.squeeze and len(out) == 1 else out

    def forward(self, x):
        samples, batch = _split_batch(self, x, 1)
        if len(samples[0]) != self.nin:
            raise ValueError(f"{self.display_name}: expected an input of shape {self.nin}, "
                             f"got {fmt_shape(shape_of(samples[0]))}")
        out = [self._one(s) for s in samples]
        return out if batch else out[0]

    def output_shape(self, input_shape: Shape) -> Shape:
        if tuple(input_shape) != (self.nin,):
            raise ValueError(f"{self.display_name}: expected an input of shape {self.nin}, "
                             f"got {fmt_shape(input_shape)}")
        return () if self.squeeze and self.nout == 1 else (self.nout,)

    def extra_repr(self) -> str:
        return (f"{self.nin}, {self.nout}, activation={self.neurons[0].activation!r}"
                + (", squeeze=True" if self.squeeze else ""))

    def __repr__(self) -> str:     # one line: the neurons are all alike
        return f"Layer({self.extra_repr()})"


class MLP(Sequential):
    """A multilayer perceptron of micrograd Layers: ``MLP(2, [16, 16, 1])``.

    Args:
        nin: number of inputs.
        sizes: the number of units of each layer.
        activation: activation of the hidden layers ("relu" by default).
        last_activation: activation of the last layer ("linear" by default, as in micrograd).
        rng: seed or generator for the weights (one generator for all layers).
        squeeze: return the output Value itself when the last layer has one unit.
    """

    def __init__(self, nin: int, sizes: Sequence[int], activation="relu",
                 last_activation="linear", rng=None, squeeze: bool = False,
                 name: str | None = None) -> None:
        sizes = list(sizes)
        if not sizes:
            raise ValueError("MLP: sizes must list at least one layer")
        rng = _init.get_rng(rng)
        dims = [nin] + sizes
        n = len(sizes)
        super().__init__(*[Layer(dims[i], dims[i + 1],
                                 activation if i < n - 1 else last_activation,
                                 squeeze=squeeze and i == n - 1, rng=rng, name=f"layer{i + 1}")
                           for i in range(n)], name=name)
        self.nin, self.sizes = nin, sizes

    def extra_repr(self) -> str:
        return f"{self.nin}, {self.sizes}"
