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
# # S1-3.3 marked: five wrong answers and what each reveals
#
# Seed 001, section 3.3 asks for dMSE/dw21 in the 2-2-2 ReLU network and for w21 after one
# gradient-descent step at learning rate 0.1. The engine says -1.5 and 0.65. A student who
# writes anything else has made a slip, and the few slips of backpropagation by hand are
# mechanical: each is a change to the graph or to one local derivative. `microgradnet.diagnose`
# makes every slip of its library on the graph, replays it on the engine, and names the ones
# that give the student's number.
#
# From the command line: `microgradnet check S1-3 --answer dMSE/dw21=-2.0`.

# %%
from microgradnet.catalogue import report
from microgradnet.catalogue.seed001 import build_s1_3
from microgradnet.diagnose import KINDS, Checker
from microgradnet.explain import explain

result = report("S1-3.3")
net = build_s1_3()
e = explain(net["MSE"], wrt=net["w21"], lr=0.1)
print()
print(e.section_text(e["backward"]))
print(e.section_text(e["update"]))

# %% [markdown]
# The library's slips, each a change the engine can replay:

# %%
print(", ".join(KINDS))

# %% [markdown]
# A `Checker` analyses the graph once (values, local derivatives, the engine's backward sweep)
# and then marks any number of answers; a correct one passes at its own rounding.

# %%
checker = Checker(net["MSE"], list(net["params"].values()), lr=0.1)
print(checker.diagnose("dMSE/dw21", "-1.50"))
print(checker.diagnose("new:w21", "0.65"))

# %% [markdown]
# ## 1. dMSE/dw21 = -2.0: a path left out
#
# `w21` reaches the loss through `h1`, `h3` and then both outputs. The student summed only the
# path through `o2`. Other slips give -2.0 here too (the `o1` term dropped from the loss, a
# bias left out of an output): each is listed, and the student's other numbers tell them apart.

# %%
wrong1 = checker.diagnose("dMSE/dw21", "-2.0")
print(wrong1)

# %% [markdown]
# If the same student also wrote `o1 = 0.0` and `o2 = -1.5` (both right), no bias was left out
# of an output: `check` reads the answers together and rules out the slips that would have
# changed a right answer. The missing path (or the dropped loss term, the same omission
# written in the loss) remains.

# %%
for r in checker.check({"o1": "0.0", "o2": "-1.5", "dMSE/dw21": "-2.0"}):
    print(r)

# %% [markdown]
# ## 2. dMSE/dw21 = 1.5: a sign lost
#
# Every path ends in dh1/dw21 = i2 = -1: with its sign lost, both paths flip. The same number
# comes from a sign lost in dh3/dh1 or in the 1/2 of the loss, any factor common to all paths.

# %%
print(checker.diagnose("dMSE/dw21", "1.5"))

# %% [markdown]
# ## 3. dMSE/dw21 = -3.0: the 1/2 of the loss forgotten
#
# The seed's MSE is 1/2 the sum of squares; without the 1/2 every gradient doubles.

# %%
print(checker.diagnose("dMSE/dw21", "-3.0"))

# %% [markdown]
# ## 4. new w21 = 0.35: the step taken uphill
#
# The gradient is right, the update adds it: `w21 + lr * grad`. A gradient with its sign lost
# followed by the right step lands on the same number, and is listed too.

# %%
print(checker.diagnose("new:w21", "0.35"))

# %% [markdown]
# ## 5. new w21 = 2.0: the learning rate left out
#
# `w21 - grad` instead of `w21 - lr * grad`: only one slip of the library gives this number.

# %%
print(checker.diagnose("new:w21", "2.0"))

# %% [markdown]
# ## When no single slip explains it
#
# A number that no single slip reproduces is said to be so; with `depth=2` the search tries
# every pair of slips. 0.30 is the missing path and the uphill step at once,
# 0.5 + 0.1 * (-2.0), or the missing path and a sign lost in dh1/dw21.

# %%
print(checker.diagnose("new:w21", "0.30"))
pairs = checker.diagnose("new:w21", "0.30", depth=2)
print(pairs.kinds)
print(pairs.slips[pairs.kinds.index("dropped-path+update-sign")].explanation)

# %% [markdown]
# For a marking script, every diagnosis is a record: `kind`, `where`, `value` and
# `explanation` per slip, or the same as JSON.

# %%
import json

print(json.dumps(wrong1.to_dict()["slips"][0], indent=2))
