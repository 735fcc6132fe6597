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
# # S1-3: a 2-2-2 ReLU network by hand, checked by the engine
#
# Seed 001 (`001_34f8d7f6bc1ecf0d.txt`), section 3: two inputs, two hidden ReLU units, two
# outputs, a squared-error loss, and one gradient-descent step on the weight `w21`.
# This notebook builds the network with `microgradnet.nn`, prints each step the way a
# solution sheet writes it, and draws the graph at each stage.
#
# Run it from the command line instead with `microgradnet show S1-3 --render out/s1-3.svg`.

# %%
from IPython.display import display

from microgradnet.catalogue import EXAMPLES
from microgradnet.catalogue.seed001 import S1_3_VALUES, build_s1_3
from microgradnet.explain import explain

net = build_s1_3()
display(S1_3_VALUES)

# %% [markdown]
# `w_jk` joins unit j to unit k: `h1 = i1 w11 + i2 w21 + b1`. In the layer's weight matrix
# (PyTorch layout, one row per output) `w_jk` sits in row k, column j.

# %%
layer1, layer2 = net["layers"]
[[w.label for w in row] for row in layer1.weight], [[w.label for w in row] for row in layer2.weight]

# %% [markdown]
# ## Forward pass (S1-3.1)

# %%
e = explain(net["MSE"], wrt=net["w21"], lr=0.1)
print(e.section_text(e["given"]))
print()
print(e.section_text(e["forward"]))

# %% [markdown]
# ## The loss (S1-3.2)
#
# The seed's MSE is one half of the sum of squares, `functional.mse(..., reduction="half")`;
# with two outputs that is also the mean.

# %%
print(e.section_text(e["loss"]))

# %% [markdown]
# ## Chain rule for w21 (S1-3.3)
#
# Two paths lead from the loss to `w21`, through `o1` and through `o2`; both pass through
# `h3`, whose ReLU is on (slope 1).

# %%
print(e.section_text(e["backward"]))

# %% [markdown]
# The path through `h4` carries nothing: its ReLU is off (`h2 = -0.5`). `w12` feeds only that
# unit, so its gradient is zero:

# %%
print(explain(net["MSE"], wrt=net["w12"]).section_text(
    explain(net["MSE"], wrt=net["w12"])["backward"]))

# %% [markdown]
# ## The update

# %%
print(e.section_text(e["update"]))

# %% [markdown]
# The same derivation as LaTeX (paste into a document) and as Markdown tables:

# %%
print(e.select(["forward", "backward", "update"]).latex())

# %%
e.select(["backward", "update"])

# %% [markdown]
# ## Hand-worked rounding
#
# Rounded to one decimal at every named step, with the unrounded value beside any number that
# changed (here none does: the seed's numbers are exact).

# %%
print(explain(net["MSE"], wrt=net["w21"], lr=0.1, decimals=1).text())

# %% [markdown]
# ## Pictures
#
# Forward (values), backward (gradients, with the paths to `w21` picked out), and the update.

# %%
from microgradnet import viz

# %%
display(viz.draw(net["MSE"], stage="forward"))

# %%
loss = net["MSE"]
loss.zero_grad()
loss.backward()
display(viz.draw(loss, stage="backward", highlight=net["w21"]))

# %%
w = net["w21"]
updates = {w: (w.data, w.grad, 0.1, w.data - 0.1 * w.grad)}
display(viz.draw(loss, stage="update", highlight=w, updates=updates))

# %% [markdown]
# ## The verdicts

# %%
for i in ("S1-3.1", "S1-3.2", "S1-3.3"):
    r = EXAMPLES[i].run()
    print(f"{i}: {r.verdict:<10} seed: {r.seed_says}\n{'':19}engine: {r.engine_says}")
    assert r.verdict == "confirmed"
