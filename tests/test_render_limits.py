"""Drawing refuses what it cannot do in reasonable time, and says so in one line: a huge
graph, a user's file that loops or exits, Graphviz refusing or timing out, a --round past
what a float holds."""
from __future__ import annotations

import time

import pytest

from microgradnet import Value
from microgradnet.cli import main
from microgradnet.explain import explain
from microgradnet.viz import backends, dot, to_dot


def _chain(n: int) -> Value:
    v = Value(1.0, label="x")
    for _ in range(n):
        v = v * 1.0001
    return v


def test_a_50000_node_graph_is_refused_quickly_with_a_suggestion():
    root = _chain(25_000)                               # 50,001 nodes
    start = time.process_time()
    with pytest.raises(ValueError, match=r"50,001 nodes.*MAX_NODES.*replay"):
        to_dot(root, stage="forward")
    assert time.process_time() - start < 5.0            # refused, not laid out


def test_the_limit_is_a_setting(monkeypatch):
    monkeypatch.setattr(dot, "MAX_NODES", 10)
    with pytest.raises(ValueError, match="MAX_NODES = 10"):
        to_dot(_chain(10), stage="forward")
    assert "digraph" in to_dot(_chain(4), stage="forward")


def _render_file(capsys, tmp_path, source: str, *extra: str):
    f = tmp_path / "graph.py"
    f.write_text(source)
    code = main(["render", "--file", str(f), "-o", str(tmp_path / "out.svg"), *extra])
    return code, capsys.readouterr().err


def test_a_user_file_that_exits_is_an_error_not_a_success(capsys, tmp_path):
    code, err = _render_file(capsys, tmp_path, "import sys\nsys.exit(0)\n")
    assert code == 2 and "called sys.exit(0)" in err
    assert not (tmp_path / "out.svg").exists()


def test_a_user_file_that_loops_is_stopped_by_timeout(capsys, tmp_path):
    start = time.monotonic()
    code, err = _render_file(capsys, tmp_path, "while True:\n    pass\n", "--timeout", "0.5")
    assert code == 2 and "ran longer than 0.5 s" in err and "Traceback" not in err
    assert time.monotonic() - start < 10


def test_graphviz_refusing_or_timing_out_is_one_line(capsys, tmp_path, monkeypatch):
    def refuse(exe, source, fmt):
        raise RuntimeError("dot -Tsvg failed (exit 1): Error: syntax error in line 1")
    monkeypatch.setattr(backends, "_run", refuse)
    code, err = _render_file(capsys, tmp_path,
                             "from microgradnet import Value\nroot = Value(1.0) * 2\n")
    assert code == 1 and err.count("\n") == 1 and "syntax error" in err


def test_round_is_limited_to_what_a_float_holds(capsys):
    with pytest.raises(SystemExit) as e:
        main(["show", "S1-3", "--round", "30"])
    assert e.value.code == 2 and "0 <= K <= 15" in capsys.readouterr().err
    with pytest.raises(ValueError, match="0 to 15"):
        explain(_chain(2), decimals=16)
