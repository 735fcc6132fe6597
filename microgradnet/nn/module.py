"""The base of every layer: ``Module`` (registered parameters and buffers, training mode,
state dicts, the scope that groups a layer's nodes in pictures), ``Sequential``, and the checks
of input shapes that layers share.
"""
from __future__ import annotations

import reprlib
from typing import Iterator, Mapping, NamedTuple

from .._checks import check_number
from ..engine import Value, no_gc, scope
from ..nested import depth_of, flatten, fmt_shape, is_seq, shape_of
from .parameter import Parameter, holds_parameter


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
        v = Parameter(data)
    if labels is not None:
        if not isinstance(labels, str):
            raise TypeError(f"{where}: a label must be a str, got {labels!r}")
        v.label = labels
    return v


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns (``torch.nn.modules.module``'s fields)."""
    missing_keys: list
    unexpected_keys: list


def _plain(x, where: str):
    """A state-dict entry as nested lists of floats (numbers, nested lists, or anything with
    ``tolist()``: NumPy arrays, torch tensors); refuses non-numbers and NaN/infinity."""
    if hasattr(x, "tolist") and not isinstance(x, (int, float)):
        x = x.tolist()
    if isinstance(x, Value):
        x = x.data
    if is_seq(x):
        return [_plain(e, where) for e in x]
    if isinstance(x, (bool, str, bytes, complex)) or not (
            isinstance(x, (int, float)) or hasattr(x, "__float__")):
        raise TypeError(f"load_state_dict: {where} must hold numbers, got "
                        f"{type(x).__name__}: {reprlib.repr(x)}")
    try:  # as Value() takes numbers: Fraction and Decimal too, NaN, inf and huge ints not
        number = check_number(x, f"load_state_dict: {where}")
        return x if isinstance(x, int) else number  # an int stays one (num_batches_tracked)
    except ValueError:
        raise ValueError(f"load_state_dict: {where} holds {reprlib.repr(x)}, not a finite "
                         "number") from None


def _data_of(obj):
    """Nested lists of Values (or numbers) as nested lists of their floats."""
    if is_seq(obj):
        return [_data_of(e) for e in obj]
    return obj.data if isinstance(obj, Value) else obj


def _values_in(obj) -> list:
    stack, out = [obj], []
    while stack:
        o = stack.pop()
        if isinstance(o, Value):
            out.append(o)
        elif is_seq(o):
            stack.extend(reversed(o))
    return out


class Module:
    """Base class of every layer and model, with PyTorch's vocabulary.

    Registration follows PyTorch: a :class:`Parameter` (or nested lists of them) assigned to
    an attribute is a parameter, :meth:`register_parameter` registers any Values explicitly,
    :meth:`register_buffer` registers state that is saved but not learnt (batch norm's running
    statistics), and Modules (or lists of them) assigned to attributes are sub-modules. A plain
    ``Value`` stored on ``self`` (say, cached in ``forward``) is none of these.

    Attributes:
        training: True in training mode (batch norm uses batch statistics, dropout drops),
            False after :meth:`eval`.
        name: the label of the ``scope`` box the module's nodes are drawn in (the class name
            by default; containers name their children ``layer1``, ``Conv2d-1`` ...).

    Example:
        >>> class Scale(Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.a = Parameter(2.0, label="a")
        ...     def forward(self, x):
        ...         self.last = self.a * x          # a cached Value: not a parameter
        ...         return self.last
        >>> m = Scale(); m(3.0).data
        6.0
        >>> [n for n, _ in m.named_parameters()], list(m.state_dict())
        (['a'], ['a'])
    """
    training: bool = True
    name: str | None = None

    def __init__(self, name: str | None = None) -> None:
        object.__setattr__(self, "_param_names", [])
        object.__setattr__(self, "_buffer_names", {})
        self.training = True
        self.name = name

    # ---- registration ----
    def _registry(self) -> tuple:
        d = self.__dict__
        if "_param_names" not in d:       # a subclass that did not call Module.__init__
            object.__setattr__(self, "_param_names", [])
            object.__setattr__(self, "_buffer_names", {})
        return d["_param_names"], d["_buffer_names"]

    def __setattr__(self, name: str, value) -> None:
        if not name.startswith("_"):
            params, buffers = self._registry()
            if holds_parameter(value):
                if name not in params:
                    params.append(name)
            elif name in params and value is not None and not _values_in(value):
                params.remove(name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        params, buffers = self._registry()
        if name in params:
            params.remove(name)
        buffers.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, value) -> None:
        """Register ``value`` (a Value, nested lists of Values, or None) as the parameter
        ``name``, whatever the Values' type (``from_weights`` registers the Values it is
        given, so they keep their identity and labels)."""
        if not isinstance(name, str) or not name or "." in name or name.startswith("_"):
            raise ValueError(f"register_parameter: bad name {name!r}")
        if value is not None and (not _values_in(value) or
                                  any(not isinstance(v, Value) for v in flatten(value))):
            raise TypeError(f"register_parameter: {name!r} must be a Value, nested lists of "
                            f"Values, or None, got {type(value).__name__}")
        if value is not None and any(not v.is_leaf for v in flatten(value)):
            # An op node's value is its op's result: loading or stepping could not assign it.
            raise ValueError(f"register_parameter: {name!r} holds an op node; a parameter "
                             "must be a leaf (a Parameter or a Value made from a number)")
        params, _ = self._registry()
        object.__setattr__(self, name, value)
        if name not in params:
            params.append(name)

    def register_buffer(self, name: str, value, persistent: bool = True) -> None:
        """Register ``value`` (a number, nested lists of numbers, or None) as the buffer
        ``name``: kept in :meth:`state_dict` (unless ``persistent=False``), never learnt."""
        if not isinstance(name, str) or not name or "." in name or name.startswith("_"):
            raise ValueError(f"register_buffer: bad name {name!r}")
        if value is not None:
            value = _plain(value, f"buffer {name!r}")
        _, buffers = self._registry()
        object.__setattr__(self, name, value)
        buffers[name] = bool(persistent)

    # ---- calling ----
    @property
    def display_name(self) -> str:
        return self.name or type(self).__name__

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def __call__(self, *args, **kwargs):
        # The scope groups the module's nodes in pictures; no_gc() spares the forward pass the
        # collector's rescans of a graph that has no cycles (a third or more of its time).
        with scope(self.display_name), no_gc():
            return self.forward(*args, **kwargs)

    def output_shape(self, input_shape: Shape) -> Shape:
        """The shape of the output for an input of ``input_shape`` (one sample), without
        running the layer. Element-wise modules keep the shape."""
        return tuple(input_shape)

    # ---- walking ----
    def _members(self) -> Iterator[tuple]:
        for k, v in vars(self).items():
            if not k.startswith("_") and k not in ("training", "name"):
                yield k, v

    def named_children(self) -> list:
        """``(attribute name, Module)`` for every direct sub-module (``"layers.0"`` for the
        first of a list)."""
        out = []
        for k, v in self._members():
            if isinstance(v, Module):
                out.append((k, v))
            elif is_seq(v):
                stack = [(k, v)]
                found = []
                while stack:
                    path, o = stack.pop()
                    if isinstance(o, Module):
                        found.append((path, o))
                    elif is_seq(o):
                        stack.extend(reversed([(f"{path}.{i}", e) for i, e in enumerate(o)]))
                out.extend(found)
        return out

    def children(self) -> list:
        return [m for _, m in self.named_children()]

    def named_modules(self, prefix: str = "") -> list:
        """``(dotted name, Module)`` for this module (named ``prefix``, ``""`` by default) and
        every module inside it, depth first, each once."""
        out, seen, stack = [], set(), [(prefix, self)]
        while stack:
            path, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            out.append((path, m))
            stack.extend(reversed([(f"{path}.{k}" if path else k, c)
                                   for k, c in m.named_children()]))
        return out

    def modules(self) -> list:
        """This module and every module inside it, depth first."""
        return [m for _, m in self.named_modules()]

    def apply(self, fn) -> "Module":
        """Call ``fn(module)`` on every sub-module, then on this one (PyTorch's order, e.g.
        to initialise weights); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _own_parameters(self) -> Iterator[tuple]:
        params, _ = self._registry()
        for k in params:
            v = self.__dict__.get(k)
            if v is not None:
                yield k, v

    def named_parameters(self, prefix: str = "") -> list:
        """``(dotted name, Value)`` for every parameter, one per scalar, in assignment order,
        each once (``"layers.0.neurons.1.w.0"``, ``"weight.1.0"``)."""
        out: list = []
        seen: set = set()

        def walk(path: str, obj) -> None:
            stack = [(path, obj)]
            while stack:
                p, o = stack.pop()
                if isinstance(o, Value):
                    if o not in seen:
                        seen.add(o)
                        out.append((p, o))
                elif is_seq(o):
                    stack.extend(reversed([(f"{p}.{i}", e) for i, e in enumerate(o)]))

        for mpath, m in self.named_modules(prefix):
            for k, v in m._own_parameters():
                walk(f"{mpath}.{k}" if mpath else k, v)
        return out

    def parameters(self) -> list:
        """Every parameter Value (micrograd's order for Neuron/Layer/MLP: weights, then bias)."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix: str = "") -> list:
        """``(dotted name, value)`` for every buffer (running statistics ...)."""
        out = []
        for mpath, m in self.named_modules(prefix):
            _, buffers = m._registry()
            for k in buffers:
                v = m.__dict__.get(k)
                if v is not None:
                    out.append((f"{mpath}.{k}" if mpath else k, v))
        return out

    def buffers(self) -> list:
        return [b for _, b in self.named_buffers()]

    def num_parameters(self) -> int:
        return len(self.parameters())

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's ``.grad`` to 0.0. The engine has no ``None`` gradient
        (every node holds a float), so ``set_to_none`` is accepted and gives 0.0 as well."""
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

    # ---- state dicts ----
    def _state_entries(self) -> list:
        """``(key, module, attribute, kind)`` for every entry of the state dict."""
        out = []
        for mpath, m in self.named_modules():
            pre = f"{mpath}." if mpath else ""
            for k, _ in m._own_parameters():
                out.append((pre + k, m, k, "parameter"))
            _, buffers = m._registry()
            for k, persistent in buffers.items():
                if persistent and m.__dict__.get(k) is not None:
                    out.append((pre + k, m, k, "buffer"))
        return out

    def state_dict(self) -> dict:
        """Parameters and persistent buffers by PyTorch's keys (``"weight"``,
        ``"layers.0.bias"``, ``"running_mean"``), each as a float or nested lists of floats in
        the attribute's shape (copies: later training does not change them)."""
        return {key: _data_of(getattr(m, k)) for key, m, k, _ in self._state_entries()}

    def _check_state(self, name: str, value) -> None:
        """Refuse a value this module cannot hold (batch norm: a variance <= 0)."""

    def load_state_dict(self, state, strict: bool = True) -> IncompatibleKeys:
        """Set parameters and buffers from a :meth:`state_dict` (or a PyTorch one: tensors
        are read with ``tolist()``). Every key, shape and value is checked before anything
        changes, so a failed load leaves the module as it was.

        Args:
            state: a mapping from keys to numbers or nested lists of them.
            strict: refuse missing and unexpected keys (as PyTorch does); with False, load
                the keys that match and report the others.

        Returns:
            ``IncompatibleKeys(missing_keys, unexpected_keys)``.

        Raises:
            KeyError: ``strict`` and a key is missing or unexpected (all are named).
            ValueError: a shape differs, a value is NaN or infinite, a variance is <= 0.
            TypeError: ``state`` is not a mapping, or an entry is not numeric.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state).__name__}")
        entries = self._state_entries()
        known = {key for key, *_ in entries}
        missing = [key for key, *_ in entries if key not in state]
        unexpected = [key for key in state if key not in known]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys "
                           f"{unexpected} (pass strict=False to load the keys that match)")
        updates = []
        for key, m, k, kind in entries:
            if key not in state:
                continue
            new = _plain(state[key], repr(key))
            old = getattr(m, k)
            if shape_of(new) != shape_of(old):
                raise ValueError(f"load_state_dict: {key!r} has shape {fmt_shape(shape_of(new))}"
                                 f", the module's has {fmt_shape(shape_of(old))}")
            m._check_state(k, new)
            updates.append((m, k, kind, new))
        for m, k, kind, new in updates:
            if kind == "parameter":
                for v, x in zip(_values_in(getattr(m, k)), flatten(new)):
                    v.data = float(x)
            else:
                old = getattr(m, k)
                object.__setattr__(m, k, _like(old, new))
        return IncompatibleKeys(missing, unexpected)

    # ---- copying ----
    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

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


def _like(old, new):
    """``new`` with the number types of ``old`` (an int buffer, such as a batch count, stays
    an int; floats stay floats)."""
    if is_seq(new):
        olds = old if is_seq(old) else [old] * len(new)
        return [_like(o, n) for o, n in zip(olds, new)]
    if isinstance(old, int) and not isinstance(old, bool):
        if float(new) != int(new):
            raise ValueError(f"load_state_dict: expected a whole number, got {new!r}")
        return int(new)
    return float(new)


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
