"""micrograd's ``Value`` (data, grad, ``_prev``, ``_op``, ``backward``) on microgradnet nodes.

Example (micrograd's README):
    >>> a = Value(-4.0); b = Value(2.0)
    >>> c = a + b; d = a * b + b**3
    >>> c += c + 1; c += 1 + c + (-a)
    >>> d += d * 2 + (b + a).relu(); d += 3 * d + (b - a).relu()
    >>> e = c - d; f = e**2; g = f / 2.0; g += 10.0 / f
    >>> g.backward()
    >>> f"{g.data:.4f} {a.grad:.4f} {b.grad:.4f}"
    '24.7041 138.8338 645.5773'
"""
from __future__ import annotations

from .. import engine as _engine

__all__ = ["Value"]

_new = object.__new__


class Value:
    """A scalar with micrograd's interface; ``node`` is the microgradnet Value behind it.

    ``_prev`` is built on demand from two slots (an op has one or two operands): a set per
    node made the garbage collector scan three objects per node while a graph is built.

    Args:
        data: a real number (NaN and infinity are refused, as everywhere in microgradnet).
        _children, _op: micrograd's internal arguments, accepted so that code calling
            ``Value(x, (a, b), '+')`` keeps its signature; the node is a leaf either way
            (only operators record operations).
    """

    __slots__ = ("node", "_op", "_a", "_b", "_more")

    def __init__(self, data, _children=(), _op: str = "") -> None:
        if isinstance(data, (Value, _engine.Value)):
            raise TypeError(f"Value: data must be a number, got a {type(data).__name__}; use "
                            "the Value itself")
        self.node = _engine.Value(data)
        self._op = _op
        self._a: "Value | None" = None
        self._b: "Value | None" = None
        self._more: "tuple | None" = tuple(_children) or None

    @staticmethod
    def _of(node: _engine.Value, a: "Value", b: "Value | None", op: str) -> "Value":
        out = _new(Value)
        out.node = node
        out._op = op
        out._a = a
        out._b = b
        out._more = None
        return out

    @property
    def _prev(self) -> set:
        """The operands of the op that made this node (micrograd's set; empty for a leaf)."""
        if self._more is not None:
            return set(self._more)
        return {v for v in (self._a, self._b) if v is not None}

    # ---- micrograd's data and grad --------------------------------------------------------
    @property
    def data(self) -> float:
        return self.node.data

    @data.setter
    def data(self, x) -> None:
        self.node.data = x

    @property
    def grad(self) -> float:
        return self.node.grad

    @grad.setter
    def grad(self, x) -> None:
        self.node.grad = x

    # ---- micrograd's primitives: +, *, ** number, relu -----------------------------------
    def __add__(self, other) -> "Value":
        other = other if isinstance(other, Value) else Value(other)
        return Value._of(self.node + other.node, self, other, "+")

    def __mul__(self, other) -> "Value":
        other = other if isinstance(other, Value) else Value(other)
        return Value._of(self.node * other.node, self, other, "*")

    def __pow__(self, other) -> "Value":
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            raise TypeError(f"Value ** {type(other).__name__}: micrograd supports only int and "
                            "float powers")
        return Value._of(self.node ** other, self, None, f"**{other}")

    def relu(self) -> "Value":
        return Value._of(self.node.relu(), self, None, "ReLU")

    def tanh(self) -> "Value":
        """tanh, as in the micrograd of the lecture "The spelled-out intro to neural nets"."""
        return Value._of(self.node.tanh(), self, None, "tanh")

    def exp(self) -> "Value":
        return Value._of(self.node.exp(), self, None, "exp")

    def backward(self) -> None:
        """Fill ``.grad`` of every node by the chain rule (leaves accumulate, as in
        micrograd; the walk is iterative, so any depth works)."""
        self.node.backward()

    # ---- built from the primitives, exactly as micrograd builds them ---------------------
    def __neg__(self) -> "Value":
        return self * -1

    def __radd__(self, other) -> "Value":
        return self + other

    def __sub__(self, other) -> "Value":
        return self + (-other)

    def __rsub__(self, other) -> "Value":
        return other + (-self)

    def __rmul__(self, other) -> "Value":
        return self * other

    def __truediv__(self, other) -> "Value":
        return self * other**-1

    def __rtruediv__(self, other) -> "Value":
        return other * self**-1

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"
