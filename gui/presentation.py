"""Presentation mode (F11, View > Presentation): for a projector in front of a class.

Full screen, only the graph and the Steps tab (the editor, values, results, Node and Check
tabs and the toolbar step aside), every font larger, the Steps column about a third of the
screen. Leaving (F11 again, Esc, or unchecking the menu item) puts back the layout, the
window state and the text size exactly as they were.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

#: the share of the screen's width the Steps column takes while presenting
STEPS_SHARE = 0.32


class Presentation:
    """Enters and leaves presentation mode for one window, remembering what to restore."""

    def __init__(self, window):
        self.window = window
        self.active = False
        self._saved = None

    def enter(self) -> None:
        """Full screen, graph and Steps only, larger text."""
        if self.active:
            return
        w = self.window
        self.active = True
        self._saved = (w.saveState(), w.windowState(), w.toolbar.isVisible())
        w.dock_widths.pause(True)  # the wide Steps column is not the Steps tab's own width
        for dock in w.findChildren(QDockWidget):  # every dock but the Steps
            if dock is not w.steps_dock:
                dock.hide()
        w.steps_dock.show()
        w.steps_dock.raise_()
        w.toolbar.hide()
        w.appearance.set_presenting(True)
        w.showFullScreen()
        w.resizeDocks([w.steps_dock], [int(w.width() * STEPS_SHARE)],
                      Qt.Orientation.Horizontal)
        w.graph.fit()
        w.graph.setFocus(Qt.FocusReason.OtherFocusReason)  # arrows step, the wheel zooms
        w.statusBar().showMessage("Presentation: Page Down / Page Up (or Alt+→ / Alt+←) "
                                  "step; F11 or Esc leaves", 8000)

    def leave(self) -> None:
        """Put everything back as it was before :meth:`enter`."""
        if not self.active:
            return
        w = self.window
        self.active = False
        state, window_state, toolbar = self._saved
        w.appearance.set_presenting(False)
        w.setWindowState(window_state)
        if not window_state & (Qt.WindowState.WindowFullScreen |
                               Qt.WindowState.WindowMaximized):
            w.showNormal()
        w.restoreState(state)
        w.toolbar.setVisible(toolbar)
        w.dock_widths.pause(False)
        w.graph.fit()
