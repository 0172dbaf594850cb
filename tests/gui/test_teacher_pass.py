"""What a teacher saw in the real window (issue 13's pass at 1024×700, 1280×720 and
1920×1080, presentation mode, each theme) and is now fixed."""
from __future__ import annotations

from PySide6.QtGui import QTextDocument

from tests.gui.conftest import show_steps_tab
from tests.gui.test_theme_contrast import contrast

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def rendered_points(label) -> float:
    """The point size the label's rich text is drawn in (its first piece of text)."""
    document = QTextDocument()
    document.setDefaultFont(label.font())
    document.setHtml(label.text())
    return document.firstBlock().begin().fragment().charFormat().font().pointSizeF()


def test_the_step_title_is_larger_than_the_step_text_in_presentation_mode(qtbot, window):
    # a fixed 12 pt title stayed smaller than presentation mode's large body text
    show_steps_tab(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    panel = window.step_panel
    for presenting in (False, True):
        window.presentation_action.setChecked(presenting)
        qtbot.wait(100)
        assert rendered_points(panel.title) > panel.details.font().pointSizeF()
    window.presentation_action.setChecked(False)


def test_the_step_titles_operation_reads_on_the_dark_background(qtbot, window):
    show_steps_tab(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    window.set_theme("dark")
    qtbot.wait(50)
    muted = window.appearance.theme.colour("muted")
    background = window.appearance.theme.colour("window")
    assert muted.name() in window.step_panel.title.text()
    assert "#555555" not in window.step_panel.title.text()
    assert contrast(muted, background) >= 4.5
