"""Labels a user (or a file) may give that would break a backend or inject markup: every
output shows them as text."""
from __future__ import annotations

import shutil

import pytest

from microgradnet import Value
from microgradnet.explain import explain
from microgradnet.formula import latex_name, latex_text
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
