"""Syntax colours for the expression editor: allowed functions, numbers, operators, comments.

Function names come from :data:`core.language.functions.FUNCTIONS`, so a name is coloured exactly
when
the language accepts it; an unknown name stays plain, a first hint before the parser speaks.
"""
from __future__ import annotations

import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat

from core.language.functions import FUNCTIONS


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.DemiBold)
    fmt.setFontItalic(italic)
    return fmt


class ExpressionHighlighter(QSyntaxHighlighter):
    """Colours one line at a time (the language has no multi-line tokens)."""

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

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt's name
        """Apply every rule to one line."""
        for pattern, fmt in self.RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)
