"""The lesson flow: gradients revealed as the Steps go (not given away before the first
step), the Check tab's verdict first and its formula as mathematics, and Show Saved Tensors
in the window."""
from __future__ import annotations

import re

import pytest

from tests.gui.conftest import TIMEOUT, compute_and_draw, show_steps_tab

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"
VALUES = {"w": 1.0, "z": 1.0}


def node_gradients(svg: bytes) -> list[str]:
    """The 'grad ...' lines written on the nodes of Graphviz's SVG."""
    return re.findall(r">grad [^<]*<", svg.decode())


def test_gradients_are_revealed_as_the_steps_go(qtbot, window):
    compute_and_draw(qtbot, window, CHAIN, VALUES)
    assert window.graph_bar.reveal.isChecked() and window.graph_bar.reveal.isVisibleTo(window)
    # the Node tab: every node carries its gradient (109.432 is the seed's dF/dw)
    assert any("109.432" in g for g in node_gradients(window.drawing.svg))
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        show_steps_tab(qtbot, window, CHAIN, VALUES)
    qtbot.waitUntil(lambda: window.drawing.options["annotate"] == "values", timeout=TIMEOUT)
    assert node_gradients(window.drawing.svg) == []  # nothing given away at step 1
    assert "value 40.2052" in window.drawing.svg.decode()  # the values stay
    panel = window.step_panel
    first = dict(window.graph.edge_labels())
    panel.last()
    shown = window.graph.edge_labels()
    assert len(shown) > len(first)  # the gradients arrive on the edges, step by step
    # the gradient flowing into w's AccumulateGrad along its two paths: 6 and 103.432
    assert any("103.4" in text for text in shown.values())
    # switching the choice off puts the gradients back on the nodes
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.graph_bar.reveal.setChecked(False)
    assert any("109.432" in g for g in node_gradients(window.drawing.svg))
    assert window.settings.value("view/revealGradients") in (False, "false")
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.graph_bar.reveal.setChecked(True)
    # leaving the Steps tab shows the finished graph again
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.details_dock.raise_()
    assert any("109.432" in g for g in node_gradients(window.drawing.svg))


def test_an_export_while_revealing_keeps_the_gradients(qtbot, window, tmp_path):
    show_steps_tab(qtbot, window, CHAIN, VALUES)
    qtbot.waitUntil(lambda: window.drawing.options["annotate"] == "values", timeout=TIMEOUT)
    from gui import files

    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        files.export_graph(window, str(tmp_path / "g.svg"), "svg")
    assert "109.432" in (tmp_path / "g.svg").read_text()


def test_check_tab_puts_the_verdict_first_and_shows_mathematics(qtbot, window):
    window.resize(1024, 700)
    window.show()
    compute_and_draw(qtbot, window, "f = w**3 * sin(z)", {"w": 2.0, "z": 0.5})
    with qtbot.waitSignal(window.checker.checked, timeout=TIMEOUT):
        window.check_dock.raise_()
    panel = window.check_panel
    assert panel.table.horizontalHeaderItem(0).text() == "verdict"
    assert panel.verdicts() == ["agree", "agree"]
    # scrolled right on one report, the next one starts with the verdict in sight
    panel.table.horizontalScrollBar().setValue(panel.table.horizontalScrollBar().maximum())
    panel.set_report(panel.report)
    assert panel.table.horizontalScrollBar().value() == 0
    panel.table.selectRow(0)  # dF/dw = 3 w^2 sin z
    page = panel.formula.toHtml()
    assert "vertical-align:super" in page  # w² as a superscript
    text = panel.formula.toPlainText()
    lines = [line for line in text.splitlines() if "∂f/∂w =" in line]
    assert len(lines) == 1 and "3⋅w2⋅sin(z)" in lines[0].replace(" ", "")
    assert text.index("agree") < text.index("∂f/∂w =")  # the verdict before the formula
    assert "**" not in text and "─" not in text  # no code, no ASCII-art fraction bars


@pytest.mark.parametrize("rankdir", [False, True])
def test_show_saved_tensors_in_the_window(qtbot, window, rankdir):
    compute_and_draw(qtbot, window, CHAIN, VALUES)
    before = set(window.drawing.node_ids)
    if rankdir:
        with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
            window.lr_action.setChecked(True)
        before = set(window.drawing.node_ids)
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.saved_action.setChecked(True)
    after = set(window.drawing.node_ids)
    assert before < after  # the saved tensors are added, nothing disappears
    added = after - before
    kinds = {window.drawing.details.get(name.split("_copy")[0], {}).get("kind")
             for name in added}
    assert kinds <= {"saved", "leaf"}  # saved tensors, and copies of inputs that were saved
