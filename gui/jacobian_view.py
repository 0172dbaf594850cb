"""The Jacobian tab: for an output with several entries, the vector-Jacobian product that
``backward(gradient=v)`` computes without building J, and, for small outputs, J itself,
one row per output entry: row k is the VJP with the one-hot v = e_k."""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
)

from gui.view_base import ComputedView, ViewInput, evaluation_of


@dataclass
class JacobianData:
    """Plain data: output, v, VJPs as text, and each input's Jacobian as a 2-D grid."""

    output: str
    output_shape: tuple
    value_text: str
    v_text: str
    vjp: dict = field(default_factory=dict)         # name -> text
    grids: dict = field(default_factory=dict)       # name -> (row labels, col labels, rows)
    reason: str = ""


def compute_jacobian(source: ViewInput, grad_output=None) -> JacobianData:
    """VJP and Jacobian on a fresh evaluation (worker thread)."""
    from core.serialize import entry_label, format_number, format_tensor, shown_minus
    from core.views.jacobian import jacobian_of

    def fmt(t):
        return shown_minus(format_tensor(t, digits=6, max_entries=16).replace("\n", ""))

    report = jacobian_of(evaluation_of(source, allow_vector_output=True), grad_output)
    out = report.output_name
    data = JacobianData(out, report.output_shape, fmt(report.output_value),
                        fmt(report.grad_output), {n: fmt(v) for n, v in report.vjp.items()},
                        reason=report.reason)
    if report.jacobian is not None:
        rows_shape = report.output_shape
        for name, jac in report.jacobian.items():
            in_shape = tuple(jac.shape[len(rows_shape):])
            flat = jac.reshape(max(1, _prod(rows_shape)), max(1, _prod(in_shape)))
            rows = [[shown_minus(format_number(float(x))) for x in row] for row in flat.tolist()]
            data.grids[name] = ([entry_label(out, _unravel(k, rows_shape))
                                 for k in range(flat.shape[0])],
                                [entry_label(name, _unravel(k, in_shape))
                                 for k in range(flat.shape[1])], rows)
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


class JacobianView(ComputedView):
    """The v field, the VJPs, and a grid per input with rows as one-hot VJPs."""

    title = "Jacobian"

    def __init__(self, pool=None, parent=None):
        super().__init__(pool, parent)
        self.v_edit = QLineEdit()
        self.v_edit.setObjectName("jacobianV")
        self.v_edit.setPlaceholderText("ones, as sum(...) would give; e.g. [1, 0, 0]")
        apply = QPushButton("Apply v")
        row = QHBoxLayout()
        row.addWidget(QLabel("v ="))
        row.addWidget(self.v_edit, 1)
        row.addWidget(apply)
        self.vjp_label = QLabel()
        self.vjp_label.setObjectName("jacobianVjp")
        self.vjp_label.setWordWrap(True)
        self.input_box = QComboBox()
        self.input_box.setObjectName("jacobianInput")
        row2 = QHBoxLayout()
        row2.addWidget(QLabel("Jacobian with respect to"))
        row2.addWidget(self.input_box, 1)
        self.grid = QTableWidget(0, 0)
        self.grid.setObjectName("jacobianGrid")
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.row_note = QLabel()
        self.row_note.setWordWrap(True)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.vjp_label)
        self.layout_.addLayout(row2)
        self.layout_.addWidget(self.grid, 1)
        self.layout_.addWidget(self.row_note)
        apply.clicked.connect(self.refresh)
        self.v_edit.returnPressed.connect(self.refresh)
        self.input_box.currentTextChanged.connect(self._show_grid)
        self.grid.itemSelectionChanged.connect(self._row_selected)

    def job_options(self) -> dict:
        """The v typed in the field (None: ones); read here, parsed on the worker."""
        text = self.v_edit.text().strip()
        return {"grad_output": text or None}

    @staticmethod
    def job(source, grad_output=None):
        """See :func:`compute_jacobian` (v parsed without eval, as every value is)."""
        from core.language.values import parse_value

        v = None if grad_output is None else parse_value(grad_output, where="v")
        return compute_jacobian(source, v)

    def show_result(self, data: JacobianData) -> None:
        """Show v, the VJPs, and the chosen input's grid."""
        out = data.output
        shape = "×".join(map(str, data.output_shape)) or "a single number"
        self.status.setText(f"{out} has shape {shape}: {data.value_text}")
        lines = [f"backward(gradient=v) with v = {data.v_text} gives every input vᵀ J in one "
                 "reverse pass, without building J:"]
        lines += [f"&nbsp;&nbsp;vᵀ ∂{out}/∂{n} = <b>{t}</b>" for n, t in data.vjp.items()]
        if data.reason:
            lines.append(data.reason)
        self.vjp_label.setText("<br>".join(lines))
        current = self.input_box.currentText()
        self.input_box.blockSignals(True)
        self.input_box.clear()
        self.input_box.addItems(list(data.grids))
        if current in data.grids:
            self.input_box.setCurrentText(current)
        self.input_box.blockSignals(False)
        self._show_grid(self.input_box.currentText())

    def clear_result(self) -> None:
        """Empty the grid."""
        self.grid.setRowCount(0)
        self.grid.setColumnCount(0)
        self.vjp_label.setText("")
        self.row_note.setText("")

    def _show_grid(self, name: str) -> None:
        data = self.data
        if data is None or name not in data.grids:
            self.grid.setRowCount(0)
            return
        row_labels, col_labels, rows = data.grids[name]
        self.grid.setRowCount(len(rows))
        self.grid.setColumnCount(len(col_labels))
        self.grid.setVerticalHeaderLabels(row_labels)
        self.grid.setHorizontalHeaderLabels(col_labels)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.grid.setItem(r, c, QTableWidgetItem(text))
        self.grid.resizeColumnsToContents()
        self.row_note.setText(f"Row k of ∂{data.output}/∂{name} is what backward gives {name} "
                              "with the one-hot v = e_k. Select a row.")

    def _row_selected(self) -> None:
        data = self.data
        name = self.input_box.currentText()
        rows = sorted({i.row() for i in self.grid.selectedItems()})
        if data is None or name not in data.grids or not rows:
            return
        labels, _, grid = data.grids[name]
        k = rows[0]
        self.row_note.setText(
            f"Row {k} (∂{labels[k]}/∂{name}) = [{', '.join(grid[k])}]: backward(gradient=e_{k}) "
            f"— v with 1 at {labels[k]} and 0 elsewhere — gives exactly this to {name}.")
