"""Neural-network layers built from ``Value`` nodes.

Data layout (plain nested Python lists; numbers are accepted wherever Values are):

- one sample for ``Linear``/``Neuron``/``Layer``/``MLP``: a list of ``nin`` Values;
  a batch: a list of samples;
- one image for ``Conv2d``/pooling/``BatchNorm2d``/``Flatten``: channels x height x width
  (``x[c][i][j]``); a batch: a list of images.

Weights follow PyTorch: a dense weight ``W`` has ``nout`` rows and ``nin`` columns and
``y_k = sum_j W[k][j] x_j + b_k`` (row k feeds output k); a convolution weight is
``W[f][c][m][n]`` (out channel, in channel, kernel row, kernel column) and the layer computes
a cross-correlation, as every deep-learning library does.

Every module's ``__call__`` runs ``forward`` inside ``with scope(<module name>):``, so a picture
can draw each layer's nodes in one labelled box. Shape mismatches raise ``ValueError`` naming
the layer and both shapes.

Replay: in training mode the graph a model builds has one structure for any data, so
:func:`microgradnet.replay.compile_graph` can record it once and re-run it on new batches:
max-pooling is built from ``maximum`` nodes, batch norm computes its statistics with ops on the
batch, and dropout multiplies by mask leaves (:attr:`Dropout.mask_leaves`) that the replay
feeds with :meth:`Dropout.draw_mask`. (In eval mode batch norm's running statistics are
constants of the graph, fixed when it is recorded.)

Example:
    >>> from microgradnet.nn import MLP
    >>> model = MLP(2, [4, 1], rng=0)
    >>> y = model([1.0, -2.0])        # a list of one Value: a layer of one unit stays a list
    >>> len(y), len(model.parameters())
    (1, 17)
"""
from __future__ import annotations

import math
from typing import Iterator, Sequence

from . import functional as F
from . import init as _init
from . import ops
from .engine import Value, apply, maximum, scope
from .nested import as_values, depth_of, flatten, fmt_shape, is_seq, shape_of

__all__ = [
    "Module", "Sequential", "Neuron", "Layer", "MLP", "Linear", "Identity", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Softplus", "Swish", "Conv2d", "MaxPool2d", "AvgPool2d",
    "Flatten", "BatchNorm1d", "BatchNorm2d", "Dropout", "summary", "Summary", "SummaryRow",
    "shape_of",
]

Shape = tuple  # a nested list's shape, as microgradnet.nested.shape_of gives it


# ---- shapes ----------------------------------------------------------------------------------

def _pair(v, what: str) -> tuple:
    if is_seq(v):
        if len(v) != 2:
            raise ValueError(f"{what} must be an int or a pair, got {v!r}")
        a, b = v
    else:
        a = b = v
    for n in (a, b):
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"{what} must be an int or a pair of ints, got {v!r}")
    return a, b


def _values(data, labels, where: str):
    """Wrap a nested list of numbers (or Values) in Values, labelled from a parallel list."""
    if is_seq(data):
        if labels is not None and (not is_seq(labels) or len(labels) != len(data)):
            raise ValueError(f"{where}: labels {labels!r} do not match the shape of the values")
        return [_values(d, None if labels is None else labels[i], where)
                for i, d in enumerate(data)]
    if isinstance(data, Value):
        v = data
    else:
        v = Value(data)
    if labels is not None:
        if not isinstance(labels, str):
            raise TypeError(f"{where}: a label must be a str, got {labels!r}")
        v.label = labels
    return v


# ---- Module --------------------------------------------------------------------------------

class Module:
    """Base class of every layer and model.

    Parameters and sub-modules are found in the instance's public attributes (Values, Modules
    and lists of them), in the order they were assigned, so a subclass only has to set them.

    Attributes:
        training: True in training mode (batch norm uses batch statistics, dropout drops),
            False after :meth:`eval`.
        name: the label of the ``scope`` box the module's nodes are drawn in (the class name
            by default; containers name their children ``layer1``, ``Conv2d-1`` ...).
    """
    training: bool = True
    name: str | None = None
    _skip = frozenset({"training", "name"})

    def __init__(self, name: str | None = None) -> None:
        self.training = True
        self.name = name

    # ---- calling ----
    @property
    def display_name(self) -> str:
        return self.name or type(self).__name__

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def __call__(self, x):
        with scope(self.display_name):
            return self.forward(x)

    def output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the output for an input of ``input_shape`` (one sample), without
        running the layer. Element-wise modules keep the shape."""
        return tuple(input_shape)

    # ---- walking ----
    def _members(self) -> Iterator[tuple]:
        for k, v in vars(self).items():
            if not k.startswith("_") and k not in self._skip:
                yield k, v

    def named_children(self) -> list:
        """``(attribute name, Module)`` for every direct sub-module."""
        out = []
        for k, v in self._members():
            if isinstance(v, Module):
                out.append((k, v))
            elif is_seq(v):
                out.extend((f"{k}.{i}", m) for i, m in enumerate(v) if isinstance(m, Module))
        return out

    def children(self) -> list:
        return [m for _, m in self.named_children()]

    def modules(self) -> list:
        """This module and every module inside it, depth first."""
        out, stack = [], [self]
        while stack:
            m = stack.pop()
            out.append(m)
            stack.extend(reversed(m.children()))
        return out

    def named_parameters(self, prefix: str = "") -> list:
        """``(dotted name, Value)`` for every parameter, in assignment order, each once
        (``"layers.0.neurons.1.w.0"``, ``"weight.1.0"``)."""
        out: list = []
        seen: set = set()
        stack: list = [(prefix, self)]
        while stack:
            path, obj = stack.pop()
            if isinstance(obj, Value):
                if obj not in seen:
                    seen.add(obj)
                    out.append((path, obj))
                continue
            if isinstance(obj, Module):
                items = [(path + k, v) for k, v in obj._members()]
            elif is_seq(obj):
                items = [(f"{path}{i}", v) for i, v in enumerate(obj)]
            else:
                continue
            for p, v in reversed(items):
                if isinstance(v, Value):
                    stack.append((p, v))
                elif isinstance(v, Module) or is_seq(v):
                    stack.append((p + ".", v))
        return out

    def parameters(self) -> list:
        """Every parameter Value (micrograd's order for Neuron/Layer/MLP: weights, then bias)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        return len(self.parameters())

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0."""
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode: bool = True) -> "Module":
        """Training mode (or eval mode with ``mode=False``) for this module and every
        sub-module; returns self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode: batch norm uses running statistics, dropout is the identity."""
        return self.train(False)

    def state_dict(self) -> dict:
        """Parameter values (floats) by name, plus buffers such as batch norm's running
        statistics."""
        state = {n: p.data for n, p in self.named_parameters()}
        for mname, m in self._named_modules():
            for b in getattr(m, "_buffers", ()):
                for i, v in enumerate(getattr(m, b)):
                    state[f"{mname}{b}.{i}"] = v
        return state

    def load_state_dict(self, state: dict) -> None:
        """Set parameter values (and buffers) from :meth:`state_dict` output.

        Raises:
            KeyError: a name is missing from ``state``.
        """
        for n, p in self.named_parameters():
            if n not in state:
                raise KeyError(f"load_state_dict: no value for parameter {n!r}")
            p.data = float(state[n])
        for mname, m in self._named_modules():
            for b in getattr(m, "_buffers", ()):
                buf = getattr(m, b)
                for i in range(len(buf)):
                    buf[i] = float(state[f"{mname}{b}.{i}"])

    def _named_modules(self) -> list:
        out, stack = [], [("", self)]
        while stack:
            path, m = stack.pop()
            out.append((path, m))
            stack.extend(reversed([(f"{path}{k}.", c) for k, c in m.named_children()]))
        return out

    # ---- display ----
    def extra_repr(self) -> str:
        return ""

    def _repr_children(self) -> list:
        return self.named_children()

    def __repr__(self) -> str:
        kids = self._repr_children()
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not kids:
            return head + ")"
        lines = [head + ("" if not self.extra_repr() else ",")]
        for k, m in kids:
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({k}): {sub}")
        return "\n".join(lines) + "\n)"


def _check_sample(layer: Module, x, expected: Shape) -> None:
    got = shape_of(x)
    if got != tuple(expected):
        raise ValueError(f"{layer.display_name}: expected an input of shape "
                         f"{fmt_shape(expected)} (or a batch of them), got {fmt_shape(got)}")


def _split_batch(layer: Module, x, sample_depth: int) -> tuple:
    """``(samples, is_batch)``; a sample has ``sample_depth`` levels of nesting."""
    if not is_seq(x):
        raise TypeError(f"{layer.display_name}: expected a list (one sample) or a list of "
                        f"lists (a batch), got {type(x).__name__}: {x!r}")
    d = depth_of(x)
    if d == sample_depth:
        return [x], False
    if d == sample_depth + 1:
        return list(x), True
    raise ValueError(f"{layer.display_name}: expected an input nested {sample_depth} deep "
                     f"(one sample) or {sample_depth + 1} deep (a batch), got shape "
                     f"{fmt_shape(shape_of(x))}")


class Sequential(Module):
    """Modules applied one after another: ``Sequential(m1, m2)(x) == m2(m1(x))``.

    Children without a name are named ``<Class>-<i>`` (1-based), as in summary tables.
    """

    def __init__(self, *modules: Module, name: str | None = None) -> None:
        super().__init__(name)
        if len(modules) == 1 and is_seq(modules[0]):
            modules = tuple(modules[0])
        for i, m in enumerate(modules, 1):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, "
                                f"not a Module")
            if m.name is None:
                m.name = f"{type(m).__name__}-{i}"
        self.layers = list(modules)

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        return x

    def output_shape(self, input_shape: Shape) -> Shape:
        for m in self.layers:
            input_shape = m.output_shape(input_shape)
        return input_shape

    def _repr_children(self) -> list:
        return [(str(i), m) for i, m in enumerate(self.layers)]

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)


# ---- micrograd-style neurons ---------------------------------------------------------------

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
            (or None), or a function of one Value.
        rng: seed or generator for the weights.
        nonlin: micrograd's flag (``nonlin=False`` is ``activation="linear"``).
        bias: include the bias ``b``.
    """

    def __init__(self, nin: int, activation="relu", rng=None, nonlin: bool | None = None,
                 bias: bool = True, name: str | None = None) -> None:
        super().__init__(name)
        if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
            raise ValueError(f"Neuron: nin must be a positive int, got {nin!r}")
        if nonlin is not None:
            activation = activation if nonlin else "linear"
        self.w = [Value(v, label=f"w{j + 1}")
                  for j, v in enumerate(_init.uniform(nin, -1.0, 1.0, rng))]
        self.b = Value(0.0, label="b") if bias else None
        self.activation = _activation_name(activation)
        self._act = F.get_activation(activation)

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
    ``squeeze=True`` to get the Value itself.
    """

    def __init__(self, nin: int, nout: int, activation="relu", squeeze: bool = False,
                 rng=None, nonlin: bool | None = None, bias: bool = True,
                 name: str | None = None) -> None:
        super().__init__(name)
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

    def extra_repr(self) -> str:
        return f"{self.layers[0].nin}, {[l.nout for l in self.layers]}"


# ---- Linear --------------------------------------------------------------------------------

class Linear(Module):
    """A dense layer ``y = W x + b``: ``y_k = w_k1 x_1 + ... + w_kn x_n + b_k``.

    ``weight`` holds ``nout`` rows of ``nin`` Values (PyTorch's layout: row k feeds output k),
    ``bias`` ``nout`` Values (or None). Each output is built as the chain
    ``W[k][0]*x[0] + W[k][1]*x[1] + ... + b[k]``, the order a textbook writes it.

    Args:
        nin, nout: input and output sizes.
        bias: include the bias.
        init: an initialiser name from :mod:`microgradnet.init` (or a function
            ``init(shape, rng=...)``); biases start at 0.
        rng: seed or generator.

    Example:
        >>> lin = Linear.from_weights([[1.0, 2.0]], [0.5])
        >>> lin([3.0, 4.0])[0].data
        11.5
    """

    def __init__(self, nin: int, nout: int, bias: bool = True, init="xavier_uniform",
                 rng=None, name: str | None = None) -> None:
        super().__init__(name)
        for what, n in (("nin", nin), ("nout", nout)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"Linear: {what} must be a positive int, got {n!r}")
        w = _init.initialise(init, (nout, nin), rng)
        self.weight = [[Value(w[k][j], label=f"W[{k + 1},{j + 1}]") for j in range(nin)]
                       for k in range(nout)]
        self.bias = [Value(0.0, label=f"b[{k + 1}]") for k in range(nout)] if bias else None
        self.nin, self.nout = nin, nout

    @classmethod
    def from_weights(cls, W, b=None, w_labels=None, b_labels=None,
                     name: str | None = None) -> "Linear":
        """A Linear layer with given weights (numbers, or Values used as they are).

        Args:
            W: ``nout`` rows of ``nin`` entries; ``W[k][j]`` multiplies input ``j`` into
                output ``k``.
            b: ``nout`` biases, or None for no bias.
            w_labels: labels in the shape of ``W``, or a function ``(k, j) -> str`` of the
                1-based output and input index.
            b_labels: ``nout`` labels, or a function ``k -> str`` (1-based).

        Seed 001 (S1-3) names its weights ``w_jk`` with j the *sending* unit and k the
        *receiving* unit (``h1 = i1 w11 + i2 w21 + b1``), so ``w_jk`` goes to row k,
        column j, and the second layer keeps the hidden units' numbers (3, 4) as ``j``::

            layer1 = Linear.from_weights([[1.0, 0.5], [-0.5, -1.0]], [0.5, -0.5],
                                         w_labels=[["w11", "w21"], ["w12", "w22"]],
                                         b_labels=["b1", "b2"])
            layer2 = Linear.from_weights([[0.5, -0.5], [-1.0, 1.0]], [-1.0, 0.5],
                                         w_labels=[["w31", "w41"], ["w32", "w42"]],
                                         b_labels=["b3", "b4"])

        Raises:
            ValueError: W is ragged or empty, or ``b``/labels do not match its shape.
        """
        shape = shape_of(W)
        if len(shape) != 2 or 0 in shape:
            raise ValueError(f"Linear.from_weights: W must be nout rows x nin columns, got "
                             f"shape {fmt_shape(shape)}")
        nout, nin = shape
        if callable(w_labels):
            f = w_labels
            w_labels = [[f(k + 1, j + 1) for j in range(nin)] for k in range(nout)]
        if b is not None and (not is_seq(b) or len(b) != nout):
            raise ValueError(f"Linear.from_weights: b must hold {nout} biases (one per row "
                             f"of W), got {b!r}")
        if callable(b_labels):
            f = b_labels
            b_labels = [f(k + 1) for k in range(nout)]
        if b is None and b_labels is not None:
            raise ValueError("Linear.from_weights: b_labels given without biases")
        self = cls.__new__(cls)
        Module.__init__(self, name)
        self.weight = _values([list(r) for r in W], w_labels, "Linear.from_weights")
        self.bias = None if b is None else _values(list(b), b_labels, "Linear.from_weights")
        self.nin, self.nout = nin, nout
        return self

    def _one(self, x) -> list:
        if len(x) != self.nin or (x and is_seq(x[0])):
            raise ValueError(f"{self.display_name}: expected an input of shape {self.nin}, "
                             f"got {fmt_shape(shape_of(x))}")
        out = []
        n = self.nin
        for k, row in enumerate(self.weight):
            acc = row[0] * x[0]
            for j in range(1, n):
                acc = acc + row[j] * x[j]
            if self.bias is not None:
                acc = acc + self.bias[k]
            out.append(acc)
        return out

    def forward(self, x):
        samples, batch = _split_batch(self, x, 1)
        out = [self._one(s) for s in samples]
        return out if batch else out[0]

    def output_shape(self, input_shape: Shape) -> Shape:
        if tuple(input_shape) != (self.nin,):
            raise ValueError(f"{self.display_name}: expected an input of shape {self.nin}, "
                             f"got {fmt_shape(input_shape)}")
        return (self.nout,)

    def extra_repr(self) -> str:
        return f"in_features={self.nin}, out_features={self.nout}, bias={self.bias is not None}"


# ---- activations as modules ----------------------------------------------------------------

class _Elementwise(Module):
    """Applies ``self.fn`` to every Value of a (nested) input; numbers become Values."""

    def fn(self, v: Value) -> Value:
        return apply(self.op, v)

    @property
    def op(self) -> "ops.Op | None":
        """The op record the module applies (``None`` for Identity): export reads it."""
        raise NotImplementedError

    def forward(self, x):
        if not is_seq(x):
            return self.fn(as_values(x))
        fn = self.fn

        def go(e):
            if is_seq(e):
                return [go(i) for i in e]
            return fn(e if isinstance(e, Value) else as_values(e))
        return go(x)


class Identity(_Elementwise):
    """Returns its input unchanged (no nodes)."""
    op = None

    def forward(self, x):
        return x


class ReLU(_Elementwise):
    """max(0, x) element-wise; derivative ``kink`` at 0 (0 as in PyTorch; some textbooks
    take 1)."""

    def __init__(self, kink: float = 0.0, name: str | None = None) -> None:
        super().__init__(name)
        ops.relu(kink)  # refuses a bool, a non-number, NaN or infinity, naming the parameter
        self.kink = float(kink)

    @property
    def op(self):
        return ops.relu(self.kink)

    def extra_repr(self):
        return "" if self.kink == 0.0 else f"kink={self.kink}"


class LeakyReLU(_Elementwise):
    """x for x > 0 else alpha x; derivative at 0 is ``kink`` (``alpha`` by default)."""

    def __init__(self, alpha: float = 0.01, kink: float | None = None,
                 name: str | None = None) -> None:
        super().__init__(name)
        ops.leaky_relu(alpha, kink)  # refuses a bool, a non-number, NaN or infinity
        self.alpha = float(alpha)
        self.kink = None if kink is None else float(kink)

    @property
    def op(self):
        return ops.leaky_relu(self.alpha, self.kink)

    def extra_repr(self):
        return f"alpha={self.alpha}" + ("" if self.kink is None else f", kink={self.kink}")


class Sigmoid(_Elementwise):
    """1 / (1 + e^-x) element-wise."""

    op = ops.SIGMOID


class Tanh(_Elementwise):
    """tanh x element-wise."""

    op = ops.TANH


class Softplus(_Elementwise):
    """log(1 + e^x) element-wise."""

    op = ops.SOFTPLUS


class Swish(_Elementwise):
    """x sigmoid(beta x) element-wise (SiLU for beta = 1)."""

    def __init__(self, beta: float = 1.0, name: str | None = None) -> None:
        super().__init__(name)
        ops.swish(beta)  # refuses a bool, a non-number, NaN or infinity
        self.beta = float(beta)

    @property
    def op(self):
        return ops.swish(self.beta)

    def extra_repr(self):
        return f"beta={self.beta}"


# ---- convolution and pooling ---------------------------------------------------------------

def _conv_out(n: int, k: int, s: int, p: int) -> int:
    return (n + 2 * p - k) // s + 1


class Conv2d(Module):
    """2-D convolution (cross-correlation) over a channels x height x width input:

    ``y[f][i][j] = b[f] + sum_c sum_m sum_n W[f][c][m][n] * x[c][i*s + m - p][j*s + n - p]``

    with zero padding ``p`` (padded zeros add no nodes). Output size
    ``floor((H + 2p - k) / s) + 1`` per side.

    Args:
        in_channels, out_channels: channel counts.
        kernel_size, stride, padding: an int or an (height, width) pair.
        bias: one bias per output channel.
        init: initialiser name or function (fan_in = in_channels * kh * kw); biases start at 0.
        rng: seed or generator.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, init="xavier_uniform", rng=None,
                 name: str | None = None) -> None:
        super().__init__(name)
        for what, n in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"Conv2d: {what} must be a positive int, got {n!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"Conv2d: need kernel_size >= 1, stride >= 1, padding >= 0; got "
                             f"{kernel_size!r}, {stride!r}, {padding!r}")
        kh, kw = self.kernel_size
        w = _init.initialise(init, (out_channels, in_channels, kh, kw), rng)
        self.weight = [[[[Value(w[f][c][m][n], label=f"K[{f + 1},{c + 1},{m + 1},{n + 1}]")
                          for n in range(kw)] for m in range(kh)]
                        for c in range(in_channels)] for f in range(out_channels)]
        self.bias = ([Value(0.0, label=f"b[{f + 1}]") for f in range(out_channels)]
                     if bias else None)

    @classmethod
    def from_weights(cls, W, b=None, stride=1, padding=0, name: str | None = None) -> "Conv2d":
        """A Conv2d with given kernels ``W[f][c][m][n]`` (numbers or Values) and biases."""
        shape = shape_of(W)
        if len(shape) != 4 or 0 in shape:
            raise ValueError(f"Conv2d.from_weights: W must be out x in x kh x kw, got shape "
                             f"{fmt_shape(shape)}")
        if b is not None and (not is_seq(b) or len(b) != shape[0]):
            raise ValueError(f"Conv2d.from_weights: b must hold {shape[0]} biases, got {b!r}")
        self = cls(shape[1], shape[0], (shape[2], shape[3]), stride, padding,
                   bias=b is not None, init="zeros", name=name)
        self.weight = _values(W, None, "Conv2d.from_weights")
        if b is not None:
            self.bias = _values(list(b), None, "Conv2d.from_weights")
        return self

    def output_shape(self, input_shape: Shape) -> Shape:
        s = tuple(input_shape)
        if len(s) != 3 or s[0] != self.in_channels:
            raise ValueError(f"{self.display_name}: expected an input of shape "
                             f"{self.in_channels}xHxW, got {fmt_shape(s)}")
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        ho, wo = _conv_out(s[1], kh, sh, ph), _conv_out(s[2], kw, sw, pw)
        if ho < 1 or wo < 1:
            raise ValueError(f"{self.display_name}: input {fmt_shape(s)} is smaller than the "
                             f"kernel {kh}x{kw} (padding {ph}x{pw})")
        return (self.out_channels, ho, wo)

    def _one(self, x) -> list:
        _, Ho, Wo = self.output_shape(shape_of(x))
        H, Wd = len(x[0]), len(x[0][0])
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        cin = self.in_channels
        out = []
        for f in range(self.out_channels):
            Wf = self.weight[f]
            bf = self.bias[f] if self.bias is not None else None
            plane = []
            for i in range(Ho):
                row_out = []
                r0 = i * sh - ph
                for j in range(Wo):
                    c0 = j * sw - pw
                    acc = None
                    for c in range(cin):
                        Xc, Wfc = x[c], Wf[c]
                        for m in range(kh):
                            r = r0 + m
                            if r < 0 or r >= H:
                                continue
                            xrow, wrow = Xc[r], Wfc[m]
                            for n in range(kw):
                                col = c0 + n
                                if 0 <= col < Wd:
                                    t = wrow[n] * xrow[col]
                                    acc = t if acc is None else acc + t
                    if bf is not None:
                        acc = bf * 1.0 if acc is None else acc + bf
                    elif acc is None:
                        acc = Value(0.0)
                    row_out.append(acc)
                plane.append(row_out)
            out.append(plane)
        return out

    def forward(self, x):
        samples, batch = _split_batch(self, x, 3)
        out = [self._one(as_values(s)) for s in samples]
        return out if batch else out[0]

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")


class _Pool2d(Module):
    _kind = ""

    def __init__(self, kernel_size, stride=None, name: str | None = None) -> None:
        super().__init__(name)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")
        if min(self.kernel_size) < 1 or min(self.stride) < 1:
            raise ValueError(f"{type(self).__name__}: kernel_size and stride must be >= 1, "
                             f"got {kernel_size!r}, {stride!r}")

    def output_shape(self, input_shape: Shape) -> Shape:
        s = tuple(input_shape)
        if len(s) != 3:
            raise ValueError(f"{self.display_name}: expected an input of shape CxHxW, got "
                             f"{fmt_shape(s)}")
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        ho, wo = _conv_out(s[1], kh, sh, 0), _conv_out(s[2], kw, sw, 0)
        if ho < 1 or wo < 1:
            raise ValueError(f"{self.display_name}: input {fmt_shape(s)} is smaller than the "
                             f"window {kh}x{kw}")
        return (s[0], ho, wo)

    def _reduce(self, window: list) -> Value:
        raise NotImplementedError

    def _one(self, x) -> list:
        C, Ho, Wo = self.output_shape(shape_of(x))
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return [[[self._reduce([x[c][i * sh + m][j * sw + n]
                                for m in range(kh) for n in range(kw)])
                  for j in range(Wo)] for i in range(Ho)] for c in range(C)]

    def forward(self, x):
        samples, batch = _split_batch(self, x, 3)
        out = [self._one(as_values(s)) for s in samples]
        return out if batch else out[0]

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class MaxPool2d(_Pool2d):
    """The maximum of each window (stride = kernel size by default, no padding). The gradient
    goes to the window's largest input; on a tie, to the first in row-major order (as
    PyTorch does).

    The window is reduced with a chain of ``maximum(acc, v, tie=1.0)`` nodes (a tie goes
    wholly to ``acc``, the earlier entries), never with Python's ``max()`` on ``.data``, so the
    graph has the same structure for any input and can be replayed on new values
    (:mod:`microgradnet.replay`)."""

    def _reduce(self, window):
        acc = window[0]
        for v in window[1:]:
            acc = maximum(acc, v, tie=1.0)
        return acc


class AvgPool2d(_Pool2d):
    """The mean of each window (stride = kernel size by default, no padding)."""

    def _reduce(self, window):
        return F.sum(window) / len(window)


class Flatten(Module):
    """A channels x height x width sample (or any ``sample_dims``-deep nesting) as one flat
    list in row-major order (channel, then row, then column), like ``torch.flatten``.

    Args:
        sample_dims: how deeply one sample is nested (3 for images); one level more is a batch.
    """

    def __init__(self, sample_dims: int = 3, name: str | None = None) -> None:
        super().__init__(name)
        self.sample_dims = sample_dims

    def forward(self, x):
        samples, batch = _split_batch(self, x, self.sample_dims)
        out = [flatten(s) for s in samples]
        return out if batch else out[0]

    def output_shape(self, input_shape: Shape) -> Shape:
        n = 1
        for d in input_shape:
            n *= d
        return (n,)


# ---- batch norm ----------------------------------------------------------------------------

class _BatchNorm(Module):
    _buffers = ("running_mean", "running_var")
    _sample_depth = 1

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 name: str | None = None) -> None:
        super().__init__(name)
        if isinstance(num_features, bool) or not isinstance(num_features, int) \
                or num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, "
                             f"got {num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, float(eps), float(momentum)
        self.weight = ([Value(1.0, label=f"gamma[{c + 1}]") for c in range(num_features)]
                       if affine else None)
        self.bias = ([Value(0.0, label=f"beta[{c + 1}]") for c in range(num_features)]
                     if affine else None)
        self.track_running_stats = track_running_stats
        self.running_mean = [0.0] * num_features
        self.running_var = [1.0] * num_features
        self.num_batches_tracked = 0
        self._batch_stats: list = []

    @property
    def batch_stats(self) -> list:
        """``(mean, var, n)`` per feature of the last pass that used batch statistics: the
        batch mean and biased variance as nodes of that graph, and the number of values
        ``n`` behind them (empty in eval mode). A replayed training graph does not update the
        running statistics; evaluating these nodes on the training batches gives them (see
        :func:`microgradnet.training.fit_batchnorm`)."""
        return list(self._batch_stats)

    def _normalise(self, c: int, xs: list) -> list:
        """Normalise the list ``xs`` of one feature's values over the batch."""
        g = self.weight[c] if self.weight is not None else None
        b = self.bias[c] if self.bias is not None else None
        n = len(xs)
        if self.training or not self.track_running_stats:
            if n < 2:
                raise ValueError(f"{self.display_name}: training mode needs more than one "
                                 f"value per channel to compute batch statistics, got {n}")
            mu = F.sum(xs) / n
            d = [x - mu for x in xs]
            var = F.sum([e * e for e in d]) / n
            std = (var + self.eps).sqrt()
            xhat = [e / std for e in d]
            self._batch_stats.append((mu, var, n))
            if self.training and self.track_running_stats:
                m = self.momentum
                self.running_mean[c] = (1 - m) * self.running_mean[c] + m * mu.data
                self.running_var[c] = ((1 - m) * self.running_var[c]
                                       + m * var.data * n / (n - 1))
        else:
            mu, inv = self.running_mean[c], 1.0 / math.sqrt(self.running_var[c] + self.eps)
            xhat = [(x - mu) * inv for x in xs]
        if g is not None:
            return [g * h + b for h in xhat]
        return xhat

    def _check(self, samples):
        raise NotImplementedError

    def _begin(self, samples: list) -> list:
        """A new forward pass over checked samples: them as Values, fresh batch statistics,
        and (in training) the batch counted."""
        samples = [as_values(s) for s in samples]
        self._batch_stats = []
        if self.training:
            self.num_batches_tracked += 1
        return samples

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of a batch of feature vectors (N samples x num_features):

    ``y = gamma * (x - mu) / sqrt(var + eps) + beta`` per feature, with the batch mean and
    the biased batch variance in training mode, and the running estimates in eval mode
    (updated as ``r <- (1 - momentum) r + momentum * batch stat``, with the unbiased variance,
    as PyTorch does). A single sample in eval mode is allowed.
    """

    def forward(self, x):
        samples, batch = _split_batch(self, x, 1)
        nf = self.num_features
        for s in samples:
            if len(s) != nf:
                raise ValueError(f"{self.display_name}: expected samples of shape {nf}, got "
                                 f"{fmt_shape(shape_of(s))}")
        samples = self._begin(samples)
        cols = [self._normalise(c, [s[c] for s in samples]) for c in range(nf)]
        out = [[cols[c][i] for c in range(nf)] for i in range(len(samples))]
        return out if batch else out[0]

    def output_shape(self, input_shape: Shape) -> Shape:
        if tuple(input_shape) != (self.num_features,):
            raise ValueError(f"{self.display_name}: expected an input of shape "
                             f"{self.num_features}, got {fmt_shape(input_shape)}")
        return tuple(input_shape)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation per channel of a batch of C x H x W images: statistics over the
    batch and both spatial axes (N * H * W values per channel); otherwise as BatchNorm1d."""

    def forward(self, x):
        samples, batch = _split_batch(self, x, 3)
        shape = shape_of(samples[0])
        if shape[0] != self.num_features:
            raise ValueError(f"{self.display_name}: expected {self.num_features} channels, "
                             f"got an input of shape {fmt_shape(shape)}")
        for s in samples:
            if shape_of(s) != shape:
                raise ValueError(f"{self.display_name}: images of different shapes in one "
                                 f"batch: {fmt_shape(shape)} and {fmt_shape(shape_of(s))}")
        samples = self._begin(samples)
        C, H, W = shape
        out = [[[[None] * W for _ in range(H)] for _ in range(C)] for _ in samples]
        for c in range(C):
            flat = [s[c][i][j] for s in samples for i in range(H) for j in range(W)]
            ys = iter(self._normalise(c, flat))
            for s_out in out:
                plane = s_out[c]
                for i in range(H):
                    row = plane[i]
                    for j in range(W):
                        row[j] = next(ys)
        return out if batch else out[0]

    def output_shape(self, input_shape: Shape) -> Shape:
        s = tuple(input_shape)
        if len(s) != 3 or s[0] != self.num_features:
            raise ValueError(f"{self.display_name}: expected an input of shape "
                             f"{self.num_features}xHxW, got {fmt_shape(s)}")
        return s


# ---- dropout -------------------------------------------------------------------------------

class Dropout(Module):
    """Inverted dropout. ``p`` is the probability of DROPPING an entry (PyTorch's meaning).

    Training: each entry is kept with probability ``1 - p`` and scaled by ``1 / (1 - p)``, so
    ``y = x * m`` with ``m`` in {0, 1/(1-p)} and E[y] = x; the backward pass multiplies the
    gradient by the same mask (seed 003, S3-Q1.3). Eval: the identity. (Seed 003, S3-Q7.2,
    describes the non-inverted form with a keep probability ``q``: scale by ``q`` at test time
    instead; both give the same expected output.)

    Each multiplier is a leaf ``Value`` of the graph (labelled ``mask``), not a constant, so a
    graph recorded once with :func:`microgradnet.replay.compile_graph` can be fed a new mask
    every step: list :attr:`mask_leaves` among its leaves and feed them :meth:`draw_mask`.

    Args:
        p: drop probability in [0, 1].
        rng: seed or generator for the masks.

    Attributes:
        mask: the multipliers (floats) of the last training pass, in the input's shape.
        mask_leaves: the leaves holding them, flat in row-major order.

    Example:
        >>> drop = Dropout(0.5, rng=0)
        >>> y = drop([1.0, 2.0, 3.0])
        >>> [m.data for m in drop.mask_leaves] == drop.mask and set(drop.mask) <= {0.0, 2.0}
        True
    """

    def __init__(self, p: float = 0.5, rng=None, name: str | None = None) -> None:
        super().__init__(name)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p (the drop probability) must be in [0, 1], got {p!r}")
        self.p = float(p)
        self._rng = _init.get_rng(rng)
        self.mask = None
        self._mask_leaves: list = []

    @property
    def mask_leaves(self) -> list:
        """The mask leaves of the last training pass (flat, row-major); empty before one."""
        return list(self._mask_leaves)

    def _draw(self) -> float:
        keep = 1.0 - self.p
        return (1.0 / keep if keep > 0 else 0.0) if self._rng.random() < keep else 0.0

    def draw_mask(self) -> list:
        """New multipliers for :attr:`mask_leaves`, in their order, from the layer's generator
        (0 with probability ``p``, ``1 / (1 - p)`` otherwise), to feed a replayed graph. The
        leaves themselves are not changed.

        Returns:
            A list of floats, one per mask leaf.
        """
        return [self._draw() for _ in self._mask_leaves]

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        leaves: list = []

        def go(e):
            if is_seq(e):
                pairs = [go(i) for i in e]
                return [a for a, _ in pairs], [m for _, m in pairs]
            m = self._draw()
            leaf = Value(m, label="mask")
            leaves.append(leaf)
            v = e if isinstance(e, Value) else as_values(e)
            return v * leaf, m
        out, self.mask = go(x)
        self._mask_leaves = leaves
        return out

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ---- summary -------------------------------------------------------------------------------

class SummaryRow(tuple):
    """``(name, output_shape, params)`` for one layer."""
    __slots__ = ()

    def __new__(cls, name: str, output_shape: Shape, params: int):
        return super().__new__(cls, (name, tuple(output_shape), params))

    name = property(lambda self: self[0])
    output_shape = property(lambda self: self[1])
    params = property(lambda self: self[2])


class Summary(list):
    """The rows of :func:`summary`; ``str()`` gives a table."""

    def __init__(self, rows, input_shape: Shape, channels_last: bool = False) -> None:
        super().__init__(rows)
        self.input_shape = tuple(input_shape)
        self.channels_last = channels_last

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self)

    def format_shape(self, shape: Shape) -> str:
        """``CxHxW``, or ``HxWxC`` for a summary made with ``channels_last=True``."""
        shape = tuple(shape)
        if self.channels_last and len(shape) == 3:
            shape = shape[1:] + shape[:1]
        return fmt_shape(shape)

    def table(self) -> str:
        rows = [("Input", self.format_shape(self.input_shape), "")]
        rows += [(r.name, self.format_shape(r.output_shape), str(r.params)) for r in self]
        rows.append(("Total", "", str(self.total_params)))
        head = ("Layer", "Output shape" + (" (HxWxC)" if self.channels_last else ""),
                "Parameters")
        widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(3)]
        line = "-" * (sum(widths) + 6)
        fmt = lambda r: f"{r[0]:<{widths[0]}}   {r[1]:<{widths[1]}}   {r[2]:>{widths[2]}}"
        return "\n".join([fmt(head), line] + [fmt(r) for r in rows[:-1]] + [line, fmt(rows[-1])])

    def __str__(self) -> str:
        return self.table()


def summary(model: Module, input_shape: Shape, channels_last: bool = False) -> Summary:
    """Each layer's output shape and parameter count for one input of ``input_shape``,
    computed from the layers' shapes alone (nothing is run, so large inputs are instant).

    Args:
        model: a Sequential, an MLP (one row per layer) or any module (one row).
        input_shape: one sample's shape: ``(C, H, W)`` for images, ``(n,)`` for vectors.
        channels_last: print image shapes as HxWxC (the textbook's ``31x31x5``); the rows
            always hold ``(C, H, W)``.

    Returns:
        A :class:`Summary`: a list of ``(name, output_shape, params)`` rows; print it for a
        table.

    Example:
        >>> s = summary(Sequential(Conv2d(1, 5, 4, stride=2, rng=0), MaxPool2d(3)), (1, 64, 64))
        >>> [(r.output_shape, r.params) for r in s]
        [((5, 31, 31), 85), ((5, 10, 10), 0)]
    """
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    layers = getattr(model, "layers", None)
    if not (isinstance(layers, list) and layers and all(isinstance(m, Module) for m in layers)):
        layers = [model]
    rows = []
    shape = tuple(input_shape)
    for i, m in enumerate(layers, 1):
        shape = m.output_shape(shape)
        rows.append(SummaryRow(m.name or f"{type(m).__name__}-{i}", shape, m.num_parameters()))
    return Summary(rows, input_shape, channels_last)
