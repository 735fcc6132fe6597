"""Labels a user (or a file) may give that would break a backend or inject markup: every
output shows them as text."""
from __future__ import annotations

import re
import shutil

import pytest

from helpers import unwrap
from microgradnet import Op, Value, apply
from microgradnet.explain import explain
from microgradnet.explain.records import md_code, md_line, md_text
from microgradnet.formula import latex_name, latex_text, latex_word, visible
from microgradnet.viz import backends, render

WEIRD = ["nul\x00here", "bell\x07", "lone\ud800surrogate", "cr\rreturn", "tab\tok"]


def _graph(labels):
    leaves = [Value(float(i + 1), label=name) for i, name in enumerate(labels)]
    out = leaves[0]
    for leaf in leaves[1:]:
        out = out * leaf + 1.0
    out.label = "out"
    out.backward()
    return out


@pytest.mark.parametrize("backend", ["dot", "pure"])
def test_control_characters_and_surrogates_draw_with_every_backend(tmp_path, backend):
    if backend == "dot" and shutil.which("dot") is None:
        pytest.skip("no Graphviz dot")
    if backend == "pure" and backends.pure_executable() is None:
        pytest.skip("graphviz-pure is not installed")
    path = render(_graph(WEIRD), tmp_path / "weird.svg", backend=backend)
    svg = path.read_text(encoding="utf-8")
    assert "nul\ufffdhere" in svg and "bell\ufffd" in svg and "lone\ufffdsurrogate" in svg


def test_a_label_cannot_inject_latex():
    hostile = r"x}\input{/etc/passwd}\def\a{"
    name = latex_name(hostile)
    assert name.startswith(r"\text{") and r"\input" not in name and r"\def" not in name
    # every brace the label held is escaped: the \text{...} group closes only at its end
    body = name[len(r"\text{"):-1]
    assert body.replace(r"\{", "").replace(r"\}", "").count("{") == \
        body.replace(r"\{", "").replace(r"\}", "").count("}")
    assert latex_text("a_b & 100% ^~\\") == \
        r"a\_b \& 100\% \textasciicircum{}\textasciitilde{}\textbackslash{}"
    out = _graph([hostile, "y"])
    assert r"\input" not in explain(out, wrt=out.parents[0]).latex()


def test_a_backtick_in_a_label_keeps_markdown_code_spans_whole():
    out = _graph(["a`b", "c|d"])
    md = explain(out).markdown()
    assert "``a`b" in md and "c\\|d" in md


# ---- every text backend of an explanation keeps a label as text ------------------------------

INJECTION = "x`<img src=x onerror=alert(1)>`"
EVIL_OP = r"ev}\input{/etc/passwd}\iffalse"
HOSTILE_LABELS = [INJECTION, "y\n\nz", "``a```", " sp ", "| cell |", "<b>&amp;</b>", "*em*",
                  "> quote", "[ref]: http://x", "![i](j)",
                  "_u_ [l](u) ~s~ $m$ #h", "- item", "1. one", "    code", "tab\tnul\x00",
                  "nel\x85ls\u2028", "lone\ud800", "a\\", "\\`", "{}%^&#~"]


def _code_span(md: str, start: int) -> tuple:
    """The CommonMark code span opening at ``md[start]``: (its content, the index after it).
    The spec's rule: a run of n backticks opens it, the next run of exactly n closes it, and a
    content that begins and ends with a space (not all spaces) loses one space at each end."""
    n = len(re.match(r"`+", md[start:]).group(0))
    for m in re.finditer(r"`+", md[start + n:]):
        if len(m.group(0)) == n:
            body = md[start + n:start + n + m.start()]
            if body.startswith(" ") and body.endswith(" ") and body.strip(" "):
                body = body[1:-1]
            return body, start + n + m.end()
    raise AssertionError(f"code span at {start} is never closed: {md[start:start + 40]!r}")


def _split_code(md: str) -> tuple:
    """(the code spans' contents, the Markdown outside them)."""
    spans, outside, i = [], [], 0
    while i < len(md):
        if md[i] == "\\" and i + 1 < len(md):
            outside.append(md[i:i + 2])
            i += 2
        elif md[i] == "`":
            body, i = _code_span(md, i)
            spans.append(body)
        else:
            outside.append(md[i])
            i += 1
    return spans, "".join(outside)


def _unescape_md(text: str) -> str:
    """What Markdown text renders as: backslash escapes and the entities we write."""
    text = re.sub(r"\\([!-/:-@\[-`{-~])", lambda m: m.group(1), text)
    for entity, c in (("&lt;", "<"), ("&gt;", ">"), ("&#32;", " "), ("&amp;", "&")):
        text = text.replace(entity, c)
    return text


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_a_code_span_holds_any_label_whole(label):
    for cell in (False, True):
        span = md_code(label, cell=cell)
        source = span.replace("\\|", "|") if cell else span   # GFM unescapes \| in a cell
        body, end = _code_span(source, 0)
        assert end == len(source) and body == visible(label), (label, span)


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_markdown_text_renders_as_the_label_and_starts_nothing(label):
    for text in (md_text(label), md_line(label)):
        assert _unescape_md(text) == visible(label)
        # once escapes and entities are taken out, no character that means markup is left
        bare = re.sub(r"\\[!-/:-@\[-`{-~]|&(lt|gt|amp|#32);", "", text)
        assert not set(bare) & set("\\`*_[|~$#<&\n\r"), text
    line = md_line(label)
    assert not re.match(r"\s|[-+=>]|\d+[.)]", line), line     # no list, quote, code block


def _hostile_explanation(labels=(INJECTION, "w", "y\n\nz"), op_name=EVIL_OP):
    x, w = Value(2.0, label=labels[0]), Value(3.0, label=labels[1])
    evil = Op(op_name, lambda a: a * 2, lambda g, out, a: (g * 2,), 1)
    y = apply(evil, x * w)
    y.label = labels[2]
    return explain(y, wrt=x, lr=0.1, nodes=True)


def test_a_hostile_label_and_op_name_stay_text_in_markdown():
    md = _hostile_explanation().markdown()
    plain = _hostile_explanation(("x", "w", "y"), "ev").markdown()
    # the same lines as with plain names: nothing opened a block or broke a row
    assert len(md.splitlines()) == len(plain.splitlines())
    spans, outside = _split_code(md)
    assert "<" not in outside and "\n\n" not in "".join(spans)
    for line, plain_line in zip(md.splitlines(), plain.splitlines(), strict=True):
        if plain_line.startswith("|"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 5, line     # four cells, always
        if plain_line.startswith("### "):
            assert line.startswith("### ") and not line.rstrip().endswith("#")
    # the given line, the root's name and its formula, each one code span read back whole
    assert {f"{INJECTION} = 2.0", r"y\n\nz", f"{EVIL_OP}({INJECTION}*w)"} <= set(spans)
    assert r"y\\n\\nz" in outside       # a heading shows the newline as \n, escaped


def test_a_hostile_label_and_op_name_stay_text_in_latex():
    tex = _hostile_explanation().latex()
    assert r"\input" not in tex and r"\iffalse" not in tex and "\n\n" not in tex
    lines = tex.splitlines()
    assert lines[0] == r"\begin{align*}" and lines[-1] == r"\end{align*}"
    for line in lines[1:-1]:
        assert line.endswith(r" \\") or line.startswith(r"\intertext{"), line
        # each brace a name held is escaped, so the groups close where they open
        depth = 0
        for c in re.sub(r"\\[{}]", "", line):
            depth += {"{": 1, "}": -1}.get(c, 0)
            assert depth >= 0, line
        assert depth == 0, line
    assert r"\operatorname{\text{ev\}\textbackslash{}input\{/etc/passwd\}" in tex
    assert r"\text{y\textbackslash{}n\textbackslash{}nz}" in tex


def test_a_hostile_label_keeps_every_text_line_whole():
    e = _hostile_explanation()
    plain = _hostile_explanation(("x", "w", "y"), "ev")
    # the same lines as with plain names, once long equations are joined back
    assert len(unwrap(e.text())) == len(unwrap(plain.text()))
    assert r"dy\n\nz/dx`<img" in e.text() and r"y\n\nz" in e.names.values()
    e.text().encode("utf-8")     # a lone surrogate is written as \ud800, so it encodes
    explain(_graph(["lone\ud800", "y"])).text().encode("utf-8")


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_every_backend_of_an_explanation_encodes_any_label(label):
    e = explain(_graph([label, "w"]), wrt=None)
    for out in (e.text(), e.markdown(), e.latex()):
        out.encode("utf-8")
        assert "\x00" not in out and "\ud800" not in out


def test_visible_writes_what_does_not_print_as_repr_does():
    assert visible("plain name α") == "plain name α"
    assert visible("y\n\tz\x00\x85\u2028\ud800\xa0") == r"y\n\tz\x00\x85\u2028\ud800\xa0"
    for s in HOSTILE_LABELS:
        assert visible(s).isprintable() and visible(visible(s)) == visible(s)
        assert visible(s) == "".join(repr(c)[1:-1] if not c.isprintable() else c for c in s)


def test_a_trailing_underscore_stays_in_a_latex_name():
    assert latex_name("a_") == r"\text{a\_}" != latex_name("a")
    assert latex_name("alpha_") == r"\text{alpha\_}" and latex_name("a_1") == "a_{1}"


def test_an_op_name_is_a_latex_word_or_escaped_text():
    assert latex_word("leaky_relu") == r"leaky\_relu" and latex_word("ev") == "ev"
    assert latex_word(EVIL_OP) == r"\text{" + latex_text(EVIL_OP) + "}"
    assert latex_text("a\nb<|>") == r"a\textbackslash{}nb\textless{}\textbar{}\textgreater{}"


def _groups_close_on_their_row(row: str) -> bool:
    depth = 0
    for c in re.sub(r"\\.", "", row):     # escaped characters (\{ \}) are text
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0 and row.count(r"\left") == row.count(r"\right")


def test_a_long_latex_row_is_cut_outside_every_group_whatever_the_labels():
    labels = ["a] - b", "c}*d", "e) + f", "[g - h"]
    leaves = [Value(float(i + 2), label=name * 3) for i, name in enumerate(labels)]
    y = leaves[0]
    for leaf in leaves[1:]:
        y = (y * leaf).tanh() + leaf * leaf
    y.label = "y - ] z"
    tex = explain(y, wrt=leaves, nodes=True).latex()
    rows = tex.splitlines()[1:-1]
    assert any(row.startswith(r"&\quad ") for row in rows)      # long rows were cut
    for row in rows:
        assert _groups_close_on_their_row(row), row
