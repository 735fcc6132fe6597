"""The package as PyPI would see it: one version, metadata, typing marker, and a wheel that
holds everything the package reads at run time (built from a copy of the tree, ~2 s)."""
from __future__ import annotations

import ast
import email
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:          # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def package_version() -> str:
    """``__version__`` as written in microgradnet/__init__.py (read, not imported)."""
    tree = ast.parse((ROOT / "microgradnet" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__version__"
                                                for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("microgradnet/__init__.py sets no __version__")


def test_the_version_is_written_once():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {
        "attr": "microgradnet.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", package_version())


def test_metadata_has_classifiers_urls_and_matches_requires_python():
    project = PYPROJECT["project"]
    classifiers = project["classifiers"]
    assert "License :: OSI Approved :: MIT License" in classifiers
    assert "Typing :: Typed" in classifiers
    lowest = project["requires-python"].removeprefix(">=")
    versions = [c.rsplit(" ", 1)[1] for c in classifiers
                if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert versions and min(versions, key=lambda v: int(v.split(".")[1])) == lowest
    assert {"Homepage", "Source", "Issues"} <= set(project["urls"])


def test_every_extra_the_code_imports_is_declared():
    extras = PYPROJECT["project"]["optional-dependencies"]
    for extra, needs in {"data": ["scikit-learn", "tqdm"],
                         "notebooks": ["notebook", "jupytext", "nbconvert", "ipykernel"]}.items():
        names = {re.split(r"[<>=\[; ]", r)[0] for r in extras[extra]}
        assert set(needs) <= names, (extra, names)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools")
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "microgradnet", src / "microgradnet",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                          "--no-build-isolation", "-q", str(src), "-w", str(out)],
                         capture_output=True, text=True, timeout=300)
    if run.returncode != 0:
        pytest.fail(run.stderr[-3000:])
    (path,) = out.glob("microgradnet-*.whl")
    return path


def test_the_wheel_holds_the_typing_marker_results_and_every_module(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "microgradnet/py.typed" in names
    assert "microgradnet/micrograd/nn.py" in names
    results = sorted(p.name for p in (ROOT / "microgradnet/catalogue/results").glob("*.json"))
    assert results and all(f"microgradnet/catalogue/results/{r}" in names for r in results)
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "microgradnet").rglob("*.py")
               if "__pycache__" not in p.parts}
    assert modules <= names


def test_the_wheel_metadata_carries_the_one_version(wheel):
    with zipfile.ZipFile(wheel) as z:
        meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_bytes(z.read(meta_name))
    assert meta["Version"] == package_version()
    assert wheel.name.startswith(f"microgradnet-{package_version()}-")
    assert "Typing :: Typed" in meta.get_all("Classifier")
    assert any(u.startswith("Source, ") for u in meta.get_all("Project-URL"))
    assert 'extra == "notebooks"' in " ".join(meta.get_all("Requires-Dist"))
