"""The Check panel shows a computed report: rows, verdicts, formula, explanation, and the
NaN origin it asks the window to highlight."""
from __future__ import annotations

import json

import pytest

from core.check import check_gradients
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from gui.check_panel import COLUMNS, CheckPanel

pytestmark = pytest.mark.gui

SEED = json.loads(open("tests/data/seed_examples.json").read())["examples"]


def report_for(text, variables, dtype="float32", reference=None):
    return check_gradients(evaluate(parse(text), variables, dtype), reference)


@pytest.fixture
def panel(qtbot):
    widget = CheckPanel()
    qtbot.addWidget(widget)
    return widget


def cell(panel, row, column_name):
    """A cell's text as Python reads numbers (the panel shows the minus sign U+2212)."""
    return panel.table.item(row, COLUMNS.index(column_name)).text().replace("\u2212", "-")


def test_matrix_seed_fills_one_row_per_entry(panel):
    ex = SEED[3]
    panel.set_report(report_for(ex["expression"], ex["vars"], reference=ex["reference"]))
    assert panel.table.rowCount() == 8
    assert panel.verdicts() == ["agree"] * 8
    assert cell(panel, 0, "entry") == "W[0,0]"
    assert cell(panel, 0, "reference") == "109.231"
    assert float(cell(panel, 5, "symbolic")) == pytest.approx(-0.557820562853923, rel=1e-9)
    assert "agree" in panel.summary.text()
    assert not panel.origin_box.isVisibleTo(panel)


def test_float32_explanation_quotes_the_seed(panel):
    ex = SEED[1]
    panel.set_report(report_for(ex["expression"], ex["vars"], reference=ex["reference"]))
    text = panel.explanation.toPlainText()
    assert "\u22121.3072872161865234" in text and "\u22121.3072872417272239" in text
    panel.table.selectRow(1)
    assert "2⋅cos(2⋅z)" in panel.formula.toPlainText()
    assert cell(panel, 1, "autograd") == "-1.307287216"
    # on screen the one minus sign of the graph and the steps
    assert panel.table.item(1, COLUMNS.index("autograd")).text() == "\u22121.307287216"


def test_disagreement_and_kink_are_shown(panel):
    report = report_for("f = relu(x) + y**2", {"x": 0.0, "y": 3.0}, "float64",
                        reference={"y": 5.0})
    panel.set_report(report)
    assert panel.verdicts() == ["non-smooth", "disagree"]
    assert "kink of relu" in panel.table.item(0, 0).toolTip()
    assert "reference" in panel.table.item(1, 0).toolTip()


def test_nan_origin_is_named_and_highlight_requested(panel, qtbot):
    evaluation = evaluate(parse("g = x - 2\nf = log(g) * x"), {"x": 1.0}, "float64")
    report = check_gradients(evaluation)
    panel.set_report(report)
    assert panel.origin_box.isVisibleTo(panel)
    assert "log(g)" in panel.nonfinite.text()
    record = next(r for r in evaluation.records if r.node.text == "log(g)")
    with qtbot.waitSignal(panel.highlightRequested) as signal:
        panel.show_origin.click()
    assert signal.args == [str(id(record.tensor.grad_fn))]
    assert panel.verdicts() == ["not checked"]


def test_clear(panel):
    panel.set_report(report_for("f = x**2", {"x": 2.0}))
    panel.clear()
    assert panel.table.rowCount() == 0 and panel.report is None
    assert not panel.origin_box.isVisibleTo(panel)
