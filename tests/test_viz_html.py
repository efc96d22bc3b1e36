"""tg.viz.to_html: one self-contained page that steps through forward and backward.

The structure (steps, values, gradients, no network) is checked in Python everywhere; the page's own
JavaScript is run in headless Chromium (Debian package ``chromium``; the tests skip without it):
``--dump-dom`` after opening ``#step=N``, a copy of the page with a script that presses keys and
clicks buttons, and screenshots whose pixels show the active op and the red gradients.  Set
``TG_VIZ_SCREENSHOTS=DIR`` to keep the screenshots for looking at them.
"""
import html
import json
import os
import pathlib
import re
import shutil
import subprocess

import numpy as np
import pytest

import tinygrad_zh as tg
from tinygrad_zh import viz

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                                                             "(apt-get install chromium)")


def known_graph():
    x = tg.tensor(np.array([[0.0, 0.2, 0.4], [0.6, 0.8, 1.0]]), dtype="float64")
    w = tg.tensor(np.full((3, 4), 0.5) - np.eye(3, 4), dtype="float64", requires_grad=True)
    b = tg.tensor([0.1, -0.2, 0.3, 0.0], dtype="float64", requires_grad=True)
    h = (x @ w + b).relu()
    loss = (h * h).mean()
    return x, w, b, h, loss


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    x, w, b, h, loss = known_graph()
    path = tmp_path_factory.mktemp("html") / "steps.html"
    text = viz.to_html(loss, path, names={x: "x", w: "w", b: "b", h: "h", loss: "loss"}, title="tiny MLP")
    loss.backward()
    return path, text, w.grad.numpy(), b.grad.numpy()


def steps_of(text):
    data = re.search(r'<script type="application/json" id="tg-data">(.*?)</script>', text, re.S).group(1)
    return json.loads(data.replace("<\\/", "</"))["steps"]


def test_page_is_self_contained(page):
    path, text, _, _ = page
    assert path.read_text(encoding="utf-8") == text
    assert text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in text
    # nothing is fetched: no src/href attributes, no stylesheets or imports; the only URL is the
    # SVG namespace (an identifier, never loaded)
    assert not re.search(r"\b(src|href)\s*=", text)
    assert "<link" not in text and "@import" not in text and "fetch(" not in text
    assert set(re.findall(r"https?://[^\s\"'<>)]+", text)) == {"http://www.w3.org/2000/svg"}
    assert text.count("<svg") == 1 and text.count("<script") == 2


def test_steps_go_through_forward_then_backward(page):
    _, text, gw, gb = page
    steps = steps_of(text)
    kinds = [s["kind"] for s in steps]
    assert kinds == ["start"] + ["forward"] * 5 + ["seed"] + ["backward"] * 5
    assert [s["title"].split("：")[1].split("(")[0] for s in steps[1:6]] == ["MatMul", "Add", "ReLU", "Mul", "Mean"]
    assert [s["title"].split("：")[1] for s in steps[7:]] == \
        ["Mean.backward", "Mul.backward", "ReLU.backward", "Add.backward", "MatMul.backward"]
    # every tensor gets its value once, every tensor that needs a gradient gets it once
    vals = [k for s in steps for k in s["vals"]]
    grads = [k for s in steps for k in s["grads"]]
    assert len(vals) == len(set(vals)) == 8
    assert len(grads) == len(set(grads)) == 7            # everything but the constant input x
    # the panel of the last step shows the gradient of w, computed like backward() does
    last = steps[-1]["html"]
    w_text = html.escape(viz.snapshot(gw)["text"])
    assert "∂L/∂w" in last and w_text in last
    assert html.escape(viz.snapshot(gb)["text"]) in steps[-2]["html"]      # Add sends b its gradient
    assert "-（不需要梯度）" in last                                            # x needs none
    # each backward step quotes the op's derivative from its backward docstring
    assert "∂z/∂x = 1 (x&gt;0)" in steps[9]["html"] and "ReLU.backward 的 docstring" in steps[9]["html"]


def test_to_html_of_a_recording_and_of_a_forward_only_graph(tmp_path):
    x, w, b, h, loss = known_graph()
    with viz.record(loss, names={w: "w"}) as g:
        loss.backward()
    steps = steps_of(viz.to_html(g, tmp_path / "rec.html"))
    assert len(steps) == 12 and html.escape(viz.snapshot(w.grad.numpy())["text"]) in steps[-1]["html"]
    x2, w2, b2, h2, loss2 = known_graph()
    steps = steps_of(viz.to_html(h2, None))                 # not a scalar: values, no backward steps
    assert [s["kind"] for s in steps] == ["start", "forward", "forward", "forward"]


def run_chromium(*args, timeout=60):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-dev-shm-usage", *args]
    res = subprocess.run(cmd, capture_output=True, timeout=timeout)
    return res.stdout.decode("utf-8", errors="replace")


@needs_chromium
def test_chromium_opens_a_step_from_the_address_then_keys_and_buttons_move(page, tmp_path):
    """One browser run: the page opened at #step=9, its state recorded, then keys and clicks."""
    path, text, gw, _ = page
    steps = steps_of(text)
    script = """<script>
    function cls(sel) {
      return Array.prototype.map.call(document.querySelectorAll(sel), function (n) { return n.id; }).join(' ');
    }
    var b = document.body;
    b.setAttribute('data-at-load', b.getAttribute('data-step') + '/' + b.getAttribute('data-kind'));
    b.setAttribute('data-active', cls('svg .node.active'));
    b.setAttribute('data-done', cls('svg .node.done'));
    b.setAttribute('data-has-grad', cls('svg .node.has-grad'));
    b.setAttribute('data-counter', document.getElementById('tg-counter').textContent);
    function key(k) { document.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true})); }
    function click(id) { document.getElementById(id).click(); }
    var log = [];
    function note() { log.push(b.getAttribute('data-step')); }
    key('ArrowRight'); note(); key('ArrowLeft'); note(); key('ArrowLeft'); note();
    key('End'); note(); key('ArrowRight'); note(); click('tg-prev'); note();
    key('Home'); note(); key('ArrowLeft'); note(); click('tg-next'); note(); click('tg-last'); note();
    b.setAttribute('data-log', log.join(','));
    b.setAttribute('data-next-disabled', String(document.getElementById('tg-next').disabled));
    </script></body>"""
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", script), encoding="utf-8")
    dom = run_chromium("--virtual-time-budget=3000", "--dump-dom", probe.as_uri() + "#step=9")
    attr = lambda name: re.search(name + r'="([^"]*)"', dom).group(1)
    assert attr("data-at-load") == "9/backward" and attr("data-counter") == "第 9 / 11 步"
    assert attr("data-active") == "n-op2"                          # ReLU, the third op
    assert attr("data-done").split() == ["n-op3", "n-op4"]        # Mean and Mul ran backward already
    known = {k for s in steps[:10] for k in s["grads"]}            # gradients known by step 9
    assert set(attr("data-has-grad").split()) == {"n-" + k for k in known} and len(known) == 4
    assert attr("data-log") == "10,9,8,11,11,10,0,0,1,11"
    assert attr("data-next-disabled") == "true"
    panel = re.search(r'<aside id="tg-panel">(.*?)</aside>', dom, re.S).group(1)
    assert html.escape(viz.snapshot(gw)["text"]) in panel          # the last step shows ∂L/∂w


def red_and_orange(png):
    import matplotlib.image as mpimg
    img = mpimg.imread(str(png))[..., :3]
    assert img.shape[0] > 500 and img.shape[1] > 900
    assert img.std() > 0.05                                   # not a blank page
    near = lambda rgb: (np.abs(img - np.array(rgb) / 255).max(axis=2) < 0.08).sum()
    return near((0xb3, 0x26, 0x1e)), near((0xe0, 0x7b, 0x00))


@needs_chromium
def test_chromium_screenshots_show_the_active_op_and_the_gradients(page, tmp_path):
    path, _, _, _ = page
    keep = os.environ.get("TG_VIZ_SCREENSHOTS")
    out = pathlib.Path(keep) if keep else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    shots = {}
    for step in (3, 9):
        png = out / f"viz_step{step}.png"
        run_chromium(f"--screenshot={png}", "--window-size=1400,900", path.as_uri() + f"#step={step}")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        shots[step] = red_and_orange(png)
    red3, orange3 = shots[3]
    red9, orange9 = shots[9]
    assert orange3 > 200 and orange9 > 200          # the active op and its edges are highlighted
    assert red3 == 0                                # forward: no gradient is shown yet
    assert red9 > 500                               # backward: red gradients and edges


def test_a_gradient_is_shown_once_all_its_uses_have_run_backward():
    a = tg.tensor([0.5, -1.0], dtype="float64", requires_grad=True)
    loss = (a * 2 + a.exp()).sum()                   # a feeds two ops: Mul and Exp
    g = viz.graph(loss, names={a: "a"})
    steps = steps_of(viz.to_html(g))
    key = next(k for k, t in g.tensors.items() if t["name"] == "a")
    shown = [i for i, s in enumerate(steps) if key in s["grads"]]
    uses = [i for i, s in enumerate(steps) if s["kind"] == "backward" and
            g.ops[s["op"]]["name"] in ("Mul", "Exp")]
    assert len(shown) == 1 and shown[0] == max(uses)
    np.testing.assert_allclose(g.tensors[key]["grad"]["full"], 2 + np.exp([0.5, -1.0]))
    assert "各条边之和" in steps[shown[0]]["html"]
