"""The command line as a whole: every command is there, `list` starts without the pictures or
the training code, a broken import fails loudly instead of hiding a command; verify --results."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from microgradnet.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def test_every_command_is_on_the_command_line():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(sub.choices) == ["list", "show", "verify", "solve", "check", "render", "train"]


def test_list_starts_without_graphviz_training_code_or_torch():
    code = ("import contextlib, io, sys\n"
            "from microgradnet.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['list']) == 0\n"
            "print(' '.join(sorted(sys.modules)))\n")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout.split()
    assert "microgradnet.catalogue" in loaded
    heavy = [m for m in loaded if m.split(".")[0] in ("graphviz", "torch", "wasmtime")
             or m.startswith(("microgradnet.viz", "microgradnet.training"))]
    assert heavy == []


def test_a_broken_import_in_the_pictures_fails_render_loudly(tmp_path):
    # None in sys.modules makes `import microgradnet.viz.dot` raise ModuleNotFoundError, as a
    # mistyped import inside viz/dot.py would. `render` must stay a command and fail with the
    # traceback, not vanish into "invalid choice: 'render'".
    code = ("import sys\n"
            "sys.modules['microgradnet.viz.dot'] = None\n"
            "from microgradnet.cli import main\n"
            f"main(['render', 'S1-3.3', '-o', {str(tmp_path / 'g.svg')!r}])\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True)
    assert run.returncode == 1
    assert "invalid choice" not in run.stderr
    assert "ModuleNotFoundError" in run.stderr and "microgradnet.viz.dot" in run.stderr


def test_python_dash_m_runs_the_command_line():
    out = subprocess.run([sys.executable, "-m", "microgradnet", "list", "S1-3"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert [line.split()[0] for line in out.splitlines()] == ["S1-3.1", "S1-3.2", "S1-3.3"]


# ---- verify --results DIR ----------------------------------------------------------------------

def test_verify_results_needs_an_existing_directory(capsys, tmp_path):
    assert main(["verify", "S1-1.4", "--results", str(tmp_path / "nope")]) == 2
    assert f"--results {tmp_path / 'nope'}: no such directory" in capsys.readouterr().err


def test_verify_results_reads_the_directory_while_it_runs_then_the_default(monkeypatch,
                                                                          tmp_path):
    import microgradnet.cli.catalogue as commands
    from microgradnet.catalogue import experiments
    default = experiments.results_dir()
    seen = []
    monkeypatch.setattr(commands, "run_all",
                        lambda ids: seen.append(experiments.results_dir()) or [])
    assert main(["verify", "S1-1.4", "--results", str(tmp_path)]) == 0
    assert seen == [str(tmp_path.resolve())]
    assert experiments.results_dir() == default


def test_verify_results_judges_the_training_examples_on_that_directory(capsys, tmp_path):
    assert main(["verify", "S1-1.4", "S3-Q2-5", "--json", "--results", str(tmp_path)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["verdict"]) for r in rows] == [("S1-1.4", "pending"),
                                                       ("S3-Q2-5", "pending")]
