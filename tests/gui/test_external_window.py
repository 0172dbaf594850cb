"""``Exploration.show()``: the app's window on a graph from the user's own code, with the
graph, Node, Steps and Check panels working, and large graphs folded."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.gui.conftest import TIMEOUT, finish, wait_for_steps

pytestmark = pytest.mark.gui


class _Loss(nn.Module):
    """A model that returns its own loss, so explore(fn, inputs) can call it again."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(3, 4), nn.Linear(4, 1)

    def forward(self, x, y):
        return nn.functional.mse_loss(self.fc2(torch.tanh(self.fc1(x))), y)


def _open(qtbot, exploration):
    from gui.external import open_window

    window = open_window(exploration)
    window.quiet_dialogs = True
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.drawing is not None, timeout=TIMEOUT)
    wait_for_steps(qtbot, window)  # written out after the graph is drawn
    return window


def test_window_shows_the_models_graph_steps_and_check(qtbot):
    from autograd_explorer import explore

    torch.manual_seed(0)
    model = _Loss()
    x, y = torch.randn(5, 3), torch.randn(5, 1)
    ex = explore(model, (x, y))
    window = _open(qtbot, ex)
    try:
        # every node of the graph is drawn, and clicking one shows its details
        assert set(ex.graph.nodes) <= set(window.drawing.node_ids)
        weight = next(n for n in ex.graph.nodes.values() if n.name == "fc1.weight")
        window.on_node_clicked(weight.id)
        assert "fc1.weight" in window.details.toPlainText()
        # the Steps panel holds the engine's steps
        assert window.step_panel.list.count() == len(ex.trace.steps)
        # Check: finite differences on a float64 copy agree with autograd
        window.check_dock.raise_()
        qtbot.waitUntil(lambda: window.checker.checked_result is window.result,
                        timeout=TIMEOUT)
        report = window.checker.outcome.report
        assert report.verdict == "agree"
        assert len(report.rows) == sum(p.numel() for p in model.parameters())
        assert all(p.grad is None for p in model.parameters())  # nothing touched
    finally:
        finish(window)


def test_a_loss_alone_is_not_run_again_and_the_check_says_so(qtbot):
    from autograd_explorer import explore

    torch.manual_seed(0)
    model = _Loss()
    ex = explore(model(torch.randn(5, 3), torch.randn(5, 1)), params=model)
    window = _open(qtbot, ex)
    try:
        window.check_dock.raise_()
        qtbot.waitUntil(lambda: window.checker.checked_result is window.result,
                        timeout=TIMEOUT)
        report = window.checker.outcome.report
        assert report.verdict == "not checked"
        assert "does not run your code again" in " ".join(report.rows[0].reasons)
        # the Views: forward mode would run the code again, and says so; paths need only
        # the graph
        from core.views.model_views import FORWARD_MODE_REASON

        window.resize(1400, 900)
        window.show()
        modes = _view(qtbot, window, "modes")
        assert modes.data is None and modes.status.text() == FORWARD_MODE_REASON
        paths = _view(qtbot, window, "paths")
        assert paths.data is not None and set(paths.data.leaves) == set(ex.evaluation.inputs)
        window.views_panel.release()
    finally:
        finish(window)


def test_a_large_graph_opens_folded_unfolds_on_click_and_steps_light_the_box(qtbot):
    from autograd_explorer import explore, record
    from core.drawing import folding
    from tests.model_zoo import residual_mlp

    model, inputs, loss_fn = residual_mlp(depth=40)
    with record(model):
        loss = loss_fn(model, *inputs)
    ex = explore(loss)
    window = _open(qtbot, ex)
    try:
        drawing = window.drawing
        assert drawing.folding is not None
        boxes = [i for i in drawing.folding.graph.nodes if i.startswith(folding.FOLD_PREFIX)]
        assert boxes and len(drawing.folding.graph.nodes) <= folding.TARGET_NODES
        assert set(drawing.folding.graph.nodes) <= set(drawing.node_ids)
        # the step deck pages through the folded view: the last step lights its box
        window.steps_dock.raise_()
        qtbot.waitUntil(lambda: window.steps_showing, timeout=TIMEOUT)
        window.step_panel.last()
        last = ex.trace.steps[-1].node_id
        qtbot.waitUntil(lambda: drawing.drawn_id(last) in window.graph._state,
                        timeout=TIMEOUT)
        assert drawing.drawn_id(last) != last  # the step runs inside a folded box
        # clicking a box opens it one level
        box = boxes[0]
        inside = len(drawing.folding.groups[box])
        with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
            window.on_node_clicked(box)
        assert box not in window.drawing.folding.graph.nodes
        assert len(window.drawing.folding.graph.nodes) > len(drawing.folding.graph.nodes) \
            or inside == 1
    finally:
        finish(window)


def test_file_export_web_page_writes_the_page_on_screen(qtbot, tmp_path):
    from tests.gui.conftest import compute_and_draw, make_settings, open_window

    window = open_window(qtbot, make_settings(tmp_path))
    try:
        compute_and_draw(qtbot, window, "f = exp(w) * w", {"w": 2.0})
        path = tmp_path / "page.html"
        with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
            from gui.web_page import export_web_page
            export_web_page(window, str(path))
        text = path.read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and "<svg" in text
        trace = window.drawn_result.trace
        # each step of the trace, in the engine's order, is in the page's data
        assert [s.title for s in trace.steps][0] in text
        assert "Export &Web Page…" in [a.text() for a in window.menuBar().actions()[0]
                                       .menu().actions()]
    finally:
        finish(window)


def test_the_steps_of_a_model_export_as_a_pdf_deck(qtbot, tmp_path):
    import shutil
    import subprocess

    from autograd_explorer import explore, record
    from gui.step_files import export_steps_pdf
    from tests.model_zoo import mlp

    model, inputs, loss_fn = mlp()
    with record(model):
        loss = loss_fn(model, *inputs)
    ex = explore(loss)
    window = _open(qtbot, ex)
    try:
        path = tmp_path / "steps.pdf"
        with qtbot.waitSignal(window.exported, timeout=TIMEOUT * 2):
            export_steps_pdf(window, str(path))
        assert path.read_bytes().startswith(b"%PDF")
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                                  text=True, timeout=60).stdout
            assert "0.weight" in text
    finally:
        finish(window)


def _view(qtbot, window, key):
    """Bring up the Views tab ``key``; its outcome (data shown, or the reason it cannot)."""
    view = window.views_panel.view(key)
    window.views_panel.show_view(key)
    qtbot.waitUntil(lambda: view.source is not None and view.shown_source == view.source
                    and not view.jobs.busy, timeout=TIMEOUT)
    return view


def test_the_views_dock_works_on_an_explored_model(qtbot):
    """Paths, Jacobian, Hessian from the graph; forward mode with the callable; Train and
    the matrix products say plainly why not. Numbers against torch called directly."""
    from torch.func import functional_call

    from autograd_explorer import explore
    from core.views.model_views import TRAIN_REASON

    torch.manual_seed(0)
    model = _Loss().double()
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 1, dtype=torch.float64)
    ex = explore(model, (x, y))
    names = [name for name, _ in model.named_parameters()]
    params = tuple(p.detach() for _, p in model.named_parameters())

    def loss(*values):
        return functional_call(model, dict(zip(names, values, strict=True)), (x, y))

    gradient = dict(zip(names, torch.autograd.functional.jacobian(loss, params), strict=True))
    window = _open(qtbot, ex)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    try:
        paths = _view(qtbot, window, "paths")
        assert paths.data is not None, paths.status.text()
        # fc2.bias, a single number: the sum of its paths is its gradient
        bias = paths.data.leaves["fc2.bias"]
        assert bias.count >= 1 and bias.listed
        assert float(bias.total_text.replace("−", "-")) == pytest.approx(
            float(gradient["fc2.bias"]), rel=1e-5)
        assert set(paths.data.leaves) == set(names)
        jacobian = _view(qtbot, window, "jacobian")
        assert jacobian.data is not None, jacobian.status.text()
        _labels, columns, rows = jacobian.data.grids["fc1.weight"]
        shown = [float(v.replace("−", "-")) for v in rows[0]]
        assert shown == pytest.approx(gradient["fc1.weight"].reshape(-1).tolist(), rel=1e-5)
        modes = _view(qtbot, window, "modes")
        assert modes.data is not None, modes.status.text()
        assert modes.data.winner == "reverse"
        hessian = _view(qtbot, window, "hessian")
        assert hessian.data is not None and hessian.data.grid, hessian.status.text()
        expected = torch.autograd.functional.hessian(loss, params)
        first = [float(v.replace("−", "-")) for v in hessian.data.grid[0]]
        # the first row: the tab's first input's first entry against every entry, the
        # inputs in the tab's order
        order = [names.index(name) for name in hessian.data.inputs]
        a = order[0]
        flat0 = torch.cat([expected[a][b].reshape(params[a].numel(), -1)[0] for b in order])
        assert first == pytest.approx(flat0.tolist(), rel=1e-4, abs=1e-9)
        train = _view(qtbot, window, "train")
        assert train.data is None and train.status.text() == TRAIN_REASON
        products = _view(qtbot, window, "microscope")
        assert "AddmmBackward0" in products.status.text()
        assert all(p.grad is None for p in model.parameters())  # nothing written into
    finally:
        window.views_panel.release()
        finish(window)
