"""Help > Getting Started and Help > Functions: fit the screen, scroll, search; the
functions come from the language's own list."""
from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication, QKeySequence

from core.language import functions
from core.language.functions import FUNCTIONS, FunctionSpec
from gui import help_pages


def test_functions_page_fits_the_screen_scrolls_and_lists_every_function(qtbot, window):
    window.show()
    page = help_pages.show_functions(window)
    qtbot.waitExposed(page)
    screen = QGuiApplication.primaryScreen().availableGeometry()
    assert page.height() <= screen.height()
    assert sorted(page.shown_names) == sorted(FUNCTIONS)
    bar = page.browser.verticalScrollBar()
    assert bar.maximum() > 0 and bar.isVisible()  # longer than the window: it scrolls
    text = page.browser.toPlainText()
    assert "clamp(x, [y], [z], max=…, min=…)" in text and "zeros(…, " in text
    assert "x.sin()" in text


def test_functions_search_filters_by_name_and_description(qtbot, window):
    page = help_pages.show_functions(window)
    page.search.setText("soft")
    expected = {n for n, s in FUNCTIONS.items()
                if "soft" in n or "soft" in s.summary.lower()}
    assert set(page.shown_names) == expected and {"softplus", "softmax"} <= expected
    page.search.setText("logarithm")
    assert "log" in page.shown_names and "sin" not in page.shown_names
    page.search.setText("no such thing")
    assert page.shown_names == [] and "No function matches" in page.browser.toPlainText()
    page.search.clear()
    assert len(page.shown_names) == len(FUNCTIONS)


def test_a_new_function_appears_without_editing_the_help(qtbot, window, monkeypatch):
    spec = FunctionSpec("frobnicate", 1, 2, frozenset({"dim"}), "a function added later")
    monkeypatch.setitem(functions.FUNCTIONS, "frobnicate", spec)
    page = help_pages.show_functions(window)
    page.filter("")
    assert "frobnicate" in page.shown_names
    assert "frobnicate(x, [y], dim=…)" in page.browser.toPlainText()


def test_getting_started_from_f1_and_from_the_node_panel(qtbot, window):
    assert window.getting_started_action.shortcuts()[0] == QKeySequence("F1")
    window.getting_started_action.trigger()
    guide = window.guide_window
    text = guide.browser.toPlainText()
    for words in ("What to type", "Backward node", "AccumulateGrad", "()", "grad",
                  "Colours", "Page Down"):
        assert words in text, words
    guide.close()
    assert not guide.isVisible()
    # the Node tab's introduction links to it
    window.details.show_details(None)
    assert "getting-started" in window.details.toHtml()
    window.details.anchorClicked.emit(QUrl("help:getting-started"))
    assert window.guide_window.isVisible()
