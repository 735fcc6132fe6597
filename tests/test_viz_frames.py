"""The backward pass as frames, and its HTML page driven in a real headless Chromium."""
from __future__ import annotations

import os
import re
import shutil
import tempfile

import pytest

from helpers import assert_close, needs_wasm
from microgradnet import Value, topological_order
from microgradnet.viz import frames, frames_html
from test_viz_dot import neuron, two_two_two

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def test_frames_visit_every_node_once_in_reverse_graph_order():
    mse, _ = two_two_two()
    order = topological_order(mse)
    fr = frames(mse)
    assert [f.node for f in fr] == order[::-1]
    assert [f.step for f in fr] == list(range(len(order)))
    assert fr[0].line == "MSE.grad = 1.0000"


def test_frame_gradients_equal_the_engine_and_leave_grads_alone():
    mse, v = two_two_two()
    fr = frames(mse)
    assert all(n.grad == 0.0 for n in topological_order(mse))   # frames changed nothing
    mse.backward()
    for f in fr:
        assert f.grad == f.node.grad, f.name                      # same loop, same bits
        assert_close(sum(t.value for t in f.terms) if f.terms else (1.0 if f.step == 0 else 0.0),
                     f.grad, what=f.name)
    assert_close(v["w21"].grad, -1.5, what="S1-3.3 dMSE/dw21")


def test_frame_line_shows_the_chain_rule_sum():
    mse, v = two_two_two()
    mse.backward()
    h3 = next(f for f in frames(mse) if f.name == "h3")
    # h3 feeds o1 (through h3*w31) and o2 (through h3*w32): two terms, grad(product) x weight.
    assert len(h3.terms) == 2
    weights = sorted(t.local for t in h3.terms)
    assert weights == sorted([v["w31"].data, v["w32"].data])
    nums = [float(x) for x in re.findall(r"-?\d+\.\d+", h3.line.replace("(", "").replace(")", ""))]
    assert_close(nums[-1], v["h3"].grad, atol=0.5e-4)
    assert_close(nums[0] * nums[1] + nums[2] * nums[3], nums[-1], atol=2e-4)
    assert h3.formula.startswith("h3.grad = ")


def test_reused_operand_gets_one_term_per_edge():
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    c = b + b
    c.label = "c"
    fr = {f.name: f for f in frames(c)}
    assert len(fr["a"].terms) == 2 and len(fr["b"].terms) == 2
    assert fr["a"].grad == 4.0
    assert fr["a"].line == "a.grad = 2.0000 × 1.0000 + 2.0000 × 1.0000 = 4.0000"


@needs_wasm
def test_frames_html_is_self_contained(tmp_path):
    page = frames_html(neuron(), tmp_path / "f.html", backend="wasm").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:|//)', page)
    assert "<script src" not in page and "<link" not in page
    assert page.count("<svg") == 1


# ---- the browser test -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("chromium and chromedriver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    # No selenium-manager downloads: the driver is given explicitly and nothing is looked up.
    os.environ.setdefault("SE_OFFLINE", "true")
    profile = tempfile.mkdtemp(prefix="mgn-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                 "--window-size=1400,900"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _state(driver) -> dict:
    """What the page shows now: frame index, counter, line, current node, all grad texts."""
    return driver.execute_script("""
        const out = {frame: document.body.dataset.frame,
                     counter: document.getElementById('counter').textContent,
                     line: document.getElementById('line').textContent,
                     current: null, grads: {}};
        for (const g of document.querySelectorAll('#graph svg g.node')) {
          const id = g.querySelector('title').textContent;
          if (g.classList.contains('current')) out.current = id;
          for (const t of g.querySelectorAll('text'))
            if (t.textContent.startsWith('grad ')) out.grads[id] = t.textContent.slice(5);
        }
        return out;""")


@pytest.mark.parametrize("backend", ["dot", pytest.param("wasm", marks=needs_wasm)])
def test_frames_page_in_headless_chromium(browser, tmp_path, backend):
    if backend == "dot" and shutil.which("dot") is None:
        pytest.skip("no Graphviz dot")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    mse, v = two_two_two()
    order = topological_order(mse)
    ids = {n: f"n{i}" for i, n in enumerate(order)}
    path = frames_html(mse, tmp_path / "frames.html", precision=6, interval_ms=50,
                       backend=backend)
    mse.backward()                          # the engine's numbers to compare with
    tol = 0.5e-6 + 1e-12
    browser.get(path.resolve().as_uri())
    n = len(order)

    s = _state(browser)                      # loads at the first frame: the seed
    assert s["frame"] == "0" and s["counter"] == f"1 / {n}"
    assert s["current"] == ids[mse]
    assert_close(float(s["grads"][ids[mse]]), mse.grad, atol=tol)
    assert sum(g == "?" for g in s["grads"].values()) == n - 1

    nxt = browser.find_element(By.ID, "next")
    prev = browser.find_element(By.ID, "prev")
    for k in range(1, 6):                     # next: each frame shows the engine's gradient
        nxt.click()
        s = _state(browser)
        node = order[n - 1 - k]
        assert s["frame"] == str(k) and s["current"] == ids[node]
        assert_close(float(s["grads"][ids[node]]), node.grad, atol=tol, what=ids[node])
        assert s["line"].endswith(f"= {node.grad:.6f}") or k == 0
    prev.click()
    prev.click()
    s = _state(browser)
    assert s["frame"] == "3" and s["current"] == ids[order[n - 4]]
    assert s["grads"][ids[order[n - 5]]] == "?"       # not reached any more

    browser.find_element(By.ID, "play").click()      # play runs to the last frame
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return document.body.dataset.frame") == str(n - 1))
    s = _state(browser)
    assert s["counter"] == f"{n} / {n}"
    for node in order:                                # every number equals the engine's
        assert_close(float(s["grads"][ids[node]]), node.grad, atol=tol, what=ids[node])
    assert "w21" in {node.label for node in order}
    assert_close(float(s["grads"][ids[v["w21"]]]), -1.5, atol=tol, what="S1-3.3")
