"""Gradients on the edges of the graph view: what the step-through's edges carry so far.

The exported step pages (core.teaching.step_export) write each gradient on its edge in red, bolder
on
the edges the current step just computed. The window shows the same over its drawing without
laying anything out again: for every edge (``core.drawing.render.svg_edges``: the path Graphviz
drew)
a translucent red stroke follows the path, and one label, red text on a small white rounded
box, sits at the middle of the edge. Items are made the first time an edge is labelled and
then only shown, hidden or restyled, so a step touches only the edges whose label changes.

Edges are keyed like ``core.teaching.trace.StepHighlight.edge_labels``: ``(source, target, k)``
GraphNode ids in torchviz's direction, k the k-th of parallel edges. Each drawn edge has its
own stroke and label: the two edges of ``x*x`` carry each slot's own gradient, so a student
who adds the arrows gets the gradient. The copies of a shared leaf on large graphs
(``<id>_copy<k>``) stand for their original: the k-th edge from the original to a node is the
k-th such edge drawn, from whichever copy.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from core.drawing.render import SvgEdge, original_id
from core.serialize import shown_minus

RED = QColor("#c62828")
#: stroke along an edge that has carried a gradient; (colour, width in drawing units)
STROKE = {False: (QColor(211, 47, 47, 110), 3.5), True: (QColor(211, 47, 47, 190), 6.0)}
#: label text size in drawing units (Graphviz's node text is 10): readable wherever the
#: node text is
LABEL_PIXELS = 11
Z_STROKE, Z_LABEL, Z_LABEL_RECENT = 0.5, 4.0, 5.0
#: where along its edge a label may sit (fractions of the path), tried in this order, each
#: centred on the edge, then just left and right of it: edges fanning out of one node have
#: close midpoints, so a label that would cover another label or a node moves aside
PLACES = (0.5, 0.64, 0.36, 0.76, 0.24)
#: covering another label costs this many times more than covering part of a node box
LABEL_OVERLAP_WEIGHT = 4.0
GRID = 64.0  # cell size of the node-box index used when placing labels


def display_text(text: str) -> str:
    """A label as shown: a small matrix one row per line (``[[a, b],`` / `` [c, d]]``),
    so it stays narrow enough to sit on an edge, with the page's minus sign (the nodes and
    the steps write −2.49688, so the edges do too)."""
    text = shown_minus(text)
    return text.replace("], [", "],\n [") if text.startswith("[[") else text


class EdgeLabel(QGraphicsItem):
    """A gradient written on an edge: red text on a white rounded box centred on a point."""

    def __init__(self, center: QPointF):
        super().__init__()
        self._center = center
        self._text = ""
        self._shown = ""
        self._recent = False
        self._font = QFont("monospace")
        self._font.setStyleHint(QFont.StyleHint.TypeWriter)
        self._font.setPixelSize(LABEL_PIXELS)
        self._rect = QRectF()

    def text(self) -> str:
        """The gradient's text as the trace gave it."""
        return self._text

    def is_recent(self) -> bool:
        """True when drawn bold (the current step computed this gradient)."""
        return self._recent

    def set_center(self, center: QPointF) -> None:
        """Move the box so it is centred on ``center`` (scene coordinates)."""
        self.prepareGeometryChange()
        self._rect.moveCenter(center)
        self._center = center

    def set_text(self, text: str, recent: bool) -> None:
        """Show ``text``, bold when ``recent``; resizes the box around the centre."""
        self.prepareGeometryChange()
        self._text, self._shown, self._recent = text, display_text(text), recent
        self._font.setBold(recent)
        size = QFontMetricsF(self._font).boundingRect(
            QRectF(0, 0, 10_000, 10_000), Qt.AlignmentFlag.AlignLeft, self._shown).size()
        width, height = size.width() + 6, size.height() + 2
        self._rect = QRectF(self._center.x() - width / 2, self._center.y() - height / 2,
                            width, height)
        self.setZValue(Z_LABEL_RECENT if recent else Z_LABEL)
        self.setToolTip(f"gradient sent back along this edge: {shown_minus(text)}")
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        """The box, plus the border's width."""
        return self._rect.adjusted(-1, -1, 1, 1)

    def paint(self, painter, _option, _widget=None) -> None:
        """The white box with a thin red border, then the red text."""
        painter.setPen(QPen(RED, 1.2 if self._recent else 0.6))
        painter.setBrush(QBrush(QColor(255, 255, 255, 235)))
        painter.drawRoundedRect(self._rect, 3, 3)
        painter.setFont(self._font)
        painter.setPen(RED)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self._shown)


class EdgeOverlays:
    """The gradient overlays of one drawing in ``scene``.

    ``to_scene(element_id)`` maps an SVG element's coordinates to the scene's (the view
    knows the SVG item's placement)."""

    def __init__(self, scene, edges: list[SvgEdge], to_scene: Callable[[str], QTransform],
                 node_rects=()):
        self._scene = scene
        self._to_scene = to_scene
        # node boxes (scene coordinates) by grid cell, for labels to keep off them
        self._grid: dict[tuple[int, int], list[QRectF]] = {}
        for rect in node_rects:
            for cell in _cells(rect):
                self._grid.setdefault(cell, []).append(rect)
        # GraphNode key (source, target, k) -> the one edge drawn for it; svg_edges lists
        # them in the order the graph's edges were written, which numbers parallel edges
        self._edges: dict[tuple[str, str, int], SvgEdge] = {}
        seen: dict[tuple[str, str], int] = {}
        for edge in edges:
            pair = (original_id(edge.source), original_id(edge.target))
            k = seen.get(pair, 0)
            seen[pair] = k + 1
            self._edges[(*pair, k)] = edge
        self._parallel = seen  # (source, target) -> how many edges join them
        self._items: dict[tuple[str, str, int], tuple[QGraphicsPathItem, EdgeLabel]] = {}
        self._state: dict[tuple[str, str, int], tuple[str, bool]] = {}  # key -> shown
        # until a label is placed: points along its edge, and for one of several parallel
        # edges the side (a unit step) its label goes to, away from the others
        self._places: dict[tuple[str, str, int], tuple[list[QPointF], QPointF | None]] = {}

    def set_labels(self, labels: dict, recent=frozenset()) -> None:
        """Show ``labels`` ({(source, target, k): text}) on their edges, the ``recent`` ones
        bolder; every other edge's overlay is hidden. Unknown edges are ignored."""
        wanted = {key: (text, key in recent) for key, text in labels.items()
                  if key in self._edges}
        for key in self._state:
            if key not in wanted:
                for item in self._items[key]:
                    item.setVisible(False)
        for key, shown in wanted.items():
            if self._state.get(key) == shown:
                continue
            new = key not in self._items
            stroke, label = self._make(key) if new else self._items[key]
            color, width = STROKE[shown[1]]
            stroke.setPen(QPen(color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                               Qt.PenJoinStyle.RoundJoin))
            label.set_text(*shown)
            if new:
                self._place(key, label)
            stroke.setVisible(True)
            label.setVisible(True)
        self._state = wanted

    def clear(self) -> None:
        """Hide every overlay."""
        self.set_labels({})

    def remove(self) -> None:
        """Take every item out of the scene (the drawing is being replaced)."""
        for items in self._items.values():
            for item in items:
                self._scene.removeItem(item)
        self._items, self._state = {}, {}

    def labels(self) -> dict[tuple[str, str, int], str]:
        """(source, target, k) -> text of the labels shown, copies under their original's
        key (for tests)."""
        return {key: text for key, (text, _recent) in self._state.items()}

    def drawn_edge(self, key: tuple[str, str, int]) -> SvgEdge | None:
        """The edge Graphviz drew for ``key`` (for tests)."""
        return self._edges.get(key)

    def label_items(self) -> list[EdgeLabel]:
        """The label items on screen (for tests)."""
        return [self._items[key][1] for key in self._state]

    def stroke_items(self) -> list[QGraphicsPathItem]:
        """The edge strokes on screen (for tests)."""
        return [self._items[key][0] for key in self._state]

    def _place(self, key: tuple[str, str, int], label: EdgeLabel) -> None:
        """Put a new label at the first place along its edge where it covers no other
        label and no node box, else where it covers least; it stays there, so labels
        never jump while stepping."""
        box = label.boundingRect()
        best = None
        points, side = self._places.pop(key)
        if side is None:
            shifts = [QPointF(0, 0), QPointF(-box.width() / 2 - 3, 0),
                      QPointF(box.width() / 2 + 3, 0)]
        else:  # beside its own path, on the side away from its parallel edges
            shifts = [QPointF(side.x() * (box.width() / 2 + 3),
                              side.y() * (box.height() / 2 + 3))]
        for point in points:
            for shift in shifts:
                center = point + shift
                box.moveCenter(center)
                cost = self._covered(box, label)
                if cost == 0:
                    label.set_center(center)
                    return
                if best is None or cost < best[0]:
                    best = (cost, center)
        label.set_center(best[1])

    def _covered(self, rect: QRectF, label: EdgeLabel) -> float:
        """How much of other labels (weighted) and node boxes ``rect`` would cover."""
        cost = 0.0
        for item in self._scene.items(rect):
            if isinstance(item, EdgeLabel) and item is not label:
                part = rect.intersected(item.sceneBoundingRect())
                cost += LABEL_OVERLAP_WEIGHT * part.width() * part.height()
        seen = set()
        for cell in _cells(rect):
            for node in self._grid.get(cell, ()):
                if id(node) not in seen:
                    seen.add(id(node))
                    part = rect.intersected(node)
                    cost += part.width() * part.height()
        return cost

    def _make(self, key: tuple[str, str, int]) -> tuple[QGraphicsPathItem, EdgeLabel]:
        path = self._path(key)
        points = [path.pointAtPercent(t) for t in PLACES]
        self._places[key] = (points, self._side(key, path))
        center = points[0]
        stroke = QGraphicsPathItem(path)
        stroke.setBrush(Qt.BrushStyle.NoBrush)
        stroke.setZValue(Z_STROKE)
        stroke.setData(0, key)
        label = EdgeLabel(center)
        label.setData(0, key)
        self._scene.addItem(stroke)
        self._scene.addItem(label)
        self._items[key] = (stroke, label)
        return stroke, label


    def _path(self, key: tuple[str, str, int]) -> QPainterPath:
        """The drawn path of edge ``key`` in scene coordinates."""
        edge = self._edges[key]
        transform = self._to_scene(edge.element_id)
        points = [transform.map(QPointF(x, y)) for x, y in edge.points]
        path = QPainterPath(points[0])
        rest = points[1:]
        if len(rest) % 3 == 0:  # Graphviz's paths: M then cubic Bézier pieces
            for i in range(0, len(rest), 3):
                path.cubicTo(rest[i], rest[i + 1], rest[i + 2])
        else:
            for point in rest:
                path.lineTo(point)
        return path

    def _side(self, key: tuple[str, str, int], path: QPainterPath) -> QPointF | None:
        """For one of several parallel edges (``x*x``), the unit step from the middle of
        them all towards this one: its label goes that way, so each label reads as its own
        edge's. None for an edge without parallels."""
        count = self._parallel.get(key[:2], 1)
        if count < 2:
            return None
        middles = [self._path((*key[:2], k)).pointAtPercent(0.5) for k in range(count)]
        centre = QPointF(sum(p.x() for p in middles) / count, sum(p.y() for p in middles) / count)
        away = path.pointAtPercent(0.5) - centre
        if abs(away.x()) >= abs(away.y()):
            return QPointF(1.0 if away.x() >= 0 else -1.0, 0.0)
        return QPointF(0.0, 1.0 if away.y() > 0 else -1.0)


def _cells(rect: QRectF):
    """The GRID cells ``rect`` touches."""
    for ix in range(int(rect.left() // GRID), int(rect.right() // GRID) + 1):
        for iy in range(int(rect.top() // GRID), int(rect.bottom() // GRID) + 1):
            yield ix, iy
