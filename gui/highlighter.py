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


#: what each rule matches; later rules win where they overlap, so comments come last
PATTERNS = [
    ("module", re.compile(r"\b(?:torch|nn|functional|F)\b\.?")),
    ("function", re.compile(r"\b(?:" + "|".join(sorted(FUNCTIONS, key=len, reverse=True))
                            + r")\b(?=\s*\()")),
    ("number", re.compile(r"\b(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\b")),
    ("operator", re.compile(r"\*\*|[-+*/@=]")),
    ("target", re.compile(r"^\s*[A-Za-z_]\w*(?=\s*=[^=])")),
    ("comment", re.compile(r"#.*$")),
]
#: the colours of each theme (gui.themes), each 4.5:1 or more against its background (WCAG
#: AA; tests/gui/test_theme_contrast.py): the light ones were dark blue, brown and
#: green, which nearly vanish on the dark and the black (high-contrast) background
PALETTES = {
    "light": {"module": "#666666", "function": "#1f5fbf", "number": "#a0522d",
              "operator": "#b03060", "target": "#2e7d32", "comment": "#6b6b6b"},
    "dark": {"module": "#a8b0b5", "function": "#82b1ff", "number": "#ffb74d",
             "operator": "#f48fb1", "target": "#a5d6a7", "comment": "#9e9e9e"},
    "contrast": {"module": "#ffffff", "function": "#00ffff", "number": "#ffff00",
                 "operator": "#ffffff", "target": "#00ff00", "comment": "#c0c0c0"},
}
BOLD = ("function", "operator", "target")


def _rules(theme: str) -> list:
    """(pattern, format) pairs in the colours of ``theme``."""
    palette = PALETTES[theme]
    return [(pattern, _format(palette[kind], bold=kind in BOLD, italic=kind == "comment"))
            for kind, pattern in PATTERNS]


class ExpressionHighlighter(QSyntaxHighlighter):
    """Colours one line at a time (the language has no multi-line tokens), at most
    :data:`BUDGET_MS` per pass of the event loop.

    A line past the budget is left plain with the block state WAITING; on the next pass
    :meth:`_end_pass` asks Qt to colour the first waiting line again, and because its state then
    changes (to COLOURED) Qt goes on to the next line, and so on until the budget is spent.
    """

    RULES = _rules("light")

    def __init__(self, document=None):
        super().__init__(document)
        self._pass_started: float | None = None
        self._resume_at: int | None = None  # the first waiting line's block number
        self.rules = list(self.RULES)

    def set_theme(self, name: str) -> None:
        """Colour with the palette of theme ``name`` (light, dark, contrast) from now on."""
        rules = _rules(name if name in PALETTES else "light")
        if [f.foreground().color().name() for _, f in rules] != \
                [f.foreground().color().name() for _, f in self.rules]:
            self.rules = rules
            self.rehighlight()

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
        for pattern, fmt in self.rules:
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
