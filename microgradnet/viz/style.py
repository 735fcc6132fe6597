"""What every picture shares: the colours and the font, numbers as they are printed, DOT and
HTML-label quoting, and the caption with its legend.

One font everywhere (graph, nodes and edges), so a picture does not mix Times on edges with
Helvetica elsewhere. Colours: a kind of node has a fill; the highlighted path is violet, a path
whose gradient is zero dashed grey; gradient shading (``color_grad``) is blue for positive and
red for negative, so no colour means two things.
"""
from __future__ import annotations

import html
import re
import math

__all__ = ["FONT", "FONT_SIZE", "SMALL", "FILL", "KIND_NAMES", "OP_FILL", "LIVE", "DEAD",
           "UPDATED", "MUTED", "PAGE_PT", "fmt_number", "q", "h", "grad_colour", "caption_label",
           "paths_sentence", "graph_header"]

FONT = "Helvetica"
#: The width of the page a picture is laid out for: 1400 px, in points (1 pt = 4/3 px).
PAGE_PT = 1050
#: Points; an SVG drawn at its own size shows 1 pt as 4/3 px, so 11 pt is 14.7 px.
FONT_SIZE = 11
SMALL = 10

#: Fill colour of each kind of value node.
FILL = {"output": "#bbf7d0", "param": "#fde68a", "input": "#dbeafe", "const": "#f3f4f6",
        "intermediate": "#ffffff"}
KIND_NAMES = {"output": "output", "param": "parameter", "input": "input",
              "const": "constant", "intermediate": "operation: result, gradient"}
OP_FILL = "#e5e7eb"      # the header of an operation's node
LIVE = "#7c3aed"         # a path that carries the highlighted parameter's gradient (violet)
DEAD = "#9ca3af"         # a path whose gradient is zero (dashed)
UPDATED = "#b45309"      # border of a parameter an optimiser step changed
MUTED = "#4b5563"        # secondary text: op symbols, operand letters, cluster names
EDGE = "#4b5563"
_POSITIVE = (59, 130, 246)   # shading of a positive gradient (blue)
_NEGATIVE = (239, 68, 68)    # shading of a negative gradient (red)


def fmt_number(x: float, precision: int = 4) -> str:
    """``x`` with ``precision`` decimals; scientific notation when that would show no
    significant digit (``1.2345e-07``) or too many (``1.0000e+08``). Never prints ``-0.0000``."""
    if x == 0:
        return f"{0.0:.{precision}f}"
    if abs(x) >= 1e6 or abs(x) < 0.5 * 10.0 ** -precision:
        return f"{x:.{precision}e}"
    s = f"{x:.{precision}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s


# Characters no backend can draw or XML can hold: controls (but tab and newline), lone
# surrogates, U+FFFE/U+FFFF. A label holding one is drawn with U+FFFD in its place.
_UNDRAWABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def drawable(text: str) -> str:
    """``text`` with every character a picture cannot hold replaced by U+FFFD."""
    return _UNDRAWABLE.sub("\ufffd", text)


def q(text: str) -> str:
    """A DOT double-quoted string."""
    text = drawable(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + text + '"'


def h(text: str) -> str:
    """Text for an HTML-like label."""
    return html.escape(drawable(text), quote=True)


def grad_colour(g: float, gmax: float) -> str:
    """White for zero, deeper blue (positive) or red (negative) as |g| nears the largest."""
    if gmax <= 0 or g == 0 or not math.isfinite(g):
        return "#ffffff"
    t = min(1.0, math.sqrt(abs(g) / gmax))
    r, gr, b = _POSITIVE if g > 0 else _NEGATIVE
    mix = [round(255 + (c - 255) * t) for c in (r, gr, b)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def paths_sentence(n_live: int, total: int) -> str:
    """``"1 of 1 path carries gradient"``, ``"1 of 2 paths carries gradient"``, ``"0 of 2
    paths carry gradient"``: the verb agrees with the number that carry it."""
    noun = "path" if total == 1 else "paths"
    verb = "carries" if n_live == 1 else "carry"
    return f"{n_live} of {total} {noun} {verb} gradient"


def graph_header(rankdir: str, nodesep: float = 0.25, ranksep: float = 0.3) -> list:
    """The opening lines of a picture's DOT text: direction, spacing and the one font."""
    return ["digraph microgradnet {",
            f'  graph [rankdir={rankdir}, fontname="{FONT}", fontsize={FONT_SIZE}, '
            f'nodesep={nodesep}, ranksep={ranksep}];',
            f'  node [fontname="{FONT}", fontsize={FONT_SIZE}];',
            f'  edge [fontname="{FONT}", fontsize={SMALL}, arrowsize=0.6, color="{EDGE}"];']


def _swatch(fill: str | None, text: str, border: str = "#6b7280", dashed: bool = False) -> str:
    if fill is None:                      # an entry that explains a mark, with no colour
        return f'<td></td><td align="left">{h(text)}</td>'
    style = ' style="dashed"' if dashed else ""
    return (f'<td bgcolor="{fill}" color="{border}" border="1" width="14"{style}> </td>'
            f'<td align="left">{h(text)}</td>')


_LEGEND_ROW = 4     # entries per row: a legend no wider than a small picture needs


def caption_label(lines: list, legend: list) -> str:
    """The graph's label: the title and caption lines, then a row of legend entries
    ``(fill, text, border, dashed)``; an HTML-like label so the legend can show swatches."""
    per_row = min(len(legend), _LEGEND_ROW) or 1
    rows = [f'<tr><td colspan="{2 * per_row}">{h(line)}</td></tr>' for line in lines]
    for k in range(0, len(legend), per_row):
        cells = "".join(_swatch(*entry) for entry in legend[k:k + per_row])
        rows.append(f"<tr>{cells}</tr>")
    return ('<<table border="0" cellspacing="2" cellpadding="1">' + "".join(rows)
            + "</table>>")
