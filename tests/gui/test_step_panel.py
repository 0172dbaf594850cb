"""gui.step_panel: controls, keys, list and play drive the step and emit its highlight."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.teaching.trace import record_steps
from gui.step_panel import StepPanel

pytestmark = pytest.mark.gui

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


@pytest.fixture(scope="module")
def trace():
    return record_steps(evaluate(parse(CHAIN), {"w": 1.0, "z": 1.0}))


@pytest.fixture
def panel(qtbot, trace):
    widget = StepPanel()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_trace(trace)
    return widget


def test_set_trace_lists_every_step_and_starts_at_the_first(panel, trace):
    assert panel.list.count() == len(trace.steps) == 12
    assert panel.list.item(2).text() == "3. ExpBackward0  exp(g1)"
    assert panel.current_index() == 0
    assert panel.position.text() == "step 1 of 12"
    assert not panel.back_button.isEnabled() and panel.next_button.isEnabled()


def test_buttons_move_and_emit_the_highlight(panel, trace, qtbot):
    with qtbot.waitSignal(panel.stepChanged) as blocker:
        panel.next_button.click()
    index, highlight = blocker.args
    assert index == 1
    assert highlight.current == {trace.steps[1].node_id}
    assert trace.steps[0].node_id in highlight.done
    with qtbot.waitSignal(panel.stepChanged) as blocker:
        panel.last_button.click()
    assert blocker.args[0] == 11 and not panel.next_button.isEnabled()
    panel.first_button.click()
    assert panel.current_index() == 0


def test_keys_step_through(panel, qtbot):
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key_Right)
    qtbot.keyClick(panel.list, Qt.Key_Right)
    assert panel.current_index() == 2
    qtbot.keyClick(panel.list, Qt.Key_Left)
    assert panel.current_index() == 1
    qtbot.keyClick(panel.list, Qt.Key_End)
    assert panel.current_index() == 11
    qtbot.keyClick(panel.list, Qt.Key_Home)
    assert panel.current_index() == 0
    qtbot.keyClick(panel.list, Qt.Key_Down)  # the list's own navigation
    assert panel.current_index() == 1
    qtbot.keyClick(panel.list, Qt.Key_Space)
    assert panel.is_playing()
    qtbot.keyClick(panel.list, Qt.Key_Space)
    assert not panel.is_playing()


def test_clicking_a_step_in_the_list_goes_there(panel, qtbot):
    item = panel.list.item(9)
    rect = panel.list.visualItemRect(item)
    with qtbot.waitSignal(panel.stepChanged) as blocker:
        qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=rect.center())
    assert blocker.args[0] == 9


def test_details_show_the_steps_arithmetic(panel):
    panel.set_step(2)
    text = panel.details.toPlainText()
    assert "∂exp(g1)/∂g1 = exp(g1)" in text and "= 1 × 34.4773 = 34.4773" in text
    panel.set_step(11)
    text = panel.details.toPlainText()
    assert "w.grad = 6 + 103.432 = 109.432" in text
    assert "via w**2" in text and "via 3*w" in text
    assert "∂f/∂w = 109.432" in text


def test_play_runs_to_the_end_and_stops(panel, qtbot):
    panel.set_speed(20.0)
    seen = []
    panel.stepChanged.connect(lambda i, _h: seen.append(i))
    panel.toggle_play()
    qtbot.waitUntil(lambda: not panel.is_playing(), timeout=10_000)
    assert seen == list(range(1, 12)) and panel.current_index() == 11


def test_empty_and_cleared_traces(panel, qtbot):
    from core.language.values import VariableSpec
    constant = record_steps(evaluate(parse("f = x * 2"), {"x": VariableSpec("x", 1.0, False)}))
    panel.set_trace(constant)
    assert panel.list.count() == 0 and panel.current_index() == -1
    assert "No backward steps" in panel.details.toPlainText()
    assert not panel.play_button.isEnabled()
    panel.next()  # does nothing, raises nothing
    panel.set_trace(None)
    assert panel.position.text() == "no steps"


def test_title_line_reads_like_the_pdf(panel):
    panel.set_step(2)
    title = panel.title.text()
    assert "Step 3 of 12: exp(g1)" in title and "ExpBackward0" in title
    panel.set_step(11)
    assert "Step 12 of 12: w collects its gradient" in panel.title.text()


def test_arithmetic_wraps_at_the_docks_width(panel, qtbot):
    panel.resize(320, 700)  # about the Steps dock's default width
    panel.set_step(11)  # w: two paths, the longest text of this example
    qtbot.waitUntil(lambda: panel.width() == 320)  # the controls fit in that width too
    details = panel.details
    assert details.lineWrapMode() == details.LineWrapMode.WidgetWidth
    assert details.horizontalScrollBar().maximum() == 0
    assert details.document().size().width() <= details.viewport().width() + 1
    # the paths' terms stay lined up: a table, values right-aligned in their column
    html = details.toHtml()
    assert "<table" in html and 'align="right"' in html
    text = details.toPlainText()
    assert "6" in text and "103.432" in text and "forks sum" in text


def test_list_and_step_share_the_height(panel, qtbot):
    panel.resize(320, 800)
    qtbot.waitUntil(lambda: sum(panel.splitter.sizes()) > 500)
    list_height, step_height = panel.splitter.sizes()
    assert 0.3 <= list_height / (list_height + step_height) <= 0.5
    # the list shows every step of the seed's chain rule without scrolling
    assert panel.list.verticalScrollBar().maximum() == 0


def test_keys_step_in_another_widget_only_while_enabled(panel, qtbot):
    from PySide6.QtWidgets import QGraphicsView
    other = QGraphicsView()  # stands in for the graph view
    qtbot.addWidget(other)
    other.show()
    panel.add_key_target(other)
    panel.set_external_keys_enabled(True)
    other.activateWindow()  # shortcuts fire in the active window only
    qtbot.waitUntil(other.isActiveWindow)
    other.setFocus()
    qtbot.keyClick(other, Qt.Key_Right)
    assert panel.current_index() == 1
    qtbot.keyClick(other, Qt.Key_End)
    assert panel.current_index() == 11
    panel.set_external_keys_enabled(False)
    qtbot.keyClick(other, Qt.Key_Home)
    assert panel.current_index() == 11


@pytest.mark.parametrize("text, values", [
    (CHAIN, {"w": 1.0, "z": 1.0}),
    ("G1 = 3*W + cos(Z)\nG2 = W @ W + sin(2*Z)\nF = norm(exp(G1) + G1 @ G2)",
     {"W": [[1.0, 0.5], [0.2, 0.1]], "Z": [[1.0, 0.5], [0.2, 0.1]]}),
    ("y = x * x", {"x": 3.0}),
    ("y = sum(relu(x) * x)", {"x": [1.0, -2.0, 0.0, 4.0, 5.0]}),
])
def test_step_view_highlights_equal_the_traces(text, values):
    from gui.step_view import StepView

    trace = record_steps(evaluate(parse(text), values))
    view = StepView.from_trace(trace)
    assert [s.entry for s in view.steps] == [s.title for s in trace.steps]
    for index in range(len(trace.steps)):
        mine, theirs = view.highlight(index), trace.highlight(index)
        assert (mine.current, mine.done, mine.edge_labels, mine.recent) == (
            theirs.current, theirs.done, theirs.edge_labels, theirs.recent), index


def test_the_panels_help_defines_the_notation(panel):
    from core.teaching.notation import LEGEND
    tip = panel.notation_button.toolTip()
    assert all(term.split()[0] in tip for term, _ in LEGEND)
    assert "AccumulateGrad" in tip and "retain_graph" in tip
