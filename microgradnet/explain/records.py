"""What an explanation is made of (steps in sections) and how it prints: text, LaTeX, Markdown."""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

from ..formula import format_number, latex_text, visible

__all__ = ["Step", "Section", "Explanation", "WIDTH", "wrap_equation", "split_sum",
           "split_product", "md_code", "md_text", "md_line"]

#: The width of a line of text: longer equations are broken after each ``=`` and, inside a
#: long sum, before a ``+`` or ``-`` outside brackets.
WIDTH = 100
#: The characters of LaTeX source per row of an ``align*`` block before it is broken.
LATEX_WIDTH = 160


def _levels(text: str, latex: bool = False):
    """``(index, depth)`` of each character a line may be cut at, with the number of brackets
    around it: not a bracket itself, and in LaTeX source outside every ``{...}`` group (a
    ``\\text{}`` name, a ``\\frac``'s argument), an escaped character (``\\{``) being text
    and only ``(`` and ``[`` counting as brackets."""
    level = group = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if latex and ch == "\\":
            i += 2
            continue
        if latex and ch in "{}":
            group += 1 if ch == "{" else -1
        elif group == 0:
            if ch in "([" or (ch == "{" and not latex):
                level += 1
            elif ch in ")]" or (ch == "}" and not latex):
                level -= 1
            else:
                yield i, level
        i += 1


def split_sum(text: str, depth: int = 0, latex: bool = False) -> list:
    """The terms of a sum written out, each with its sign: ``a + b*(c - d) - e`` gives
    ``["a", "+ b*(c - d)", "- e"]``; with ``depth`` the sum inside that many brackets
    (``(a + b)/2`` at depth 1: ``["(a", "+ b)/2"]``); with ``latex`` never inside a group."""
    out, start, resume = [], 0, 0
    for i, level in _levels(text, latex):
        if i >= resume and level == depth and text.startswith((" + ", " - "), i):
            out.append(text[start:i])
            start, resume = i + 1, i + 3
    out.append(text[start:])
    return out


def split_product(text: str, latex: bool = False) -> list:
    """The factors of a product, each after the first with its ``*``: ``a*(b + c)*d`` gives
    ``["a", "*(b + c)", "*d"]`` (brackets are never split, nor a LaTeX group)."""
    out, start = [], 0
    for i, level in _levels(text, latex):
        if text[i] == "*" and level == 0 and i > start:
            out.append(text[start:i])
            start = i
    out.append(text[start:])
    return out


def _chunks(text: str, width: int, latex: bool = False) -> list:
    """``text`` cut into ``(glue, chunk)`` pieces no longer than ``width`` where it can be:
    between the terms of a sum (the shallowest one inside brackets if need be), else between
    factors. LaTeX is cut at the top level only: a row cannot end inside ``\\left(``."""
    if len(text) <= width:
        return [(" ", text)]
    for depth in range(1 if latex else 4):
        terms = split_sum(text, depth, latex)
        if len(terms) > 1:
            return [piece for t in terms for piece in _chunks(t, width, latex)]
    factors = split_product(text, latex)
    if len(factors) > 1:
        out = []
        for k, f in enumerate(factors):
            got = _chunks(f, width, latex)
            out += [("" if k and m == 0 else glue, c) for m, (glue, c) in enumerate(got)]
        return out
    return [(" ", text)]


def _fill(piece: str, width: int, latex: bool = False) -> list:
    """A long expression as rows of at most ``width`` characters where it can be: a row
    after the first starts with the ``+``, ``-`` or ``*`` it was cut before."""
    rows: list = []
    for glue, chunk in _chunks(piece, width, latex):
        if rows and len(rows[-1]) + len(glue) + len(chunk) <= width:
            rows[-1] += glue + chunk
        else:
            rows.append(chunk)
    return rows


def wrap_equation(head: str, pieces: Sequence[str], tail: str = "", width: int = WIDTH) -> list:
    """``head piece1 = piece2 = ... tail`` as lines of at most ``width`` characters where it
    can be: on one line if it fits, else one piece per line, each continued line starting
    with ``=`` under the first one, and a long sum broken before its ``+``/``-`` terms."""
    line = head + " = ".join(pieces) + tail
    if len(line) <= width:
        return [line]
    eq = " " * (len(head) - 2)             # the "=" of a continued line under the first one
    out: list = []
    first = head
    if len(eq) > width // 2:
        # a long left-hand side gets a line of its own, the rest goes four in from it
        lhs, rel = head.rstrip().rsplit(" ", 1)
        eq = " " * (len(head) - len(head.lstrip()) + 4)
        out.append(lhs)
        first = eq + rel + " "
    for i, piece in enumerate(pieces):
        lead = first if i == 0 else eq + "= "
        rows = _fill(piece, max(width - len(lead), 40))
        out.append(lead + rows[0])
        out += [" " * len(lead) + r for r in rows[1:]]
    out[-1] += tail
    return out

# ---- explanation records -----------------------------------------------------------------------

@dataclass
class Step:
    """One line of a derivation: ``lhs rel part1 = part2 = ... = value``.

    Attributes:
        lhs, lhs_latex: the left-hand side (``h1``, ``dMSE/dw21``) as text and LaTeX.
        parts: the chain of equal expressions, as (text, latex) pairs.
        value: the result as shown (rounded when ``decimals`` is set).
        exact: the unrounded result.
        rel: ``"="`` or ``"<-"`` (an update).
        caption: a line shown before the step (the path, for a backward path).
        note: a remark after the value (e.g. a path that carries zero).
        intro: a word before the line: ``"let"`` for a name the explanation made up
            (``let v1 = exp(z4)``).
        level: how far the line is indented under the one before (a step of a step-through).
        numeric_last: whether the last of ``parts`` is the numbers substituted (else every
            part is a formula; Markdown puts them in its formula column).
    """
    lhs: str
    lhs_latex: str
    parts: list
    value: float
    exact: float
    rel: str = "="
    caption: str = ""
    note: str = ""
    intro: str = ""
    level: int = 0
    numeric_last: bool = True


@dataclass
class Section:
    """A group of steps: ``key`` is one of given, forward, loss, backward, update."""
    key: str
    title: str
    steps: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _fmt_value(value: float, exact: float, decimals: Optional[int]) -> str:
    # ``value`` is rounded where it was computed (to ``decimals``, or to more significant
    # digits where that would leave too few), so it is written as it is
    s = format_number(value)
    if decimals is not None and format_number(exact) != s:
        s += f"  (unrounded {format_number(exact)})"
    return s


class Explanation:
    """A derivation in sections (given, forward, loss, backward, update).

    ``str(e)`` or ``e.text()`` gives the text form; ``e.latex()`` an ``align*`` block;
    ``e.markdown()`` Markdown tables (shown as such in Jupyter).
    """

    def __init__(self, sections: Sequence[Section], decimals: Optional[int] = None,
                 names: Optional[dict] = None, node_pass: Any = None) -> None:
        self.sections = list(sections)
        self.decimals = decimals
        #: the name shown for each named node (labels, and v1, v2... made up)
        self.names = dict(names or {})
        #: the backward pass node by node (a :class:`~microgradnet.explain.nodes.NodePass`)
        #: when the explanation has one
        self.node_pass = node_pass

    def __getitem__(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(f"no section {key!r}; sections: {[s.key for s in self.sections]}")

    def select(self, keys: Sequence[str]) -> "Explanation":
        """The explanation restricted to the sections in ``keys`` (in their original order)."""
        return Explanation([s for s in self.sections if s.key in keys], self.decimals,
                           self.names, self.node_pass)

    def __add__(self, other: "Explanation") -> "Explanation":
        return Explanation(self.sections + other.sections, self.decimals,
                           {**other.names, **self.names}, self.node_pass or other.node_pass)

    # ---- text
    def section_text(self, sec: Section) -> str:
        lines = [visible(sec.title)]
        for n in sec.notes:
            lines += textwrap.wrap(visible(n), WIDTH, initial_indent="  ", subsequent_indent="  ",
                                   break_on_hyphens=False, break_long_words=False)
        if sec.key == "given":
            items = [f"{visible(s.lhs)} = {format_number(s.value)}" for s in sec.steps]
            row = "  "
            for item in items:
                if len(row) + len(item) > 90 and row.strip():
                    lines.append(row.rstrip(", "))
                    row = "  "
                row += item + ", "
            if row.strip():
                lines.append(row.rstrip(", "))
            return "\n".join(lines)
        for s in sec.steps:
            indent = "  " * (1 + s.level)
            if s.caption:
                lines.append("  " + visible(s.caption))
                indent = "    "
            head = f"{indent}{s.intro + ' ' if s.intro else ''}{visible(s.lhs)} {s.rel} "
            pieces = [visible(p[0]) for p in s.parts] + [_fmt_value(s.value, s.exact,
                                                                   self.decimals)]
            lines += wrap_equation(head, pieces, f"   [{visible(s.note)}]" if s.note else "")
        return "\n".join(lines)

    def text(self) -> str:
        return "\n\n".join(self.section_text(s) for s in self.sections) + "\n"

    __str__ = text

    def __repr__(self) -> str:
        return f"Explanation(sections={[s.key for s in self.sections]})"

    # ---- LaTeX
    def latex(self) -> str:
        """The derivation as one ``align*`` block (amsmath), numbers filled in."""
        out = [r"\begin{align*}"]
        for sec in self.sections:
            out.append(r"\intertext{" + _latex_text(sec.title) + "}")
            for n in sec.notes:
                out.append(r"\intertext{" + _latex_text(n) + "}")
            if sec.key == "given":
                items = [f"{s.lhs_latex} = {format_number(s.value)}" for s in sec.steps]
                for i in range(0, len(items), 4):
                    out.append("& " + r",\quad ".join(items[i:i + 4]) + r" \\")
                continue
            for s in sec.steps:
                if s.caption:
                    out.append(r"\intertext{" + _latex_text(s.caption) + "}")
                val = format_number(s.value)
                if self.decimals is not None and format_number(s.exact) != val:
                    val = val + r" \quad (\text{unrounded } " + format_number(s.exact) + ")"
                rel = r"\leftarrow" if s.rel == "<-" else "="
                pieces = [p[1] for p in s.parts] + [val]
                note = r" \quad \text{(" + _latex_text(s.note) + ")}" if s.note else ""
                lhs = (r"\text{" + s.intro + r" } " if s.intro else "") + s.lhs_latex
                if sum(len(p) for p in pieces) <= LATEX_WIDTH:
                    out.append(f"{lhs} &{rel} {' = '.join(pieces)}{note}" + r" \\")
                    continue
                # one expression per row, a long sum over several rows
                for i, piece in enumerate(pieces):
                    rows = _fill(piece, LATEX_WIDTH, latex=True)
                    start = f"{lhs} &{rel} " if i == 0 else "&= "
                    out.append(start + rows[0] + (note if i == len(pieces) - 1
                                                  and len(rows) == 1 else "") + r" \\")
                    for j, row in enumerate(rows[1:], 2):
                        end = note if i == len(pieces) - 1 and j == len(rows) else ""
                        out.append(r"&\quad " + row + end + r" \\")
        out.append(r"\end{align*}")
        return "\n".join(out) + "\n"

    # ---- Markdown
    def markdown(self) -> str:
        """The derivation as Markdown: a heading and a table per section. Names and formulas
        stay text whatever they hold: formulas in code spans (:func:`md_code`), the rest
        escaped (:func:`md_text`), so a label cannot close a span, split a cell or add HTML."""
        out: list = []
        for sec in self.sections:
            out.append(f"### {md_line(sec.title)}")
            out.append("")
            for n in sec.notes:
                out.append(md_line(n))
                out.append("")
            if sec.key == "given":
                out.append(", ".join(md_code(f"{s.lhs} = {format_number(s.value)}")
                                     for s in sec.steps))
                out.append("")
                continue
            out.append("| | formula | with numbers | value |")
            out.append("|---|---|---|---|")
            for s in sec.steps:
                lhs = md_code(s.lhs, cell=True)
                head = f"{md_text(s.caption)}: {lhs}" if s.caption else lhs
                parts = [p[0] for p in s.parts]
                if s.numeric_last:
                    formula, numbers = " = ".join(parts[:-1]), parts[-1] if parts else ""
                else:
                    formula, numbers = " = ".join(parts), ""
                val = _fmt_value(s.value, s.exact, self.decimals)
                if s.rel == "<-":
                    head = f"{lhs} &larr;"
                elif s.intro:
                    head = f"{md_text(s.intro)} {lhs}"
                cells = [head, md_code(formula, cell=True), md_code(numbers, cell=True),
                         val + (f" ({md_text(s.note)})" if s.note else "")]
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
        return "\n".join(out)

    def _repr_markdown_(self) -> str:
        return self.markdown()


def md_code(s: str, cell: bool = False) -> str:
    """``s`` as a Markdown code span (CommonMark): fenced with one more backtick than the
    longest run of backticks in it, padded with a space where it starts or ends with a
    backtick (or with a space at both ends, which a span would strip); in a table ``cell``,
    ``|`` escaped so the cell does not split (GFM reads ``\\|`` as ``|`` inside a span too)."""
    s = visible(s)
    if not s:
        return ""
    fence = "`" * (max((len(r) for r in re.findall(r"`+", s)), default=0) + 1)
    pad = " " if s[0] == "`" or s[-1] == "`" or (s[0] == s[-1] == " " and s.strip()) else ""
    span = f"{fence}{pad}{s}{pad}{fence}"
    return span.replace("|", "\\|") if cell else span


# Characters that start something inline in CommonMark and GFM (and ``$`` Jupyter's math):
# written with a backslash, which CommonMark allows before any ASCII punctuation (``[``
# escaped, no link or image can open, so ``]`` may stay); ``<`` and ``&`` as entities, so no
# tag, autolink or entity can start (``>`` means something only at the start of a line).
_MD_ESCAPED = {c: "\\" + c for c in "\\`*_[|~$#"}
_MD_ESCAPED.update({"<": "&lt;", "&": "&amp;"})


def md_text(s: str) -> str:
    """``s`` as Markdown text that renders as itself: see :data:`_MD_ESCAPED`."""
    return "".join(_MD_ESCAPED.get(c, c) for c in visible(s))


def md_line(s: str) -> str:
    """``s`` as a line of Markdown text (a heading's text, a paragraph) that also cannot
    start a block: no list marker (``-``, ``+``, ``1.``), quote, setext underline or indented
    code."""
    t = md_text(s)
    t = re.sub(r"^(\d*)([-+=.)>])", r"\1\\\2", t)
    return re.sub(r"^ +", lambda m: "&#32;" * len(m.group(0)), t)


def _latex_text(s: str) -> str:
    return r"$\to$".join(latex_text(part) for part in s.split("->"))


