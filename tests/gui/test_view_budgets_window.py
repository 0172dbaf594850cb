"""The Views dock prices its views like the CLI (issue 11): with the limit on backward work
set just above the program's own backward pass (so Compute works), each tab that would do
many passes says so in the tab, naming the limit, instead of doing the work."""
from __future__ import annotations

import pytest

from core import limits
from core.evaluation.evaluate import forward
from core.language.parser import parse
from tests.gui.conftest import TIMEOUT, compute_and_draw

pytestmark = pytest.mark.gui

TEXT = "a = ones(4, 4) * w\nb = a @ a\nc = b @ b\nf = sum(c @ c) + sum(W @ W)"
VALUES = {"w": 0.5, "W": "[[1, 2], [3, 4]]"}


@pytest.fixture
def tight(qtbot, window, monkeypatch):
    """The program computed and drawn, then the limit lowered to 2.5 backward passes (the
    Train tab's set-up runs two: its .grad table)."""
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    compute_and_draw(qtbot, window, TEXT, VALUES)
    ev = forward(parse(TEXT), {"w": 0.5, "W": [[1.0, 2.0], [3.0, 4.0]]})
    monkeypatch.setattr(limits, "MAX_BACKWARD_WORK", ev.backward_work * 5 // 2)
    return window


def _open(qtbot, window, key):
    """Show the tab and wait for its result or its error."""
    view = window.views_panel.view(key)
    done = []
    view.shown.connect(lambda *_: done.append("shown"))
    view.failed.connect(lambda *_: done.append("failed"))
    window.views_panel.show_view(key)
    qtbot.waitUntil(lambda: bool(done), timeout=TIMEOUT)
    return view


def test_modes_tab_refuses_its_forward_passes(qtbot, tight):
    view = _open(qtbot, tight, "modes")
    assert "the limit on backward work" in view.status.text()
    assert "forward mode" in view.status.text()


def test_hessian_tab_refuses_double_backward(qtbot, tight):
    view = _open(qtbot, tight, "hessian")
    assert "second derivatives" in view.status.text()
    assert "the limit on backward work" in view.status.text()


def test_paths_tab_shows_factored_sums_instead_of_listing(qtbot, tight):
    view = _open(qtbot, tight, "paths")
    view.leaf_box.setCurrentText("w")
    assert "too many to list" in view.summary.text()
    assert "the limit on backward work" in view.summary.text()


def test_train_tab_run_is_refused_before_the_first_step(qtbot, tight):
    view = _open(qtbot, tight, "train")
    assert view.setup_data is not None, view.status.text()
    with qtbot.waitSignal(view.failed, timeout=TIMEOUT):
        view.run_steps(50)
    assert "the limit on backward work" in view.status.text()
    assert view.setup_data.trainer.report.loss == []  # refused before any step
    with qtbot.waitSignal(view.step_jobs.returned, timeout=TIMEOUT):
        view.run_steps(1)  # the trainer is kept: a Run that fits goes on
    assert len(view.setup_data.trainer.report.loss) == 1
