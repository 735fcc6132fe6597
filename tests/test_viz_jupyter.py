"""What a notebook shows: a Value as the SVG of its graph, a Picture inline, an explanation as
Markdown and LaTeX, a summary as an HTML table, the frames stepper running in an iframe; run in
a real kernel with nbclient, checking the MIME types of the outputs."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from microgradnet import Value, nn
from microgradnet.explain import explain
from microgradnet.viz import explanation_mimebundle, summary_html, value_mimebundle
from microgradnet.viz.jupyter import INLINE_MAX_NODES

ROOT = Path(__file__).resolve().parents[1]

SETUP = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import microgradnet
assert microgradnet.__file__.startswith({str(ROOT)!r}), microgradnet.__file__
from microgradnet import Value, nn
from microgradnet.explain import Explanation, explain
from microgradnet.nn import Summary
from microgradnet.viz import (draw, explanation_mimebundle, frames_page, summary_html,
                              value_mimebundle, enable_notebook_display)
from microgradnet.catalogue.seed001 import build_s1_3
net = build_s1_3(); mse = net["MSE"]; mse.backward()
"""
# The methods the classes get, attached here as they would be written in the classes.
ATTACH = """
Value._repr_mimebundle_ = lambda self, include=None, exclude=None: value_mimebundle(self)
Explanation._repr_mimebundle_ = (lambda self, include=None, exclude=None:
                                 explanation_mimebundle(self))
Summary._repr_html_ = lambda self: summary_html(self)
"""
DETACH = """
del Value._repr_mimebundle_, Explanation._repr_mimebundle_, Summary._repr_html_
enable_notebook_display()
"""
SHOW = ["mse", "draw(mse, view='network')", "explain(mse, wrt=net['w21'], lr=0.1)",
        "nn.summary(nn.MLP(2, [2, 2]), (2,))", "frames_page(mse)"]
EXPECTED = [{"image/svg+xml", "text/plain"}, {"image/svg+xml", "text/plain"},
            {"text/markdown", "text/latex", "text/plain"}, {"text/html", "text/plain"},
            {"text/html", "text/plain"}]


def _run(cells: list) -> list:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    return nb.cells


def test_a_notebook_shows_values_pictures_explanations_summaries_and_frames():
    # One kernel for both ways of hooking the displays in: methods on the classes, and
    # formatters registered with IPython.
    cells = _run([SETUP, ATTACH] + SHOW + [DETACH] + SHOW)
    shown = [c.outputs for c in cells]
    for block in (shown[2:2 + len(SHOW)], shown[3 + len(SHOW):]):
        for outputs, want in zip(block, EXPECTED, strict=True):
            results = [o for o in outputs if o.output_type == "execute_result"]
            assert len(results) == 1, outputs
            assert set(results[0].data) == want
        value_svg = block[0][0].data["image/svg+xml"]
        assert "<svg" in value_svg and ">MSE<" in value_svg and "grad 3.0000" in value_svg
        assert r"\begin{align*}" in block[2][0].data["text/latex"]
        assert "<table>" in block[3][0].data["text/html"]
        assert block[4][0].data["text/html"].startswith("<iframe srcdoc=")


def test_value_bundle_is_its_picture_and_a_big_graph_is_text_only():
    x = Value(2.0, label="x")
    y = x * x
    y.label = "y"
    y.backward()
    bundle = value_mimebundle(y)
    assert bundle["text/plain"] == repr(y)
    assert "grad 4.0000" in bundle["image/svg+xml"]          # dy/dx = 2x
    z = Value(0.0)
    for _ in range(INLINE_MAX_NODES):
        z = z + 1.0
    assert set(value_mimebundle(z)) == {"text/plain"}


def test_explanation_and_summary_displays_hold_the_same_numbers_as_their_text():
    w = Value(0.5, label="w")
    x = Value(2.0, label="x")
    y = (w * x).relu()
    y.label = "y"
    y.backward()
    e = explain(y, wrt=w, lr=0.1)
    bundle = explanation_mimebundle(e)
    assert bundle["text/plain"] == e.text() and bundle["text/markdown"] == e.markdown()
    s = nn.summary(nn.MLP(3, [4, 2]), (3,))
    table = summary_html(s)
    params = [int(n.replace(",", "")) for n in re.findall(r'right">([\d,]+)<', table)]
    assert params == [r.params for r in s] + [s.total_params]
    assert s.total_params == (3 * 4 + 4) + (4 * 2 + 2)


def test_importing_microgradnet_in_a_notebook_is_enough_for_the_displays():
    # No enable_notebook_display() call, no methods attached: the package turns the displays
    # on when it is imported where IPython runs.
    setup = (f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
             "from microgradnet import Value, nn\nfrom microgradnet.explain import explain\n"
             "x = Value(2.0, label='x'); y = x * x; y.label = 'y'; y.backward()")
    cells = _run([setup, "y", "explain(y, wrt=x)", "nn.summary(nn.MLP(2, [3, 1]), (2,))"])
    got = [set(c.outputs[0].data) for c in cells[1:]]
    assert got == [{"image/svg+xml", "text/plain"}, {"text/markdown", "text/latex", "text/plain"},
                   {"text/html", "text/plain"}]
