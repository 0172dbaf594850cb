"""Where the GUI gets its drawings of the backward graph: the one adapter between the window
and the graph/render modules.

The window needs four things from an :class:`~core.evaluation.evaluate.Evaluation`: an SVG, the
map from
DOT node names to SVG element ids (to find the node under the mouse and to place highlight
boxes), a plain-data description of each node for the details panel, and the same drawing
again as SVG/PNG/PDF for export. :func:`draw` and :func:`export` provide them through
``core.drawing.graph`` / ``core.drawing.render`` (docs/CONTRACTS.md). Runs on worker threads only
(imports
torch).
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from core.drawing import graph as _graph
from core.drawing import render as _render
from core.errors import ExpressionError
from core.serialize import format_number, format_tensor

INSTALL_HINT = ("Graphviz's 'dot' program is not installed, so the graph cannot be drawn "
                "(values and gradients still work). Install it with: "
                "sudo apt-get install graphviz")


_UNSEEN = object()


@dataclass
class Drawing:
    """One laid-out drawing of a backward graph, ready for the view."""

    svg: bytes
    node_ids: dict[str, str]
    details: dict[str, dict] = field(default_factory=dict)
    source: object = None  # the BackwardGraph, for export() to draw it again
    options: dict = field(default_factory=dict)
    #: a core.drawing.folding.Folding when the graph is drawn folded (large graphs), else None
    folding: object = None
    #: edge key -> the key drawn for it (None: inside a box), filled as steps are shown
    _moved_edges: dict = field(default_factory=dict, repr=False, compare=False)

    def drawn_id(self, node_id: str) -> str:
        """The id drawn for a graph node: its folded box, or itself."""
        return self.folding.node_map.get(node_id, node_id) if self.folding else node_id

    def map_highlight(self, highlight):
        """A step highlight in the drawing's ids (a step inside a folded box lights the
        box; edges inside a box disappear, edges into it are drawn once, k = 0)."""
        if self.folding is None or highlight is None:
            return highlight
        from dataclasses import replace

        moved_edges = self._moved_edges
        labels = {}
        for key, text in highlight.edge_labels.items():
            moved = moved_edges.get(key, _UNSEEN)
            if moved is _UNSEEN:
                moved = moved_edges[key] = self._edge(key)  # each edge worked out once
            if moved is not None:
                labels[moved] = text
        recent = {self._edge(key) for key in highlight.recent} - {None}
        node_map = self.folding.node_map
        return replace(highlight, current=frozenset(map(self.drawn_id, highlight.current)),
                       done=frozenset([node_map.get(i, i) for i in highlight.done]),
                       edge_labels=labels, recent=frozenset(recent))

    def _edge(self, key):
        source, target = self.drawn_id(key[0]), self.drawn_id(key[1])
        if source == target:
            return None
        if (source, target) != (key[0], key[1]):
            return (source, target, 0) if len(key) > 2 else (source, target)
        return key


def graphviz_available() -> bool:
    """True if Graphviz's ``dot`` program can be run."""
    return _render.graphviz_available()


def draw(evaluation, *, annotate: str = "all", rankdir: str = "TB", show_saved: bool = False,
         theme: str = "screen", timeout: float | None = 60.0, cancel_event=None) -> Drawing:
    """Lay out the backward graph of ``evaluation`` as SVG; raise ExpressionError with the
    install hint when Graphviz is missing. Setting ``cancel_event`` stops Graphviz.
    ``theme`` is the window's (core.drawing.render.THEMES); exports choose their own."""
    if not graphviz_available():
        raise ExpressionError("graphviz", INSTALL_HINT)
    from core.drawing import folding as _folding

    options = {"annotate": annotate, "rankdir": rankdir, "show_saved": show_saved,
               "theme": theme}
    # a graph from the user's own code (autograd_explorer) builds its own, annotated
    builder = getattr(evaluation, "build_graph", None)
    graph = builder(show_saved=show_saved) if builder is not None else \
        _graph.build_graph(evaluation, show_saved=show_saved)
    folding = _folding.auto_fold(graph)  # large graphs open folded (seconds, not minutes)
    return _draw(graph, folding, options, timeout, cancel_event)


def unfold(drawing: Drawing, box_id: str, *, timeout: float | None = 60.0,
           cancel_event=None) -> Drawing:
    """The same graph with the folded box ``box_id`` opened one level."""
    folding = drawing.folding.unfolded(box_id)
    return _draw(drawing.source, folding, drawing.options, timeout, cancel_event)


def _draw(graph, folding, options, timeout, cancel_event) -> Drawing:
    drawn = folding.graph if folding is not None else graph
    svg = _render.render(drawn, _options(options), "svg", timeout=timeout, cancel=cancel_event)
    # the Node panel's texts of the nodes on screen only: a folded graph of thousands of
    # nodes draws about a hundred, and an unfolded box gets its own when it is drawn
    details = _details_from_graph(graph, drawn.nodes if folding is not None else None)
    details.update(_details_of_constants(drawn))
    if folding is not None:
        details.update(_details_of_boxes(folding))
    return Drawing(svg, _render.svg_node_ids(svg), details, graph, options, folding)


def _details_of_constants(graph) -> dict[str, dict]:
    """The Node panel's text for a constant drawn beside the graph (core.drawing.constants):
    its value, and which operations use it."""
    from core.drawing.constants import MAX_GRAPH_NODES, constant_operands

    details: dict[str, dict] = {}
    if graph.evaluation is None or len(graph.nodes) > MAX_GRAPH_NODES:
        return details
    for constant in constant_operands(graph.evaluation):
        target = graph.nodes.get(constant.target)
        if target is None:
            continue
        entry = details.setdefault(constant.id, {
            "kind": "constant", "op": None, "name": constant.name or "a number",
            "expression": "", "span": None, "saved": [], "grad": None, "uses": [],
            "shape": list(constant.value.shape) if constant.name else [],
            "value": _text(constant.value) if constant.name else
            format_number(float(constant.value), 6)})
        entry["uses"].append(target.expression or target.op or "")
    for entry in details.values():
        entry["expression"] = "used by " + ", ".join(dict.fromkeys(entry.pop("uses")))
    return details


def _details_of_boxes(folding) -> dict[str, dict]:
    """The Node panel's text for a folded box: what is inside and how to open it."""
    details = {}
    for box_id, inside in folding.groups.items():
        node = folding.graph.nodes[box_id]
        ops = sorted({folding.source.nodes[i].op or folding.source.nodes[i].kind
                      for i in inside})
        details[box_id] = {
            "kind": "folded", "op": node.op, "name": node.expression,
            "expression": f"{len(inside)} nodes folded; click the box again to unfold it. "
                          f"Operations inside: {', '.join(ops[:12])}"
                          + (" …" if len(ops) > 12 else ""),
            "span": None, "shape": None, "value": None, "grad": None, "saved": []}
    return details


def export(drawing: Drawing, fmt: str, *, dpi: int = 96, theme: str = "print",
           annotate: str | None = None, caption: str | None = None, cancel=None) -> bytes:
    """The drawing again as ``svg``, ``png`` (at ``dpi``) or ``pdf`` bytes, in ``theme``
    (exports keep their own look, whatever the window's); ``annotate`` replaces the
    drawing's, ``caption`` is written under it. Within the layout time limit and the PNG
    pixel limit (core.drawing.render); ``cancel`` (a ``threading.Event``) stops it."""
    options = dict(drawing.options, dpi=dpi, theme=theme, caption=caption)
    if annotate is not None:
        options["annotate"] = annotate
    shown = drawing.folding.graph if drawing.folding is not None else drawing.source
    data = _render.render(shown, _options(options), fmt, cancel=cancel)
    return with_png_dpi(data, dpi) if fmt == "png" else data


def with_png_dpi(data: bytes, dpi: int) -> bytes:
    """Add a pHYs chunk (physical pixel size) to a PNG that has none, so word processors
    and LaTeX place a 300-DPI export at its intended size. Graphviz's PNG omits it."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or b"pHYs" in data[:4096]:
        return data
    ppm = round(dpi / 0.0254)
    body = b"pHYs" + struct.pack(">IIB", ppm, ppm, 1)  # 1: the unit is the metre
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body))
    end_of_ihdr = 8 + 8 + 13 + 4  # signature, IHDR length+type, IHDR data, CRC
    return data[:end_of_ihdr] + chunk + data[end_of_ihdr:]


def _options(options: dict):
    known = {k: v for k, v in options.items()
             if k in ("annotate", "rankdir", "theme", "show_saved", "dpi", "caption")}
    # the numbers and data the steps' arithmetic uses are drawn too, as on the deck's pages
    return _render.RenderOptions(**known, constants=True)


# ------------------------------------------------------------------ node details

def _text(tensor) -> str | None:
    return None if tensor is None else format_tensor(tensor, digits=5, max_entries=36)


def _details_from_graph(graph, only=None) -> dict[str, dict]:
    details = {}
    for node_id, node in graph.nodes.items():
        if only is not None and node_id not in only:
            continue
        saved = _saved_of(node.grad_fn) if node.grad_fn is not None else []
        details[node_id] = {
            "kind": node.kind, "op": node.op, "name": node.name,
            "expression": node.expression,
            "span": (node.span.line, node.span.column) if node.span else None,
            "shape": list(node.shape) if node.shape is not None else None,
            "value": _text(node.value), "grad": _text(node.grad), "saved": saved,
        }
    return details


def _saved_of(fn) -> list[tuple[str, str]]:
    """What a backward node saved (tensors and attributes such as exponents), as text."""
    saved = []
    for attr in dir(fn):
        if attr.startswith("_saved_"):
            try:
                value = getattr(fn, attr)
            except RuntimeError:  # freed: backward ran without retain_graph
                continue
            saved.append((attr[len("_saved_"):],
                          _text(value) if hasattr(value, "shape") else str(value)))
    return saved
