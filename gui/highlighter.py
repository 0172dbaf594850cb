"""Syntax colours for the expression editor: allowed functions, numbers, operators, comments.

Function names come from :data:`core.language.functions.FUNCTIONS`, so a name is coloured exactly
when
the language accepts it; an unknown name stays plain, a first hint before the parser speaks.
"""
from __future__ import annotations

import re
import time

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat

from core.language.functions import FUNCTIONS


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.DemiBold)
    fmt.setFontItalic(italic)
    return fmt


#: How much CPU time the highlighter may spend colouring lines in one pass of the event loop
#: (ms). Qt colours every line of a paste at once: 21 of the 23 ms of CPU that pasting 2,000
#: lines cost the GUI thread (several times that on a busy machine, issue 13); past this
#: budget the rest of the lines are coloured on the following passes.
BUDGET_MS = 4.0
#: the block state of a line whose colouring waits for a later pass
WAITING = 1
COLOURED = 0


class ExpressionHighlighter(QSyntaxHighlighter):
    """Colours one line at a time (the language has no multi-line tokens), at most
    :data:`BUDGET_MS` per pass of the event loop.

    A line past the budget is left plain with the block state WAITING; on the next pass
    :meth:`_resume` asks Qt to colour the first waiting line again, and because its state then
    changes (to COLOURED) Qt goes on to the next line, and so on until the budget is spent.
    """

    RULES = [
        # (pattern, format); later rules win where they overlap, so comments come last.
        (re.compile(r"\b(?:torch|nn|functional|F)\b\.?"), _format("#7a7a7a")),
        (re.compile(r"\b(?:" + "|".join(sorted(FUNCTIONS, key=len, reverse=True))
                    + r")\b(?=\s*\()"), _format("#1f5fbf", bold=True)),
        (re.compile(r"\b(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\b"), _format("#a0522d")),
        (re.compile(r"\*\*|[-+*/@=]"), _format("#b03060", bold=True)),
        (re.compile(r"^\s*[A-Za-z_]\w*(?=\s*=[^=])"), _format("#2e7d32", bold=True)),
        (re.compile(r"#.*$"), _format("#808080", italic=True)),
    ]

    def __init__(self, document=None):
        super().__init__(document)
        self._pass_started: float | None = None
        self._resume_at: int | None = None  # the first waiting line's block number

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt's name
        """Apply every rule to one line, or leave it for a later pass."""
        now = time.thread_time()  # CPU time: on a busy machine wall-clock time is mostly waiting
        if self._pass_started is None:
            self._pass_started = now
            QTimer.singleShot(0, self, self._end_pass)  # dropped if the editor is gone
        elif (now - self._pass_started) * 1000 > BUDGET_MS:
            number = self.currentBlock().blockNumber()
            if self._resume_at is None or number < self._resume_at:
                self._resume_at = number
            self.setCurrentBlockState(WAITING)
            return
        self.setCurrentBlockState(COLOURED)
        for pattern, fmt in self.RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)

    def _end_pass(self) -> None:
        """A new pass of the event loop: colour from the first waiting line on."""
        self._pass_started = None
        number, self._resume_at = self._resume_at, None
        document = self.document()
        if number is None or document is None:
            return
        block = document.findBlockByNumber(number)
        while block.isValid() and block.userState() != WAITING:
            block = block.next()  # an edit meanwhile may have coloured it already
        if block.isValid():
            self.rehighlightBlock(block)

    def waiting(self) -> bool:
        """True while some lines still wait for their colours."""
        return self._resume_at is not None
