"""The results: the output's value and the gradient of every input and named intermediate.

One row per quantity; matrices are shown as aligned rows of numbers. When the loaded example
has reference values (Mathematica, SymPy), they appear beside the computed gradients with a
tick or a cross. Cells are selectable and copy as tab-separated text (Ctrl+C, context menu).

The panel is a narrow column beside the graph, so a matrix is written with four significant
digits per entry (a 2x2 matrix and its reference then fit side by side without scrolling);
each cell's tooltip and the copied text keep the full six digits.
"""
from __future__ import annotations

import math
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QFontDatabase, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.language.values import format_shape
from core.serialize import shown_minus
from gui.summary import format_cell, format_data
from gui.table_batch import RowsPerPass, batch_fill, limit_measuring

COLUMNS = ["Name", "Value", "Gradient", "Reference"]
LEFT_CENTRE = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
#: Warnings shown above the table at most.
MAX_WARNINGS_SHOWN = 6
#: where a cell keeps its full-precision text (tooltips and copies)
FULL_TEXT = Qt.ItemDataRole.UserRole
ROLE_TEXT = {"output": "output", "input": "input", "intermediate": "intermediate",
             "constant": "constant"}
#: The name cell is tinted like the node in torchviz's drawing (inputs blue, output green).
ROLE_COLOUR = {"output": QColor("#dcedc8"), "input": QColor("#d7ecf5"),
               "intermediate": QColor("#f1f3f4"), "constant": QColor("#ffffff")}


def _marked(mark: str, text: str) -> str:
    """``✓ [[a  b]`` with the matrix's later rows indented under its first."""
    return mark + text.replace("\n", "\n" + " " * len(mark))


def matches(computed, reference, digits: int | None = None) -> bool:
    """True if ``computed`` agrees with ``reference`` (numbers or nested lists): to
    ``digits`` significant digits when given, else to float32 precision."""
    if isinstance(reference, list):
        return isinstance(computed, list) and len(computed) == len(reference) and all(
            matches(c, r, digits) for c, r in zip(computed, reference, strict=True))
    if isinstance(computed, list) or computed is None or isinstance(computed, str):
        return False
    rel = 0.5 * 10 ** (1 - digits) if digits else 1e-5
    return math.isclose(computed, reference, rel_tol=rel, abs_tol=1e-6)


class ResultsPanel(QWidget):
    """A table of results and a line of warnings above it.

    ``fullValuesRequested(name, which)`` (``which`` is "value" or "grad") asks the window to
    write out every entry of a summarised tensor (on a worker)."""

    fullValuesRequested = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.notice = QLabel()
        self.notice.setObjectName("resultsNotice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(False)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeaderItem(2).setToolTip(
            "∂output/∂name: how fast the output changes when this quantity changes")
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        limit_measuring(self.table)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.mono = mono
        copy = QAction("Copy", self.table, shortcut=QKeySequence.StandardKey.Copy,
                       shortcutContext=Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_selection)
        copy_all = QAction("Copy all results", self.table)
        copy_all.triggered.connect(self.copy_all)
        full = QAction("Show Full Values…", self.table)
        full.setToolTip("Every entry of a large value or gradient (the table shows its "
                        "corners, as torch prints it)")
        full.triggered.connect(self._request_full_values)
        self.table.addActions([copy, copy_all, full])
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.notice)
        layout.addWidget(self.table)
        self.result = None
        self._filling = 0  # generation of the rows being added (see _fill)
        self._rows_per_pass = RowsPerPass()
        self._reference_data = ({}, {}, None)

    def set_mono_font(self, font) -> None:
        """The fixed-width face of the numbers (View > Text Size); shown again at once."""
        self.mono = font
        if self.result is not None:
            self.show_result(self.result, getattr(self, "_reference", None))

    def clear(self) -> None:
        """Empty the table (e.g. while the expression has an error)."""
        self._filling += 1
        self.table.setRowCount(0)
        self.set_notice([])  # the warnings belonged to the rows just removed
        self.result = None

    def show_result(self, result, reference: dict | None = None) -> None:
        """Fill the table from a :class:`gui.compute.ComputeResult` (plain data only)."""
        self.result = result
        self._reference = reference
        reference = reference or {}
        ref_grads = reference.get("gradients", {})
        digits = reference.get("digits")
        self.table.setColumnHidden(3, not reference)
        # the last visible column takes the spare width (Qt stretches only the last section)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(bool(reference))
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents if reference
                                    else QHeaderView.ResizeMode.Stretch)
        self._reference_data = (reference, ref_grads, digits)
        # y.backward(v): the column holds vᵀJ, the gradient of the number vᵀy, not of y
        vjp = getattr(result, "grad_output", None) is not None
        header_item = self.table.horizontalHeaderItem(2)
        header_item.setText("Gradient (vᵀJ)" if vjp else "Gradient")
        header_item.setToolTip(
            f"vᵀ ∂{result.output_name}/∂name: the gradient of the number vᵀ{result.output_name}"
            f" = sum(v * {result.output_name}), what {result.output_name}.backward(v) gives "
            "(the output's own row holds v)" if vjp else
            "∂output/∂name: how fast the output changes when this quantity changes")
        self._filling += 1  # rows still being added for an older result stop
        self.table.setRowCount(0)
        self.table.setRowCount(len(result.quantities))
        self._fill(self._filling, 0)
        self.set_notice(result.warnings)

    def _fill(self, generation: int, start: int) -> None:
        """Add rows from ``start``: a pass's worth now (gui.table_batch.RowsPerPass), the rest
        on later passes of the event loop (a program with thousands of names must not freeze
        the window)."""
        if generation != self._filling or self.result is None:
            return
        started = time.thread_time()
        quantities = self.result.quantities
        stop = min(start + self._rows_per_pass.rows, len(quantities))
        with batch_fill(self.table):
            for row in range(start, stop):
                self._add_row(row, quantities[row])
        for row in range(start, stop):  # only matrices need taller rows
            if "\n" in (self.table.item(row, 1).text() + self.table.item(row, 2).text()
                         + self.table.item(row, 3).text()):
                self.table.resizeRowToContents(row)
        self._rows_per_pass.measured(stop - start, time.thread_time() - started)
        if stop < len(quantities):
            QTimer.singleShot(0, self, lambda: self._fill(generation, stop))

    def filling(self) -> bool:
        """True while rows of a large result are still being added."""
        return self.result is not None and self.table.rowCount() > 0 and \
            self.table.item(self.table.rowCount() - 1, 0) is None

    def _add_row(self, row: int, q) -> None:
        result = self.result
        reference, ref_grads, digits = self._reference_data
        role = q.role if q.requires_grad or q.role != "input" else "constant"
        name = q.name
        what = f"{q.name}: {ROLE_TEXT[role]}, {format_shape(q.shape)}"
        ref_data, ok = None, None
        if q.role == "output" and "value" in reference:
            ref_data = reference["value"]
            ok = matches(q.value, ref_data, digits)
        elif q.name in ref_grads and q.role == "input":
            ref_data = ref_grads[q.name]
            ok = matches(q.grad, ref_data, digits)
        mark = "✓ " if ok else "✗ "
        no_grad = "constant: no gradient"
        # (shown, full) per column
        value_cell, grad_cell = getattr(result, "cells", {}).get(q.name) or (
            (format_cell(q.value), format_data(q.value)),
            (format_cell(q.grad), format_data(q.grad)))
        cells = [(name, name), value_cell,
                 grad_cell if q.requires_grad else (no_grad, no_grad),
                 (_marked(mark, format_cell(ref_data)), _marked(mark, format_data(ref_data)))
                 if ref_data is not None else ("", "")]
        for col, (text, full) in enumerate(cells):
            # on screen the page's minus sign; the copied (full) text keeps ASCII "-" so
            # that Python and spreadsheets read the numbers back
            item = QTableWidgetItem(shown_minus(text) if col else text)
            item.setData(FULL_TEXT, full)
            if col and full != text:
                item.setToolTip(shown_minus(full))
            if col:
                item.setFont(self.mono)
                item.setTextAlignment(LEFT_CENTRE)
            if col == 0:
                item.setBackground(QBrush(ROLE_COLOUR[role]))
                # dark text on the light tint, whatever the theme's text colour
                item.setForeground(QBrush(QColor("#000000")))
                item.setToolTip(what)
                font = item.font()
                font.setBold(q.role != "intermediate")
                item.setFont(font)
            if col == 3 and ok is not None:
                item.setForeground(QBrush(QColor("#2e7d32" if ok else "#c62828")))
                item.setToolTip(f"reference ({reference.get('source', 'independent')})"
                                + (":\n" + full if full != text else ""))
            self.table.setItem(row, col, item)

    def _request_full_values(self) -> None:
        index = self.table.currentIndex()
        row = index.row() if index.isValid() else 0
        if self.result is None or not 0 <= row < len(self.result.quantities):
            return
        which = "grad" if index.column() == 2 else "value"
        self.fullValuesRequested.emit(self.result.quantities[row].name, which)

    def set_notice(self, lines: list[str]) -> None:
        """Show warnings (NaN, unused inputs) above the table: the first few, and how many
        more there are (a pasted program can have thousands)."""
        shown = ["⚠ " + line for line in lines[:MAX_WARNINGS_SHOWN]]
        if len(lines) > MAX_WARNINGS_SHOWN:
            shown.append(f"… and {len(lines) - MAX_WARNINGS_SHOWN:,} more warnings")
        self.notice.setText("\n".join(shown))
        self.notice.setVisible(bool(lines))

    def reference_marks(self) -> list[str]:
        """The reference column's texts (for tests: each starts with ✓ or ✗)."""
        return [self.table.item(r, 3).text() for r in range(self.table.rowCount())
                if self.table.item(r, 3) is not None and self.table.item(r, 3).text()]

    def text(self, rows=None, cols=None) -> str:
        """Cells as tab-separated text (all when rows/cols are None), every number with
        its full six digits."""
        rows = range(self.table.rowCount()) if rows is None else rows
        cols = [c for c in (range(len(COLUMNS)) if cols is None else cols)
                if not self.table.isColumnHidden(c)]
        lines = ["\t".join(COLUMNS[c] for c in cols)] if cols else []
        for r in rows:
            lines.append("\t".join(self._full(r, c).replace("\n", " ") for c in cols))
        return "\n".join(lines)

    def _full(self, row: int, col: int) -> str:
        item = self.table.item(row, col)
        if item is None:  # a row of a large result not added yet
            return ""
        full = item.data(FULL_TEXT)
        return full if isinstance(full, str) else item.text()

    def copy_selection(self) -> None:
        """Copy the selected cells (or everything if nothing is selected)."""
        indexes = self.table.selectedIndexes()
        if not indexes:
            return self.copy_all()
        rows = sorted({i.row() for i in indexes})
        cols = sorted({i.column() for i in indexes})
        QGuiApplication.clipboard().setText(self.text(rows, cols))

    def copy_all(self) -> None:
        """Copy the whole table as tab-separated text."""
        QGuiApplication.clipboard().setText(self.text())
