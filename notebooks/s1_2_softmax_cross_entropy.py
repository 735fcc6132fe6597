# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # S1-2: softmax, cross-entropy and a LeakyReLU layer, checked by the engine
#
# Seed 001 (`001_34f8d7f6bc1ecf0d.txt`), section 2: a two-layer classifier with a LeakyReLU
# hidden layer, a softmax output and the cross-entropy loss. The claims S1-2.1 to S1-2.8 are
# shapes, the softmax Jacobian, the gradient of softmax + cross-entropy, the LeakyReLU slope
# and the overflow of the naive softmax.
#
# Every verdict below comes from the catalogue (`EXAMPLES[id].run()`); this notebook builds
# small graphs with the engine to show where the numbers come from. From the command line:
# `microgradnet show S1-2` and `microgradnet verify S1-2`.

# %%

from IPython.display import display

from microgradnet import DomainError, Value, grad, topological_order
from microgradnet import functional as F
from microgradnet.catalogue import EXAMPLES, report
from microgradnet.checks import one_sided
from microgradnet.explain import explain, explain_backward


RESULTS = {}


def verdict(claim: str):
    """Show a worked example (seed's answer, engine's, verdict) and keep its result."""
    RESULTS[claim] = report(claim)
    return RESULTS[claim]


from microgradnet import viz

# %% [markdown]
# ## Shapes (S1-2.1)
#
# With `nn.Linear(Dx, Da)` then `nn.Linear(Da, K)`, the second weight matrix is K x Da. The
# catalogue also feeds the input `x` (size Dx) to the second layer, as the seed's formula for
# `z[2]` reads, and gets a shape error whenever Dx != Da.

# %%
r = verdict("S1-2.1")

# %% [markdown]
# ## The softmax Jacobian (S1-2.2, S1-2.3)
#
# Three logits, the softmax written out node by node so that every step has a name:
# `e_i = exp(z_i)`, `S = e1 + e2 + e3`, `yhat_i = e_i / S`. With `decimals=4` every named
# node is rounded to 4 decimals and the rounded value is carried forward, as on a hand-worked
# sheet; the unrounded value is printed beside it.

# %%
z = [Value(v, label=f"z{i + 1}") for i, v in enumerate((1.0, 2.0, 0.5))]
e = [zi.exp() for zi in z]
for i, ei in enumerate(e):
    ei.label = f"e{i + 1}"
S = F.sum(e)
S.label = "S"
yhat = [ei / S for ei in e]
for i, yi in enumerate(yhat):
    yi.label = f"yhat{i + 1}"
print(explain(yhat[0], decimals=4).text())

# %% [markdown]
# `d yhat1 / d z1` has two paths, one through the numerator `e1` and one through the
# denominator `S`. Their sum is `yhat1 (1 - yhat1)`:

# %%
print(explain_backward(yhat[0], z[0], decimals=4).text())
y = [v.data for v in yhat]
print(f"\nyhat1 (1 - yhat1) = {y[0] * (1 - y[0]):.6f};  engine: {grad(yhat[0], z[0]):.6f}")

# %% [markdown]
# `d yhat1 / d z2` has one path only, through `S`, and equals `-yhat1 yhat2`:

# %%
print(explain_backward(yhat[0], z[1], decimals=4).text())
print(f"\n-yhat1 yhat2 = {-y[0] * y[1]:.6f};  engine: {grad(yhat[0], z[1]):.6f}")

# %% [markdown]
# The catalogue checks both of the seed's expressions (the quotient rule and its simplified
# form) against autodiff on every entry of the Jacobian of five random 4-logit vectors:

# %%
r22 = verdict("S1-2.2")
print()
r23 = verdict("S1-2.3")

# %%
yhat[0].zero_grad()
yhat[0].backward()
display(viz.draw(yhat[0], stage="backward", highlight=z[0],
                 title="d yhat1 / d z1: two paths, through e1 and through S"))

# %% [markdown]
# ## Softmax + cross-entropy (S1-2.4)
#
# With a one-hot target of class 2, `L = -log(yhat2)`. The chain rule through the softmax
# collapses to `yhat_i - y_i` (the first path to `z2` is exactly -1; rounded by hand it shows
# as -1.0001):

# %%
L = -yhat[1].log()
L.label = "L"
print(explain(L, wrt=z, decimals=4).select(["loss", "backward"]).text())

# %%
target = [0.0, 1.0, 0.0]
dz = grad(L, z)
for i in range(3):
    print(f"dL/dz{i + 1}: yhat{i + 1} - y{i + 1} = {y[i] - target[i]:+.6f}   "
          f"engine {dz[i]:+.6f}")

# %%
r24 = verdict("S1-2.4")

# %%
L.zero_grad()
L.backward()
display(viz.draw(L, stage="backward", highlight=z[1], color_grad=True))

# %% [markdown]
# ## The layer's Jacobian (S1-2.5)
#
# For `z[2] = W[2] a[1] + b[2]` the derivative of output unit k with respect to `a_j` is the
# single path through the product `W[2]_kj a_j`: the Jacobian is `W[2]` itself.

# %%
r25 = verdict("S1-2.5")
out = r25.graph                                     # output unit 1 of one random layer
a = {n.label: n for n in topological_order(out) if n.label.startswith("a")}
print(explain_backward(out, [a["a1"], a["a2"]], decimals=4).text())

# %% [markdown]
# ## LeakyReLU at 0 (S1-2.6)
#
# Away from 0 the slope is 1 or `alpha`; at 0 the one-sided slopes differ, so any value is a
# convention. The seed takes the right slope (1); the engine, like PyTorch, takes `alpha`
# unless `kink=1.0` is asked for.

# %%
(left, right), = one_sided(lambda v: v.leaky_relu(0.01), [0.0])
x0 = Value(0.0, label="x")
print(f"one-sided slopes at 0: left {left:.6g}, right {right:.6g}")
print(f"engine default: {grad(x0.leaky_relu(0.01), x0):g};  "
      f"kink=1.0: {grad(x0.leaky_relu(0.01, kink=1.0), x0):g}")
r26 = verdict("S1-2.6")

# %% [markdown]
# ## The first layer's gradients (S1-2.7)
#
# The seed's expression `(W[2]^T delta_0 o delta_2) x^T` against autodiff, on five random
# 3-4-3 networks. One of them, drawn:

# %%
r27 = verdict("S1-2.7")
r27.graph.zero_grad()
r27.graph.backward()
display(viz.draw(r27.graph, stage="backward", clusters=True))

# %% [markdown]
# ## Overflow of the naive softmax (S1-2.8)
#
# `exp(1000)` does not fit in a float, and `exp(-1000)` rounds to zero, so the naive formula
# fails at both ends. The engine says so instead of returning `nan`:

# %%
for logits in ([1000.0, 999.0, 0.0], [-1000.0, -1001.0]):
    zs = [Value(v) for v in logits]
    try:
        es = [zi.exp() for zi in zs]
        total = F.sum(es)
        [ei / total for ei in es]
    except DomainError as exc:
        print(f"naive softmax{logits}: DomainError: {exc}")
    print(f"functional.softmax{logits} = {[round(p.data, 6) for p in F.softmax(logits)]}")

# %% [markdown]
# `functional.softmax` subtracts the largest logit (a constant: the gradient is unchanged),
# so the largest exponential is `exp(0) = 1` and the denominator is at least 1:

# %%
print(explain(F.softmax([Value(1000.0, label="z1"), Value(999.0, label="z2")])[0]).text())

# %%
r28 = verdict("S1-2.8")

# %% [markdown]
# ## All verdicts of section 2

# %%
for claim, res in RESULTS.items():
    print(f"{claim:<8}{res.verdict:<12}{EXAMPLES[claim].title}")
