"""The expression editor: a plain-text editor with syntax colours, an error underline, and
signals for "compute now" (Ctrl+Enter) and "the text settled" (typing stopped for a moment).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit

from core.errors import Span
from gui.highlighter import ExpressionHighlighter

#: How long typing must pause before the expression is recomputed.
DEBOUNCE_MS = 400


class ExpressionEditor(QPlainTextEdit):
    """Several lines of expression text.

    ``computeRequested`` fires on Ctrl+Enter; ``textSettled`` fires ``DEBOUNCE_MS`` after the
    last edit. :meth:`show_error` draws a wavy red underline over a :class:`Span`.
    """

    computeRequested = Signal()
    textSettled = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(font.pointSizeF(), 10.5) * 1.15)
        self.setFont(font)
        self.setTabChangesFocus(True)  # the language has no indentation; Tab moves on
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setPlaceholderText("Type an expression, e.g.\n  g = 3*w + cos(z)\n  f = exp(g)")
        self.highlighter = ExpressionHighlighter(self.document())
        self._settle = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._settle.timeout.connect(self.textSettled)
        self.textChanged.connect(self._settle.start)
        self.error_span: Span | None = None

    def set_text(self, text: str) -> None:
        """Replace the text without triggering the debounced recompute, as one undoable
        edit: Ctrl+Z brings back the text an example or New replaced."""
        self.blockSignals(True)
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        self.blockSignals(False)
        self.moveCursor(QTextCursor.MoveOperation.Start)
        self.clear_error()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Ctrl+Enter (or Shift+Enter) computes; everything else edits."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                event.modifiers() & (Qt.KeyboardModifier.ControlModifier |
                                     Qt.KeyboardModifier.ShiftModifier):
            self._settle.stop()
            self.computeRequested.emit()
            return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ errors

    def show_error(self, span: Span | None) -> None:
        """Underline ``span`` (1-based line/column, end exclusive) with a red wave."""
        self.error_span = span
        if span is None:
            self.setExtraSelections([])
            return
        doc = self.document()
        block = doc.findBlockByNumber(max(span.line - 1, 0))
        if not block.isValid():
            block = doc.lastBlock()
        start = block.position() + max(span.column - 1, 0)
        if span.end_line is not None and span.end_column is not None:
            end_block = doc.findBlockByNumber(span.end_line - 1)
            end = (end_block.position() + span.end_column - 1) if end_block.isValid() else start
        else:
            end = start
        # never mark an empty range: a parser pointing at the end of a line gets one character
        end = max(end, start + 1)
        end = min(end, max(doc.characterCount() - 1, start))
        if end <= start and start > 0:
            start -= 1
        cursor = QTextCursor(doc)
        cursor.setPosition(min(start, doc.characterCount() - 1))
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SpellCheckUnderline)
        fmt.setUnderlineColor(QColor("#d32f2f"))
        fmt.setBackground(QColor(211, 47, 47, 28))
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        selection.format = fmt
        self.setExtraSelections([selection])

    def clear_error(self) -> None:
        """Remove the underline."""
        self.show_error(None)

    def error_range(self) -> tuple[int, int] | None:
        """The underlined character range (start, end) in the document, for tests."""
        selections = self.extraSelections()
        if not selections:
            return None
        cursor = selections[0].cursor
        return cursor.selectionStart(), cursor.selectionEnd()

