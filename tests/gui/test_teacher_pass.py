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


def test_a_file_s_own_values_say_text_and_keep_it_through_theme_and_text_size(
        qtbot, window, tmp_path):
    # opened from a file, x = torch.tensor(...) is the text's own value; the window once
    # re-set every row when fonts changed, and every row then claimed to be "example"
    from gui import document
    from gui.variables_table import SOURCE

    cell = tmp_path / "where.py"
    cell.write_text("import torch\nx = torch.tensor([1.5, -2.0, 0.5], requires_grad=True)\n"
                    "loss = (x * x).sum()\nloss.backward()\n", encoding="utf-8")
    with qtbot.waitSignal(window.drawn, timeout=30_000):
        assert document.open_path(window, str(cell))
    table = window.variables
    assert table.item(0, SOURCE).text() == "text"
    window.set_theme("dark")
    window.change_text_size(+1)
    window.change_text_size(0)
    assert table.item(0, SOURCE).text() == "text"
    assert table.item(0, 1).text() == "[1.5, -2.0, 0.5]"


def test_entering_and_leaving_presentation_mode_keeps_the_step(qtbot, window):
    # a teacher at step 6 presses F11: the class must see step 6, not the first one again
    show_steps_tab(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    qtbot.waitUntil(lambda: window.step_panel.step_count() > 0, timeout=30_000)
    window.step_panel.set_step(5)
    for presenting in (True, False):
        window.presentation_action.setChecked(presenting)
        qtbot.wait(300)
        qtbot.waitUntil(lambda: not window.render_jobs.busy and not window.steps_jobs.busy,
                        timeout=30_000)
        qtbot.wait(300)
        assert window.step_panel.current_index() == 5
