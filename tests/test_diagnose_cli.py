"""``microgradnet check``: answers on a worked example or a problem file, text and JSON, exit
status, and one line for a user's mistake."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from microgradnet.catalogue.seed001 import build_s1_3
from microgradnet.cli import main
from microgradnet.gradients import grad


def _run(capsys, *argv) -> tuple:
    code = main(["check", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_names_the_missing_path(capsys):
    code, out, _ = _run(capsys, "S1-3", "--answer", "dMSE/dw21=-2.0")
    assert code == 1
    assert out.splitlines()[0] == "dMSE/dw21 = -2.0: wrong (engine: -1.5)"
    assert ("dropped-path at do1/dh3: your value equals the path through o2 alone: the path "
            "through o1 is missing: (0.0 - 1.0)*0.5*1*(-1.0) = 0.5") in out


def test_check_json_has_every_field(capsys):
    net = build_s1_3()
    g = grad(net["MSE"], net["w21"])
    code, out, _ = _run(capsys, "S1-3.3", "--json", "-a", f"dMSE/dw21={g:.2f}",
                        f"new:w21={net['w21'].data - 0.1 * g:.2f}", "h1=2.5")
    assert code == 1
    answers = json.loads(out)["answers"]
    assert [a["target"] for a in answers] == ["dMSE/dw21", "new:w21", "h1"]
    assert [a["correct"] for a in answers] == [True, True, False]
    assert answers[0]["expected"] == g and answers[0]["slips"] == []
    slip = answers[2]["slips"][0]
    assert set(slip) == {"kind", "where", "value", "explanation"}
    assert slip["kind"] == "dropped-term" and slip["value"] == pytest.approx(2.5)


def test_check_all_correct_exits_0(capsys):
    code, out, _ = _run(capsys, "S1-3", "-a", "o2=-1.5", "MSE=2.50")
    assert code == 0 and out.count("correct") == 2


def test_check_unexplained_answer_says_where_numbers_part(capsys):
    code, out, _ = _run(capsys, "S1-3", "-a", "o1=0.3", "dMSE/dw21=7.77")
    assert code == 1
    assert "no slip of the library reproduces it" in out
    assert "your numbers first part from the engine's at o1: you 0.3, the engine 0.0" in out


def test_check_depth_2_finds_two_slips(capsys):
    # the o1 path dropped and the step taken uphill: 0.5 + 0.1 * (-2.0)
    code, out, _ = _run(capsys, "S1-3", "-a", "new:w21=0.30", "--depth", "2")
    assert code == 1 and "dropped-path+update-sign" in out


def test_check_a_python_problem_file(tmp_path, capsys):
    f = tmp_path / "neuron.py"
    f.write_text("from microgradnet import Value\n"
                 "x = Value(2.0, label='x'); w = Value(-3.0, label='w')\n"
                 "b = Value(1.0, label='b')\n"
                 "z = w * x + b; z.label = 'z'\n"
                 "root = z ** 2; root.label = 'L'\n"
                 "params = [w, b]\n")
    # dL/dw = 2 z x = 2 * (-5) * 2 = -20; without the 2 of the square: -10
    code, out, _ = _run(capsys, str(f), "-a", "dL/dw=-10", "new:w=-1.0", "--lr", "0.1")
    assert code == 1
    assert "missing-factor" in out.splitlines()[1]
    assert "new:w = -1.0: correct" in out            # -3 - 0.1 * (-20)


@pytest.mark.parametrize("argv, message", [
    (["S9-9", "-a", "h1=1"], "no worked example or file 'S9-9'"),
    (["S1-3", "-a", "zz=1"], "no node labelled 'zz'"),
    (["S1-3", "-a", "h1=two"], "the answer 'two' is not a number"),
    (["S1-3", "-a", "h1"], "an answer is LABEL=VALUE"),
    (["S1-2.2", "-a", "new:z1=1.0"], "needs the learning rate"),
    (["missing.toml", "-a", "h1=1"], "missing.toml: no such file"),
])
def test_check_user_errors_are_one_line_and_exit_2(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("microgradnet check: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_check_reads_a_toml_problem_file_as_solve_does(capsys):
    examples = Path(__file__).resolve().parents[1] / "examples"
    code, out, _ = _run(capsys, str(examples / "s1_3.toml"), "-a", "dMSE/dw21=-2.0",
                        "new:w21=0.65")
    assert code == 1
    assert out.splitlines()[1].lstrip().startswith("dropped-path at do1/dh3")
    assert "new:w21 = 0.65: correct" in out          # the file's own learning rate, 0.1
