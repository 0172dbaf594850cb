"""The Views dock (issue 15) in the real window: each tab computes its view of the window's
program on a worker and shows torch's numbers (computed directly here for comparison)."""
from __future__ import annotations

import math

import pytest
import torch

from tests.gui.conftest import TIMEOUT, compute_and_draw

pytestmark = pytest.mark.gui

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def show(qtbot, window, key):
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    view = window.views_panel.view(key)
    with qtbot.waitSignals([view.shown], raising=False, timeout=TIMEOUT) as blocker:
        window.views_panel.show_view(key)
    assert blocker.signal_triggered, view.status.text()
    return view


def test_paths_tab_lists_the_seed_paths_and_lights_one_up(qtbot, window):
    compute_and_draw(qtbot, window, CHAIN, {"w": 1, "z": 1})
    view = show(qtbot, window, "paths")
    assert view.leaf_box.currentText() == "w"
    table = view.table
    assert table.rowCount() == 3  # two paths and their sum
    products = sorted(float(table.item(r, 2).text()) for r in range(2))
    assert products == pytest.approx([6.0, 3 * math.exp(3 + math.cos(1))], rel=1e-5)
    assert float(table.item(2, 2).text()) == pytest.approx(109.432, abs=1e-3)
    with qtbot.waitSignal(window.views_panel.highlighted, timeout=TIMEOUT):
        view.select_path(0)
    lit = window.graph.highlighted()
    labels = window.graph.edge_labels()
    # the path w -> ... -> f: its nodes are boxed and its factors written on its edges
    assert len(lit) >= 4
    assert any(text.startswith("× ") for text in labels.values()), (labels, lit)


def test_modes_tab_counts_passes(qtbot, window):
    compute_and_draw(qtbot, window, CHAIN, {"w": 1, "z": 1})
    view = show(qtbot, window, "modes")
    cells = {view.derivatives.item(r, 0).text(): (view.derivatives.item(r, 1).text(),
                                                   view.derivatives.item(r, 2).text())
             for r in range(view.derivatives.rowCount())}
    assert float(cells["w"][0]) == pytest.approx(109.432, abs=1e-3)
    assert cells["w"][0] == cells["w"][1]
    assert "2 passes" in view.counters.text() and "1 pass " in view.counters.text()
    assert view.walk.rowCount() > 0


def test_jacobian_tab_beside_the_window_s_vector_output(qtbot, window):
    """The window differentiates a vector output as y.backward(ones) (its v field); the
    Jacobian tab shows the whole Jacobian of the same output."""
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.auto_action.setChecked(False)
    window.editor.set_text("f = W @ x")
    window.on_text_changed()
    window.variables.set_value("W", "[[1, 2], [3, 4]]", None)
    window.variables.set_value("x", "[1, -1]", None)
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.compute_now()
    # torch: (W @ x).backward(torch.ones(2)) gives x.grad = Wᵀ·1 = [4, 6]
    assert window.result.quantity("x").grad == [4.0, 6.0]
    view = window.views_panel.view("jacobian")
    with qtbot.waitSignal(view.shown, timeout=TIMEOUT):
        window.views_panel.show_view("jacobian")
    view.input_box.setCurrentText("x")
    grid = [[float(view.grid.item(r, c).text()) for c in range(2)] for r in range(2)]
    assert grid == [[1.0, 2.0], [3.0, 4.0]]  # d(Wx)/dx = W
    view.v_edit.setText("[1, 0, 0]")
    with qtbot.waitSignal(view.failed, timeout=TIMEOUT):
        view.refresh()
    assert "shaped like the output" in view.status.text()


def test_hessian_tab_second_derivative_of_a_cube(qtbot, window):
    compute_and_draw(qtbot, window, "f = x**3", {"x": 2})
    view = show(qtbot, window, "hessian")
    assert float(view.grid.item(0, 0).text()) == pytest.approx(12.0)


def test_train_tab_steps_like_torch_sgd(qtbot, window):
    compute_and_draw(qtbot, window, "f = (w - 3)**2", {"w": 0})
    view = show(qtbot, window, "train")
    view.lr.setValue(0.1)
    with qtbot.waitSignal(view.curve_jobs.returned, timeout=TIMEOUT):
        view.run_steps(3)
    w = torch.tensor(0.0, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        ((w - 3) ** 2).backward()
        opt.step()
    xs, ys = view.param_curves["w"].getData()
    assert list(xs) == [0, 1, 2, 3]
    assert ys[-1] == pytest.approx(w.item(), rel=1e-6)
    assert view.tangent_plot.isVisible()
    # the tangent moved with training: at the new w, slope 2(w - 3)
    assert view.point_line.value() == pytest.approx(w.item(), rel=1e-6)
    _, ts = view.tangent_line.getData()
    xs_t, _ = view.tangent_line.getData()
    slope = (ts[1] - ts[0]) / (xs_t[1] - xs_t[0])
    assert slope == pytest.approx(2 * (w.item() - 3), rel=1e-5)
    with qtbot.waitSignal(view.again_jobs.returned, timeout=TIMEOUT):
        view.backward_again()
    assert "w.grad = -12" in view.again_label.text()  # -6, then -6 added again
    view.retain.setChecked(False)
    with qtbot.waitSignal(view.again_jobs.returned, timeout=TIMEOUT):
        view.backward_again()
    assert "RuntimeError" in view.again_label.text() and "retain_graph" in \
        view.again_label.text()


@pytest.mark.parametrize("key", ["paths", "modes", "jacobian", "hessian", "train"])
def test_an_example_opens_on_its_view(qtbot, window, key):
    from gui.examples import load_examples

    example = next(e for e in load_examples() if e.view == key)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    view = window.views_panel.view(key)
    with qtbot.waitSignals([view.shown], raising=False, timeout=TIMEOUT) as blocker:
        window.load_example(example)
    assert blocker.signal_triggered, view.status.text()
    assert window.views_panel.currentWidget() is view
    assert not window.views_dock.visibleRegion().isEmpty()


def test_matrix_products_tab_on_the_seed_matrices(qtbot, window):
    from gui.examples import load_examples

    example = next(e for e in load_examples() if e.title.startswith("Matrices"))
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.load_example(example)
    view = show(qtbot, window, "microscope")
    titles = [view.product_box.itemText(i) for i in range(view.product_box.count())]
    assert any("matmul(W, W)" in t for t in titles) and any("matmul(G1, G2)" in t
                                                              for t in titles)
    assert "G G2ᵀ" in view.heading.text() and view.table.rowCount() == 8
    assert view.table.item(0, 0).text().startswith("∂F/∂")
