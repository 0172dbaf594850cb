"""The strip above the graph: zoom buttons, the zoom readout and the lesson's "reveal
gradients as I step" choice.

The zoom buttons live here rather than in the main toolbar because on a 1024-pixel
projector the toolbar runs out of room and Qt moves its last buttons into an overflow menu
("»"), where nobody finds them; this strip is as wide as the graph itself.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QToolButton, QWidget


class GraphBar(QWidget):
    """A thin row over the graph: [reveal gradients as I step] ... [-] 100% [+] [fit]."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("graphBar")
        self.reveal = QCheckBox("Reveal gradients as I step")
        self.reveal.setObjectName("revealCheck")
        self.reveal.setChecked(True)
        self.reveal.setToolTip(
            "While the Steps tab is showing, the nodes show their values only, and each "
            "gradient appears on the graph when the step that computes it is reached "
            "(so the walkthrough does not give the answers away)")
        self.zoom_label = QLabel("")
        self.zoom_label.setObjectName("zoomLabel")
        self.zoom_label.setMinimumWidth(self.zoom_label.fontMetrics().horizontalAdvance("2000%"))
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_label.setToolTip("Zoom of the graph (Ctrl+0 fits it, Ctrl+1 is 100%)")
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(6, 2, 6, 2)
        self._layout.setSpacing(2)
        self._layout.addWidget(self.reveal)
        self._layout.addStretch(1)
        self.buttons: list[QToolButton] = []

    def add_zoom_actions(self, zoom_out, zoom_in, fit) -> None:
        """Put buttons for the window's zoom actions on the right: - readout + fit."""
        for action in (zoom_out, None, zoom_in, fit):
            if action is None:
                self._layout.addWidget(self.zoom_label)
                continue
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            self.buttons.append(button)
            self._layout.addWidget(button)
