"""The main window: editor, variables and results on the left, the graph in the middle, node
details (and the Steps and Check panels) on the right.

Typing parses on the GUI thread (parsing never imports torch) for instant feedback; computing
and drawing run as workers; only the newest request's results are shown. Menus and toolbar
live in :mod:`gui.menus`; export, sessions and settings in :mod:`gui.files`.
"""
from __future__ import annotations

import shutil
import time
from functools import partial

from PySide6.QtCore import QSettings, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core.errors import ExpressionError
from core.language.parser import parse
from gui import document, files, menus
from gui.appearance import Appearance
from gui.dock_widths import DockWidths, first_dock_widths
from gui.editor import ExpressionEditor
from gui.example_card import ExampleCard
from gui.examples import Example, startup_example
from gui.grad_output_field import GradOutputField
from gui.graph_bar import GraphBar
from gui.graph_view import GraphView
from gui.node_details import NodeDetails
from gui.presentation import Presentation
from gui.results_panel import ResultsPanel
from gui.variables_table import VariablesTable, value_text
from gui.workers import LatestOnly, Worker

#: Texts longer than this are parsed on a worker: parsing is linear, but a pasted program of
#: thousands of lines still takes a few hundred ms, too long for the GUI thread. Shorter
#: texts are parsed at once, for instant feedback while typing.
PARSE_INLINE_CHARS = 4000
#: Notes shown under the editor at most (a pasted program can have thousands of typo notes).
MAX_NOTES_SHOWN = 6

INSTALL_BANNER = ("<b>Graphviz is not installed</b>, so the graph cannot be drawn. Values and "
                  "gradients still work. To install it: <code>sudo apt-get install graphviz</code>"
                  " (macOS: <code>brew install graphviz</code>), then restart.")
#: the left column's narrowest width (editor, variables, results): at 1024 pixels across,
#: the graph keeps about half the window
LEFT_MIN_WIDTH = 280
#: the widest minimum a right-hand panel may ask for before it scrolls inside its dock
PANEL_MAX_MIN_WIDTH = 360


class MainWindow(QMainWindow):
    """The application window. ``settings`` defaults to the user's QSettings; tests pass a
    temporary one."""

    computed = Signal(object)     # a gui.compute.ComputeResult, after it is shown
    #: the result's steps are recorded and written out (after its graph is drawn), or
    #: could not be (``result.steps_error``)
    stepsReady = Signal(object)  # noqa: N815 - Qt's naming
    drawn = Signal()              # a new graph drawing is on screen
    failed = Signal(object)       # an ExpressionError (or other exception) was shown
    torchReady = Signal()
    parsed = Signal()             # the text on screen has been parsed (program or error)
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
        self.parse_jobs = LatestOnly(self, self.pool)
        # the steps of the result on screen, prepared once its graph is drawn
        self.steps_jobs = LatestOnly(self, self.pool)
        #: (text, Program or ExpressionError) of the last text parsed
        self._parse_cache: tuple[str, object] | None = None
        self._after_parse: set[str] = set()  # "compute", "settle": waiting for the parse
        self._parsing: str | None = None  # the text a worker is reading
        self.torch_ready = False
        self.pending_compute = False
        self.example: Example | None = None
        self.result = None
        self.drawing = None
        self.program = None
        self.session_path: str | None = None
        self._compute_started = 0.0
        # what the drawing being made was asked for by: ("computed and drawn", start time)
        # for a compute, ("redrawn", start) for a change of drawing options
        self._draw_request = ("computed and drawn", 0.0)
        # restored at start-up, the program whose computation did not finish last time waits
        # for the user to press Compute (it may be the one that froze the window)
        self.hold_compute = False
        self.document_name: str | None = None
        #: (names, definitions) of the last text that settled or computed: the table shows
        #: them while the text has an error
        self._committed_names: tuple[list, dict] | None = None
        self.values_modified = False
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
        self.appearance = Appearance(self, self.settings)
        self.presentation = Presentation(self)
        menus.build(self)
        self._connect()
        self.layout_restored = files.restore_window(self) if restore else False
        if restore:
            self.dock_widths.load(self.settings)
        self.graph_bar.reveal.setChecked(
            self.settings.value("view/revealGradients", True) not in (False, "false"))
        self.appearance.apply()
        self.set_focus_order()
        self.set_graphviz_banner(shutil.which("dot") is None)
        document.update_title(self)

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
        self.example_label = ExampleCard()
        self.example_label.setVisible(False)
        self.compute_button = QPushButton("Compute")
        self.compute_button.setObjectName("computeButton")
        self.compute_button.setToolTip("Compute value and gradients (Ctrl+Enter)")
        self.dtype_box = QComboBox()
        self.dtype_box.addItems(["float32", "float64"])
        self.dtype_box.setToolTip("dtype: the precision of every tensor")
        self.dtype_box.setAccessibleName("dtype")
        self.variables = VariablesTable()
        self.variables.setObjectName("variables")
        # the v of y.backward(v), shown once an output has several entries
        self.grad_output = GradOutputField()
        self.results = ResultsPanel()

        controls = QHBoxLayout()
        controls.addWidget(self._heading("Variables"))
        controls.addStretch(1)
        controls.addWidget(self.dtype_box)  # "float32" says what it is; no label, no width
        controls.addWidget(self.compute_button)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(8, 8, 8, 4)
        top_layout.addWidget(self._heading("Expression"))
        # editor and values share the height equally: on a 700-pixel projector the editor
        # had it all and the values table showed one row
        top_layout.addWidget(self.editor, 1)
        top_layout.addWidget(self.error_label)
        top_layout.addWidget(self.notes_label)
        top_layout.addWidget(self.example_label)
        top_layout.addLayout(controls)
        top_layout.addWidget(self.variables, 1)
        top_layout.addWidget(self.grad_output)
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
        # narrow enough for a 1024-pixel projector to leave the graph half the width
        left.setMinimumWidth(LEFT_MIN_WIDTH)
        self.left_dock = self._dock("Expression", "expressionDock", left,
                                    Qt.DockWidgetArea.LeftDockWidgetArea)

        # the graph, big and central, with a banner slot above it
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setVisible(False)
        self.graph = GraphView()
        self.graph_bar = GraphBar()
        center = QWidget()
        center_layout = QVBoxLayout(center)
        center_layout.setContentsMargins(0, 0, 0, 0)
        center_layout.setSpacing(0)
        # a graph that does not belong to the text on the left is dimmed and says so
        self.graph_note = QLabel()
        self.graph_note.setObjectName("graphStaleNote")
        self.graph_note.setWordWrap(True)
        self.graph_note.setVisible(False)
        self.graph_note.setStyleSheet("background: #fff3cd; color: #5c4400; padding: 4px 8px;")
        center_layout.addWidget(self.banner)
        center_layout.addWidget(self.graph_note)
        center_layout.addWidget(self.graph_bar)
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
        self.dock_widths = DockWidths(self, [self.details_dock, self.steps_dock,
                                             self.check_dock, self.views_dock])

        self.zoom_label = self.graph_bar.zoom_label  # beside the zoom buttons, over the graph
        self.torch_label = QLabel("torch: loading…")
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
            self.resizeDocks([self.left_dock, self.details_dock], first_dock_widths(self.width()),
                             Qt.Orientation.Horizontal)

    def embed_panel(self, dock: QDockWidget, widget: QWidget) -> None:
        """Put a panel (the step-through, check or views widget) into its dock. A panel
        wider than a 1024-pixel projector's right column can spare scrolls sideways inside
        its dock rather than widening the column (and the window) past the screen."""
        if widget.minimumSizeHint().width() > PANEL_MAX_MIN_WIDTH:
            area = QScrollArea()
            area.setObjectName(f"{dock.objectName()}Scroll")
            area.setWidgetResizable(True)
            area.setFrameShape(QScrollArea.Shape.NoFrame)
            area.setWidget(widget)
            dock.setWidget(area)
        else:
            dock.setWidget(widget)
        self.set_focus_order()

    def focus_chain(self) -> list[QWidget]:
        """The widgets Tab visits, in order: the editor, the precision and Compute, the
        values, the results, the reveal choice and the graph, then the tab on the right."""
        chain = [self.editor, self.dtype_box, self.compute_button, self.variables,
                 self.grad_output.edit, self.results.table, self.graph_bar.reveal, self.graph,
                 self.details]
        if self.step_panel is not None:
            chain += [self.step_panel.list, self.step_panel.details]
        if self.check_panel is not None:
            chain += [self.check_panel.table, self.check_panel.formula]
        return chain

    def set_focus_order(self) -> None:
        """Tab walks the window from left to right (focus_chain); tables hand Tab on
        instead of keeping it to move between their cells (arrows do that), and the zoom
        buttons stay out of the way (Ctrl+/Ctrl-/Ctrl+0 do the same)."""
        for table in (self.variables, self.results.table,
                      getattr(self.check_panel, "table", None)):
            if table is not None:
                table.setTabKeyNavigation(False)
        for button in self.graph_bar.buttons:
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.graph.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        chain = self.focus_chain()
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def _connect(self) -> None:
        self.editor.textChanged.connect(self.on_text_changed)
        self.editor.textSettled.connect(self.on_text_settled)
        self.editor.computeRequested.connect(self.compute_now)
        self.compute_button.clicked.connect(self.compute_now)
        self.variables.changed.connect(self.on_variables_changed)
        self.grad_output.changed.connect(self.on_variables_changed)
        self.grad_output.changed.connect(lambda: document.mark_values_modified(self))
        self.dtype_box.currentTextChanged.connect(lambda _: self.compute_now())
        self.parse_jobs.returned.connect(self._on_parsed)
        self.compute_jobs.returned.connect(self.on_computed)
        self.compute_jobs.errored.connect(self.on_compute_failed)
        self.render_jobs.returned.connect(self.on_drawn)
        self.render_jobs.errored.connect(self.on_draw_failed)
        self.steps_jobs.returned.connect(self.on_steps_prepared)
        self.steps_jobs.errored.connect(self.on_steps_failed)
        self.compute_jobs.busyChanged.connect(self._update_busy)
        self.render_jobs.busyChanged.connect(self._update_busy)
        self.graph.nodeClicked.connect(self.on_node_clicked)
        self.graph_bar.reveal.toggled.connect(self.on_reveal_toggled)
        self.details.helpRequested.connect(self.getting_started_action.trigger)
        self.graph.zoomChanged.connect(lambda z: self.zoom_label.setText(f"{z:.0%}"))
        self.editor.document().modificationChanged.connect(
            lambda _modified: document.update_title(self))
        self.variables.changed.connect(lambda: document.mark_values_modified(self))
        self.dtype_box.activated.connect(lambda _index: document.mark_values_modified(self))
        self.results.fullValuesRequested.connect(self.show_full_values)

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
        from gui.gc_on_gui_thread import freeze_what_lives_now
        freeze_what_lives_now()  # a full collection would otherwise scan all of torch
        self.torchReady.emit()
        if self.hold_compute:
            self.pending_compute = False
            self.say_not_computed()
        else:
            self.compute_now()

    def _torch_failed(self, error) -> None:
        self.torch_label.setText("torch: not available")
        self.show_error(ExpressionError("setup", f"torch could not be loaded ({error}); "
                                        "reinstall with ./run.sh --setup"))

    def choose_example(self, example: Example) -> None:
        """Examples menu: ask before unsaved edits are replaced, then load ``example``
        (Ctrl+Z in the editor brings the replaced text back)."""
        if document.maybe_save(self, f"load the example “{example.title}”"):
            self.load_example(example)

    def load_example(self, example: Example) -> None:
        """Put an example's expression, values and dtype in place, then compute."""
        self.example = example
        self.grad_output.forget()  # an example's output is seeded with ones
        self.editor.set_text(example.expression)
        entries = {name: (value_text(value), name not in example.constants)
                   for name, value in example.vars.items()}
        self.variables.set_entries(entries, "example")
        self.dtype_box.blockSignals(True)
        self.dtype_box.setCurrentText(example.dtype)
        self.dtype_box.blockSignals(False)
        self.example_label.setText(f"<b>{example.title}</b><br>{example.explanation}")
        self.example_label.setVisible(True)
        self.on_text_changed()
        self.commit_names()
        document.mark_clean(self, example.title.split(":")[0])
        self.compute_now()
        if example.view and self.views_panel is not None:
            self.views_panel.show_view(example.view)  # the view of issue 15 it was made for

    def load_startup_content(self, path: str | None = None) -> None:
        """The file named on the command line if any, else the last session if there is
        one, else the seed's chain-rule example. A restored program whose computation did
        not finish last time is shown but not computed (it may be what froze the window)."""
        unfinished = files.last_compute_unfinished(self)
        if path and document.open_path(self, path):
            pass
        elif files.restore_last_session(self):
            self.hold_compute = unfinished
        else:
            self.load_example(startup_example())
        self.editor.document().clearUndoRedoStacks()  # nothing before start-up to undo to
        if self.hold_compute:
            self.say_not_computed()

    def say_not_computed(self) -> None:
        """Say in the window why the restored program waits for Compute."""
        message = ("Not computed yet: the last computation of this program did not finish "
                   "(the window was closed or stopped while it ran). Press Compute "
                   "(Ctrl+Enter) when you are ready.")
        self.graph.show_message(message.replace(". ", ".\n", 1))
        self.statusBar().showMessage(message)

    # ------------------------------------------------------------------ typing

    def on_text_changed(self) -> None:
        """Parse (no torch): underline errors, keep the variables table in step. A short
        text is parsed at once; a long one on a worker (:meth:`_on_parsed` takes over)."""
        text = self.editor.toPlainText()
        if self.example is not None and text != self.example.expression:
            self.example_label.setVisible(False)
        cached = self._parse_cache
        if cached is not None and cached[0] == text:
            self._apply_parse(cached[1])
        elif len(text) > PARSE_INLINE_CHARS:
            self.program = None
            if self.parse_jobs.busy and self._parsing == text:
                return  # already being read: a second reader would only compete for the GIL
            self._parsing = text
            self.statusBar().showMessage("Reading the program…")
            self.parse_jobs.submit(_parse_outcome, text)
        else:
            self._parse_cache = _parse_outcome(text)
            self._apply_parse(self._parse_cache[1])

    def _on_parsed(self, outcome) -> None:
        """A worker parsed a long text: apply it if it is still the text on screen, then do
        what waited for it (a compute, the settled-text bookkeeping)."""
        text, _program = outcome
        if text != self.editor.toPlainText():
            return  # a newer text is on its way
        self._parse_cache = outcome
        self.statusBar().clearMessage()
        self._apply_parse(outcome[1])
        waiting, self._after_parse = self._after_parse, set()
        if "settle" in waiting:
            self.on_text_settled()
        elif "compute" in waiting:
            self.compute_now()

    def _apply_parse(self, program) -> None:
        """Show what parsing the text on screen gave: its error, or its notes and names."""
        if isinstance(program, ExpressionError):
            err = program
            self.program = None
            self.show_notes([])  # the notes were about the text before this edit
            # half-typed names (sni, su) of the texts passed through on the way here go;
            # the names of the last text that settled or computed come back
            if self._committed_names is not None:
                self.variables.sync_names(*self._committed_names)
            self.show_error(err, status=False)
            self.parsed.emit()
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
        self.parsed.emit()

    def parse_pending(self) -> bool:
        """True while a worker is still parsing the text on screen."""
        cached = self._parse_cache
        return self.parse_jobs.busy and (cached is None or
                                         cached[0] != self.editor.toPlainText())

    def commit_names(self) -> None:
        """The text settled or is computed: its names are the ones to keep in the table
        while a later edit has an error."""
        if self.program is not None:
            self._committed_names = (list(self.program.free_names),
                                     dict(getattr(self.program, "defaults", {}) or {}))

    def on_text_settled(self) -> None:
        """Typing paused: recompute if auto-recompute is on and the text parses."""
        if self.parse_pending():
            self._after_parse.add("settle")
            return
        self.commit_names()
        if self.auto_action.isChecked() and self.program is not None:
            self.compute_now()
        elif self.program is not None and self.drawn_result is not None \
                and self.drawn_result.text != self.editor.toPlainText():
            self.mark_graph_stale("the text has changed since: press Compute (Ctrl+Enter)")

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
            if self.parse_pending():
                self._after_parse.add("compute")
            return
        self.commit_names()
        specs, errors = self.variables.specs()
        if errors:
            self.show_error(next(iter(errors.values())))
            return
        try:
            grad_output = self.grad_output.value()
        except ExpressionError as err:
            self.show_error(err)
            return
        from gui.compute import compute

        self.hold_compute = False
        files.set_compute_unfinished(self, True)
        self.render_jobs.cancel()
        self.steps_jobs.cancel()
        self._compute_started = time.perf_counter()
        self.statusBar().showMessage("Computing…")
        text = self.editor.toPlainText()
        parsed = self._parse_cache  # the Program of this text, parsed as it was typed
        program = parsed[1] if parsed is not None and parsed[0] == text and \
            not isinstance(parsed[1], ExpressionError) else None
        self.compute_jobs.submit(compute, text, specs, self.dtype_box.currentText(),
                                 program=program, grad_output=grad_output)

    def on_computed(self, result) -> None:
        """Show value and gradients, then start drawing the graph."""
        self.timings["compute_ms"] = (time.perf_counter() - self._compute_started) * 1000
        self.result = result
        self.clear_error()
        self.set_stale(False)
        written = getattr(result.evaluation.program, "grad_output", None)
        self.grad_output.set_output_shape(
            result.output_shape if result.grad_output is not None else None,
            value_text(written) if written not in (None, "ones") else None)
        self.result_reference = self.current_reference()
        self.results.show_result(result, self.result_reference)
        if any("NaN" in w or "infinity" in w for w in result.warnings):
            # the results table says it too; the status bar makes sure it is seen
            self.statusBar().showMessage("⚠ " + result.warnings[0], 15000)
        # the panels that follow a result (Steps, Check, Views), then the drawing, each get a
        # pass of the event loop of their own: in one slot they kept the GUI thread 66 ms
        QTimer.singleShot(0, self, partial(self._announce_computed, result))

    def _announce_computed(self, result) -> None:
        """Hand a shown result to the panels (``computed``), then start its drawing."""
        if result is not self.result:
            return  # a newer result, or none (File > New, a failed compute) came meanwhile
        self.computed.emit(result)
        QTimer.singleShot(0, self, partial(self._draw_computed, result))

    def _draw_computed(self, result) -> None:
        if result is self.result:
            self.draw_graph(("computed and drawn", self._compute_started))

    def draw_graph(self, request: tuple[str, float] | None = None) -> None:
        """Lay out the current result's graph on a worker; ``request`` says what asked for
        it and since when (the status bar's timing counts from there)."""
        if self.result is None:
            return
        from gui import graph_source

        self._draw_request = request or ("redrawn", time.perf_counter())
        self.statusBar().showMessage("Drawing the graph…")
        # the worker passes its cancel event: Cancel (Esc) stops a long Graphviz layout
        self.render_jobs.submit(graph_source.draw, self.result.evaluation, pass_cancel=True,
                                **self.drawing_options())

    def on_drawn(self, drawing) -> None:
        """Put the new drawing on screen, keeping zoom if it is the same graph."""
        self.drawing = drawing
        self.drawn_result = self.result
        files.set_compute_unfinished(self, False)
        self.mark_graph_stale(None)
        self.set_graphviz_banner(False)
        key = (self._structure_key(), tuple(sorted(drawing.options.items())))
        self.graph.show_svg(drawing.svg, drawing.node_ids, key=key)
        self.apply_step_highlight()  # the new drawing has the trace's node ids
        self.details.show_details(None)
        what, started = self._draw_request
        elapsed = (time.perf_counter() - started) * 1000
        self.timings["compute_to_graph_ms" if what == "computed and drawn" else
                     "redraw_ms"] = elapsed
        self.statusBar().showMessage(
            f"{self.result.output_name} = {self.results.table.item(0, 1).text()}   ·   "
            f"{what} in {elapsed:.0f} ms", 8000)
        self.drawn.emit()
        self.prepare_steps()

    # ------------------------------------------------------------------ steps

    def prepare_steps(self) -> None:
        """Record and write out the current result's steps on a worker, once: called when
        its graph is on screen (or could not be drawn, or its drawing was cancelled), so
        the first picture never waits for the step text."""
        result = self.result
        if result is None or not result.steps_pending or \
                getattr(result, "_steps_submitted", False):
            return
        from gui.compute import prepare_steps

        result._steps_submitted = True
        self.steps_jobs.submit(_prepared_for, result, prepare_steps, result.evaluation,
                               result.trace)

    def on_steps_prepared(self, outcome) -> None:
        """The steps of a result are ready: the Steps panel (and whatever waits for the
        trace: step exports, the web page, a path's leaf on the graph) can use them."""
        result, prepared = outcome
        if result is not self.result:
            return  # a newer compute replaced it
        result.trace, result.steps = prepared.trace, prepared.steps
        result.steps_pending = False
        self.stepsReady.emit(result)

    def on_steps_failed(self, error) -> None:
        """Recording the steps stopped at a limit: the values, gradients and graph stay;
        the Steps panel says why it has no steps."""
        result = self.result
        if result is None:
            return
        result.steps_pending = False
        result.steps_error = error.message if isinstance(error, ExpressionError) else \
            f"internal error: {type(error).__name__}: {error}"
        self.statusBar().showMessage(f"No steps: {result.steps_error}", 10000)
        self.stepsReady.emit(result)

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
        files.set_compute_unfinished(self, False)
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
        self.steps_jobs.cancel()
        if not keep_graph:
            self.result = self.drawing = self.drawn_result = None
            self.render_jobs.cancel()
            self.mark_graph_stale(None)

    def on_draw_failed(self, error) -> None:
        """Graphviz missing: banner; anything else: a message in the graph area."""
        files.set_compute_unfinished(self, False)
        self.prepare_steps()  # the steps do not need the picture
        if isinstance(error, ExpressionError) and error.kind == "graphviz":
            self.set_graphviz_banner(True)
            self.graph.show_message("No graph: Graphviz is not installed.")
            self.statusBar().showMessage("Computed; the graph needs Graphviz", 8000)
            return
        message = error.message if isinstance(error, ExpressionError) else \
            f"the graph could not be drawn ({type(error).__name__}: {error})"
        if self.graph.has_graph() and self.drawn_result is not None:
            self.mark_graph_stale(f"the new graph could not be drawn: {message}")
        else:
            self.graph.show_message(message)
        self.statusBar().showMessage(message, 10000)
        self.failed.emit(error)

    def cancel(self) -> None:
        """Stop waiting for the running compute or drawing (Esc); with nothing running,
        Esc leaves presentation mode."""
        if files.cancel_exports(self):  # an export (graph, steps) stops first
            return
        busy = self.compute_jobs.busy or self.render_jobs.busy
        if not busy and self.presentation.active:
            self.presentation_action.setChecked(False)
            return
        self.compute_jobs.cancel()
        self.render_jobs.cancel()
        self.prepare_steps()  # a cancelled drawing: the computed result's steps still come
        if busy:
            self.statusBar().showMessage("Cancelled", 4000)
            if self.drawn_result is not None and (self.result is not self.drawn_result or
                                                  self.drawn_result.text !=
                                                  self.editor.toPlainText()):
                self.mark_graph_stale("the computation of the new text was cancelled")
            elif self.drawn_result is not None:
                self.mark_graph_stale("the drawing with the new options was cancelled")

    def _update_busy(self, _=None) -> None:
        busy = self.compute_jobs.busy or self.render_jobs.busy \
            or getattr(self, "_export_worker", None) is not None \
            or getattr(self, "_steps_export_worker", None) is not None
        # in presentation mode Esc also leaves it, so the action stays on
        self.cancel_action.setEnabled(busy or self.presentation.active)

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
        self.mark_graph_stale("the text on the left has an error")
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

    def mark_graph_stale(self, reason: str | None) -> None:
        """Dim the graph and say which text it shows when it does not belong to the text on
        screen (``reason`` says why: an error, a cancel, a failed drawing); None undoes it."""
        from PySide6.QtWidgets import QGraphicsOpacityEffect

        drawn = self.drawn_result
        if reason is None or drawn is None or not self.graph.has_graph():
            self.graph_note.setVisible(False)
            self.graph.setGraphicsEffect(None)
            self.graph_stale_reason = None
            return
        lines = [line for line in drawn.text.splitlines() if line.strip()]
        shown = "; ".join(lines[:2]) + (" …" if len(lines) > 2 else "")
        if len(shown) > 120:
            shown = shown[:119] + "…"
        import html

        self.graph_note.setText(f"<b>Dimmed: this graph is not of the text on the left</b> "
                                f"({html.escape(reason)}). It shows: "
                                f"<code>{html.escape(shown)}</code>")
        self.graph_note.setVisible(True)
        effect = QGraphicsOpacityEffect(self.graph)
        effect.setOpacity(0.35)
        self.graph.setGraphicsEffect(effect)
        self.graph_stale_reason = reason

    def show_notes(self, notes: list[str]) -> None:
        """Say under the editor what a pasted notebook cell set aside or supplied (the first
        few notes, and how many more there are)."""
        shown = ["ℹ " + note for note in notes[:MAX_NOTES_SHOWN]]
        if len(notes) > MAX_NOTES_SHOWN:
            shown.append(f"… and {len(notes) - MAX_NOTES_SHOWN:,} more notes")
        self.notes_label.setText("\n".join(shown))
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
        """Show the clicked node's details and select its text in the editor; a folded
        box (large graphs) opens one level."""
        if name:  # a dashed copy of a shared node stands for the node itself
            from core.drawing.render import original_id
            name = original_id(name)
        folding = getattr(self.drawing, "folding", None)
        if folding is not None and folding.prefix_of(name) is not None:
            from gui import graph_source

            self._draw_request = ("unfolded", time.perf_counter())
            self.render_jobs.submit(graph_source.unfold, self.drawing, name, pass_cancel=True)
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
        if h is not None and self.drawing is not None:
            h = self.drawing.map_highlight(h)  # onto the folded boxes of a large graph
        if h is not None and self.step_panel is not None and self.steps_showing:
            self.graph.set_highlight(set(h.current), set(h.done), edge_labels=h.edge_labels,
                                     recent=h.recent)
        else:
            self.graph.clear_highlight()

    def show_full_values(self, name: str, which: str) -> None:
        """Every entry of a summarised value or gradient, written out on a worker."""
        from gui.full_values import show_full_values

        show_full_values(self, name, which)
    def drawing_options(self) -> dict:
        """The options the graph is drawn with now: View's choices, the theme's colours,
        and, while gradients are revealed step by step, no gradients on the nodes."""
        options = dict(self.graph_options, theme=self.appearance.theme.graph)
        if self.revealing_gradients():
            hidden = {"all": "values", "gradients": "none"}
            options["annotate"] = hidden.get(options["annotate"], options["annotate"])
        return options

    def revealing_gradients(self) -> bool:
        """True while the nodes hide their gradients so that the Steps reveal them one
        step at a time (the choice is on and the Steps tab is showing)."""
        return (self.graph_bar.reveal.isChecked() and self.steps_showing
                and self.step_panel is not None)

    def redraw_if_options_changed(self) -> None:
        """Draw again if the drawing on screen was made with other options."""
        if self.drawing is not None and self.drawing.options != self.drawing_options():
            self.draw_graph()

    def on_steps_visibility(self, visible: bool) -> None:
        """The Steps tab came up or went away: its highlight and the revealed
        gradients follow."""
        self.steps_showing = visible
        self.apply_step_highlight()
        self.redraw_if_options_changed()

    def on_reveal_toggled(self, on: bool) -> None:
        """The 'reveal gradients as I step' choice changed: remember it, redraw."""
        self.settings.setValue("view/revealGradients", on)
        self.redraw_if_options_changed()

    def set_graph_option(self, key: str, value) -> None:
        """Change a drawing option (annotation, direction, saved tensors) and redraw."""
        self.graph_options[key] = value
        self.draw_graph()

    # ------------------------------------------------------------------ classroom

    def set_theme(self, name: str) -> None:
        """Light, dark or high contrast, the graph included (View > Theme)."""
        self.appearance.set_theme(name)
        self.redraw_if_options_changed()

    def change_text_size(self, direction: int) -> None:
        """Text one size larger (+1), smaller (-1) or normal (0), everywhere."""
        self.appearance.change_text_size(direction)
        self.statusBar().showMessage(f"Text size {self.appearance.text_scale:.0%}", 3000)

    def set_presentation(self, on: bool) -> None:
        """Presentation mode (F11): full screen, the graph and the Steps only, large text."""
        if on:
            self.presentation.enter()
        else:
            self.presentation.leave()
        self._update_busy()

    def show_tab(self, dock: QDockWidget) -> None:
        """Bring a right-hand tab (Node, Steps, Check) up and give it the keyboard."""
        dock.show()
        dock.raise_()
        dock.widget().setFocus(Qt.FocusReason.ShortcutFocusReason)

    def step_command(self, method: str) -> None:
        """Next/previous/first/last step or play, from anywhere in the window: the Steps
        tab comes up first, so the class sees what moved."""
        if self.step_panel is None:
            self.statusBar().showMessage("The steps are ready once torch has loaded", 3000)
            return
        if not self.steps_showing:
            self.steps_dock.show()
            self.steps_dock.raise_()
        if self.stale:
            self.statusBar().showMessage("The expression has an error: fix it to step "
                                         "through its backward pass", 4000)
            return
        getattr(self.step_panel, method)()

    def copy_results(self) -> None:
        """Edit > Copy Results, and say so in the status bar."""
        rows = self.results.table.rowCount()
        if not rows:
            self.statusBar().showMessage("No results to copy yet: compute an expression "
                                         "first", 4000)
            return
        self.results.copy_all()
        self.statusBar().showMessage(f"Copied {rows} row{'s' if rows != 1 else ''} of "
                                     "results (tab-separated: paste into a spreadsheet)", 5000)

    # ------------------------------------------------------------------ closing

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Ask about unsaved edits (Cancel keeps the window open); then save layout and
        session, drop pending work, wait for running workers."""
        if not document.maybe_save(self, "quit"):
            event.ignore()
            return
        files.save_window(self)
        self.parse_jobs.cancel()
        self.compute_jobs.cancel()
        self.render_jobs.cancel()
        self.steps_jobs.cancel()
        if self.checker is not None:
            self.checker.cancel()
        if self.views_panel is not None:
            self.views_panel.release()
        self.wait_for_workers(10000)
        super().closeEvent(event)



def _prepared_for(result, prepare, evaluation, trace):
    """``(result, prepare(evaluation, trace))``: the steps job's outcome names its result."""
    return result, prepare(evaluation, trace)


def _parse_outcome(text: str) -> tuple[str, object]:
    """``(text, Program)``, or ``(text, ExpressionError)`` when the text has an error (run
    on the GUI thread for short texts, on a worker for long ones)."""
    try:
        return text, parse(text)
    except ExpressionError as err:
        return text, err
