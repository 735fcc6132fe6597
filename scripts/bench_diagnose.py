"""Benchmark: diagnosing one student answer on the S1-3 network (seed 001, 41 nodes), and on a
wider network, against two peers in the same run.

Prints CPU ms per answer (best of --repeat, process_time) for:

  diagnose()     one call of the API: analyse the graph, sweep, search every single slip,
                 write the findings (a fresh Checker each time);
  Checker        a marking script's case: the Checker built once, then one wrong answer
                 after another on the same target (the slips' answers are kept per target);
  depth 2        every pair of slips, for an answer no single slip explains;
  search         the single-slip search alone (what every slip gives: closed form for the
                 slips that change local derivatives, a rebuild for the others);
  replay-only    the same search with every slip rebuilt and swept by the engine: the peer
                 that shows what the closed form saves;
  backward       one engine backward pass of the same graph, the unit the others are
                 measured in.

Usage:
  python scripts/bench_diagnose.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import time

from microgradnet import Value
from microgradnet import functional as F
from microgradnet.catalogue.seed001 import build_s1_3
from microgradnet.diagnose import Checker, Problem, candidates, diagnose, replay
from microgradnet.diagnose.search import single_effects


def best(fn, repeat: int) -> float:
    """Best CPU time of ``repeat`` calls, in ms."""
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return 1000 * min(times)


def wide_network(n_in: int = 4, n_hidden: int = 8, n_out: int = 3) -> tuple:
    """A 4-8-3 tanh network with a mean squared error: 200-odd nodes."""
    xs = [Value(0.1 * (j + 1), label=f"i{j + 1}") for j in range(n_in)]
    params, hidden = [], []
    for k in range(n_hidden):
        ws = [Value(0.05 * (j - k), label=f"w{j + 1}{k + 1}") for j in range(n_in)]
        b = Value(0.1, label=f"b{k + 1}")
        h = F.sum([w * x for w, x in zip(ws, xs, strict=True)]) + b
        hidden.append(h.tanh())
        params += ws + [b]
    outs = []
    for m in range(n_out):
        vs = [Value(0.1 * (k - m), label=f"v{k + 1}{m + 1}") for k in range(n_hidden)]
        outs.append(F.sum([v * h for v, h in zip(vs, hidden, strict=True)]))
        params += vs
    loss = F.mse(outs, [0.5] * n_out, reduction="mean")
    loss.label = "L"
    return loss, params


def replay_only(p: Problem, target_text: str) -> list:
    """:func:`single_effects` with every slip rebuilt and swept by the engine."""
    t = p.target(target_text)
    expected = p.expected(t)
    out = []
    for s in candidates(p, t):
        v = replay(p, t, [s])
        if v is not None and abs(v - expected) > 1e-12 * max(1.0, abs(expected)):
            out.append((s, v))
    return out


def bench(name: str, root: Value, params: list, target: str, answers: list, lr: float,
          repeat: int) -> None:
    n = len(Problem(root, params, lr).order)
    checker = Checker(root, params, lr)
    checker.diagnose(target, answers[0])        # the slips' answers, kept per target
    cycle = iter(answers * (repeat * 4))
    p = checker.problem
    rows = [
        ("diagnose()", best(lambda: diagnose(root, target, answers[0], lr=lr, params=params),
                            repeat)),
        ("Checker, next answer", best(lambda: checker.diagnose(target, next(cycle)), repeat)),
        ("depth 2 (unexplained)", best(lambda: Checker(root, params, lr).diagnose(
            target, "123.456", depth=2), max(1, repeat // 3))),
        ("search", best(lambda: single_effects(p, p.target(target)), repeat)),
        ("replay-only search", best(lambda: replay_only(p, target), repeat)),
        ("backward", best(lambda: (root.zero_grad(), root.backward()), repeat)),
    ]
    unit = rows[-1][1]
    print(f"\n{name}: {n} nodes, {len(candidates(p, p.target(target)))} single slips "
          f"for {target}")
    print(f"  {'':24} {'CPU ms':>9} {'x backward':>11}")
    for label, ms in rows:
        print(f"  {label:24} {ms:9.3f} {ms / unit:11.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    net = build_s1_3()
    bench("S1-3 (seed 001)", net["MSE"], list(net["params"].values()), "dMSE/dw21",
          ["-2.0", "1.5", "-3.0", "0.0", "-2.5"], 0.1, args.repeat)
    loss, params = wide_network()
    bench("4-8-3 tanh network", loss, params, "dL/dw11", ["0.5", "-0.25"], 0.1, args.repeat)


if __name__ == "__main__":
    main()
