"""How long the everyday commands take, each in fresh processes, against their targets.

Runs each command --runs times as a whole process (``python -m microgradnet ...`` with this
checkout first on the path) and prints the median and range of the wall time and of the CPU time
of the child (user + system, from the OS), less the same figures for ``python -c pass`` so that
interpreter start-up is not counted, next to the target. The import is timed the same way.
Drawings are written to a temporary folder.

Targets: ``import microgradnet`` under 100 ms, ``show ID`` under 0.5 s, ``verify`` under 3 s.

Usage:
  python scripts/bench_commands.py [--runs 5]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout whose package is timed


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run(argv: list, cwd: str) -> tuple:
    """(wall seconds, child CPU seconds) of one process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, *argv], env=child_env(), cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr}")
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    commands = [  # (what, argv, target seconds)
        ("import microgradnet", ["-c", "import microgradnet"], 0.1),
        ("microgradnet show S1-3", ["-m", "microgradnet", "show", "S1-3"], 0.5),
        ("microgradnet verify", ["-m", "microgradnet", "verify"], 3.0),
        ("microgradnet render S1-3.3 -o s.svg", ["-m", "microgradnet", "render", "S1-3.3",
                                                 "-o", "s.svg"], None),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        base = [run(["-c", "pass"], tmp) for _ in range(args.runs)]
        base_wall = statistics.median(w for w, _ in base)
        base_cpu = statistics.median(c for _, c in base)
        print(f"{args.runs} fresh processes each, {sys.executable}; python -c pass: "
              f"{base_wall * 1e3:.0f} ms wall, {base_cpu * 1e3:.0f} ms CPU (taken off below)")
        print(f"{'command':<36}{'wall median':>12}{'range':>16}{'CPU median':>12}  target")
        for what, cmd, target in commands:
            times = [run(cmd, tmp) for _ in range(args.runs)]
            walls = [w - base_wall for w, _ in times]
            cpus = [c - base_cpu for _, c in times]
            med = statistics.median(walls)
            verdict = ""
            if target is not None:
                ok = max(walls) < target
                verdict = f"< {target:g} s: {'met' if ok else 'NOT met'} (slowest run)"
            print(f"{what:<36}{med:>10.3f} s{min(walls):>8.3f}-{max(walls):.3f} s"
                  f"{statistics.median(cpus):>10.3f} s  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
