"""The Modes tab: forward mode (one pass per input entry, tangents carried beside the
values) against reverse mode (one pass per output entry), with the derivatives of both,
their passes and multiply-adds, and the forward walk of any pass value by value."""
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

from gui.view_base import ComputedView, ViewInput, parse_and_forward


@dataclass
class ModesData:
    """Plain text for the tab: derivative rows, counters and the walks."""

    output: str
    output_shape: tuple
    rows: list = field(default_factory=list)       # (name, forward, reverse)
    passes: dict = field(default_factory=dict)
    multiply_adds: dict = field(default_factory=dict)
    winner: str = ""
    walks: dict = field(default_factory=dict)      # seed -> [(label, value, tangent)]
    walk_outputs: dict = field(default_factory=dict)  # seed -> output tangent text
    counting: str = ""


def compute_modes(source: ViewInput) -> ModesData:
    """Both modes on a fresh evaluation (worker thread)."""
    from core.serialize import format_tensor, shown_minus
    from core.views.modes import COUNTING, compare_modes

    def fmt(t):
        return shown_minus(format_tensor(t, digits=6, max_entries=16).replace("\n", ""))

    if source.model is not None:  # the user's own code: called again on dual numbers
        from core.views.model_views import dual_replay

        report = compare_modes(source.model, dual_replay(source.model))
    else:
        report = compare_modes(parse_and_forward(source, allow_vector_output=True))
    data = ModesData(report.output_name, report.output_shape,
                     [(n, fmt(report.forward[n]), fmt(report.reverse[n]))
                      for n in report.forward],
                     dict(report.passes), dict(report.multiply_adds), report.winner,
                     counting=COUNTING)
    for walk in report.walks:
        data.walks[walk.seed] = [(f"{s.name} = {s.expression}" if s.name else s.expression,
                                  fmt(s.value), fmt(s.tangent)) for s in walk.steps]
        data.walk_outputs[walk.seed] = fmt(walk.output_tangent)
    return data


class ModesView(ComputedView):
    """Derivatives table, the two counters, and the forward walk of a chosen pass."""

    title = "Forward vs reverse"

    def __init__(self, pool=None, parent=None):
        super().__init__(pool, parent)
        self.derivatives = self._table(["input", "forward mode", "reverse mode"])
        self.derivatives.setObjectName("modesDerivatives")
        self.counters = QLabel()
        self.counters.setObjectName("modesCounters")
        self.counters.setWordWrap(True)
        self.seed_box = QComboBox()
        self.seed_box.setObjectName("modesSeed")
        row = QHBoxLayout()
        row.addWidget(QLabel("Forward pass seeded at"))
        row.addWidget(self.seed_box, 1)
        self.walk = self._table(["value", "value", "tangent (d value / d seed)"])
        self.walk.setObjectName("modesWalk")
        self.walk_note = QLabel()
        self.walk_note.setWordWrap(True)
        self.layout_.addWidget(self.counters)
        self.layout_.addWidget(self.derivatives, 1)
        self.layout_.addLayout(row)
        self.layout_.addWidget(self.walk, 2)
        self.layout_.addWidget(self.walk_note)
        self.seed_box.currentTextChanged.connect(self._show_walk)

    @staticmethod
    def _table(headers):
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        return table

    @staticmethod
    def job(source, **options):
        """See :func:`compute_modes`."""
        return compute_modes(source)

    def show_result(self, data: ModesData) -> None:
        """Fill the counters, the derivatives and the walk chooser."""
        self.status.setText("")
        p, m = data.passes, data.multiply_adds
        shape = "a single number" if not data.output_shape else \
            "×".join(map(str, data.output_shape)) + " entries"
        winner = {"forward": "forward mode", "reverse": "reverse mode",
                  "tie": "neither"}[data.winner]
        self.counters.setText(
            f"<b>Forward mode</b>: {p['forward']} pass{'es' if p['forward'] != 1 else ''} "
            f"(one per input entry), {m['forward']:,} multiply-adds.<br>"
            f"<b>Reverse mode</b>: {p['reverse']} pass{'es' if p['reverse'] != 1 else ''} "
            f"(one per output entry; {data.output} is {shape}), {m['reverse']:,} "
            f"multiply-adds.<br>Less work here: <b>{winner}</b>. Many inputs and one output "
            "(a loss): reverse wins; one input and many outputs: forward wins.")
        self.counters.setToolTip(data.counting)
        self.derivatives.setRowCount(len(data.rows))
        for r, cells in enumerate(data.rows):
            for c, text in enumerate(cells):
                self.derivatives.setItem(r, c, QTableWidgetItem(text))
        current = self.seed_box.currentText()
        self.seed_box.blockSignals(True)
        self.seed_box.clear()
        self.seed_box.addItems(list(data.walks))
        if current in data.walks:
            self.seed_box.setCurrentText(current)
        self.seed_box.blockSignals(False)
        self._show_walk(self.seed_box.currentText())

    def clear_result(self) -> None:
        """Empty the tables."""
        self.derivatives.setRowCount(0)
        self.walk.setRowCount(0)
        self.counters.setText("")
        self.walk_note.setText("")

    def _show_walk(self, seed: str) -> None:
        data = self.data
        if data is None or seed not in data.walks:
            self.walk.setRowCount(0)
            return
        steps = data.walks[seed]
        self.walk.setHorizontalHeaderLabels(["value", "value", f"tangent (d value / d{seed})"])
        self.walk.setRowCount(len(steps))
        for r, cells in enumerate(steps):
            for c, text in enumerate(cells):
                self.walk.setItem(r, c, QTableWidgetItem(text))
        self.walk_note.setText(
            f"One forward pass with {seed}'s tangent set to 1 (every other input's to 0): each "
            f"value carries its derivative with respect to {seed} along, and {data.output}'s "
            f"tangent {data.walk_outputs[seed]} is d{data.output}/d{seed}.")
