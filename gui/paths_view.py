"""The Paths tab: every path from an input to the output, its local derivatives and their
product; the products add up to the gradient. Selecting a path lights it up on the graph.

When the paths are too many to list (a value reused again and again doubles them), the
tab says how many and shows the factored sums instead: each node's gradient as the sum
over the edges towards the output, which is what reverse mode computes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
)

from gui.view_base import ComputedView, ViewInput, evaluation_of


@dataclass
class LeafRows:
    """One input's paths as text: rows (path, factors, product, node refs), sum, total."""

    name: str
    count: int
    listed: bool
    rows: list = field(default_factory=list)
    sum_text: str = ""
    total_text: str = ""
    reason: str = ""
    factored: list = field(default_factory=list)


@dataclass
class PathsData:
    """The Paths tab's plain data: ``leaves`` by input name and the output's name."""

    output: str
    leaves: dict[str, LeafRows]


def compute_paths(source: ViewInput) -> PathsData:
    """Evaluate and find the paths (worker thread); everything returned is text/refs."""
    from core.evaluation.evaluate import backward
    from core.views.paths import factors_text, find_paths, sum_text, value_text

    evaluation = evaluation_of(source)
    if source.model is None:
        backward(evaluation)  # an explored model's graph is differentiated already
    report = find_paths(evaluation, source.trace)
    refs = {}
    for record in evaluation.records:
        fn = record.grad_fn  # (an explored model's record: the node that made it)
        if fn is not None:
            refs.setdefault(str(id(fn)), ("record", record.index))

    fmt = value_text  # the pages' numbers: one minus sign, small tensors in full
    leaves = {}
    for name, leaf in report.leaves.items():
        rows = []
        for path in leaf.paths or []:
            node_refs = [refs.get(i) for i in path.node_ids]
            node_refs[0] = ("leaf", name)
            factors = [None if f is None else fmt(f) for f in path.factors]
            factor_text = factors_text(path.factors) if factors and None not in factors else (
                "(tensors: each node's backward applied in turn)" if factors else "")
            rows.append((" → ".join(path.nodes), factor_text, fmt(path.product), node_refs,
                         list(zip(factors, path.edge_ks, strict=True))))
        factored = [(n.label, fmt(n.gradient),
                     sum_text([t.value for t in n.terms]) if n.terms else "1 (the output)",
                     f"{n.paths_to_output:,}") for n in leaf.factored]
        leaves[name] = LeafRows(name, leaf.count, leaf.paths is not None, rows,
                                fmt(leaf.path_sum) if leaf.paths is not None else "",
                                fmt(leaf.total), leaf.reason, factored)
    return PathsData(report.output_name, leaves)


class PathsView(ComputedView):
    """Input chooser, the table of paths (or of factored sums), and the sum."""

    title = "Paths"
    #: [(kind, key) per node from input to output], [(factor text, k) per edge] of the
    #: chosen path (k: which of the parallel edges, as the drawn graph keys them)
    pathSelected = Signal(list, list)

    def __init__(self, pool=None, parent=None):
        super().__init__(pool, parent)
        self.leaf_box = QComboBox()
        self.leaf_box.setObjectName("pathsLeaf")
        row = QHBoxLayout()
        row.addWidget(QLabel("Paths from"))
        row.addWidget(self.leaf_box, 1)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setObjectName("pathsSummary")
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("pathsTable")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.explain = QLabel(
            "The chain rule as a sum: ∂f/∂x is the sum, over every path from x to f, of the "
            "product of the local derivatives along it. Select a path to light it up on the "
            "graph.")
        self.explain.setWordWrap(True)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.summary)
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.explain)
        self.leaf_box.currentTextChanged.connect(self._show_leaf)
        self.table.itemSelectionChanged.connect(self._selected)

    @staticmethod
    def job(source, **options):
        """See :func:`compute_paths`."""
        return compute_paths(source)

    def show_result(self, data: PathsData) -> None:
        """Fill the input chooser (keeping the chosen input) and show its paths."""
        current = self.leaf_box.currentText()
        self.leaf_box.blockSignals(True)
        self.leaf_box.clear()
        self.leaf_box.addItems(list(data.leaves))
        if current in data.leaves:
            self.leaf_box.setCurrentText(current)
        self.leaf_box.blockSignals(False)
        if not data.leaves:
            self.status.setText(f"{data.output} does not depend on any input that needs a "
                                "gradient: there are no paths.")
            self.clear_result()
            return
        self.status.setText("")
        self._show_leaf(self.leaf_box.currentText())

    def clear_result(self) -> None:
        """Empty the table."""
        self.table.setRowCount(0)
        self.summary.setText("")

    def _show_leaf(self, name: str) -> None:
        data = self.data
        if data is None or name not in data.leaves:
            return
        leaf = data.leaves[name]
        out = data.output
        self.table.clearSelection()
        plural = "s" if leaf.count != 1 else ""
        if leaf.listed:
            self.table.setColumnCount(3)
            self.table.setHorizontalHeaderLabels([f"path from {name} to {out}",
                                                  "local derivatives", "product"])
            self.table.setRowCount(len(leaf.rows) + 1)
            for r, (path, factors, product, _, _) in enumerate(leaf.rows):
                for c, text in enumerate((path, factors, product)):
                    self.table.setItem(r, c, QTableWidgetItem(text))
            total = QTableWidgetItem(f"sum of the {len(leaf.rows)} products")
            self.table.setItem(len(leaf.rows), 0, total)
            self.table.setItem(len(leaf.rows), 1, QTableWidgetItem(
                " + ".join(row[2] for row in leaf.rows)))
            self.table.setItem(len(leaf.rows), 2, QTableWidgetItem(leaf.sum_text))
            for c in range(3):
                item = self.table.item(len(leaf.rows), c)
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.summary.setText(
                f"<b>{leaf.count} path{plural}</b> from {name} to {out}; their products add "
                f"up to {leaf.sum_text}. autograd's ∂{out}/∂{name} = <b>{leaf.total_text}</b>.")
        else:
            self.table.setColumnCount(4)
            self.table.setHorizontalHeaderLabels(["node", f"∂{out}/∂node",
                                                  "sum over edges towards the output",
                                                  "paths to the output"])
            self.table.setRowCount(len(leaf.factored))
            for r, cells in enumerate(leaf.factored):
                for c, text in enumerate(cells):
                    self.table.setItem(r, c, QTableWidgetItem(text))
            self.summary.setText(f"<b>{leaf.count:,} paths</b> from {name} to {out}: too many "
                                 f"to list ({leaf.reason.split(': ', 1)[-1]}). autograd's "
                                 f"∂{out}/∂{name} = <b>{leaf.total_text}</b>.")
        self.table.resizeRowsToContents()

    def _selected(self) -> None:
        data = self.data
        rows = {i.row() for i in self.table.selectedItems()}
        leaf = data.leaves.get(self.leaf_box.currentText()) if data else None
        if not rows or leaf is None or not leaf.listed:
            self.pathSelected.emit([], [])
            return
        row = min(rows)
        if row >= len(leaf.rows):
            # the sum row: every path at once
            refs = [ref for r in leaf.rows for ref in r[3]]
            self.pathSelected.emit(refs, [])
            return
        _, _, _, refs, factors = leaf.rows[row]
        self.pathSelected.emit(refs, factors)

    def select_path(self, index: int) -> None:
        """Select the ``index``-th path (for tests and keyboard users)."""
        self.table.selectRow(index)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
