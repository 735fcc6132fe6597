"""How long ``import microgradnet`` takes, in fresh interpreters.

Prints the median and range over --runs interpreters of: the import itself (wall time around
the import statement, in the child), and the whole ``python -c "import microgradnet"`` process
less a ``python -c pass`` one, so interpreter start-up is not counted. Then the modules that
take longest, from ``python -X importtime`` in one more interpreter.

Usage:
  python scripts/import_time.py [--runs 15] [--module microgradnet] [--top 12]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout whose package is timed
TIMED = ("import time as _t; _t0 = _t.perf_counter(); import {m}; "
         "print(_t.perf_counter() - _t0)")


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def wall(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=child_env(),
                   capture_output=True)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--module", default="microgradnet")
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args(argv)
    inside, process = [], []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, "-c", TIMED.format(m=args.module)], check=True,
                             env=child_env(), capture_output=True, text=True).stdout
        inside.append(float(out.split()[-1]))
        process.append(wall(f"import {args.module}") - wall("pass"))
    where = subprocess.run([sys.executable, "-c", f"import {args.module}; "
                            f"print({args.module}.__file__)"], env=child_env(),
                           capture_output=True, text=True).stdout.strip()
    print(f"import {args.module} ({where}), {args.runs} fresh interpreters:")
    for name, xs in (("the import statement", inside), ("process less `python -c pass`",
                                                          process)):
        print(f"  {name:<32} median {statistics.median(xs) * 1e3:6.1f} ms, "
              f"range {min(xs) * 1e3:.1f}-{max(xs) * 1e3:.1f} ms")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {args.module}"],
                          env=child_env(), capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines()[1:]:
        try:
            _, self_us, cumulative_us, name = (p.strip() for p in line.replace(":", "|", 1)
                                               .split("|"))
            rows.append((int(cumulative_us), int(self_us), name.strip()))
        except ValueError:
            continue
    print("slowest modules (cumulative, from -X importtime; one run):")
    for cum, own, name in sorted(rows, reverse=True)[:args.top]:
        print(f"  {cum / 1e3:7.1f} ms  (own {own / 1e3:5.1f} ms)  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
