"""The graph view: Graphviz's SVG of the backward graph, zoomable, pannable and clickable.

The SVG is painted by QtSvg (faithful to Graphviz: fonts, colours, arrows). Node boxes come
from ``QSvgRenderer.boundsOnElement(id)`` mapped by ``transformForElement(id)``; they serve
both to find the node under a click and to draw the step-through's highlight rectangles as
separate scene items, so highlighting never lays out or repaints the SVG again.

Step updates must stay under 16 ms on a 500-node graph (issue 5). QtSvg cannot paint part
of a drawing: every repaint, however small the changed region, renders the whole SVG (21 ms
for 488 nodes here), and QGraphicsSvgItem's device cache did not avoid that (measured:
benchmarks/RESULTS_steps.md). So the drawing is rendered once into a pixmap at the current
zoom and shown as a QGraphicsPixmapItem; a step repaints a few small regions of it. Zooming
re-renders the pixmap shortly after the zoom stops (until then the old one is scaled), so
text stays crisp. Where the pixmap would be too large (a huge graph zoomed in), the SVG item
itself is shown instead. Highlight boxes are separate items, one per node, and only the boxes
whose state changes are touched. The gradients the step-through has sent along edges are
drawn the same way, as items over the edges' paths (gui.edge_overlay).

Large graphs draw a shared leaf as dashed copies (``<id>_copy<k>``, see core.drawing.render); a
highlight or selection of a node covers every copy of it.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QTransform,
)
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtSvgWidgets import QGraphicsSvgItem
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
)

from core.drawing.render import original_id, svg_edges
from gui.edge_overlay import EdgeOverlays

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.05, 20.0
CLICK_SLOP = 4  # pixels the mouse may move and still count as a click rather than a drag
#: largest pixmap of the drawing (pixels; 24 M = 96 MB); beyond it the SVG item is shown
MAX_PIXMAP_PIXELS = 24_000_000
#: ms after the last zoom change before the pixmap is rendered again at the new zoom
RERENDER_DELAY_MS = 150

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
        self.background = QColor("white")  # the theme's graph background (set_colours)
        self.setBackgroundBrush(QBrush(self.background))
        self.setObjectName("graphView")
        self.renderer = QSvgRenderer(self)
        self.svg_item: QGraphicsSvgItem | None = None  # geometry, and the fallback drawing
        self.pixmap_item: QGraphicsPixmapItem | None = None
        self.pixmap_scale = 0.0  # device pixels per scene unit of the pixmap shown
        self._rerender = QTimer(self)
        self._rerender.setSingleShot(True)
        self._rerender.setInterval(RERENDER_DELAY_MS)
        self._rerender.timeout.connect(self.render_pixmap)
        self.zoomChanged.connect(lambda _z: self._rerender.start())
        self.node_ids: dict[str, str] = {}
        self.node_rects: dict[str, QRectF] = {}
        self.copies: dict[str, list[str]] = {}  # GraphNode id -> its DOT names (copies too)
        self._boxes: dict[str, QGraphicsPathItem] = {}  # DOT name -> its highlight box
        self._state: dict[str, str] = {}  # DOT name -> "current"/"done"/"problem" shown
        self._selected: list[QGraphicsPathItem] = []
        self.edges: EdgeOverlays | None = None  # gradients on edges while stepping
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
        self.svg_item.setCacheMode(QGraphicsSvgItem.CacheMode.NoCache)
        self.scene().addItem(self.svg_item)
        self.pixmap_item = QGraphicsPixmapItem()
        self.pixmap_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.pixmap_item.setVisible(False)
        self.scene().addItem(self.pixmap_item)
        self.node_ids = dict(node_ids)
        self.node_rects = self._node_rects()
        self.copies = {}
        for name in self.node_rects:
            self.copies.setdefault(original_id(name), []).append(name)
        self.edges = EdgeOverlays(self.scene(), svg_edges(svg), self._element_to_scene,
                                  [self.node_scene_rect(name) for name in self.node_rects])
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
        self.render_pixmap()

    def render_pixmap(self) -> None:
        """Render the drawing into a pixmap at the current zoom (device pixels) and show
        it in place of the SVG item; keep the SVG item if the pixmap would be too large."""
        self._rerender.stop()
        if self.svg_item is None:
            return
        scale = self.scale_factor() * self.devicePixelRatioF()
        bounds = self.svg_item.boundingRect()
        width, height = round(bounds.width() * scale), round(bounds.height() * scale)
        if width * height > MAX_PIXMAP_PIXELS or width < 1 or height < 1:
            self.pixmap_item.setVisible(False)
            self.svg_item.setVisible(True)
            self.pixmap_scale = 0.0
            return
        image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(self.background)
        painter = QPainter(image)
        painter.setRenderHints(QPainter.RenderHint.Antialiasing |
                               QPainter.RenderHint.TextAntialiasing |
                               QPainter.RenderHint.SmoothPixmapTransform)
        self.renderer.render(painter, QRectF(0, 0, width, height))
        painter.end()
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(1.0)
        self.pixmap_item.setPixmap(pixmap)
        self.pixmap_item.setPos(bounds.topLeft())
        self.pixmap_item.setScale(1.0 / scale)
        self.pixmap_item.setVisible(True)
        self.svg_item.setVisible(False)
        self.pixmap_scale = scale

    def set_colours(self, background: QColor, text: QColor) -> None:
        """The theme's background (around and under the drawing) and message colour."""
        self.background = QColor(background)
        self.setBackgroundBrush(QBrush(self.background))
        self.placeholder.setDefaultTextColor(QColor(text))
        if self.svg_item is not None:
            self.render_pixmap()

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
        if self.edges is not None:
            self.edges.remove()
            self.edges = None
        for item in self._boxes.values():
            self.scene().removeItem(item)
        self._boxes = {}
        if self.svg_item is not None:
            self.scene().removeItem(self.svg_item)
            self.svg_item = None
        if self.pixmap_item is not None:
            self.scene().removeItem(self.pixmap_item)
            self.pixmap_item = None
        self._rerender.stop()

    def _element_to_scene(self, element: str) -> QTransform:
        """Maps an SVG element's own coordinates (a path's points) to the scene's: the
        element's parents' transform, then the viewBox onto the SVG item, then the item."""
        box = self.renderer.viewBoxF()
        bounds = self.svg_item.boundingRect()
        sx = bounds.width() / box.width() if box.width() else 1.0
        sy = bounds.height() / box.height() if box.height() else 1.0
        to_item = QTransform(sx, 0, 0, sy, -box.x() * sx, -box.y() * sy)
        # QTransform products apply left to right
        return (self.renderer.transformForElement(element) * to_item
                * self.svg_item.sceneTransform())

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
                      problem: set[str] = frozenset(), edge_labels: dict | None = None,
                      recent=frozenset()) -> None:
        """Box the nodes in ``current`` (orange), ``done`` (green) and ``problem`` (red),
        every copy included, without laying out or re-rendering the drawing; unknown names
        are ignored. ``edge_labels`` ({(source, target, k): text}, as in
        ``core.teaching.trace.StepHighlight``) writes gradients on their edges, the ``recent`` ones
        bolder; None or {} shows none. Only items whose state changes are touched, so a
        step repaints little."""
        if self.edges is not None:
            self.edges.set_labels(edge_labels or {}, recent)
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

    def edge_labels(self) -> dict[tuple[str, str, int], str]:
        """(source, target, k) -> gradient text of the edge labels shown (for tests)."""
        return self.edges.labels() if self.edges is not None else {}

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
