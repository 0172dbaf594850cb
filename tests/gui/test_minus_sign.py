"""One minus sign on screen (U+2212, as the graph and the step text write it), and copied
results that Python reads back (ASCII "-")."""
from __future__ import annotations

import pytest
import torch
from PySide6.QtWidgets import QApplication

from gui.results_panel import FULL_TEXT
from tests.gui.conftest import compute_and_draw

MINUS = "\u2212"


def test_results_show_the_minus_sign_and_copy_plain_numbers(qtbot, window):
    compute_and_draw(qtbot, window, "f = sum(sin(w) * z)", {"w": 2.5, "z": "[-1.5, 2]"})
    table = window.results.table
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    shown = [table.item(r, c).text() for r in range(table.rowCount()) for c in (1, 2)]
    # every negative number on screen carries the minus sign, none the hyphen
    assert any(MINUS in text for text in shown)
    assert not any("-" in text.replace("e-", "") for text in shown), shown
    assert table.item(rows["z"], 1).text().startswith(f"[{MINUS}1.5")
    # Copy Results: tab-separated text whose numbers Python reads as they are, torch's
    window.copy_results()
    copied = QApplication.clipboard().text()
    assert MINUS not in copied and "-1.5" in copied
    w = torch.tensor(2.5, requires_grad=True)
    z = torch.tensor([-1.5, 2.0], requires_grad=True)
    (torch.sin(w) * z).sum().backward()
    assert float(table.item(rows["w"], 2).data(FULL_TEXT)) == pytest.approx(w.grad.item(),
                                                                           rel=1e-5)
    assert w.grad.item() < 0  # so the copied gradient above was a negative number


def test_node_panel_and_graph_use_the_same_minus(qtbot, window):
    compute_and_draw(qtbot, window, "f = w * z", {"w": 2.0, "z": -3.0})
    drawing = window.drawing
    leaf = next(d for d in drawing.details.values() if d.get("name") == "w")
    window.details.show_details(leaf)
    text = window.details.toPlainText()
    assert f"{MINUS}3" in text  # its gradient, z = -3
    assert f"{MINUS}3" in drawing.svg.decode() if isinstance(drawing.svg, bytes) \
        else f"{MINUS}3" in drawing.svg


@pytest.mark.parametrize("text, shown", [
    ("-31.5086", f"{MINUS}31.5086"),
    ("[[-1, 0.5], [2, -3e-05]]", f"[[{MINUS}1, 0.5], [2, {MINUS}3e-05]]"),
    ("1e-05", "1e-05"), ("-inf", f"{MINUS}inf"), ("finite-difference", "finite-difference"),
    ("x - 1", "x - 1")])
def test_only_the_minus_of_a_negative_number_changes(text, shown):
    from core.serialize import shown_minus

    assert shown_minus(text) == shown
    assert shown_minus(text).replace(MINUS, "-") == text


def test_the_help_says_which_minus_is_shown_and_which_is_copied(qtbot, window):
    window.getting_started_action.trigger()
    text = window.guide_window.browser.toPlainText()
    window.guide_window.close()
    assert f"{MINUS}31.5086" in text and 'float("-31.5086")' in text
    assert "Copy Results" in text
