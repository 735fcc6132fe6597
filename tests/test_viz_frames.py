"""The backward pass as frames, and its HTML page driven in a real headless Chromium."""
from __future__ import annotations

import os
import re
import shutil
import tempfile

import pytest

from helpers import assert_close
from microgradnet import Value, topological_order
from microgradnet.viz import backends, frames, frames_html, frames_page
from microgradnet.viz.graph import analyse
from test_viz_dot import neuron, two_two_two

HAS_PURE = backends.pure_executable() is not None
needs_pure = pytest.mark.skipif(not HAS_PURE, reason="graphviz-pure is not installed")

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


@needs_pure
def test_frames_html_is_self_contained(tmp_path):
    page = frames_html(neuron(), tmp_path / "f.html", backend="pure").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:|//)', page)
    assert "<script src" not in page and "<link" not in page
    assert page.count("<svg") == 1


@needs_pure
def test_frames_page_shows_inline_in_a_notebook_as_an_iframe():
    page = frames_page(neuron(), backend="pure")
    shown = page._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "&lt;svg" in shown
    assert "<script" not in shown                      # the page's script stays inside


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


@pytest.mark.parametrize("backend", ["dot", pytest.param("pure", marks=needs_pure)])
def test_frames_page_in_headless_chromium(browser, tmp_path, backend):
    if backend == "dot" and shutil.which("dot") is None:
        pytest.skip("no Graphviz dot")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    mse, v = two_two_two()
    graph = analyse(mse)
    order = graph.order
    # Every node but the constants written into their ops has a node in the picture.
    ids = {n: f"n{i}" for i, n in enumerate(order)
           if not (graph.kinds[i] == "const" and len(graph.consumers[i]) == 1)}
    drawn = [n for n in order if n in ids]
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
    assert sum(g == "?" for g in s["grads"].values()) == len(drawn) - 1

    nxt = browser.find_element(By.ID, "next")
    prev = browser.find_element(By.ID, "prev")
    for k in range(1, 6):                     # next: each frame shows the engine's gradient
        nxt.click()
        s = _state(browser)
        node = order[n - 1 - k]
        assert s["frame"] == str(k) and s["current"] == ids.get(node)
        if node in ids:
            assert_close(float(s["grads"][ids[node]]), node.grad, atol=tol, what=ids[node])
        assert s["line"].endswith(f"= {node.grad:.6f}") or k == 0
    prev.click()
    prev.click()
    s = _state(browser)
    assert s["frame"] == "3" and s["current"] == ids.get(order[n - 4])
    later = next(x for x in order[n - 5::-1] if x in ids)
    assert s["grads"][ids[later]] == "?"       # not reached any more

    browser.find_element(By.ID, "play").click()      # play runs to the last frame
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script("return document.body.dataset.frame") == str(n - 1))
    s = _state(browser)
    assert s["counter"] == f"{n} / {n}"
    for node in drawn:                                # every number equals the engine's
        assert_close(float(s["grads"][ids[node]]), node.grad, atol=tol, what=ids[node])
    assert "w21" in {node.label for node in order}
    assert_close(float(s["grads"][ids[v["w21"]]]), -1.5, atol=tol, what="S1-3.3")


def _text_px(driver, node_id: str) -> dict:
    """The smallest on-screen height (font size times the SVG's scale) of the node's texts,
    and whether the whole node lies inside the picture's scrolled view."""
    return driver.execute_script("""
        const g = [...document.querySelectorAll('#graph svg g.node')]
          .find((x) => x.querySelector('title').textContent === arguments[0]);
        const sizes = [...g.querySelectorAll('text')].map(
          (t) => parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a);
        const r = g.getBoundingClientRect();
        const v = document.getElementById('graph').getBoundingClientRect();
        return {px: Math.min(...sizes), inside: r.left >= v.left && r.right <= v.right
                && r.top >= v.top && r.bottom <= v.bottom,
                svgWidth: document.querySelector('#graph svg').getBoundingClientRect().width,
                viewWidth: v.width};""", node_id)


def test_frames_page_of_s1_3_is_readable_at_1400_by_900(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from microgradnet.catalogue.seed001 import build_s1_3
    net = build_s1_3()
    mse = net["MSE"]
    graph = analyse(mse)
    path = frames_html(mse, tmp_path / "s1_3.html")
    browser.get(path.resolve().as_uri())
    assert browser.execute_script("return window.innerWidth") <= 1400
    nxt = browser.find_element(By.ID, "next")
    seen = 0
    for k in range(len(graph.order)):          # every frame's node: text >= 10 px, in view
        current = browser.execute_script(
            "const g = document.querySelector('#graph svg g.node.current');"
            "return g ? g.querySelector('title').textContent : null;")
        if current is not None:
            m = _text_px(browser, current)
            assert m["px"] >= 10, (k, current, m)
            assert m["inside"], (k, current, m)
            seen += 1
        nxt.click()
    assert seen >= len(graph.order) - 1        # only the folded constant has no node
    fit = _text_px(browser, "n0")
    assert fit["svgWidth"] <= fit["viewWidth"]  # fits the width: no sideways scrolling


def test_frames_page_zooms_and_follows_the_current_node(browser, tmp_path):
    from selenium.webdriver.common.by import By
    mse, _ = two_two_two()
    path = frames_html(mse, tmp_path / "zoom.html")
    browser.get(path.resolve().as_uri())
    root_id = f"n{len(topological_order(mse)) - 1}"
    before = _text_px(browser, root_id)["px"]
    for _ in range(4):
        browser.find_element(By.ID, "zoomin").click()
    zoomed = _text_px(browser, root_id)
    assert_close(zoomed["px"], before * 1.25 ** 4, rtol=1e-3, what="zoomed text")
    assert zoomed["svgWidth"] > zoomed["viewWidth"]
    nxt = browser.find_element(By.ID, "next")
    for _ in range(12):                       # the view follows the node through the pass
        nxt.click()
        current = browser.execute_script(
            "const g = document.querySelector('#graph svg g.node.current');"
            "return g ? g.querySelector('title').textContent : null;")
        if current is not None:
            assert _text_px(browser, current)["inside"], current
    browser.find_element(By.ID, "fit").click()
    fit = _text_px(browser, root_id)
    assert fit["svgWidth"] <= fit["viewWidth"] + 1


# ---- hostile labels --------------------------------------------------------------------------

HOSTILE = ['%DATA%<img src=x onerror="window.PWNED=1">', "<!--<script>", "</script><b>",
           "%SVG%", "\u2028line\u2029sep", 'back\\slash "quoted" & amp']


def _hostile_graph():
    x = Value(2.0, label=HOSTILE[0])
    w = Value(-1.5, label=HOSTILE[1])
    b = Value(0.5, label=HOSTILE[3])
    y = (x * w + b).tanh()
    y.label = HOSTILE[2]
    z = y * Value(3.0, label=HOSTILE[4]) + Value(1.0, label=HOSTILE[5])
    z.label = "z"
    return z


def test_hostile_labels_reach_the_page_as_text_only(tmp_path):
    html = frames_html(_hostile_graph(), tmp_path / "h.html", title=HOSTILE[0]).read_text()
    # One script that runs and one block of data; the data block holds no markup at all.
    assert html.count("<script>") == 1
    data = html.split('<script type="application/json" id="frames-data">')[1]
    data = data.split("</script>")[0]
    assert not any(c in data for c in "<>&\u2028\u2029")
    assert "<img" not in html.split("<svg")[0]        # the title is escaped text


def test_hostile_labels_run_no_script_and_the_page_works(browser, tmp_path):
    from selenium.webdriver.common.by import By
    z = _hostile_graph()
    path = frames_html(z, tmp_path / "h.html", title=HOSTILE[0], precision=4)
    browser.get(path.resolve().as_uri())
    assert browser.execute_script("return window.PWNED === undefined")
    n = len(topological_order(z))
    assert _state(browser)["counter"] == f"1 / {n}"
    browser.find_element(By.ID, "next").click()
    assert _state(browser)["frame"] == "1"            # the stepper's script runs
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading == HOSTILE[0]                      # shown as the text it is


def test_a_lone_surrogate_in_a_label_is_drawn_as_the_replacement_character(tmp_path):
    x = Value(2.0, label="x\ud800")
    y = x * 3.0
    y.label = "y\udfff"
    path = frames_html(y, tmp_path / "s.html", title="t\ud800")
    page = path.read_bytes().decode("utf-8")           # the file holds UTF-8, whole
    assert page.endswith("</html>\n") and "\ud800" not in page
    assert "x\ufffd" in page and "y\ufffd" in page and "<h1>t\ufffd</h1>" in page
    # as in the picture, whose labels are drawn the same way
    assert "x\ufffd" in page.split("<svg", 1)[1]


def test_a_page_that_cannot_be_written_leaves_no_file_behind(tmp_path):
    page = frames_page(neuron())
    target = tmp_path / "page.html"
    broken = type(page)(page.html + "\ud800", page.height_px)
    with pytest.raises(UnicodeEncodeError):
        broken.save(target)
    assert list(tmp_path.iterdir()) == []
    # a page already there stays as it was, and a good save replaces it whole
    target.write_text("old page", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        broken.save(target)
    assert target.read_text(encoding="utf-8") == "old page"
    assert page.save(target).read_text(encoding="utf-8") == page.html
    assert list(tmp_path.iterdir()) == [target]
