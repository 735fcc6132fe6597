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
# # S3-Q1: layer backward formulas against autodiff
#
# Seed 003 (`003_46b4f35227c027e8.txt`), question 1: closed-form backward passes of a dense
# layer, ReLU, dropout, batch norm and a valid convolution. Each formula is a statement about
# `dL/dX` (and `dL/dW`, `dL/db`) given the upstream gradient `dL/dY`.
#
# Here the upstream gradient is a fixed matrix `G` and the loss is `L = sum(G * Y)`, so
# `dL/dY = G` exactly. Small labelled layers show the chain rule path by path; the catalogue
# (`EXAMPLES[id].run()`) evaluates the seed's formulas, as written, on random layers and gives
# the verdicts. From the command line: `microgradnet verify S3-Q1`.

# %%

from IPython.display import display

from microgradnet import Value, grad
from microgradnet import functional as F
from microgradnet import nn
from microgradnet.catalogue import EXAMPLES, report
from microgradnet.explain import count_paths, explain, explain_backward


RESULTS = {}


def verdict(claim: str):
    """Show a worked example (seed's answer, engine's, verdict) and keep its result."""
    RESULTS[claim] = report(claim)
    return RESULTS[claim]


def upstream(Y, G):
    """L = sum(G * Y) for nested lists Y (Values) and G (floats), labelling Y[i,j] and L."""
    rows = Y if isinstance(Y[0], list) else [Y]
    grows = G if isinstance(G[0], list) else [G]
    terms = []
    for i, (yr, gr) in enumerate(zip(rows, grows)):
        for j, (y, g) in enumerate(zip(yr, gr)):
            y.label = f"Y[{i + 1},{j + 1}]" if len(rows) > 1 else f"Y[{j + 1}]"
            terms.append(y * g)
    L = F.sum(terms)
    L.label = "L"
    return L


from microgradnet import viz

# %% [markdown]
# ## Dense layer (S3-Q1.1)
#
# Convention (the seed does not state one): `Y = X W + b`, one sample per row of `X`
# (n x d), `W` d x m, `b` of size m. Here n = 2, d = 2, m = 2, built with
# `nn.Linear.from_weights` (its weight matrix is `W` transposed, PyTorch's layout).

# %%
X = [[Value(v, label=f"X[{i + 1},{j + 1}]") for j, v in enumerate(row)]
     for i, row in enumerate([[1.0, -2.0], [0.5, 3.0]])]
W = [[0.5, -1.0], [2.0, 0.25]]                                  # d x m
layer = nn.Linear.from_weights([list(col) for col in zip(*W)], [0.1, -0.2],
                               w_labels=lambda k, j: f"W[{j},{k}]",
                               b_labels=lambda k: f"b[{k}]")
G = [[1.0, -1.0], [2.0, 0.5]]
L = upstream(layer(X), G)
print(explain(L).select(["forward"]).text())

# %% [markdown]
# `b[1]` is added to `Y[1,1]` and to `Y[2,1]`: one path per sample, so `dL/db` is the sum of
# `dL/dY` over the batch (column sums of `G`), not `dL/dY` itself. `X[1,1]` feeds both outputs
# of sample 1, so `dL/dX = dL/dY W^T` (n x m times m x d).

# %%
b1, w11, x11 = layer.bias[0], layer.weight[0][0], X[0][0]
print(explain_backward(L, [b1, w11, x11]).text())
print(f"\ncolumn sums of G: {[sum(c) for c in zip(*G)]};  engine dL/db: {grad(L, layer.bias)}")

# %%
r11 = verdict("S3-Q1.1")
v = r11.values
print(f"\nmax |seed - engine| on a random 3x4 -> 2 layer:  X^T dY: {v['err_dW']:.1e};  "
      f"column sums of dY: {v['err_db_sum']:.1e};  dY W^T: {v['err_dX_rows']:.1e};  "
      f"W dY conforms: {v['seed_dX_conforms']}")

# %%
L.zero_grad()
L.backward()
display(viz.draw(L, stage="backward", highlight=b1,
                 title="dL/db[1]: one path per sample"))

# %% [markdown]
# ## ReLU mask (S3-Q1.2)
#
# `dX = dY * I(X > 0)`: a path through a ReLU that is off carries zero. At `X = 0` exactly
# the mask is a convention (the engine's default `kink=0.0` gives 0, as PyTorch does).

# %%
X = [Value(v, label=f"X[{i + 1}]") for i, v in enumerate([-1.5, 0.0, 2.0])]
G = [0.3, -0.7, 1.2]
L = upstream(nn.ReLU()(X), G)
print(explain_backward(L, X).text())

# %%
r12 = verdict("S3-Q1.2")

# %% [markdown]
# ## Dropout mask (S3-Q1.3)
#
# `nn.Dropout(p)` is inverted dropout with `p` the drop probability: `Y = X * M / (1 - p)`
# with `M` in {0, 1}. The backward pass multiplies by the mask as applied, so with a 0/1 mask
# the gradient carries the factor `1 / (1 - p)` too.

# %%
drop = nn.Dropout(0.5, rng=3)
X = [Value(v, label=f"X[{i + 1}]") for i, v in enumerate([0.4, -1.0, 2.5, 0.8])]
G = [1.0, 1.0, -0.5, 2.0]
L = upstream(drop(X), G)
print("mask as applied:", drop.mask)
print(explain_backward(L, X).text())

# %%
r13 = verdict("S3-Q1.3")
v = r13.values
print(f"\nmax |dY * M - engine| with the 0/1 mask: {v['err_01_mask']:.3g};  "
      f"with M / (1 - p): {v['err_scaled_mask']:.1e}")

# %% [markdown]
# ## Batch norm (S3-Q1.4)
#
# `Y_i = gamma (X_i - mu) / sigma + beta` over a batch of n, `sigma = sqrt(var + eps)` with the
# biased variance. Every input reaches every output through `mu` and `sigma` as well as
# directly, so even a batch of three has many paths:

# %%
bn = nn.BatchNorm1d(1)
bn.weight[0].data, bn.bias[0].data = 1.5, -0.5
X = [Value(v, label=f"X[{i + 1}]") for i, v in enumerate([0.5, 2.0, -1.0])]
G = [1.0, -2.0, 0.5]
L = upstream([y[0] for y in bn([[x] for x in X])], G)
print(explain(L, decimals=4).select(["forward"]).text())
print(f"\npaths from L to X[1]: {count_paths(L, X[0])}")
print(explain_backward(L, X[0], max_paths=3, decimals=4).text())

# %% [markdown]
# The seed's closed form, evaluated on the same numbers:
# `dX_i = gamma / (n sigma) (n dY_i - sum_j dY_j - xhat_i sum_j dY_j xhat_j)`.

# %%
n = len(X)
mu = sum(x.data for x in X) / n
sigma = (sum((x.data - mu) ** 2 for x in X) / n + bn.eps) ** 0.5
xhat = [(x.data - mu) / sigma for x in X]
gamma = bn.weight[0].data
closed = [gamma / (n * sigma) * (n * G[i] - sum(G) - xhat[i] * sum(g * h for g, h in zip(G, xhat)))
          for i in range(n)]
print("closed form:", [round(c, 10) for c in closed])
print("engine:     ", [round(g, 10) for g in grad(L, X)])

# %%
r14 = verdict("S3-Q1.4")
v = r14.values
print(f"\nd sigma / d mu beside the batch mean: engine {v['dsigma_dmu_off_mean']:.6f}, "
      f"the derivation's factor gives {v['seed_dsigma_dmu_off_mean']:.6f}; at the mean both "
      f"vanish (engine {v['dsigma_dmu']:.1e}, derivation {v['seed_dsigma_dmu']:.1e})")

# %%
L.zero_grad()
L.backward()
display(viz.draw(L, stage="backward", highlight=X[0], title="every path from L to X[1]"))

# %% [markdown]
# ## Valid convolution (S3-Q1.5)
#
# Forward as valid cross-correlation (PyTorch's `conv2d`), one 3x3 input, one 2x2 filter:
# `Y[i,j] = sum_{m,n} W[m,n] X[i+m-1, j+n-1]`. `dL/dW[m,n]` sums `dY` against a window of `X`
# (filtering); `dL/dX` collects every filter weight that touched that pixel (a full
# convolution of `dY` with `W`).

# %%
X = [[[Value(float(3 * i + j + 1), label=f"X[{i + 1},{j + 1}]") for j in range(3)]
      for i in range(3)]]
conv = nn.Conv2d.from_weights([[[[1.0, -1.0], [0.5, 2.0]]]], [0.0])
for m, row in enumerate(conv.weight[0][0]):
    for q, w in enumerate(row):
        w.label = f"W[{m + 1},{q + 1}]"
G = [[1.0, 2.0], [-1.0, 0.5]]
L = upstream(conv(X)[0], G)
print(explain_backward(L, [conv.weight[0][0][0][0], X[0][1][1], X[0][0][0]]).text())

# %%
r15 = verdict("S3-Q1.5")

# %%
L.zero_grad()
L.backward()
display(viz.draw(L, stage="backward", highlight=X[0][1][1],
                 title="dL/dX[2,2]: the centre pixel meets all four filter weights"))

# %% [markdown]
# ## All verdicts

# %%
for claim, res in RESULTS.items():
    print(f"{claim:<9}{res.verdict:<12}{EXAMPLES[claim].title}")
