"""Every printed line is true: each line of arithmetic in the text, Markdown and LaTeX of an
explanation, re-evaluated from the numbers it prints, gives the result it prints (to the
printed precision when rounding), for every worked example of the catalogue, every problem in
examples/ and random graphs.

The lines are read back from the printed output only (never from the Step records), with
the op table's own float functions for the calls (``sigmoid(0.3)``, ``max(0, -0.5)``).
"""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from helpers import unwrap

from microgradnet import Value, maximum, ops
from microgradnet.cli import main
from microgradnet.explain import explain

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"

_PARAMETRISED = {"leaky_relu": ops.leaky_relu, "swish": ops.swish, "elu": ops.elu,
                 "abs": ops.abs_op, "max": ops.maximum, "min": ops.minimum, "relu": ops.relu}


def _function(name: str):
    plain = {"max": max, "min": min, "abs": abs}.get(name)
    if plain is None:
        for op in (ops.EXP, ops.LOG, ops.SQRT, ops.TANH, ops.SIGMOID, ops.SOFTPLUS, ops.SIN,
                   ops.COS, ops.TAN, ops.ATAN, ops.ERF, ops.SIGN, ops.GELU, ops.SOFTSIGN,
                   ops.MISH, ops.SELU):
            if op.name == name:
                plain = op.fn

    def call(*args, **params):
        if params:
            return _PARAMETRISED[name](**params).fn(*args)
        return plain(*args)
    return call


FUNCTIONS = {n: _function(n) for n in ("exp", "log", "sqrt", "tanh", "sigmoid", "softplus", "sin",
                                       "cos", "tan", "atan", "erf", "sign", "gelu", "softsign",
                                       "mish", "selu", "max", "min", "abs", "leaky_relu",
                                       "swish", "elu", "relu")}
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d*)?(?:e[+-]?\d+)?")
_CALL = re.compile(r"\b(" + "|".join(sorted(FUNCTIONS, key=len, reverse=True)) + r")\(")
_PARAM = re.compile(r"\b[a-z]+=")


def numeric(piece: str) -> bool:
    """Whether a printed expression is made of numbers, operators and known functions only."""
    rest = _PARAM.sub("", _CALL.sub("(", _NUMBER.sub("0", piece)))
    return not any(c.isalpha() for c in rest) and any(c.isdigit() for c in piece)


def evaluate(piece: str) -> float:
    code = piece.replace("^", "**").replace("; ", ", ")
    return float(eval(compile(code, "<printed>", "eval"), {"__builtins__": {}}, FUNCTIONS))


def _decimals(text: str) -> int:
    """The decimals a printed number shows (``0.574`` 3, ``2.762e-05`` 8)."""
    mantissa, _, exp = text.lower().partition("e")
    d = len(mantissa.partition(".")[2])
    return d - int(exp) if exp else d


def check_equation(pieces: list, value_text: str, rounded: bool, where: str) -> int:
    """Re-evaluate each numeric piece; returns how many were checked."""
    value = float(value_text)
    checked = 0
    for piece in pieces:
        if not numeric(piece):
            continue
        got = evaluate(piece)
        magnitude = max(1.0, abs(value), abs(got))
        tol = 1e-9 * magnitude
        if rounded:
            tol += 0.5 * 10.0 ** -_decimals(value_text) * (1 + 1e-9)
        assert abs(got - value) <= tol, f"{where}: {piece} = {got!r}, printed {value_text}"
        checked += 1
    return checked


_NOTE = re.compile(r"\s{3}\[.*\]$")
_UNROUNDED = re.compile(r"\s{2}\(unrounded [^)]*\)$")


def check_text(text: str, rounded: bool, where: str) -> int:
    checked = 0
    for block in text.split("\n\n"):
        lines = unwrap(block)
        if not lines or lines[0].startswith("Given"):
            continue
        for line in lines[1:]:
            body = _UNROUNDED.sub("", _NOTE.sub("", line.strip()))
            if " = " not in body and " <- " not in body:
                continue
            if " <- " in body:
                body = body.split(" <- ", 1)[1]
            else:
                body = body.split(" = ", 1)[1]
            pieces = body.split(" = ")
            checked += check_equation(pieces[:-1], pieces[-1], rounded, f"{where}: {line}")
    return checked


def _braced(s: str, i: int) -> tuple:
    """The text inside the braces opening at s[i], and the index after the closing one."""
    assert s[i] == "{", s[i:]
    depth = 0
    for j in range(i, len(s)):
        depth += {"{": 1, "}": -1}.get(s[j], 0)
        if depth == 0:
            return s[i + 1:j], j + 1
    raise ValueError(f"unbalanced braces in {s!r}")


def latex_to_text(s: str) -> str:
    """Our LaTeX arithmetic back as plain text: fractions, roots, powers, calls."""
    out, i = [], 0
    while i < len(s):
        for cmd, fmt in ((r"\frac", "(({})/({}))"), (r"\sqrt", "sqrt({})")):
            if s.startswith(cmd + "{", i):
                a, i = _braced(s, i + len(cmd))
                if cmd == r"\frac":
                    b, i = _braced(s, i)
                    out.append(fmt.format(latex_to_text(a), latex_to_text(b)))
                else:
                    out.append(fmt.format(latex_to_text(a)))
                break
        else:
            if s.startswith("^{", i):
                a, i = _braced(s, i + 1)
                out.append(f"^({latex_to_text(a)})")
            elif s.startswith(r"\operatorname{", i):
                a, i = _braced(s, i + len(r"\operatorname"))
                out.append(a)
            else:
                out.append(s[i])
                i += 1
    text = "".join(out)
    for a, b in ((r"\left(", "("), (r"\right)", ")"), (r"\cdot", "*"), (r"\max", "max"),
                 (r"\min", "min"), (r"\exp", "exp"), (r"\log", "log"), (r"\tanh", "tanh"),
                 (r"\sigma", "sigmoid"), (r"\lvert", "abs("), (r"\rvert", ")")):
        text = text.replace(a, b)
    return text


def check_latex(tex: str, rounded: bool, where: str) -> int:
    rows: list = []
    for line in tex.splitlines():
        if line.startswith((r"\begin", r"\end", r"\intertext", "& ", "%")):
            rows.append(None)
            continue
        body = line.removesuffix(r" \\")
        if body.startswith("&= "):
            rows[-1] += " = " + body[3:]
        elif body.startswith(r"&\quad "):
            rows[-1] += " " + body[len(r"&\quad "):]
        else:
            rows.append(body)
    checked = 0
    for row in rows:
        if row is None:
            continue
        row = re.sub(r" \\quad \(\\text\{unrounded \} [^)]*\)", "", row)
        row = re.sub(r" \\quad \\text\{\(.*\)\}$", "", row)
        rel = "&\\leftarrow " if "&\\leftarrow " in row else "&= "
        if rel not in row:
            continue
        pieces = [latex_to_text(p) for p in row.split(rel, 1)[1].split(" = ")]
        checked += check_equation(pieces[:-1], pieces[-1], rounded, f"{where}: {row}")
    return checked


def check_markdown(md: str, rounded: bool, where: str) -> int:
    checked = 0
    for line in md.splitlines():
        if not line.startswith("| ") or line.startswith("| |"):
            continue
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        _, formula, numbers, value = cells
        m = re.match(r"-?[\d.]+(?:e[+-]?\d+)?", value)
        assert m, f"{where}: no value in {line}"
        pieces = [p for cell in (formula, numbers) if cell
                  for p in cell.strip("`").split(" = ")]
        checked += check_equation(pieces, m.group(0), rounded, f"{where}: {line}")
    return checked


def check_all(e, rounded: bool, where: str) -> int:
    n = check_text(e.text(), rounded, where)
    check_latex(e.latex(), rounded, where + " (LaTeX)")
    check_markdown(e.markdown(), rounded, where + " (Markdown)")
    return n


# ---- the reader itself: it reads back what it should, and catches a false line ---------------

def test_the_reader_evaluates_printed_arithmetic():
    assert evaluate("0.5*(1.0 - 0.0)^2 + 0.5*(0.5 - (-1.5))^2") == 2.5
    assert evaluate("max(0, -0.5)") == 0.0 and numeric("sigmoid(0.3)")
    assert not numeric("0.5*h1") and not numeric("dMSE/do1*w31")
    assert latex_to_text(r"\frac{1}{2.0} \cdot \sqrt{4.0} + 3.0^{2}") == \
        "((1)/(2.0)) * sqrt(4.0) + 3.0^(2)"


def test_a_false_line_is_caught():
    with pytest.raises(AssertionError, match="printed 2.6"):
        check_text("Loss\n  L = 0.5*(1.0 - 0.0)^2 + 0.5*4.0 = 2.6\n", False, "made up")
    # rounded: 0.5744 shown to 3 decimals is 0.574, not 0.575
    assert check_text("Forward pass\n  h = sigmoid(0.3) = 0.574\n", True, "ok") == 1
    with pytest.raises(AssertionError):
        check_text("Forward pass\n  h = sigmoid(0.3) = 0.575\n", True, "made up")


# ---- the catalogue, the examples, random graphs ------------------------------------------------

def _catalogue():
    from microgradnet.catalogue import EXAMPLES
    from microgradnet.catalogue.run import find_param
    out = []
    for i, ex in sorted(EXAMPLES.items()):
        r = ex.run()
        if isinstance(r.graph, Value):
            extra = r.extra or {}
            w = find_param(r, extra["wrt"]) if extra.get("wrt") else None
            out.append((i, r.graph, w, extra.get("lr") if w is not None else None))
    return out


@pytest.fixture(scope="module")
def catalogue():
    return _catalogue()


@pytest.mark.parametrize("decimals", [None, 3])
def test_every_line_of_every_worked_example_is_true(catalogue, decimals):
    assert len(catalogue) > 30
    total = 0
    for i, root, w, lr in catalogue:
        e = explain(root, wrt=w, lr=lr, decimals=decimals, nodes=True, list_paths=8)
        n = check_all(e, decimals is not None, i)
        assert n > 0, f"{i}: no line of arithmetic was read back"
        total += n
    assert total > 500


PROBLEMS = sorted(EXAMPLES_DIR.glob("*.toml")) + sorted(EXAMPLES_DIR.glob("*.py"))


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["text", "--latex", "--markdown"])
@pytest.mark.parametrize("rounding", [[], ["--round", "3"]], ids=["exact", "round3"])
def test_every_line_of_every_example_problem_is_true(capsys, path, fmt, rounding):
    args = ["solve", str(path)] + ([fmt] if fmt != "text" else []) + rounding
    assert main(args) == 0
    out = capsys.readouterr().out
    check = {"text": check_text, "--latex": check_latex, "--markdown": check_markdown}[fmt]
    assert check(out, bool(rounding), path.name) > 10


def _random_graph(rng: random.Random):
    """Labelled leaves, then ops of every kind, some results labelled, some used twice."""
    xs = [Value(round(rng.uniform(-2, 2), 3), label=f"x{i + 1}") for i in range(4)]
    nodes = list(xs)
    for k in range(14):
        a, b = rng.choice(nodes), rng.choice(nodes)
        kind = rng.choice("+-*/tsreqml")
        if kind == "+":
            c = a + b
        elif kind == "-":
            c = a - b
        elif kind == "*":
            c = a * b
        elif kind == "/":
            c = a / (b * b + 1.0)
        elif kind == "t":
            c = a.tanh()
        elif kind == "s":
            c = a.sigmoid()
        elif kind == "r":
            c = a.relu()
        elif kind == "e":
            c = (a * 0.3).exp()
        elif kind == "q":
            c = a ** 2
        elif kind == "m":
            c = maximum(a, b)
        else:
            c = (a * a + 1.0).log()
        if rng.random() < 0.4:
            c.label = f"h{k + 1}"
        nodes.append(c)
    root = nodes[-1] * nodes[-2] + nodes[-3]
    root.label = "L"
    return root, xs


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("decimals", [None, 2])
def test_every_line_of_random_graphs_is_true(seed, decimals):
    root, xs = _random_graph(random.Random(seed))
    e = explain(root, wrt=xs[:2], lr=0.1, decimals=decimals, nodes=True, list_paths=6)
    assert check_all(e, decimals is not None, f"seed {seed}") > 5
