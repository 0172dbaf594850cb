"""The v of ``y.backward(v)``: the window's field for an output with several entries.

torch refuses ``y.backward()`` when y has more than one entry; it needs a gradient v shaped
like y, and then gives every input the vector-Jacobian product vᵀJ. The field appears under
the variables as soon as a result has such an output, holding ones of its shape (what
``y.backward(torch.ones_like(y))`` uses), and takes any value a variable takes (a number, a
nested list, ``ones(2, 3)``, ``full((2, 3), 0.5)``). Empty means ones again.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QVBoxLayout, QWidget

from core.errors import ExpressionError
from core.language.values import format_shape, parse_value, shape_of
from gui.compute import GRAD_OUTPUT_LABEL

BAD = QColor("#ffd6d6")


def ones_text(shape: tuple) -> str:
    """``ones(2, 3)`` for a shape (the default v)."""
    return f"ones({', '.join(map(str, shape))})"


class GradOutputField(QWidget):
    """A labelled line edit for v; ``changed`` when the user commits a new v."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("gradOutputField")
        self.label = QLabel(GRAD_OUTPUT_LABEL + ":")
        self.label.setObjectName("gradOutputLabel")
        self.label.setWordWrap(True)
        self.edit = QLineEdit()
        self.edit.setObjectName("gradOutput")
        self.edit.setAccessibleName(GRAD_OUTPUT_LABEL)
        self.edit.setToolTip(
            "The output has several entries, so torch needs y.backward(v) with a v shaped "
            "like it; every gradient is then vᵀJ (the gradient of the number sum(v * y)). "
            "A number, a nested list, or ones(...), full(..., 0.5). Empty: ones.")
        self.label.setBuddy(self.edit)
        self.shape_label = QLabel()
        self.reset = QToolButton()
        self.reset.setText("ones")
        self.reset.setToolTip("v back to ones of the output's shape")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.shape_label)
        row.addWidget(self.reset)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addLayout(row)
        self._shape: tuple | None = None
        self._custom: str | None = None  # the text the user typed (None: the default)
        self._default: str | None = None  # the v a pasted cell wrote (None: ones)
        self.edit.editingFinished.connect(self._committed)
        self.reset.clicked.connect(self._reset)
        self.setVisible(False)

    # -------------------------------------------------------------------- state

    @property
    def custom_text(self) -> str | None:
        """The v the user typed, or None for the default ones (what a session saves)."""
        return self._custom

    def set_custom_text(self, text: str | None) -> None:
        """Put a v in place (a session's); None or empty: ones."""
        self._custom = text.strip() if text and text.strip() else None
        self._show_text()

    def forget(self) -> None:
        """A new text or example: back to ones, hidden until an output needs it."""
        self._custom = None
        self._shape = self._default = None
        self._show_text()
        self.setVisible(False)

    def set_output_shape(self, shape: tuple | None, default: str | None = None) -> None:
        """The computed output's shape when it has several entries (the field shows), or
        None for an output of one number (it hides; v is not used then). ``default``: the
        v the text itself gives (a pasted cell's ``y.backward(v)``), shown instead of ones."""
        self._shape = shape
        self._default = default
        self.setVisible(shape is not None)
        if shape is not None:
            self.shape_label.setText(f"shape {format_shape(shape)}")
        self._show_text()

    def value(self):
        """The v to compute with: None for ones, else the parsed value. Raises
        :class:`ExpressionError` (where: the field's label) when the text is not a value."""
        if self._custom is None:
            return None
        return parse_value(self._custom, where=GRAD_OUTPUT_LABEL)

    # -------------------------------------------------------------------- editing

    def _default_text(self) -> str:
        if self._default is not None:
            return self._default
        return ones_text(self._shape) if self._shape is not None else ""

    def _show_text(self) -> None:
        default = self._default_text()
        self.edit.blockSignals(True)
        self.edit.setText(self._custom if self._custom is not None else default)
        self.edit.blockSignals(False)
        self._flag()

    def _flag(self) -> None:
        palette = self.edit.palette()
        problem = None
        try:
            value = self.value()
            if value is not None and self._shape is not None \
                    and tuple(shape_of(value)) != tuple(self._shape):
                problem = (f"v has shape {format_shape(shape_of(value))}; the output has "
                           f"shape {format_shape(self._shape)}")
        except ExpressionError as err:
            problem = err.message
        self.problem = problem
        palette.setBrush(QPalette.ColorRole.Base, QBrush(BAD) if problem else
                         self.style().standardPalette().brush(QPalette.ColorRole.Base))
        self.edit.setPalette(palette)
        if problem:
            self.edit.setToolTip(f"{GRAD_OUTPUT_LABEL}: {problem}")

    def _committed(self) -> None:
        text = self.edit.text().strip()
        default = self._default_text()
        custom = None if not text or text == default else text
        if custom == self._custom:
            return
        self._custom = custom
        self._show_text()
        self.changed.emit()

    def _reset(self) -> None:
        if self._custom is None:
            return
        self._custom = None
        self._show_text()
        self.changed.emit()
