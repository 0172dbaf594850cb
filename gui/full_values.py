"""'Show Full Values': every entry of a large value or gradient, written out on a worker
(bounded by :data:`gui.summary.FULL_VALUES_LIMIT`) and shown in a read-only text window."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout

from gui.summary import Summary, full_text
from gui.workers import Worker


def show_full_values(w, name: str, which: str) -> Worker | None:
    """Write out ``name``'s value or gradient (``which``) of the result on screen."""
    result = w.result
    quantity = result.quantity(name) if result is not None else None
    data = None if quantity is None else getattr(quantity, which)
    if not isinstance(data, Summary):
        w.statusBar().showMessage("The table already shows every entry of this one "
                                  "(hover a cell for all digits)", 5000)
        return None
    label = f"∂{result.output_name}/∂{name}" if which == "grad" else name
    w.statusBar().showMessage(f"Writing out {data.numel:,} entries of {label}…")
    worker = Worker(full_text, data.tensor)
    worker.signals.returned.connect(lambda text: _show(w, label, text))
    worker.signals.errored.connect(w.show_error)
    w._full_values_worker = worker  # keep it alive until it reports
    return worker.start(w.pool)


def _show(w, label: str, text: str) -> None:
    dialog = QDialog(w)
    dialog.setObjectName("fullValuesDialog")
    dialog.setWindowTitle(f"{label}: full values")
    view = QPlainTextEdit()
    view.setReadOnly(True)
    view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    view.setPlainText(text)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(view)
    layout.addWidget(buttons)
    dialog.resize(900, 600)
    w.statusBar().clearMessage()
    w.full_values_dialog = dialog
    dialog.show()
