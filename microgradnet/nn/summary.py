"""A table of a model's layers, output shapes and parameter counts.
"""
from __future__ import annotations

from ..nested import fmt_shape
from .module import Module, Shape


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

        def fmt(r: tuple) -> str:
            return f"{r[0]:<{widths[0]}}   {r[1]:<{widths[1]}}   {r[2]:>{widths[2]}}"

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
        >>> from microgradnet.nn import Conv2d, MaxPool2d, Sequential
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
