"""Issue 5's forward walk in the Steps panel: each input, then each value in the order it
was computed, highlighted on the graph node that holds it."""
from __future__ import annotations

import math

import pytest

from tests.gui.conftest import compute_and_draw, show_steps_tab

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def test_forward_walk_lists_values_in_computation_order(qtbot, window):
    compute_and_draw(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    panel = window.step_panel
    panel.set_forward_mode(True)
    entries = [panel.list.item(i).text() for i in range(panel.list.count())]
    g1 = 3 + math.cos(1)
    g2 = 1 + math.sin(2)
    # inputs first, then Python's evaluation order of the program, with values by hand
    expected = [("w", 1.0), ("z", 1.0), ("3*w", 3.0), ("cos(z)", math.cos(1)),
                ("g1 = 3*w + cos(z)", g1), ("w**2", 1.0), ("2*z", 2.0),
                ("sin(2*z)", math.sin(2)), ("g2 = w**2 + sin(2*z)", g2),
                ("exp(g1)", math.exp(g1)), ("3*g2", 3 * g2),
                ("f = exp(g1) + 3*g2", math.exp(g1) + 3 * g2)]
    assert len(entries) == len(expected)
    for entry, (what, value) in zip(entries, expected, strict=True):
        label, _, shown = entry.partition(". ")[2].rpartition(" = ")
        assert label == what
        assert float(shown) == pytest.approx(value, rel=1e-5)
    assert panel.position.text() == f"value 1 of {len(expected)}"


def test_forward_step_highlights_the_node_holding_the_value(qtbot, window):
    show_steps_tab(qtbot, window, CHAIN, {"w": 1.0, "z": 1.0})
    panel = window.step_panel
    panel.set_forward_mode(True)
    with qtbot.waitSignal(panel.stepChanged) as blocker:
        panel.set_step(4)  # g1 = 3*w + cos(z)
    index, highlight = blocker.args
    assert index == 4
    (current,) = highlight.current
    assert window.drawing.details[current]["expression"] == "3*w + cos(z)"
    assert window.graph.highlighted()[current] == "current"
    # the earlier values (both inputs, 3*w, cos(z)) are done; nothing carries a gradient yet
    assert len(highlight.done) == 4 and highlight.edge_labels == {}
    # back to the backward pass: its first step again
    panel.set_forward_mode(False)
    assert panel.current_index() == 0 and panel.position.text().startswith("step 1 of")
