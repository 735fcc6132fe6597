"""Slip diagnosis: every slip of the library, made on a graph, is named back by ``diagnose``
(on the catalogue's worked examples and on random networks); the closed form of a single slip
equals the engine's replay of the changed graph; correct answers pass at their rounding; the
S1-3 network's common wrong answers get the slips a teacher would name, checked against
networks rebuilt by hand with the slip in them."""
from __future__ import annotations

import json
import math
import random

import pytest
from helpers import assert_close

from microgradnet import Value
from microgradnet import functional as F
from microgradnet.catalogue import EXAMPLES
from microgradnet.checks import numerical_grad
from microgradnet.catalogue.run import find_param
from microgradnet.catalogue.seed001 import build_s1_3
from microgradnet.diagnose import (KINDS, Answer, Checker, Problem, Target, candidates,
                                   diagnose, effect, parse_answer, replay)
from microgradnet.diagnose.slips import Rebuild, Slip, swap_partner
from microgradnet.engine import apply, topological_order
from microgradnet.gradients import grad

# ---- the catalogue's worked examples -----------------------------------------------------------


_PROBLEMS: dict = {}


def catalogue_problems() -> dict:
    """Every worked example with a graph, run once: id -> (problem, targets), the targets being
    the root's value and, where the example names a parameter, its gradient and its update
    (at the example's rate, or 0.1)."""
    if not _PROBLEMS:
        for i in sorted(EXAMPLES):
            r = EXAMPLES[i].run()
            if not isinstance(r.graph, Value):
                continue
            extra = r.extra or {}
            params = extra.get("params")
            if isinstance(params, dict):
                params = list(params.values())
            p = Problem(r.graph, params, extra.get("lr") or 0.1)
            targets = [Target("value", r.graph, r.graph.label or "root")]
            w = find_param(r, extra["wrt"]) if extra.get("wrt") else None
            if w is not None and w is not r.graph:
                top = r.graph.label or "L"
                targets += [Target("grad", w, f"d{top}/d{w.label}"),
                            Target("update", w, f"new:{w.label}")]
            _PROBLEMS[i] = (p, targets)
    return _PROBLEMS


def _round_trip(p: Problem, t: Target, per_kind: int = 1) -> set:
    """Make slips (the first ``per_kind`` of each kind that changes the answer at 6
    decimals), give their numbers as the student's, and check that the diagnosis names each.
    Returns the kinds checked."""
    checker = Checker(p.root, p.graph.params, p.lr)
    p = checker.problem
    t = p.target(t.text) if t.kind != "value" else t
    expected = p.expected(t)
    done: dict = {}
    for s in candidates(p, t):
        if done.get(s.kind, 0) >= per_kind:
            continue
        v = replay(p, t, [s])
        if v is None or not t.node.label or Answer.read(f"{v:.6f}").matches(expected):
            continue
        d = checker.diagnose(t.text if t.kind != "value" else t.node.label, f"{v:.6f}")
        assert not d.correct, (s.kind, s.where, v, expected)
        named = [(f.kind, f.where) for f in d.slips]
        assert (s.kind, s.where) in named, f"{s.kind} at {s.where} gives {v}; found {named}"
        done[s.kind] = done.get(s.kind, 0) + 1
    return set(done)


def test_every_slip_is_named_back_on_the_worked_examples():
    kinds: set = set()
    for p, targets in catalogue_problems().values():
        for t in targets:
            kinds |= _round_trip(p, t)
    assert len(catalogue_problems()) >= 30
    assert kinds >= set(KINDS) - {"kink"}      # no worked example sits at a kink


def test_closed_form_of_a_single_slip_equals_the_engine_replay():
    for example_id, (p, targets) in catalogue_problems().items():
        for t in targets:
            for s in candidates(p, t):
                fast, slow = effect(p, t, s), replay(p, t, [s])
                assert (fast is None) == (slow is None), (example_id, s.kind, s.where)
                if fast is not None:
                    assert_close(fast, slow, rtol=1e-9, atol=1e-12,
                                 what=f"{example_id} {s.kind} {s.where}")


# ---- random networks ---------------------------------------------------------------------------

_ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "softplus")


def random_network(seed: int) -> tuple:
    """A small random MLP, ``n_in - n_hidden - n_out``, weights ``w_jk`` from unit j to unit
    k (so swapped indices exist), an activation from :data:`_ACTIVATIONS`, a squared-error
    loss with a random reduction. Numbers are multiples of 1/2 so a pre-activation can be
    exactly 0 (a ReLU at its kink)."""
    rng = random.Random(seed)
    grid = [-1.0, -0.5, 0.5, 1.0, 1.5]
    n_in, n_hid, n_out = rng.randint(2, 3), rng.randint(2, 3), rng.randint(1, 3)
    act = rng.choice(_ACTIVATIONS)
    xs = [Value(rng.choice([-1.0, 1.0, 2.0]), label=f"i{j + 1}") for j in range(n_in)]
    params = []
    hidden = []
    for k in range(n_hid):
        ws = [Value(rng.choice(grid), label=f"w{j + 1}{k + 1}") for j in range(n_in)]
        z = ws[0] * xs[0]
        for w, x in zip(ws[1:], xs[1:], strict=True):
            z = z + w * x
        b = Value(rng.choice(grid), label=f"b{k + 1}")
        if rng.random() < 0.3:
            b.data = -z.data          # the unit sits at its kink
        z = z + b
        z.label = f"z{k + 1}"
        a = getattr(z, act)()
        a.label = f"a{k + 1}"
        params += ws + [b]
        hidden.append(a)
    outs = []
    for m in range(n_out):
        vs = [Value(rng.choice(grid), label=f"v{k + 1}{m + 1}") for k in range(n_hid)]
        o = vs[0] * hidden[0]
        for v, h in zip(vs[1:], hidden[1:], strict=True):
            o = o + v * h
        c = Value(rng.choice(grid), label=f"c{m + 1}")
        o = o + c
        o.label = f"o{m + 1}"
        params += vs + [c]
        outs.append(o)
    targets = [Value(rng.choice(grid), label=f"t{m + 1}") for m in range(n_out)]
    loss = F.mse(outs, targets, reduction=rng.choice(["half", "mean", "sum"]))
    loss.label = "L"
    return loss, params, rng.choice([0.1, 0.5])


SEEDS = range(16)


@pytest.mark.parametrize("seed", SEEDS)
def test_closed_form_equals_replay_on_random_networks(seed):
    loss, params, lr = random_network(seed)
    p = Problem(loss, params, lr)
    for w in params[:3]:
        for kind in ("grad", "update"):
            t = Target(kind, w, w.label)
            for s in candidates(p, t):
                fast, slow = effect(p, t, s), replay(p, t, [s])
                assert (fast is None) == (slow is None), (s.kind, s.where)
                if fast is not None:
                    assert_close(fast, slow, rtol=1e-9, atol=1e-12, what=f"{s.kind} {s.where}")


def _rebuilt_in_full(p: Problem, slip: Slip, w: Value):
    """d root / d w with a forward slip made the plain way: every node above the change
    rebuilt, the result differentiated by ``gradients.grad`` (its own walk of the new graph);
    ``None`` where w is no longer in it."""
    copy: dict = {}

    def get(j: int):
        return copy.get(j, p.order[j])

    for i, node in enumerate(p.order):
        if i == slip.change.index:
            copy[i] = slip.change.make(apply, get)
        elif any(p.index[q] in copy for q in node.parents):
            copy[i] = apply(node.primitive, *[get(p.index[q]) for q in node.parents])
    root = get(len(p.order) - 1)
    return grad(root, w) if w in topological_order(root) else None


@pytest.mark.parametrize("seed", SEEDS)
def test_a_forward_slip_replays_as_the_graph_rebuilt_in_full(seed):
    loss, params, lr = random_network(seed)
    p = Problem(loss, params, lr)
    for w in params[:3]:
        t = p.target(f"dL/d{w.label}")
        for s in candidates(p, t):
            if isinstance(s.change, Rebuild):
                try:
                    expected = _rebuilt_in_full(p, s, w)
                except ValueError:         # the slip leaves an op's domain
                    expected = None
                got = replay(p, t, [s])
                assert (got is None) == (expected is None), (s.kind, s.where)
                if got is not None:
                    assert_close(got, expected, rtol=1e-12, atol=1e-15,
                                 what=f"{s.kind} {s.where}")


def test_every_kind_is_named_back_on_random_networks():
    seen: set = set()
    for seed in SEEDS:
        loss, params, lr = random_network(seed)
        p = Problem(loss, params, lr)
        for w in (params[0], params[-1]):
            for t in (f"dL/d{w.label}", f"new:{w.label}"):
                seen |= _round_trip(p, p.target(t))
        for node in ("o1", "L"):
            seen |= _round_trip(p, p.target(node))
    assert seen == set(KINDS)


def test_a_slip_is_found_whatever_the_labels_say():
    # The slips are defined on ops and edges: with every node renamed, the path through the
    # first output is still found missing.
    net = build_s1_3()
    for i, n in enumerate(sorted((n for n in net.values() if isinstance(n, Value)),
                                 key=lambda n: n.label)):
        if n is not net["w21"] and n is not net["MSE"]:
            n.label = f"node{i}"
    d = diagnose(net["MSE"], "dMSE/dw21", "-2.0", params=list(net["params"].values()))
    assert "dropped-path" in d.kinds and "missing-bias" in d.kinds
    assert "through node" in d.slips[0].explanation


# ---- S1-3: the common wrong answers, checked against networks rebuilt with the slip ------------

@pytest.fixture(scope="module")
def s1_3():
    net = build_s1_3()
    return net, Checker(net["MSE"], list(net["params"].values()), lr=0.1)


def _grad_of(values: dict | None = None, loss=None) -> float:
    net = build_s1_3(values)
    root = loss(net) if loss else net["MSE"]
    return grad(root, net["w21"])


def test_s1_3_the_path_through_o1_left_out(s1_3):
    _, checker = s1_3
    # the student's number: the engine's gradient with the loss term of o1 taken away
    given = _grad_of(loss=lambda n: 0.5 * (n["o2"] - n["t2"]) ** 2)
    d = checker.diagnose("dMSE/dw21", f"{given:.1f}")
    assert not d.correct and d.expected == _grad_of()
    first = d.slips[0]
    assert first.kind == "dropped-path" and first.where == "do1/dh3"
    assert first.explanation == ("your value equals the path through o2 alone: the path "
                                 "through o1 is missing: (0.0 - 1.0)*0.5*1*(-1.0) = 0.5")
    assert "dropped-term" in d.kinds       # the same number: the o1 term dropped from the loss
    for f in d.slips:
        assert f.value == pytest.approx(given, abs=1e-12)


def test_s1_3_forgotten_bias_matches_the_network_without_it(s1_3):
    _, checker = s1_3
    given = _grad_of({"b3": 0.0})          # b3 left out of o1 = b3 set to 0
    d = checker.diagnose("dMSE/dw21", repr(given))
    hit = [f for f in d.slips if f.kind == "missing-bias" and f.where == "b3 in o1"]
    assert hit and hit[0].value == pytest.approx(given, abs=1e-12)


def test_s1_3_forward_slips_match_central_differences(s1_3):
    # The slipped network's loss as a function of w21, differentiated numerically: a bias
    # left out of o1, and the o2 term dropped from the loss.
    _, checker = s1_3

    def loss_of(values, drop_o2=False):
        def f(w21):
            net = build_s1_3({**values, "w21": w21.data})
            return 0.5 * (net["o1"] - net["t1"]) ** 2 if drop_o2 else net["MSE"]
        return f

    w21 = build_s1_3()["w21"].data
    for values, drop_o2, kind, where in (({"b3": 0.0}, False, "missing-bias", "b3 in o1"),
                                         ({}, True, "dropped-term", "(o2 - t2)^2 in MSE")):
        numeric = numerical_grad(loss_of(values, drop_o2), [w21])[0]
        d = checker.diagnose("dMSE/dw21", f"{numeric:.4f}")
        hit = [f for f in d.slips if (f.kind, f.where) == (kind, where)]
        assert hit, (kind, d.kinds)
        assert_close(hit[0].value, numeric, atol=1e-8, what=kind)


def test_s1_3_forgotten_half_doubles_the_gradient(s1_3):
    _, checker = s1_3
    given = _grad_of(loss=lambda n: (n["o1"] - n["t1"]) ** 2 + (n["o2"] - n["t2"]) ** 2)
    d = checker.diagnose("dMSE/dw21", f"{given:.2f}")
    assert d.kinds == ["missing-factor"] and d.slips[0].where == "MSE"
    assert "[1.0]" in d.slips[0].explanation


def test_s1_3_update_slips(s1_3):
    _, checker = s1_3
    g = _grad_of()
    w = build_s1_3()["w21"].data
    up = checker.diagnose("new:w21", f"{w + 0.1 * g:.2f}")
    assert "update-sign" in up.kinds
    assert "w21 <- 0.5 [+] 0.1 * (-1.5) = 0.35" in up.slips[up.kinds.index("update-sign")]\
        .explanation
    assert checker.diagnose("new:w21", f"{w - g:.1f}").kinds == ["no-lr"]


def test_s1_3_pre_activation_for_dw31(s1_3):
    net, checker = s1_3
    # dMSE/dw31 = (o1 - t1) * h3; with z for a: (o1 - t1) * h1 (h1 = h3 here, so use w32's
    # partner h2 for h4: dMSE/dw42 = (o2 - t2) * h4 becomes (o2 - t2) * h2)
    given = (net["o2"].data - net["t2"].data) * net["h2"].data
    d = checker.diagnose("dMSE/dw42", repr(given))
    assert ("pre-activation", "h4 in w42*h4") in [(f.kind, f.where) for f in d.slips]


def test_s1_3_swapped_index_gives_the_other_weights_gradient(s1_3):
    _, checker = s1_3
    d = checker.diagnose("dMSE/dw21", repr(grad(build_s1_3()["MSE"], build_s1_3()["w12"])))
    assert "swapped-index" in d.kinds


def test_s1_3_sign_lost_in_one_factor(s1_3):
    _, checker = s1_3
    # every path to w21 ends in dh1/dw21 = i2: with its sign lost, the gradient flips
    d = checker.diagnose("dMSE/dw21", repr(-_grad_of()))
    assert ("sign", "dh1/dw21") in [(f.kind, f.where) for f in d.slips]


def test_correct_answer_passes_at_its_own_rounding(s1_3):
    _, checker = s1_3
    g = _grad_of()
    for given in (f"{g:.2f}", f"{g:.1f}", g, f"{g + 0.004:.2f}", f"{g - 0.04:.1f}"):
        assert checker.diagnose("dMSE/dw21", given).correct, given
    assert not checker.diagnose("dMSE/dw21", f"{g + 0.006:.2f}").correct
    assert not checker.diagnose("dMSE/dw21", f"{g - 0.01:.2f}").correct
    new = build_s1_3()["w21"].data - 0.1 * g
    assert checker.diagnose("new:w21", f"{new:.2f}").correct
    assert not checker.diagnose("new:w21", f"{new + 0.01:.2f}").correct
    # 0.65 to one decimal is a tie: 0.7 by hand, 0.6 half to even; both pass, 0.5 does not
    assert checker.diagnose("new:w21", "0.7").correct and checker.diagnose("new:w21", "0.6").correct
    assert not checker.diagnose("new:w21", "0.5").correct


def test_whole_numbers_are_read_to_one_decimal():
    assert Answer.read("-2").decimals == 1
    assert not Answer.read("-2").matches(-1.5)
    assert Answer.read("-2", decimals=0).matches(-1.5)
    assert Answer.read("1.50").decimals == 2 and Answer.read("1e-3").decimals == 3


def test_an_answer_no_slip_explains_says_so_and_where_the_numbers_part(s1_3):
    net, checker = s1_3
    d = checker.diagnose("dMSE/dw21", "7.77")
    assert not d.correct and d.slips == () and "no slip" in d.note
    results = checker.check({"h1": f"{net['h1'].data:.1f}", "o1": "0.3",
                             "dMSE/dw21": "7.77"})
    assert [r.correct for r in results] == [True, False, False]
    assert results[2].first_difference == {"target": "o1", "given": 0.3,
                                           "expected": net["o1"].data}
    assert "first part from the engine's at o1" in results[2].text()
    assert json.loads(json.dumps(results[2].to_dict()))["first_difference"]["target"] == "o1"


def test_two_slips_at_once(s1_3):
    _, checker = s1_3
    # the o1 path dropped and the step taken uphill: w21 + 0.1 * (-2.0)
    w = build_s1_3()["w21"].data
    given = w + 0.1 * _grad_of(loss=lambda n: 0.5 * (n["o2"] - n["t2"]) ** 2)
    assert checker.diagnose("new:w21", f"{given:.2f}").slips == ()
    d = checker.diagnose("new:w21", f"{given:.2f}", depth=2)
    assert "dropped-path+update-sign" in d.kinds
    assert all(f.value == pytest.approx(given, abs=0.005) for f in d.slips)


def test_kink_convention_is_named():
    x, w, b, v = Value(1.0, label="x"), Value(-1.0, label="w"), Value(1.0, label="b"), \
        Value(2.0, label="v")
    z = w * x + b
    z.label = "z"
    a = z.relu()
    a.label = "a"
    y = v * a
    y.label = "y"
    assert grad(y, w) == 0.0                      # relu'(0) = 0, PyTorch's choice
    d = diagnose(y, "dy/dw", "2.0")               # the student took relu'(0) = 1
    assert d.kinds[0] == "kink" and d.slips[0].where == "a"
    assert "taken as [1.0]" in d.slips[0].explanation


def test_missing_mean_is_named():
    outs = [Value(v, label=f"o{k}") for k, v in enumerate((1.0, 2.0, 4.0))]
    loss = F.mse(outs, [0.0, 0.0, 0.0], reduction="mean")
    loss.label = "L"
    summed = F.mse([Value(o.data) for o in outs], [0.0] * 3, reduction="sum")
    assert "missing-mean" in diagnose(loss, "L", repr(summed.data)).kinds
    assert "missing-mean" in diagnose(loss, "dL/do1", repr(2 * outs[1].data)).kinds


# ---- bad input ---------------------------------------------------------------------------------

def test_bad_input_is_refused_with_a_clear_error(s1_3):
    net, checker = s1_3
    with pytest.raises(ValueError, match="no node labelled 'zz'"):
        checker.diagnose("zz", "1.0")
    with pytest.raises(ValueError, match="not a number"):
        checker.diagnose("h1", "two")
    with pytest.raises(ValueError, match="not a finite number"):
        checker.diagnose("h1", "nan")
    with pytest.raises(TypeError, match="number or a string"):
        checker.diagnose("h1", [1.0])
    with pytest.raises(ValueError, match="learning rate"):
        diagnose(net["MSE"], "new:w21", "0.65")
    with pytest.raises(ValueError, match="depth must be 1 or 2"):
        checker.diagnose("h1", "3.0", depth=3)
    with pytest.raises(ValueError, match="h1 is not the output"):
        checker.diagnose("dh1/dw21", "1.0")
    with pytest.raises(ValueError, match="learning rate must be a finite number"):
        Checker(net["MSE"], lr=math.inf)
    with pytest.raises(TypeError, match="root must be a Value"):
        diagnose(2.0, "h1", "1.0")


def test_swapped_indices_are_read_from_the_usual_notations():
    assert [swap_partner(s) for s in ("w21", "w_21", "W1[2,1]", "W[2, 1]")] == \
        ["w12", "w_12", "W1[1,2]", "W[1, 2]"]
    assert [swap_partner(s) for s in ("w11", "b1", "W1[3,3]", "weight")] == [None] * 4


def test_answers_are_read_as_label_equals_value():
    assert parse_answer(" new:w21 = 0.65 ") == ("new:w21", "0.65")
    assert parse_answer("dMSE/dw21=-1.5e-1") == ("dMSE/dw21", "-1.5e-1")
    with pytest.raises(ValueError, match="LABEL=VALUE"):
        parse_answer("w21=")


def test_answers_read_together_put_the_slip_behind_both_first(s1_3):
    net, checker = s1_3
    # b3 left out: o1 = w31*h3 + w41*h4, and the gradient computed from that o1
    o1 = net["w31"].data * net["h3"].data + net["w41"].data * net["h4"].data
    g = _grad_of({"b3": 0.0})
    o1_result, g_result = checker.check([("o1", repr(o1)), ("dMSE/dw21", repr(g))])
    assert o1_result.kinds == ["missing-bias"]
    assert g_result.slips[0].kind == "missing-bias" and g_result.slips[0].where == "b3 in o1"
    assert "missing-bias at b3 in o1 also gives your o1" in g_result.note
    assert len(g_result.slips) > 1          # the other slips that give -2.0 stay, after it
