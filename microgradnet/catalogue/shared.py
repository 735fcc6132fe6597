"""What the worked examples of several seeds share: naming the nodes a library layer builds
as the seeds write them.
"""
from __future__ import annotations

from .. import ops

__all__ = ["batchnorm_nodes", "label_batchnorm"]


def batchnorm_nodes(ys: list, layer) -> dict:
    """Name the batch statistics of a one-feature batch norm as the seed does (mu, var, sigma,
    xhat[i]) and return those nodes, for outputs of the form gamma * xhat_i + beta with
    xhat_i = (X_i - mu) / sigma.

    Raises:
        RuntimeError: the layer's graph no longer has that form.
    """
    if not layer.batch_stats:
        raise RuntimeError("batch norm: no batch statistics (is the layer in eval mode?)")
    mu, var, _ = layer.batch_stats[0]
    mu.label, var.label = "mu", "var"
    xhats = []
    for i, y in enumerate(ys):
        if (y.primitive is not ops.ADD or y.parents[0].primitive is not ops.MUL
                or y.parents[0].parents[1].primitive is not ops.DIV):
            raise RuntimeError("batch norm: the outputs are not gamma * xhat + beta")
        xhat = y.parents[0].parents[1]
        xhat.label = f"xhat[{i + 1}]"
        xhats.append(xhat)
    sigma = xhats[0].parents[1]
    sigma.label = "sigma"
    return {"mu": mu, "var": var, "sigma": sigma, "xhat": xhats}


def label_batchnorm(ys: list, layer) -> None:
    """Name a one-feature batch norm's nodes as the seed does (mu, var, sigma, xhat[i]), and
    leave a graph of another form unnamed."""
    try:
        batchnorm_nodes(ys, layer)
    except RuntimeError:
        pass
