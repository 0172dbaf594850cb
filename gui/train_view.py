"""The Train tab: what the gradient is for. Step / Run N perform w ← w − η ∂L/∂w with
torch.optim.SGD on the inputs that need a gradient; the loss curve and each parameter's
trajectory are plotted with pyqtgraph (made for Qt: a redraw is a setData, see
benchmarks/bench_train_plot.py); for one scalar parameter, f along it with the tangent
line whose slope is the gradient, which can be dragged.

Below, the PyTorch semantics students trip over, run for real: "Backward again" without
zero_grad() doubles .grad (retain_graph=True), and without retain_graph torch's own error
appears, explained; and leaf versus non-leaf .grad.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from gui.view_base import ComputedView, ViewInput
from gui.workers import LatestOnly

#: curves drawn in the parameter plot (one per scalar entry)
MAX_CURVES = 8
#: every TrainView whose plots were built. pyqtgraph's items and scenes refer to each other
#: in cycles; collected by Python's garbage collector after Qt has deleted the widgets,
#: they crashed the process (pyqtgraph issues 55 and 1628). Kept here, their wrappers are
#: never collected; Qt still deletes the widgets with the window. One per window opened.
_PLOTTED: list = []
#: the loss curve marks each step with a dot up to this many steps
SYMBOLS_UP_TO = 100


@dataclass
class TrainState:
    """Plain data for the plots: losses, each plotted parameter entry's values (start
    first), the text of the latest values, and a note."""

    output: str
    loss: list = field(default_factory=list)
    curves: dict = field(default_factory=dict)
    latest: str = ""
    note: str = ""


@dataclass
class TrainSetup:
    """What the tab computes when the program changes: a fresh trainer, the leaf/non-leaf
    table, and (one scalar parameter) the curve of f along it."""

    trainer: object
    state: TrainState
    grads: list = field(default_factory=list)   # (name, leaf?, torch .grad text, gradient)
    scalar: str | None = None
    curve: tuple | None = None                  # (xs, ys)
    tangent: tuple | None = None                # (x, f, slope)


def _state(trainer) -> TrainState:
    """The trainer's history as plain lists (worker thread)."""
    from core.serialize import format_tensor
    report = trainer.report
    state = TrainState(report.output_name, list(report.loss), note=report.note)
    for name in trainer.names:
        values = [report.start[name]] + report.params[name]
        entries = values[0].numel()
        for k in range(min(entries, MAX_CURVES - len(state.curves))):
            label = name if entries == 1 else f"{name}[{k}]"
            state.curves[label] = [float(v.reshape(-1)[k]) for v in values]
        latest = values[-1]
        state.latest += f"{name} = {format_tensor(latest, 5, 16)}  ".replace("\n", "")
    return state


def setup(source: ViewInput, lr: float, momentum: float) -> TrainSetup:
    """A trainer for ``source`` and the semantics table (worker thread)."""
    from core.evaluation.grad_semantics import leaf_and_non_leaf
    from core.language.parser import parse
    from core.serialize import format_tensor
    from core.views.train import Trainer, function_along, tangent_at

    if source.model is not None:
        from core.errors import ExpressionError
        from core.views.model_views import TRAIN_REASON

        raise ExpressionError("view", TRAIN_REASON)
    program = parse(source.text)
    trainer = Trainer(program, source.specs, source.dtype, lr=lr, momentum=momentum)
    result = TrainSetup(trainer, _state(trainer))
    for attr in leaf_and_non_leaf(program, source.specs, source.dtype):
        result.grads.append((attr.name, attr.is_leaf,
                             "None" if attr.torch_grad is None else
                             format_tensor(attr.torch_grad, 5, 16).replace("\n", ""),
                             "" if attr.gradient is None else
                             format_tensor(attr.gradient, 5, 16).replace("\n", "")))
    if len(trainer.names) == 1 and trainer.tensors[trainer.names[0]].numel() == 1:
        name = trainer.names[0]
        x0 = float(trainer.tensors[name].detach().reshape(-1)[0])
        half = max(1.0, abs(x0))
        result.scalar = name
        result.curve = function_along(program, source.specs, source.dtype, name,
                                      x0 - 2 * half, x0 + 2 * half)
        result.tangent = (x0, *tangent_at(program, source.specs, source.dtype, name, x0))
    return result


def run_steps(trainer, n: int) -> TrainState:
    """``n`` SGD steps on the tab's trainer (worker thread); stops when the loss diverges.
    Refused before the first step when the steps would pass the work or storage limits."""
    import time

    from core.views.train import MAX_SECONDS

    trainer.check_steps(n, where="Run")
    deadline = time.monotonic() + MAX_SECONDS
    for k in range(n):
        loss = trainer.step()
        if not math.isfinite(loss):
            trainer.report.note = (f"the loss became {loss}: the learning rate is too large "
                                   "for this loss; Reset and choose a smaller one")
            break
        if time.monotonic() > deadline:
            trainer.report.note = (f"stopped after {k + 1} of {n} steps: the time limit is "
                                   f"{MAX_SECONDS:g} s")
            break
    return _state(trainer)


def _curve_and_tangent(source: ViewInput, name: str, lo: float, hi: float, x: float):
    """f from ``lo`` to ``hi`` (widened around them) and the tangent at ``x`` (worker)."""
    from core.language.parser import parse
    from core.views.train import function_along, tangent_at

    program = parse(source.text)
    pad = max(1.0, (hi - lo) * 0.5, abs(x) * 0.5)
    curve = function_along(program, source.specs, source.dtype, name, lo - pad, hi + pad)
    return curve, (x, *tangent_at(program, source.specs, source.dtype, name, x))


def backward_twice(source: ViewInput, retain_graph: bool):
    """Run backward() twice without zero_grad (worker thread); plain text back."""
    from core.evaluation.grad_semantics import backward_again
    from core.language.parser import parse
    from core.serialize import format_tensor

    result = backward_again(parse(source.text), source.specs, source.dtype,
                            retain_graph=retain_graph)

    def fmt(grads):
        return ", ".join(f"{n}.grad = {format_tensor(g, 5, 16)}".replace("\n", "")
                         for n, g in grads.items())
    return fmt(result.first), fmt(result.second), result.error, result.explanation


class TrainView(ComputedView):
    """Controls, the two plots, the tangent plot, and the .grad semantics."""

    title = "Train"

    def __init__(self, pool=None, parent=None):
        super().__init__(pool, parent)
        self.pg = None  # pyqtgraph, imported when the tab is first shown
        self.setup_data: TrainSetup | None = None
        self.step_jobs = LatestOnly(self, pool)
        self.step_jobs.returned.connect(self._stepped)
        self.step_jobs.errored.connect(self._step_failed)
        self.step_jobs.busyChanged.connect(self._busy)
        self.again_jobs = LatestOnly(self, pool)
        self.again_jobs.returned.connect(self._show_again)
        self.again_jobs.errored.connect(self._on_errored)
        self.tangent_jobs = LatestOnly(self, pool)
        self.tangent_jobs.returned.connect(self._show_tangent)
        self.curve_jobs = LatestOnly(self, pool)
        self.curve_jobs.returned.connect(self._show_curve)

        self.lr = QDoubleSpinBox()
        self.lr.setObjectName("trainLr")
        self.lr.setDecimals(4)
        self.lr.setRange(0.0001, 100.0)
        self.lr.setSingleStep(0.01)
        self.lr.setValue(0.1)
        self.momentum = QDoubleSpinBox()
        self.momentum.setDecimals(2)
        self.momentum.setRange(0.0, 0.99)
        self.momentum.setSingleStep(0.1)
        self.steps = QSpinBox()
        from core.views.train import MAX_TRAIN_STEPS
        self.steps.setRange(1, MAX_TRAIN_STEPS)
        self.steps.setValue(20)
        self.step_button = QPushButton("Step")
        self.step_button.setObjectName("trainStep")
        self.run_button = QPushButton("Run N")
        self.run_button.setObjectName("trainRun")
        self.reset_button = QPushButton("Reset")
        # two short rows, so the tab fits the narrow right-hand column of a projector
        settings = QFormLayout()
        settings.addRow("learning rate η", self.lr)
        settings.addRow("momentum μ", self.momentum)
        settings.addRow("steps N", self.steps)
        buttons = QHBoxLayout()
        buttons.addWidget(self.step_button)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.reset_button)
        buttons.addStretch(1)
        self.latest = QLabel()
        self.latest.setObjectName("trainLatest")
        self.latest.setWordWrap(True)

        # the plots are made when the tab is first shown (make_plots): a window whose
        # Train tab is never opened never builds pyqtgraph scenes
        self.plots = QGridLayout()
        self.loss_plot = self.param_plot = self.tangent_plot = None
        self.tangent_label = QLabel()
        self.tangent_label.setWordWrap(True)

        self.retain = QCheckBox("retain_graph=True")
        self.retain.setToolTip("Call the first backward() with retain_graph=True, so the "
                               "graph's saved values are kept for a second one")
        self.retain.setChecked(True)
        self.again_button = QPushButton("Backward again (no zero_grad)")
        self.again_button.setObjectName("trainAgain")
        again_row = QVBoxLayout()
        again_row.addWidget(self.again_button)
        again_row.addWidget(self.retain)
        self.again_label = QLabel()
        self.again_label.setObjectName("trainAgainResult")
        self.again_label.setWordWrap(True)
        self.again_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.grads = QTableWidget(0, 4)
        self.grads.setObjectName("trainGrads")
        self.grads.setHorizontalHeaderLabels(["name", "kind", "torch's .grad after backward()",
                                              "gradient (retain_grad())"])
        self.grads.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grads.verticalHeader().setVisible(False)

        self.layout_.addLayout(settings)
        self.layout_.addLayout(buttons)
        self.layout_.addWidget(self.latest)
        self.layout_.addLayout(self.plots, 3)
        self.layout_.addWidget(self.tangent_label)
        self.layout_.addLayout(again_row)
        self.layout_.addWidget(self.again_label)
        self.layout_.addWidget(self.grads, 1)

        self.step_button.clicked.connect(lambda: self.run_steps(1))
        self.run_button.clicked.connect(lambda: self.run_steps(self.steps.value()))
        self.reset_button.clicked.connect(self.refresh)
        self.lr.valueChanged.connect(lambda _: self._set_lr())
        self.momentum.editingFinished.connect(self.refresh)
        self.again_button.clicked.connect(self.backward_again)
        self._buttons(False)

    def make_plots(self) -> None:
        """Build the three pyqtgraph plots (once)."""
        if self.loss_plot is not None:
            return
        import pyqtgraph as pg

        self.pg = pg
        _PLOTTED.append(self)
        self.loss_plot = pg.PlotWidget(title="loss", background="w")
        self.loss_plot.setObjectName("lossPlot")
        self.loss_plot.setLabel("bottom", "step")
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#d62728", width=2),
                                              symbol="o", symbolSize=4)
        self.param_plot = pg.PlotWidget(title="parameters", background="w")
        self.param_plot.setLabel("bottom", "step")
        self.param_plot.addLegend(offset=(5, 5))
        for plot in (self.loss_plot, self.param_plot):
            # thousands of steps: draw what a pixel column can show (pyqtgraph's own)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
        self.param_curves = {}
        self.tangent_plot = pg.PlotWidget(
            title="f along the parameter, tangent slope = gradient", background="w")
        self.tangent_plot.setObjectName("tangentPlot")
        self.f_curve = self.tangent_plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2))
        self.tangent_line = self.tangent_plot.plot([], [], pen=pg.mkPen("#ff7f0e", width=2))
        self.point_line = pg.InfiniteLine(angle=90, movable=True,
                                          pen=pg.mkPen("#888", style=Qt.PenStyle.DashLine))
        self.tangent_plot.addItem(self.point_line)
        plots = self.plots
        plots.addWidget(self.loss_plot, 0, 0)
        plots.addWidget(self.param_plot, 0, 1)
        plots.addWidget(self.tangent_plot, 1, 0, 1, 2)
        self.point_line.sigPositionChangeFinished.connect(self._dragged)

    def set_showing(self, showing: bool) -> None:
        """The tab came on screen: build the plots first."""
        if showing:
            self.make_plots()
        super().set_showing(showing)

    # computing ---------------------------------------------------------------------------

    def job_options(self) -> dict:
        """Learning rate and momentum from the controls."""
        return {"lr": self.lr.value(), "momentum": self.momentum.value()}

    @staticmethod
    def job(source, lr=0.1, momentum=0.0):
        """See :func:`setup`."""
        return setup(source, lr, momentum)

    def run_steps(self, n: int) -> None:
        """Run ``n`` SGD steps on a worker (Step: 1; Run N: the N box)."""
        if self.setup_data is None or self.step_jobs.busy:
            return
        self.status.setText(f"Running {n} step{'s' if n != 1 else ''}…")
        self.step_jobs.submit(run_steps, self.setup_data.trainer, n)

    def _set_lr(self) -> None:
        """A new η applies from the next step on (torch's param_groups, as a scheduler does)."""
        if self.setup_data is not None and not self.step_jobs.busy:
            for group in self.setup_data.trainer.optimizer.param_groups:
                group["lr"] = self.lr.value()
            self.setup_data.trainer.report.lr = self.lr.value()

    def backward_again(self) -> None:
        """Call backward() twice on a fresh graph, as a student would."""
        if self.source is not None:
            self.again_jobs.submit(backward_twice, self.source, self.retain.isChecked())

    def _dragged(self) -> None:
        data = self.setup_data
        if data is None or data.scalar is None or self.source is None:
            return
        from core.language.parser import parse
        from core.views.train import tangent_at

        x = float(self.point_line.value())
        source = self.source
        self.tangent_jobs.submit(lambda: (x, *tangent_at(parse(source.text), source.specs,
                                                          source.dtype, data.scalar, x)))

    # showing -------------------------------------------------------------------------------

    def show_result(self, data: TrainSetup) -> None:
        """A fresh trainer: empty curves, the semantics table, the tangent plot."""
        self.make_plots()
        self.step_jobs.cancel()  # a run on the previous trainer is not this one's
        self.setup_data = data
        self.status.setText("Step or Run N: each step is zero_grad(), forward, backward(), "
                            "then w ← w − η ∂L/∂w (torch.optim.SGD) on the inputs that need a "
                            "gradient; constants are data.")
        self._buttons(True)
        for curve in self.param_curves.values():
            self.param_plot.removeItem(curve)
        self.param_curves = {}
        if self.param_plot.plotItem.legend is not None:
            self.param_plot.plotItem.legend.clear()
        colors = ["#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                  "#bcbd22", "#17becf"]
        for k, label in enumerate(data.state.curves):
            self.param_curves[label] = self.param_plot.plot(
                [], [], pen=self.pg.mkPen(colors[k % len(colors)], width=2), name=label)
        self.plot_state(data.state)
        self.grads.setRowCount(len(data.grads))
        for r, (name, leaf, torch_grad, gradient) in enumerate(data.grads):
            kind = "leaf" if leaf else "non-leaf: .grad is None unless retain_grad()"
            for c, text in enumerate((name, kind, torch_grad, gradient)):
                self.grads.setItem(r, c, QTableWidgetItem(text))
        self.grads.resizeColumnsToContents()
        self.tangent_plot.setVisible(data.scalar is not None)
        self.tangent_label.setVisible(data.scalar is not None)
        if data.scalar is not None:
            xs, ys = data.curve
            self.f_curve.setData(xs, [y if math.isfinite(y) else float("nan") for y in ys],
                                 connect="finite")
            self.tangent_plot.setLabel("bottom", data.scalar)
            self._show_tangent(data.tangent)
        self.again_label.setText("")

    def plot_state(self, state: TrainState) -> None:
        """Redraw the loss curve and the parameter trajectories (a setData each)."""
        self.make_plots()
        import numpy as np

        loss = np.asarray(state.loss, dtype=float)
        loss[~np.isfinite(loss)] = np.nan
        # markers help on a few steps and cost most of the time on thousands
        self.loss_curve.setSymbol("o" if len(loss) <= SYMBOLS_UP_TO else None)
        self.loss_curve.setData(np.arange(1, len(loss) + 1), loss, connect="finite")
        for label, values in state.curves.items():
            curve = self.param_curves.get(label)
            if curve is not None:
                curve.setData(np.arange(len(values)), np.asarray(values, dtype=float))
        last = (f"step {len(state.loss)} computed {state.output} = {state.loss[-1]:.6g}, then "
                "moved the parameters to: ") if state.loss else "before the first step: "
        self.latest.setText(last + state.latest + (f"<br><b>{state.note}</b>"
                                                   if state.note else ""))

    def _step_failed(self, error) -> None:
        """A Run refused (or stopped) by a limit: say so and keep the trainer and its plot,
        so a smaller Run can go on from the same point."""
        message = str(error) if hasattr(error, "kind") else \
            f"internal error: {type(error).__name__}: {error}"
        self.status.setText(message)
        self.failed.emit(error)

    def _stepped(self, state: TrainState) -> None:
        self.status.setText("")
        self.plot_state(state)
        data = self.setup_data
        if data is not None and data.scalar is not None and self.source is not None:
            # the point moves with training: f over every value visited, tangent at the last
            values = [v for v in state.curves.get(data.scalar, []) if math.isfinite(v)]
            if values:
                self.curve_jobs.submit(_curve_and_tangent, self.source, data.scalar,
                                       min(values), max(values), values[-1])

    def _show_curve(self, outcome) -> None:
        (xs, ys), tangent = outcome
        self.f_curve.setData(xs, ys, connect="finite")
        self._show_tangent(tangent)

    def _show_tangent(self, tangent) -> None:
        x, f, slope = tangent
        half = max(1.0, abs(x)) * 0.6
        self.tangent_line.setData([x - half, x + half], [f - slope * half, f + slope * half])
        self.point_line.blockSignals(True)
        self.point_line.setValue(x)
        self.point_line.blockSignals(False)
        name = self.setup_data.scalar if self.setup_data else "x"
        self.tangent_label.setText(
            f"At {name} = {x:.6g}: f = {f:.6g} and the slope of the tangent is ∂f/∂{name} = "
            f"{slope:.6g}. A step moves {name} by −η × ({slope:.4g}) = "
            f"{-self.lr.value() * slope:.4g}. Drag the dashed line to move the point.")

    def _show_again(self, outcome) -> None:
        first, second, error, explanation = outcome
        if error:
            self.again_label.setText(
                f"First backward(): {first}.<br>Second backward(): torch raised<br>"
                f"<code>RuntimeError: {_html(error)}</code><br>{explanation}")
        elif first:
            self.again_label.setText(f"After one backward(): {first}.<br>After a second "
                                     f"backward() without zero_grad(): {second}.<br>"
                                     f"{explanation}")
        else:
            self.again_label.setText(explanation)

    def _buttons(self, enabled: bool) -> None:
        for button in (self.step_button, self.run_button, self.reset_button,
                       self.again_button):
            button.setEnabled(enabled)

    def _busy(self, busy: bool) -> None:
        self._buttons(not busy and self.setup_data is not None)

    def release(self) -> None:
        """The window is closing: drop the tab's running work."""
        for job in (self.step_jobs, self.again_jobs, self.tangent_jobs, self.curve_jobs,
                    self.jobs):
            job.cancel()

    def clear_result(self) -> None:
        """No trainer for an input that does not compute."""
        self.setup_data = None
        self._buttons(False)
        self.again_button.setEnabled(self.source is not None)
        if self.loss_plot is not None:
            self.loss_curve.setData([], [])


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
