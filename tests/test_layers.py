"""Imports point down the layers of the package, imports are static, and the worked examples
of one seed keep out of another seed's private helpers.

Every module's imports are read with ``ast``, those inside functions too (the command line
imports the pictures and the training code there, and a lazy import is still a dependency).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "microgradnet"

#: The layers, bottom to top, by the name under ``microgradnet`` (a module, or a package with
#: all its modules). A module may import from its own layer and from the layers below it,
#: never from a layer above: the engine can then be read, tested and changed without the
#: rest, the library without the command line, and a change near the top cannot break the
#: code beneath it. ``formula`` (the expressions op records describe themselves with) sits
#: under ``ops``; ``_checks`` and ``_walk`` are the engine's machinery, kept out of its
#: reading; ``gradients`` (sweep and grad) is built on the engine. ``graph`` is the analysis
#: (paths, consumers, the backward pass as terms) that explanations and pictures share.
#: ``problem`` reads problem files into graphs with the library's layers, losses and
#: optimisers. The catalogue sits above training because S1-1.4
#: and S3-Q2-5 judge training results with the training code's own labels; ``cli`` is the only
#: layer that uses both catalogue and viz. ``__init__`` (the package's front door) sits on
#: top: it re-exports the engine and, inside IPython, turns on the notebook display of viz.
LAYERS = [
    {"formula"},
    {"ops"},
    {"_checks", "_walk"},
    {"engine"},
    {"gradients"},
    {"graph"},
    {"nested", "init", "functional", "nn", "optim", "checks", "replay", "explain", "diagnose",
     "micrograd"},
    {"problem"},
    {"viz", "training"},
    {"catalogue"},
    {"cli", "__main__", "__init__"},
]
LAYER = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """``microgradnet/viz/dot.py`` -> ``microgradnet.viz.dot``; a package's ``__init__.py``
    is the package itself, except the top one, which is ``microgradnet.__init__``."""
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 2:
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    """The entry of :data:`LAYERS` a ``microgradnet`` module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def is_module(name: str) -> bool:
    """Whether ``microgradnet.a.b`` is a module or package of this tree."""
    path = PACKAGE.parent / name.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(source: str, module: str, is_package: bool, exists=is_module) -> list:
    """``(line, imported module)`` for every import of ``microgradnet`` in ``source``.

    ``from P import x`` counts as importing ``P.x`` when that is a module (``exists``), else
    as importing ``P``; relative imports are resolved from ``module``.
    """
    if module.endswith(".__init__"):
        module, is_package = module[:-len(".__init__")], True
    here = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = here[:len(here) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.append((node.lineno, sub if exists(sub) else base))
    return sorted({(line, m) for line, m in found
                   if m == "microgradnet" or m.startswith("microgradnet.")})


def upward_imports(source: str, module: str, is_package: bool = False, **kw) -> list:
    """The imports of ``source`` that reach a higher layer than ``module``'s, as messages."""
    own = layer_of(module)
    bad = []
    for line, target in imports(source, module, is_package, **kw):
        theirs = layer_of(target)
        if theirs not in LAYER:
            bad.append(f"line {line}: {target}: {theirs!r} is in no layer of LAYERS")
        elif LAYER[theirs] > LAYER[own]:
            bad.append(f"line {line}: {module} ({own}) imports {target} ({theirs}), "
                       "a higher layer")
    return bad


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer():
    names = {layer_of(module_name(p)) for p in MODULES}
    assert names - set(LAYER) == set(), "add the new module or package to LAYERS"
    assert set(LAYER) - names == set(), "LAYERS names a module that is not there"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_point_down_the_layers(path):
    bad = upward_imports(path.read_text(), module_name(path), path.name == "__init__.py")
    assert bad == []


def dynamic_imports(source: str) -> list:
    """Lines that import a module named at run time (``importlib.import_module``,
    ``__import__``): imports this test cannot read, and that fail late if at all."""
    return sorted(node.lineno for node in ast.walk(ast.parse(source))
                  if isinstance(node, ast.Call)
                  and (getattr(node.func, "attr", None) == "import_module"
                       or getattr(node.func, "id", None) in ("import_module", "__import__")))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE.parent)))
def test_imports_are_static(path):
    assert dynamic_imports(path.read_text()) == []


def test_an_upward_import_inside_a_function_is_found():
    # The import that ran back up the layers before the command line had its own package.
    source = "def load():\n    from ..catalogue.commands import resolve_ids\n"
    old_tree = {"microgradnet.catalogue.commands"}.__contains__
    assert upward_imports(source, "microgradnet.viz.commands", exists=old_tree) == [
        "line 2: microgradnet.viz.commands (viz) imports microgradnet.catalogue.commands "
        "(catalogue), a higher layer"]
    assert upward_imports("from . import nn\n", "microgradnet.engine") == [
        "line 1: microgradnet.engine (engine) imports microgradnet.nn (nn), a higher layer"]
    # The front door sits on top: a module inside takes Value from the engine itself.
    assert upward_imports("from .. import Value\n", "microgradnet.viz.dot") == [
        "line 1: microgradnet.viz.dot (viz) imports microgradnet (__init__), a higher layer"]
    assert upward_imports("from ..engine import Value\n", "microgradnet.viz.dot") == []


# ---- worked examples of one seed do not reach into another seed's private helpers ----------

def private_seed_names(source: str, seed: str) -> list:
    """``(line, "seedNNN._name")`` for every underscore name ``source`` (the module ``seed``)
    takes from another seed module, by ``from .seedNNN import _x`` or ``seedNNN._x``."""
    def other_seed(name: str) -> str | None:
        last = name.rsplit(".", 1)[-1]
        return last if last.startswith("seed") and last != seed else None

    def private(name: str) -> bool:
        return name.startswith("_") and not name.startswith("__")

    tree = ast.parse(source)
    found, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            other = other_seed(node.module or "")
            if other:
                found += [(node.lineno, f"{other}.{a.name}") for a in node.names
                          if private(a.name)]
            for a in node.names:   # from . import seed003 [as s3]
                if other_seed(a.name):
                    aliases[a.asname or a.name] = a.name
        elif isinstance(node, ast.Import):
            for a in node.names:
                if other_seed(a.name) and a.asname:
                    aliases[a.asname] = other_seed(a.name)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and private(node.attr)):
            found.append((node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
    return sorted(found)


# What seeds share lives in catalogue/shared.py and microgradnet/nested.py.
SEEDS = sorted((PACKAGE / "catalogue").glob("seed[0-9][0-9][0-9].py"))


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.stem)
def test_a_seed_uses_no_private_name_of_another_seed(path):
    assert private_seed_names(path.read_text(), path.stem) == []


def test_private_seed_names_are_found_however_imported():
    source = ("from .seed003 import _data, example\nfrom . import seed001 as s1\n"
              "x = s1._rand() + s1.public()\nfrom .seed004 import __doc__\n")
    assert private_seed_names(source, "seed004") == [(1, "seed003._data"), (3, "seed001._rand")]
    assert private_seed_names("from ._shared import _data\n", "seed004") == []
