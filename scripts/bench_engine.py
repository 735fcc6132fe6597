"""Benchmark: the same graphs built and differentiated by microgradnet, micrograd (0.1.0 from
PyPI) and PyTorch scalar tensors, in one run.

Prints, per workload and engine: CPU ns per op node (best of --repeat) for the forward pass
(building the graph), the backward pass and both, bytes per op node at peak (tracemalloc; Python
engines only, since PyTorch allocates in C++; micrograd's on the demo only, as its recursive
backward on the deep graphs runs for minutes under tracemalloc), the cyclic garbage collector's
share of the forward pass (time inside collections, timed by gc.callbacks, over the forward's
wall time), and each engine's time as a ratio to microgradnet's (micrograd at 10.0 means ten
times slower). Then, per workload, the targets: microgradnet against micrograd and against
straight-line float code, as the ratio of medians and the worst ratio of any one layout (the two
engines run in the same layouts). "microgradnet no_gc()" is the same code with the step and its
backward each in a ``with microgradnet.no_gc():`` block; every other row runs with the collector
on, as Python starts. Leaves that exist before a step (the model's parameters, the factors of
the sum) are made once, outside the timings, for every engine alike; leaves made during a step
(inputs, constants) are part of it. CPU time (process_time) is used so other load on the machine
distorts the figures less. Before each run the leaves' grads are zeroed, outside the timings, as
a training step does (micrograd's demo calls model.zero_grad()). Each engine runs in a fresh
interpreter, so no engine pays for another's heap in the cyclic garbage collector.

Where the heap happens to lie moves these figures: on the test machine, with an earlier 96-byte
node, the same build of the same sum took 1.25 or 1.9 us per node depending only on objects
allocated before it (the length of a path string was enough). So each engine runs in --layouts
interpreters, each first allocating a different seeded handful of objects, and the table shows
the median run, the range of totals over the runs, and ratios of medians.
The recorded-graph replay (``microgradnet.replay``) of the same workload is timed too (compiled
once, outside the timing), next to straight-line Python float code for the demo step.

Workloads:
  demo   micrograd's demo step: MLP(2, [16, 16, 1]) with ReLU, max-margin loss + L2 (alpha
         1e-4) on 100 two-moons points.
  chain  a 100,000-node deep chain: v = relu(1.0001 * v), 50,000 times.
  sum    a sum of 100,000 products: sum(a_i * b_i) (a left-deep chain of 100,000 additions).

Usage:
  python scripts/bench_engine.py [--repeat 5] [--layouts 3] [--workloads demo,chain,sum]
                                 [--json FILE]
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import random
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Callable

# The microgradnet of this checkout, not whichever one is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# micrograd walks the graph recursively; lift the limit so it can run the deep workloads at all
# (microgradnet does not need this: its walk is iterative).
sys.setrecursionlimit(1_000_000)


# ---- data and a network written once for every engine ------------------------------------------

def two_moons(n: int = 100, noise: float = 0.1, seed: int = 1) -> tuple[list, list]:
    """Two interleaving half circles, labels -1/+1, as scikit-learn's make_moons."""
    rng = random.Random(seed)
    xs, ys = [], []
    for i in range(n):
        t = math.pi * (i // 2) / (n // 2 - 1)
        if i % 2 == 0:
            x, y, label = math.cos(t), math.sin(t), -1
        else:
            x, y, label = 1 - math.cos(t), 0.5 - math.sin(t), 1
        xs.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
        ys.append(label)
    return xs, ys


def mlp_weights(sizes=(2, 16, 16, 1), seed: int = 1337) -> list:
    rng = random.Random(seed)
    return [[([rng.uniform(-1, 1) for _ in range(nin)], 0.0) for _ in range(nout)]
            for nin, nout in zip(sizes, sizes[1:])]


def demo_setup(V: Callable, weights: list) -> list:
    """The model's parameters: made once, before the step, as in micrograd's demo."""
    return [[([V(w) for w in ws], V(b)) for ws, b in layer] for layer in weights]


def demo_step(V: Callable, layers: list, X: list, Y: list):
    """micrograd's demo step with the Value class ``V``: inputs, forward, loss."""
    params = [p for layer in layers for ws, b in layer for p in ws + [b]]

    def model(x):
        for k, layer in enumerate(layers):
            out = []
            for ws, b in layer:
                act = sum((wi * xi for wi, xi in zip(ws, x)), b)
                out.append(act.relu() if k < len(layers) - 1 else act)
            x = out
        return x[0]

    scores = [model([V(a) for a in row]) for row in X]
    losses = [(1 + -yi * si).relu() for yi, si in zip(Y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    return data_loss + reg_loss


def chain_setup(V: Callable) -> list:
    return [V(0.5)]


def chain_step(V: Callable, state: list, n: int = 50_000):
    v = state[0]
    for _ in range(n):
        v = (v * 1.0001).relu()
    return v


def sum_setup(V: Callable, n: int = 100_000, seed: int = 7) -> tuple:
    """The factors: data that exists before the sum is built."""
    rng = random.Random(seed)
    return ([V(rng.uniform(-1, 1)) for _ in range(n)], [V(rng.uniform(-1, 1)) for _ in range(n)])


def sum_step(V: Callable, state: tuple):
    a, b = state
    return sum(ai * bi for ai, bi in zip(a, b))


# ---- engines ---------------------------------------------------------------------------------

ENGINES = ("microgradnet", "microgradnet no_gc()", "micrograd", "pytorch", "microgradnet replay",
           "straight-line floats")


def load_engine(name: str):
    """(Value class, backward) for one engine; ImportError where it is not installed."""
    if name == "microgradnet":
        import microgradnet
        return microgradnet.Value, lambda loss: loss.backward()
    if name == "micrograd":
        from micrograd.engine import Value as MgValue
        return MgValue, lambda loss: loss.backward()
    if name == "pytorch":
        import torch

        torch.set_num_threads(1)

        class TorchScalar:
            """Scalar float64 tensors, created with requires_grad like a Value."""
            def __new__(cls, x):
                return torch.tensor(float(x), dtype=torch.float64, requires_grad=True)

        return TorchScalar, lambda loss: loss.backward()
    raise ValueError(f"unknown engine {name!r}")


def count_op_nodes(loss) -> int:
    from microgradnet import topological_order
    return sum(1 for n in topological_order(loss) if not n.is_leaf)


class CollectorClock:
    """Wall time spent inside cyclic garbage collections while it is on (gc.callbacks)."""
    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start

    def __enter__(self) -> "CollectorClock":
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self)


def leaves_of(state) -> list:
    """The Values (or tensors) in a setup's nested lists and tuples."""
    if isinstance(state, (list, tuple)):
        return [leaf for part in state for leaf in leaves_of(part)]
    return [state]


def zero_grads(engine: str, leaves: list) -> None:
    """What a training step does first (micrograd's demo: model.zero_grad())."""
    for p in leaves:
        p.grad = None if engine == "pytorch" else 0.0


def measure(step: Callable, backward: Callable, repeat: int,
            zero: Callable = lambda: None) -> dict:
    """Best of ``repeat``: CPU seconds to build the graph (forward) and to run backward, and
    the collector's share of the forward pass in the fastest run. ``zero()`` zeroes the
    leaves' grads before each run, outside the timings."""
    fwd, bwd, share = [], [], []
    for _ in range(repeat):
        zero()
        gc.collect()
        with CollectorClock() as clock:
            w0 = time.perf_counter()
            t0 = time.process_time()
            loss = step()
            t1 = time.process_time()
            w1 = time.perf_counter()
        backward(loss)
        t2 = time.process_time()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
        share.append(clock.seconds / (w1 - w0))
        del loss
    gc.collect()
    best = min(range(repeat), key=lambda i: fwd[i] + bwd[i])
    return {"forward_s": min(fwd), "backward_s": min(bwd),
            "total_s": fwd[best] + bwd[best], "gc_share": share[best]}


def peak_bytes(step: Callable, backward: Callable, zero: Callable = lambda: None) -> int:
    """Peak bytes allocated while building the graph and running backward (tracemalloc)."""
    zero()
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    loss = step()
    backward(loss)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del loss
    return peak


def workloads() -> dict:
    """name -> (setup, step): setup makes the leaves that exist before a step (parameters,
    data), once per engine and outside the timings; step builds the graph that is timed."""
    X, Y = two_moons()
    W = mlp_weights()
    return {
        "demo": (lambda V: demo_setup(V, W), lambda V, st: demo_step(V, st, X, Y)),
        "chain": (chain_setup, chain_step),
        "sum": (sum_setup, sum_step),
    }


def shift_heap(layout: int) -> list:
    """Objects to keep alive through a run, so that later ones land elsewhere in the heap:
    none for layout 0, otherwise a seeded mix of sizes."""
    rng = random.Random(layout)
    return [bytearray(rng.choice((8, 24, 40, 56, 72, 88, 120, 200, 480, 4000)))
            for _ in range(60 * layout)]


def measure_engine(engine: str, wname: str, repeat: int, layout: int = 0) -> dict:
    """One engine on one workload, in this process: seconds and peak bytes."""
    ballast = shift_heap(layout)  # noqa: F841 (held until the run ends)
    setup, step = workloads()[wname]
    if engine == "microgradnet replay":
        return bench_replay(setup, step, repeat)
    if engine == "straight-line floats":
        if wname != "demo":
            return {}
        X, Y = two_moons()
        return bench_straight_line(mlp_weights(), X, Y, repeat)
    try:
        V, back = load_engine(engine.replace(" no_gc()", ""))
    except ImportError as e:
        return {"skipped": f"not installed ({e.name})"}
    state = setup(V)
    def build():
        return step(V, state)

    if engine == "microgradnet no_gc()":
        from microgradnet import no_gc
        back_plain = back

        def build():
            with no_gc():
                return step(V, state)

        def back(loss):
            with no_gc():
                back_plain(loss)
    leaves = leaves_of(state)
    def zero():
        zero_grads(engine, leaves)
    try:
        row = measure(build, back, repeat, zero)
    except RecursionError:
        return {"skipped": "RecursionError"}
    # tracemalloc sees Python allocations only; PyTorch's are in C++. Under tracemalloc,
    # micrograd's recursive backward on a graph 100,000 deep runs for many minutes, so its
    # bytes are measured on the demo only.
    traced = engine != "pytorch" and not (engine == "micrograd" and wname != "demo")
    row["peak_bytes"] = peak_bytes(build, back, zero) if traced else None
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--layouts", type=int, default=3,
                    help="fresh interpreters per engine, each with the heap shifted differently")
    ap.add_argument("--workloads", default="demo,chain,sum")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--one", nargs=3, metavar=("ENGINE", "WORKLOAD", "LAYOUT"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:  # a child process: one engine, one workload, figures as JSON on stdout
        print(json.dumps(measure_engine(args.one[0], args.one[1], args.repeat, int(args.one[2]))))
        return 0
    if args.layouts < 1:
        ap.error("--layouts must be at least 1")

    import microgradnet
    results: dict = {}
    for wname in args.workloads.split(","):
        setup, step = workloads()[wname]
        nodes = count_op_nodes(step(microgradnet.Value, setup(microgradnet.Value)))
        results[wname] = {"op_nodes": nodes, "engines": {}}
        print(f"\n== {wname}: {nodes} op nodes")
        print(f"{'engine':<22}{'fwd ns/node':>12}{'bwd ns/node':>12}{'total ns/node':>14}"
              f"{'range':>14}{'bytes/node':>12}{'gc share':>10}{'time ratio':>12}")
        for ename in ENGINES:
            runs = []
            for layout in range(args.layouts):
                # Each run is a fresh interpreter: a heap filled by another engine (or by
                # importing torch) would make the cyclic collector slower for everyone after it.
                proc = subprocess.run([sys.executable, __file__, "--repeat", str(args.repeat),
                                       "--one", ename, wname, str(layout)],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"{ename:<22}  failed: {proc.stderr.strip().splitlines()[-1:]}")
                    break
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            if not runs or not runs[0]:
                continue
            if "skipped" in runs[0]:
                print(f"{ename:<22}  skipped: {runs[0]['skipped']}")
                continue
            by_layout = [r["total_s"] for r in runs]
            runs.sort(key=lambda r: r["total_s"])
            row = dict(runs[(len(runs) - 1) // 2])  # the median run (the lower one of two)
            row["totals_s"] = [r["total_s"] for r in runs]
            row["totals_by_layout_s"] = by_layout
            results[wname]["engines"][ename] = row
        engines = results[wname]["engines"]
        ref = engines["microgradnet"]["total_s"]
        for ename, row in engines.items():
            row["ratio_vs_microgradnet"] = row["total_s"] / ref
            ns = {k: row[k] / nodes * 1e9 for k in ("forward_s", "backward_s", "total_s")
                  if k in row}
            row.update({k.replace("_s", "_ns_per_node"): v for k, v in ns.items()})
            if row.get("peak_bytes"):
                row["bytes_per_node"] = row["peak_bytes"] / nodes
            mem = f"{row['bytes_per_node']:.0f}" if row.get("bytes_per_node") else "-"
            lo, hi = (t / nodes * 1e9 for t in (row["totals_s"][0], row["totals_s"][-1]))
            spread = f"{lo:.0f}-{hi:.0f}"
            fw = f"{ns['forward_s']:.0f}" if "forward_s" in ns else "-"
            bw = f"{ns['backward_s']:.0f}" if "backward_s" in ns else "-"
            share = f"{row['gc_share']:.0%}" if "gc_share" in row else "-"
            print(f"{ename:<22}{fw:>12}{bw:>12}{ns['total_s']:>14.0f}{spread:>14}{mem:>12}"
                  f"{share:>10}{row['ratio_vs_microgradnet']:>12.2f}")
        print_targets(wname, engines)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


#: The targets: microgradnet at least this many times faster than micrograd (fwd + bwd) on
#: these workloads, and at most this many times slower than straight-line floats on the demo.
TARGET_VS_MICROGRAD = {"demo": 10.0, "sum": 10.0}
TARGET_VS_FLOATS = {"demo": 4.0}


def print_targets(wname: str, engines: dict) -> None:
    """Each microgradnet row against micrograd and against straight-line floats: the ratio of
    the medians and the worst ratio of one layout (engine i and engine j in layout k)."""
    def ratios(slow: str, fast: str) -> tuple:
        s, f = engines[slow], engines[fast]
        per_layout = [a / b for a, b in zip(s["totals_by_layout_s"], f["totals_by_layout_s"])]
        return s["total_s"] / f["total_s"], per_layout

    lines = []
    for mine in ("microgradnet", "microgradnet no_gc()"):
        if mine not in engines:
            continue
        parts = []
        if "micrograd" in engines:
            med, each = ratios("micrograd", mine)
            goal = TARGET_VS_MICROGRAD.get(wname)
            verdict = "" if goal is None else (" met" if min(each) >= goal else " not met") + \
                f" (>= {goal:g}x)"
            parts.append(f"{med:.1f}x faster than micrograd, worst layout {min(each):.1f}x"
                         f"{verdict}")
            engines[mine]["times_faster_than_micrograd"] = {"median": med, "by_layout": each}
        if "straight-line floats" in engines:
            med, each = ratios(mine, "straight-line floats")
            goal = TARGET_VS_FLOATS.get(wname)
            verdict = "" if goal is None else (" met" if max(each) <= goal else " not met") + \
                f" (<= {goal:g}x)"
            parts.append(f"{med:.1f}x straight-line floats, worst layout {max(each):.1f}x"
                         f"{verdict}")
            engines[mine]["times_straight_line_floats"] = {"median": med, "by_layout": each}
        if parts:
            lines.append(f"  {mine:<22}" + "; ".join(parts))
    if lines:
        print("targets:")
        print("\n".join(lines))


def bench_replay(setup: Callable, step: Callable, repeat: int) -> dict:
    """Time ``microgradnet.replay.compile_graph`` re-running the recorded graph (forward and
    backward on the same leaf values; compiling is done once, outside the timing)."""
    import microgradnet
    from microgradnet.replay import compile_graph
    loss = step(microgradnet.Value, setup(microgradnet.Value))
    leaves = [n for n in microgradnet.topological_order(loss) if n.is_leaf]
    fn = compile_graph(loss, leaves)
    values = [v.data for v in leaves]
    best = math.inf
    for _ in range(repeat):
        t0 = time.process_time()
        fn(values)
        best = min(best, time.process_time() - t0)
    return {"total_s": best}


def bench_straight_line(W: list, X: list, Y: list, repeat: int) -> dict:
    """The demo step written by hand as float code: forward, then backward, no graph."""
    def step():
        params = [(list(ws), b) for layer in W for ws, b in layer]
        sizes = [len(layer) for layer in W]
        gW = [[0.0] * len(ws) for ws, _ in params]
        gB = [0.0] * len(params)
        total = 0.0
        for row, yi in zip(X, Y):
            acts = [row]
            pre = []
            k = 0
            for li, n in enumerate(sizes):
                x = acts[-1]
                z = [sum((w * xi for w, xi in zip(params[k + j][0], x)), params[k + j][1])
                     for j in range(n)]
                pre.append(z)
                acts.append([max(v, 0.0) for v in z] if li < len(sizes) - 1 else z)
                k += n
            s = acts[-1][0]
            m = 1 - yi * s
            total += max(m, 0.0)
            gs = -yi / len(X) if m > 0 else 0.0
            grads = [gs]
            k = len(params)
            for li in range(len(sizes) - 1, -1, -1):
                n = sizes[li]
                k -= n
                x = acts[li]
                gx = [0.0] * len(x)
                for j in range(n):
                    g = grads[j]
                    if li < len(sizes) - 1 and pre[li][j] <= 0:
                        g = 0.0
                    gB[k + j] += g
                    ws = params[k + j][0]
                    gw = gW[k + j]
                    for i, xi in enumerate(x):
                        gw[i] += g * xi
                        gx[i] += g * ws[i]
                grads = gx
        reg = 1e-4 * sum(w * w for ws, b in params for w in ws + [b])
        return total / len(X) + reg

    best = math.inf
    for _ in range(repeat):
        t0 = time.process_time()
        step()
        best = min(best, time.process_time() - t0)
    return {"total_s": best}


if __name__ == "__main__":
    sys.exit(main())
