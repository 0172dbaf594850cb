"""What every view of issue 15 shares: it computes its own view of the window's current
program on a worker thread, only while its tab is on screen, and shows errors as one line.

Each view evaluates the program afresh (never the window's evaluation, which the drawing
may be reading at the same time); its job returns plain data (numbers and text) so the
GUI thread only displays.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.workers import LatestOnly


@dataclass(frozen=True)
class ViewInput:
    """The program text, its variables (name -> VariableSpec) and the dtype; or, for a
    graph from the user's own code (autograd_explorer), ``model``: its evaluation
    (core.evaluation.model_evaluation.ModelEvaluation, compared by identity) and ``trace``,
    its recorded steps."""

    text: str
    specs: dict = field(default_factory=dict, hash=False, compare=True)
    dtype: str = "float32"
    model: object = field(default=None, hash=False, compare=True)
    trace: object = field(default=None, hash=False, compare=False)


class ComputedView(QWidget):
    """A tab that runs :meth:`job` on the current :class:`ViewInput` when it is showing and
    the input changed, and hands the outcome to :meth:`show_result`."""

    shown = Signal(object)   # the plain data now on screen
    failed = Signal(object)  # the error now on screen

    title = "View"

    def __init__(self, pool=None, parent=None):
        super().__init__(parent)
        self.jobs = LatestOnly(self, pool)
        self.jobs.returned.connect(self._on_returned)
        self.jobs.errored.connect(self._on_errored)
        self.source: ViewInput | None = None
        self.shown_source: ViewInput | None = None
        self.showing = False
        self.data = None
        self.status = QLabel("Compute an expression to see this view.")
        self.status.setObjectName("viewStatus")
        self.status.setWordWrap(True)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(8, 8, 8, 8)
        self.layout_.addWidget(self.status)

    # the window's side ---------------------------------------------------------------

    def set_source(self, source: ViewInput | None) -> None:
        """The window's program or values changed: recompute now if on screen."""
        if source == self.source:
            return
        self.source = source
        if self.showing:
            self.refresh()
        else:
            self.jobs.cancel()

    def set_showing(self, showing: bool) -> None:
        """The tab came on (or went off) screen."""
        self.showing = showing
        if showing and self.source is not None and self.shown_source != self.source:
            self.refresh()

    def refresh(self) -> None:
        """Run the job on the current input."""
        if self.source is None:
            return
        self.status.setText("Computing…")
        self.jobs.submit(self._run, self.job, self.source, self.job_options())

    @staticmethod
    def _run(job, source, options):
        return source, job(source, **options)

    # for subclasses ---------------------------------------------------------------------

    def job_options(self) -> dict:
        """Extra keyword arguments for :meth:`job` read from the view's own controls (on
        the GUI thread, before the job starts)."""
        return {}

    @staticmethod
    def job(source: ViewInput, **options):
        """Compute the view's plain data (runs on a worker)."""
        raise NotImplementedError

    def show_result(self, data) -> None:
        """Display ``data`` (GUI thread)."""
        raise NotImplementedError

    def clear_result(self) -> None:
        """Empty the view's widgets (an error is shown instead)."""

    # plumbing --------------------------------------------------------------------------

    def _on_returned(self, payload) -> None:
        source, data = payload
        self.shown_source = source
        self.data = data
        self.show_result(data)
        self.shown.emit(data)

    def _on_errored(self, error) -> None:
        self.shown_source = self.source
        self.data = None
        self.clear_result()
        message = str(error) if hasattr(error, "kind") else \
            f"internal error: {type(error).__name__}: {error}"
        self.status.setText(message)
        self.failed.emit(error)


def evaluation_of(source: ViewInput, allow_vector_output: bool = False):
    """The evaluation a view works on (on a worker): the explored model's own (its graph
    already differentiated: never run ``backward`` into it, which would add to the user's
    ``.grad``), else a fresh parse and forward pass of the typed text."""
    if source.model is not None:
        return source.model
    return parse_and_forward(source, allow_vector_output)


def parse_and_forward(source: ViewInput, allow_vector_output: bool = False):
    """Parse and build the graph of ``source`` (on a worker): an Evaluation."""
    from core.evaluation.evaluate import forward
    from core.language.parser import parse

    return forward(parse(source.text), source.specs, source.dtype,
                   allow_vector_output=allow_vector_output)
