"""The main window driven as a user would: typing, values, errors, results, the graph."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from tests.gui.conftest import TIMEOUT, compute_and_draw, show_steps_tab

ROOT = Path(__file__).resolve().parents[2]


def test_typing_an_expression_shows_value_and_gradients(qtbot, window):
    # keystrokes, then the debounced recompute (no Compute click needed)
    with qtbot.waitSignal(window.computed, timeout=TIMEOUT):
        qtbot.keyClicks(window.editor, "f = x * sin(x)")
    assert window.variables.names() == ["x"]
    window.variables.set_value("x", "2")
    qtbot.waitUntil(lambda: window.result.quantity("x").value == 2.0, timeout=TIMEOUT)
    result = window.result
    # by hand: f = x sin x, df/dx = sin x + x cos x
    assert math.isclose(result.value, 2 * math.sin(2), rel_tol=1e-6)
    assert math.isclose(result.quantity("x").grad, math.sin(2) + 2 * math.cos(2), rel_tol=1e-5)
    table = window.results.text()
    assert "f\t1.81859" in table
    assert "x\t2\t0.07700" in table  # float32


def test_ctrl_enter_computes(qtbot, window):
    window.auto_action.setChecked(False)
    qtbot.keyClicks(window.editor, "y = a / b")
    window.variables.set_value("a", "3")
    window.variables.set_value("b", "2")
    assert window.result is None  # nothing computed while auto-recompute is off
    with qtbot.waitSignal(window.computed, timeout=TIMEOUT):
        qtbot.keyClick(window.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert window.result.quantity("b").grad == pytest.approx(-3 / 4)  # -a/b^2
    assert window.editor.toPlainText() == "y = a / b"  # Ctrl+Enter inserted no newline


def test_syntax_error_is_underlined_where_it_is(qtbot, window):
    window.editor.setPlainText("f = w +* 2")
    span = window.editor.error_span
    assert (span.line, span.column) == (1, 8)
    start, end = window.editor.error_range()
    assert start == 7 and end > start  # column 8 is offset 7 on the first line
    assert window.error_label.isVisible() or not window.isVisible()
    assert "line 1, column 8" in window.error_label.text()


def test_unknown_function_on_second_line_is_underlined(qtbot, window):
    window.editor.setPlainText("a = 2*w\nb = foo(a)")
    assert window.editor.error_range() == (len("a = 2*w\n") + 4, len("a = 2*w\n") + 7)
    assert "foo" in window.error_label.text()
    window.editor.setPlainText("a = 2*w\nb = sin(a)")
    assert window.editor.error_range() is None  # fixed text clears the underline
    assert window.variables.names() == ["w"]


def test_bad_value_is_flagged_in_its_cell_and_nothing_is_computed(qtbot, window):
    compute_and_draw(qtbot, window, "f = sum(v * v)", {"v": "[1, 2]"})
    first = window.result
    window.variables.set_value("v", "[1, [2]]")
    window.compute_now()
    item = window.variables.item(0, 1)
    assert item.background().color().red() == 255 and item.background().color().green() < 230
    assert "rectangular" in item.toolTip()
    assert window.variables.item(0, 2).text() == "?"
    assert "v" in window.error_label.text()
    assert window.result is first and not window.compute_jobs.busy


def test_variables_follow_free_names_and_remember_values(qtbot, window):
    window.editor.setPlainText("f = a + b")
    window.variables.set_value("a", "5")
    window.editor.setPlainText("f = b")
    assert window.variables.names() == ["b"]
    window.editor.setPlainText("f = a * b + c")
    assert window.variables.names() == ["a", "b", "c"]
    assert window.variables.entries()["a"] == ("5", True)


def test_notebook_cell_fills_values_from_its_definitions(qtbot, window):
    cell = ("import torch\nw = torch.ones(1, requires_grad=True)\n"
            "z = torch.tensor([2.0], requires_grad=True)\nf = (w*z).sum()\nf.backward()")
    compute_and_draw(qtbot, window, cell)
    assert window.variables.entries() == {"w": ("[1.0]", True), "z": ("[2.0]", True)}
    assert window.result.quantity("w").grad == [2.0]  # d(wz)/dw = z
    assert window.result.quantity("z").grad == [1.0]


def test_constant_has_no_gradient_row(qtbot, window):
    result = compute_and_draw(qtbot, window, "y = w * x", {"w": 3, "x": 4},
                              grads={"w": True, "x": False})
    assert result.quantity("w").grad == 4.0
    assert "x\t4\tconstant: no gradient" in window.results.text()


def test_results_copy_to_clipboard(qtbot, window):
    compute_and_draw(qtbot, window, "f = w + 2*z", {"w": 1, "z": 1})
    window.results.copy_all()
    text = QGuiApplication.clipboard().text()
    assert text.splitlines()[0].startswith("Name\tValue\tGradient")
    assert "z\t1\t2" in text


def test_matrix_results_are_shown_as_rows(qtbot, window):
    compute_and_draw(qtbot, window, "F = sum(W @ W)", {"W": "[[1, 2], [3, 4]]"})
    # By hand, with J the all-ones matrix: d sum(WW)/dW = J W^T + W^T J, so entry (i, j) is
    # the sum of row j of W plus the sum of column i of W.
    W = [[1, 2], [3, 4]]
    expected = [[sum(W[j]) + sum(W[k][i] for k in range(2)) for j in range(2)] for i in range(2)]
    assert window.result.quantity("W").grad == expected
    cell = window.results.table.item(1, 2).text()
    assert cell.count("\n") == 1 and cell.startswith("[[")


def test_node_click_shows_details_and_selects_its_text(qtbot, window):
    compute_and_draw(qtbot, window, "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2",
                     {"w": 1, "z": 1})
    details = window.drawing.details
    exp_id = next(k for k, d in details.items() if d["op"] == "ExpBackward0")
    center = window.graph.node_scene_rect(exp_id).center()
    window.graph.click_at(center)
    shown = window.details.details
    assert shown["op"] == "ExpBackward0" and shown["expression"] == "exp(g1)"
    assert shown["value"].startswith("34.47")  # exp(3 + cos 1) = 34.4773
    assert "ExpBackward0" in window.details.toPlainText()
    assert window.editor.textCursor().selectedText() == "exp(g1)"
    # a click on empty space clears the panel
    corner = window.graph.svg_item.sceneBoundingRect().topLeft()
    window.graph.click_at(corner)
    assert window.details.details is None


def test_node_click_with_the_mouse(qtbot, window):
    compute_and_draw(qtbot, window, "y = x * x", {"x": 3})
    leaf = next(k for k, d in window.drawing.details.items() if d["kind"] == "leaf")
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.graph.fit()
    view_point = window.graph.mapFromScene(window.graph.node_scene_rect(leaf).center())
    with qtbot.waitSignal(window.graph.nodeClicked) as clicked:
        qtbot.mouseClick(window.graph.viewport(), Qt.MouseButton.LeftButton, pos=view_point)
    assert clicked.args == [leaf]
    assert window.details.details["grad"] == "6"  # d(x*x)/dx at 3


def test_highlight_boxes_cover_nodes(qtbot, window):
    compute_and_draw(qtbot, window, "f = exp(w) * w", {"w": 1})
    ids = list(window.graph.node_rects)
    window.graph.set_highlight({ids[0]}, {ids[1], ids[0], "not-a-node"})
    assert window.graph.highlighted() == {ids[0]: "current", ids[1]: "done"}
    box = next(i for i in window.graph._overlays if i.data(0) == ids[0]).sceneBoundingRect()
    assert box.contains(window.graph.node_scene_rect(ids[0]))
    window.graph.set_highlight(set(), set())
    assert window.graph.highlighted() == {}


def test_zoom_is_kept_when_the_same_graph_is_recomputed(qtbot, window):
    compute_and_draw(qtbot, window, "f = sin(w) * z", {"w": 1, "z": 2})
    window.graph.zoom_in()
    window.graph.zoom_in()
    zoom = window.graph.scale_factor()
    window.graph.horizontalScrollBar().setValue(window.graph.horizontalScrollBar().maximum())
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.variables.set_value("w", "1.5")
        window.compute_now()
    assert window.graph.scale_factor() == pytest.approx(zoom)
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.editor.setPlainText("f = sin(w) * z + exp(w) * cos(z) * w")
        window.compute_now()
    assert window.graph.scale_factor() != pytest.approx(zoom)  # a new graph is fitted


def test_zoom_actions(qtbot, window):
    compute_and_draw(qtbot, window, "f = w * z", {"w": 1, "z": 2})
    start = window.graph.scale_factor()
    window.zoom_in_action.trigger()
    assert window.graph.scale_factor() == pytest.approx(start * 1.25)
    window.zoom_out_action.trigger()
    window.zoom_out_action.trigger()
    assert window.graph.scale_factor() == pytest.approx(start / 1.25)
    window.actual_size_action.trigger()
    assert window.graph.scale_factor() == 1.0


def test_math_error_is_shown_not_raised(qtbot, window):
    window.auto_action.setChecked(False)
    window.editor.setPlainText("f = W @ v")
    window.variables.set_value("W", "[[1, 2], [3, 4]]")
    window.variables.set_value("v", "[1, 2, 3]")
    with qtbot.waitSignal(window.failed, timeout=TIMEOUT) as failed:
        window.compute_now()
    error = failed.args[0]
    assert error.kind in ("shape", "math")
    assert window.editor.error_range() is not None
    assert window.error_label.text().startswith("line 1, column 5")


def test_graphviz_missing_shows_banner_and_values(qtbot, window, monkeypatch):
    from gui import graph_source

    monkeypatch.setattr(graph_source, "graphviz_available", lambda: False)
    window.auto_action.setChecked(False)
    window.editor.setPlainText("f = w * w")
    with qtbot.waitSignal(window.render_jobs.errored, timeout=TIMEOUT):
        window.compute_now()
    assert not window.banner.isHidden()
    assert "sudo apt-get install graphviz" in window.banner.text()
    assert window.result.quantity("w").grad == 2.0  # values still work
    assert not window.graph.has_graph()


def test_window_module_does_not_import_torch():
    # The window must be able to appear before torch is loaded (DESIGN: startup facts).
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "from gui.main_window import MainWindow; w = MainWindow(restore=False);"
            "w.load_startup_content(); w.show(); app.processEvents();"
            "assert w.variables.names() == ['w', 'z'], w.variables.names();"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, env={"QT_QPA_PLATFORM": "offscreen", "HOME": "/tmp",
                                          "XDG_CONFIG_HOME": "/tmp/autograd-explorer-test-cfg"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_steps_panel_highlights_the_current_node_on_the_graph(qtbot, window):
    if window.step_panel is None:
        pytest.fail("gui.step_panel is in the tree but was not embedded")
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    compute_and_draw(qtbot, window, "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2",
                     {"w": 1, "z": 1})
    assert window.step_panel.trace() is window.result.trace
    window.steps_dock.raise_()
    qtbot.waitUntil(lambda: window.steps_showing)
    window.step_panel.set_step(2)
    step = window.result.trace.steps[2]
    shown = window.graph.highlighted()
    assert shown.get(step.node_id) == "current"
    assert {n for n, k in shown.items() if k == "done"} >= {
        s.node_id for s in window.result.trace.steps[:2]}
    # DESIGN's engine order for this example: the third node run is ExpBackward0
    assert window.drawing.details[step.node_id]["op"] == "ExpBackward0"
    # the edges carry what the trace computed so far, the seed 1 first
    assert window.graph.edge_labels() == dict(window.result.trace.highlight(2).edge_labels)
    assert "34.4773" in window.graph.edge_labels().values()
    # the step keys work while the graph has focus, too
    window.graph.setFocus()
    qtbot.keyClick(window.graph, Qt.Key.Key_Right)
    assert window.step_panel.current_index() == 3
    qtbot.keyClick(window.graph, Qt.Key.Key_End)
    assert window.step_panel.current_index() == 11
    qtbot.keyClick(window.graph, Qt.Key.Key_Home)
    assert window.step_panel.current_index() == 0
    window.details_dock.raise_()
    qtbot.waitUntil(lambda: not window.steps_showing)
    assert window.graph.highlighted() == {} and window.graph.edge_labels() == {}
    # with the Steps tab hidden the graph's keys are its own again
    qtbot.keyClick(window.graph, Qt.Key.Key_Right)
    assert window.step_panel.current_index() == 0


CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def _steps_on_screen(qtbot, window):
    show_steps_tab(qtbot, window, CHAIN, {"w": 1, "z": 1})
    window.step_panel.set_step(3)


def test_an_error_in_the_text_dims_the_last_results_steps_and_check(qtbot, window):
    _steps_on_screen(qtbot, window)
    panels = (window.results, window.step_panel, window.check_panel)
    assert all(p.isEnabled() for p in panels)
    window.editor.setPlainText(CHAIN + " +")  # a syntax error while typing
    assert window.error_label.isVisible()
    assert not any(p.isEnabled() for p in panels)
    assert "last one that computed" in window.statusBar().currentMessage()
    # the step keys in the graph no longer move the dimmed panel
    window.graph.setFocus()
    qtbot.keyClick(window.graph, Qt.Key.Key_Right)
    assert window.step_panel.current_index() == 3
    # a bad value in the table does the same once the text is fixed
    window.editor.setPlainText(CHAIN)
    window.variables.set_value("w", "[[1, 2], [3]]")
    window.compute_now()
    assert not window.results.isEnabled() and "not rectangular" in window.error_label.text()
    # a good value computes and brings the panels back
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.variables.set_value("w", "2")
        window.compute_now()
    assert all(p.isEnabled() for p in panels) and not window.stale
    assert window.result.quantity("w").value == 2.0


def test_a_compute_error_leaves_no_steps_or_warnings_of_the_older_input(qtbot, window):
    _steps_on_screen(qtbot, window)
    compute_and_draw(qtbot, window, "f = exp(w) * z", {"w": "1e30", "z": 1})
    assert window.results.notice.isVisibleTo(window.results)  # infinity, said above the table
    with qtbot.waitSignal(window.failed, timeout=TIMEOUT):
        window.variables.set_value("w", "[1.0, 2.0]")  # shapes 2 and 3 cannot be multiplied
        window.variables.set_value("z", "[1.0, 2.0, 3.0]")
        window.compute_now()
    assert "shapes 2 and 3 do not match" in window.error_label.text()
    assert window.results.table.rowCount() == 0
    assert not window.results.notice.isVisibleTo(window.results)
    assert window.step_panel.step_count() == 0
    assert window.graph.highlighted() == {} and window.graph.edge_labels() == {}


def test_new_session_forgets_the_last_result_everywhere(qtbot, window):
    _steps_on_screen(qtbot, window)
    window.new_action.trigger()
    assert window.result is None and window.drawing is None
    assert window.step_panel.step_count() == 0 and window.results.table.rowCount() == 0
    assert window.check_panel.report is None
    assert window.graph.highlighted() == {}


def test_stepping_formats_no_tensor_on_the_gui_thread(qtbot, window, monkeypatch):
    import threading

    import core.teaching.rules
    import core.teaching.trace

    on_gui_thread = []

    def watch(name, fn):
        def wrapper(*args, **kwargs):
            if threading.current_thread() is threading.main_thread():
                on_gui_thread.append(name)
            return fn(*args, **kwargs)
        monkeypatch.setattr(getattr(core.teaching, name.split(".")[0]), name.split(".")[1], wrapper)

    watch("rules.fmt", core.teaching.rules.fmt)
    watch("trace.edge_text", core.teaching.trace.edge_text)
    _steps_on_screen(qtbot, window)
    for index in range(window.step_panel.step_count()):
        window.step_panel.set_step(index)
    assert "34.4773" in window.graph.edge_labels().values()
    assert on_gui_thread == []


def test_notes_of_a_pasted_cell_go_when_the_text_stops_parsing(qtbot, window):
    window.editor.setPlainText("import torch\nx = torch.ones(1, requires_grad=True)\n"
                               "y = x * 2\nprint(y)")
    assert window.notes_label.text()
    window.editor.setPlainText("f = expp(w)")
    assert window.error_label.text() and not window.notes_label.text()
