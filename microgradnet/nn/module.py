"""The base of every layer: ``Module`` (parameters, training mode, state dicts, the scope that
groups a layer's nodes in pictures), ``Sequential``, and the checks of input shapes that
layers share.
"""
from __future__ import annotations

from typing import Iterator

from ..engine import Value, scope
from ..nested import depth_of, fmt_shape, is_seq, shape_of


Shape = tuple  # a nested list's shape, as microgradnet.nested.shape_of gives it


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
