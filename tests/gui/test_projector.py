"""The window on a projector: every panel usable at 1024×700 and 1280×720, presentation mode,
themes and text size, and each right-hand tab keeping its own width."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QDockWidget

from gui import graph_source
from gui.appearance import PRESENTATION_FACTOR, base_points
from tests.gui.conftest import TIMEOUT, compute_and_draw, finish, make_settings, open_window

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def on_screen(window, size):
    window.resize(*size)
    window.show()
    window.qtbot.waitExposed(window)


def inside_window(window, widget) -> bool:
    """The widget is shown and lies wholly inside the window (not clipped off its edge)."""
    if not widget.isVisible():
        return False
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return window.rect().contains(QRect(top_left, widget.size()))


def ink_lightness(icon) -> float:
    """The mean lightness of an icon's drawn (opaque) pixels."""
    image = icon.pixmap(32, 32).toImage()
    values = [image.pixelColor(x, y) for x in range(32) for y in range(32)]
    drawn = [c.lightness() for c in values if c.alpha() > 200]
    assert drawn, "the icon is empty"
    return sum(drawn) / len(drawn)


@pytest.mark.parametrize("size", [(1024, 700), (1280, 720)])
def test_every_control_fits_and_the_graph_gets_its_share(qtbot, window, size):
    window.qtbot = qtbot
    on_screen(window, size)
    compute_and_draw(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    qtbot.waitUntil(lambda: window.width() == size[0])
    # the graph: about half the width (it had 120 px at 1024 before), most of the height
    assert window.graph.width() >= 0.4 * size[0], window.graph.width()
    assert window.graph.height() >= 0.7 * size[1]
    # nothing in the toolbar's overflow menu ("»"): each action's button is on screen
    for action in window.toolbar.actions():
        if action.isSeparator():
            continue
        button = window.toolbar.widgetForAction(action)
        assert button is not None and inside_window(window, button), action.text()
    # the zoom buttons and readout over the graph; the left column's controls
    for widget in [*window.graph_bar.buttons, window.zoom_label, window.graph_bar.reveal,
                   window.editor, window.dtype_box, window.compute_button, window.variables,
                   window.results.table]:
        assert inside_window(window, widget), widget
    # the Compute button shows its whole label
    button = window.compute_button
    assert button.width() >= button.fontMetrics().horizontalAdvance(button.text())
    # at least two variable rows and the results' first rows are readable
    assert window.variables.viewport().height() >= 2 * window.variables.rowHeight(0)
    assert window.results.table.viewport().height() >= 2 * window.results.table.rowHeight(0)
    # every right-hand tab leaves the graph a third of the width or more
    for dock in (window.steps_dock, window.check_dock, window.views_dock, window.details_dock):
        dock.raise_()
        qtbot.wait(50)
        assert window.graph.width() >= size[0] / 3, (dock.objectName(), window.graph.width())
        assert dock.widget().width() >= dock.widget().minimumSizeHint().width()
    # the Steps panel's controls all on screen in its narrow column
    window.steps_dock.raise_()
    qtbot.waitUntil(lambda: window.steps_showing)
    panel = window.step_panel
    for widget in (panel.first_button, panel.back_button, panel.play_button,
                   panel.next_button, panel.last_button, panel.speed, panel.position,
                   panel.mode):
        assert inside_window(window, widget), widget
    assert panel.mode.tabRect(1).right() <= panel.mode.width()  # both mode tabs readable


def test_check_tab_keeps_its_own_width_across_tabs_and_restarts(qtbot, tmp_path):
    settings = make_settings(tmp_path)
    window = open_window(qtbot, settings)
    window.qtbot = qtbot
    on_screen(window, (1280, 720))
    compute_and_draw(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    node_width = window.details_dock.width()
    window.check_dock.raise_()
    qtbot.waitUntil(lambda: window.checker.checked_result is window.result, timeout=TIMEOUT)
    # the user widens the Check tab (or it widened itself for its columns)
    window.resizeDocks([window.check_dock], [470], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: abs(window.check_dock.width() - 470) <= 4)
    check_width = window.check_dock.width()
    window.details_dock.raise_()
    qtbot.waitUntil(lambda: abs(window.details_dock.width() - node_width) <= 4)
    assert window.graph.width() > 1280 - 470 - window.left_dock.width()  # graph got it back
    window.check_dock.raise_()
    qtbot.waitUntil(lambda: abs(window.check_dock.width() - check_width) <= 4)
    window.details_dock.raise_()
    qtbot.waitUntil(lambda: abs(window.details_dock.width() - node_width) <= 4)
    window.close()
    finish(window)
    again = open_window(qtbot, settings)
    again.qtbot = qtbot
    on_screen(again, (1280, 720))  # the offscreen screen is smaller than the saved window
    assert abs(again.dock_widths.width_of(again.check_dock) - check_width) <= 4
    assert abs(again.dock_widths.width_of(again.details_dock) - node_width) <= 4
    again.check_dock.raise_()
    qtbot.waitUntil(lambda: abs(again.check_dock.width() - check_width) <= 4)
    again.details_dock.raise_()
    qtbot.waitUntil(lambda: abs(again.details_dock.width() - node_width) <= 4)
    finish(again)


def test_presentation_mode_shows_graph_and_steps_large_and_leaves_cleanly(qtbot, window):
    window.qtbot = qtbot
    on_screen(window, (1280, 720))
    compute_and_draw(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    normal_points = QApplication.font().pointSizeF()
    assert window.presentation_action.shortcut().toString() == "F11"
    window.presentation_action.trigger()
    qtbot.waitUntil(lambda: window.isFullScreen())
    assert window.steps_dock.isVisible() and window.steps_showing
    for dock in window.findChildren(QDockWidget):
        assert dock.isVisible() == (dock is window.steps_dock), dock.objectName()
    assert not window.toolbar.isVisible()
    assert QApplication.font().pointSizeF() == pytest.approx(normal_points
                                                             * PRESENTATION_FACTOR)
    assert window.editor.font().pointSizeF() > normal_points * PRESENTATION_FACTOR
    assert window.graph.width() > window.steps_dock.width()  # the graph is the big thing
    # Esc leaves, as F11 does, once nothing is running (the Steps tab's drawing first)
    qtbot.waitUntil(lambda: not window.render_jobs.busy and not window.compute_jobs.busy,
                    timeout=TIMEOUT)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isFullScreen())
    assert not window.presentation_action.isChecked()
    assert window.left_dock.isVisible() and window.toolbar.isVisible()
    assert QApplication.font().pointSizeF() == pytest.approx(normal_points)


def test_text_size_applies_everywhere_and_is_remembered(qtbot, tmp_path):
    settings = make_settings(tmp_path)
    window = open_window(qtbot, settings)
    compute_and_draw(qtbot, window, "f = x * y", {"x": 2.0, "y": 3.0})
    before = (QApplication.font().pointSizeF(), window.editor.font().pointSizeF(),
              window.results.table.item(1, 1).font().pointSizeF())
    window.change_text_size(+1)
    window.change_text_size(+1)
    after = (QApplication.font().pointSizeF(), window.editor.font().pointSizeF(),
             window.results.table.item(1, 1).font().pointSizeF())
    assert all(a > b * 1.2 for a, b in zip(after, before, strict=True)), (before, after)
    assert window.step_panel.details.font().pointSizeF() == pytest.approx(after[0])
    finish(window)
    window.close()
    again = open_window(qtbot, settings)
    assert again.appearance.text_scale == pytest.approx(1.3)
    assert QApplication.font().pointSizeF() == pytest.approx(base_points() * 1.3)
    again.change_text_size(0)
    assert QApplication.font().pointSizeF() == pytest.approx(base_points())
    finish(again)


@pytest.mark.parametrize("theme, graph_theme, background", [
    ("dark", "dark", "#1e2124"), ("contrast", "contrast", "#000000")])
def test_themes_colour_window_and_graph_but_not_exports(qtbot, tmp_path, theme, graph_theme,
                                                        background):
    settings = make_settings(tmp_path)
    window = open_window(qtbot, settings)
    compute_and_draw(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    assert window.drawing.options["theme"] == "screen"
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.set_theme(theme)
    palette = QApplication.palette()
    assert palette.window().color().lightness() < 60  # a dark window
    assert palette.text().color().lightness() > 200   # light text on it
    assert window.drawing.options["theme"] == graph_theme
    svg = window.drawing.svg.decode()
    assert f'fill="{background}"' in svg  # Graphviz's background polygon
    assert window.graph.backgroundBrush().color().name() == background
    # the icons are drawn in light ink on the dark toolbar and step panel
    for icon in (window.zoom_in_action.icon(), window.step_panel.next_button.icon()):
        assert ink_lightness(icon) > 150
    # exports keep their own look: the print theme on white
    exported = graph_source.export(window.drawing, "svg").decode()
    assert 'fill="white"' in exported and background not in exported
    finish(window)
    window.close()
    again = open_window(qtbot, settings)
    assert again.appearance.theme_name == theme and again.theme_actions[theme].isChecked()
    again.set_theme("light")
    assert QApplication.palette().window().color().lightness() > 200
    assert ink_lightness(again.zoom_in_action.icon()) < 100
    finish(again)


@pytest.mark.parametrize("size", [(1024, 700), (1280, 720), (1920, 1080)])
def test_the_value_column_stays_readable_beside_the_from_column(qtbot, window, size):
    # at 1024 px the From column squeezed Value to 30 px ("Valu", values cut off)
    from gui.variables_table import SOURCE, VALUE, VALUE_MIN_WIDTH

    window.qtbot = qtbot
    on_screen(window, size)
    compute_and_draw(qtbot, window, "f = sum(A @ x) + b", {"A": "[[1, 0.5], [0.2, 0.1]]",
                                                          "x": "[1, 2]", "b": "0.5"})
    qtbot.waitUntil(lambda: window.width() == size[0])
    table = window.variables
    header = table.horizontalHeader()
    value = header.sectionSize(VALUE)
    assert value >= VALUE_MIN_WIDTH, value
    assert value >= header.fontMetrics().horizontalAdvance("Value") + 8
    if table.isColumnHidden(SOURCE):
        # hidden for room only: where the value came from is still in the Name cell
        assert size[0] == 1024
        assert "typed" in table.item(0, 0).toolTip()
    else:
        assert header.sectionSize(SOURCE) >= table.sizeHintForColumn(SOURCE)
    # nothing needs a sideways scroll
    assert not table.horizontalScrollBar().isVisible()
    if size[0] >= 1280:
        assert not table.isColumnHidden(SOURCE)  # there is room for it
