"""The Second derivatives tab: the Hessian (double backward, create_graph=True) for small
inputs, the Hessian-vector product for any, and the graph of the gradient itself drawn
like the first graph: its own backward pass gives the second derivatives."""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
)

from gui.graph_view import GraphView
from gui.view_base import ComputedView, ViewInput, evaluation_of


@dataclass
class HessianData:
    """Plain data: gradient text, the Hessian as one grid over every input entry, H·ones,
    and (when asked for) the drawing of one input's gradient graph."""

    output: str
    gradient: dict = field(default_factory=dict)
    labels: list = field(default_factory=list)
    grid: list | None = None
    hvp: dict = field(default_factory=dict)
    reason: str = ""
    inputs: list = field(default_factory=list)
    graph_of: str | None = None
    drawing: object = None
    drawing_error: str = ""


def compute_hessian(source: ViewInput, graph_of: str | None = None) -> HessianData:
    """Hessian and H·ones on a fresh evaluation; with ``graph_of`` also lay out the graph
    of that input's gradient (worker thread)."""
    from core.serialize import entry_label, format_number, format_tensor, shown_minus
    from core.views.hessian import gradient_evaluation, hessian_of

    def fmt(t):
        return shown_minus(format_tensor(t, digits=6, max_entries=16).replace("\n", ""))

    evaluation = evaluation_of(source)  # a model's: double backward over its own graph
    report = hessian_of(evaluation)
    names = list(report.gradient)
    data = HessianData(report.output_name, {n: fmt(g) for n, g in report.gradient.items()},
                       hvp={n: fmt(v) for n, v in report.hvp.items()}, reason=report.reason,
                       inputs=names)
    shapes = {n: tuple(evaluation.inputs[n].shape) for n in names}
    for n in names:
        data.labels += [entry_label(n, _unravel(k, shapes[n]))
                        for k in range(max(1, _prod(shapes[n])))]
    if report.hessian is not None:
        rows = []
        for a in names:
            for i in range(max(1, _prod(shapes[a]))):
                row = []
                for b in names:
                    block = report.hessian[a][b].reshape(max(1, _prod(shapes[a])), -1)
                    row += [shown_minus(format_number(float(x))) for x in block[i].tolist()]
                rows.append(row)
        data.grid = rows
    if graph_of in names and source.model is not None:
        from core.views.model_views import GRADIENT_GRAPH_REASON

        data.graph_of = graph_of
        data.drawing_error = GRADIENT_GRAPH_REASON
    elif graph_of in names:
        from gui import graph_source

        data.graph_of = graph_of
        try:
            data.drawing = graph_source.draw(gradient_evaluation(evaluation, graph_of))
        except Exception as err:  # noqa: BLE001 - Graphviz missing or too slow: say so
            data.drawing_error = str(err)
    return data


def _prod(shape) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


def _unravel(k, shape):
    index = []
    for size in reversed(shape):
        index.append(k % size)
        k //= size
    return tuple(reversed(index))


class HessianView(ComputedView):
    """Gradient, the Hessian grid, H·ones, and the graph of a chosen input's gradient."""

    title = "Second derivatives"

    def __init__(self, pool=None, parent=None):
        super().__init__(pool, parent)
        self.summary = QLabel()
        self.summary.setObjectName("hessianSummary")
        self.summary.setWordWrap(True)
        self.grid = QTableWidget(0, 0)
        self.grid.setObjectName("hessianGrid")
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.draw_box = QCheckBox("Draw the graph of the gradient of")
        self.draw_box.setToolTip("The graph torch builds while computing the gradient with "
                                 "create_graph=True (double backward)")
        self.draw_box.setObjectName("hessianDraw")
        self.input_box = QComboBox()
        self.input_box.setMinimumContentsLength(4)
        row = QHBoxLayout()
        row.addWidget(QLabel("input"))
        row.addWidget(self.input_box, 1)
        self.graph = GraphView()
        self.graph.setVisible(False)
        self.graph_note = QLabel()
        self.graph_note.setWordWrap(True)
        self.layout_.addWidget(self.summary)
        self.layout_.addWidget(self.grid, 1)
        self.layout_.addWidget(self.draw_box)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.graph_note)
        self.layout_.addWidget(self.graph, 2)
        self.draw_box.toggled.connect(lambda _: self.refresh())
        self.input_box.activated.connect(lambda _: self.refresh())

    def job_options(self) -> dict:
        """Which input's gradient graph to draw (None: draw nothing)."""
        return {"graph_of": self.input_box.currentText() or None
                if self.draw_box.isChecked() else None}

    @staticmethod
    def job(source, graph_of=None):
        """See :func:`compute_hessian`."""
        return compute_hessian(source, graph_of)

    def show_result(self, data: HessianData) -> None:
        """Show the numbers and, when drawn, the graph of the gradient."""
        self.status.setText("")
        out = data.output
        lines = [f"∂{out}/∂{n} = {t}" for n, t in data.gradient.items()]
        if data.reason:
            lines.append(data.reason)
        lines.append("Hessian-vector product with v = ones (one more backward pass): "
                     + ", ".join(f"(Hv)[{n}] = {t}" for n, t in data.hvp.items()))
        self.summary.setText("<br>".join(lines))
        if data.grid is not None:
            self.grid.setRowCount(len(data.labels))
            self.grid.setColumnCount(len(data.labels))
            self.grid.setHorizontalHeaderLabels(data.labels)
            self.grid.setVerticalHeaderLabels(data.labels)
            for r, row in enumerate(data.grid):
                for c, text in enumerate(row):
                    self.grid.setItem(r, c, QTableWidgetItem(text))
            self.grid.resizeColumnsToContents()
        else:
            self.grid.setRowCount(0)
        current = self.input_box.currentText()
        self.input_box.blockSignals(True)
        self.input_box.clear()
        self.input_box.addItems(data.inputs)
        if current in data.inputs:
            self.input_box.setCurrentText(current)
        self.input_box.blockSignals(False)
        self.graph.setVisible(data.drawing is not None)
        if data.drawing is not None:
            self.graph.show_svg(data.drawing.svg, data.drawing.node_ids)
            self.graph_note.setText(
                f"The graph of ∂{out}/∂{data.graph_of}: torch built it while computing the "
                "gradient with create_graph=True. Each input's gradient here is a second "
                f"derivative (∂²{out}/∂{data.graph_of}∂input).")
        else:
            self.graph_note.setText(data.drawing_error)

    def clear_result(self) -> None:
        """Empty the grid and the graph."""
        self.grid.setRowCount(0)
        self.summary.setText("")
        self.graph.setVisible(False)
