"""The window's theme and text size, applied everywhere and remembered in the settings.

The text size is one factor for the whole window (menus, tables, the step text, the
editor, the Check panel's formulas); presentation mode multiplies it by
:data:`PRESENTATION_FACTOR`. Fonts are set on the application, so every widget that uses
the default font follows; the few widgets with a font of their own (the editor's and the
results' fixed-width faces) are updated here.
"""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QSize
from PySide6.QtGui import QAction, QFontDatabase, QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QWidget

from gui.themes import DEFAULT_THEME, THEMES, palette, stylesheet

#: the text sizes View > Text Size steps through (factors of the normal size)
TEXT_SCALES = (0.85, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5)
#: how much larger presentation mode makes the text, on top of the chosen size
PRESENTATION_FACTOR = 1.5
#: the normal size of the application font (points): never below this, for a classroom
MIN_BASE_POINTS = 10.5
#: the editor's text is this much larger than the rest (it is what the class reads)
EDITOR_FACTOR = 1.15

_base_points: float | None = None


def base_points() -> float:
    """The application's normal font size (read once, before any scaling)."""
    global _base_points
    if _base_points is None:
        _base_points = max(QApplication.font().pointSizeF(), MIN_BASE_POINTS)
    return _base_points


def read_template() -> str:
    """resources/style.qss, with its @colour names still in it."""
    from gui.files import resource_path

    with open(resource_path("style.qss"), encoding="utf-8") as handle:
        return handle.read()


def apply_theme(app: QApplication, name: str) -> None:
    """Give the application the theme ``name``'s palette and style sheet."""
    theme = THEMES.get(name, THEMES[DEFAULT_THEME])
    sheet = stylesheet(read_template(), theme)
    if app.styleSheet() == sheet:
        return  # setting it again would repolish every widget of every window for nothing
    app.setPalette(palette(theme))
    app.setStyleSheet(sheet)


#: the line colour the icons in resources/icons are drawn with
ICON_INK = "#37474f"


def themed_icon(name: str, ink: str) -> QIcon:
    """resources/icons/NAME.svg with its line colour replaced by ``ink``, at the sizes a
    toolbar or a large-text window asks for."""
    from gui.files import resource_path

    with open(resource_path(f"icons/{name}.svg"), encoding="utf-8") as handle:
        svg = handle.read().replace(ICON_INK, ink)
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    icon = QIcon()
    for side in (16, 20, 24, 32, 48, 64):
        image = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        icon.addPixmap(QPixmap.fromImage(image))
    return icon


class Appearance:
    """Theme and text size of one window; ``settings`` remembers them."""

    def __init__(self, window, settings):
        self.window = window
        self.settings = settings
        name = str(settings.value("view/theme", DEFAULT_THEME))
        self.theme_name = name if name in THEMES else DEFAULT_THEME
        try:
            scale = float(settings.value("view/textScale", 1.0))
        except (TypeError, ValueError):
            scale = 1.0
        self.text_scale = min(TEXT_SCALES, key=lambda s: abs(s - scale))
        self.presenting = False

    @property
    def theme(self):
        """The current :class:`gui.themes.Theme`."""
        return THEMES[self.theme_name]

    def dark(self) -> bool:
        """True for a theme with a dark background (icons then need light lines)."""
        return self.theme.colour("window").lightness() < 128

    def scale(self) -> float:
        """The factor applied to every font now (presentation mode included)."""
        return self.text_scale * (PRESENTATION_FACTOR if self.presenting else 1.0)

    def set_theme(self, name: str) -> None:
        """Switch to theme ``name`` and remember it."""
        if name not in THEMES:
            raise ValueError(f"unknown theme {name!r}")
        self.theme_name = name
        self.settings.setValue("view/theme", name)
        self.apply()

    def change_text_size(self, direction: int) -> None:
        """One size larger (+1), smaller (-1), or back to normal (0); remembered."""
        if direction == 0:
            self.text_scale = 1.0
        else:
            index = TEXT_SCALES.index(self.text_scale) + (1 if direction > 0 else -1)
            self.text_scale = TEXT_SCALES[max(0, min(index, len(TEXT_SCALES) - 1))]
        self.settings.setValue("view/textScale", self.text_scale)
        self.apply_fonts()

    def set_presenting(self, on: bool) -> None:
        """Presentation mode's larger text on or off."""
        self.presenting = on
        self.apply_fonts()

    def apply(self) -> None:
        """Put theme and text size into effect."""
        app = QApplication.instance()
        apply_theme(app, self.theme_name)
        w = self.window
        w.graph.set_colours(self.theme.colour("graph_bg"), self.theme.colour("placeholder"))
        for name, action in getattr(w, "theme_actions", {}).items():
            action.setChecked(name == self.theme_name)
        w.details.set_legend_theme(self.theme.graph)
        w.editor.highlighter.set_theme(self.theme_name)
        w.variables.set_secondary_colour(self.theme.colour("placeholder"))
        self.apply_icons()
        if w.step_panel is not None:
            w.step_panel.set_colours(self.theme.colours)
            w.step_panel.set_icon_ink(self.dark())
        self.apply_fonts()

    def panels_attached(self) -> None:
        """The Steps and Check panels arrived (after torch loaded): theme and fonts."""
        self.window.step_panel.set_colours(self.theme.colours)
        self.window.step_panel.set_icon_ink(self.dark())
        self.apply_fonts()

    def apply_icons(self) -> None:
        """Redraw the toolbar's and the graph bar's line icons in the theme's ink (dark
        grey lines vanish on a dark toolbar)."""
        ink = self.theme.colours["heading"]
        for action in self.window.findChildren(QAction):
            name = action.property("iconName")
            if name:
                action.setIcon(themed_icon(str(name), ink))

    def apply_fonts(self) -> None:
        """Set every font from the base size and the current scale."""
        points = base_points() * self.scale()
        app = QApplication.instance()
        font = app.font()
        font.setPointSizeF(points)
        if app.font() != font:
            app.setFont(font)
            # widgets a style sheet has polished keep the font they had then: polishing
            # this window's widgets again makes them take the new size
            for widget in self.window.findChildren(QWidget):
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        w = self.window
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        editor_font = fixed.__class__(fixed)
        editor_font.setPointSizeF(points * EDITOR_FACTOR)
        w.editor.setFont(editor_font)
        mono = fixed.__class__(fixed)
        mono.setPointSizeF(points)
        w.results.set_mono_font(mono)
        if w.check_panel is not None:
            w.check_panel.formula.setFont(mono)
        # icons grow with the text: the step buttons are what a presenter clicks
        icon = QSize(round(16 * self.scale()), round(16 * self.scale()))
        buttons = list(w.graph_bar.buttons)
        if w.step_panel is not None:
            panel = w.step_panel
            buttons += [panel.first_button, panel.back_button, panel.play_button,
                        panel.next_button, panel.last_button]
        for button in buttons:
            button.setIconSize(icon)
        w.toolbar.setIconSize(QSize(round(20 * self.scale()), round(20 * self.scale())))
        w.variables.refresh_fonts()  # rows drawn again in the new size, origins kept
