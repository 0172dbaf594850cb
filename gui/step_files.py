"""Export the recorded backward pass from the window: one multi-page PDF (a page per step)
and numbered PNG frames, through core.step_export, on a worker thread.

Graphviz draws every page (about 30 ms each on the seed examples, seconds on big graphs),
so the window only asks where to write and shows progress in the status bar. The pages are
drawn from the graph and trace of the drawing on screen (the pair always belongs to one
compute); that evaluation is only read here, never run backward again.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog

from core.errors import ExpressionError
from gui.files import last_directory, setting_int
from gui.workers import Worker

#: default resolution of PNG frames (good on a projector and in slides)
FRAME_DPI = 150


def _steps_source(w):
    """(graph, trace) of the drawing on screen, or None with a status message why not."""
    result = getattr(w, "drawn_result", None)
    drawing = w.drawing
    graph = getattr(drawing, "source", None) if drawing is not None else None
    trace = getattr(result, "trace", None)
    if graph is None or result is None or not hasattr(graph, "nodes"):
        w.statusBar().showMessage("Nothing to export yet: compute an expression first", 6000)
        return None
    if trace is None or not trace.steps:
        w.statusBar().showMessage("No backward steps to export: the output does not "
                                  "depend on any input that needs a gradient", 6000)
        return None
    return graph, trace


def _write_pdf(graph, trace, path: str) -> tuple[str, int]:
    from core.step_export import export_pdf

    try:
        pages = export_pdf(graph, trace, path)
    except OSError as err:
        raise ExpressionError("export", f"cannot write {Path(path).name}: "
                              f"{err.strerror or err}") from None
    return path, pages


def _write_frames(graph, trace, directory: str, dpi: int) -> tuple[str, int]:
    from core.step_export import export_frames

    try:
        paths = export_frames(graph, trace, directory, dpi=dpi)
    except OSError as err:
        raise ExpressionError("export", f"cannot write into {directory}: "
                              f"{err.strerror or err}") from None
    return directory, len(paths)


def _start(w, fn, *args, what: str) -> Worker:
    worker = Worker(fn, *args)

    def done(outcome) -> None:
        path, count = outcome
        w.statusBar().showMessage(f"Exported {count} {what} to {Path(path).name}", 8000)
        w.exported.emit(path)

    worker.signals.returned.connect(done)
    worker.signals.errored.connect(w.show_error)
    w._steps_export_worker = worker  # keep the Python wrapper alive until it reports
    w.statusBar().showMessage(f"Exporting the steps as {what}…")
    return worker.start(w.pool)


def export_steps_pdf(w, path: str) -> Worker | None:
    """Write every backward step as one page of the PDF ``path`` (on a worker); the window
    emits ``exported(path)`` when it is written."""
    source = _steps_source(w)
    if source is None:
        return None
    w.settings.setValue("lastDirectory", str(Path(path).parent))
    return _start(w, _write_pdf, *source, str(path), what="pages")


def export_steps_frames(w, directory: str, dpi: int = FRAME_DPI) -> Worker | None:
    """Write ``step-001.png``, ``step-002.png``, ... into ``directory`` (on a worker); the
    window emits ``exported(directory)`` when they are written."""
    source = _steps_source(w)
    if source is None:
        return None
    w.settings.setValue("lastDirectory", str(directory))
    return _start(w, _write_frames, *source, str(directory), dpi, what="frames")


def export_steps_pdf_dialog(w) -> None:
    """Ask for a PDF file name, then export the steps into it."""
    if _steps_source(w) is None:
        return
    start = str(Path(last_directory(w)) / "steps.pdf")
    path, _ = QFileDialog.getSaveFileName(w, "Export Steps as PDF", start,
                                          "PDF document (*.pdf)")
    if not path:
        return
    if Path(path).suffix.lower() != ".pdf":
        path += ".pdf"
    export_steps_pdf(w, path)


def export_steps_frames_dialog(w) -> None:
    """Ask for a folder and a resolution, then write one PNG per step into it."""
    if _steps_source(w) is None:
        return
    start = last_directory(w)
    directory = QFileDialog.getExistingDirectory(w, "Export Steps as PNG Frames (choose a "
                                                 "folder)", start)
    if not directory:
        return
    dpi, ok = QInputDialog.getInt(w, "Frame resolution", "Dots per inch:",
                                  setting_int(w, "export/frameDpi", FRAME_DPI, 36, 600),
                                  36, 600, 12)
    if not ok:
        return
    w.settings.setValue("export/frameDpi", dpi)
    export_steps_frames(w, directory, dpi)
