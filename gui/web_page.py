"""File > Export Web Page: the step-through as one self-contained HTML file
(core.teaching.html_export), written on a worker from the graph and trace on screen, folded as the
window shows it."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from gui.files import last_directory
from gui.workers import Worker


def export_web_page(w, path: str) -> Worker | None:
    """Write the interactive page of the result on screen to ``path`` (on a worker); the
    window emits ``exported(path)`` when it is written."""
    from gui.step_files import _steps_source

    source = _steps_source(w)
    if source is None:
        return None
    graph, trace = source[-2:]  # (evaluation, graph, trace)
    folding = getattr(w.drawing, "folding", None)
    w.settings.setValue("lastDirectory", str(Path(path).parent))
    worker = Worker(_write, str(path), graph, trace, folding)

    def done(written: str) -> None:
        w.statusBar().showMessage(f"Exported the web page to {Path(written).name}", 8000)
        w.exported.emit(written)

    worker.signals.returned.connect(done)
    worker.signals.errored.connect(w.show_error)
    w._web_page_worker = worker  # keep the Python wrapper alive until it reports
    w.statusBar().showMessage("Exporting the web page…")
    worker.start(w.pool)
    return worker


def _write(path: str, graph, trace, folding) -> str:
    from core.teaching.html_export import write_html

    write_html(path, graph, trace, folding=folding)
    return path


def export_web_page_dialog(w) -> None:
    """Ask for an .html file name, then export the page into it."""
    from gui.step_files import _steps_source

    if _steps_source(w) is None:
        return
    start = str(Path(last_directory(w)) / "steps.html")
    path, _ = QFileDialog.getSaveFileName(w, "Export Web Page", start, "Web page (*.html)")
    if not path:
        return
    if Path(path).suffix.lower() not in (".html", ".htm"):
        path += ".html"
    export_web_page(w, path)
