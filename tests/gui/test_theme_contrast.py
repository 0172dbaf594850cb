"""Readable in every theme (issue 13, teacher's pass): the editor's syntax colours and the
variables table's quieter columns keep WCAG's 4.5:1 contrast against their background in the
light, dark and high-contrast themes (the light theme's dark blue and brown nearly vanished
on the dark and black backgrounds)."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette

from gui.themes import THEMES
from gui.variables_table import SHAPE
from tests.gui.conftest import compute_and_draw


def luminance(colour) -> float:
    """WCAG 2 relative luminance."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(x) for x in (colour.redF(), colour.greenF(), colour.blueF()))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", list(THEMES))
def test_syntax_colours_and_quiet_columns_are_readable(qtbot, window, theme):
    compute_and_draw(qtbot, window, "f = exp(w) * 2.5  # note", {"w": 1.0})
    window.set_theme(theme)
    qtbot.waitUntil(lambda: not window.editor.highlighter.waiting())
    background = window.editor.palette().color(QPalette.ColorRole.Base)
    block = window.editor.document().firstBlock()
    formats = block.layout().formats()
    assert len(formats) >= 4  # target, operator, function, number, comment coloured
    for piece in formats:
        colour = piece.format.foreground().color()
        assert contrast(colour, background) >= 4.5, (theme, colour.name(), background.name())
    table = window.variables
    table_background = table.palette().color(QPalette.ColorRole.Base)
    shape = table.item(0, SHAPE).foreground().color()
    assert contrast(shape, table_background) >= 4.5, (theme, shape.name())
