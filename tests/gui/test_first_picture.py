"""A large typed program shows its (folded) graph first; the steps of its backward pass are
recorded and written out on a worker afterwards, and the Steps panel says so meanwhile.

The order is asserted, never a time (benchmarks/bench_first_picture.py measures the time)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.gui.conftest import TIMEOUT, wait_for_steps

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_graph import chain_text  # noqa: E402

pytestmark = pytest.mark.gui


def _engine_node_count(output) -> int:
    """How many backward nodes torch's engine runs for ``output`` (each runs once): the
    nodes reachable through next_functions, counted with torch alone."""
    seen, stack = set(), [output.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return len(seen)


def test_the_folded_graph_is_drawn_before_the_steps_are_written(qtbot, window, monkeypatch):
    import core.teaching.trace as trace_module
    from gui import step_view

    events = []
    record_steps = trace_module.record_steps
    from_trace = step_view.StepView.from_trace.__func__

    def recording(evaluation, *args, **kwargs):
        events.append("steps recorded")
        return record_steps(evaluation, *args, **kwargs)

    def writing(cls, trace, evaluation=None):
        events.append("step text written")
        return from_trace(cls, trace, evaluation)

    monkeypatch.setattr(trace_module, "record_steps", recording)
    monkeypatch.setattr(step_view.StepView, "from_trace", classmethod(writing))
    panel_when_drawn = []
    window.drawn.connect(lambda: (events.append("drawn"),
                                  panel_when_drawn.append(window.step_panel.waiting_text())))
    window.steps_dock.raise_()
    window.auto_action.setChecked(False)
    window.editor.set_text(chain_text(200))  # 303 nodes: opens folded
    window.on_text_changed()
    window.variables.set_value("x", "0.5")
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.compute_now()
    assert window.drawing.folding is not None
    wait_for_steps(qtbot, window)
    assert events == ["drawn", "steps recorded", "step text written"]
    assert panel_when_drawn[0].startswith("Preparing the steps")
    # once ready, the panel holds every step the engine runs, and a step lights a drawn box
    output = window.result.evaluation.output
    assert window.step_panel.step_count() == _engine_node_count(output) == 301
    window.step_panel.last()
    shown = window.drawing.map_highlight(window.step_highlight)
    assert shown.current and shown.current <= set(window.drawing.node_ids)


def test_steps_of_an_older_compute_never_replace_the_newer(qtbot, window):
    """A second compute while the first one's steps are being written: the panel ends with
    the steps of the text on screen."""
    window.auto_action.setChecked(False)
    window.editor.set_text(chain_text(200))
    window.on_text_changed()
    window.variables.set_value("x", "0.5")
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.compute_now()
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.editor.set_text("f = sin(x) * x")
        window.on_text_changed()
        window.compute_now()
    wait_for_steps(qtbot, window)
    qtbot.wait(200)  # a late outcome of the first steps job would arrive by now
    assert window.step_panel.step_count() == _engine_node_count(window.result.evaluation.output)
    assert window.step_panel.step_count() == 3  # MulBackward0, SinBackward0, AccumulateGrad
