"""Export a network to PyTorch with its weights, to carry on in a tensor library with the very
same model.

Supported: :class:`microgradnet.nn.MLP`, ``Layer``, ``Neuron``-based layers, ``Linear``, and
``Sequential`` of those with the element-wise activation modules (``ReLU``, ``Tanh``, ...,
``Identity``) and neurons with any activation the op table maps to a ``torch.nn`` module
(``Op.torch``). Needs torch (not a dependency of the package).
"""
from __future__ import annotations

__all__ = ["to_torch"]


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("export to PyTorch needs torch installed") from e
    return torch


def _linear(torch, W, b, dtype):
    nout, nin = len(W), len(W[0])
    lin = torch.nn.Linear(nin, nout, bias=b is not None, dtype=dtype)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[w.data for w in row] for row in W], dtype=dtype))
        if b is not None:
            lin.bias.copy_(torch.tensor([v.data for v in b], dtype=dtype))
    return lin


def _activation(torch, op, where: str):
    """The torch module computing the op record ``op`` (``None``: no activation), named on the
    record itself (``Op.torch``); an op PyTorch has no module for is refused, with the
    parameters that make the difference."""
    if op is None:
        return None
    if not op.torch:
        params = ", ".join(f"{k}={v}" for k, v in op.params)
        kink = dict(op.params).get("kink")
        why = (f"with derivative {kink} at 0" if kink is not None else
               f"with {params}" if params else "")
        raise ValueError(f"{where}: {op.name} {why} has no PyTorch equivalent".replace("  ", " "))
    return getattr(torch.nn, op.torch)(**dict(op.torch_args))


def _activation_op(name: str, where: str):
    from .. import functional as F
    fn = F.get_activation(name)
    if fn is not None and not hasattr(fn, "op"):
        raise ValueError(f"{where}: activation {name!r} cannot be exported to PyTorch")
    return None if fn is None else fn.op


def _convert(torch, m, dtype, where: str) -> list:
    from .. import nn as mg
    kind = type(m).__name__
    if isinstance(m, mg.Layer):
        neurons = m.neurons
        b = None if neurons[0].b is None else [n.b for n in neurons]
        mods = [_linear(torch, [n.w for n in neurons], b, dtype)]
        act = _activation(torch, _activation_op(neurons[0].activation, where), where)
        if any(n.activation != neurons[0].activation for n in neurons):
            raise ValueError(f"{where}: the neurons of one layer use different activations")
        return mods + ([act] if act is not None else [])
    if isinstance(m, mg.Linear):
        return [_linear(torch, m.weight, m.bias, dtype)]
    if isinstance(m, mg.Sequential):
        out = []
        for i, child in enumerate(m):
            out += _convert(torch, child, dtype, f"{where}[{i}]")
        return out
    if isinstance(m, mg.Identity):
        return []
    if isinstance(m, mg.Elementwise) and m.op is not None:
        return [_activation(torch, m.op, where)]
    raise TypeError(f"{where}: cannot export a {kind} to PyTorch (supported: MLP, Layer, "
                    "Linear, Sequential and element-wise activations)")


def to_torch(model, dtype=None):
    """A ``torch.nn.Sequential`` computing the same function as ``model``, with its weights.

    Layers become ``torch.nn.Linear`` (weight ``nout x nin``, row k feeding output k, as in
    :class:`microgradnet.nn.Linear`; a micrograd ``Layer``'s neuron k is row k) followed by
    the activation module. The result takes a tensor of shape ``(batch, nin)``.

    Args:
        model: a microgradnet ``MLP``, ``Layer``, ``Linear`` or ``Sequential``.
        dtype: the torch dtype of the weights (default ``torch.float64``, the engine's floats).

    Returns:
        A ``torch.nn.Sequential``.

    Raises:
        TypeError: a layer type that has no export.
        ValueError: an activation whose value or kink PyTorch does not share.

    Example:
        >>> from microgradnet.nn import MLP            # doctest: +SKIP
        >>> net = to_torch(MLP(2, [16, 16, 1], rng=0))  # doctest: +SKIP
    """
    torch = _torch()
    dtype = torch.float64 if dtype is None else dtype
    return torch.nn.Sequential(*_convert(torch, model, dtype, type(model).__name__))
