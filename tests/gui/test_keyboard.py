"""The window from the keyboard: Tab walks the panels in order and leaves the tables, focus is
visible, and stepping and the right-hand tabs work from anywhere (menu items too)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import QApplication

from gui.themes import THEMES
from tests.gui.conftest import compute_and_draw

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def active(qtbot, window):
    window.resize(1280, 720)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def test_tab_walks_the_window_in_order_and_leaves_the_tables(qtbot, window):
    active(qtbot, window)
    compute_and_draw(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    window.editor.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.editor)
    seen = [window.editor]
    for _ in range(7):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        seen.append(QApplication.focusWidget())
    assert seen == [window.editor, window.dtype_box, window.compute_button, window.variables,
                    window.results.table, window.graph_bar.reveal, window.graph,
                    window.details]
    # Shift+Tab goes back the same way, out of the variables table too
    window.results.table.setFocus()
    qtbot.keyClick(window.results.table, Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is window.variables
    qtbot.keyClick(window.variables, Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is window.compute_button
    # the editor keeps no tab characters: Tab moved on
    assert "\t" not in window.editor.toPlainText()


def test_focus_is_visible(qtbot, window):
    active(qtbot, window)
    compute_and_draw(qtbot, window, "f = x * y", {"x": 2.0, "y": 3.0})
    focus = QColor(THEMES["light"].colours["focus"])

    def border_colour(widget) -> QColor:
        image = widget.grab().toImage()
        return image.pixelColor(0, image.height() // 2)

    for widget in (window.variables, window.results.table, window.graph):
        window.editor.setFocus()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is window.editor)
        unfocused = border_colour(widget)
        widget.setFocus()
        qtbot.waitUntil(lambda w=widget: QApplication.focusWidget() is w)
        focused = border_colour(widget)
        assert focused == focus, (widget, focused.name())
        assert unfocused != focus, widget


def test_stepping_keys_work_from_the_editor_and_bring_the_steps_up(qtbot, window):
    active(qtbot, window)
    compute_and_draw(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    window.details_dock.raise_()
    window.editor.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.editor)
    text = window.editor.toPlainText()
    panel = window.step_panel
    assert panel.current_index() == 0
    qtbot.keyClick(window.editor, Qt.Key.Key_PageDown)  # what a presenter's remote sends
    qtbot.waitUntil(lambda: window.steps_showing)
    assert panel.current_index() == 1
    qtbot.keyClick(window.editor, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert panel.current_index() == 2
    qtbot.keyClick(window.editor, Qt.Key.Key_PageUp)
    assert panel.current_index() == 1
    qtbot.keyClick(window.editor, Qt.Key.Key_End, Qt.KeyboardModifier.AltModifier)
    assert panel.current_index() == panel.step_count() - 1
    qtbot.keyClick(window.editor, Qt.Key.Key_Home, Qt.KeyboardModifier.AltModifier)
    assert panel.current_index() == 0
    assert window.editor.toPlainText() == text  # the keys did not edit the program
    # and from the variables table too
    window.variables.setFocus()
    qtbot.keyClick(window.variables, Qt.Key.Key_PageDown)
    assert panel.current_index() == 1


def test_tab_shortcuts_and_menu_items(qtbot, window):
    active(qtbot, window)
    compute_and_draw(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    window.editor.setFocus()
    qtbot.keyClick(window.editor, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.steps_showing)
    assert window.steps_dock.isAncestorOf(QApplication.focusWidget())
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: window.checker.showing)
    assert not window.steps_showing
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: not window.checker.showing)
    assert QApplication.focusWidget() is window.details
    # every one of them is a menu item with its key shown
    menus = {m.title().replace("&", ""): m for m in
             (a.menu() for a in window.menuBar().actions()) if m is not None}
    steps = [a.text().replace("&", "") for a in menus["Steps"].actions()]
    assert steps[:4] == ["Next Step", "Previous Step", "First Step", "Last Step"]
    assert window.step_actions["next"].shortcuts()[0] == QKeySequence("Alt+Right")
    view = [a.text().replace("&", "") for a in menus["View"].actions()]
    assert {"Node Tab", "Steps Tab", "Check Tab", "Presentation"} <= set(view)
