"""The window's looks: light, dark and high contrast, for the panels and the graph alike.

A theme is a set of named colours. They fill in the ``@names`` of ``resources/style.qss``,
make the Fusion palette (for everything the style sheet does not name: menus, dialogs,
scroll bars, check boxes) and pick the graph's Graphviz theme in :mod:`core.drawing.render`, so the
graph is not a white rectangle in a dark window. Exports keep their own ("print") theme:
a slide or a handout does not change with the window.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette

#: the theme a first start uses
DEFAULT_THEME = "light"


@dataclass(frozen=True)
class Theme:
    """One look: a title for the menu, the graph's core.drawing.render theme, and the colours."""

    title: str
    graph: str
    colours: dict

    def colour(self, name: str) -> QColor:
        """One of the theme's colours as a QColor."""
        return QColor(self.colours[name])


_LIGHT = dict(
    window="#f5f7f8", base="#ffffff", alt_base="#f7f9fa", text="#1a1a1a", heading="#37474f",
    muted="#555555", border="#cfd8dc", grid="#eceff1", header="#eceff1", button="#eceff1",
    selection="#bbdefb", selection_text="#000000", accent="#1e88e5", accent_hover="#1565c0",
    accent_text="#ffffff", focus="#1e88e5", focus_on_accent="#0d2a4a",
    error_text="#b71c1c", error_bg="#ffebee", error_border="#ef9a9a",
    card_text="#37474f", card_bg="#e3f2fd", card_border="#bbdefb", notes_bg="#f1f3f4",
    notice_text="#4e3b00", notice_bg="#fff3c4", notice_border="#f0c36d",
    graph_bg="#ffffff", placeholder="#666666", good="#2e7d32", bad="#c62828",
)
_DARK = dict(
    window="#1f2326", base="#262b2f", alt_base="#2c3236", text="#e8eaed", heading="#cfd8dc",
    muted="#a8b0b5", border="#455a64", grid="#37474f", header="#2b3135", button="#37474f",
    selection="#1e5a8c", selection_text="#ffffff", accent="#2f7fd1", accent_hover="#1e66b0",
    accent_text="#ffffff", focus="#64b5f6", focus_on_accent="#e3f2fd",
    error_text="#ffcdd2", error_bg="#4a1f1f", error_border="#b71c1c",
    card_text="#e3f2fd", card_bg="#1d3346", card_border="#2f5577", notes_bg="#2c3236",
    notice_text="#ffecb3", notice_bg="#3d3310", notice_border="#8d6e00",
    graph_bg="#1e2124", placeholder="#b0b8bd", good="#81c784", bad="#ef9a9a",
)
#: black and white with yellow for focus and selection (Windows' high-contrast convention)
_CONTRAST = dict(
    window="#000000", base="#000000", alt_base="#101010", text="#ffffff", heading="#ffffff",
    muted="#ffffff", border="#ffffff", grid="#808080", header="#000000", button="#000000",
    selection="#ffff00", selection_text="#000000", accent="#ffff00", accent_hover="#ffea00",
    accent_text="#000000", focus="#00ffff", focus_on_accent="#00ffff",
    error_text="#ffffff", error_bg="#000000", error_border="#ff4040",
    card_text="#ffffff", card_bg="#000000", card_border="#ffffff", notes_bg="#000000",
    notice_text="#ffff00", notice_bg="#000000", notice_border="#ffff00",
    graph_bg="#000000", placeholder="#ffffff", good="#00ff00", bad="#ff6060",
)

THEMES = {
    "light": Theme("&Light", "screen", _LIGHT),
    "dark": Theme("&Dark", "dark", _DARK),
    "contrast": Theme("&High Contrast", "contrast", _CONTRAST),
}


def stylesheet(template: str, theme: Theme) -> str:
    """``template`` (resources/style.qss) with each ``@name`` replaced by its colour;
    longer names first is not needed: a name ends where the word ends."""
    def colour(match: re.Match) -> str:
        return theme.colours.get(match.group(1), match.group(0))

    return re.sub(r"@([a-z_]+)\b", colour, template)


def palette(theme: Theme) -> QPalette:
    """The Fusion palette of ``theme`` (menus, dialogs, scroll bars, check boxes)."""
    c = theme.colour
    pal = QPalette()
    role = QPalette.ColorRole
    for r, name in ((role.Window, "window"), (role.WindowText, "text"), (role.Base, "base"),
                    (role.AlternateBase, "alt_base"), (role.Text, "text"),
                    (role.Button, "button"), (role.ButtonText, "text"),
                    (role.ToolTipBase, "base"), (role.ToolTipText, "text"),
                    (role.Highlight, "selection"), (role.HighlightedText, "selection_text"),
                    (role.Link, "focus"), (role.PlaceholderText, "muted"),
                    (role.BrightText, "bad")):
        pal.setColor(r, c(name))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(disabled, r, c("muted") if theme.graph != "contrast" else QColor("#a0a0a0"))
    return pal
