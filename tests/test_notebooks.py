"""Every notebook in notebooks/ (jupytext percent .py files) runs top to bottom, offline."""
from __future__ import annotations

from pathlib import Path

import pytest

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
    assert not errors
    assert any(c.cell_type == "code" and c.get("outputs") for c in nb.cells)


def test_s1_3_notebook_shows_the_step_through_and_pictures(tmp_path):
    path = next(p for p in NOTEBOOKS if p.stem == "s1_3_two_layer_network")
    nb = executed(path, tmp_path)
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "dMSE/dw21 = (o1 - t1)*w31*1*i2 + (o2 - t2)*w32*1*i2 = 0.5 + -2.0 = -1.5" in text
    assert "w21 <- 0.5 - 0.1 * (-1.5) = 0.65" in text
    svgs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "image/svg+xml" in o.get("data", {})]
    try:
        import microgradnet.viz  # noqa: F401
    except ImportError:
        return
    assert len(svgs) == 3
