"""Every notebook in notebooks/ (jupytext percent .py files) runs top to bottom, offline."""
from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from helpers import assert_all_close, assert_close

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.py"))


_RUN: dict = {}


def executed(path: Path, workdir: Path):
    """The notebook at ``path`` after running it (once per test session) in ``workdir``."""
    if path not in _RUN:
        jupytext = pytest.importorskip("jupytext")
        nbclient = pytest.importorskip("nbclient")
        pytest.importorskip("ipykernel")
        nb = jupytext.read(path)
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(workdir)}}).execute()
        _RUN[path] = nb
    return _RUN[path]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_error(path, tmp_path):
    nb = executed(path, tmp_path)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, [f"{e.get('ename')}: {e.get('evalue')}" for e in errors]
    assert any(c.cell_type == "code" and c.get("outputs") for c in nb.cells)


def test_s1_3_notebook_shows_the_step_through_and_pictures(tmp_path):
    path = next(p for p in NOTEBOOKS if p.stem == "s1_3_two_layer_network")
    nb = executed(path, tmp_path)
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "dMSE/dw21 = (o1 - t1)*w31*1*i2 + (o2 - t2)*w32*1*i2 = 0.5 + (-2.0) = -1.5" in text
    assert "w21 <- 0.5 - 0.1 * (-1.5) = 0.65" in text
    svgs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "image/svg+xml" in o.get("data", {})]
    try:
        import microgradnet.viz  # noqa: F401
    except ImportError:
        return
    assert len(svgs) == 3


# ---- the notebooks of the other groups of worked examples -------------------------------------

#: The claims each notebook must show, with the catalogue's verdict, by id and seed file.
NOTEBOOK_CLAIMS = {
    "s1_2_softmax_cross_entropy": ["S1-2.1", "S1-2.2", "S1-2.3", "S1-2.4", "S1-2.5", "S1-2.6",
                                   "S1-2.7", "S1-2.8"],
    "s2_activations_second_derivatives": ["S2-Q1.3", "S2-Q1.4", "S2-Q1.5", "S2-Q1.6"],
    "s3_layer_backward_formulas": ["S3-Q1.1", "S3-Q1.2", "S3-Q1.3", "S3-Q1.4", "S3-Q1.5"],
    "s4_regularisation_and_optimisers": ["S2-Q5", "S4-Q3a", "S4-Q3b", "S4-Q3d", "S4-Q4a",
                                         "S4-Q4b", "S4-Xavier"],
    "experiments": ["S1-1.4", "S3-Q2-5"],
    "diagnose_s1_3": ["S1-3.3"],
}


def _notebook(stem: str, tmp_path):
    path = next((p for p in NOTEBOOKS if p.stem == stem), None)
    assert path is not None, f"notebooks/{stem}.py is missing"
    return executed(path, tmp_path)


def _outputs(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def _text(nb) -> str:
    return "".join(o.get("text", "") for o in _outputs(nb) if o.get("output_type") == "stream")


def _count(nb, mime: str) -> int:
    return sum(1 for o in _outputs(nb) if mime in o.get("data", {}))


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _floats(s: str) -> list:
    return [float(t) for t in re.findall(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?", s)]


def _line(text: str, start: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.startswith(start)]
    assert lines, f"no output line starts with {start!r}"
    return lines[0]


@pytest.mark.parametrize("stem", list(NOTEBOOK_CLAIMS))
def test_notebook_shows_each_claim_with_the_catalogue_verdict(stem, tmp_path):
    from microgradnet.catalogue import EXAMPLES
    text = _text(_notebook(stem, tmp_path))
    shown = dict(re.findall(r"^(S\d-\S+)  \[([\w-]+)\]", text, re.M))
    for claim in NOTEBOOK_CLAIMS[stem]:
        assert claim in shown, f"{stem} does not show {claim}"
        assert shown[claim] == EXAMPLES[claim].run().verdict, claim
        assert f"seed {EXAMPLES[claim].seed}, section {EXAMPLES[claim].section}" in text


def test_s1_2_notebook_cross_entropy_gradient_is_yhat_minus_y(tmp_path):
    nb = _notebook("s1_2_softmax_cross_entropy", tmp_path)
    text = _text(nb)
    z, target = (1.0, 2.0, 0.5), (0.0, 1.0, 0.0)
    yhat = [math.exp(v) / sum(math.exp(u) for u in z) for v in z]
    for i in range(3):
        line = _line(text, f"dL/dz{i + 1}: ")
        formula, engine = _floats(line)[-2:]
        assert_close(formula, yhat[i] - target[i], atol=1e-6, what=f"yhat{i + 1} - y{i + 1}")
        assert_close(engine, yhat[i] - target[i], atol=1e-6, what=f"dL/dz{i + 1}")
    # d yhat1 / d z1 = yhat1 (1 - yhat1), d yhat1 / d z2 = -yhat1 yhat2, both printed.
    assert_all_close(_floats(_line(text, "yhat1 (1 - yhat1)"))[-2:],
                     [yhat[0] * (1 - yhat[0])] * 2, atol=1e-6)
    assert_all_close(_floats(_line(text, "-yhat1 yhat2"))[-2:], [-yhat[0] * yhat[1]] * 2,
                     atol=1e-6)
    assert "overflows" in text and "division by zero" in text
    if _has("microgradnet.viz"):
        assert _count(nb, "image/svg+xml") == 3


def test_s2_notebook_second_derivative_and_swish_minimum(tmp_path):
    nb = _notebook("s2_activations_second_derivatives", tmp_path)
    text = _text(nb)
    s = 1 / (1 + math.exp(-0.7))
    exact = s * (1 - s) * (2 + 0.7 * (1 - 2 * s))          # swish'' = s(1-s)(2 + x(1-2s))
    engine, differences = _floats(_line(text, "swish''(0.7)"))[-2:]
    assert_close(engine, exact, atol=1e-8, what="swish''(0.7), engine")
    assert_close(differences, exact, atol=1e-6, what="swish''(0.7), differences")
    # The minimum of x sigmoid(x) is at x = -(1 + W(1/e)), value -W(1/e) (Lambert W).
    w = 0.3
    for _ in range(50):
        w -= (w * math.exp(w) - math.exp(-1)) / (math.exp(w) * (1 + w))
    value, where = _floats(_line(text, "swish falls on"))[-2:]
    assert_close(value, -w, atol=1e-6, what="minimum of swish")
    assert_close(where, -(1 + w), atol=1e-6, what="argmin of swish")
    assert "dead path: relu is off" in text
    if _has("microgradnet.viz"):
        assert _count(nb, "image/svg+xml") == 1
    if _has("matplotlib"):
        assert _count(nb, "image/png") == 2


def test_s3_notebook_layer_gradients_by_hand(tmp_path):
    nb = _notebook("s3_layer_backward_formulas", tmp_path)
    text = _text(nb)
    # Dense: dL/db = column sums of G = [[1, -1], [2, 0.5]].
    assert_all_close(_floats(_line(text, "column sums of G")), [3.0, -0.5, 3.0, -0.5])
    # Batch norm: the seed's closed form (evaluated from floats) against the engine.
    closed = _floats(_line(text, "closed form:"))
    assert len(closed) == 3
    assert_all_close(_floats(_line(text, "engine:     ")), closed, atol=1e-9)
    # Convolution, by hand: dL/dW[1,1] = 1*1 + 2*2 - 1*4 + 0.5*5, dL/dX[2,2] = 2 + 1 + 1 + 0.5.
    assert _floats(_line(text, "  dL/dW[1,1] = 1*X[1,1] + 2*X[1,2]"))[-1] == 3.5
    assert _floats(_line(text, "  dL/dX[2,2] = "))[-1] == 4.5
    # Dropout with p = 0.5: the mask as applied is 0 or 1/(1 - p) = 2, and dL/dX = dY * mask.
    after = text[text.index("mask as applied: "):]
    mask = _floats(after.splitlines()[0])
    assert len(mask) == 4 and set(mask) <= {0.0, 2.0}
    for i, (g, m) in enumerate(zip([1.0, 1.0, -0.5, 2.0], mask)):
        assert _floats(_line(after, f"  dL/dX[{i + 1}] = "))[-1] == g * m
    if _has("microgradnet.viz"):
        assert _count(nb, "image/svg+xml") == 3


def test_s4_notebook_updates_by_hand(tmp_path):
    nb = _notebook("s4_regularisation_and_optimisers", tmp_path)
    text = _text(nb)
    # S2-Q5: grad f(1, 1) = (0, 2).
    for step in ("y <- 1.0 - 0.01 * 2.0 = 0.98", "y <- 1.0 - 0.1 * 2.0 = 0.8",
                 "y <- 1.0 - 10 * 2.0 = -19.0", "x <- 1.0 - 0.1 * 0.0 = 1.0"):
        assert step in text
    # L1: dJ/dw = (w - a) + sign(w): 0.3 - 1 + 1 = 0.3 and -0.6 + 0.2 - 1 = -1.4.
    assert "w1 <- 0.3 - 0.1 * 0.3 = 0.27" in text
    assert "w2 <- -0.6 - 0.1 * (-1.4) = -0.46" in text
    # Zero initialisation: output 1/2, dL/dv_k = -(1 - p) h_k = -1/4, nothing reaches u11.
    assert "output p = 0.5" in text
    assert _floats(_line(text, "  dL/du11 = "))[-1] == 0.0
    assert _floats(_line(text, "  dL/dv1 = "))[-1] == -0.25
    # Adam: m_t / g = 1 - b1^t with b1 = 0.9, and m_hat / g = 1, for t = 1..10.
    rows = [_floats(ln) for ln in text.splitlines() if re.match(r"^\s+\d+\s+0\.\d{6}\s", ln)]
    assert len(rows) == 10
    for t, (m, one_minus, m_hat) in enumerate(rows, 1):
        assert_all_close([m, one_minus, m_hat], [1 - 0.9 ** t, 1 - 0.9 ** t, 1.0], atol=1e-6)
    if _has("microgradnet.viz"):
        assert _count(nb, "image/svg+xml") == 2
    if _has("matplotlib"):
        assert _count(nb, "image/png") == 2


def test_experiments_notebook_shows_results_and_trains(tmp_path):
    nb = _notebook("experiments", tmp_path)
    text = _text(nb)
    if not _has("sklearn"):
        assert "training skipped" in text
        return
    for lr in ("0.4", "0.008", "0.0003", "2e-05"):
        assert f"lr = {lr} " in text
    accuracy = _floats(_line(text, "softmax: 650 parameters").split("test accuracy")[1])[0]
    assert accuracy > 50.0      # ten classes: chance is 10%
    from microgradnet.catalogue import EXAMPLES
    if EXAMPLES["S1-1.4"].run().verdict != "pending":
        assert _count(nb, "text/markdown") >= 1 and _count(nb, "image/png") >= 1


def test_diagnose_notebook_names_a_slip_for_each_wrong_answer(tmp_path):
    from microgradnet.catalogue.seed001 import build_s1_3
    from microgradnet.gradients import grad
    text = _text(_notebook("diagnose_s1_3", tmp_path))
    net = build_s1_3()
    g = grad(net["MSE"], net["w21"])
    for answer, kind in (("dMSE/dw21 = -2.0", "dropped-path"), ("dMSE/dw21 = 1.5", "sign"),
                         ("dMSE/dw21 = -3.0", "missing-factor"),
                         ("new:w21 = 0.35", "update-sign"), ("new:w21 = 2.0", "no-lr")):
        head, *rest = text[text.index(answer + ": wrong"):].splitlines()
        engine = _floats(head)[-1]
        assert engine == (g if answer.startswith("d") else net["w21"].data - 0.1 * g)
        findings = [ln for ln in rest[:next((i for i, ln in enumerate(rest)
                                            if not ln.startswith("  ")), len(rest))]]
        assert any(ln.startswith(f"  {kind} at ") for ln in findings), answer
    assert "ruled out by your right answers" in text
    assert "dropped-path+update-sign" in text


# ---- the paired .ipynb files and plain-Python runs ------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_is_a_jupytext_pair_with_the_same_cells(path):
    jupytext = pytest.importorskip("jupytext")
    ipynb = path.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{ipynb.name} is missing: run `jupytext --sync {path.name}`"
    py_nb, ipynb_nb = jupytext.read(path), jupytext.read(ipynb)
    for nb in (py_nb, ipynb_nb):
        assert nb.metadata["jupytext"]["formats"] == "ipynb,py:percent"
    assert [(c.cell_type, c.source) for c in py_nb.cells] == \
        [(c.cell_type, c.source) for c in ipynb_nb.cells], \
        f"{path.name} and {ipynb.name} differ: run `jupytext --sync {path.name}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_a_notebook_that_calls_display_imports_it(path):
    """``display`` is a builtin only inside IPython; ``python notebooks/x.py`` needs it
    imported."""
    import ast
    tree = ast.parse(path.read_text())
    calls = {n.func.id for n in ast.walk(tree)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    imported = {a.asname or a.name for n in ast.walk(tree)
                if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    assert "display" not in calls or "display" in imported


def test_a_notebook_runs_as_a_plain_python_script(tmp_path):
    pytest.importorskip("IPython")
    import os
    import subprocess
    import sys
    path = next(p for p in NOTEBOOKS if p.stem == "s1_3_two_layer_network")
    root = str(path.parents[1])
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "w21 <- 0.5 - 0.1 * (-1.5) = 0.65" in run.stdout
