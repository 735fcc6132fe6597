"""What every ``microgradnet`` command shares: exit statuses, one-line errors, option names,
suggestions for mistyped names, JSON output and output folders.

Exit statuses (docs/cli.md lists them for users):

======  ==========================================================================
0       success
1       a check or a step failed (``verify`` found a broken check, a picture could
        not be drawn)
2       a usage error: a bad option or value, an unknown id, an output that would
        overwrite results without ``--force``
3       a missing dependency: an optional extra (``pip install "microgradnet[data]"``)
        or the Graphviz program
130     interrupted (Ctrl-C)
141     the reader of the output went away (``microgradnet list | head``)
======  ==========================================================================
"""
from __future__ import annotations

import argparse
import difflib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Optional, TextIO

from ..problem.records import MAX_DECIMALS

__all__ = ["OK", "FAILED", "USAGE", "MISSING", "INTERRUPTED", "BROKEN_PIPE", "EXTRAS",
           "missing_extra", "did_you_mean", "unknown_name", "id_candidates", "add_output_option",
           "add_wrt_option", "add_round_option", "print_json", "example_record",
           "choose_output_dir", "OutputError", "deepest_parser", "unrecognised", "run_command",
           "interrupted", "printable_stdout", "decimal_places", "MAX_DECIMALS", "seconds"]

OK, FAILED, USAGE, MISSING, INTERRUPTED, BROKEN_PIPE = 0, 1, 2, 3, 130, 141

#: The optional imports, by the name Python imports them under: (the package to install,
#: the extra that brings it).
EXTRAS = {
    "sklearn": ("scikit-learn", "data"),
    "tqdm": ("tqdm", "data"),
    "matplotlib": ("matplotlib", "plot"),
    "jupytext": ("jupytext", "notebooks"),
    "nbclient": ("nbclient", "notebooks"),
    "torch": ("torch", "test"),
    "micrograd": ("micrograd", "bench"),
}


def missing_extra(exc: ImportError) -> Optional[str]:
    """The one line to print for an ImportError of an optional dependency, or None when the
    error is something else (a broken import inside microgradnet is a bug: let it show).

    Example:
        >>> missing_extra(ModuleNotFoundError("No module named 'sklearn'", name="sklearn"))
        'scikit-learn is not installed: pip install "microgradnet[data]"'
        >>> missing_extra(ModuleNotFoundError("x", name="microgradnet.viz.dot")) is None
        True
    """
    extra = getattr(exc, "extra", None)
    if extra is not None:                 # raised by the package, already worded
        return str(exc)
    name = (getattr(exc, "name", None) or "").split(".")[0]
    if name not in EXTRAS:
        return None
    package, extra = EXTRAS[name]
    return f'{package} is not installed: pip install "microgradnet[{extra}]"'


def did_you_mean(word: str, candidates: Iterable[str], n: int = 3) -> str:
    """``" (did you mean S1-3.3?)"`` for the closest candidates, or ``""``; case-insensitive,
    with difflib's default cut-off of 0.6.

    Example:
        >>> did_you_mean("s1-3.4", ["S1-3.1", "S1-3.3", "S2-Q5"])
        ' (did you mean S1-3.3 or S1-3.1?)'
        >>> did_you_mean("zzz", ["S1-3.1"])
        ''
    """
    by_lower: dict = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    close = [by_lower[c] for c in difflib.get_close_matches(word.lower(), list(by_lower), n)]
    if not close:
        return ""
    said = close[0] if len(close) == 1 else ", ".join(close[:-1]) + " or " + close[-1]
    return f" (did you mean {said}?)"


def id_candidates(ids: Iterable[str]) -> list:
    """Every id and every group it belongs to, the names ``show``, ``list`` and ``verify``
    accept: ``S1-3.3`` gives ``S1``, ``S1-3`` and ``S1-3.3``.

    Example:
        >>> id_candidates(["S1-3.3", "S2-Q5"])
        ['S1', 'S1-3', 'S1-3.3', 'S2', 'S2-Q5']
    """
    out: dict = {}
    for i in ids:
        cuts = [k for k, ch in enumerate(i) if ch in "-."]
        for k in cuts:
            out.setdefault(i[:k], None)
        out.setdefault(i, None)
    return list(out)


def unknown_name(command: str, what: str, word: str, candidates: Iterable[str],
                 hint: str = "") -> str:
    """The one-line error for a name that is not known, with suggestions, else ``hint``.

    Example:
        >>> unknown_name("show", "worked example", "S1-33", ["S1-3", "S1-3.3", "S2-Q5"])
        "microgradnet show: no worked example 'S1-33' (did you mean S1-3.3 or S1-3?)"
        >>> unknown_name("show", "worked example", "S9-9", ["S1-3.3"], hint="; see list")
        "microgradnet show: no worked example 'S9-9'; see list"
    """
    return (f"microgradnet {command}: no {what} {word!r}"
            f"{did_you_mean(word, candidates) or hint}")


# ---- one option name per concept ------------------------------------------------------------

def add_output_option(parser: argparse.ArgumentParser, help: str, required: bool = False,
                      default=None, metavar: str = "PATH",
                      aliases: tuple = ()) -> argparse.Action:
    """``-o/--out PATH`` (``--output`` and any ``aliases``, such as ``show``'s ``--render``,
    kept as aliases), stored as ``args.out``."""
    return parser.add_argument("-o", "--out", "--output", *aliases, dest="out",
                               required=required, default=default, metavar=metavar, help=help)


def add_wrt_option(parser: argparse.ArgumentParser, help: str) -> argparse.Action:
    """``--wrt LABEL`` (``--highlight`` kept as an alias), stored as ``args.wrt``."""
    return parser.add_argument("--wrt", "--highlight", dest="wrt", metavar="LABEL", help=help)




def decimal_places(text: str) -> int:
    """An argparse type: a number of decimals, 0 to :data:`MAX_DECIMALS`."""
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of decimals, got "
                                         f"{text!r}") from None
    if not 0 <= k <= MAX_DECIMALS:
        raise argparse.ArgumentTypeError(f"needs 0 <= K <= {MAX_DECIMALS} (a float holds about "
                                         f"15 significant digits), got {k}")
    return k


def seconds(text: str) -> float:
    """An argparse type: a number of seconds, finite and > 0 (``--timeout``)."""
    try:
        s = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") \
            from None
    if not math.isfinite(s) or s <= 0:
        raise argparse.ArgumentTypeError(f"needs a finite number of seconds > 0, got {text!r}")
    return s


def add_round_option(parser: argparse.ArgumentParser, help: str,
                     default: Optional[int] = None) -> argparse.Action:
    """``--round K`` (``--precision`` kept as an alias), K >= 0, stored as ``args.decimals``."""
    return parser.add_argument("--round", "--precision", dest="decimals", type=decimal_places,
                               default=default, metavar="K", help=help)


# ---- JSON ------------------------------------------------------------------------------------

def print_json(obj, file: Optional[TextIO] = None) -> None:
    """``obj`` as indented JSON on one stream (stdout by default), keys in the order given,
    non-ASCII kept readable; anything JSON cannot hold is written with ``str``."""
    print(json.dumps(obj, indent=2, ensure_ascii=False, default=str),
          file=file if file is not None else sys.stdout)


def example_record(ex) -> dict:
    """One worked example as ``list --json`` shows it: id, seed, section, title."""
    return {"id": ex.id, "seed": ex.seed, "section": ex.section, "title": ex.title}


# ---- output folders --------------------------------------------------------------------------

class OutputError(ValueError):
    """An output folder that cannot or must not be written."""


def choose_output_dir(out: Optional[str], produces: Iterable[str], force: bool = False,
                      stem: str = "run", parent: str = "runs") -> Optional[Path]:
    """The folder a command writes ``produces`` (file names) into, checked before any work.

    - ``out=None``: a new folder ``<parent>/<stem>-<date>-<time>`` that did not exist;
    - ``out=""``: write nothing (returns None);
    - an existing folder that already holds one of ``produces`` is refused unless ``force``,
      so committed results are never replaced by accident.

    The folder is created and a file is written to it and removed, so a read-only place fails
    now, not after minutes of training.

    Raises:
        OutputError: the files exist (without ``force``), the path is a file, or it is not
            writable.
    """
    if out == "":
        return None
    if out is None:
        base = Path(parent) / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"
        path, i = base, 1
        while path.exists():
            i += 1
            path = Path(f"{base}-{i}")
    else:
        path = Path(out)
    if path.exists() and not path.is_dir():
        raise OutputError(f"--out {path}: is a file, not a folder")
    clash = sorted(name for name in produces if (path / name).exists())
    if clash and not force:
        raise OutputError(f"--out {path}: would overwrite {', '.join(clash)}; pass --force to "
                          f"replace them, or choose another folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as e:
        raise OutputError(f"--out {path}: cannot write there ({e.strerror or e})") from None
    return path


# ---- running a command ----------------------------------------------------------------------

def interrupted() -> int:
    """Ctrl-C in `show --step` or `train`: one line, the shell's status for SIGINT."""
    print("\nmicrogradnet: interrupted", file=sys.stderr)
    return INTERRUPTED


def run_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """``func(args)``, the command chosen, with what every command shares turned into one line
    and its exit status: Ctrl-C, a missing optional dependency, a reader that went away."""
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return interrupted()
    except ImportError as e:
        line = missing_extra(e)
        if line is None:
            raise
        command = " ".join(w for w in (getattr(args, "command", None),
                                       getattr(args, "experiment", None)) if w)
        print(f"microgradnet {command}: {line}", file=sys.stderr)
        return MISSING
    except BrokenPipeError:
        # `microgradnet list | head`: the reader left; quiet exit, as other Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE


def printable_stdout() -> None:
    """Let stdout print what its encoding cannot hold instead of failing: a console without
    the partial sign (a Windows code page) prints ``?`` for it (explanations write local
    derivatives as ``∂o1/∂h3``), and a label holding a lone surrogate (``"x\\ud800"``, which
    no encoding holds) is printed as the escape ``\\ud800``."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is None:
        return
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        "\u2202".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        reconfigure(errors="replace")
        return
    reconfigure(errors="backslashreplace")


# ---- parsing ---------------------------------------------------------------------------------

def deepest_parser(parser: argparse.ArgumentParser,
                   args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the command that ``args`` chose: ``train classifiers`` gives the
    ``classifiers`` parser, so its usage is the one to show."""
    while True:
        sub = next((a for a in parser._actions
                    if isinstance(a, argparse._SubParsersAction)), None)
        if sub is None:
            return parser
        name = getattr(args, sub.dest, None)
        if name is None or name not in sub.choices:
            return parser
        parser = sub.choices[name]


def unrecognised(parser: argparse.ArgumentParser, extras: list) -> str:
    """The message for arguments no option takes, suggesting the options of ``parser``.

    Example:
        >>> p = argparse.ArgumentParser()
        >>> _ = p.add_argument("--highlight")
        >>> unrecognised(p, ["--highlite", "x"])
        'unrecognized arguments: --highlite x (--highlite: did you mean --highlight?)'
    """
    options = [o for a in parser._actions for o in a.option_strings]
    hints = []
    for word in extras:
        if word.startswith("-"):
            flag = word.split("=", 1)[0]
            hint = did_you_mean(flag, options, n=1)
            if hint:
                hints.append(f"{flag}: {hint.strip(' ()')}")
    text = "unrecognized arguments: " + " ".join(extras)
    return text + (f" ({'; '.join(hints)})" if hints else "")
