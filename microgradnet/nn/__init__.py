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

The layers live one concept per module (``module``, ``neurons``, ``linear``, ``activations``,
``conv``, ``batchnorm``, ``dropout``, ``summary``, ``parameter``, ``losses``); every public name
is here, and ``nn.init`` is :mod:`microgradnet.init`, as ``torch.nn.init`` is.
Compared with PyTorch, see docs/pytorch.md.

Example:
    >>> from microgradnet.nn import MLP
    >>> model = MLP(2, [4, 1], rng=0)
    >>> y = model([1.0, -2.0])        # a list of one Value: a layer of one unit stays a list
    >>> len(y), len(model.parameters())
    (1, 17)
"""
from .. import init
from ..nested import shape_of
from .activations import (Elementwise, Identity, LeakyReLU, ReLU, Sigmoid, SiLU, Softplus,
                          Swish, Tanh)
from .batchnorm import BatchNorm1d, BatchNorm2d
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from .dropout import Dropout
from .linear import Linear
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .module import IncompatibleKeys, Module, Sequential, Shape
from .parameter import Parameter
from .neurons import MLP, Layer, Neuron
from .summary import Summary, SummaryRow, summary

__all__ = [
    "Module", "Sequential", "Neuron", "Layer", "MLP", "Linear", "Elementwise", "Identity", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "Softplus", "Swish", "Conv2d", "MaxPool2d", "AvgPool2d",
    "Flatten", "BatchNorm1d", "BatchNorm2d", "Dropout", "summary", "Summary", "SummaryRow",
    "shape_of", "Shape", "Parameter", "SiLU", "IncompatibleKeys", "MSELoss", "L1Loss",
    "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "init",
]
