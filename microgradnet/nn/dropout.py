"""Dropout as multiplication by mask leaves, so a replay can feed it new masks.
"""
from __future__ import annotations

from .. import init as _init
from ..engine import Value
from ..nested import as_values, is_seq
from .module import Module


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
        # Drawn by each forward in training, nested as the input (a float for one Value).
        self.mask: list | float | None = None
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
        leaves = []                 # the mask leaves, in the order of the input

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
