"""The loaded example's title and explanation, under the editor.

On a 1024×700 projector a long explanation took a third of the left column and left one
row for the variables; the card is now at most a few lines tall and scrolls beyond that.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea

#: the most lines of text the card shows before it scrolls
MAX_LINES = 4


class ExampleCard(QScrollArea):
    """A word-wrapped rich-text label (object name ``exampleLabel``) that scrolls when
    longer than :data:`MAX_LINES` lines. ``setText``/``text`` are the label's."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setObjectName("exampleLabel")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setWidget(self.label)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes on to the values
        self._fit()

    def setText(self, text: str) -> None:  # noqa: N802 - QLabel's name
        """Show ``text`` (rich text) from its top."""
        self.label.setText(text)
        self.verticalScrollBar().setValue(0)

    def text(self) -> str:
        """The text shown."""
        return self.label.text()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Follow font changes (View > Text Size)."""
        super().changeEvent(event)
        self._fit()

    def _fit(self) -> None:
        lines = self.label.fontMetrics().lineSpacing() * MAX_LINES
        self.setMaximumHeight(lines + 20)  # the label's padding and border
