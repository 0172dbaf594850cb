"""Issue 11, "the window stays responsive": the Check tab on a 40,000- and a 200,000-entry
input. Finite differences check a seeded random sample (stated in the tab), the symbolic
side is skipped as too large (stated in the tab), and the GUI thread never stalls more than
100 ms (the heartbeat of tests/gui/test_window_responsive.py) from the tab coming up to the
report on screen."""
from __future__ import annotations

import math

import pytest

from core.check import MAX_ENTRIES
from tests.gui.conftest import TIMEOUT, compute_and_draw
from tests.gui.test_window_responsive import STALL_MS, Heartbeat


@pytest.mark.parametrize("rows,cols", [(200, 200), (400, 500)], ids=["40000", "200000"])
def test_check_tab_on_a_large_input_stays_responsive(rows, cols, qtbot, window):
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    compute_and_draw(qtbot, window, "f = sum(sin(W) * W)", {"W": f"full(({rows}, {cols}), 0.5)"})
    panel = window.check_panel
    with Heartbeat() as beat:
        with qtbot.waitSignal(window.checker.checked, timeout=TIMEOUT * 4) as blocker:
            window.check_dock.raise_()
        qtbot.waitUntil(lambda: not panel.filling(), timeout=TIMEOUT)  # a chunk per pass
        qtbot.wait(300)  # the table and the texts painted
    assert beat.longest < STALL_MS, f"the GUI thread stalled {beat.longest:.0f} ms"
    report = blocker.args[0]
    # a stated sample of the entries, never all of them
    assert panel.table.rowCount() == len(report.rows) == MAX_ENTRIES
    text = panel.explanation.toPlainText()
    assert f"{rows * cols:,} entries" in text and f"random sample of {MAX_ENTRIES:,}" in text
    assert "symbolic: skipped (too large)" in text
    # every entry finite differences reached agrees with d/dW (sin(W) W) = cos(W) W + sin(W)
    expected = math.cos(0.5) * 0.5 + math.sin(0.5)
    checked = [row for row in report.rows if row.verdict == "agree"]
    assert checked, "finite differences reached no entry"
    for row in checked:
        assert row.autograd == pytest.approx(expected, rel=1e-5)
        assert row.comparisons[0].value == pytest.approx(expected, rel=1e-5)
    assert all(row.verdict in ("agree", "not checked") for row in report.rows)
