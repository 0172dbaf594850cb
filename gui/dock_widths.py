"""The right-hand docks (Node, Steps, Check) share one column; each tab keeps its own width.

The Check tab wants room for a table of numbers, the Node tab very little: without this, a
look at the Check tab widened the column for good (and the widened layout was saved for the
next start), shrinking the graph. Here each tab's width is remembered while it is on top
and put back when it comes on top again; the widths are saved in the settings.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QEvent, QObject, Qt, QTimer

#: settings key of the remembered widths ({dock object name: pixels})
SETTINGS_KEY = "window/dockWidths"


def first_dock_widths(window_width: int) -> list[int]:
    """[left column, right column] widths on a first start: the graph gets the rest,
    about half of a 1024-pixel window and more on larger screens."""
    # 310 px at 1024 (the graph keeps over 40%), growing to 545 px at 1600, where a 2x2
    # matrix and its reference values fit the results table side by side
    left = max(280, min(600, int(310 + 0.408 * (window_width - 1024))))
    right = max(270, min(440, int(window_width * 0.22)))
    return [left, right]


class DockWidths(QObject):
    """Remembers the width of each of ``docks`` (tabbed together) while it is the tab on
    top, and restores it when that tab comes on top again."""

    def __init__(self, window, docks):
        super().__init__(window)
        self.window = window
        self.docks = list(docks)
        self.widths: dict[str, int] = {}
        self.current = None
        self._restoring = False
        self._paused = False
        for dock in self.docks:
            dock.installEventFilter(self)
            dock.visibilityChanged.connect(
                lambda visible, d=dock: self._visibility_changed(d, visible))

    def load(self, settings) -> None:
        """Read the widths saved by :meth:`save`."""
        try:
            data = json.loads(str(settings.value(SETTINGS_KEY, "{}")))
        except ValueError:
            data = {}
        if isinstance(data, dict):
            self.widths = {str(k): int(v) for k, v in data.items()
                           if isinstance(v, (int, float)) and v > 0}

    def save(self, settings) -> None:
        """Write the widths into ``settings``."""
        settings.setValue(SETTINGS_KEY, json.dumps(self.widths))

    def pause(self, paused: bool) -> None:
        """Stop (True) or resume remembering widths: presentation mode's wide Steps column
        is not the width the Steps tab should come back to."""
        self._paused = paused

    def width_of(self, dock) -> int | None:
        """The width remembered for ``dock`` (None if it has not been on top yet)."""
        return self.widths.get(dock.objectName())

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        """Note the width of the tab on top whenever it is resized (by the user, by a
        panel's size hint, or by a restore)."""
        if (event.type() == QEvent.Type.Resize and obj is self.current
                and not obj.isFloating() and not self._restoring and not self._paused
                and obj.width() > 0):
            self.widths[obj.objectName()] = obj.width()
        return False

    def _visibility_changed(self, dock, visible: bool) -> None:
        if not visible or dock.isFloating():
            return
        self.current = dock
        if self._paused:
            return
        wanted = self.widths.get(dock.objectName())
        if wanted:
            # after the tab switch has been laid out, so Qt's own resize comes first
            QTimer.singleShot(0, lambda: self._restore(dock, wanted))

    def _restore(self, dock, width: int) -> None:
        if self.current is not dock or dock.isFloating() or dock.width() == width:
            return
        self._restoring = True
        try:
            self.window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
        finally:
            self._restoring = False
        self.widths[dock.objectName()] = width
