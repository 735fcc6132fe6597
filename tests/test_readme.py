"""The README's Python examples, and those of the README text in docs/, run as written, each
pasted on its own into a fresh interpreter namespace, and print the numbers their comments
state."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))


def python_blocks(path: Path = README) -> list:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def run_alone(code: str, where: str) -> str:
    """Run one block in a namespace of its own (nothing imported for it); its output."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, where, "exec"), {"__name__": "__main__"})
    return out.getvalue()


def printed_numbers(code: str) -> list:
    """The number each ``print(...)  # 1.5 ...`` comment says the line prints first."""
    return [m.group(1) for m in re.finditer(r"print\(.*\)\s+# (-?[\d.]+)", code)]


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Run in an empty folder (pictures land there) where examples/ is the repository's."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_readme_has_its_two_examples():
    assert len(python_blocks()) >= 2


def test_the_30_second_example_prints_what_its_comments_say(in_tmp):
    code = python_blocks()[0]
    expected = printed_numbers(code)
    assert run_alone(code, "README.md").split() == expected and len(expected) == 3


@pytest.mark.parametrize("i", range(len(python_blocks())))
def test_every_readme_block_runs_pasted_on_its_own(in_tmp, i):
    run_alone(python_blocks()[i], f"README.md, block {i + 1}")


def test_the_neuron_example_explains_and_draws(in_tmp):
    blocks = [b for p in [README] + DOCS for b in python_blocks(p) if "neuron.svg" in b]
    code = next(b for b in reversed(blocks))      # the self-contained one where there are two
    text = run_alone(code, "the neuron example")
    assert "w21" in text and "0.5 - 0.1" in text   # the update line of w21
    svg = (in_tmp / "neuron.svg").read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "w21" in svg


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_block_of_the_readme_text_in_docs_runs_and_prints_its_comments(in_tmp, path):
    for i, code in enumerate(python_blocks(path)):
        out = run_alone(code, f"{path.name}, block {i + 1}")
        lines = [line for line in out.splitlines() if line.strip()]
        for number, line in zip(printed_numbers(code), lines, strict=False):
            assert line.split()[0] == number, (path.name, i + 1, line)
