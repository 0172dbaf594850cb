"""The window takes an output with several entries as torch does: ``y.backward(v)``.

Every panel shows the vector-Jacobian product for the v in the window's field ("gradient of
the output, v (as in y.backward(v))", ones by default): results, the graph's annotations,
the Steps (seeded with v, and saying so), the Check (finite differences of vᵀy) and
sessions. Each number is compared with torch called directly, ``y.backward(v)``.
"""
from __future__ import annotations

import json

import pytest
import torch

from gui import files
from tests.gui.conftest import TIMEOUT, compute_and_draw, wait_for_steps

pytestmark = pytest.mark.gui

TEXT = "h = W @ x\ny = h * sin(h)"
X = [1.0, -0.5, 2.0]
W = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]


def torch_vjp(v):
    """torch on the same text: the gradients of y.backward(v)."""
    x = torch.tensor(X, requires_grad=True)
    w = torch.tensor(W, requires_grad=True)
    h = w @ x
    y = h * torch.sin(h)
    y.backward(torch.tensor(v))
    return y.detach(), x.grad, w.grad


def commit_v(qtbot, window, text: str) -> None:
    """Type v into the field as a user does, and wait for the recompute's drawing."""
    field = window.grad_output.edit
    field.setText(text)
    with qtbot.waitSignal(window.grad_output.changed, timeout=TIMEOUT):
        field.editingFinished.emit()
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.compute_now()  # the tests turn automatic recomputing off
    wait_for_steps(qtbot, window)  # the window draws first, then prepares the steps


def assert_grads(result, v) -> None:
    y, gx, gw = torch_vjp(v)
    torch.testing.assert_close(torch.tensor(result.quantity("y").value), y)
    torch.testing.assert_close(torch.tensor(result.quantity("x").grad), gx)
    torch.testing.assert_close(torch.tensor(result.quantity("W").grad), gw)


def test_vector_output_is_seeded_with_ones_then_with_the_typed_v(qtbot, window):
    result = compute_and_draw(qtbot, window, TEXT, {"x": str(X), "W": str(W)})
    assert window.grad_output.isVisibleTo(window)
    assert window.grad_output.edit.text() == "ones(2)"
    assert "y.backward(v)" in window.grad_output.label.text()
    assert_grads(result, [1.0, 1.0])
    assert result.quantity("y").grad == [1.0, 1.0]  # the output's own row holds v

    commit_v(qtbot, window, "[2, -0.5]")
    assert_grads(window.result, [2.0, -0.5])
    assert window.result.quantity("y").grad == [2.0, -0.5]
    assert "vᵀJ" in " ".join(window.result.warnings)
    assert window.results.table.horizontalHeaderItem(2).text() == "Gradient (vᵀJ)"

    # the graph's annotations: each leaf's gradient is torch's VJP
    _, gx, gw = torch_vjp([2.0, -0.5])
    graph = window.drawing.source
    leaves = {node.name: node.grad for node in graph.nodes.values() if node.kind == "leaf"}
    torch.testing.assert_close(leaves["x"], gx)
    torch.testing.assert_close(leaves["W"], gw)
    out = graph.nodes[graph.output_id]
    torch.testing.assert_close(out.grad, torch.tensor([2.0, -0.5]))


def test_a_wrong_v_is_refused_in_its_field(qtbot, window):
    compute_and_draw(qtbot, window, TEXT, {"x": str(X), "W": str(W)})
    window.grad_output.edit.setText("[1, 2, 3]")
    window.grad_output.edit.editingFinished.emit()
    assert window.grad_output.problem and "shape" in window.grad_output.problem
    with qtbot.waitSignal(window.failed, timeout=TIMEOUT):
        window.compute_now()
    assert "v" in window.error_label.text() and "shape" in window.error_label.text()
    assert window.results.table.rowCount() == 0  # no numbers of another v stay on screen


def test_steps_start_from_v_and_say_so(qtbot, window):
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    compute_and_draw(qtbot, window, TEXT, {"x": str(X), "W": str(W)})
    commit_v(qtbot, window, "[2, -0.5]")
    window.steps_dock.raise_()
    qtbot.waitUntil(lambda: window.steps_showing)
    window.step_panel.set_step(0)
    text = window.step_panel.details.toPlainText()
    assert "∂(vᵀy)/∂y = v = [2, −0.5]" in text
    assert "y.backward(v)" in text and "= 1 (the seed" not in text
    trace = window.result.trace
    _, gx, gw = torch_vjp([2.0, -0.5])
    torch.testing.assert_close(trace.leaves["x"].total, gx)
    torch.testing.assert_close(trace.leaves["W"].total, gw)


def test_check_differentiates_v_dot_y(qtbot, window):
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.dtype_box.setCurrentText("float64")
    compute_and_draw(qtbot, window, TEXT, {"x": str(X), "W": str(W)})
    commit_v(qtbot, window, "[2, -0.5]")
    window.check_dock.raise_()
    qtbot.waitUntil(lambda: window.checker.checked_result is window.result, timeout=60_000)
    report = window.checker.outcome.report
    assert report.verdict == "agree"
    assert report.output_name == "vᵀy"
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    w = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    h = w @ x
    y = h * torch.sin(h)
    v = torch.tensor([2.0, -0.5], dtype=torch.float64)
    assert report.value == pytest.approx(float((v * y.detach()).sum()))
    y.backward(v)
    for row in report.rows:
        expected = (x.grad if row.name == "x" else w.grad)[row.index].item()
        assert row.autograd == pytest.approx(expected, rel=1e-12)
        fd = row.comparisons[0].value
        assert fd == pytest.approx(expected, rel=1e-6, abs=1e-9)
        sym = row.comparisons[1].value
        assert sym is None or sym == pytest.approx(expected, rel=1e-10)


def test_v_is_saved_with_the_session(qtbot, window, tmp_path):
    compute_and_draw(qtbot, window, TEXT, {"x": str(X), "W": str(W)})
    commit_v(qtbot, window, "[2, -0.5]")
    path = tmp_path / "vjp.json"
    assert files.save_session_to(window, str(path))
    assert json.loads(path.read_text())["grad_output"] == "[2, -0.5]"
    files.new_session(window)
    assert not window.grad_output.isVisibleTo(window)
    assert window.grad_output.custom_text is None
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        assert files.open_session(window, str(path))
    assert window.grad_output.edit.text() == "[2, -0.5]"
    assert_grads(window.result, [2.0, -0.5])


def test_a_single_number_output_has_no_v_field(qtbot, window):
    compute_and_draw(qtbot, window, TEXT, {"x": str(X), "W": str(W)})
    result = compute_and_draw(qtbot, window, "f = sum(x * x)", {"x": str(X)})
    assert not window.grad_output.isVisibleTo(window)
    assert result.grad_output is None and result.quantity("f").grad == 1.0
    assert window.results.table.horizontalHeaderItem(2).text() == "Gradient"
    assert result.quantity("x").grad == pytest.approx([2 * v for v in X])


def test_a_pasted_cells_backward_v_fills_the_field(qtbot, window):
    cell = ("import torch\nx = torch.tensor([1.0, -0.5, 2.0], requires_grad=True)\n"
            "y = x * torch.sin(x)\ny.backward(torch.tensor([2.0, -0.5, 1.0]))\n")
    x = torch.tensor([1.0, -0.5, 2.0], requires_grad=True)
    (x * torch.sin(x)).backward(torch.tensor([2.0, -0.5, 1.0]))
    result = compute_and_draw(qtbot, window, cell, {})
    assert window.grad_output.edit.text() == "[2.0, -0.5, 1.0]"
    torch.testing.assert_close(torch.tensor(result.quantity("x").grad), x.grad)
