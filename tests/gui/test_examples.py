"""Every built-in example loads in the window and computes to its independent reference
(Mathematica for the seed notebook, SymPy/by hand for the teaching examples)."""
from __future__ import annotations

import json
import math

import pytest

from gui.examples import load_examples
from tests.conftest import SEED_EXAMPLES
from tests.gui.conftest import TIMEOUT

EXAMPLES = load_examples()


def close(computed, reference, rel):
    if isinstance(reference, list):
        return len(computed) == len(reference) and all(
            close(c, r, rel) for c, r in zip(computed, reference, strict=True))
    return math.isclose(computed, reference, rel_tol=rel, abs_tol=1e-6)


def test_there_are_the_seed_four_and_at_least_eight_teaching_examples():
    seed = [e for e in EXAMPLES if e.group == "Seed notebook"]
    assert [e.expression for e in seed] == [e["expression"] for e in SEED_EXAMPLES]
    # the seed's Mathematica values are carried over unchanged
    for ours, theirs in zip(seed, SEED_EXAMPLES, strict=True):
        assert ours.reference["gradients"] == theirs["reference"]["gradients"]
    teaching = [e for e in EXAMPLES if e.group != "Seed notebook"]
    assert len(teaching) >= 8
    for example in EXAMPLES:
        assert example.title and example.explanation and example.reference.get("gradients")
        assert set(example.constants) <= set(example.vars)


# a vector output's example (its reference has a Jacobian) is refused by the window's main
# panels, which need a single number; tests/gui/test_views.py checks it in its own tab
SCALAR = [e for e in EXAMPLES if "jacobian" not in e.reference]


@pytest.mark.parametrize("example", SCALAR, ids=[e.title.split(":")[0] for e in SCALAR])
def test_example_loads_and_matches_its_reference(qtbot, window, example):
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.load_example(example)
    result = window.result
    reference = example.reference
    digits = reference.get("digits")
    rel = 0.5 * 10 ** (1 - digits) if digits else (2e-6 if example.dtype == "float32" else 1e-9)
    if "value" in reference:
        assert close(result.value, reference["value"], rel)
    for name, expected in reference["gradients"].items():
        assert close(result.quantity(name).grad, expected, rel), name
    # the window shows the reference beside the computed value, all ticked
    marks = window.results.reference_marks()
    assert len(marks) == len(reference["gradients"]) + ("value" in reference)
    assert all(mark.startswith("✓") for mark in marks)
    assert window.example_label.isVisibleTo(window) and example.title in window.example_label.text()
    assert window.graph.has_graph()


def test_reference_column_disappears_when_values_change(qtbot, window):
    example = next(e for e in EXAMPLES if e.title.startswith("Chain rule"))
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.load_example(example)
    with qtbot.waitSignal(window.computed, timeout=TIMEOUT):
        window.variables.set_value("w", "2.0")  # auto-recompute
    assert window.results.table.isColumnHidden(3)


def test_examples_file_is_plain_json_data():
    from importlib.resources import files

    data = json.loads((files("resources") / "examples.json").read_text(encoding="utf-8"))
    keys = {"title", "group", "explanation", "expression", "vars", "constants", "dtype",
            "reference"}
    optional = {"view", "headline"}  # the view an example opens on; the deck's headline
    assert all(set(e) - optional == keys for e in data["examples"])


def test_matrix_reference_column_fits_without_scrolling(qtbot, window):
    example = next(e for e in EXAMPLES if e.title.startswith("Matrices"))
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.load_example(example)
    table = window.results.table
    qtbot.waitUntil(lambda: table.viewport().width() > 300)
    assert table.horizontalScrollBar().maximum() == 0  # every column on screen
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "W")
    ref = table.item(row, 3)
    # all four entries shown, four digits each, rows aligned under the tick
    assert ref.text().startswith("✓ [[109.2") and ref.text().count("\n") == 1
    assert ref.text().split("\n")[1].startswith("   [")
    assert table.columnWidth(3) >= table.fontMetrics().horizontalAdvance("x") * 10
    # the full values are one hover (and one copy) away
    assert "109.231" in ref.toolTip() and "109.231" in window.results.text()
    assert "109.231" in table.item(row, 2).toolTip()
