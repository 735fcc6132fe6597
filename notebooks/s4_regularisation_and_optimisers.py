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
# # Regularisation, optimisers and initialisation
#
# Seed 004 (`004_cb0f231e9ae3b1c7.txt`): the L1 update rule (S4-Q3a), input noise as a
# penalty (S4-Q3b), Adam's first moment (S4-Q3d), zero initialisation (S4-Q4a, S4-Q4b) and
# the variance-preserving initialisation (S4-Xavier). Seed 002 (`002_8bcde06e66854de4.txt`):
# one gradient-descent step at three step sizes (S2-Q5).
#
# Verdicts come from the catalogue (`EXAMPLES[id].run()`); from the command line:
# `microgradnet verify S4` and `microgradnet show S2-Q5`.

# %%

from IPython.display import display

from microgradnet import Value
from microgradnet import functional as F
from microgradnet import nn
from microgradnet.catalogue import EXAMPLES, report
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
# ## One gradient step at three step sizes (S2-Q5)
#
# `f(x, y) = y^2 + (y - x)^2` has its minimum at (0, 0). From (1, 1) the gradient is (0, 2);
# one step `p <- p - s grad f` for s = 0.01, 0.1 and 10:

# %%
x, y = Value(1.0, label="x"), Value(1.0, label="y")
d = y - x
d.label = "d"
f = y ** 2 + d ** 2
f.label = "f"
print(explain(f, wrt=[x, y], lr=0.1).text())
for s in (0.01, 10.0):
    print()
    print(explain(f, wrt=[x, y], lr=s).select(["update"]).text())

# %%
r = verdict("S2-Q5")
print()
for s, st in r.values["steps"].items():
    print(f"s = {s:<5g} (x1, y1) = ({st['x1']:g}, {st['y1']:g})   distance to the minimum "
          f"{st['distance']:.4f}   f: {st['f0']:g} -> {st['f1']:.4g}")

# %%
g = r.graph
g.zero_grad()
g.backward()
y_node = next(p for p in r.extra["params"] if p.label == "y")
display(viz.draw(g, stage="update", highlight=y_node, updates=r.extra["updates"],
                 title="one step at s = 0.1"))

# %%
if plt is not None:
    grid = [-2 + 0.1 * i for i in range(41)]
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.contour(grid, grid, [[b ** 2 + (b - a) ** 2 for a in grid] for b in grid], levels=15)
    for s, st in r.values["steps"].items():
        if abs(st["y1"]) <= 2:
            ax.annotate("", (st["x1"], st["y1"]), (1, 1), arrowprops={"arrowstyle": "->"})
            ax.text(st["x1"] + 0.05, st["y1"], f"s = {s:g}")
    ax.plot([0], [0], "k*")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("S2-Q5: steps from (1, 1) (s = 10 lands at y = -19)")
    plt.show()

# %% [markdown]
# ## The L1 update (S4-Q3a)
#
# For `J(w) = L(w) + lam sum |w_i|` the gradient is `dL/dw + lam sign(w)`, and gradient
# descent multiplies all of it by the learning rate. Two weights, `L = 1/2 sum (w_i - a_i)^2`,
# `R = lam sum |w_i|` with `lam = 1`, `J = L + R`, learning rate 0.1, stepped through by the
# engine:

# %%
w = [Value(0.3, label="w1"), Value(-0.6, label="w2")]
a = [1.0, -0.2]
data_loss = F.sum([(wi - ai) ** 2 for wi, ai in zip(w, a)]) * 0.5
data_loss.label = "L"
penalty = 1.0 * F.sum([wi.abs() for wi in w])
penalty.label = "R"
J = data_loss + penalty
J.label = "J"
print(explain(J, wrt=w, lr=0.1).select(["backward", "update"]).text())

# %%
r3a = verdict("S4-Q3a")
v = r3a.values
print(f"\none step on 4 random weights (lr {v['lr']}, lam {v['lam']}):")
print("  engine:", [round(t, 4) for t in v["step"]])
print("  seed:  ", [round(t, 4) for t in v["seed_step"]])
print(f"\nafter {v['steps']} steps towards targets {v['targets']} (lam {v['lam_run']}):")
print("  L1:", [round(t, 4) for t in v["final_l1"]])
print("  L2:", [round(t, 4) for t in v["final_l2"]])

# %% [markdown]
# With L1 the weights whose targets are smaller than `lam` in size end up hopping about zero
# (within one step of it); with L2 every weight is shrunk by the same factor `1 / (1 + lam)`
# and none is zero.
#
# ## Input noise as a penalty (S4-Q3b)
#
# Adding Gaussian noise of variance `s^2` to the inputs of a squared-error linear model adds,
# on average, a penalty on `||w||^2`. The catalogue averages the noisy loss over many draws:

# %%
r3b = verdict("S4-Q3b")
v = r3b.values
print(f"\nclean loss L(w)          {v['clean_loss']:.4f}")
print(f"Monte Carlo E[L'(w)]     {v['monte_carlo']:.4f} +- {v['standard_error']:.4f} "
      f"({v['samples']} draws)")
print(f"L(w) + s^2 ||w||^2       {v['seed_value']:.4f}   (the seed's penalty)")
print(f"L(w) + s^2 ||w||^2 / 2   {v['half_penalty_value']:.4f}")


# %% [markdown]
# ## Adam's first moment (S4-Q3d)
#
# `m_t = b1 m_(t-1) + (1 - b1) g_t` from `m_0 = 0`. For a constant gradient `g`,
# `m_t / g = (1 - b1) sum_(i=1..t) b1^(t-i) = 1 - b1^t`, so `m_t` is biased towards 0 early on
# and `m_t / (1 - b1^t)` removes the bias. `optim.Adam`'s own `m` and `m_hat`:

# %%
r3d = verdict("S4-Q3d")
v = r3d.values
b1 = v["beta1"]
print(f"\n{'t':>3} {'m_t / g':>10} {'1 - b1^t':>10} {'m_hat / g':>10}")
for t, (m, mh) in enumerate(zip(v["factor"], v["m_hat_const"]), start=1):
    print(f"{t:>3} {m:>10.6f} {1 - b1 ** t:>10.6f} {mh / v['const_g']:>10.6f}")
print(f"\nsum_(i=1..{v['t']}) b1^(t-i): {v['geometric_sum']:.6f};  "
      f"the seed's closed form: {v['seed_geometric_sum']:.6f}")

# %% [markdown]
# ## Zero initialisation (S4-Q4a, S4-Q4b)
#
# A 2-2-1 sigmoid network with every weight and bias zero outputs 0.5 for any input. The
# output weights are zero, so every path back to a hidden weight carries a zero factor, and
# the two output weights get the same gradient: the hidden units stay identical.

# %%
net = nn.Sequential(nn.Linear(2, 2, init="zeros"), nn.Sigmoid(),
                    nn.Linear(2, 1, init="zeros"), nn.Sigmoid())
for k, row in enumerate(net[0].weight):
    for j, u in enumerate(row):
        u.label = f"u{k + 1}{j + 1}"
for k, vk in enumerate(net[2].weight[0]):
    vk.label = f"v{k + 1}"
x_in = [Value(0.8, label="x1"), Value(-1.2, label="x2")]
z = net[0](x_in)
h = net[1](z)
for k, (zk, hk) in enumerate(zip(z, h)):
    zk.label, hk.label = f"z{k + 1}", f"h{k + 1}"
p = net[3](net[2](h))[0]
p.label = "p"
loss = F.binary_cross_entropy([p], [1.0])
loss.label = "L"
print(f"output p = {p.data}")
print(explain_backward(loss, [net[0].weight[0][0], net[2].weight[0][0], net[2].weight[0][1]],
                       decimals=4).text())

# %%
loss.zero_grad()
loss.backward()
display(viz.draw(loss, stage="backward", highlight=net[0].weight[0][0],
                 title="zero output weights: no gradient reaches u11"))

# %%
r4a = verdict("S4-Q4a")
print()
r4b = verdict("S4-Q4b")
v = r4b.values
print(f"\ndL/du at zero weights: {[round(t, 4) for t in v['du']]}")
print(f"largest |dL/dW'| {v['max_abs_dWp']:g}, largest |dL/dW| {v['max_abs_dW']:g}")

# %% [markdown]
# ## Variance-preserving initialisation (S4-Xavier)
#
# With independent zero-mean weights of variance `1/N` and inputs of variance 1, each layer
# of width N keeps `Var(z)` at 1. The catalogue measures it over many random networks, with
# `2/N` and `1/(2N)` for contrast:

# %%
rx = verdict("S4-Xavier")
v = rx.values
print(f"\n{'layer':>6} {'Var(w) = 1/N':>14} {'2/N':>8} {'1/(2N)':>8}")
for k, (a1, a2, a3) in enumerate(zip(v["var"], v["var_2_over_N"], v["var_half_over_N"]), 1):
    print(f"{k:>6} {a1:>14.3f} {a2:>8.3f} {a3:>8.3f}")
print(f"\nfan-in 8, fan-out 24: Var(z) with LeCun {v['var_fan_8_to_24_lecun']:.3f}, "
      f"with Glorot/Xavier {v['var_fan_8_to_24_xavier']:.3f}")

# %%
if plt is not None:
    layers = range(1, len(v["var"]) + 1)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for key, name in (("var", "1/N"), ("var_2_over_N", "2/N"), ("var_half_over_N", "1/(2N)")):
        ax.plot(layers, v[key], "o-", label=f"Var(w) = {name}")
    ax.set_yscale("log", base=2)
    ax.set_xticks(list(layers))
    ax.set_xlabel("layer")
    ax.set_ylabel("Var(z)")
    ax.legend(fontsize=8)
    ax.set_title("S4-Xavier: only 1/N keeps the variance")
    plt.show()

# %% [markdown]
# ## All verdicts

# %%
for claim, res in RESULTS.items():
    print(f"{claim:<10}{res.verdict:<12}{EXAMPLES[claim].title}")
