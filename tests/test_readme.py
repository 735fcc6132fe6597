"""The README's Python examples run as written, and print the numbers their comments state."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_its_two_examples():
    assert len(python_blocks()) >= 2


def test_the_30_second_example_prints_what_its_comments_say():
    code = python_blocks()[0]
    # each print's comment starts with the number the line should print
    expected = [m.group(1) for m in re.finditer(r"print\(.*\)\s+# (-?[\d.]+)", code)]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().split() == expected and len(expected) == 3


def test_the_neuron_example_explains_and_draws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = python_blocks()[1]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile("from microgradnet import Value\n" + code, "README.md", "exec"), {})
    text = out.getvalue()
    assert "w21" in text and "0.5 - 0.1" in text   # the update line of w21
    svg = (tmp_path / "neuron.svg").read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "w21" in svg
