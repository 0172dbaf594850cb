"""The Views dock: Paths, Forward vs reverse, Jacobian, Matrix products, Second derivatives
and Train, each a new view of the same program (issue 15), side by side as tabs.

The panel follows the window: whenever the window computes (or fails to, as a vector output
does, which only the Jacobian and Modes tabs accept), each view gets the current text,
values and dtype, and computes it on a worker only while its tab is on screen. A path
chosen in the Paths tab is lit up on the window's graph, node ids mapped through the
forward records as the Check panel does (each view evaluates on its own).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTabWidget

from gui.hessian_view import HessianView
from gui.jacobian_view import JacobianView
from gui.microscope_view import MicroscopeView
from gui.modes_view import ModesView
from gui.paths_view import PathsView
from gui.train_view import TrainView
from gui.view_base import ViewInput

#: view name (as resources/examples.json's "view" field names it) -> tab class
VIEWS = {"paths": PathsView, "modes": ModesView, "jacobian": JacobianView,
         "microscope": MicroscopeView, "hessian": HessianView, "train": TrainView}


class ViewsPanel(QTabWidget):
    """One tab per view; only the tab on screen computes."""

    highlighted = Signal()

    def __init__(self, window):
        super().__init__()
        self.setObjectName("viewsPanel")
        self.window_ = window
        self.views = {key: cls(window.pool) for key, cls in VIEWS.items()}
        for key, view in self.views.items():
            view.setObjectName(f"{key}View")
            self.addTab(view, view.title)
        self.dock_showing = False
        self.currentChanged.connect(lambda _: self._update_showing())
        self.views["paths"].pathSelected.connect(self.highlight_path)
        self.path_highlight = None
        self._lit = False  # the graph shows a path now

    def release(self) -> None:
        """The window is closing: stop the views' work and take the plots apart."""
        for view in self.views.values():
            view.jobs.cancel()
        self.views["train"].release()

    def view(self, key: str):
        """The tab called ``key`` ("paths", "modes", "jacobian", "microscope", "hessian",
        "train")."""
        return self.views[key]

    def show_view(self, key: str) -> None:
        """Bring the dock and the tab ``key`` to the front."""
        dock = self.window_.views_dock
        dock.show()
        dock.raise_()
        self.setCurrentWidget(self.views[key])
        self.set_dock_showing(True)

    def set_dock_showing(self, showing: bool) -> None:
        """The dock came on (or went off) screen."""
        self.dock_showing = showing
        if showing and not getattr(self, "_widened", False):
            # tables and plots: the first time the dock shows, give it room (once, as the
            # Check tab does, so a width the user chooses later is kept)
            self._widened = True
            w = self.window_
            dock = w.views_dock
            # a third of the window at most: at 0.42 the graph kept a quarter of a
            # 1280-pixel projector, its nodes too small to read from the back
            wanted = min(640, int(w.width() * 0.32))
            if dock.width() < wanted:
                w.resizeDocks([dock], [wanted], Qt.Orientation.Horizontal)
        self._update_showing()

    def _update_showing(self) -> None:
        current = self.currentWidget()
        for view in self.views.values():
            view.set_showing(self.dock_showing and view is current)
        self.apply_highlight()

    def follow_window(self, outcome=None) -> None:
        """The window computed or failed: hand the current program to every view (with the
        values the result was computed from: reading 2,000 values again took the GUI
        thread tens of ms)."""
        w = self.window_
        result = w.result
        evaluation = getattr(result, "evaluation", None)
        from core.views.model_views import is_model

        if is_model(evaluation) and result.text == w.editor.toPlainText():
            # a graph from the user's own code (Exploration.show()): the views work on it
            source = ViewInput("", {}, evaluation.dtype, model=evaluation,
                               trace=result.trace)
            for view in self.views.values():
                view.set_source(source)
            return
        specs = getattr(outcome, "variables", None) or None
        if specs is not None:
            source = ViewInput(outcome.text, specs, outcome.dtype)
        else:
            specs, errors = w.variables.specs()
            source = None if errors else ViewInput(w.editor.toPlainText(), specs,
                                                   w.dtype_box.currentText())
        for view in self.views.values():
            view.set_source(source)

    # the Paths tab on the graph ------------------------------------------------------------

    def highlight_path(self, refs: list, factors: list) -> None:
        """Map the chosen path's nodes to the drawn graph's and box them, factors on edges."""
        self.path_highlight = (refs, factors)
        self.apply_highlight()

    def apply_highlight(self) -> None:
        """Draw the path highlight while the Paths tab shows (after every redraw too)."""
        w = self.window_
        paths = self.views["paths"]
        if not (self.dock_showing and self.currentWidget() is paths) or not self.path_highlight:
            if self._lit:
                self._lit = False
                w.apply_step_highlight()  # give the graph back to the Steps panel's state
            return
        refs, factors = self.path_highlight
        drawn = self._drawn_ids(refs)
        if drawn is None:
            w.statusBar().showMessage("The graph on screen is of another expression: compute "
                                      "to light the path up", 5000)
            return
        ids = [i for i in drawn if i is not None]
        labels = {}
        for i, (factor, k) in enumerate(factors):
            if i + 1 < len(drawn) and drawn[i] and drawn[i + 1] and factor:
                labels[(drawn[i], drawn[i + 1], k)] = f"× {factor}"
        if refs and refs[0] and refs[0][0] == "leaf" and w.drawn_result is not None:
            leaf = w.drawn_result.trace.leaves.get(refs[0][1]) if w.drawn_result.trace else None
            if leaf is not None:
                ids.append(leaf.leaf_id)
        w.graph.set_highlight(set(ids), set(), edge_labels=labels, recent=set(labels))
        self._lit = True
        self.highlighted.emit()

    def _drawn_ids(self, refs: list) -> list | None:
        """The drawn graph's node id for each ref (None where unknown); None when the
        drawing is not of the Paths tab's program."""
        w = self.window_
        result = w.drawn_result
        source = self.views["paths"].shown_source
        if result is None or source is None or result.text != source.text \
                or result.dtype != source.dtype:
            return None
        out = []
        for ref in refs:
            if ref is None:
                out.append(None)
            elif ref[0] == "record":
                ids = result.record_node_ids
                out.append(ids[ref[1]] if ref[1] < len(ids) else None)
            else:
                leaf = result.trace.leaves.get(ref[1]) if result.trace else None
                out.append(leaf.node_id if leaf else None)
        return out


def attach_views(w) -> None:
    """Put the Views panel into the window's Views dock and keep it in step."""
    panel = ViewsPanel(w)
    w.views_panel = panel
    w.embed_panel(w.views_dock, panel)
    w.computed.connect(panel.follow_window)
    w.failed.connect(panel.follow_window)
    w.drawn.connect(panel.apply_highlight)
    w.stepsReady.connect(panel.apply_highlight)  # a path's input box needs the steps' leaves
    w.views_dock.visibilityChanged.connect(panel.set_dock_showing)
    panel.set_dock_showing(w.views_dock.isVisible()
                           and not w.views_dock.visibleRegion().isEmpty())
    panel.follow_window()
