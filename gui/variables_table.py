"""The variables table: one row per free name of the expression (value, shape, requires-grad,
and where the value came from).

Rows follow ``Program.free_names`` and are updated incrementally (only added, removed or
redefined rows change). Where a value comes from, in order of precedence:

* the text itself (a pasted cell's ``w = torch.tensor(1.0, requires_grad=True)``): a value the
  current text defines always wins over anything remembered, unless the user edits that row;
* an example or a session, as loaded;
* what the user typed in the row;
* a value remembered from an earlier text, used only for a name the current text does not
  define;
* 1.0 for a new name.

The "From" column says which. Values are read with :func:`core.language.values.parse_value` (never
``eval``), once per edit (a parse cache keyed by the text keeps large values from being read
again at every keystroke); a bad value is flagged red in its cell with the reason as tooltip.
"""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from core.errors import ExpressionError
from core.language.values import VariableSpec, format_shape, parse_value, shape_of
from gui.table_batch import RowsPerPass, batch_fill, limit_measuring

NAME, VALUE, SHAPE, GRAD, SOURCE = range(5)
#: The Value column's least width (px): its header and a value such as "[[1, 0.5], …" stay
#: readable. In a 300-pixel column (a 1024-pixel projector) the From column left it 30 px.
VALUE_MIN_WIDTH = 100
BAD = QColor(255, 205, 205)
# item flags and brushes made once (thousands of rows are filled at a time)
READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
CHECKABLE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
GREY = QBrush(QColor("#666666"))  # the light theme's; set_secondary_colour changes it
#: origin -> (short text in the From column, its tooltip)
ORIGINS = {
    "text": ("text", "defined by the text itself (a pasted cell's definition); it wins over "
             "any value remembered from before"),
    "example": ("example", "the loaded example's value"),
    "session": ("session", "the opened session's value"),
    "typed": ("typed", "typed in this table"),
    "earlier": ("earlier", "remembered from an earlier text: the current text does not "
                "define this name"),
    "default": ("default", "a new name starts at 1.0: type its value"),
}


def value_text(value) -> str:
    """A value (number, nested list or constructor value) as text the value parser reads
    back."""
    if hasattr(value, "text") and callable(value.text):  # core.language.values.Filled
        return value.text()
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
        super().__init__(0, 5, parent)
        self.setHorizontalHeaderLabels(["Name", "Value", "Shape", "Grad", "From"])
        header = self.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(VALUE, QHeaderView.ResizeMode.Stretch)
        for column in (SHAPE, GRAD, SOURCE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeaderItem(GRAD).setToolTip(
            "requires_grad: compute the gradient of the output with respect to this input")
        self.horizontalHeaderItem(SOURCE).setToolTip(
            "Where the value came from: the text, an example, a session, typed here, "
            "remembered from an earlier text, or the default 1.0")
        self.verticalHeader().setVisible(False)
        limit_measuring(self)
        self.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setAlternatingRowColors(True)
        #: name -> (value text, requires_grad) of rows that went away (an earlier text)
        self._remembered: dict[str, tuple[str, bool, str]] = {}  # ... and its origin
        #: name -> the text's definition the row was last set from (to tell a redefinition)
        self._definitions: dict[str, tuple[str, bool]] = {}
        #: name -> (value text, parsed value or the ExpressionError reading it gave)
        self._parsed: dict[str, tuple[str, object]] = {}
        #: rows just set from an example or session: the next definitions seen are recorded,
        #: not applied (a session saved after editing a defined value keeps the edit)
        self._adopt_definitions = False
        #: rows (name, text, grad, origin) still to be added, a chunk per event-loop pass
        self._pending: list[tuple[str, str, bool, str]] = []
        self._fill_generation = 0
        self._rows_per_pass = RowsPerPass()
        self._secondary = GREY  # the Shape and From columns' quieter text
        self._updating = False
        self._bold = self.font()
        self._bold.setBold(True)
        self.itemChanged.connect(self._item_changed)

    # ------------------------------------------------------------------ rows

    def names(self) -> list[str]:
        """The variable names, in row order (rows still to be added included)."""
        return [self.item(row, NAME).text() for row in range(self.rowCount())] + \
            [p[0] for p in self._pending]

    def origin(self, name: str) -> str | None:
        """Where ``name``'s value came from (a key of :data:`ORIGINS`), or None."""
        row = self._row(name)
        if row is None:
            return next((p[3] for p in self._pending if p[0] == name), None)
        return self.item(row, SOURCE).data(Qt.ItemDataRole.UserRole)

    def filling(self) -> bool:
        """True while rows of a long list of names are still being added."""
        return bool(self._pending)

    def _add_later(self, rows: list[tuple[str, str, bool, str]]) -> None:
        """Add ``rows`` (name, text, grad, origin) at the end: a pass's worth now
        (gui.table_batch.RowsPerPass), the rest on later passes of the event loop (thousands
        of names must not freeze the window)."""
        self._pending = list(rows)
        self._fill_generation += 1
        self._add_pending(self._fill_generation)

    def _add_pending(self, generation: int) -> None:
        if generation != self._fill_generation or not self._pending:
            return
        count = self._rows_per_pass.rows
        chunk, self._pending = self._pending[:count], self._pending[count:]
        started = time.thread_time()
        self._materialize(chunk)
        self._rows_per_pass.measured(len(chunk), time.thread_time() - started)
        if self._pending:
            QTimer.singleShot(0, self, lambda: self._add_pending(generation))

    def refresh_fonts(self) -> None:
        """Take the table's (new) font size in every row, keeping each value's origin (the
        window once re-set every row for this, and each then said it came from an
        example)."""
        self.flush()
        self._bold = self.font()
        self._bold.setBold(True)
        self._updating = True
        for row in range(self.rowCount()):
            item = self.item(row, NAME)
            if item is not None:
                item.setFont(self._bold)
        self._updating = False
        self.resizeRowsToContents()

    def set_secondary_colour(self, colour: QColor) -> None:
        """The Shape and From columns' quieter text colour, from the window's theme (a grey
        for white paper nearly vanished on the dark and the high-contrast backgrounds)."""
        self._secondary = QBrush(colour)
        self._updating = True
        for row in range(self.rowCount()):
            for column in (SHAPE, SOURCE):
                item = self.item(row, column)
                if item is not None:
                    item.setForeground(self._secondary)
        self._updating = False

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Keep the Value column readable at every width (fit_columns)."""
        super().resizeEvent(event)
        self.fit_columns()

    def fit_columns(self) -> None:
        """Show the From column only while the Value column keeps VALUE_MIN_WIDTH beside it;
        in a narrow column (a 1024-pixel projector) From goes (its words stay in the Name
        cell's tooltip) and comes back when there is room."""
        header = self.horizontalHeader()
        beside = sum(max(header.sectionSizeHint(column), self.sizeHintForColumn(column))
                     for column in (NAME, SHAPE, GRAD, SOURCE))
        spare = self.viewport().width() - beside
        hide = spare < VALUE_MIN_WIDTH
        if hide != self.isColumnHidden(SOURCE):
            self.setColumnHidden(SOURCE, hide)

    def _materialize(self, chunk) -> None:
        start = self.rowCount()
        self._updating = True
        with batch_fill(self):
            self.setRowCount(start + len(chunk))
            for offset, row in enumerate(chunk):
                self._fill_row(start + offset, *row)
            self.validate(range(start, start + len(chunk)))
        self._updating = False
        if start == 0:
            self.fit_columns()

    def flush(self) -> None:
        """Add every row still waiting, now (before the rows are changed otherwise)."""
        self._fill_generation += 1
        if self._pending:
            chunk, self._pending = self._pending, []
            self._materialize(chunk)

    def forget(self) -> None:
        """Forget remembered values (File > New): a new text starts from defaults."""
        self._remembered.clear()
        self._definitions.clear()

    def sync_names(self, names: list[str], defaults: dict | None = None) -> None:
        """Show exactly ``names``, changing only the rows that differ.

        A name the text defines (``defaults``: name -> VariableSpec or value) gets that value
        unless the row already holds the same definition (then the user's edit stays); other
        new names get a remembered value, else 1.0."""
        wanted = {name: _definition(defaults[name]) for name in names
                  if defaults and name in defaults}
        adopt, self._adopt_definitions = self._adopt_definitions, False
        if names == self.names() and all(self._definitions.get(n) == d
                                          for n, d in wanted.items()):
            return
        self._updating = True
        try:
            with batch_fill(self):
                self._sync_rows(names, wanted, adopt)
        finally:
            self._updating = False
        # only new or redefined rows (their shape cell is still empty) need checking
        with batch_fill(self):
            self.validate([r for r in range(self.rowCount())
                           if not self.item(r, SHAPE).text()])

    def _sync_rows(self, names: list[str], wanted: dict, adopt: bool) -> None:
        self.flush()
        keep = set(names)
        for row in reversed(range(self.rowCount())):
            name = self.item(row, NAME).text()
            if name not in keep:
                self._remembered[name] = (*self._entry(row), self._origin_at(row))
                self._definitions.pop(name, None)
                self._parsed.pop(name, None)
                self.removeRow(row)
        survivors = self.names()
        if survivors != [n for n in names if n in set(survivors)]:
            self._rebuild(names, wanted)  # reordered: rare enough to redo all rows
        else:
            self._insert_missing(names, set(survivors), wanted)
        rows = {name: row for row, name in enumerate(names)}
        for name, definition in wanted.items():
            if adopt and name in survivors:
                self._definitions[name] = definition
            elif self._definitions.get(name) != definition:
                self._definitions[name] = definition
                self._set_row(rows[name], *definition, "text")

    def _insert_missing(self, names: list[str], present: set[str], wanted: dict) -> None:
        new = [(index, name) for index, name in enumerate(names) if name not in present]
        if not present and new:  # all new (a pasted program): added a chunk at a time
            self._add_later([(name, *self._start_value(name, wanted)) for name in names])
            return
        for index, name in new:
            self.insertRow(index)
            self._fill_row(index, name, *self._start_value(name, wanted))

    def _rebuild(self, names: list[str], wanted: dict) -> None:
        entries = {self.item(r, NAME).text(): (*self._entry(r), self._origin_at(r))
                   for r in range(self.rowCount())}
        self.setRowCount(0)
        self.setRowCount(len(names))
        for index, name in enumerate(names):
            self._fill_row(index, name, *(entries.get(name) or self._start_value(name, wanted)))

    def _start_value(self, name: str, wanted: dict) -> tuple[str, bool, str]:
        """A new row's value: the text's definition, else a remembered value, else 1.0."""
        if name in wanted:
            self._definitions[name] = wanted[name]
            return (*wanted[name], "text")
        if name in self._remembered:
            text, grad, origin = self._remembered[name]
            # a definition of a text that is gone no longer comes "from the text"
            return text, grad, "earlier" if origin == "text" else origin
        return "1.0", True, "default"

    def set_entries(self, entries: dict[str, tuple[str, bool]], origin: str = "example") -> None:
        """Replace all rows with ``entries`` (name -> (value text, requires_grad)), which came
        from ``origin`` (an example or a session)."""
        self._remembered.update({name: (*entry, origin) for name, entry in entries.items()})
        self._definitions.clear()
        self._parsed.clear()
        self._adopt_definitions = True
        self._pending = []
        self.setRowCount(0)
        self._add_later([(name, text, grad, origin) for name, (text, grad) in entries.items()])

    def entries(self) -> dict[str, tuple[str, bool]]:
        """name -> (value text, requires_grad) as shown (rows still to be added included)."""
        shown = {self.item(r, NAME).text(): self._entry(r) for r in range(self.rowCount())}
        shown.update((p[0], (p[1], p[2])) for p in self._pending)
        return shown

    def set_value(self, name: str, text: str, requires_grad: bool | None = None) -> None:
        """Set one row's value text (and switch), as if the user typed it."""
        self.flush()
        row = self.names().index(name)
        self.item(row, VALUE).setText(text)
        if requires_grad is not None:
            self.item(row, GRAD).setCheckState(
                Qt.CheckState.Checked if requires_grad else Qt.CheckState.Unchecked)

    def _row(self, name: str) -> int | None:
        items = self.findItems(name, Qt.MatchFlag.MatchExactly)
        return next((i.row() for i in items if i.column() == NAME), None)

    def _entry(self, row: int) -> tuple[str, bool]:
        return (self.item(row, VALUE).text(),
                self.item(row, GRAD).checkState() == Qt.CheckState.Checked)

    def _origin_at(self, row: int) -> str:
        return self.item(row, SOURCE).data(Qt.ItemDataRole.UserRole)

    def _fill_row(self, row: int, name: str, text: str, grad: bool, origin: str) -> None:
        name_item = QTableWidgetItem(name)
        name_item.setFlags(READ_ONLY)
        name_item.setFont(self._bold)
        shape_item = QTableWidgetItem("")
        shape_item.setFlags(READ_ONLY)
        shape_item.setForeground(self._secondary)
        grad_item = QTableWidgetItem("")
        grad_item.setFlags(CHECKABLE)
        grad_item.setToolTip("requires_grad")
        source_item = QTableWidgetItem("")
        source_item.setFlags(READ_ONLY)
        source_item.setForeground(self._secondary)
        self.setItem(row, NAME, name_item)
        self.setItem(row, VALUE, QTableWidgetItem(text))
        self.setItem(row, SHAPE, shape_item)
        self.setItem(row, GRAD, grad_item)
        self.setItem(row, SOURCE, source_item)
        self._set_row(row, text, grad, origin)

    def _set_row(self, row: int, text: str, grad: bool, origin: str) -> None:
        self.item(row, VALUE).setText(text)
        self.item(row, SHAPE).setText("")  # to be validated
        self.item(row, GRAD).setCheckState(Qt.CheckState.Checked if grad
                                           else Qt.CheckState.Unchecked)
        self._set_origin(row, origin)

    def _set_origin(self, row: int, origin: str) -> None:
        short, tip = ORIGINS[origin]
        item = self.item(row, SOURCE)
        item.setText(short)
        item.setToolTip(tip)
        item.setData(Qt.ItemDataRole.UserRole, origin)
        name = self.item(row, NAME)
        if name is not None:  # also where the From column is hidden for room
            name.setToolTip(f"{name.text()}: {short}, {tip}")

    # ------------------------------------------------------------------ values

    def _parse(self, name: str, text: str):
        cached = self._parsed.get(name)
        if cached is not None and cached[0] == text:
            return cached[1]
        try:
            value = parse_value(text, where=name)
        except ExpressionError as err:
            value = err
        self._parsed[name] = (text, value)
        return value

    def validate(self, rows=None) -> dict[str, ExpressionError]:
        """Check every value (or those of ``rows``), flag the bad ones, update shapes;
        returns name -> error of the checked rows."""
        errors = {}
        self._updating = True
        for row in range(self.rowCount()) if rows is None else rows:
            name = self.item(row, NAME).text()
            value_item = self.item(row, VALUE)
            value = self._parse(name, value_item.text())
            if isinstance(value, ExpressionError):
                errors[name] = value
                value_item.setBackground(QBrush(BAD))
                value_item.setToolTip(f"{name}: {value.message}")
                self.item(row, SHAPE).setText("?")
            else:
                value_item.setBackground(QBrush())
                value_item.setToolTip("a number, a nested list such as [[1, 2], [3, 4]], or "
                                      "ones(2, 3), zeros(3), full((2, 3), 0.5), eye(3)")
                self.item(row, SHAPE).setText(format_shape(shape_of(value)))
        self._updating = False
        return errors

    def specs(self) -> tuple[dict[str, VariableSpec], dict[str, ExpressionError]]:
        """The variables as VariableSpecs, and the errors of those that do not parse."""
        specs, errors = {}, {}
        for name, (text, grad) in self.entries().items():
            value = self._parse(name, text)
            if isinstance(value, ExpressionError):
                errors[name] = value
            else:
                specs[name] = VariableSpec(name, value, grad)
        return specs, errors

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating:
            return
        if item.column() in (VALUE, GRAD):
            self._updating = True
            self._set_origin(item.row(), "typed")
            self._updating = False
            self.validate([item.row()])
            self.changed.emit()


def _definition(spec) -> tuple[str, bool]:
    """A text's definition of a name (VariableSpec or plain value) as (value text, grad)."""
    if isinstance(spec, VariableSpec):
        return value_text(spec.value), spec.requires_grad
    return value_text(spec), True
