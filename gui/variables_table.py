"""The variables table: one row per free name of the expression (value, shape, requires-grad).

Rows follow ``Program.free_names``; a value typed for a name is remembered when the name
disappears and comes back. Values are read with :func:`core.values.parse_value` (never
``eval``); a bad value is flagged red in its cell with the reason as tooltip.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from core.errors import ExpressionError
from core.values import VariableSpec, format_shape, parse_value, shape_of

NAME, VALUE, SHAPE, GRAD = range(4)
BAD = QColor(255, 205, 205)


def value_text(value) -> str:
    """A value (number or nested list) as text the value parser reads back."""
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    number = float(value)
    return str(int(number)) + ".0" if number.is_integer() and abs(number) < 1e15 else repr(number)


class VariablesTable(QTableWidget):
    """Values and requires-grad switches for the expression's inputs.

    ``changed`` fires when a value or a switch is edited by the user.
    """

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels(["Name", "Value", "Shape", "Grad"])
        header = self.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(VALUE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(SHAPE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(GRAD, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeaderItem(GRAD).setToolTip(
            "requires_grad: compute the gradient of the output with respect to this input")
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setAlternatingRowColors(True)
        self._remembered: dict[str, tuple[str, bool]] = {}
        self._updating = False
        self.itemChanged.connect(self._item_changed)

    # ------------------------------------------------------------------ rows

    def names(self) -> list[str]:
        """The variable names, in row order."""
        return [self.item(row, NAME).text() for row in range(self.rowCount())]

    def sync_names(self, names: list[str], defaults: dict | None = None) -> None:
        """Show exactly ``names``; new names get a remembered value, a default from
        ``defaults`` (name -> VariableSpec or value), or 1.0."""
        if names == self.names():
            return
        current = self.entries()
        self._remembered.update(current)
        self._updating = True
        self.setRowCount(0)
        for name in names:
            if name in self._remembered:
                text, grad = self._remembered[name]
            elif defaults and name in defaults:
                spec = defaults[name]
                if isinstance(spec, VariableSpec):
                    text, grad = value_text(spec.value), spec.requires_grad
                else:
                    text, grad = value_text(spec), True
            else:
                text, grad = "1.0", True
            self._add_row(name, text, grad)
        self._updating = False
        self.validate()

    def set_entries(self, entries: dict[str, tuple[str, bool]]) -> None:
        """Replace all rows with ``entries`` (name -> (value text, requires_grad))."""
        self._remembered.update(entries)
        self._updating = True
        self.setRowCount(0)
        for name, (text, grad) in entries.items():
            self._add_row(name, text, grad)
        self._updating = False
        self.validate()

    def entries(self) -> dict[str, tuple[str, bool]]:
        """name -> (value text, requires_grad) as shown."""
        checked = Qt.CheckState.Checked
        return {self.item(r, NAME).text(): (self.item(r, VALUE).text(),
                                            self.item(r, GRAD).checkState() == checked)
                for r in range(self.rowCount())}

    def set_value(self, name: str, text: str, requires_grad: bool | None = None) -> None:
        """Set one row's value text (and switch), as if the user typed it."""
        row = self.names().index(name)
        self.item(row, VALUE).setText(text)
        if requires_grad is not None:
            self.item(row, GRAD).setCheckState(
                Qt.CheckState.Checked if requires_grad else Qt.CheckState.Unchecked)

    def _add_row(self, name: str, text: str, grad: bool) -> None:
        row = self.rowCount()
        self.insertRow(row)
        name_item = QTableWidgetItem(name)
        name_item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        font = name_item.font()
        font.setBold(True)
        name_item.setFont(font)
        shape_item = QTableWidgetItem("")
        shape_item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        shape_item.setForeground(QBrush(QColor("#666666")))
        grad_item = QTableWidgetItem("")
        grad_item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
        grad_item.setCheckState(Qt.CheckState.Checked if grad else Qt.CheckState.Unchecked)
        grad_item.setToolTip("requires_grad")
        self.setItem(row, NAME, name_item)
        self.setItem(row, VALUE, QTableWidgetItem(text))
        self.setItem(row, SHAPE, shape_item)
        self.setItem(row, GRAD, grad_item)

    # ------------------------------------------------------------------ values

    def validate(self) -> dict[str, ExpressionError]:
        """Check every value, flag the bad ones, update shapes; returns name -> error."""
        errors = {}
        self._updating = True
        for row in range(self.rowCount()):
            name = self.item(row, NAME).text()
            value_item = self.item(row, VALUE)
            try:
                value = parse_value(value_item.text(), where=name)
            except ExpressionError as err:
                errors[name] = err
                value_item.setBackground(QBrush(BAD))
                value_item.setToolTip(f"{name}: {err.message}")
                self.item(row, SHAPE).setText("?")
            else:
                value_item.setBackground(QBrush())
                value_item.setToolTip("a number, or a nested list such as [[1, 2], [3, 4]]")
                self.item(row, SHAPE).setText(format_shape(shape_of(value)))
        self._updating = False
        return errors

    def specs(self) -> tuple[dict[str, VariableSpec], dict[str, ExpressionError]]:
        """The variables as VariableSpecs, and the errors of those that do not parse."""
        specs, errors = {}, {}
        for name, (text, grad) in self.entries().items():
            try:
                specs[name] = VariableSpec(name, parse_value(text, where=name), grad)
            except ExpressionError as err:
                errors[name] = err
        return specs, errors

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating:
            return
        if item.column() in (VALUE, GRAD):
            self.validate()
            self.changed.emit()
