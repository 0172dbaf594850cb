"""Where the GUI gets its drawings of the backward graph: the one adapter between the window
and the graph/render modules.

The window needs four things from an :class:`~core.evaluate.Evaluation`: an SVG, the map from
DOT node names to SVG element ids (to find the node under the mouse and to place highlight
boxes), a plain-data description of each node for the details panel, and the same drawing
again as SVG/PNG/PDF for export. :func:`draw` and :func:`export` provide them through
``core.graph`` / ``core.render`` (docs/CONTRACTS.md) and fall back to ``torchviz.make_dot``
while those modules are not in the tree. Runs on worker threads only (imports torch).
"""
from __future__ import annotations

import re
import shutil
import struct
import zlib
from dataclasses import dataclass, field

from core.errors import ExpressionError
from core.serialize import format_tensor

INSTALL_HINT = ("Graphviz's 'dot' program is not installed, so the graph cannot be drawn "
                "(values and gradients still work). Install it with: "
                "sudo apt-get install graphviz")

try:  # the graph model (issue 3)
    from core import graph as _graph
except ImportError:  # pragma: no cover - depends on what has landed
    _graph = None
try:  # its renderer (issue 3)
    from core import render as _render
except ImportError:  # pragma: no cover
    _render = None


@dataclass
class Drawing:
    """One laid-out drawing of a backward graph, ready for the view."""

    svg: bytes
    node_ids: dict[str, str]
    details: dict[str, dict] = field(default_factory=dict)
    source: object = None  # what export() needs to draw it again (a BackwardGraph or Digraph)
    options: dict = field(default_factory=dict)


def warm_up() -> None:
    """Import what drawing needs (torchviz takes about 0.3 s to import)."""
    if _render is None:
        import torchviz  # noqa: F401


def graphviz_available() -> bool:
    """True if Graphviz's ``dot`` program can be run."""
    if _render is not None:
        return _render.graphviz_available()
    return shutil.which("dot") is not None


def draw(evaluation, *, annotate: str = "all", rankdir: str = "TB", show_saved: bool = False,
         timeout: float | None = 60.0) -> Drawing:
    """Lay out the backward graph of ``evaluation`` as SVG; raise ExpressionError with the
    install hint when Graphviz is missing."""
    if not graphviz_available():
        raise ExpressionError("graphviz", INSTALL_HINT)
    options = {"annotate": annotate, "rankdir": rankdir, "show_saved": show_saved}
    graph = _graph.build_graph(evaluation, show_saved=show_saved) if _graph else None
    details = _details_from_graph(graph) if graph else _details_from_torch(evaluation)
    if _render is not None:
        svg = _render.render(graph, _options(options), "svg", timeout=timeout)
        return Drawing(svg, _render.svg_node_ids(svg), details, graph, options)
    # stopgap until core.render lands: torchviz's own drawing (same DOT node names)
    dot = _torchviz_digraph(evaluation, show_saved, rankdir)
    svg = dot.pipe(format="svg")
    return Drawing(svg, svg_node_ids(svg), details, dot, options)


def export(drawing: Drawing, fmt: str, *, dpi: int = 96, theme: str = "print") -> bytes:
    """The drawing again as ``svg``, ``png`` (at ``dpi``) or ``pdf`` bytes."""
    if fmt == "svg" and _render is None:
        return drawing.svg
    if _render is not None:
        options = dict(drawing.options, dpi=dpi, theme=theme)
        data = _render.render(drawing.source, _options(options), fmt)
        return with_png_dpi(data, dpi) if fmt == "png" else data
    dot = drawing.source.copy()
    dot.graph_attr["dpi"] = str(dpi)
    data = dot.pipe(format=fmt)
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
             if k in ("annotate", "rankdir", "theme", "show_saved", "dpi")}
    return _render.RenderOptions(**known)


# ------------------------------------------------------------------ node details

def _text(tensor) -> str | None:
    return None if tensor is None else format_tensor(tensor, digits=5, max_entries=36)


def _details_from_graph(graph) -> dict[str, dict]:
    details = {}
    for node_id, node in graph.nodes.items():
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


def _details_from_torch(evaluation) -> dict[str, dict]:
    """Node details for the torchviz fallback: walk grad_fn iteratively (no recursion)."""
    details: dict[str, dict] = {}
    output = evaluation.output
    if output.grad_fn is None:
        return details
    grads = evaluation.intermediate_gradients
    stack, seen = [output.grad_fn], set()
    while stack:
        fn = stack.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        if hasattr(fn, "variable"):  # AccumulateGrad: a leaf
            var = fn.variable
            name = evaluation.leaf_name(var)
            details[str(id(var))] = {
                "kind": "leaf", "op": "AccumulateGrad", "name": name, "expression": name,
                "span": None, "shape": list(var.shape), "value": _text(var),
                "grad": _text(evaluation.gradients.get(name)), "saved": []}
        else:
            record = evaluation.record_for(fn)
            tensor = record.tensor if record else None
            name = record.name if record else None
            saved = _saved_of(fn)
            details[str(id(fn))] = {
                "kind": "op", "op": type(fn).__name__, "name": name,
                "expression": record.node.text if record else None,
                "span": (record.node.span.line, record.node.span.column) if record else None,
                "shape": list(tensor.shape) if tensor is not None else None,
                "value": _text(tensor), "grad": _text(grads.get(name)) if name else None,
                "saved": saved}
        stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return details


def _torchviz_digraph(evaluation, show_saved: bool, rankdir: str):
    from torchviz import make_dot

    params = {name: t for name, t in evaluation.inputs.items() if t.requires_grad}
    dot = make_dot(evaluation.output, params=params, show_saved=show_saved)
    dot.graph_attr["rankdir"] = rankdir
    return dot


_NODE_RE = re.compile(rb'<g id="(node\d+)" class="node">\s*<title>([^<]*)</title>')


def svg_node_ids(svg: bytes) -> dict[str, str]:
    """DOT node name -> SVG element id, read from Graphviz's ``<g class="node">`` groups."""
    if _render is not None:
        return _render.svg_node_ids(svg)
    return {title.decode(): element.decode() for element, title in _NODE_RE.findall(svg)}
