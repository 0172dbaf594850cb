"""Export the recorded backward pass from the window: the step deck (core.teaching.deck) as one
multi-page PDF or numbered PNG frames, slides (16:9, the default) or handouts, on a worker
thread.

Graphviz draws every page (about 30 ms each on the seed examples, seconds on big graphs),
so the window only asks where to write and shows progress in the status bar. The pages are
drawn from the graph and trace of the drawing on screen (the pair always belongs to one
compute); that evaluation is only read here, never run backward again.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog

from core.errors import ExpressionError
from gui import export_places as places
from gui.files import setting_int, track_export
from gui.workers import Worker

#: default resolution of PNG frames (good on a projector and in slides)
FRAME_DPI = 144  # slides at 1920×1080


#: the deck's layouts as the export dialog offers them: (label, layout, quiz)
LAYOUT_CHOICES = (("Slides (16:9, for a projector)", "slides", False),
                  ("Slides, predict then reveal (quiz)", "slides", True),
                  ("Handout (portrait, for print)", "handout", False))


def _steps_source(w):
    """(evaluation, graph, trace) of the drawing on screen, or None with a status message
    why not."""
    result = getattr(w, "drawn_result", None)
    drawing = w.drawing
    graph = getattr(drawing, "source", None) if drawing is not None else None
    trace = getattr(result, "trace", None)
    if graph is None or result is None or not hasattr(graph, "nodes"):
        w.statusBar().showMessage("Nothing to export yet: compute an expression first", 6000)
        return None
    if getattr(result, "steps_pending", False):
        w.statusBar().showMessage("The steps are still being prepared (the graph is drawn "
                                  "first): try again in a moment", 6000)
        return None
    if trace is None and getattr(result, "steps_error", None):
        w.statusBar().showMessage(f"No backward steps to export: {result.steps_error}", 6000)
        return None
    if trace is None or not trace.steps:
        reason = (trace.no_steps_reason if trace is not None else
                  "the output does not depend on any input that needs a gradient")
        w.statusBar().showMessage(f"No backward steps to export: {reason}", 6000)
        return None
    return result.evaluation, graph, trace


def _options(evaluation, layout: str, quiz: bool) -> dict:
    from core.teaching.deck import deck_options
    return {**deck_options(evaluation.program.text), "layout": layout, "quiz": quiz}


def _write_pdf(evaluation, graph, trace, path: str, layout: str = "slides",
               quiz: bool = False, cancel_event=None) -> tuple[str, int]:
    from core.teaching.deck import export_pdf

    try:
        pages = export_pdf(evaluation, graph, trace, path, cancel=cancel_event,
                           **_options(evaluation, layout, quiz))
    except OSError as err:
        raise ExpressionError("export", f"cannot write {Path(path).name}: "
                              f"{err.strerror or err}") from None
    return path, pages


def _write_frames(evaluation, graph, trace, directory: str, dpi: int,
                  layout: str = "slides", quiz: bool = False,
                  cancel_event=None) -> tuple[str, int]:
    from core.teaching.deck import export_frames

    try:
        paths = export_frames(evaluation, graph, trace, directory, dpi=dpi,
                              cancel=cancel_event, **_options(evaluation, layout, quiz))
    except OSError as err:
        raise ExpressionError("export", f"cannot write into {directory}: "
                              f"{err.strerror or err}") from None
    return directory, len(paths)


def _start(w, fn, *args, what: str) -> Worker:
    worker = Worker(fn, *args, pass_cancel=True)  # Cancel (Esc) stops the export

    def done(outcome) -> None:
        path, count = outcome
        w.statusBar().showMessage(f"Exported {count} {what} to {Path(path).name}", 8000)
        w.exported.emit(path)

    worker.signals.returned.connect(done)
    worker.signals.errored.connect(w.show_error)
    track_export(w, "_steps_export_worker", worker)
    w.statusBar().showMessage(f"Exporting the steps as {what}… (Esc cancels)")
    return worker.start(w.pool)


def export_steps_pdf(w, path: str, layout: str = "slides", quiz: bool = False) -> Worker | None:
    """Write the step deck (title, forward values, one page per backward step, summary) to
    the PDF ``path`` (on a worker); the window emits ``exported(path)`` when it is written."""
    source = _steps_source(w)
    if source is None:
        return None
    places.remember(w, "steps", str(path))
    return _start(w, _write_pdf, *source, str(path), layout, quiz, what="pages")


def export_steps_frames(w, directory: str, dpi: int = FRAME_DPI, layout: str = "slides",
                        quiz: bool = False) -> Worker | None:
    """Write the deck's pages as ``page-001.png``, ... into ``directory`` (on a worker); the
    window emits ``exported(directory)`` when they are written."""
    source = _steps_source(w)
    if source is None:
        return None
    places.remember(w, "frames", str(directory), is_folder=True)
    return _start(w, _write_frames, *source, str(directory), dpi, layout, quiz,
                  what="frames")


def _layout_filters(w) -> tuple[str, str]:
    """The save dialog's file types, one per layout (slides first: the default), and the
    one chosen last time."""
    filters = [f"{label} (*.pdf)" for label, _, _ in LAYOUT_CHOICES]
    remembered = w.settings.value("export/deckLayout", filters[0])
    return ";;".join(filters), remembered if remembered in filters else filters[0]


def _chosen_layout(w, chosen: str = "") -> tuple[str, bool]:
    """(layout, quiz) for the file type ``chosen`` in the save dialog (remembered for the
    next export and for frames), or the last one chosen, or slides."""
    filters = [f"{label} (*.pdf)" for label, _, _ in LAYOUT_CHOICES]
    if chosen in filters:
        w.settings.setValue("export/deckLayout", chosen)
    else:
        chosen = w.settings.value("export/deckLayout", filters[0])
    index = filters.index(chosen) if chosen in filters else 0
    _, layout, quiz = LAYOUT_CHOICES[index]
    return layout, quiz


def export_steps_pdf_dialog(w) -> None:
    """Ask for a PDF file name, then export the steps into it."""
    if _steps_source(w) is None:
        return
    # the file type chooses the layout: slides (the default), quiz slides or a handout
    filters, selected = _layout_filters(w)
    path, chosen = QFileDialog.getSaveFileName(w, "Export Steps as PDF",
                                               places.start_path(w, "steps", "-steps.pdf"),
                                               filters, selected)
    if not path:
        return
    if Path(path).suffix.lower() != ".pdf":
        path += ".pdf"
    export_steps_pdf(w, path, *_chosen_layout(w, chosen))


class FramesFolderDialog(QFileDialog):
    """Asks for the frames' folder by name: an existing folder (clicked or typed), or a
    new one typed into the name box (``chain-rule-frames``), which the export creates.
    The platform's folder chooser cannot name a folder that does not exist yet, and Qt's
    own dialog would open an existing folder instead of choosing it."""

    def __init__(self, w):
        super().__init__(w, "Export Frames", places.folder(w, "frames"))
        self.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        self.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        self.setFileMode(QFileDialog.FileMode.AnyFile)
        self.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self.setOption(QFileDialog.Option.DontConfirmOverwrite, True)
        self.setLabelText(QFileDialog.DialogLabel.FileName, "Folder:")
        self.setLabelText(QFileDialog.DialogLabel.Accept, "Export Here")
        self.selectFile(places.default_stem(w) + "-frames")

    def accept(self) -> None:
        """An existing folder is the answer, not a place to open."""
        chosen = self.selectedFiles()
        if chosen and Path(chosen[0]).is_dir():
            self.done(QFileDialog.DialogCode.Accepted)
            return
        super().accept()


def export_steps_frames_dialog(w) -> None:
    """Ask for a folder (an existing one, or a new name) and a resolution, then write one
    PNG per step into it."""
    if _steps_source(w) is None:
        return
    dialog = FramesFolderDialog(w)
    try:
        accepted = dialog.exec() and dialog.selectedFiles()
        directory = dialog.selectedFiles()[0] if accepted else None
    finally:
        dialog.deleteLater()  # its file-system watcher thread goes with it
    if not directory:
        return
    if Path(directory).exists() and not Path(directory).is_dir():
        w.statusBar().showMessage(f"{Path(directory).name} is a file, not a folder: "
                                  "choose a folder or type a new name", 8000)
        return
    dpi, ok = QInputDialog.getInt(w, "Frame resolution", "Dots per inch:",
                                  setting_int(w, "export/frameDpi", FRAME_DPI, 36, 600),
                                  36, 600, 12)
    if not ok:
        return
    w.settings.setValue("export/frameDpi", dpi)
    # frames in the layout of the last PDF deck (slides unless a handout was chosen)
    export_steps_frames(w, directory, dpi, *_chosen_layout(w))
