"""The main window: editor, variables and results on the left, the graph in the middle, node
details (and the Steps and Check panels) on the right.

Typing parses on the GUI thread (parsing never imports torch) for instant feedback; computing
and drawing run as workers; only the newest request's results are shown. Menus and toolbar
live in :mod:`gui.menus`; export, sessions and settings in :mod:`gui.files`.
"""
from __future__ import annotations

import shutil
import time

from PySide6.QtCore import QSettings, Qt, QThreadPool, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.errors import ExpressionError
from core.language import parse
from gui import files, menus
from gui.editor import ExpressionEditor
from gui.examples import Example, startup_example
from gui.graph_view import GraphView
from gui.node_details import NodeDetails
from gui.results_panel import ResultsPanel
from gui.variables_table import VariablesTable, value_text
from gui.workers import LatestOnly, Worker

INSTALL_BANNER = ("<b>Graphviz is not installed</b>, so the graph cannot be drawn. Values and "
                  "gradients still work. To install it: <code>sudo apt-get install graphviz</code>"
                  " (macOS: <code>brew install graphviz</code>), then restart.")


class MainWindow(QMainWindow):
    """The application window. ``settings`` defaults to the user's QSettings; tests pass a
    temporary one."""

    computed = Signal(object)     # a gui.compute.ComputeResult, after it is shown
    drawn = Signal()              # a new graph drawing is on screen
    failed = Signal(object)       # an ExpressionError (or other exception) was shown
    torchReady = Signal()
    exported = Signal(str)        # path written

    def __init__(self, settings: QSettings | None = None, restore: bool = True):
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.setWindowTitle("Autograd Explorer")
        self.setWindowIcon(QIcon(files.resource_path("icons/app.svg")))
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        # torchviz/graphviz walks can recurse deeply on long chains: give workers room
        self.pool.setStackSize(64 * 1024 * 1024)
        self.compute_jobs = LatestOnly(self, self.pool)
        self.render_jobs = LatestOnly(self, self.pool)
        self.torch_ready = False
        self.pending_compute = False
        self.example: Example | None = None
        self.result = None
        self.drawing = None
        self.program = None
        self.session_path: str | None = None
        self._compute_started = 0.0
        self.timings: dict[str, float] = {}
        self.graph_options = {"annotate": "all", "rankdir": "TB", "show_saved": False}
        self.step_panel = None
        self.check_panel = None
        self.checker = None  # gui.check_runner.CheckRunner once the Check panel is in place
        self.views_panel = None  # gui.views_panel.ViewsPanel once torch is loaded
        self.drawn_result = None  # the ComputeResult the drawing on screen belongs to
        self.result_reference = None  # the example's reference values for self.result
        self.step_highlight = None  # the Steps panel's current StepHighlight
        # tabbed docks stay isVisible() in Qt 6 when another tab is on top; the dock's
        # visibilityChanged signal tells the truth, so follow it
        self.steps_showing = False
        self.stale = False  # the input has an error: the panels show an older result
        self._build_widgets()
        menus.build(self)
        self._connect()
        self.layout_restored = files.restore_window(self) if restore else False
        self.set_graphviz_banner(shutil.which("dot") is None)

    # ------------------------------------------------------------------ layout

    def _build_widgets(self) -> None:
        self.editor = ExpressionEditor()
        self.editor.setObjectName("editor")
        self.error_label = QLabel()
        self.error_label.setObjectName("errorLabel")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # what a pasted notebook cell set aside or took from its definitions
        self.notes_label = QLabel()
        self.notes_label.setObjectName("notesLabel")
        self.notes_label.setWordWrap(True)
        self.notes_label.setVisible(False)
        self.example_label = QLabel()
        self.example_label.setObjectName("exampleLabel")
        self.example_label.setWordWrap(True)
        self.example_label.setVisible(False)
        self.compute_button = QPushButton("Compute")
        self.compute_button.setObjectName("computeButton")
        self.compute_button.setToolTip("Compute value and gradients (Ctrl+Enter)")
        self.dtype_box = QComboBox()
        self.dtype_box.addItems(["float32", "float64"])
        self.dtype_box.setToolTip("Precision of every tensor")
        self.variables = VariablesTable()
        self.variables.setObjectName("variables")
        self.results = ResultsPanel()

        controls = QHBoxLayout()
        controls.addWidget(self._heading("Variables"))
        controls.addStretch(1)
        controls.addWidget(QLabel("dtype"))
        controls.addWidget(self.dtype_box)
        controls.addWidget(self.compute_button)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(8, 8, 8, 4)
        top_layout.addWidget(self._heading("Expression"))
        top_layout.addWidget(self.editor, 2)
        top_layout.addWidget(self.error_label)
        top_layout.addWidget(self.notes_label)
        top_layout.addWidget(self.example_label)
        top_layout.addLayout(controls)
        top_layout.addWidget(self.variables, 1)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(8, 4, 8, 8)
        bottom_layout.addWidget(self._heading("Results"))
        bottom_layout.addWidget(self.results)
        left = QSplitter(Qt.Orientation.Vertical)
        left.setObjectName("leftSplitter")
        left.addWidget(top)
        left.addWidget(bottom)
        left.setStretchFactor(0, 1)
        left.setStretchFactor(1, 1)
        left.setMinimumWidth(440)
        self.left_dock = self._dock("Expression", "expressionDock", left,
                                    Qt.DockWidgetArea.LeftDockWidgetArea)

        # the graph, big and central, with a banner slot above it
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setVisible(False)
        self.graph = GraphView()
        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.setSpacing(0)
        center_layout.addWidget(self.banner)
        center_layout.addWidget(self.graph)
        self.setCentralWidget(center)
        self.graph.show_message("Loading torch…")

        self.details = NodeDetails()
        self.details_dock = self._dock("Node", "nodeDock", self.details,
                                       Qt.DockWidgetArea.RightDockWidgetArea)
        self.steps_dock = self._dock("Steps", "stepsDock", self._placeholder(
            "Step through the backward pass here."), Qt.DockWidgetArea.RightDockWidgetArea)
        self.check_dock = self._dock("Check", "checkDock", self._placeholder(
            "Check the gradients independently here."), Qt.DockWidgetArea.RightDockWidgetArea)
        self.views_dock = self._dock("Views", "viewsDock", self._placeholder(
            "Paths, forward vs reverse mode, Jacobians, second derivatives and training "
            "appear here."), Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.details_dock, self.steps_dock)
        self.tabifyDockWidget(self.steps_dock, self.check_dock)
        self.tabifyDockWidget(self.check_dock, self.views_dock)
        self.details_dock.raise_()
        self.resizeDocks([self.left_dock, self.details_dock], [460, 330],
                         Qt.Orientation.Horizontal)

        self.zoom_label = QLabel("")
        self.torch_label = QLabel("torch: loading…")
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.statusBar().addPermanentWidget(self.torch_label)
        self.statusBar().showMessage("Loading torch…")

    @staticmethod
    def _heading(text: str) -> QLabel:
        label = QLabel(text)
        label.setObjectName("heading")
        return label

    @staticmethod
    def _placeholder(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setMargin(12)
        label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        return label

    def _dock(self, title: str, name: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState/restoreState identify docks by object name
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                         QDockWidget.DockWidgetFeature.DockWidgetFloatable |
                         QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """On a first start, give the left column room for matrices once sizes are known."""
        super().showEvent(event)
        if not self.layout_restored and not getattr(self, "_docks_sized", False):
            self._docks_sized = True
            width = self.width()
            self.resizeDocks([self.left_dock, self.details_dock],
                             [max(440, int(width * 0.34)), max(300, int(width * 0.2))],
                             Qt.Orientation.Horizontal)

    def embed_panel(self, dock: QDockWidget, widget: QWidget) -> None:
        """Put a panel (the step-through or check widget) into its dock."""
        dock.setWidget(widget)

    def _connect(self) -> None:
        self.editor.textChanged.connect(self.on_text_changed)
        self.editor.textSettled.connect(self.on_text_settled)
        self.editor.computeRequested.connect(self.compute_now)
        self.compute_button.clicked.connect(self.compute_now)
        self.variables.changed.connect(self.on_variables_changed)
        self.dtype_box.currentTextChanged.connect(lambda _: self.compute_now())
        self.compute_jobs.returned.connect(self.on_computed)
        self.compute_jobs.errored.connect(self.on_compute_failed)
        self.render_jobs.returned.connect(self.on_drawn)
        self.render_jobs.errored.connect(self.on_draw_failed)
        self.compute_jobs.busyChanged.connect(self._update_busy)
        self.render_jobs.busyChanged.connect(self._update_busy)
        self.graph.nodeClicked.connect(self.on_node_clicked)
        self.graph.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z:.0%}"))

    # ------------------------------------------------------------------ startup

    def start_loading(self) -> None:
        """Import torch on a worker; when ready, compute whatever the editor holds."""
        from gui.compute import warm_up

        worker = Worker(warm_up)
        worker.signals.returned.connect(self._torch_loaded)
        worker.signals.errored.connect(self._torch_failed)
        self._warm_worker = worker  # keep the Python wrapper alive until it reports
        worker.start(self.pool)

    def _torch_loaded(self, version: str) -> None:
        self.torch_ready = True
        self.torch_label.setText(f"torch {version}")
        self.statusBar().showMessage("torch loaded", 2000)
        menus.attach_panels(self)
        self.torchReady.emit()
        self.compute_now()

    def _torch_failed(self, error) -> None:
        self.torch_label.setText("torch: not available")
        self.show_error(ExpressionError("setup", f"torch could not be loaded ({error}); "
                                        "reinstall with ./run.sh --setup"))

    def load_example(self, example: Example) -> None:
        """Put an example's expression, values and dtype in place, then compute."""
        self.example = example
        self.editor.set_text(example.expression)
        entries = {name: (value_text(value), name not in example.constants)
                   for name, value in example.vars.items()}
        self.variables.set_entries(entries)
        self.dtype_box.blockSignals(True)
        self.dtype_box.setCurrentText(example.dtype)
        self.dtype_box.blockSignals(False)
        self.example_label.setText(f"<b>{example.title}</b><br>{example.explanation}")
        self.example_label.setVisible(True)
        self.on_text_changed()
        self.compute_now()

    def load_startup_content(self) -> None:
        """The last session if there is one, else the seed's chain-rule example."""
        if not files.restore_last_session(self):
            self.load_example(startup_example())

    # ------------------------------------------------------------------ typing

    def on_text_changed(self) -> None:
        """Parse at once (no torch): underline errors, keep the variables table in step."""
        text = self.editor.toPlainText()
        if self.example is not None and text != self.example.expression:
            self.example_label.setVisible(False)
        try:
            program = parse(text)
        except ExpressionError as err:
            self.program = None
            self.show_notes([])  # the notes were about the text before this edit
            self.show_error(err, status=False)
            return
        self.program = program
        self.clear_error()
        self.show_notes(program.notes)
        self.variables.sync_names(program.free_names, getattr(program, "defaults", None))
        # a pasted cell's dtype=torch.float64 picks the precision once, when it appears;
        # the user may switch the box back afterwards without it being forced again
        hint = getattr(program, "dtype", None)
        if hint and hint != getattr(self, "_dtype_hint", None):
            self.dtype_box.blockSignals(True)
            self.dtype_box.setCurrentText(hint)
            self.dtype_box.blockSignals(False)
        self._dtype_hint = hint

    def on_text_settled(self) -> None:
        """Typing paused: recompute if auto-recompute is on and the text parses."""
        if self.auto_action.isChecked() and self.program is not None:
            self.compute_now()

    def on_variables_changed(self) -> None:
        """A value or switch changed: recompute (the table has flagged bad values)."""
        if self.auto_action.isChecked():
            self.compute_now()

    def current_reference(self) -> dict | None:
        """The loaded example's reference values, if the expression and values still are
        the example's own."""
        ex = self.example
        if ex is None or self.editor.toPlainText() != ex.expression:
            return None
        entries = self.variables.entries()
        for name, value in ex.vars.items():
            text, grad = entries.get(name, (None, None))
            if text != value_text(value) or grad != (name not in ex.constants):
                return None
        return ex.reference or None

    # ------------------------------------------------------------------ compute

    def compute_now(self) -> None:
        """Start computing the current text and values on a worker (if they are valid)."""
        if not self.torch_ready:
            self.pending_compute = True
            return
        self.on_text_changed()
        if self.program is None:
            return
        specs, errors = self.variables.specs()
        if errors:
            self.show_error(next(iter(errors.values())))
            return
        from gui.compute import compute

        self.render_jobs.cancel()
        self._compute_started = time.perf_counter()
        self.statusBar().showMessage("Computing…")
        self.compute_jobs.submit(compute, self.editor.toPlainText(), specs,
                                 self.dtype_box.currentText())

    def on_computed(self, result) -> None:
        """Show value and gradients, then start drawing the graph."""
        self.timings["compute_ms"] = (time.perf_counter() - self._compute_started) * 1000
        self.result = result
        self.clear_error()
        self.set_stale(False)
        self.result_reference = self.current_reference()
        self.results.show_result(result, self.result_reference)
        if any("NaN" in w or "infinity" in w for w in result.warnings):
            # the results table says it too; the status bar makes sure it is seen
            self.statusBar().showMessage("⚠ " + result.warnings[0], 15000)
        self.computed.emit(result)
        self.draw_graph()

    def draw_graph(self) -> None:
        """Lay out the current result's graph on a worker."""
        if self.result is None:
            return
        from gui import graph_source

        self.statusBar().showMessage("Drawing the graph…")
        # the worker passes its cancel event: Cancel (Esc) stops a long Graphviz layout
        self.render_jobs.submit(graph_source.draw, self.result.evaluation, pass_cancel=True,
                                **self.graph_options)

    def on_drawn(self, drawing) -> None:
        """Put the new drawing on screen, keeping zoom if it is the same graph."""
        self.drawing = drawing
        self.drawn_result = self.result
        self.set_graphviz_banner(False)
        key = (self._structure_key(), tuple(sorted(self.graph_options.items())))
        self.graph.show_svg(drawing.svg, drawing.node_ids, key=key)
        self.apply_step_highlight()  # the new drawing has the trace's node ids
        self.details.show_details(None)
        self.timings["compute_to_graph_ms"] = (time.perf_counter() - self._compute_started) * 1000
        self.statusBar().showMessage(
            f"{self.result.output_name} = {self.results.table.item(0, 1).text()}   ·   "
            f"computed and drawn in {self.timings['compute_to_graph_ms']:.0f} ms", 8000)
        self.drawn.emit()

    def _structure_key(self):
        """What makes two drawings 'the same graph': the statements, ignoring values."""
        program = self.result.evaluation.program if self.result else None
        if program is None:
            return None
        return tuple(s.text for s in program.statements), tuple(
            sorted((n, q.shape, q.requires_grad) for n, q in
                   ((q.name, q) for q in self.result.quantities)))

    def on_compute_failed(self, error) -> None:
        """Show a compute error in the editor, cell and status bar; keep the last graph
        (dimmed panels around it), but no numbers, steps or check of an older input."""
        self.forget_result(keep_graph=True)
        self.show_error(error)

    def forget_result(self, keep_graph: bool = False) -> None:
        """Empty the results, Steps and Check panels (the input no longer computes, or a
        new session starts); with ``keep_graph`` the last drawing stays on screen."""
        self.results.clear()
        if self.checker is not None:
            self.checker.forget()
        if self.step_panel is not None:
            self.step_panel.set_trace(None)
        self.step_highlight = None
        self.apply_step_highlight()
        if not keep_graph:
            self.result = self.drawing = self.drawn_result = None
            self.render_jobs.cancel()

    def on_draw_failed(self, error) -> None:
        """Graphviz missing: banner; anything else: a message in the graph area."""
        if isinstance(error, ExpressionError) and error.kind == "graphviz":
            self.set_graphviz_banner(True)
            self.graph.show_message("No graph: Graphviz is not installed.")
            self.statusBar().showMessage("Computed; the graph needs Graphviz", 8000)
            return
        message = error.message if isinstance(error, ExpressionError) else \
            f"the graph could not be drawn ({type(error).__name__}: {error})"
        self.graph.show_message(message)
        self.statusBar().showMessage(message, 10000)
        self.failed.emit(error)

    def cancel(self) -> None:
        """Stop waiting for the running compute or drawing (Esc)."""
        busy = self.compute_jobs.busy or self.render_jobs.busy
        self.compute_jobs.cancel()
        self.render_jobs.cancel()
        if busy:
            self.statusBar().showMessage("Cancelled", 4000)

    def _update_busy(self, _=None) -> None:
        busy = self.compute_jobs.busy or self.render_jobs.busy
        self.cancel_action.setEnabled(busy)

    def wait_for_workers(self, msecs: int = 30000) -> bool:
        """Block until no worker is running (for shutdown and tests)."""
        return self.pool.waitForDone(msecs)

    # ------------------------------------------------------------------ errors

    def show_error(self, error, status: bool = True) -> None:
        """The one place errors become UI: underline, message under the editor, status bar,
        flagged cell. Never a traceback."""
        if isinstance(error, ExpressionError):
            message = str(error)
            if error.where and error.where in self.variables.names():
                self.variables.validate()
            self.editor.show_error(error.span if not error.where else None)
        else:
            message = f"internal error: {type(error).__name__}: {error}"
        self.error_label.setText(message)
        self.error_label.setVisible(True)
        self.set_stale(True)
        if status:
            self.statusBar().showMessage(message, 15000)
        elif self.result is not None:
            # the "f = ... computed" message would read as if it were about this text
            self.statusBar().showMessage("The expression has an error: the graph and the "
                                         "dimmed panels show the last one that computed")
        self.failed.emit(error)

    def set_stale(self, stale: bool) -> None:
        """Dim the results, Steps and Check panels while the input has an error, so that
        nobody reads the last result's numbers as those of the text on screen."""
        if stale == self.stale:
            return
        self.stale = stale
        for panel in (self.results, self.step_panel, self.check_panel):
            if panel is not None:
                panel.setEnabled(not stale)
        if stale and self.step_panel is not None:
            self.step_panel.stop()
        self.apply_step_highlight()  # step keys in the graph follow the panel

    def show_notes(self, notes: list[str]) -> None:
        """Say under the editor what a pasted notebook cell set aside or supplied."""
        self.notes_label.setText("\n".join("ℹ " + note for note in notes))
        self.notes_label.setVisible(bool(notes))

    def clear_error(self) -> None:
        """Remove the underline and the message."""
        self.editor.clear_error()
        self.error_label.setVisible(False)

    def set_graphviz_banner(self, missing: bool) -> None:
        """Show or hide the 'install Graphviz' banner above the graph."""
        self.banner.setText(INSTALL_BANNER)
        self.banner.setVisible(missing)

    # ------------------------------------------------------------------ graph

    def on_node_clicked(self, name: str) -> None:
        """Show the clicked node's details and select its text in the editor."""
        if name:  # a dashed copy of a shared node stands for the node itself
            from core.render import original_id
            name = original_id(name)
        details = self.drawing.details.get(name) if self.drawing and name else None
        self.details.show_details(details)
        if details:
            self.details_dock.raise_()
        span = details.get("span") if details else None
        if span:
            block = self.editor.document().findBlockByNumber(span[0] - 1)
            expression = details.get("expression") or ""
            cursor = self.editor.textCursor()
            cursor.setPosition(block.position() + span[1] - 1)
            cursor.setPosition(min(block.position() + span[1] - 1 + len(expression),
                                   self.editor.document().characterCount() - 1),
                               cursor.MoveMode.KeepAnchor)
            self.editor.setTextCursor(cursor)

    def on_step_changed(self, _index: int, highlight) -> None:
        """The Steps panel moved: remember its highlight and draw it if the tab shows."""
        self.step_highlight = highlight
        self.apply_step_highlight()

    def apply_step_highlight(self) -> None:
        """Draw the step highlight while the Steps panel is on screen, else none."""
        h = self.step_highlight
        if self.step_panel is not None:
            # with the Steps tab hidden the graph's arrow keys scroll it as usual
            self.step_panel.set_external_keys_enabled(self.steps_showing and not self.stale)
        if h is not None and self.step_panel is not None and self.steps_showing:
            self.graph.set_highlight(set(h.current), set(h.done), edge_labels=h.edge_labels,
                                     recent=h.recent)
        else:
            self.graph.clear_highlight()

    def set_graph_option(self, key: str, value) -> None:
        """Change a drawing option (annotation, direction, saved tensors) and redraw."""
        self.graph_options[key] = value
        self.draw_graph()

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Save layout and session, drop pending work, wait for running workers."""
        files.save_window(self)
        self.compute_jobs.cancel()
        self.render_jobs.cancel()
        if self.checker is not None:
            self.checker.cancel()
        self.wait_for_workers(10000)
        super().closeEvent(event)

