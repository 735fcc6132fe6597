"""``microgradnet solve FILE``: problem files of a student's own, solved and checked against
PyTorch float64 and central differences; the backward pass node by node against the engine's
own replay; bad files refused in one line."""
from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import pytest
import torch

from helpers import assert_close, unwrap
from microgradnet import Value, topological_order
from microgradnet.cli import main
from microgradnet.graph import analyse, count_paths, replay_backward
from microgradnet.problem import Problem, ProblemError, load_problem, solve

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TOML_EXAMPLES = sorted(EXAMPLES.glob("*.toml"))


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def results(text: str) -> dict:
    """``name -> printed result`` for every line ``name = ... = result`` (or ``<-``)."""
    found = {}
    for line in unwrap(text):
        m = re.match(r"^ {2,}(?:let )?(\S+) (?:=|<-) .* (?:=|<-)? ?(-?[\d.]+(?:e-?\d+)?)"
                     r"(?:  \(unrounded .*\))?(?:   \[.*\])?$", line)
        if m:
            found.setdefault(m.group(1), m.group(2))
    return found


# ---- the done-when: S1-3 as a problem file -----------------------------------------------------

def test_s1_3_problem_prints_the_same_numbers_as_show(capsys):
    code, solved, err = cli(capsys, "solve", str(EXAMPLES / "s1_3.toml"))
    assert code == 0, err
    code, shown, _ = cli(capsys, "show", "S1-3")
    assert code == 0
    a, b = results(solved), results(shown)
    for name in ("h1", "h2", "h3", "h4", "o1", "o2", "MSE", "dMSE/dw21", "w21"):
        assert a[name] == b[name], name
    assert "  w21 <- 0.5 - 0.1 * (-1.5) = 0.65" in solved
    assert "  dMSE/dw21 = (o1 - t1)*w31*1*i2 + (o2 - t2)*w32*1*i2 = 0.5 + (-2.0) = -1.5" in solved


def test_s1_3_json_gives_w21_gradient_and_update(capsys):
    code, out, _ = cli(capsys, "solve", str(EXAMPLES / "s1_3.toml"), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["nodes"]["w21"] == {"value": 0.5, "grad": -1.5}          # the seed's numbers
    assert data["updates"]["w21"]["grad"] == -1.5
    assert abs(data["updates"]["w21"]["new"] - 0.65) < 1e-15
    assert data["updates"]["w21"]["old"] == 0.5 and data["updates"]["w21"]["lr"] == 0.1
    problem = load_problem(EXAMPLES / "s1_3.toml")
    assert set(data["updates"]) == {p.label for p in problem.params}
    assert set(data["nodes"]) == set(problem.nodes)


# ---- PyTorch float64 as the oracle of every TOML example ----------------------------------------

def torch_solution(data: dict) -> tuple:
    """Values and gradients by label, and the loss, of a TOML problem built in PyTorch."""
    t: dict = {}

    def leaf(label, x):
        t[label] = torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
        return t[label]
    x = [leaf(k, v) for k, v in data["inputs"].items()]
    params = []
    def labelled(table, key, labels_key):
        """(labels, numbers): written as a table by label, or as two lists."""
        if isinstance(table[key], dict):
            return list(table[key]), list(table[key].values())
        return table[labels_key], table[key]
    for layer in data["layers"]:
        rows = layer["weights"]
        if isinstance(rows[0], dict):
            rows = [list(r.items()) for r in rows]
        else:
            rows = [list(zip(labels, r, strict=True))
                    for labels, r in zip(layer["weight_labels"], rows, strict=True)]
        W = [[leaf(lab, w) for lab, w in row] for row in rows]
        params += [w for row in W for w in row]
        b = [leaf(lab, v) for lab, v in zip(*labelled(layer, "biases", "bias_labels"),
                                            strict=True)]
        params += b
        z = [sum(W[k][j] * x[j] for j in range(len(x))) + b[k] for k in range(len(W))]
        for lab, node in zip(layer["outputs"], z, strict=True):
            node.retain_grad()
            t[lab] = node
        act = layer.get("activation", "none")
        if act == "none":
            x = z
            continue
        if act == "softmax":
            ys = list(torch.softmax(torch.stack(z), 0).unbind())
        else:
            ys = [getattr(torch, act)(zi) for zi in z]
        for lab, node in zip(layer["activated"], ys, strict=True):
            node.retain_grad()
            t[lab] = node
        x = ys
    loss = data["loss"]
    ts = [leaf(lab, v) for lab, v in zip(*labelled(loss, "targets", "target_labels"),
                                         strict=True)]
    if loss["kind"] == "mse":
        sq = sum((y - tt) ** 2 for y, tt in zip(x, ts, strict=True))
        L = {"half": 0.5 * sq, "sum": sq, "mean": sq / len(x)}[loss.get("reduction", "mean")]
    elif loss["kind"] == "cross_entropy":
        L = -sum(tt * torch.log(y) for y, tt in zip(x, ts, strict=True))
    else:
        L = -sum(tt * torch.log(y) + (1 - tt) * torch.log(1 - y)
                 for y, tt in zip(x, ts, strict=True))
    L.backward()
    return t, L, params


@pytest.mark.parametrize("path", TOML_EXAMPLES, ids=lambda p: p.name)
def test_every_example_matches_pytorch_float64(capsys, path):
    data = tomllib.loads(path.read_text())
    t, L, params = torch_solution(data)
    code, out, err = cli(capsys, "solve", str(path), "--json")
    assert code == 0, err
    got = json.loads(out)
    assert_close(got["nodes"][data["loss"]["label"]]["value"], L.item(), rtol=1e-12)
    for label, tensor in t.items():
        node = got["nodes"][label]
        assert_close(node["value"], tensor.item(), rtol=1e-12, atol=1e-15, what=label)
        assert_close(node["grad"], tensor.grad.item(), rtol=1e-9, atol=1e-12,
                     what=f"dL/d{label}")
    # the update: one step of the same optimiser in PyTorch
    opt = data["optimiser"]
    if opt["kind"] == "adam":
        step = torch.optim.Adam(params, lr=opt["lr"], betas=tuple(opt.get("betas", (0.9, 0.999))),
                                eps=opt.get("eps", 1e-8))
    else:
        step = torch.optim.SGD(params, lr=opt["lr"])
    step.step()
    labels = {id(tensor): label for label, tensor in t.items()}
    assert set(got["updates"]) == {labels[id(p)] for p in params}
    for p in params:
        assert_close(got["updates"][labels[id(p)]]["new"], p.item(), rtol=1e-9, atol=1e-12,
                     what=f"new {labels[id(p)]}")


def _forward(root: Value, overrides: dict) -> float:
    """The root's value with some leaves' values replaced (the op table's float forwards)."""
    vals: dict = {}
    for n in topological_order(root):
        vals[n] = overrides.get(n, n.data) if n.is_leaf else \
            n.primitive.fn(*[vals[p] for p in n.parents])
    return vals[root]


def test_a_three_layer_network_gets_every_gradient_node_by_node(capsys):
    # 2-3-4-3: each first-layer weight has 12 paths, too many to list; every named node's
    # gradient is still written out, and each is the derivative by central differences.
    path = EXAMPLES / "three_layer.py"
    problem = load_problem(path)
    u11 = problem.node("u11")
    assert count_paths(problem.root, u11) == 12
    code, out, _ = cli(capsys, "solve", str(path), "--wrt", "u11")
    assert code == 0
    assert "12 paths from L to u11: too many to list one by one" in out
    lines = unwrap(out)
    for label in problem.nodes:
        if label != "L":
            assert any(line.startswith(f"  dL/d{label} = ") for line in lines), label
    code, out, _ = cli(capsys, "solve", str(path), "--json")
    got = json.loads(out)
    for label in ("u11", "u32", "c2", "v43", "w24", "x1", "h1[3]"):
        node = problem.node(label)
        h = 1e-6
        d = (_forward(problem.root, {node: node.data + h})
             - _forward(problem.root, {node: node.data - h})) / (2 * h)
        if node.is_leaf:
            assert_close(got["nodes"][label]["grad"], d, rtol=1e-6, atol=1e-9, what=label)
    assert set(got["updates"]) == {p.label for p in problem.params}


# ---- node by node: the engine's replay, the frames' numbers -------------------------------------

@pytest.mark.parametrize("path", TOML_EXAMPLES + [EXAMPLES / "three_layer.py"],
                         ids=lambda p: p.name)
def test_node_by_node_numbers_are_the_replayed_backward_pass(path):
    problem = load_problem(path)
    solution = solve(problem)
    e, grads = solution.explanation, solution.grads
    graph = analyse(problem.root, problem.params)
    replayed, terms = replay_backward(graph)
    passed = e.node_pass
    assert set(grads) == {n for n in graph.order if n in e.names}
    for node, g in grads.items():
        assert g == replayed[graph.index[node]], e.names[node]    # bit for bit
        parts = passed.terms.get(node, [])
        if node is problem.root:
            continue
        # each named consumer sent what the engine sent along its edges, and they add up
        direct = {(id(t.out), t.position): t.value for t in terms[graph.index[node]]}
        for part in parts:
            edges = [(id(part.consumer), pos) for pos, p in enumerate(part.consumer.parents)
                     if p is node]
            if edges:   # a direct consumer: the same floats
                # (a consumer whose gradient is 0 sends nothing, as in the engine)
                assert part.value == math.fsum(direct.get(k, 0.0) for k in edges)
        assert_close(math.fsum(p.value for p in parts), g, rtol=1e-12, atol=1e-15,
                     what=e.names[node])


# ---- options -----------------------------------------------------------------------------------

def test_wrt_updates_only_the_chosen_parameters(capsys):
    code, out, _ = cli(capsys, "solve", str(EXAMPLES / "s1_3.toml"), "--wrt", "w11,b1",
                       "--json")
    assert code == 0 and set(json.loads(out)["updates"]) == {"w11", "b1"}
    code, out, _ = cli(capsys, "solve", str(EXAMPLES / "s1_3.toml"), "--wrt", "w11")
    update = out[out.index("Update"):]
    assert "w11 <- 1.0 - 0.1 * 3.0 = 0.7" in update and "w21 <-" not in update
    assert "Backward pass: dMSE/dw11" in out


def test_round_carries_rounded_values(capsys):
    code, out, _ = cli(capsys, "solve", str(EXAMPLES / "sigmoid_2_2_2.toml"), "--round", "4")
    assert code == 0
    assert "  h1 = sigmoid(net_h1) = sigmoid(0.3775) = 0.5933  (unrounded 0.593269992107)" in out
    # o1 is computed from the rounded h1, h2, as by hand
    assert "0.4*0.5933 + 0.45*0.5969 + 0.6" in out


def test_latex_markdown_and_lr(capsys):
    path = str(EXAMPLES / "s1_3.toml")
    code, out, _ = cli(capsys, "solve", path, "--latex")
    assert code == 0 and "\\begin{align*}" in out and "w_{21} &\\leftarrow" in out
    code, out, _ = cli(capsys, "solve", path, "--markdown")
    assert code == 0 and out.startswith("## ") and "### Backward pass, node by node" in out
    code, out, _ = cli(capsys, "solve", path, "--lr", "0.5", "--json")
    assert json.loads(out)["updates"]["w21"]["new"] == 0.5 - 0.5 * -1.5


def test_adam_is_stepped_through(capsys):
    code, out, _ = cli(capsys, "solve", str(EXAMPLES / "softmax_cross_entropy.toml"))
    assert code == 0
    block = out[out.index("  w11: g = dL/dw11"):out.index("  w12: g")]
    for name in ("m", "v", "m_hat", "v_hat", "step"):
        assert re.search(rf"^    {name} = ", block, re.M), name
    assert "    step = lr*m_hat/(sqrt(v_hat) + eps)\n" in block
    assert "    w11 <- w11 - step = 0.2 - 0.00999999979968 = 0.1900000002" in block


def test_render_writes_the_three_pictures(capsys, tmp_path):
    pytest.importorskip("graphviz")
    code, out, err = cli(capsys, "solve", str(EXAMPLES / "s1_3.toml"), "--render",
                         str(tmp_path / "net.dot"))
    assert code == 0, err
    for stage in ("forward", "backward", "update"):
        dot = (tmp_path / f"net-{stage}.dot").read_text()
        assert "w21" in dot and f"wrote {tmp_path / f'net-{stage}.dot'}" in out
    assert "0.65" in (tmp_path / "net-update.dot").read_text()


def test_load_problem_gives_root_params_lr_and_named_nodes():
    p = load_problem(EXAMPLES / "s1_3.toml")
    assert isinstance(p, Problem) and p.root.label == "MSE" and p.lr == 0.1
    assert [w.label for w in p.params][:4] == ["w11", "w21", "w12", "w22"]
    assert p.nodes["h3"].data == 2.0 and p.wrt == ["w21"] and p.is_loss
    py = load_problem(EXAMPLES / "three_layer.py")
    assert py.lr == 0.1 and len(py.params) == 9 + 16 + 15 and py.root.label == "L"


def test_weights_biases_and_targets_may_be_written_by_label(tmp_path):
    by_lists = load_problem(EXAMPLES / "s1_3.toml")
    f = tmp_path / "s1_3_by_label.toml"
    f.write_text(S1_3.replace('weights = [[1.0, 0.5], [-0.5, -1.0]]\n'
                              'weight_labels = [["w11", "w21"], ["w12", "w22"]]',
                              'weights = [{w11 = 1.0, w21 = 0.5}, {w12 = -0.5, w22 = -1.0}]')
                 .replace('biases = [0.5, -0.5]\nbias_labels = ["b1", "b2"]',
                          'biases = {b1 = 0.5, b2 = -0.5}')
                 .replace('targets = [1.0, 0.5]\ntarget_labels = ["t1", "t2"]',
                          'targets = {t1 = 1.0, t2 = 0.5}'))
    by_label = load_problem(f)
    assert "{w11 = 1.0, w21 = 0.5}" in f.read_text() and "{b1 = 0.5" in f.read_text()
    assert [(p.label, p.data) for p in by_label.params] == \
        [(p.label, p.data) for p in by_lists.params]
    assert by_label.root.data == by_lists.root.data and set(by_label.nodes) == set(by_lists.nodes)
    f.write_text(f.read_text().replace("biases = {b1 = 0.5, b2 = -0.5}",
                                       'biases = {b1 = 0.5, b2 = -0.5}\nbias_labels = ["c", "d"]'))
    with pytest.raises(ProblemError, match="layers\\[1\\].bias_labels: the biases already"):
        load_problem(f)


def test_an_output_without_a_loss_is_headed_output(tmp_path, capsys):
    f = tmp_path / "neuron.toml"
    f.write_text('[inputs]\nx = 2.0\n[[layers]]\nweights = [[-0.5]]\nweight_labels = [["w"]]\n'
                 'outputs = ["z"]\nactivation = "relu"\nactivated = ["y"]\n')
    code, out, _ = cli(capsys, "solve", str(f))
    assert code == 0
    assert "Output (the node differentiated below)\n  y = max(0, z)" in out and "Loss" not in out
    assert "Update" not in out      # no optimiser, no update


# ---- bad files: one line naming the key or the line, exit 2 -------------------------------------

S1_3 = (EXAMPLES / "s1_3.toml").read_text()


@pytest.mark.parametrize("text, message", [
    (S1_3.replace("[show]", "[shwo]"), "shwo: unknown key"),
    (S1_3.replace("activation = \"relu\"", "activation = \"relux\""),
     "layers[1].activation: unknown activation 'relux'"),
    (S1_3.replace("[[1.0, 0.5], [-0.5, -1.0]]", "[[1.0, 0.5, 2.0], [-0.5, -1.0]]"),
     "layers[1].weights: row 1 has 3 numbers, but the layer has 2 inputs"),
    (S1_3.replace("targets = [1.0, 0.5]", "targets = [1.0]"), "loss.targets: must list 2"),
    (S1_3.replace('kind = "mse"', 'kind = "cross_entropy"').replace('reduction = "half"', ""),
     "give that layer activation = \"softmax\""),
    (S1_3.replace("lr = 0.1", "lr = -0.1"), "optimiser.lr: the learning rate must be"),
    (S1_3.replace("lr = 0.1", "lr = 0.1\nmomentum = 0.9\nbetas = [0.9, 0.99]"),
     "optimiser.betas: unknown key for sgd"),
    (S1_3.replace('wrt = ["w21"]', 'wrt = ["w99"]'), "show.wrt: no node labelled 'w99'"),
    (S1_3.replace('"b3", "b4"', '"b1", "b4"'), "the label 'b1' is used twice"),
    (S1_3.replace("i1 = 2.0", "i1 = 2.0 +"), "not valid TOML"),
    (S1_3.replace("i1 = 2.0", 'i1 = "two"'), "inputs.i1: must be a finite number"),
])
def test_a_bad_toml_file_is_refused_in_one_line(tmp_path, capsys, text, message):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    code, out, err = cli(capsys, "solve", str(f))
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    with pytest.raises(ProblemError, match=re.escape(message)):
        load_problem(f)


def test_a_toml_syntax_error_names_its_line(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text(S1_3.replace("i2 = -1.0", "i2 = = -1.0"))
    with pytest.raises(ProblemError, match=r"bad.toml: not valid TOML: .*line 7"):
        load_problem(f)


@pytest.mark.parametrize("code_text, message", [
    ("from microgradnet import Value\nx = Value(1.0)\nroot = x.log() * (x - 1).log()\n",
     "bad.py, line 3: DomainError"),
    ("x = 1\n", "bad.py must set a variable `root`"),
    ("root = 2.0\n", "`root` must be a Value, got float"),
    ("def f(:\n", "bad.py, line 1: SyntaxError"),
    ("from microgradnet import Value\nroot = Value(1.0, 'x') * 2\nwrt = ['y']\n",
     "wrt: no node labelled 'y'"),
    ("from microgradnet import Value\nx = Value(2.0, 'x')\nroot = (x * 0.5).tanh()\n"
     "x.data = 3.0\n", "the leaf Value(data=3.0, label='x') was assigned after"),
])
def test_a_bad_python_file_is_refused_in_one_line(tmp_path, capsys, code_text, message):
    f = tmp_path / "bad.py"
    f.write_text(code_text)
    code, out, err = cli(capsys, "solve", str(f))
    assert code == 2 and message in err and err.count("\n") == 1 and "Traceback" not in err


def test_check_refuses_a_stale_python_file_in_one_line(tmp_path, capsys):
    f = tmp_path / "stale.py"
    f.write_text("from microgradnet import Value\nx = Value(2.0, 'x')\n"
                 "root = (x * 0.5).tanh()\nx.data = 3.0\n")
    code, out, err = cli(capsys, "check", str(f), "--answer", "x=1")
    assert code == 2 and "was assigned after" in err and err.count("\n") == 1
    assert "Traceback" not in err


def test_a_missing_file_or_suffix(tmp_path, capsys):
    code, _, err = cli(capsys, "solve", str(tmp_path / "none.toml"))
    assert code == 2 and "no such file" in err
    f = tmp_path / "net.json"
    f.write_text("{}")
    code, _, err = cli(capsys, "solve", str(f))
    assert code == 2 and "a problem file is .toml or .py, not .json" in err
    code, _, err = cli(capsys, "solve", str(EXAMPLES / "s1_3.toml"), "--wrt", "nope")
    assert code == 2 and "no node labelled 'nope'" in err


def test_wrt_an_intermediate_node_explains_it_and_updates_nothing_else(capsys):
    code, out, _ = cli(capsys, "solve", str(EXAMPLES / "s1_3.toml"), "--wrt", "h3,w21",
                       "--json")
    assert code == 0 and set(json.loads(out)["updates"]) == {"w21"}
    code, out, _ = cli(capsys, "solve", str(EXAMPLES / "s1_3.toml"), "--wrt", "h3")
    assert "Backward pass: dMSE/dh3" in out and "Update" not in out.split("dMSE/dh3")[-1]


def test_a_hinge_problem_and_a_python_problem_with_adam(tmp_path, capsys):
    f = tmp_path / "svm.toml"
    f.write_text('[inputs]\nx1 = 1.0\nx2 = 2.0\n[[layers]]\nweights = [[0.2, -0.3]]\n'
                 'weight_labels = [["w1", "w2"]]\nbiases = [0.1]\nbias_labels = ["b"]\n'
                 'outputs = ["s"]\n[loss]\nkind = "hinge"\ntargets = [1]\nlabel = "L"\n'
                 '[optimiser]\nkind = "sgd"\nlr = 0.5\nmomentum = 0.9\nweight_decay = 0.1\n')
    code, out, err = cli(capsys, "solve", str(f), "--json")
    assert code == 0, err
    got = json.loads(out)
    w = torch.tensor([0.2, -0.3], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    torch.relu(1 - (w @ x + b)).backward()
    assert_close(got["nodes"]["w2"]["grad"], w.grad[1].item(), rtol=1e-12)
    opt = torch.optim.SGD([w, b], lr=0.5, momentum=0.9, weight_decay=0.1)
    opt.step()
    assert_close(got["updates"]["w2"]["new"], w[1].item(), rtol=1e-12)
    assert_close(got["updates"]["b"]["new"], b.item(), rtol=1e-12)
    py = tmp_path / "mine.py"
    py.write_text("from microgradnet import Value\nw = Value(0.5, label='w')\n"
                  "x = Value(2.0, label='x')\nroot = (w * x - 1.0) ** 2\nroot.label = 'L'\n"
                  "params = [w]\noptimiser = {'kind': 'adam', 'lr': 0.01}\n")
    code, out, err = cli(capsys, "solve", str(py))
    assert code == 0, err
    assert "Update (Adam: learning rate 0.01" in out and "    m_hat = m/(1 - beta1^t)" in out
    code, out, _ = cli(capsys, "solve", str(py), "--json")
    tw = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    ((tw * 2.0 - 1.0) ** 2).backward()
    adam = torch.optim.Adam([tw], lr=0.01)
    adam.step()
    assert_close(json.loads(out)["updates"]["w"]["new"], tw.item(), rtol=1e-12)


def test_a_console_without_the_partial_sign_gets_question_marks_not_a_traceback():
    import subprocess
    env = {"PYTHONIOENCODING": "cp1252", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "microgradnet", "solve",
                           str(EXAMPLES / "s1_3.toml")], capture_output=True, env=env,
                          cwd=Path(__file__).resolve().parents[1], timeout=60)
    assert done.returncode == 0, done.stderr
    assert b"dMSE/dh3 = dMSE/do1 * ?o1/?h3" in done.stdout


@pytest.mark.parametrize("path", sorted(EXAMPLES.iterdir()), ids=lambda p: p.name)
def test_every_line_of_a_solution_fits_100_columns(capsys, path):
    code, out, _ = cli(capsys, "solve", str(path))
    assert code == 0
    long = [line for line in out.splitlines() if len(line) > 100]
    assert not long, long[0]


def test_paths_sets_when_the_paths_are_listed(capsys):
    path = str(EXAMPLES / "three_layer.py")
    code, out, _ = cli(capsys, "solve", path, "--wrt", "u11", "--paths", "12")
    assert code == 0 and "  path 12: L -> " in out and "  path 13:" not in out
    code, out, _ = cli(capsys, "solve", path, "--wrt", "w11", "--paths", "0")
    assert "  1 path from L to w11: not listed; the node-by-node pass above gives it" in out
    code, _, err = cli(capsys, "solve", path, "--paths", "-1")
    assert code == 2 and "--paths needs N >= 0" in err
