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
# # S2-Q1.3 to Q1.6: ReLU against swish, first and second derivatives
#
# Seed 002 (`002_8bcde06e66854de4.txt`), question 1, parts 3 to 6: the one-sided derivatives
# of ReLU at 0, the second derivatives of ReLU and of swish `x sigmoid(beta x)`, the limits
# of swish as `beta` goes to 0 and to infinity, and monotonicity.
#
# Second derivatives come from differentiating the gradient graph:
# `grad(y, x, create_graph=True)` returns the derivative as a `Value` whose graph can be
# differentiated again. Verdicts come from the catalogue (`EXAMPLES[id].run()`); from the
# command line: `microgradnet show S2-Q1.4`.

# %%

from IPython.display import display

from microgradnet import Value, grad
from microgradnet.catalogue import EXAMPLES, report
from microgradnet.checks import numerical_hessian, one_sided
from microgradnet.explain import explain, explain_backward


RESULTS = {}


def verdict(claim: str):
    """Show a worked example (seed's answer, engine's, verdict) and keep its result."""
    RESULTS[claim] = report(claim)
    return RESULTS[claim]


from microgradnet import viz

try:
    import matplotlib.pyplot as plt
except ImportError as exc:           # the plots are optional
    plt = None
    print("plots skipped: matplotlib is not installed", exc)

# %% [markdown]
# ## ReLU at 0: left and right derivatives (S2-Q1.3)
#
# Difference quotients from each side of 0 disagree, so ReLU has no derivative there. The
# backward pass still needs a number: the engine takes `ReLU'(0) = 0` (as PyTorch does), or
# whatever `relu(kink=...)` asks for.

# %%
(left, right), = one_sided(lambda v: v.relu(), [0.0])
print(f"left slope {left:.6g}, right slope {right:.6g}")
for kink in (0.0, 1.0):
    x = Value(0.0, label="x")
    y = x.relu(kink=kink)
    y.label = "y"
    print(f"\nrelu(kink={kink}):")
    print(explain_backward(y, x).text())

# %%
r13 = verdict("S2-Q1.3")

# %% [markdown]
# ## Second derivatives (S2-Q1.4)
#
# The gradient of swish, built as a graph at `x = 0.7` and stepped through: every line of
# the forward pass below is a node of `swish'(x)`.

# %%
x = Value(0.7, label="x")
y = x.swish()
y.label = "swish"
d1 = grad(y, x, create_graph=True)
d1.label = "dswish"
print(explain(d1, decimals=4).text())

# %% [markdown]
# Differentiating `dswish` again, path by path, gives `swish''(0.7)`; central differences of
# second order agree:

# %%
print(explain_backward(d1, x, decimals=4).text())
print(f"\nswish''(0.7): engine {grad(d1, x):.8f}, "
      f"central differences {numerical_hessian(lambda v: v.swish(), [0.7])[0][0]:.8f}")

# %%
d1.zero_grad()
d1.backward()
display(viz.draw(d1, stage="backward", highlight=x,
                 title="the graph of swish'(x) at x = 0.7, differentiated again"))

# %% [markdown]
# ReLU's gradient graph does not depend on `x` at all (the slope is read off the sign of the
# input), so its second derivative is 0 wherever it exists. At 0 the second difference
# grows like `1/h`: a spike, not a number.

# %%
r14 = verdict("S2-Q1.4")
v = r14.values
print(f"\n{'x':>6} {'ReLU''':>8} {'swish''':>10} {'swish'' (differences)':>22}")
for p, a, b, c in zip(v["points"], v["relu2"], v["swish2"], v["swish2_numerical"]):
    print(f"{p:>6} {a:>8.3g} {b:>10.6f} {c:>22.6f}")
print("\nReLU second difference at 0:",
      ", ".join(f"h={h:g}: {d:g}" for h, d in zip(v["relu2_fd_steps"], v["relu2_fd_at_0"])))

# %% [markdown]
# ## Swish between x/2 and ReLU (S2-Q1.5)
#
# `swish_beta(x) = x sigmoid(beta x)`: at `beta = 0` the sigmoid is 1/2 everywhere, and as
# `beta` grows it becomes a step at 0. The catalogue measures the largest gap to each limit
# on 21 points for shrinking and growing `beta`:

# %%
r15 = verdict("S2-Q1.5")
v = r15.values
for b, g in zip(v["small_betas"], v["gap_to_half_x"]):
    print(f"beta = {b:<8g} max |swish - x/2|  = {g:.2e}")
for b, g in zip(v["large_betas"], v["gap_to_relu"]):
    print(f"beta = {b:<8g} max |swish - ReLU| = {g:.2e}")

# %%
xs = [-3 + 0.05 * i for i in range(121)]
if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for beta in (0.01, 1.0, 10.0):
        ax.plot(xs, [Value(t).swish(beta).data for t in xs], label=f"swish, beta = {beta:g}")
    ax.plot(xs, [t / 2 for t in xs], "k:", label="x / 2")
    ax.plot(xs, [Value(t).relu().data for t in xs], "k--", label="ReLU")
    ax.set_xlabel("x")
    ax.legend(fontsize=8)
    ax.set_title("S2-Q1.5: swish between its two limits")
    plt.show()

# %% [markdown]
# ## Monotonicity (S2-Q1.6)
#
# ReLU' is never negative. Swish' is negative on an interval left of 0: swish dips to a
# minimum and rises again. The catalogue finds the minimum with Newton's method on
# `swish'(x) = 0`, using the engine's first and second derivatives.

# %%
r16 = verdict("S2-Q1.6")
v = r16.values
print(f"\nswish falls on [{v['falling_from']:.2f}, {v['falling_to']:.2f}] (grid step 0.01); "
      f"minimum {v['swish_min']:.6f} at x = {v['swish_argmin']:.6f}")

# %%
if plt is not None:
    slopes = []
    for t in xs:
        xv = Value(t)
        slopes.append(grad(xv.swish(), xv))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(xs, [Value(t).swish().data for t in xs], label="swish(x)")
    ax.plot(xs, slopes, label="swish'(x) (engine)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.plot([v["swish_argmin"]], [v["swish_min"]], "ko", label="minimum")
    ax.set_xlabel("x")
    ax.legend(fontsize=8)
    ax.set_title("S2-Q1.6: swish is not monotonic")
    plt.show()

# %% [markdown]
# ## All verdicts

# %%
for claim, res in RESULTS.items():
    print(f"{claim:<9}{res.verdict:<12}{EXAMPLES[claim].title}")
