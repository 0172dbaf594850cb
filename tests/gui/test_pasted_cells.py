"""Issue 7 in the window: each of the seed notebook's five code cells, pasted as it is into
the editor, fills the variables table and gives the numbers the notebook printed (float32)
and Mathematica's references (float64)."""
from __future__ import annotations

import pytest

from core.language.parser import parse
from tests.gui.conftest import TIMEOUT
from tests.test_notebook import IN_2_IMPORTS, SEED_CELLS, flat


def paste_and_compute(qtbot, window, cell: str, dtype: str):
    window.auto_action.setChecked(False)
    if dtype is not None:
        window.dtype_box.blockSignals(True)
        window.dtype_box.setCurrentText(dtype)
        window.dtype_box.blockSignals(False)
    window.editor.set_text(cell)
    window.on_text_changed()
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.compute_now()
    return window.result


@pytest.mark.parametrize("label", sorted(SEED_CELLS))
def test_pasted_seed_cell_gives_the_notebooks_numbers(qtbot, window, label):
    cell, example, output = SEED_CELLS[label]
    result = paste_and_compute(qtbot, window, IN_2_IMPORTS + cell, "float32")
    # the table was filled from the cell's own definitions (w = torch.ones(1, ...), W = ...)
    defaults = parse(cell).defaults
    specs, errors = window.variables.specs()
    assert defaults and not errors
    for name, spec in defaults.items():
        assert name in window.variables.names()
        assert specs[name].value == spec.value and specs[name].requires_grad
    printed = example["torch_float32"]
    for name, expected in printed["gradients"].items():
        got = flat(result.quantity(name).grad)
        if isinstance(expected, list):
            assert got == pytest.approx(flat(expected), abs=5e-5, rel=0)
        else:
            assert got == [expected]  # .item() printed the exact float32 value
    assert result.quantities[0].name == output


@pytest.mark.parametrize("label", sorted(SEED_CELLS))
def test_pasted_seed_cell_matches_mathematica_in_float64(qtbot, window, label):
    cell, example, _ = SEED_CELLS[label]
    result = paste_and_compute(qtbot, window, cell, "float64")
    reference = example["reference"]
    digits = reference.get("digits")
    for name, expected in reference["gradients"].items():
        got = flat(result.quantity(name).grad)
        if digits:
            assert [float(f"{x:.{digits}g}") for x in got] == flat(expected)
        else:
            assert got == pytest.approx(flat(expected), rel=1e-13)


def test_a_pasted_float64_cell_sets_the_dtype_box_once(qtbot, window):
    window.dtype_box.setCurrentText("float32")
    cell = ("W = torch.tensor([[1, 0.5], [0.2, 0.1]], dtype=torch.float64, "
            "requires_grad=True)\nf = torch.norm(W)\nf.backward()\n")
    result = paste_and_compute(qtbot, window, cell, None)
    assert window.dtype_box.currentText() == "float64" and result.dtype == "float64"
    # the user switches back: further edits do not force float64 again
    window.dtype_box.blockSignals(True)
    window.dtype_box.setCurrentText("float32")
    window.dtype_box.blockSignals(False)
    window.editor.set_text(cell + "# a comment\n")
    window.on_text_changed()
    assert window.dtype_box.currentText() == "float32"
