"""The step-through panel: walk the recorded backward pass one node at a time.

A self-contained widget the main window embeds beside the graph view. It receives a
:class:`gui.step_view.StepView`, the recorded trace already written out as text on the
compute worker (no torch work happens here), and shows step
controls (first, back, next, last, play with a speed), a clickable list of the steps, and
the arithmetic of the current step. Each change of step emits ``stepChanged(index,
highlight)`` where ``highlight`` is a :class:`~gui.step_view.StepHighlight`
(``current``, ``done``, ``edge_labels``), ready for ``GraphView.set_highlight(current, done)``.

Keys (while the panel or a child has focus, and in any widget handed to
:meth:`StepPanel.add_key_target`, such as the graph view): Left/Right step back/forward,
Home/End go to the first/last step, Space plays or pauses; Up/Down move through the list.

The dock is narrow, so the step reads top to bottom like a page of the exported PDF: a title
line ("Step 3 of 12: exp(g1)") with the operation, then the gradient in, the rule in words
and the numbers, all wrapped to the dock's width. Numbers are in a fixed-width face and
each "a × b = c" line wraps as a whole unit where it can, so the lines of a step line up.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QIcon, QImage, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QSplitter,
    QStyle,
    QTabBar,
    QTextBrowser,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from gui.step_view import TITLE_MUTED, StepView


def notation_html() -> str:
    """The step text's notation as a small table (the panel's help)."""
    import html

    from core.teaching.notation import LEGEND
    rows = "".join(f"<tr><td><b>{html.escape(a)}</b></td><td>{html.escape(b)}</td></tr>"
                   for a, b in LEGEND)
    return f"<p><b>Notation</b></p><table cellspacing='4'>{rows}</table>"


def _inked(icon: QIcon, light: bool) -> QIcon:
    """``icon`` as it is, or with its colours inverted (alpha kept) for a dark theme."""
    if not light:
        return icon
    inverted = QIcon()
    for side in (16, 24, 32, 48):
        for mode in (QIcon.Mode.Normal, QIcon.Mode.Disabled):
            image = icon.pixmap(side, side, mode).toImage()
            image.invertPixels(QImage.InvertMode.InvertRgb)
            if mode == QIcon.Mode.Disabled:  # dimmer than the enabled ones
                image = _faded(image)
            inverted.addPixmap(QPixmap.fromImage(image), mode)
    return inverted


def _faded(image: QImage) -> QImage:
    faded = QImage(image.size(), QImage.Format.Format_ARGB32_Premultiplied)
    faded.fill(0)
    painter = QPainter(faded)
    painter.setOpacity(0.35)
    painter.drawImage(0, 0, image)
    painter.end()
    return faded


class StepPanel(QWidget):
    """Step controls, the list of steps and the current step's arithmetic."""

    #: (step index, StepHighlight) whenever the current step changes
    stepChanged = Signal(int, object)  # noqa: N815 - Qt's naming

    def __init__(self, parent=None):
        super().__init__(parent)
        self._view: StepView | None = None
        self._muted = TITLE_MUTED  # the theme's muted colour (set_colours)
        self._trace = None
        self._index = -1
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._advance)

        style = self.style()
        self.first_button = self._button(QStyle.SP_MediaSkipBackward, "First step (Home)",
                                         self.first)
        self.back_button = self._button(QStyle.SP_MediaSeekBackward, "Previous step (Left)",
                                        self.back)
        self.play_button = self._button(QStyle.SP_MediaPlay, "Play / pause (Space)",
                                        self.toggle_play)
        self.next_button = self._button(QStyle.SP_MediaSeekForward, "Next step (Right)",
                                        self.next)
        self.last_button = self._button(QStyle.SP_MediaSkipForward, "Last step (End)",
                                        self.last)
        self._play_icon = style.standardIcon(QStyle.SP_MediaPlay)
        self._pause_icon = style.standardIcon(QStyle.SP_MediaPause)

        self.speed = QDoubleSpinBox(self)
        self.speed.setRange(0.25, 20.0)
        self.speed.setSingleStep(0.25)
        self.speed.setValue(1.0)
        # a short suffix: the controls row sets the narrow dock's minimum width
        self.speed.setSuffix(" /s")
        self.speed.setToolTip("How fast Play moves through the steps (steps per second)")
        self.speed.valueChanged.connect(self._speed_changed)
        self.position = QLabel("no steps", self)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        for button in (self.first_button, self.back_button, self.play_button,
                       self.next_button, self.last_button):
            controls.addWidget(button)
        controls.addStretch(1)
        controls.addWidget(self.position)

        # the backward pass is the point; the forward walk shows where the values came from
        self.mode = QTabBar(self)
        # short labels: the two tabs and the speed share one row of a narrow dock
        self.mode.addTab("Backward")
        self.mode.addTab("Forward")
        self.mode.setUsesScrollButtons(False)  # both tabs always readable
        self.mode.setToolTip("Backward: the chain rule, node by node, as torch's engine ran "
                             "it. Forward: each value in the order it was computed.")
        self.mode.currentChanged.connect(self._mode_changed)

        self.list = QListWidget(self)
        self.list.setAccessibleName("Backward steps")
        self.list.setAlternatingRowColors(True)
        self.list.currentRowChanged.connect(self._row_changed)
        self.title = QLabel(self)
        self.title.setObjectName("stepTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.RichText)
        self.title.setAccessibleName("Current step")
        self.details = QTextBrowser(self)
        self.details.setAccessibleName("Arithmetic of the step")
        self.details.setOpenLinks(False)
        self.details.setLineWrapMode(QTextBrowser.WidgetWidth)
        self.details.setFrameShape(QTextBrowser.NoFrame)
        self.set_colours({"muted": "#555555", "text": "#333333", "bad": "#b2182b"})

        step_box = QWidget(self)
        step_layout = QVBoxLayout(step_box)
        step_layout.setContentsMargins(4, 6, 4, 0)
        step_layout.addWidget(self.title)
        step_layout.addWidget(self.details, 1)
        self.splitter = QSplitter(Qt.Vertical, self)
        self.splitter.setObjectName("stepSplitter")
        self.splitter.addWidget(self.list)
        self.splitter.addWidget(step_box)
        self.splitter.setChildrenCollapsible(False)
        # the list gets two fifths: enough to see where a step sits in the pass, while
        # the step itself (title, rule, numbers) keeps the larger part
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([400, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        # the speed beside the mode tabs, not in the controls row: each row sets the
        # narrowest the dock can be, and a projector at 1024 pixels needs it narrow
        mode_row = QHBoxLayout()
        mode_row.setContentsMargins(0, 0, 4, 0)
        mode_row.addWidget(self.mode)
        mode_row.addStretch(1)
        mode_row.addWidget(self.speed)
        # the notation, defined once (core.teaching.step_text.LEGEND, also the deck's first page)
        self.notation_button = QToolButton(self)
        self.notation_button.setText("?")
        self.notation_button.setAccessibleName("Notation")
        self.notation_button.setAutoRaise(True)
        self.notation_button.setToolTip(notation_html())
        self.notation_button.clicked.connect(self._show_notation)
        # in the controls row: the mode row (tabs and speed) sets the dock's narrowest width
        controls.addWidget(self.notation_button)
        layout.addLayout(mode_row)
        layout.addWidget(self.splitter, 1)

        # shortcuts work anywhere inside the panel, not in the rest of the window
        # (other widgets join with add_key_target)
        self._external: list[QShortcut] = []
        self._add_keys(self, [])
        self._update_controls()

    def set_colours(self, colours: dict) -> None:
        """The step text's colours from the window's theme (``muted``, ``text`` and
        ``bad`` of gui.themes), so it reads on a dark background too."""
        self._muted = colours["muted"]
        if 0 <= self._index < self.step_count():
            self.title.setText(self._sequence()[self._index].title.replace(TITLE_MUTED,
                                                                          self._muted))
        mono = QFontDatabase.systemFont(QFontDatabase.FixedFont).family()
        # numbers in the fixed-width face so a step's "a × b = c" lines line up
        self.details.document().setDefaultStyleSheet(
            f".num {{ font-family: '{mono}'; white-space: pre-wrap; }}"
            f" .head {{ color: {colours['muted']}; font-weight: bold; }}"
            f" .result {{ font-weight: bold; color: {colours['bad']}; }}"
            f" .via {{ color: {colours['text']}; }}"
            f" .pattern {{ color: {colours.get('accent', '#1a5fb4')}; font-style: italic; }}"
            " .rule { font-weight: bold; }"
            f" .grid {{ font-family: '{mono}'; margin-left: 12px; }}"
            " .note { background: #fff3cd; color: #7a4b00; font-weight: bold; }")
        if 0 <= self._index < self.step_count():
            self.details.setHtml(self._sequence()[self._index].body)

    def set_icon_ink(self, light: bool) -> None:
        """Light step-button icons on a dark theme (the style's own icons are dark)."""
        style = self.style()
        pairs = ((self.first_button, QStyle.SP_MediaSkipBackward),
                 (self.back_button, QStyle.SP_MediaSeekBackward),
                 (self.next_button, QStyle.SP_MediaSeekForward),
                 (self.last_button, QStyle.SP_MediaSkipForward))
        for button, icon in pairs:
            button.setIcon(_inked(style.standardIcon(icon), light))
        self._play_icon = _inked(style.standardIcon(QStyle.SP_MediaPlay), light)
        self._pause_icon = _inked(style.standardIcon(QStyle.SP_MediaPause), light)
        self._update_controls()

    def _add_keys(self, widget: QWidget, store: list) -> None:
        for key, slot in ((Qt.Key_Left, self.back), (Qt.Key_Right, self.next),
                          (Qt.Key_Home, self.first), (Qt.Key_End, self.last),
                          (Qt.Key_Space, self.toggle_play)):
            shortcut = QShortcut(QKeySequence(key), widget)
            shortcut.setContext(Qt.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
            store.append(shortcut)

    def add_key_target(self, widget: QWidget) -> None:
        """Let the step keys work while ``widget`` (e.g. the graph view) has focus; they
        are on while :meth:`set_external_keys_enabled` says so (the Steps tab shows)."""
        self._add_keys(widget, self._external)

    def set_external_keys_enabled(self, enabled: bool) -> None:
        """Turn the step keys in the widgets of :meth:`add_key_target` on or off (off: the
        graph's arrow keys scroll it as usual)."""
        for shortcut in self._external:
            shortcut.setEnabled(enabled)

    def _show_notation(self) -> None:
        # a tooltip, not a dialog: it never stops a lesson and goes away by itself
        button = self.notation_button
        QToolTip.showText(button.mapToGlobal(button.rect().bottomLeft()), notation_html(),
                          button)

    def _button(self, icon, tip: str, slot) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(self.style().standardIcon(icon))
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0])
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    # ------------------------------------------------------------------ public API

    def set_trace(self, steps) -> None:
        """Show a new backward pass (or None to clear) and go to its first step. ``steps``
        is a :class:`StepView`; a :class:`core.teaching.trace.Trace` is written out first (that
        reads
        tensors: the window passes the StepView its compute worker made)."""
        self.stop()
        if steps is not None and not isinstance(steps, StepView):
            steps = StepView.from_trace(steps)
        self._view = steps
        self._trace = steps.trace if steps is not None else None
        self._show_sequence()

    def show_waiting(self, message: str) -> None:
        """No steps to show (yet): clear the list and say why in the panel, e.g. "Preparing
        the steps…" while a worker writes them out after the graph is drawn."""
        self.stop()
        self._view = None
        self._trace = None
        self._index = -1
        self.list.blockSignals(True)
        self.list.clear()
        self.list.blockSignals(False)
        self.title.clear()
        self.details.setPlainText(message)
        self._update_controls()
        self.position.setText("preparing…" if message.startswith("Preparing") else
                              "no steps")

    def waiting_text(self) -> str:
        """What the panel says while it has no steps (empty when it shows steps)."""
        return "" if self.step_count() else self.details.toPlainText()

    def forward_mode(self) -> bool:
        """True while the list shows the forward walk instead of the backward steps."""
        return self.mode.currentIndex() == 1

    def set_forward_mode(self, forward: bool) -> None:
        """Show the forward walk (True) or the backward steps (False)."""
        self.mode.setCurrentIndex(1 if forward else 0)

    def _sequence(self) -> list:
        if self._view is None:
            return []
        return self._view.forward if self.forward_mode() else self._view.steps

    def _show_sequence(self) -> None:
        """Fill the list from the current mode's steps and go to the first one."""
        self.stop()
        self._index = -1
        self.list.setAccessibleName("Forward values" if self.forward_mode() else
                                    "Backward steps")
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItems([step.entry for step in self._sequence()])
        self.list.blockSignals(False)
        self.details.clear()
        self.title.clear()
        if self._sequence():
            self.set_step(0)
        else:
            trace = getattr(self._view, "trace", None)
            reason = (trace.no_steps_reason if trace is not None else
                      "the output does not depend on any input that needs a gradient")
            # y = x: the output is an input, its gradient 1 and no node runs; not "does not
            # depend" while the results show dy/dx = 1
            self.details.setPlainText(
                "" if self._view is None else f"No backward steps: {reason}.")
            self._update_controls()

    def _mode_changed(self, _index: int) -> None:
        self._show_sequence()

    def trace(self):
        """The trace being shown (None if none)."""
        return self._trace

    def current_index(self) -> int:
        """The current step's index (-1 when there is none)."""
        return self._index

    def step_count(self) -> int:
        """How many steps the trace has."""
        return len(self._sequence())

    def is_playing(self) -> bool:
        """True while Play is moving through the steps."""
        return self._timer.isActive()

    def set_step(self, index: int) -> None:
        """Go to step ``index`` (clamped), update the list and text, emit stepChanged."""
        count = self.step_count()
        if not count:
            return
        index = max(0, min(index, count - 1))
        if index == self._index:
            return
        self._index = index
        if self.list.currentRow() != index:
            self.list.blockSignals(True)
            self.list.setCurrentRow(index)
            self.list.blockSignals(False)
        step = self._sequence()[index]
        self.title.setText(step.title.replace(TITLE_MUTED, self._muted))
        self.details.setHtml(step.body)
        self._update_controls()
        highlight = (self._view.forward_highlight(index) if self.forward_mode()
                     else self._view.highlight(index))
        self.stepChanged.emit(index, highlight)

    def first(self) -> None:
        """Go to the first step."""
        self.set_step(0)

    def last(self) -> None:
        """Go to the last step."""
        self.set_step(self.step_count() - 1)

    def next(self) -> None:
        """Go one step forward."""
        self.set_step(self._index + 1)

    def back(self) -> None:
        """Go one step back."""
        self.set_step(self._index - 1)

    def toggle_play(self) -> None:
        """Play from the current step (from the start if at the end), or pause."""
        if self.is_playing():
            self.stop()
            return
        if not self.step_count():
            return
        if self._index >= self.step_count() - 1:
            self.first()
        self._timer.start(self._interval())
        self._update_controls()

    def stop(self) -> None:
        """Pause playing."""
        self._timer.stop()
        self._update_controls()

    def set_speed(self, steps_per_second: float) -> None:
        """Set how many steps per second Play shows."""
        self.speed.setValue(steps_per_second)

    # ------------------------------------------------------------------ private slots

    def _interval(self) -> int:
        return max(1, round(1000 / self.speed.value()))

    def _speed_changed(self, _value) -> None:
        if self.is_playing():
            self._timer.setInterval(self._interval())

    def _advance(self) -> None:
        if self._index >= self.step_count() - 1:
            self.stop()
            return
        self.next()
        if self._index >= self.step_count() - 1:
            self.stop()

    def _row_changed(self, row: int) -> None:
        if row >= 0:
            self.set_step(row)

    def _update_controls(self) -> None:
        count = self.step_count()
        at = self._index
        self.first_button.setEnabled(count > 0 and at > 0)
        self.back_button.setEnabled(count > 0 and at > 0)
        self.next_button.setEnabled(count > 0 and at < count - 1)
        self.last_button.setEnabled(count > 0 and at < count - 1)
        self.play_button.setEnabled(count > 1)
        self.play_button.setIcon(self._pause_icon if self.is_playing() else self._play_icon)
        what = "value" if self.forward_mode() else "step"
        self.position.setText(f"{what} {at + 1} of {count}" if count else "no steps")

