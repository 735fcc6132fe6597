"""The catalogue's command line: list, show, verify."""
from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from microgradnet.catalogue import EXAMPLES
from microgradnet.cli import main

TEXTBOOK = Path(__file__).resolve().parents[1].parent / "shared" / "TEXTBOOK.md"


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_one_line_per_example(capsys):
    code, out, _ = cli(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(EXAMPLES)
    assert any(re.match(r"S1-3\.3\s+seed 001\s+3\.3\s+d MSE / d w21", line) for line in lines)


def test_list_group(capsys):
    code, out, _ = cli(capsys, "list", "S1-3")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["S1-3.1", "S1-3.2", "S1-3.3"]


def test_show_s1_3_group_prints_forward_loss_chain_rule_update_once(capsys):
    code, out, _ = cli(capsys, "show", "S1-3")
    assert code == 0
    for header in ("S1-3.1: forward pass", "S1-3.2: mean squared error", "S1-3.3: d MSE"):
        assert header in out
    assert out.count("Forward pass\n") == 1 and out.count("Loss\n") == 1
    assert "  h1 = w11*i1 + w21*i2 + b1 = 1.0*2.0 + 0.5*(-1.0) + 0.5 = 2.0" in out
    assert "  MSE = ((o1 - t1)^2 + (o2 - t2)^2)*0.5 = " \
           "((0.0 - 1.0)^2 + (-1.5 - 0.5)^2)*0.5 = 2.5" in out
    assert "  dMSE/dw21 = (o1 - t1)*w31*1*i2 + (o2 - t2)*w32*1*i2 = 0.5 + (-2.0) = -1.5" in out
    assert "  w21 <- 0.5 - 0.1 * (-1.5) = 0.65" in out
    assert out.index("Forward pass") < out.index("Loss") < out.index("Backward pass") \
        < out.index("Update")


def test_show_single_claim_includes_what_leads_up_to_it(capsys):
    code, out, _ = cli(capsys, "show", "S1-3.3")
    assert code == 0
    assert "Given" in out and "Forward pass" in out and "Update" in out
    assert "verdict:     confirmed" in out


def test_show_other_parameter_and_rounding(capsys):
    code, out, _ = cli(capsys, "show", "S1-3.3", "--wrt", "w12", "--round", "2")
    assert code == 0
    assert "dead path: relu is off at h4" in out
    assert "  w12 <- -0.5 - 0.1 * 0.0 = -0.5" in out


def test_show_latex_and_markdown(capsys):
    code, out, _ = cli(capsys, "show", "S1-3.3", "--latex")
    assert code == 0 and "\\begin{align*}" in out and "w_{21} &\\leftarrow" in out
    assert out.startswith("% S1-3.3")
    code, out, _ = cli(capsys, "show", "S1-3.3", "--markdown")
    assert code == 0 and out.startswith("## S1-3.3") and "### Backward pass" in out


def test_show_step_pauses_between_steps_and_q_stops(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n\nq\n"))
    code, out, _ = cli(capsys, "show", "S1-3.3", "--step")
    assert code == 0
    assert out.count("-- Enter: next step, q: quit --") == 3
    assert "Forward pass" in out and "Update" not in out


def test_show_step_without_input_prints_everything(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, _ = cli(capsys, "show", "S1-3.3", "--step")
    assert code == 0 and "Update" in out


def test_show_unknown_id(capsys):
    code, _, err = cli(capsys, "show", "S9-9")
    assert code == 2 and "no worked example 'S9-9'; `microgradnet list` shows every id" in err
    code, _, err = cli(capsys, "show", "S1-33")
    assert code == 2 and "no worked example 'S1-33' (did you mean S1-3.3, S1-3 or S1-3.2?)" in err


def test_list_and_show_print_json(capsys):
    import json
    code, out, _ = cli(capsys, "list", "S1-3", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == ["S1-3.1", "S1-3.2", "S1-3.3"]
    code, out, _ = cli(capsys, "show", "S1-3.3", "--json")
    (row,) = json.loads(out)
    assert code == 0 and row["id"] == "S1-3.3" and row["verdict"] == "confirmed"


def test_one_option_name_per_concept_with_the_old_names_kept(capsys, tmp_path):
    for argv in (["-o", str(tmp_path / "a.svg"), "--wrt", "w21", "--round", "2"],
                 ["--output", str(tmp_path / "b.svg"), "--highlight", "w21", "--precision", "2"]):
        code, out, err = cli(capsys, "render", "S1-3.3", *argv)
        assert code == 0, err
    code, out, err = cli(capsys, "show", "S1-3.3", "--round", "2", "-o", str(tmp_path / "c.svg"))
    assert code == 0 and "wrote" in out


def test_show_unknown_wrt(capsys):
    code, _, err = cli(capsys, "show", "S1-3.3", "--wrt", "nope")
    assert code == 2 and "no node labelled 'nope'" in err


def test_show_render_writes_forward_backward_update_pictures(capsys, tmp_path):
    pytest.importorskip("microgradnet.viz")
    target = tmp_path / "out" / "s1-3.svg"
    code, out, err = cli(capsys, "show", "S1-3", "--render", str(target))
    assert code == 0, err
    names = ["s1-3-forward.svg", "s1-3-backward.svg", "s1-3-update.svg"]
    for n in names:
        p = tmp_path / "out" / n
        assert f"wrote {p}" in out
        root = ET.parse(p).getroot()
        text = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
        assert "w21" in text and "MSE" in text
    update = " ".join(t.text or "" for t in ET.parse(tmp_path / "out" / names[2]).getroot()
                      .iter() if t.tag.endswith("text"))
    assert "0.65" in update


@pytest.fixture(scope="module")
def verify_json():
    import contextlib
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["verify", "--json"])
    return code, json.loads(buf.getvalue())


def test_verify_json_has_the_required_keys(verify_json):
    code, rows = verify_json
    assert code in (0, 1)
    for r in rows:
        assert {"id", "verdict", "seed", "engine", "seed_file", "section", "note"} <= set(r)
    s133 = next(r for r in rows if r["id"] == "S1-3.3")
    assert s133["verdict"] == "confirmed" and s133["values"]["dMSE/dw21"] == -1.5


def test_verify_json_covers_every_textbook_id(verify_json):
    if not TEXTBOOK.exists():
        pytest.skip(f"{TEXTBOOK} not found")
    wanted = re.findall(r"^\|\s*(S\d-[^\s|]+)\s*\|", TEXTBOOK.read_text(), flags=re.M)
    assert len(wanted) > 40
    _, rows = verify_json
    got = {r["id"] for r in rows}
    missing = [i for i in wanted if i not in got]
    assert not missing, f"claims of TEXTBOOK.md with no worked example: {missing}"
    broken = [(r["id"], r["error"]) for r in rows if r["verdict"] == "error"]
    assert not broken, f"worked examples that broke: {broken}"


def test_verify_table_and_exit_code(capsys):
    code, out, _ = cli(capsys, "verify", "S1-3", "S1-2.6")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["id", "verdict", "seed"]
    assert [line.split()[0] for line in lines[2:6]] == ["S1-2.6", "S1-3.1", "S1-3.2", "S1-3.3"]
    assert re.search(r"^S1-2\.6\s+convention\s", out, flags=re.M)
    assert lines[-1] == "4 claims: 1 convention, 3 confirmed"


def test_verify_reports_a_broken_check_and_exits_1(capsys, monkeypatch):
    from microgradnet.catalogue.base import Example

    def broken():
        raise RuntimeError("boom")
    monkeypatch.setitem(EXAMPLES, "S9-9.9", Example("S9-9.9", "x.txt", "9.9", "broken",
                                                    broken))
    code, out, err = cli(capsys, "verify", "S9-9.9", "S1-3.1")
    assert code == 1
    assert "S9-9.9" in out and "error" in out and "RuntimeError: boom" in out
    assert "boom" in err


# ---- every worked example's step-through reads like a solution sheet --------------------------

@pytest.fixture(scope="module")
def shown():
    """``microgradnet show ID`` for every id: (exit code, output)."""
    import contextlib
    out = {}
    for i in sorted(EXAMPLES):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(["show", i])
        out[i] = (code, buf.getvalue())
    return out


def test_show_every_id_names_each_node_once_and_tells_paths_apart(shown):
    for i, (code, out) in shown.items():
        assert code == 0, i
        # Two nodes with one label would be shown as "W[1,1]" and "W[1,1]#1".
        assert not re.search(r"\S#\d", out), (i, re.search(r".*\S#\d.*", out).group(0)[:120])
        assert "below ]" not in out and "at ]" not in out, i
        for section in out.split("\nBackward pass: ")[1:]:
            caps = re.findall(r"^  path \d+: (.*)$", section, flags=re.M)
            assert len(caps) == len(set(caps)), (i, [c for c in caps if caps.count(c) > 1][0])


#: The intermediates each step-through names with the seed's own names (forward lines).
NAMED = {
    "S1-2.2": ["Z", "yhat1"], "S1-2.3": ["Z", "yhat1"], "S1-2.4": ["Z", "yhat4", "L"],
    "S1-2.5": ["z2[1]"], "S1-2.7": ["z1[1]", "a1[4]", "z2[3]", "Z", "yhat[1]", "delta0[1]",
                                                 "dL/db1[1]", "dL/dW1[1,1]"],
    "S3-Q1.1": ["Y[1,1]", "Y[3,2]", "L"], "S3-Q1.2": ["Y[1]", "Y[7]", "L"],
    "S3-Q1.3": ["Y[1]", "Y[8]", "L"],
    "S3-Q1.4": ["mu", "var", "sigma", "dL/dxhat[1]", "dL/dsigma", "dL/dmu", "dL/dX[1]"],
    "S3-Q1.5": ["Y[1,1,1,1]", "Y[1,1,2,2]"], "S3-Q7.1": ["x[1]", "f", "s", "L"],
    "S4-Q1a": ["yhat[1]", "yhat[6]", "L"], "S4-Q3b": ["yhat[1]", "yhat[4]", "L"],
    "S4-Q4a": ["h[1]", "h[2]", "p", "L"], "S4-Q4b": ["h1", "u5", "L"],
    "S2-Q2.1d": ["z1", "mu", "sigma", "xhat[2]", "y1", "L"],
}


@pytest.mark.parametrize("i", sorted(NAMED))
def test_show_writes_the_seeds_intermediates_as_lines_of_their_own(shown, i):
    _, out = shown[i]
    lines = re.findall(r"^  (\S+) = ", out, flags=re.M)
    missing = [n for n in NAMED[i] if n not in lines]
    assert not missing, f"{i}: no line for {missing}"


def test_s4_q4a_layers_have_their_own_weight_names(shown):
    _, out = shown["S4-Q4a"]
    given = out[out.index("Given"):out.index("Forward pass")]
    for name in ("W1[1,1]", "W1[2,3]", "W2[1,1]", "W2[1,2]", "b1[2]", "b2[1]"):
        assert f"{name} = 0.0" in given
    assert "W2[1,1] <- 0.0 - 0.5 * (-0.25) = 0.125" in out   # dL/dW2[1,1] = -(1 - p) h1


def test_experiments_module_exports_its_results_dir():
    from microgradnet.catalogue import experiments
    assert experiments.__all__ == ["RESULTS_DIR"]
    assert experiments.RESULTS_DIR.endswith("results")


def test_show_every_id_fits_lines_of_100_characters(shown):
    for i, (_, out) in shown.items():
        long = [line for line in out.splitlines() if len(line) > 100]
        assert not long, (i, long[0])


def test_show_goes_node_by_node_where_a_parameter_has_many_paths(shown):
    from microgradnet.catalogue.run import find_param
    from microgradnet.graph import count_paths
    r = EXAMPLES["S2-Q2.1d"].run()
    assert count_paths(r.graph, find_param(r, "b")) == 30
    _, out = shown["S2-Q2.1d"]
    assert "30 paths from L to b: too many to list one by one" in out
    assert "Backward pass, node by node (the nodes on a path to b)" in out
    assert "path 1:" not in out
    assert re.search(r"^  dL/dmu = dL/dv1 \* ∂v1/∂mu \+ dL/dv2 \* ∂v2/∂mu$", out, re.M)


def test_show_heads_an_output_that_is_no_loss_as_output(shown):
    _, out = shown["S1-1.2"]     # y = W2 z1 + b2: the output differentiated, not a loss
    assert "\nOutput (the node differentiated below)\n  y = " in out and "\nLoss\n" not in out
    _, out = shown["S1-3.2"]
    assert "\nLoss\n  MSE = " in out
