"""The Matrix products tab: each matrix product of the program under a microscope. The
gradient G flowing into C = A B, the operands with their shapes, the gradient of each as
the one product of G and the other operand whose shape fits (G Bᵀ, Aᵀ G), and its entries
written out as sums (∂F/∂A[0,1] = Σ_c G[0,c] B[1,c] = …), all of it torch's numbers."""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
)

from gui.view_base import ComputedView, ViewInput


@dataclass
class LensText:
    """One product as text: heading lines and (entry, sum) rows."""

    title: str
    heading: str
    rows: list = field(default_factory=list)


def compute_lenses(source: ViewInput) -> list[LensText]:
    """Every mm/mv/dot of a fresh evaluation, as text (worker thread)."""
    from core.evaluation.evaluate import evaluate
    from core.language.parser import parse
    from core.serialize import format_tensor
    from core.teaching.trace import record_steps
    from core.views.microscope import lenses

    if source.model is not None:  # the explored graph and the steps explore() recorded
        evaluation, trace = source.model, source.trace
    else:
        evaluation = evaluate(parse(source.text), source.specs, source.dtype)
        trace = record_steps(evaluation)
    out = []
    for lens in lenses(evaluation, trace):
        g_shape = "×".join(map(str, lens.g_shape)) or "a number"
        lines = [f"<b>{lens.expression}</b> ({lens.op}): {lens.product}, and G = ∂F/∂C "
                 f"({g_shape}) = {format_tensor(lens.g, 5, 16)}".replace("\n", "")]
        rows = []
        for operand in lens.operands:
            shape = "×".join(map(str, operand.shape)) or "a number"
            lines.append(f"∂F/∂{operand.label} ({shape}) = <b>{operand.formula}</b>: "
                         f"{operand.why}.")
            rows += operand.entries
        out.append(LensText(f"{lens.expression}   ({lens.op})", "<br>".join(lines), rows))
    if not out and source.model is not None:
        from core.errors import ExpressionError
        from core.views.model_views import products_reason

        raise ExpressionError("view", products_reason(trace))
    return out


class MicroscopeView(ComputedView):
    """A chooser of products, the shapes argument, and the entries as sums."""

    title = "Matrix products"

    def __init__(self, pool=None, parent=None):
        super().__init__(pool, parent)
        self.product_box = QComboBox()
        self.product_box.setObjectName("microscopeProduct")
        row = QHBoxLayout()
        row.addWidget(QLabel("Product"))
        row.addWidget(self.product_box, 1)
        self.heading = QLabel()
        self.heading.setObjectName("microscopeHeading")
        self.heading.setWordWrap(True)
        self.table = QTableWidget(0, 2)
        self.table.setObjectName("microscopeEntries")
        self.table.setHorizontalHeaderLabels(["entry", "the sum backward computes"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.heading)
        self.layout_.addWidget(self.table, 1)
        self.product_box.currentIndexChanged.connect(self._show)

    @staticmethod
    def job(source, **options):
        """See :func:`compute_lenses`."""
        return compute_lenses(source)

    def show_result(self, data: list[LensText]) -> None:
        """Fill the chooser and show the first product."""
        self.product_box.blockSignals(True)
        self.product_box.clear()
        self.product_box.addItems([lens.title for lens in data])
        self.product_box.blockSignals(False)
        self.status.setText("" if data else "The program has no matrix-matrix, "
                            "matrix-vector or vector-vector product (@, matmul, mm, mv, dot) "
                            "whose operands it names.")
        self._show(0)

    def clear_result(self) -> None:
        """Empty the tab."""
        self.product_box.clear()
        self.heading.setText("")
        self.table.setRowCount(0)

    def _show(self, index: int) -> None:
        data = self.data or []
        if not 0 <= index < len(data):
            self.heading.setText("")
            self.table.setRowCount(0)
            return
        lens = data[index]
        self.heading.setText(lens.heading)
        self.table.setRowCount(len(lens.rows))
        for r, (label, text) in enumerate(lens.rows):
            self.table.setItem(r, 0, QTableWidgetItem(label))
            self.table.setItem(r, 1, QTableWidgetItem(text))
        self.table.resizeColumnToContents(0)
