"""The catalogue's commands: ``list``, ``show`` and ``verify``.

``microgradnet show S1-3 --render out/s1-3.svg`` prints the worked examples S1-3.1 to S1-3.3
as one step-through (forward pass, loss, chain rule for w21, update) and writes the pictures
``out/s1-3-forward.svg``, ``out/s1-3-backward.svg`` and ``out/s1-3-update.svg``.
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Optional, TextIO

from ..catalogue import experiments
from ..catalogue.base import EXAMPLES, Example, Result
from ..catalogue.run import explain_result, find_param, resolve_ids, run_all, sort_ids
from ..engine import Value
from ..explain import Explanation, explain
from ..explain.records import md_line, md_text
from ..formula import visible
from ..graph import count_paths
from .common import (FAILED, USAGE, add_output_option, add_round_option, add_wrt_option,
                     example_record, id_candidates, print_json, unknown_name)

__all__ = ["add_commands", "render_result", "MAX_FORWARD_LINES", "PATHS_LISTED"]

#: What an unknown id's error says when no id is close to it.
LIST_HINT = "; `microgradnet list` shows every id"

#: A worked example's graph with more named nodes than this is summarised, not printed.
MAX_FORWARD_LINES = 80
#: A parameter with more paths than this gets the backward pass node by node instead.
PATHS_LISTED = 8

def render_result(result: Result, path: str, wrt: Optional[str] = None,
                  lr: Optional[float] = None) -> list:
    """Write the pictures of a worked example's graph: ``<stem>-forward<suffix>``,
    ``<stem>-backward<suffix>`` and, with a parameter to update, ``<stem>-update<suffix>``
    (the parameter's paths highlighted in the last two).

    Returns:
        The paths written.

    Raises:
        ValueError: the example has no graph, or the suffix names no picture format.
        RuntimeError: the format needs the Graphviz ``dot`` program and it is not there
            (:class:`~microgradnet.viz.GraphvizNotFoundError`), or it failed.
    """
    from .. import viz   # here, not at the top: `microgradnet list` does not load the pictures
    root = result.graph
    if not isinstance(root, Value):
        raise ValueError("this worked example has no graph to draw")
    extra = result.extra or {}
    label = wrt or extra.get("wrt")
    target = find_param(result, label) if label else None
    rate = lr if lr is not None else extra.get("lr")
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    suffix = p.suffix or ".svg"
    stem = p.with_suffix("")
    params = extra.get("params")
    if isinstance(params, dict):
        params = list(params.values())
    root.zero_grad()
    root.backward()
    written = []
    params = params or None                   # none listed: the picture's default
    out = Path(f"{stem}-forward{suffix}")
    viz.render(root, out, stage="forward", params=params)
    written.append(out)
    out = Path(f"{stem}-backward{suffix}")
    viz.render(root, out, stage="backward", highlight=target, params=params)
    written.append(out)
    if target is not None and rate is not None:
        updates = extra.get("updates")
        if lr is not None or not updates or target not in updates:
            g = target.grad
            updates = {target: (target.data, g, float(rate), target.data - float(rate) * g)}
        out = Path(f"{stem}-update{suffix}")
        viz.render(root, out, stage="update", highlight=target, updates=updates, params=params)
        written.append(out)
    return written


# ---- the commands ------------------------------------------------------------------------------

def add_commands(subparsers) -> None:
    """Add ``list``, ``show`` and ``verify`` to the ``microgradnet`` command line."""
    p = subparsers.add_parser("list", help="the worked examples, one line each",
                              description="List the worked examples of the catalogue.")
    p.add_argument("group", nargs="?", help="only ids in this group, e.g. S1 or S1-3")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list, one object per example (id, seed, section, title)")
    p.set_defaults(func=_list)

    p = subparsers.add_parser(
        "show", help="step through a worked example",
        description="Print a worked example: what the seed says, what the engine says, the "
                    "verdict, and the step-through (forward pass, loss, chain rule, update). "
                    "ID may be a group: `show S1-3` steps through S1-3.1 to S1-3.3.")
    p.add_argument("id", metavar="ID", help="a claim id (S1-3.3) or a group (S1-3)")
    p.add_argument("--step", action="store_true",
                   help="pause for Enter between steps (q then Enter stops)")
    add_output_option(p, metavar="FILE", aliases=("--render",),
                      help="also write the pictures: FILE-forward, FILE-backward, FILE-update "
                           "(the suffix picks the format: .svg, .png, .pdf, .dot)")
    add_round_option(p, help="round intermediates to K decimals, as a hand-worked sheet does")
    add_wrt_option(p, help="differentiate with respect to this node (default: the example's "
                           "parameter, e.g. w21)")
    p.add_argument("--lr", type=float, help="learning rate of the update step")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="print the derivation as LaTeX")
    fmt.add_argument("--markdown", action="store_true", help="print it as Markdown")
    fmt.add_argument("--json", action="store_true",
                     help="print a JSON list, one object per claim, as verify --json does")
    p.set_defaults(func=_show)

    p = subparsers.add_parser(
        "verify", help="check every claim against the engine",
        description="Run every worked example and print id, what the seed says, what the "
                    "engine says and the verdict. Exits with 1 if a check breaks.")
    p.add_argument("ids", nargs="*", metavar="ID", help="only these ids or groups")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per "
                   "claim (id, verdict, seed, engine, note, values, ...)")
    p.add_argument("--wide", action="store_true", help="do not shorten the table's cells")
    p.add_argument("--results", metavar="DIR",
                   help="judge the training examples (S1-1.4, S3-Q2-5) on the results of your "
                        "own run, the --out DIR of `microgradnet train`, instead of the "
                        "recorded ones (as $MICROGRADNET_RESULTS does)")
    p.set_defaults(func=_verify)


def _list(args: argparse.Namespace) -> int:
    ids = resolve_ids(args.group) if args.group else sort_ids(EXAMPLES)
    if not ids:
        print(unknown_name("list", "group", args.group, id_candidates(sort_ids(EXAMPLES)),
                           hint=LIST_HINT), file=sys.stderr)
        return USAGE
    if args.json:
        print_json([example_record(EXAMPLES[i]) for i in ids])
        return 0
    width = max(len(i) for i in ids)
    for i in ids:
        ex = EXAMPLES[i]
        print(f"{i:<{width}}  seed {ex.seed.split('_')[0]} {ex.section:<9} {ex.title}")
    return 0


def _explanation(r: Result, wrt: Optional[str], lr: Optional[float],
                 decimals: Optional[int]) -> Optional[Explanation]:
    """The step-through of a worked example: as :func:`explain_result` gives it, except that a
    parameter with more than :data:`PATHS_LISTED` paths gets the backward pass node by node
    instead of its paths one by one."""
    expl = explain_result(r, wrt, lr, decimals)   # checks wrt, and is the one to compare with
    label = wrt or (r.extra or {}).get("wrt")
    if expl is None or not label:
        return expl
    node = find_param(r, label)
    if node is None or count_paths(r.graph, node) <= PATHS_LISTED:
        return expl
    rate = lr if lr is not None else (r.extra or {}).get("lr")
    return explain(r.graph, wrt=node, lr=rate, decimals=decimals, nodes="wrt",
                   list_paths=PATHS_LISTED)


def _header(ex: Example, r: Result, style: str) -> str:
    rows = ([("problem", r.problem)] if r.problem else []) + [
        ("seed says", r.seed_says), ("engine says", r.engine_says), ("verdict", r.verdict)]
    rows += [("note", r.note)] if r.note else []
    title = f"{ex.id}: {ex.title} (seed {ex.seed}, section {ex.section})"
    if style == "markdown":
        return f"## {md_line(title)}\n\n" + "\n".join(f"- **{k}**: {md_text(str(v))}"
                                                     for k, v in rows) + "\n"
    if style == "latex":  # comment lines: nothing in them may start a new line
        return "% " + visible(title) + "\n" + "\n".join(f"% {k}: {visible(str(v))}"
                                                        for k, v in rows) + "\n"
    return textwrap.fill(title, 100, subsequent_indent="  ") + "\n" + "\n".join(
        textwrap.fill(str(v), 96, initial_indent=f"  {k + ':':<13}", subsequent_indent=" " * 15)
        for k, v in rows) + "\n"


def _pause(stdin: TextIO, state: dict) -> bool:
    """Wait for Enter; False when the user typed q (stop). EOF stops the pausing only."""
    if not state["pausing"]:
        return True
    print("-- Enter: next step, q: quit --", flush=True)
    line = stdin.readline()
    if not line:
        state["pausing"] = False
        return True
    return line.strip().lower() != "q"


def _show(args: argparse.Namespace) -> int:
    err = sys.stderr
    ids = resolve_ids(args.id)
    if not ids:
        print(unknown_name("show", "worked example", args.id, id_candidates(sort_ids(EXAMPLES)),
                           hint=LIST_HINT), file=err)
        return USAGE
    if args.json:
        rows = run_all(ids)
        print_json([{k: v for k, v in r.items() if k != "traceback"} for r in rows])
        return FAILED if any(r["verdict"] == "error" for r in rows) else 0
    style = "latex" if args.latex else "markdown" if args.markdown else "text"
    state = {"pausing": bool(args.step)}
    shown: set = set()
    last: Optional[Result] = None
    status = 0
    first = True
    for i in ids:
        ex = EXAMPLES[i]
        try:
            r = ex.run()
        except Exception as e:
            print(f"{i}: the check broke: {type(e).__name__}: {e}", file=err)
            status = 1
            continue
        chunks = [_header(ex, r, style)]
        try:
            expl = _explanation(r, args.wrt, args.lr, args.decimals)
        except ValueError as exc:
            print(f"microgradnet show: {i}: {exc}", file=err)
            return 2
        if expl is not None:
            last = r
            want = (r.extra or {}).get("sections")
            if want and "backward" in want:
                want = tuple(want) + ("nodes",)   # the backward pass node by node goes with it
            secs = [s for s in expl.sections if (not want or s.key in want) and s.key not in shown]
            if len(ids) == 1 and want:
                # A single claim shows what leads up to it too (given, forward, loss...).
                upto = max(i for i, s in enumerate(expl.sections) if s.key in want)
                secs = expl.sections[:upto + 1]
            forward = [s for s in secs if s.key == "forward"]
            if forward and len(forward[0].steps) > MAX_FORWARD_LINES:
                n = len(forward[0].steps)
                secs = [s for s in secs if s.key not in ("given", "forward")]
                chunks.append(f"(the forward pass has {n} named nodes; use --render to see "
                              "the graph)\n")
            shown.update(s.key for s in secs)
            sub = Explanation(secs, args.decimals)
            if style == "latex":
                if secs:
                    chunks.append(sub.latex())
            elif style == "markdown":
                chunks += [Explanation([s], args.decimals).markdown() for s in secs]
            else:
                chunks += [sub.section_text(s) + "\n" for s in secs]
        for c in chunks:
            if not first and not _pause(sys.stdin, state):
                return status
            first = False
            print(c)
    if args.out:
        if last is None:
            print("microgradnet show: nothing to draw: these worked examples have no graph",
                  file=err)
            return 1
        try:
            written = render_result(last, args.out, args.wrt, args.lr)
        except (ValueError, OSError, RuntimeError) as exc:
            # what drawing can meet: no graph, an unwritable path, no Graphviz for a png; a
            # broken import is a bug and fails with its traceback
            print(f"microgradnet show: cannot draw pictures: {type(exc).__name__}: {exc}",
                  file=err)
            return 1
        for w in written:
            print(f"wrote {w}")
    return status


def _cell(s: str, width: int, wide: bool) -> str:
    s = " ".join(str(s).split())
    if wide or len(s) <= width:
        return s
    return s[:width - 3] + "..."


def _verify(args: argparse.Namespace) -> int:
    ids: Optional[list] = None
    if args.ids:
        ids = []
        for q in args.ids:
            got = resolve_ids(q)
            if not got:
                print(unknown_name("verify", "worked example", q,
                                   id_candidates(sort_ids(EXAMPLES)), hint=LIST_HINT),
                      file=sys.stderr)
                return USAGE
            ids += [i for i in got if i not in ids]
    if args.results is None:
        rows = run_all(ids)
    else:
        results = Path(args.results)
        if not results.is_dir():
            print(f"microgradnet verify: --results {args.results}: no such directory",
                  file=sys.stderr)
            return 2
        experiments.use_results_dir(str(results))
        try:
            rows = run_all(ids)
        finally:   # a caller in the same process (a notebook, a test) keeps the default
            experiments.use_results_dir(None)
    broken = [r for r in rows if r["verdict"] == "error"]
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "traceback"} for r in rows],
                         indent=2))
    else:
        idw = max([len(r["id"]) for r in rows] + [2])
        print(f"{'id':<{idw}}  {'verdict':<10}  {'seed says':<44}  engine says")
        print("-" * (idw + 104))
        for r in rows:
            engine = r["engine"] if r["verdict"] != "error" else r["error"]
            print(f"{r['id']:<{idw}}  {r['verdict']:<10}  "
                  f"{_cell(r['seed'], 44, args.wide):<44}  {_cell(engine, 44, args.wide)}")
        counts: dict = {}
        for r in rows:
            counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        print()
        print(f"{len(rows)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.items()))
        for r in broken:
            print(f"\n{r['id']} broke:\n{r['traceback']}", file=sys.stderr)
    return 1 if broken else 0
