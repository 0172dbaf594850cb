"""Runs the gradient check (core.check) for the window's Check panel, off the GUI thread.

A check costs 0.2-0.35 s on the seed's 2x2 example (and about 1.5 s more the first time,
for importing SymPy), so it is not part of every compute: it runs after a compute only while
the Check tab is on screen, and when the tab is brought up over a result not yet checked.
The window's compute and drawing are never slowed down for a panel nobody is looking at.

Each check evaluates the program again on its own (gui.compute.check): the window's
evaluation may be read by the drawing or a step export at the same time, and the check runs
backward passes with hooks, so they must not share tensors. The first-NaN node of the
check's evaluation is mapped back to the drawn graph through the forward record index.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal

from gui.workers import LatestOnly


class CheckRunner(QObject):
    """Keeps the Check panel in step with the window's latest result."""

    checked = Signal(object)  # the core.check.CheckReport now shown
    failed = Signal(object)   # the error of a check that could not run

    def __init__(self, window, panel):
        super().__init__(window)
        self.window = window
        self.panel = panel
        self.jobs = LatestOnly(self, window.pool)
        self.jobs.returned.connect(self._on_checked)
        self.jobs.errored.connect(self._on_failed)
        self.showing = False
        self.result = None        # the ComputeResult to check
        self.reference = None     # its example's reference values, if unchanged
        self.checked_result = None  # the ComputeResult the panel's report belongs to
        panel.highlightRequested.connect(self._highlight)

    def set_result(self, result, reference: dict | None) -> None:
        """A new result was computed: check it now if the panel is on screen."""
        self.result, self.reference = result, reference
        if self.showing:
            self.run()
        else:
            self.jobs.cancel()
            self.panel.clear()
            self.panel.summary.setText("Gradients not checked yet for this result: they "
                                       "are checked when this tab is shown.")

    def set_showing(self, showing: bool) -> None:
        """The Check tab came on (or went off) screen: check a result not yet checked."""
        self.showing = showing
        dock = self.window.check_dock
        widths = getattr(self.window, "dock_widths", None)
        if showing and widths is not None and widths.width_of(dock) is None:
            # nine columns of numbers: the first time the tab shows, give it room; the
            # width is this tab's own (gui.dock_widths), the other tabs keep theirs
            wanted = min(520, int(self.window.width() * 0.3))
            if dock.width() < wanted:
                self.window.resizeDocks([dock], [wanted], Qt.Orientation.Horizontal)
        if showing and self.result is not None and self.checked_result is not self.result \
                and not self.jobs.busy:
            self.run()

    def run(self) -> None:
        """Check the current result on a worker (the panel says so meanwhile)."""
        result = self.result
        if result is None:
            return
        precomputed = getattr(result, "check_outcome", None)
        if precomputed is not None:  # explore(): checked before the window opened
            self._on_checked((result, precomputed))
            return
        from gui.compute import check

        evaluation = result.evaluation
        self.panel.summary.setText("Checking the gradients (finite differences, SymPy"
                                   + (", reference values" if self.reference else "")
                                   + ")…")
        v = getattr(evaluation, "grad_output", None)
        self.jobs.submit(self._job, check, evaluation.program, dict(evaluation.specs),
                         result.dtype, self.reference, result,
                         None if v is None else v.detach().clone(), pass_cancel=True)

    @staticmethod
    def _job(check, program, specs, dtype, reference, result, grad_output=None,
             cancel_event=None):
        return result, check(program, specs, dtype, reference, cancel_event=cancel_event,
                             grad_output=None if grad_output is None else grad_output.tolist())

    def cancel(self) -> None:
        """Drop the running check's outcome."""
        self.jobs.cancel()

    def forget(self) -> None:
        """The expression no longer computes: nothing to check, empty the panel."""
        self.jobs.cancel()
        self.result = self.checked_result = None
        self.panel.clear()

    def _on_checked(self, payload) -> None:
        result, outcome = payload
        if result is not self.result:
            return  # a newer compute arrived while this was checking
        self.checked_result = result
        self.outcome = outcome
        self.panel.set_report(outcome.report)
        self.checked.emit(outcome.report)

    def _on_failed(self, error) -> None:
        self.panel.clear()
        message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
        self.panel.summary.setText(f"The check could not run: {message}")
        self.failed.emit(error)

    def origin_node(self) -> str | None:
        """The drawn graph's node id where NaN/infinity started, if the check found one."""
        outcome = getattr(self, "outcome", None)
        if outcome is None or outcome.origin_record is None or self.checked_result is None:
            return None
        ids = self.checked_result.record_node_ids
        return ids[outcome.origin_record] if outcome.origin_record < len(ids) else None

    def _highlight(self, _check_node_id: str) -> None:
        """The panel's "Show in graph": the id it sends belongs to the check's own
        evaluation, so box the drawn graph's node made by the same forward record."""
        node = self.origin_node()
        if node is None:
            self.window.statusBar().showMessage(
                "That operation is not a node of the drawn graph", 5000)
            return
        self.window.graph.highlight_node(node)
