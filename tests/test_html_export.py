"""The interactive web page, loaded in a real headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium): pressing next and the arrow keys moves the highlight to
the node torch's engine ran next and changes the step text; the page loads nothing from
anywhere."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _loopback_service(Service, driver):
    """chromedriver's service, reached at 127.0.0.1: selenium asks for "localhost", which a
    bare system without /etc/hosts cannot resolve (chromedriver itself listens on 127.0.0.1)."""
    from selenium.webdriver.common import utils

    class LoopbackService(Service):
        def is_connectable(self) -> bool:
            return utils.is_connectable(self.port, "127.0.0.1")

        @property
        def service_url(self) -> str:
            return f"http://127.0.0.1:{self.port}"

    return LoopbackService(driver)


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    binary, driver = _chromium(), shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.skip("headless Chromium and chromedriver are not installed (the set-up "
                    "installs Debian's chromium and chromium-driver for the tests)")
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.binary_location = binary
    session = webdriver.Chrome(service=_loopback_service(Service, driver), options=options)
    yield session
    session.quit()


@pytest.fixture(scope="module")
def seed_page(tmp_path_factory) -> Path:
    """The seed's chain rule written by ``main.py steps ... --html`` (the headless path)."""
    path = tmp_path_factory.mktemp("html") / "seed.html"
    result = subprocess.run([sys.executable, "main.py", "steps", SEED, "--var", "w=1",
                             "--var", "z=1", "--html", str(path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return path


def _engine_order():
    from core.evaluation.evaluate import evaluate
    from core.language.parser import parse
    from core.teaching.trace import reachable_nodes

    evaluation = evaluate(parse(SEED), {"w": 1.0, "z": 1.0})
    order = []
    for fn in reachable_nodes(evaluation.output.grad_fn):
        fn.register_hook(lambda gi, go, fn=fn: order.append(type(fn).__name__))
    evaluation.output.backward(retain_graph=True)
    return order


def _state(browser):
    from selenium.webdriver.common.by import By

    root = browser.find_element(By.CSS_SELECTOR, ".ae-root")
    current = browser.execute_script(
        "return Array.from(document.querySelectorAll('g.node.ae-current'))"
        ".map(g => g.querySelector('title').textContent)")
    # (Selenium's .text collapses runs of spaces, as a browser shows them)
    return {"step": int(root.get_attribute("data-step")), "current": current,
            "title": browser.find_element(By.CSS_SELECTOR, ".ae-step-title").text,
            "text": browser.find_element(By.CSS_SELECTOR, ".ae-text").text,
            "labels": [e.text for e in browser.find_elements(By.CSS_SELECTOR,
                                                             "text.ae-label")]}


def test_next_and_arrow_keys_step_through_the_engines_order(browser, seed_page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(seed_page.as_uri())
    order = _engine_order()
    first = _state(browser)
    assert first["step"] == 0 and first["title"].startswith(f"1. {order[0]}")
    assert len(first["current"]) == 1
    browser.find_element(By.CSS_SELECTOR, ".ae-next").click()
    second = _state(browser)
    assert second["step"] == 1 and second["title"].startswith(f"2. {order[1]}")
    assert second["current"] != first["current"] and second["text"] != first["text"]
    # the seed's numbers, as torch computes them: 3*g2 sends 3 to g2
    assert "g2" in second["text"] and "1 × 3 = 3" in second["text"]
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert _state(browser)["title"].startswith(f"3. {order[2]}")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.END)
    last = _state(browser)
    assert last["step"] == len(order) - 1
    # w's two paths and their sum, written on the page
    assert "6 + 103.432 = 109.432" in last["text"]
    assert "109.432" in last["labels"]
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
    assert _state(browser)["step"] == len(order) - 2
    leaves = browser.find_element(By.CSS_SELECTOR, ".ae-leaves").text
    # (the pages print a typographic minus)
    assert "total ∂f/∂w = 109.432" in leaves and "total ∂f/∂z = −31.5086" in leaves


def test_forward_walk_visits_values_in_order(browser, seed_page):
    from selenium.webdriver.common.by import By

    browser.get(seed_page.as_uri())
    browser.find_element(By.CSS_SELECTOR, "button.ae-mode[data-mode='forward']").click()
    state = _state(browser)
    assert state["title"] == "1. 3*w" and state["text"] == "value: 3"
    browser.find_element(By.CSS_SELECTOR, ".ae-last").click()
    assert _state(browser)["title"] == "10. f = exp(g1) + 3*g2"


def test_the_page_loads_nothing_from_anywhere(browser, seed_page):
    text = seed_page.read_text(encoding="utf-8")
    for pattern in (r"<script[^>]*\bsrc=", r"<link\b", r"@import", r"url\(", r"<img\b",
                    r"<iframe\b", r"\bhref="):
        assert not re.search(pattern, text), pattern
    browser.get(seed_page.as_uri())
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == []
    assert browser.get_log("browser") == []  # no script errors


def test_a_models_page_shows_module_names_and_parameter_contributions(browser, tmp_path):
    from selenium.webdriver.common.by import By

    from autograd_explorer import explore, record
    from tests.model_zoo import mlp

    model, inputs, loss_fn = mlp()
    with record(model):
        loss = loss_fn(model, *inputs)
    ex = explore(loss)
    page = ex.save_html(tmp_path / "mlp.html")
    browser.get(page.as_uri())
    assert _state(browser)["title"] == "1. MseLossBackward0 mse_loss"
    browser.find_element(By.CSS_SELECTOR, ".ae-next").click()
    assert _state(browser)["title"] == "2. AddmmBackward0 2 · AddmmBackward0"
    leaves = browser.find_element(By.CSS_SELECTOR, ".ae-leaves").text
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert f"total ∂output/∂{name}" in leaves


def test_a_large_graph_pages_through_the_folded_view(browser, tmp_path):
    from selenium.webdriver.common.by import By

    from autograd_explorer import explore, record
    from core.drawing import folding
    from tests.model_zoo import residual_mlp

    model, inputs, loss_fn = residual_mlp(depth=40)
    with record(model):
        loss = loss_fn(model, *inputs)
    ex = explore(loss)
    assert folding.needs_folding(ex.graph)
    page = ex.save_html(tmp_path / "big.html")
    browser.get(page.as_uri())
    drawn = browser.execute_script(
        "return document.querySelectorAll('.ae-graph g.node').length")
    assert drawn <= folding.TARGET_NODES + 10  # (+ copies of shared nodes)
    total = len(ex.trace.steps)
    assert _state(browser)["title"].startswith("1. ")
    browser.find_element(By.CSS_SELECTOR, ".ae-last").click()
    last = _state(browser)
    assert last["step"] == total - 1
    # the last steps run inside blocks.0: the box holding it is what is highlighted
    assert any(name.startswith(folding.FOLD_PREFIX) for name in last["current"])


def _titles(browser) -> set[str]:
    return set(browser.execute_script(
        "return Array.from(document.querySelectorAll('.ae-graph g.node title'))"
        ".map(t => t.textContent.split('_copy')[0])"))


def _click_node(browser, name: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    for node in browser.find_elements(By.CSS_SELECTOR, ".ae-graph g.node"):
        if node.find_element(By.TAG_NAME, "title").get_attribute("textContent") == name:
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", node)
            # a real click in the middle of the box (its label is on top of its outline)
            ActionChains(browser).move_to_element(node).click().perform()
            return
    raise AssertionError(f"{name} is not drawn")


def _wait_view(browser, box: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 20).until(lambda b: b.find_element(
        "css selector", ".ae-root").get_attribute("data-view") == box)


def test_a_folded_box_unfolds_on_click_and_the_steps_follow(browser, tmp_path):
    """Click the folded box holding the last step: its nodes are drawn (every node torch
    ran inside that module, by the module names the model gives them), the step lights the
    node itself once its box is open, stepping goes on in the unfolded drawing, and Fold
    back draws the box again."""
    from selenium.webdriver.common.by import By

    from autograd_explorer import explore, record
    from core.drawing import folding
    from tests.model_zoo import residual_mlp

    model, inputs, loss_fn = residual_mlp(depth=40)
    with record(model):
        loss = loss_fn(model, *inputs)
    ex = explore(loss)
    page = ex.save_html(tmp_path / "unfold.html")
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|url\(|\bhref=", text)  # still alone
    browser.get(page.as_uri())
    browser.find_element(By.CSS_SELECTOR, ".ae-last").click()
    last = ex.trace.steps[-1]
    assert _state(browser)["step"] == len(ex.trace.steps) - 1
    opened = []
    # open the box lit by the last step, then the box inside it, until the node itself shows
    for _ in range(6):
        current = _state(browser)["current"]
        box = next((name for name in current if name.startswith(folding.FOLD_PREFIX)), None)
        if box is None:
            break
        before = _titles(browser)
        _click_node(browser, box)
        _wait_view(browser, box)
        opened.append(box)
        after = _titles(browser)
        assert box not in after and len(after - before) >= 2  # the box's insides appear
        assert _state(browser)["step"] == len(ex.trace.steps) - 1  # the step stays
    assert opened, "the last step was not inside a folded box"
    # the node itself is drawn and lit; the nodes of its module are drawn too
    assert last.node_id in _state(browser)["current"]
    node = ex.graph.nodes[last.node_id]
    module = (node.expression.split(" · ")[0] if " · " in (node.expression or "")
              else node.name.rsplit(".", 1)[0])  # an operation's module, a parameter's
    same_module = {n.id for n in ex.graph.nodes.values()
                   if (n.expression or "").startswith(module + " · ")
                   or (n.kind == "op" and (n.name or "").startswith(module + "."))}
    assert same_module and same_module <= _titles(browser)
    # stepping works on the unfolded drawing: back one step lights the step before
    browser.find_element(By.CSS_SELECTOR, ".ae-prev").click()
    previous = _state(browser)
    assert previous["step"] == len(ex.trace.steps) - 2 and previous["current"]
    assert last.node_id not in previous["current"]
    browser.find_element(By.CSS_SELECTOR, ".ae-next").click()
    # fold back: the box is drawn again and the step lights it
    browser.find_element(By.CSS_SELECTOR, ".ae-fold").click()
    parent = opened[-2] if len(opened) > 1 else ""
    _wait_view(browser, parent)
    assert opened[-1] in _titles(browser)
    assert _state(browser)["current"] == [opened[-1]]
    assert browser.get_log("browser") == []
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == []
