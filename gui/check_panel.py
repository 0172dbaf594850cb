"""The Check panel: autograd's gradient against finite differences, SymPy and references.

A self-contained widget for the window's "Check" tab. ``set_report(report)`` takes a
:class:`core.check.CheckReport` already computed on a worker thread (this module imports
no torch and runs no check): it fills one table row per input entry, shows the selected
entry's derivative formula, and explains the verdicts and why float32 differs from the exact
values in the last digits. When NaN or infinity appeared, it names the first operation and
``highlightRequested(node_id)`` asks the window to highlight it in the graph.
"""
from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from core.serialize import shown_minus
from gui.table_batch import batch_fill, limit_measuring

#: rows added per pass of the event loop: a sampled check has 2,000 rows, whose items at
#: once held the GUI thread for most of a second
ROWS_AT_ONCE = 50

#: the verdict comes first: the dock is narrower than nine columns of numbers, and the
#: answer must not be the part scrolled out of sight
COLUMNS = ("verdict", "entry", "autograd", "finite diff", "rel. error", "symbolic",
           "rel. error", "reference", "rel. error")
VERDICT, ENTRY = COLUMNS.index("verdict"), COLUMNS.index("entry")
#: the value column of finite differences, symbolic and reference (its error follows it)
FD, SYMBOLIC, REFERENCE = 3, 5, 7
COLUMN_TIPS = {
    FD: "central difference (f(x+h) - f(x-h)) / 2h in float64",
    SYMBOLIC: "SymPy's derivative of the expression, evaluated to 30 digits",
    REFERENCE: "a value you supplied (for the seed examples: the notebook's Mathematica "
               "numbers)",
}
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
#: light backgrounds that read on both light and dark themes' text colours
VERDICT_COLOURS = {"agree": "#c8e6c9", "disagree": "#ffcdd2", "non-smooth": "#fff3c4",
                   "not checked": "#e0e0e0"}


def _number(x) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "\u2212inf")
    return shown_minus(f"{x:.10g}")


def _error(comparison) -> str:
    return "–" if comparison.rel_error is None else f"{comparison.rel_error:.1e}"


def formula_html(output: str, row) -> str:
    """The selected entry: its verdict and reasons first, then its derivative as
    mathematics (or why there is none) and its exact value."""
    esc = html.escape
    parts = [f"<p><b>∂{esc(output)}/∂{esc(row.label)}: {esc(row.verdict)}</b></p>"]
    if row.reasons:
        parts.append("<ul style='margin-top:0'>" + "".join(
            f"<li>{esc(reason)}</li>" for reason in row.reasons) + "</ul>")
    formula = row.formula
    if formula is not None and (formula.html or formula.text):
        maths = formula.html or esc(formula.text)
        parts.append(f"<p style='font-size:large'>∂{esc(output)}/∂{esc(row.label)} = "
                     f"{maths}</p>")
        if formula.latex:
            parts.append(f"<p style='font-size:small'>LaTeX: <code>{esc(formula.latex)}"
                         "</code></p>")
    elif row.symbolic.note:
        parts.append(f"<p>symbolic: {esc(row.symbolic.note)}</p>")
    if row.symbolic.value is not None:
        parts.append(f"<p>value: {row.symbolic.value!r}</p>")
    return "".join(parts)


class CheckPanel(QWidget):
    """Table of per-entry checks, the selected entry's formula, and the explanation."""

    #: the graph node id (``str(id(grad_fn))``) of the first operation that made NaN/inf
    highlightRequested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.report = None
        self._pending: list = []  # (row number, EntryCheck) still to be put in the table
        self._fill_generation = 0
        self.summary = QLabel("Compute an expression, then check its gradients here.")
        self.summary.setObjectName("checkSummary")
        self.summary.setWordWrap(True)

        self.nonfinite = QLabel()
        self.nonfinite.setObjectName("checkNonFinite")
        self.nonfinite.setWordWrap(True)
        self.show_origin = QPushButton("Show in graph")
        self.show_origin.setToolTip("Highlight the operation where NaN or infinity first appeared")
        self.show_origin.clicked.connect(self._request_highlight)
        origin_row = QHBoxLayout()
        origin_row.setContentsMargins(0, 0, 0, 0)
        origin_row.addWidget(self.nonfinite, 1)
        origin_row.addWidget(self.show_origin)
        self.origin_box = QWidget()
        self.origin_box.setLayout(origin_row)
        self.origin_box.setVisible(False)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for col, tip in COLUMN_TIPS.items():
            self.table.horizontalHeaderItem(col).setToolTip(tip)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        limit_measuring(self.table)  # fitting a column looks at the first rows only
        self.table.itemSelectionChanged.connect(self._show_selected)

        # the formula as mathematics (core.teaching.math_html: superscripts, ⋅, √ on one line that
        # wraps like text), not SymPy's two-line ASCII art, which needed a fixed-width
        # face and horizontal scrolling
        self.formula = QTextBrowser()
        self.formula.setObjectName("checkFormula")
        self.formula.setOpenLinks(False)
        self.formula.setPlaceholderText("Select a row to see its derivative formula.")
        self.explanation = QTextBrowser()
        self.explanation.setObjectName("checkExplanation")
        self.explanation.setOpenLinks(False)

        lower = QSplitter(Qt.Orientation.Vertical)
        lower.addWidget(self.table)
        lower.addWidget(self.formula)
        lower.addWidget(self.explanation)
        # the selected entry's formula gets the most room: it is what a class reads
        lower.setStretchFactor(0, 2)
        lower.setStretchFactor(1, 3)
        lower.setStretchFactor(2, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.summary)
        layout.addWidget(self.origin_box)
        layout.addWidget(lower, 1)

    # public API ---------------------------------------------------------------------

    def set_report(self, report) -> None:
        """Show a computed :class:`core.check.CheckReport` (None clears the panel)."""
        self.report = report
        self._fill_generation += 1  # a table still filling from an older report stops
        self._pending = []
        self.table.setRowCount(0)
        self.formula.clear()
        if report is None:
            self.summary.setText("Compute an expression, then check its gradients here.")
            self.origin_box.setVisible(False)
            self.explanation.clear()
            return
        counts = ", ".join(f"{n} {v}" for v, n in report.counts().items() if n)
        self.summary.setText(f"<b>{report.verdict}</b> &nbsp;({counts}) &nbsp;·&nbsp; "
                             f"{report.output_name} = {_number(report.value)} in "
                             f"{report.dtype}")
        self._fill_table(report)
        self.table.horizontalScrollBar().setValue(0)  # the verdict column in sight
        origin = report.nonfinite
        self.origin_box.setVisible(origin is not None)
        if origin is not None:
            self.nonfinite.setText(origin.message)
            self.show_origin.setEnabled(bool(origin.node_id))
        self.explanation.setPlainText(shown_minus(self._explanation_text(report)))
        if report.rows:
            self.table.selectRow(0)

    def clear(self) -> None:
        """Empty the panel (e.g. while the expression has an error)."""
        self.set_report(None)

    def filling(self) -> bool:
        """True while rows of a long report are still being added."""
        return bool(self._pending)

    def verdicts(self) -> list[str]:
        """The verdict column, top to bottom (for tests and copying)."""
        return [self.table.item(r, VERDICT).text()
                for r in range(self.table.rowCount())]

    # internals ----------------------------------------------------------------------

    def _fill_table(self, report) -> None:
        """The first rows now, the rest ROWS_AT_ONCE per pass of the event loop."""
        self._pending = list(enumerate(report.rows))
        self._fill_pending(self._fill_generation)

    def _fill_pending(self, generation: int) -> None:
        if generation != self._fill_generation or not self._pending:
            return
        chunk, self._pending = self._pending[:ROWS_AT_ONCE], self._pending[ROWS_AT_ONCE:]
        with batch_fill(self.table):
            self.table.setRowCount(self.table.rowCount() + len(chunk))
            for r, row in chunk:
                self._fill_row(r, row)
        if self._pending:
            QTimer.singleShot(0, self, lambda: self._fill_pending(generation))

    def _fill_row(self, r: int, row) -> None:
        fd, sym, ref = row.comparisons
        cells = (row.verdict, row.label, _number(row.autograd), _number(fd.value), _error(fd),
                 _number(sym.value), _error(sym), _number(ref.value), _error(ref))
        tip = "\n".join(row.reasons)
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(tip)
            if c > ENTRY:  # numbers line up on the right
                item.setTextAlignment(RIGHT)
            self.table.setItem(r, c, item)
        for c, comparison in ((FD, fd), (SYMBOLIC, sym), (REFERENCE, ref)):
            if comparison.agrees is False:  # its relative error, in red
                self.table.item(r, c + 1).setForeground(QBrush(QColor("#b71c1c")))
            if comparison.note and comparison.value is None:
                self.table.item(r, c).setToolTip(comparison.note)
        verdict = self.table.item(r, VERDICT)
        verdict.setBackground(QBrush(QColor(VERDICT_COLOURS.get(row.verdict, "#ffffff"))))
        verdict.setForeground(QBrush(QColor("#000000")))

    def _show_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows() if self.report else []
        if not rows:
            self.formula.clear()
            return
        self.formula.setHtml(formula_html(self.report.output_name,
                                          self.report.rows[rows[0].row()]))

    @staticmethod
    def _explanation_text(report) -> str:
        parts = []
        if report.notes:
            parts.append("\n".join(f"• {note}" for note in report.notes))
        parts.append(report.explanation)
        return "\n\n".join(parts)

    def _request_highlight(self) -> None:
        if self.report is not None and self.report.nonfinite and self.report.nonfinite.node_id:
            self.highlightRequested.emit(self.report.nonfinite.node_id)
