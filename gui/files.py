"""Everything the window reads or writes: sessions, exported graphs, the clipboard image,
recent files, and window layout plus last session in QSettings.
"""
from __future__ import annotations

from functools import partial
from importlib.resources import files as _resources
from pathlib import Path

from PySide6.QtCore import QByteArray, QSize
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from core.errors import ExpressionError
from core.safe_io import atomic_write
from gui import document
from gui import export_places as places
from gui.session import Session, VariableEntry, load_session, save_session, session_from_json
from gui.workers import Worker

MAX_RECENT = 8
#: the longest path accepted from the stored settings
MAX_PATH_CHARS = 4_096
EXPORT_FILTERS = {"svg": "SVG vector image (*.svg)", "png": "PNG image (*.png)",
                  "pdf": "PDF document (*.pdf)"}


def resource_path(relative: str) -> str:
    """A file shipped in ``resources/`` as a filesystem path."""
    return str(_resources("resources") / relative)


# ------------------------------------------------------------------ sessions

def current_session(w) -> Session:
    """The window's state as a :class:`Session`."""
    entries = {name: VariableEntry(text, grad) for name, (text, grad) in
               w.variables.entries().items()}
    settings = dict(w.graph_options)
    if w.current_reference() is not None:  # still the example as loaded: keep its card
        settings["example"] = w.example.title
    return Session(w.editor.toPlainText(), entries, w.dtype_box.currentText(), settings,
                   w.grad_output.custom_text)


def apply_session(w, session: Session, compute: bool = True) -> None:
    """Put a (validated) session into the window and (unless ``compute`` is False)
    compute it."""
    from gui.examples import load_examples

    w.example = next((e for e in load_examples() if e.title == session.settings.get("example")
                      and e.expression == session.expression), None)
    w.example_label.setVisible(w.example is not None)
    if w.example is not None:
        w.example_label.setText(f"<b>{w.example.title}</b><br>{w.example.explanation}")
    w.grad_output.forget()
    w.grad_output.set_custom_text(session.grad_output)
    w.editor.set_text(session.expression)
    w.variables.set_entries({n: (e.value, e.requires_grad) for n, e in session.variables.items()},
                            "session")
    w.dtype_box.blockSignals(True)
    w.dtype_box.setCurrentText(session.dtype)
    w.dtype_box.blockSignals(False)
    for key in ("annotate", "rankdir", "show_saved"):
        if key in session.settings:
            w.graph_options[key] = session.settings[key]
    w.lr_action.blockSignals(True)
    w.lr_action.setChecked(w.graph_options.get("rankdir") == "LR")
    w.lr_action.blockSignals(False)
    w.saved_action.blockSignals(True)
    w.saved_action.setChecked(bool(w.graph_options.get("show_saved")))
    w.saved_action.blockSignals(False)
    w.on_text_changed()
    w.commit_names()
    if compute:
        w.compute_now()


def open_session(w, path: str) -> bool:
    """Open the session at ``path``; on any problem show the message and change nothing."""
    from gui.workers import run_beside_the_gui
    try:
        # read and checked on another thread: a hostile file (5 MB of small JSON values)
        # takes a moment to refuse, and the window keeps responding meanwhile
        session = run_beside_the_gui(load_session, path)
    except ExpressionError as err:
        w.statusBar().showMessage(str(err), 15000)
        w.failed.emit(err)
        if w.isVisible() and not getattr(w, "quiet_dialogs", False):
            QMessageBox.warning(w, "Cannot open session", err.message)
        return False
    apply_session(w, session)
    w.session_path = str(path)
    add_recent(w, str(path))
    document.mark_clean(w, Path(path).name)
    w.statusBar().showMessage(f"Opened {Path(path).name}", 5000)
    return True


def save_session_to(w, path: str) -> bool:
    """Save the window's session to ``path``."""
    try:
        save_session(current_session(w), path)
    except ExpressionError as err:
        w.statusBar().showMessage(str(err), 15000)
        w.failed.emit(err)
        return False
    w.session_path = str(path)
    add_recent(w, str(path))
    document.mark_clean(w, Path(path).name)
    w.statusBar().showMessage(f"Saved {Path(path).name}", 5000)
    return True


def new_session(w) -> bool:
    """An empty expression with no variables, nothing remembered from before (after asking
    about unsaved edits; Ctrl+Z brings the text back). False if the user cancelled."""
    if not document.maybe_save(w, "start a new expression"):
        return False
    w.example = None
    w.session_path = None
    w.hold_compute = False
    w.compute_jobs.cancel()
    w.example_label.setVisible(False)
    w.editor.set_text("")
    w.variables.set_entries({})
    w.variables.forget()
    w.grad_output.forget()
    w._committed_names = None
    w.dtype_box.blockSignals(True)
    w.dtype_box.setCurrentText("float32")  # torch's default, as for any new text
    w.dtype_box.blockSignals(False)
    w.show_notes([])
    w.clear_error()
    w.set_stale(False)
    w.forget_result()
    w.details.show_details(None)
    w.graph.show_message("Type an expression on the left, e.g.  f = x * sin(x)")
    w.zoom_label.setText("")
    w.statusBar().clearMessage()
    document.mark_clean(w, None)
    w.editor.setFocus()
    return True


def open_session_dialog(w) -> None:
    """Ask for a session file and open it."""
    if not document.maybe_save(w, "open another file"):
        return
    path, _ = QFileDialog.getOpenFileName(
        w, "Open Session or Program", places.folder(w, "session"),
        "Autograd Explorer sessions (*.json);;Programs and notebook cells (*.py *.txt);;"
        "All files (*)")
    if path:
        document.open_path(w, path)


def save_session_action(w) -> None:
    """Save to the current file, or ask for one."""
    if w.session_path:
        save_session_to(w, w.session_path)
    else:
        save_session_dialog(w)


def save_session_dialog(w) -> None:
    """Ask for a file name and save the session there."""
    path, _ = QFileDialog.getSaveFileName(w, "Save Session",
                                          places.start_path(w, "session", ".json"),
                                          "Autograd Explorer sessions (*.json)")
    if path:
        if not path.lower().endswith(".json"):
            path += ".json"
        save_session_to(w, path)


def last_directory(w) -> str:
    """The folder of the last file opened or saved (the home folder if the stored setting
    is missing or not a sensible path)."""
    folder = w.settings.value("lastDirectory", "")
    if not isinstance(folder, str) or not folder or len(folder) > MAX_PATH_CHARS \
            or "\0" in folder:
        return str(Path.home())
    return folder


def setting_int(w, key: str, default: int, low: int, high: int) -> int:
    """An integer setting within [low, high]; anything else stored there (hand-edited or
    from another version) gives ``default``."""
    value = w.settings.value(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if low <= number <= high else default


# ------------------------------------------------------------------ recent files

def recent_files(w) -> list[str]:
    """Recently used session files, newest first."""
    value = w.settings.value("recentFiles", [])
    if isinstance(value, str):  # QSettings returns a lone string for one-element lists
        value = [value]
    if not isinstance(value, list):
        return []
    return [v for v in value[:MAX_RECENT] if isinstance(v, str) and 0 < len(v) <= MAX_PATH_CHARS
            and "\0" not in v]


def add_recent(w, path: str) -> None:
    """Put ``path`` first in the recent files."""
    items = [path] + [p for p in recent_files(w) if p != path]
    w.settings.setValue("recentFiles", items[:MAX_RECENT])
    places.remember(w, "session", path)
    update_recent_menu(w)


def update_recent_menu(w) -> None:
    """Rebuild File > Open Recent."""
    menu = w.recent_menu
    menu.clear()
    items = recent_files(w)
    for number, path in enumerate(items, 1):
        action = menu.addAction(f"&{number} {Path(path).name}")
        action.setToolTip(path)
        action.triggered.connect(partial(open_recent, w, path))
    menu.setEnabled(bool(items))


def open_recent(w, path: str) -> bool:
    """File > Open Recent: ask about unsaved edits, then open ``path``."""
    return document.maybe_save(w, "open another file") and open_session(w, path)


# ------------------------------------------------------------------ window state

def save_window(w) -> None:
    """Remember geometry, dock layout and the session for next time."""
    w.settings.setValue("window/geometry", w.saveGeometry())
    w.settings.setValue("window/state", w.saveState())
    w.dock_widths.save(w.settings)
    w.settings.setValue("session/last", current_session(w).to_json())
    # the next start shows the same name and modified marker (the edits are not in a file)
    w.settings.setValue("session/path", w.session_path or "")
    w.settings.setValue("session/name", w.document_name or "")
    w.settings.setValue("session/modified", document.is_modified(w))
    w.settings.setValue("compute/auto", w.auto_action.isChecked())
    w.settings.sync()


def restore_window(w) -> bool:
    """Restore geometry and dock layout; False on a first start (then a default size)."""
    geometry = w.settings.value("window/geometry")
    restored = isinstance(geometry, QByteArray) and w.restoreGeometry(geometry)
    if restored:
        state = w.settings.value("window/state")
        if isinstance(state, QByteArray):
            w.restoreState(state)
    else:
        # first start: the whole screen (the app then also asks for maximized), so the
        # graph is big from the first moment
        screen = QGuiApplication.primaryScreen()
        size = screen.availableSize() if screen else QSize(1600, 1000)
        w.resize(size)
    auto = w.settings.value("compute/auto", True)
    w.auto_action.setChecked(auto not in (False, "false"))
    return restored


def restore_last_session(w) -> bool:
    """Put back the session open at the last exit; False if there is none (or it is bad)."""
    text = w.settings.value("session/last")
    if not isinstance(text, str) or not text.strip():
        return False
    from gui.workers import run_beside_the_gui
    try:
        session = run_beside_the_gui(session_from_json, text, "the last session")
    except ExpressionError:
        return False
    if not session.expression.strip():
        return False
    apply_session(w, session, compute=False)
    path, name = w.settings.value("session/path", ""), w.settings.value("session/name", "")
    w.session_path = path if isinstance(path, str) and path else None
    document.mark_clean(w, name if isinstance(name, str) and name else None)
    if w.settings.value("session/modified", False) in (True, "true"):
        document.mark_values_modified(w)  # unsaved at the last exit: still unsaved
    if not last_compute_unfinished(w):
        w.compute_now()
    return True


def last_compute_unfinished(w) -> bool:
    """True if the last computation started in this settings' window never finished
    (the window froze or was closed while it ran)."""
    return w.settings.value("compute/unfinished", False) in (True, "true")


def set_compute_unfinished(w, running: bool) -> None:
    """Note that a computation started (written to disk at once: a frozen window may be
    killed) or ended."""
    if last_compute_unfinished(w) != running:
        w.settings.setValue("compute/unfinished", running)
        if running:
            w.settings.sync()


# ------------------------------------------------------------------ export

def export_dialog(w) -> None:
    """Ask where (and for PNG at what resolution) to export the graph, then export."""
    if w.drawing is None:
        w.statusBar().showMessage("Nothing to export yet: compute an expression first", 5000)
        return
    fmt = str(w.settings.value("export/format", "svg"))
    fmt = fmt if fmt in EXPORT_FILTERS else "svg"
    # the last format first, so that its filter is the one selected
    filters = ";;".join([EXPORT_FILTERS[fmt]] + [v for k, v in EXPORT_FILTERS.items()
                                                 if k != fmt])
    path, chosen = QFileDialog.getSaveFileName(w, "Export Graph",
                                               places.start_path(w, "graph", "." + fmt), filters)
    if not path:
        return
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in EXPORT_FILTERS:
        fmt = next(k for k, v in EXPORT_FILTERS.items() if v == chosen)
        path += "." + fmt
    dpi = 96
    if fmt == "png":
        dpi, ok = QInputDialog.getInt(w, "PNG resolution", "Dots per inch (300 for print):",
                                      setting_int(w, "export/dpi", 300, 36, 1200), 36, 1200, 12)
        if not ok:
            return
        w.settings.setValue("export/dpi", dpi)
    export_graph(w, path, fmt, dpi)


def _write_export(drawing, path: str, fmt: str, dpi: int, annotate: str | None = None,
                  caption: str | None = None, cancel_event=None) -> str:
    from gui import graph_source

    data = graph_source.export(drawing, fmt, dpi=dpi, annotate=annotate, caption=caption,
                               cancel=cancel_event)
    try:
        atomic_write(path, data)  # an existing file is replaced only by a complete one
    except ExpressionError as err:
        raise ExpressionError("export", err.message.replace(path, Path(path).name)) from None
    return path


def export_graph(w, path: str, fmt: str, dpi: int = 96) -> Worker | None:
    """Render the current graph as ``fmt`` on a worker and write it to ``path``; the window
    emits ``exported(path)`` when done."""
    if w.drawing is None:
        return None
    # the View menu's annotation (gradients too, even while the Steps reveal them one
    # by one on screen), and the program as a caption when File > Caption Exports is on
    worker = Worker(_write_export, w.drawing, str(path), fmt, dpi,
                    w.graph_options.get("annotate"), places.caption(w), pass_cancel=True)
    worker.signals.returned.connect(lambda p: (w.statusBar().showMessage(
        f"Exported {Path(p).name}", 5000), w.exported.emit(p)))
    worker.signals.errored.connect(w.show_error)
    places.remember(w, "graph", str(path))
    w.settings.setValue("export/format", fmt)
    track_export(w, "_export_worker", worker)  # Cancel (Esc) stops it
    return worker.start(w.pool)


def track_export(w, attribute: str, worker: Worker) -> None:
    """Keep an export's worker on the window until it has finished (the Python wrapper
    must outlive its signals) and let Cancel (Esc) stop it meanwhile."""
    setattr(w, attribute, worker)
    w.cancel_action.setEnabled(True)

    def finished() -> None:
        if getattr(w, attribute, None) is worker:
            setattr(w, attribute, None)
        w._update_busy()

    worker.signals.finished.connect(finished)


def cancel_exports(w) -> bool:
    """Stop the running exports (graph, steps); True if there was one."""
    running = [worker for worker in (getattr(w, "_export_worker", None),
                                     getattr(w, "_steps_export_worker", None))
               if worker is not None]
    for worker in running:
        worker.cancel()
    if running:
        w.statusBar().showMessage("Export cancelled", 4000)
    return bool(running)


def graph_image(w, scale: float = 2.0) -> QImage | None:
    """The graph as shown, painted at ``scale`` on white (for the clipboard)."""
    renderer = w.graph.renderer
    if not w.graph.has_graph():
        return None
    size = renderer.defaultSize() * scale
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def copy_image(w) -> None:
    """Copy the graph to the clipboard as an image."""
    image = graph_image(w)
    if image is None:
        w.statusBar().showMessage("Nothing to copy yet: compute an expression first", 5000)
        return
    QGuiApplication.clipboard().setImage(image)
    w.statusBar().showMessage(f"Graph copied ({image.width()}×{image.height()} pixels)", 5000)
