"""The dense layer ``Linear``, laid out as in PyTorch (row k of the weight feeds output k).
"""
from __future__ import annotations

from .. import init as _init
from ..nested import fmt_shape, is_seq, shape_of
from .module import Module, Shape, _split_batch, _values
from .parameter import Parameter


class Linear(Module):
    """A dense layer ``y = W x + b``: ``y_k = w_k1 x_1 + ... + w_kn x_n + b_k``.

    ``weight`` holds ``nout`` rows of ``nin`` Values (PyTorch's layout: row k feeds output k),
    ``bias`` ``nout`` Values (or None). Each output is built as the chain
    ``W[k][0]*x[0] + W[k][1]*x[1] + ... + b[k]``, the order a textbook writes it.

    Args:
        in_features, out_features: input and output sizes (PyTorch's names; the layer also
            answers to ``nin`` and ``nout``).
        bias: include the bias.
        init: an initialiser name from :mod:`microgradnet.init` (or a function
            ``init(shape, rng=...)``); biases start at 0.
        rng: seed or generator.

    Example:
        >>> lin = Linear.from_weights([[1.0, 2.0]], [0.5])
        >>> lin([3.0, 4.0])[0].data
        11.5
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 init="xavier_uniform", rng=None, name: str | None = None) -> None:
        super().__init__(name)
        nin, nout = in_features, out_features
        for what, n in (("in_features", nin), ("out_features", nout)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"Linear: {what} must be a positive int, got {n!r}")
        w = _init.initialise(init, (nout, nin), rng)
        self.weight = [[Parameter(w[k][j], label=f"W[{k + 1},{j + 1}]") for j in range(nin)]
                       for k in range(nout)]
        self.bias = [Parameter(0.0, label=f"b[{k + 1}]") for k in range(nout)] if bias else None
        self.in_features, self.out_features = nin, nout

    @property
    def nin(self) -> int:
        return self.in_features

    @property
    def nout(self) -> int:
        return self.out_features

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
        self.register_parameter("weight", _values([list(r) for r in W], w_labels,
                                                  "Linear.from_weights"))
        self.register_parameter("bias", None if b is None else
                                _values(list(b), b_labels, "Linear.from_weights"))
        self.in_features, self.out_features = nin, nout
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
