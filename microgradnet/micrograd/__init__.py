"""micrograd's interface on microgradnet's engine, for code written against micrograd 0.1.0.

Change ``from micrograd.engine import Value`` to ``from microgradnet.micrograd.engine import
Value`` (and ``micrograd.nn`` to ``microgradnet.micrograd.nn``) and micrograd's README example,
its ``demo.ipynb`` training loop and its ``trace_graph.ipynb`` ``draw_dot`` run unchanged:

- ``Value`` has micrograd's ``data``, ``grad``, ``backward()``, ``_prev`` (a set of the
  operands) and ``_op`` (``'+'``, ``'*'``, ``'**2'``, ``'ReLU'``, ``''`` for a leaf), and builds
  ``-``, ``/`` and negation from ``+``, ``*`` and ``**`` as micrograd does, so the forward pass
  gives micrograd's floats bit for bit.
- ``nn`` draws weights from the global :mod:`random` (``random.seed(1337)`` then gives
  micrograd's weights), takes ``Neuron(nin, nonlin)``, and a layer of one unit returns its Value.

Every ``Value`` is a thin wrapper of a :class:`microgradnet.Value` node, its ``.node``: pass
that to :func:`microgradnet.explain.explain` or :func:`microgradnet.viz.render`. The numbers
come from microgradnet's engine (its op records, its iterative backward pass), so graphs far
deeper than Python's recursion limit work here, where micrograd's recursive walk stops.
"""
from . import engine, nn

__all__ = ["engine", "nn"]
