"""Benchmark: what compiling a replay costs (time and memory per node) as graphs grow, and what
a replay call costs next to the eager step it replaces, in one run.

The graph is micrograd's demo step (MLP(2, [16, 16, 1]), ReLU, max-margin loss + L2, as in
scripts/bench_engine.py) on as many two-moons points as give about --sizes op nodes. Each size
runs in a fresh interpreter, so one size's heap does not weigh on the next. Per size it prints:

  compile s, us/node   CPU time of ``compile_graph`` (process_time), and per node
  traced B/node        peak bytes allocated during ``compile_graph`` (tracemalloc), above what
                       was allocated before it (the graph itself); measured in a second
                       compile, since tracing slows compiling down several times
  rss B/node           growth of the process's peak resident size during the untraced compile
  eager ns/node        one eager step (build the graph, backward): the peer
  replay ns/node       one replay call (best of --repeat)
  compile/eager        compile time in eager steps: the price of compiling, in steps

``--single`` also compiles the whole graph as one function (the layout before pieces) for
sizes up to that many nodes, to show what cutting it into pieces changes.

The checks a replay does (leaf conversion, the sum of outputs, gradients and checked
intermediates) are timed on the demo workload with ``--checks``: the same replay with the
intermediates left out of the sum (``_carries`` made to say every edge carries; unsound, for
measurement only).

Usage:
  python scripts/bench_replay.py [--sizes 10000,100000,1000000] [--repeat 5] [--single 100000]
                                 [--trace 100000] [--checks] [--json FILE]
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

NODES_PER_POINT = 651   # op nodes per two-moons point of the demo step (so sizes are close)


def demo_graph(n_points: int):
    import bench_engine as be
    from microgradnet import Value, topological_order
    X, Y = be.two_moons(n_points)
    layers = be.demo_setup(Value, be.mlp_weights())
    loss = be.demo_step(Value, layers, X, Y)
    order = topological_order(loss)
    leaves = [n for n in order if n.is_leaf]
    return loss, leaves, sum(1 for n in order if not n.is_leaf), (layers, X, Y)


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_size(size: int, repeat: int, single: bool, trace: bool) -> dict:
    """One size in this process: compile cost, one eager step, one replay call."""
    import bench_engine as be
    from microgradnet import Value, replay
    if single:
        replay.PIECE_LINES = (10 ** 9, 10 ** 9)
        replay.PIECE_LOCALS = 10 ** 9
    loss, leaves, nodes, (layers, X, Y) = demo_graph(max(1, round(size / NODES_PER_POINT)))
    gc.collect()
    rss_before = current_rss_bytes()
    t0 = time.process_time()
    fn = replay.compile_graph(loss, leaves)
    compile_s = time.process_time() - t0
    rss_growth = max(0, max_rss_bytes() - rss_before)
    pieces = len(fn._pieces)
    values = [leaf.data for leaf in leaves]
    replay_s = best_of(lambda: fn(values), repeat)
    del fn
    traced = None
    if trace:
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        fn = replay.compile_graph(loss, leaves)
        traced = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        del fn
    eager_s = best_of(lambda: be.demo_step(Value, layers, X, Y).backward(), min(repeat, 3))
    return {"op_nodes": nodes, "pieces": pieces, "compile_s": compile_s,
            "traced_peak_bytes": traced, "rss_growth_bytes": rss_growth,
            "eager_step_s": eager_s, "replay_s": replay_s}


def measure_checks(repeat: int) -> dict:
    """The demo workload (100 points) replayed with and without the checked intermediates."""
    from microgradnet import replay
    loss, leaves, nodes, _ = demo_graph(100)
    values = [leaf.data for leaf in leaves]
    fn = replay.compile_graph(loss, leaves)
    carries = replay._carries
    replay._carries = lambda template, name: True
    try:
        unchecked = replay.compile_graph(loss, leaves)
    finally:
        replay._carries = carries
    rows = {}
    for name, f in (("checked", fn), ("outputs and gradients only", unchecked)):
        rows[name] = best_of(partial(f, values), repeat)
    from microgradnet.replay import _leaf_values
    rows["leaf conversion alone"] = best_of(
        lambda: [_leaf_values(values, leaves, "bench") for _ in range(10)], repeat) / 10
    return {"op_nodes": nodes, "seconds": rows}


def run_child(args: list) -> dict:
    proc = subprocess.run([sys.executable, __file__] + args, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--single", type=int, default=100000,
                    help="also compile as one function up to this many nodes (0: never)")
    ap.add_argument("--trace", type=int, default=100000,
                    help="measure with tracemalloc up to this many nodes (it slows compiling "
                         "about tenfold; above, peak RSS only)")
    ap.add_argument("--checks", action="store_true", help="time the checks on the demo")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--one", nargs=3, metavar=("SIZE", "SINGLE", "TRACE"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--one-checks", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(measure_size(int(args.one[0]), args.repeat, args.one[1] == "1",
                                      args.one[2] == "1")))
        return 0
    if args.one_checks:
        print(json.dumps(measure_checks(args.repeat)))
        return 0
    results: dict = {"sizes": []}
    print(f"{'layout':<8}{'op nodes':>10}{'pieces':>8}{'compile s':>11}{'us/node':>9}"
          f"{'traced B/node':>15}{'rss B/node':>12}{'eager ns/node':>15}{'replay ns/node':>16}"
          f"{'compile/eager':>15}")
    for size in (int(s) for s in args.sizes.split(",")):
        layouts = [("pieces", "0")] + ([("single", "1")] if size <= args.single else [])
        for layout, flag in layouts:
            trace = "1" if size <= args.trace else "0"
            r = run_child(["--repeat", str(args.repeat), "--one", str(size), flag, trace])
            r["layout"] = layout
            results["sizes"].append(r)
            n = r["op_nodes"]
            traced = (f"{r['traced_peak_bytes'] / n:.0f}" if r["traced_peak_bytes"] is not None
                      else "-")
            print(f"{layout:<8}{n:>10}{r['pieces']:>8}{r['compile_s']:>11.2f}"
                  f"{r['compile_s'] / n * 1e6:>9.1f}{traced:>15}"
                  f"{r['rss_growth_bytes'] / n:>12.0f}{r['eager_step_s'] / n * 1e9:>15.0f}"
                  f"{r['replay_s'] / n * 1e9:>16.1f}{r['compile_s'] / r['eager_step_s']:>15.1f}",
                  flush=True)
    if args.checks:
        c = run_child(["--repeat", str(args.repeat), "--one-checks"])
        results["checks"] = c
        n = c["op_nodes"]
        print(f"\nchecks on the demo workload ({n} op nodes), ns per op node:")
        for name, s in c["seconds"].items():
            print(f"  {name:<30}{s / n * 1e9:>8.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
