"""The graph view: Graphviz's SVG of the backward graph, zoomable, pannable and clickable.

The SVG is painted by QtSvg (faithful to Graphviz: fonts, colours, arrows). Node boxes come
from ``QSvgRenderer.boundsOnElement(id)`` mapped by ``transformForElement(id)``; they serve
both to find the node under a click and to draw the step-through's highlight rectangles as
separate scene items, so highlighting never lays out or repaints the SVG again.

Step updates must stay under 16 ms on a 500-node graph (issue 5). Two things make that hold:
highlight boxes are kept per node and only the ones whose state changed are touched (a step
changes two or three boxes, so Qt repaints two or three small regions), and the SVG item is
cached as a device pixmap, with QPixmapCache enlarged so a big graph's pixmap fits (at the
default 10 MB it is thrown away on every paint and the whole SVG is rendered again).

Large graphs draw a shared leaf as dashed copies (``<id>_copy<k>``, see core.render); a
highlight or selection of a node covers every copy of it.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPixmapCache
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtSvgWidgets import QGraphicsSvgItem
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsView

from core.render import original_id

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.05, 20.0
CLICK_SLOP = 4  # pixels the mouse may move and still count as a click rather than a drag
#: QPixmapCache size in KB: room for a full-window pixmap of a big graph at 4K (33 MB) twice
PIXMAP_CACHE_KB = 96 * 1024

HIGHLIGHT_STYLE = {
    # kind: (border colour, fill colour, border width)
    "current": (QColor("#ff6f00"), QColor(255, 160, 0, 70), 3.0),
    "done": (QColor("#2e7d32"), QColor(76, 175, 80, 45), 1.5),
    "selected": (QColor("#1565c0"), QColor(0, 0, 0, 0), 2.5),
    "problem": (QColor("#c62828"), QColor(229, 57, 53, 60), 3.0),
}
#: which box lies on top where boxes overlap
Z_ORDER = {"done": 1, "current": 2, "problem": 2, "selected": 3}


class GraphView(QGraphicsView):
    """Shows one SVG drawing; emits ``nodeClicked(dot_name)`` when a node is clicked
    (``""`` for a click on empty space)."""

    nodeClicked = Signal(str)
    zoomChanged = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.RenderHint.Antialiasing |
                            QPainter.RenderHint.SmoothPixmapTransform |
                            QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setBackgroundBrush(QBrush(QColor("white")))
        self.setObjectName("graphView")
        if QPixmapCache.cacheLimit() < PIXMAP_CACHE_KB:
            QPixmapCache.setCacheLimit(PIXMAP_CACHE_KB)
        self.renderer = QSvgRenderer(self)
        self.svg_item: QGraphicsSvgItem | None = None
        self.node_ids: dict[str, str] = {}
        self.node_rects: dict[str, QRectF] = {}
        self.copies: dict[str, list[str]] = {}  # GraphNode id -> its DOT names (copies too)
        self._boxes: dict[str, QGraphicsPathItem] = {}  # DOT name -> its highlight box
        self._state: dict[str, str] = {}  # DOT name -> "current"/"done"/"problem" shown
        self._selected: list[QGraphicsPathItem] = []
        self._key = None
        self._press: QPointF | None = None
        # True while the drawing is fitted and the user has not zoomed: resizing the
        # window (docks, first show) then fits again instead of cropping the graph
        self.auto_fit = True
        self.placeholder = self.scene().addText("")
        self.placeholder.setDefaultTextColor(QColor("#666666"))

    # ------------------------------------------------------------------ content

    def show_svg(self, svg: bytes, node_ids: dict[str, str], key=None) -> None:
        """Show a new drawing. If ``key`` (default: the node count and drawing size) equals
        the previous drawing's, zoom and position are kept; otherwise the drawing is fitted."""
        if not self.renderer.load(svg):
            self.show_message("The graph drawing could not be read.")
            return
        box = self.renderer.viewBoxF()
        key = key if key is not None else (len(node_ids), round(box.width()), round(box.height()))
        keep = self.svg_item is not None and key == self._key
        saved_transform = self.transform()
        saved_center = self.mapToScene(self.viewport().rect().center())
        self._clear_items()
        self.placeholder.setVisible(False)
        self.svg_item = QGraphicsSvgItem()
        self.svg_item.setSharedRenderer(self.renderer)
        self.svg_item.setCacheMode(QGraphicsSvgItem.CacheMode.DeviceCoordinateCache)
        self.scene().addItem(self.svg_item)
        self.node_ids = dict(node_ids)
        self.node_rects = self._node_rects()
        self.copies = {}
        for name in self.node_rects:
            self.copies.setdefault(original_id(name), []).append(name)
        self._key = key
        margin = 20
        self.scene().setSceneRect(self.svg_item.boundingRect().adjusted(-margin, -margin,
                                                                        margin, margin))
        if keep and self.auto_fit:
            self.fit()
        elif keep:
            self.setTransform(saved_transform)
            self.centerOn(saved_center)
        else:
            self.fit()

    def show_message(self, text: str) -> None:
        """Replace the drawing by a short message (no graph yet, Graphviz missing...)."""
        self._clear_items()
        self._key = None
        self.node_ids, self.node_rects, self.copies = {}, {}, {}
        self.placeholder.setPlainText(text)
        self.placeholder.setVisible(True)
        self.resetTransform()
        self.scene().setSceneRect(self.placeholder.boundingRect())
        self.centerOn(self.placeholder)

    def has_graph(self) -> bool:
        """True while a drawing is shown."""
        return self.svg_item is not None

    def _clear_items(self) -> None:
        self.clear_highlight()
        self._select_overlay([])
        for item in self._boxes.values():
            self.scene().removeItem(item)
        self._boxes = {}
        if self.svg_item is not None:
            self.scene().removeItem(self.svg_item)
            self.svg_item = None

    def _node_rects(self) -> dict[str, QRectF]:
        """Each node's box in item coordinates (the SVG's viewBox mapped onto the item)."""
        box = self.renderer.viewBoxF()
        bounds = self.svg_item.boundingRect()
        sx = bounds.width() / box.width() if box.width() else 1.0
        sy = bounds.height() / box.height() if box.height() else 1.0
        rects = {}
        for name, element in self.node_ids.items():
            if not self.renderer.elementExists(element):
                continue
            rect = self.renderer.transformForElement(element).mapRect(
                self.renderer.boundsOnElement(element))
            rects[name] = QRectF((rect.x() - box.x()) * sx, (rect.y() - box.y()) * sy,
                                 rect.width() * sx, rect.height() * sy)
        return rects

    # ------------------------------------------------------------------ zoom

    def scale_factor(self) -> float:
        """The current zoom (1.0 = the drawing's natural size)."""
        return self.transform().m11()

    def zoom(self, factor: float) -> None:
        """Zoom by ``factor`` within sensible bounds."""
        current = self.scale_factor()
        factor = max(MIN_SCALE / current, min(MAX_SCALE / current, factor))
        self.scale(factor, factor)
        self.auto_fit = False
        self.zoomChanged.emit(self.scale_factor())

    def zoom_in(self) -> None:
        """One step closer."""
        self.zoom(ZOOM_STEP)

    def zoom_out(self) -> None:
        """One step further."""
        self.zoom(1 / ZOOM_STEP)

    def reset_zoom(self) -> None:
        """Natural size (100 %)."""
        self.resetTransform()
        self.auto_fit = False
        self.zoomChanged.emit(1.0)

    def fit(self) -> None:
        """Fit the whole drawing in the view (never enlarging small graphs past 200 %)."""
        if self.svg_item is None:
            return
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        if self.scale_factor() > 2.0:
            self.resetTransform()
            self.scale(2.0, 2.0)
            self.centerOn(self.svg_item)
        self.auto_fit = True
        self.zoomChanged.emit(self.scale_factor())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Keep a fitted drawing fitted when the view changes size."""
        super().resizeEvent(event)
        if self.auto_fit and self.svg_item is not None:
            self.fit()

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """The wheel zooms around the mouse (Shift+wheel scrolls)."""
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier or self.svg_item is None:
            return super().wheelEvent(event)
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom(ZOOM_STEP ** steps)
        event.accept()

    # ------------------------------------------------------------------ clicks

    def node_at(self, scene_pos: QPointF) -> str | None:
        """The DOT name of the node under ``scene_pos`` (scene coordinates), if any."""
        if self.svg_item is None:
            return None
        point = self.svg_item.mapFromScene(scene_pos)
        hits = [name for name, rect in self.node_rects.items() if rect.contains(point)]
        # nested boxes cannot occur in Graphviz output, but prefer the smallest to be safe
        return min(hits, key=lambda n: self.node_rects[n].width()) if hits else None

    def node_scene_rect(self, name: str) -> QRectF | None:
        """A node's box in scene coordinates (for tests and for scrolling to it)."""
        rect = self.node_rects.get(name)
        return None if rect is None else self.svg_item.mapRectToScene(rect)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        """Remember where a possible click started."""
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        """A release close to the press is a click: select the node under it."""
        super().mouseReleaseEvent(event)
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return
        moved = (event.position() - self._press).manhattanLength()
        self._press = None
        if moved <= CLICK_SLOP:
            self.click_at(self.mapToScene(event.position().toPoint()))
        else:
            self.auto_fit = False  # the user panned: keep the view where they put it

    def click_at(self, scene_pos: QPointF) -> None:
        """Select the node at ``scene_pos`` and emit ``nodeClicked``."""
        name = self.node_at(scene_pos)
        self.select_node(name)
        self.nodeClicked.emit(name or "")

    def select_node(self, name: str | None) -> None:
        """Outline the node ``name`` (a DOT name or GraphNode id) and all its copies in blue
        (None clears the outline)."""
        names = self.dot_names(name) if name else []
        self._select_overlay([self._new_box(n, "selected") for n in names])

    def _select_overlay(self, items: list) -> None:
        for item in self._selected:
            self.scene().removeItem(item)
        self._selected = items

    def dot_names(self, name: str) -> list[str]:
        """Every DOT name drawn for the node ``name`` (itself and its copies)."""
        return list(self.copies.get(original_id(name), ()))

    # ------------------------------------------------------------------ highlight

    def set_highlight(self, current: set[str], done: set[str],
                      problem: set[str] = frozenset()) -> None:
        """Box the nodes in ``current`` (orange), ``done`` (green) and ``problem`` (red),
        every copy included, without laying out or re-rendering the drawing; unknown names
        are ignored. Only boxes whose state changes are touched, so a step repaints little."""
        wanted: dict[str, str] = {}
        for kind, names in (("done", done), ("current", current), ("problem", problem)):
            for name in names:  # later kinds win where a node is in several sets
                for dot_name in self.copies.get(original_id(name), ()):
                    wanted[dot_name] = kind
        for dot_name in self._state:
            if dot_name not in wanted:
                self._boxes[dot_name].setVisible(False)
        for dot_name, kind in wanted.items():
            if self._state.get(dot_name) == kind:
                continue
            box = self._boxes.get(dot_name)
            if box is None:
                box = self._boxes[dot_name] = self._new_box(dot_name, kind)
            else:
                self._style(box, kind)
                box.setVisible(True)
        self._state = wanted

    def clear_highlight(self) -> None:
        """Hide every highlight box."""
        self.set_highlight(set(), set())

    def highlight_node(self, name: str) -> None:
        """Box the node ``name`` (and its copies) in red and scroll it into view; for the
        Check panel's "first NaN here"."""
        self.set_highlight(set(), set(), {name})
        rects = [self.node_scene_rect(n) for n in self.dot_names(name)]
        if rects:
            self.ensureVisible(rects[0], 40, 40)

    def highlighted(self) -> dict[str, str]:
        """DOT name -> "current"/"done"/"problem" for the boxes shown (for tests)."""
        return dict(self._state)

    @property
    def _overlays(self) -> list[QGraphicsPathItem]:
        """The highlight boxes on screen."""
        return [self._boxes[name] for name in self._state]

    def _new_box(self, name: str, kind: str) -> QGraphicsPathItem:
        rect = self.node_scene_rect(name).adjusted(-3, -3, 3, 3)
        path = QPainterPath()
        path.addRoundedRect(rect, 5, 5)
        item = QGraphicsPathItem(path)
        item.setData(0, name)
        self._style(item, kind)
        self.scene().addItem(item)
        return item

    @staticmethod
    def _style(item: QGraphicsPathItem, kind: str) -> None:
        pen_color, fill, width = HIGHLIGHT_STYLE[kind]
        item.setPen(QPen(pen_color, width))
        item.setBrush(QBrush(fill))
        item.setZValue(Z_ORDER[kind])
        item.setData(1, kind)
