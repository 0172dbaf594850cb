"""Drawing a :class:`~core.drawing.graph.BackwardGraph` with Graphviz: SVG, PNG and PDF.

Two modes:

* plain: torchviz's ``make_dot`` called as it is, on the evaluation's output tensor (its
  walk is recursive, so on deep graphs it runs in a thread with a larger stack and a raised
  recursion limit);
* annotated (the default): a ``graphviz.Digraph`` with make_dot's look (monospace boxes,
  light blue leaves, orange saved tensors, green output, gray backward functions) whose
  labels also show the user's subexpression, the value and the gradient, with a print theme
  for slides and handouts, and highlighting of nodes and edges for the step-through.

Layout runs ``dot`` as a subprocess with a time limit (:class:`~core.errors.LimitError`
names it). Graphviz's ranking is slow on graphs where one node feeds many operations far
apart (a weight reused in every layer: 12-15 s for 100 operations), so on large graphs
such a node is drawn once where it is made and once more, as a dashed copy, beside each of
its consumers; the edges are then all short and layout is linear-ish (0.05 s for the same
graph, benchmarks/RESULTS_graph.md). Copies are named ``<node id>_copy<k>``.
"""
from __future__ import annotations

import html
import math
import re
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

from core.errors import ExpressionError, LimitError
from core.serialize import format_tensor, shown_minus

#: Seconds ``dot`` may take before the layout is abandoned (a 5,000-operation chain needs
#: about 10-20 s on a busy 2-core machine).
DEFAULT_TIMEOUT = 60.0
#: A node feeding at least this many operations is drawn as copies beside its consumers...
SPLIT_FANOUT = 4
#: ...when the graph has at least this many nodes (small graphs keep the real picture: one
#: leaf with several arrows is the multivariate chain rule a lecture wants to show).
SPLIT_MIN_NODES = 60
#: Entries of a tensor shown in full on a node; larger tensors are summarised.
LABEL_MAX_ENTRIES = 16
#: Characters of the user's expression shown on a node before it is shortened.
LABEL_MAX_CHARS = 48
#: colours of a graph cut off by detach / no_grad (greyed: no gradient reaches it)
CUT_COLOR = "grey45"
CUT_FILL = "grey93"
#: Largest PNG side in pixels (cairo refuses beyond 32,767); larger drawings are scaled down.
MAX_PNG_PIXELS = 30_000
#: Largest PNG in pixels (width × height; cairo holds 4 bytes per pixel while drawing, so
#: 200 MB): the sides are capped at its square root, and larger drawings are scaled down.
MAX_PNG_AREA = 50_000_000


def png_side_inches(dpi: int) -> float:
    """The longest side, in inches, a PNG at ``dpi`` may have (Graphviz's ``size``):
    within :data:`MAX_PNG_PIXELS` and :data:`MAX_PNG_AREA`."""
    return min(MAX_PNG_PIXELS, math.isqrt(MAX_PNG_AREA)) / int(dpi)
#: Stack for running torchviz's recursive walk on deep graphs.
_DEEP_STACK_BYTES = 512 * 1024 * 1024

FORMATS = ("svg", "png", "pdf")
ANNOTATIONS = ("all", "values", "gradients", "none")

_INSTALL_HINT = ("drawing the graph needs Graphviz's 'dot' program, which was not found: "
                 "install it with 'sudo apt-get install graphviz' (Debian, Ubuntu), "
                 "'brew install graphviz' (macOS) or from https://graphviz.org/download/")


class GraphvizMissing(ExpressionError):
    """Graphviz's ``dot`` is not installed; the message says how to install it."""

    def __init__(self):
        super().__init__("graphviz", _INSTALL_HINT)


@dataclass
class Highlight:
    """What the step-through marks: the node being processed, the nodes already done, and
    labels on edges (the gradient each one carries). ``edges`` are highlighted without a
    label; ``recent`` edges (those the current step just labelled) are drawn bolder. Node ids
    are GraphNode ids; edges are keyed ``(source, target, k)`` as
    :func:`core.drawing.graph.edge_keys` numbers them (k: the k-th of parallel edges, 0 first)."""

    current: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)
    edge_labels: dict[tuple[str, str, int], str] = field(default_factory=dict)
    edges: set[tuple[str, str, int]] = field(default_factory=set)
    recent: set[tuple[str, str, int]] = field(default_factory=set)

    def __post_init__(self):
        self.current, self.done = set(self.current), set(self.done)
        self.edge_labels, self.edges = dict(self.edge_labels), set(self.edges)
        self.recent = set(self.recent)


@dataclass
class RenderOptions:
    """How to draw: annotations, direction, theme, torchviz's plain mode and its options.

    ``layout`` is "auto" (split high fan-out nodes on large graphs), "exact" (never) or
    "split" (always, for nodes feeding at least SPLIT_FANOUT operations).

    ``pinned`` (a :class:`core.drawing.pinned_layout.PinnedLayout`) puts every node and edge where
    an
    earlier layout put them; such a drawing is rendered with ``neato -n2``, which draws
    without laying out, so pages that differ only in colours and labels line up exactly.
    """

    annotate: str = "all"
    rankdir: str = "TB"
    theme: str = "screen"
    plain: bool = False
    show_saved: bool = False
    show_attrs: bool = False
    highlight: Highlight | None = None
    dpi: int = 96
    layout: str = "auto"
    pinned: object | None = None
    #: text written under the drawing (the program, for slides and handouts); None: none
    caption: str | None = None
    #: draw the constants the arithmetic uses (the 2 of ``2*z``, data held constant) grey,
    #: with their values, beside the operations that use them (core.drawing.constants)
    constants: bool = False

    def __post_init__(self):
        if self.annotate not in ANNOTATIONS:
            raise ExpressionError("value", f"annotate must be one of {', '.join(ANNOTATIONS)}")
        if self.rankdir not in ("TB", "LR"):
            raise ExpressionError("value", "rankdir must be TB (top to bottom) or LR "
                                  "(left to right)")
        if self.theme not in THEMES:
            raise ExpressionError("value", f"theme must be one of {', '.join(THEMES)}")
        if self.layout not in ("auto", "exact", "split"):
            raise ExpressionError("value", "layout must be auto, exact or split")
        if isinstance(self.dpi, bool) or not isinstance(self.dpi, (int, float)) \
                or not 10 <= self.dpi <= 1200:
            raise ExpressionError("value", f"dpi must be between 10 and 1200, not {self.dpi}")


@dataclass(frozen=True)
class Theme:
    """Colours and sizes of one look. "screen" is torchviz's own."""

    fontsize: str
    small: str
    fills: dict
    penwidth: str = "1"
    bgcolor: str = "white"
    muted: str = "#555555"
    grad_color: str = "#b2182b"
    current: str = "#d62728"
    current_fill: str = "#ffe680"
    done: str = "#1a7f37"
    #: a constant's box (dashed): fill, border and text
    constant_fill: str = "#f4f4f4"
    constant_line: str = "#9a9a9a"
    constant_text: str = "#555555"
    #: text, node borders and arrows; torchviz's (Graphviz's default) black unless a dark
    #: theme needs light lines
    fontcolor: str = "black"
    pencolor: str = "black"


THEMES = {
    # make_dot's colours: Graphviz's default lightgrey for functions
    "screen": Theme("10", "8", {"op": "lightgrey", "leaf": "lightblue", "saved": "orange",
                                "output": "darkolivegreen1", "base": "darkolivegreen3"}),
    # slides and paper: larger type, paler fills that survive a projector or a gray printer
    "print": Theme("14", "11", {"op": "#eeeeee", "leaf": "#cfe6fb", "saved": "#ffd9a8",
                                "output": "#d5f5a8", "base": "#b5d98a"}, penwidth="1.6",
                   muted="#444444"),
    # the window's dark theme: the same hues, deep, with light text and lines
    "dark": Theme("10", "8", {"op": "#3c4146", "leaf": "#1f4d66", "saved": "#7a4a00",
                              "output": "#3e5f1c", "base": "#2f4a14"}, bgcolor="#1e2124",
                  muted="#b0b8bd", grad_color="#ff8a80", current="#ff7043",
                  current_fill="#5c4400", done="#66bb6a", fontcolor="#eceff1",
                  pencolor="#b0bec5", constant_fill="#2a2e32", constant_line="#8a949b",
                  constant_text="#c8d0d4"),
    # the window's high-contrast theme: white on black, the kinds told apart by strong
    # borders as well as fills, thicker lines
    "contrast": Theme("11", "9", {"op": "#000000", "leaf": "#00335c", "saved": "#663c00",
                                  "output": "#1f4d00", "base": "#1f4d00"}, penwidth="2",
                      bgcolor="#000000", muted="#ffffff", grad_color="#ffff00",
                      current="#00ffff", current_fill="#003d3d", done="#00ff00",
                      fontcolor="#ffffff", pencolor="#ffffff", constant_fill="#000000",
                      constant_line="#c0c0c0", constant_text="#ffffff"),
}


# --------------------------------------------------------------------------- Graphviz


def graphviz_available() -> bool:
    """Whether Graphviz's ``dot`` program can be found on PATH."""
    return shutil.which("dot") is not None


def to_digraph(graph, options: RenderOptions | None = None):
    """A ``graphviz.Digraph`` of ``graph`` (not laid out yet)."""
    options = options or RenderOptions()
    if options.plain:
        dot = _torchviz_digraph(graph, options)
    else:
        dot = _annotated_digraph(graph, options, _saved_free_order(graph, options))
    if options.rankdir != "TB":
        dot.graph_attr["rankdir"] = options.rankdir
    if options.caption:
        theme = THEMES[options.theme]
        dot.graph_attr.update(label=caption_label(options.caption), labelloc="b",
                              labeljust="l", fontname="monospace", fontsize=theme.fontsize,
                              fontcolor=theme.fontcolor)
    return dot


#: lines of a caption, and characters per line, before it is shortened
CAPTION_MAX_LINES = 24
CAPTION_MAX_CHARS = 100


def program_caption(program) -> str:
    """The program as a caption: one ``name = expression`` line per statement (what a
    pasted notebook cell set aside is left out)."""
    return "\n".join(f"{s.target} = {s.text}" if s.target else s.text
                     for s in program.statements)


def caption_label(text: str) -> str:
    """An HTML-like Graphviz label: the caption's lines, left-aligned, escaped, long
    programs shortened (a caption is for reading, not for the whole of a long chain)."""
    lines = text.strip("\n").splitlines() or [""]
    if len(lines) > CAPTION_MAX_LINES:
        hidden = len(lines) - CAPTION_MAX_LINES + 1
        lines = lines[:CAPTION_MAX_LINES - 1] + [f"… {hidden} more lines"]
    body = '<BR ALIGN="LEFT"/>'.join(_esc(_short(line, CAPTION_MAX_CHARS)) for line in lines)
    return "<" + body + '<BR ALIGN="LEFT"/>>'


def render(graph, options: RenderOptions | None = None, fmt: str = "svg",
           timeout: float | None = DEFAULT_TIMEOUT, cancel=None) -> bytes:
    """Lay out and draw ``graph`` as ``fmt`` ("svg", "png" or "pdf"); returns the file's bytes.

    Raises :class:`GraphvizMissing` without ``dot``, :class:`LimitError` when layout takes
    longer than ``timeout`` seconds (None: no limit), and :class:`Cancelled` as soon as the
    ``cancel`` event (a ``threading.Event``) is set: the GUI's Cancel stops a long layout.
    """
    options = options or RenderOptions()
    if fmt not in FORMATS:
        raise ExpressionError("value", f"cannot draw '{fmt}': choose svg, png or pdf")
    if not graphviz_available():
        raise GraphvizMissing()
    dot = to_digraph(graph, options)
    if fmt == "png":
        # PNG is the only raster format: its DPI sets the pixel size; cap the drawing so
        # cairo can allocate it (Graphviz scales down only when the drawing is larger)
        dot.graph_attr["dpi"] = str(int(options.dpi))
        inches = png_side_inches(options.dpi)
        dot.graph_attr.setdefault("size", f"{inches:g},{inches:g}")
    return run_dot(dot.source, fmt, timeout, len(graph.nodes), cancel=cancel)


class Cancelled(ExpressionError):
    """The user cancelled a drawing; Graphviz was stopped."""

    def __init__(self):
        super().__init__("cancelled", "drawing cancelled")


def run_dot(source: str, fmt: str, timeout: float | None = DEFAULT_TIMEOUT,
            nodes: int | None = None, engine: str = "dot",
            arguments: tuple[str, ...] = (), cancel=None) -> bytes:
    """Run ``dot -T<fmt>`` on DOT ``source`` with a time limit; returns its output.

    ``engine`` names another Graphviz program (``neato`` draws pinned layouts) and
    ``arguments`` are passed before the format (``-n2``). Setting ``cancel`` (a
    ``threading.Event``) stops the program and raises :class:`Cancelled`."""
    if engine not in ("dot", "neato"):
        raise ExpressionError("value", f"unknown Graphviz program '{engine}'")
    program = shutil.which(engine)
    if program is None:
        raise GraphvizMissing()
    try:
        done = _communicate([program, *arguments, f"-T{fmt}"], source.encode("utf-8"),
                            timeout, cancel)
    except subprocess.TimeoutExpired:
        size = f" of {nodes:,} nodes" if nodes else ""
        raise LimitError(f"Graphviz took longer than {timeout:g} s, the layout time limit, to "
                         f"draw this graph{size}; draw it annotated instead of plain (large "
                         "graphs are then drawn faster) or make the program shorter") from None
    except OSError as err:
        raise ExpressionError("graphviz", f"could not run Graphviz's dot: {err}") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ExpressionError("graphviz", "Graphviz could not draw the graph: "
                              + (message[-1] if message else f"exit status {done.returncode}"))
    magic = _MAGIC.get(fmt)
    if magic is not None and magic not in done.stdout[:1024]:
        raise ExpressionError(
            "graphviz", f"the '{engine}' program found on PATH did not produce a "
            f"{fmt.upper()} drawing; is it Graphviz's {engine}? Reinstall Graphviz "
            "(sudo apt-get install graphviz)")
    return done.stdout


#: what the start of each drawing format contains (a foreign ``dot`` on PATH prints anything)
_MAGIC = {"svg": b"<svg", "png": b"\x89PNG", "pdf": b"%PDF"}


def _communicate(command: list[str], data: bytes, timeout: float | None, cancel):
    """subprocess.run(..., timeout=) that also stops when ``cancel`` is set; the program is
    killed either way, so no layout is left running."""
    if cancel is None:
        return subprocess.run(command, input=data, capture_output=True, timeout=timeout,
                              check=False)
    deadline = None if timeout is None else time.monotonic() + timeout
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        pending = data
        while True:
            try:
                out, err = process.communicate(pending, timeout=0.05)
                return subprocess.CompletedProcess(command, process.returncode, out, err)
            except subprocess.TimeoutExpired:
                pending = None  # the input was sent on the first call
                if cancel.is_set():
                    process.kill()
                    process.communicate()
                    raise Cancelled() from None
                if deadline is not None and time.monotonic() > deadline:
                    process.kill()
                    process.communicate()
                    raise


def svg_node_ids(svg: bytes) -> dict[str, str]:
    """DOT node name -> SVG element id (``node12``) in Graphviz's SVG output.

    Copies drawn by the large-graph layout appear under their own names
    (``<id>_copy<k>``); :func:`original_id` maps them back.
    """
    root = ElementTree.fromstring(svg)
    found = {}
    for element in root.iter("{http://www.w3.org/2000/svg}g"):
        if element.get("class") != "node":
            continue
        title = element.find("{http://www.w3.org/2000/svg}title")
        if title is not None and title.text is not None and element.get("id"):
            found[title.text] = element.get("id")
    return found


@dataclass(frozen=True)
class SvgEdge:
    """One edge of Graphviz's SVG: its DOT ``source`` and ``target`` names (copies keep
    their ``_copy<k>`` names), the element id (``edge7``) and the points of its path in the
    element's coordinates: the start, then three control points per cubic Bézier piece."""

    source: str
    target: str
    element_id: str
    points: tuple[tuple[float, float], ...]


_NUMBER = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def svg_edges(svg: bytes) -> list[SvgEdge]:
    """Every edge in Graphviz's SVG output, in the order the DOT source wrote them.

    Graphviz writes each edge as ``<g id="edgeN" class="edge"><title>SRC->DST</title>
    <path d="Mx,yCx,y x,y x,y ..."/>...``; a multi-edge (``x*x``) repeats its title. The
    document lists edges node by node, but ``N`` counts them in the source's order, which is
    the order of ``BackwardGraph.edges``: so the k-th ``SRC->DST`` here is the edge
    :func:`core.drawing.graph.edge_keys` keys ``(SRC, DST, k)``. The GUI draws its gradient
    overlays along these paths, so nothing has to be laid out again.
    """
    svg_ns = "{http://www.w3.org/2000/svg}"
    root = ElementTree.fromstring(svg)
    found = []
    for element in root.iter(svg_ns + "g"):
        if element.get("class") != "edge" or not element.get("id"):
            continue
        title = element.find(svg_ns + "title")
        path = element.find(svg_ns + "path")
        if title is None or not title.text or "->" not in title.text or path is None:
            continue
        source, target = title.text.split("->", 1)
        numbers = [float(n) for n in _NUMBER.findall(path.get("d", ""))]
        points = tuple(zip(numbers[0::2], numbers[1::2], strict=False))
        if points:
            found.append(SvgEdge(source, target, element.get("id"), points))
    return sorted(found, key=_written_order)


def _written_order(edge: SvgEdge) -> int:
    """``edge7`` -> 7: Graphviz numbers edges in the order the DOT source wrote them."""
    digits = edge.element_id[len("edge"):]
    return int(digits) if edge.element_id.startswith("edge") and digits.isdigit() else 0


def original_id(dot_name: str) -> str:
    """The GraphNode id a DOT node name stands for (a copy's name gives its original)."""
    return dot_name.split("_copy", 1)[0]


# --------------------------------------------------------------------------- plain mode


def _torchviz_digraph(graph, options: RenderOptions):
    """make_dot as it is (leaves named through its ``params``), on a big stack if deep."""
    from torchviz import make_dot

    tensor = graph.output_tensor
    evaluation = graph.evaluation
    params = None
    if evaluation is not None:
        params = {name: t for name, t in evaluation.inputs.items() if t.requires_grad}

    def draw():
        return make_dot(tensor, params=params, show_attrs=options.show_attrs,
                        show_saved=options.show_saved)

    if len(graph.nodes) < 200:
        return draw()
    return call_with_deep_stack(draw, 4 * len(graph.nodes) + 1_000)


_deep_lock = threading.Lock()
_deep_calls = 0


def call_with_deep_stack(function, recursion_limit: int):
    """Run ``function()`` in a thread with a large stack and at least ``recursion_limit``
    Python frames allowed; returns its result or raises its exception.

    The recursion limit is interpreter-wide, so it is restored only when no other deep call
    is still running.
    """
    global _deep_calls
    outcome = {}

    def target():
        try:
            outcome["value"] = function()
        except BaseException as err:  # handed to the caller, who decides
            outcome["error"] = err

    with _deep_lock:
        _deep_calls += 1
        old_limit = sys.getrecursionlimit()
        if recursion_limit > old_limit:
            sys.setrecursionlimit(recursion_limit)
        old_stack = threading.stack_size(_DEEP_STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="deep-stack", daemon=True)
            thread.start()
        finally:
            threading.stack_size(old_stack)
    try:
        thread.join()
    finally:
        with _deep_lock:
            _deep_calls -= 1
            if _deep_calls == 0:
                sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


# --------------------------------------------------------------------------- annotated mode


def _saved_free_order(graph, options: RenderOptions) -> list[list[str]] | None:
    """With saved tensors shown: each rank of the drawing *without* them, its nodes in
    left-to-right order (one ``dot -Tjson`` run), so that showing them moves nothing.

    None when there are no saved tensors, for pinned drawings (already placed), or when
    Graphviz cannot run (the drawing is then made without the ordering)."""
    if not options.show_saved or options.pinned is not None or not any(
            node.kind == "saved" for node in graph.nodes.values()):
        return None
    import json

    try:
        dot = _annotated_digraph(graph, options, skip_saved=True)
        if options.rankdir != "TB":
            dot.graph_attr["rankdir"] = options.rankdir
        source = dot.source
        laid_out = json.loads(run_dot(source, "json", DEFAULT_TIMEOUT, len(graph.nodes)))
    except (ExpressionError, ValueError):
        return None
    # Graphviz's y grows upwards; with rankdir=LR the ranks are columns, ordered top down
    lr = options.rankdir == "LR"
    ranks: dict[float, list[tuple[float, str]]] = {}
    for obj in laid_out.get("objects", []):
        if "pos" not in obj or "name" not in obj:
            continue
        x, y = (float(v) for v in obj["pos"].split(","))
        rank, along = (x, -y) if lr else (y, x)
        ranks.setdefault(round(rank), []).append((along, obj["name"]))
    return [[name for _along, name in sorted(row)] for _rank, row in sorted(ranks.items())]


def _keep_order(dot, order: list[list[str]], beside: dict[str, list[str]]) -> None:
    """Hold every rank of ``order`` together, in its order, with what each backward node
    saved (``beside``) just after it: invisible flat edges set the order, a rank=same group
    per rank keeps the ranks. A tensor saved by several nodes sits beside the first."""
    placed: set[str] = set()
    for row in order:
        names = []
        for name in row:
            names.append(name)
            for saved in beside.get(name, ()):
                if saved not in placed:
                    placed.add(saved)
                    names.append(saved)
        with dot.subgraph() as group:
            group.attr(rank="same")
            for name in names:
                group.node(name)
            for left, right in zip(names, names[1:], strict=False):
                group.edge(left, right, style="invis")


def _annotated_digraph(graph, options: RenderOptions, order=None, skip_saved=False):
    """The annotated drawing; ``order`` (from :func:`_saved_free_order`) keeps the layout
    of the drawing without saved tensors, ``skip_saved`` leaves them out."""
    from graphviz import Digraph

    theme = THEMES[options.theme]
    highlight = options.highlight or Highlight()
    # make_dot's node and graph attributes ("align" and "ranksep" on nodes are no-ops in
    # Graphviz, kept so the DOT text matches torchviz's)
    node_attr = dict(style="filled", shape="box", align="left", fontsize=theme.fontsize,
                     ranksep="0.1", height="0.2", fontname="monospace",
                     penwidth=theme.penwidth)
    edge_attr = dict(penwidth=theme.penwidth, fontname="monospace", fontsize=theme.small)
    if theme.fontcolor != "black" or theme.pencolor != "black":
        node_attr.update(fontcolor=theme.fontcolor, color=theme.pencolor)
        edge_attr.update(fontcolor=theme.fontcolor, color=theme.pencolor)
    graph_attr = dict(bgcolor=theme.bgcolor, pad="0.2")
    if options.theme == "print":
        graph_attr.update(nodesep="0.35", ranksep="0.45")
    dot = Digraph(node_attr=node_attr, edge_attr=edge_attr, graph_attr=graph_attr)

    split = _nodes_to_split(graph, options.layout)
    pinned = options.pinned
    for node in graph.nodes.values():
        if skip_saved and node.kind == "saved":
            continue
        style = _node_style(node, theme, highlight, node.id)
        if pinned is not None:
            style.update(pinned.node_attrs(node.id))
        dot.node(node.id, _label(node, graph, options, theme), **style)
    copies: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}  # occurrence of each drawn (source, target) pair
    beside: dict[str, list[str]] = {}  # backward node -> what it saved, drawn beside it
    for key, edge in graph.keyed_edges():
        source = edge.source
        if skip_saved and edge.kind == "saved":
            continue
        if source in split and edge.kind == "data":
            # a dashed copy of the shared node beside this consumer, so the edge is short
            k = copies[source] = copies.get(source, 0) + 1
            copy_id = f"{source}_copy{k}"
            original = graph.nodes[source]
            style = _node_style(original, theme, highlight, source)
            style["style"] = style.get("style", "filled") + ",dashed"
            if pinned is not None:
                style.update(pinned.node_attrs(copy_id))
            dot.node(copy_id, _copy_label(original, theme), **style)
            source = copy_id
        target = edge.target
        if edge.kind == "saved" and graph.nodes[target].kind != "saved":
            target = _saved_copy(dot, graph, edge, copies, theme, pinned)
        if edge.kind == "saved":
            beside.setdefault(edge.source, []).append(target)
        style = _edge_style(edge, key, theme, highlight)
        if graph.nodes[edge.target].cut:  # into a graph cut off by detach / no_grad
            style.update(style="dashed", color=CUT_COLOR)
        if pinned is not None:
            k = seen[source, target] = seen.get((source, target), 0) + 1
            style.update(pinned.edge_attrs(source, target, k, "label" in style))
        dot.edge(source, target, **style)
    if options.constants:
        _draw_constants(dot, graph, options, theme)
    if order:
        _keep_order(dot, order, beside)
    return dot


def _draw_constants(dot, graph, options: RenderOptions, theme: Theme) -> None:
    """The constants the arithmetic uses (core.drawing.constants), grey and dashed, with
    their values, a dashed line (no arrow: no gradient flows) into each operation using
    them. A pinned drawing places them where its layout did."""
    from core.drawing.constants import MAX_GRAPH_NODES, constant_operands
    from core.serialize import format_number

    if graph.evaluation is None or len(graph.nodes) > MAX_GRAPH_NODES:
        return
    style = dict(shape="box", style="dashed,filled", fillcolor=theme.constant_fill,
                 color=theme.constant_line, fontcolor=theme.constant_text)
    small = f'<FONT POINT-SIZE="{theme.small}" COLOR="{theme.constant_text}">'
    pinned, drawn, seen = options.pinned, set(), {}
    show_values = options.annotate in ("all", "values")
    for constant in constant_operands(graph.evaluation):
        if constant.target not in graph.nodes:
            continue  # inside a folded box, or cut from the drawing
        if constant.id not in drawn:
            drawn.add(constant.id)
            if not constant.name:  # a number of the program: its value is its name
                text = format_number(float(constant.value), 6)
                label = "<" + _esc(re.sub(r"(?<![eE])-", "\u2212", text)) + ">"
            else:
                shape = "(" + ", ".join(map(str, constant.value.shape)) + ")"
                lines = [f"<B>{_esc(constant.name)}</B> {small}{shape} constant</FONT>"]
                if show_values:
                    lines.append('<BR ALIGN="LEFT"/>'.join(
                        _tensor_lines("value", constant.value)) + '<BR ALIGN="LEFT"/>')
                label = "<" + "<BR/>".join(lines) + ">"
            attrs = dict(style)
            if pinned is not None:
                attrs.update(pinned.node_attrs(constant.id))
            dot.node(constant.id, label, **attrs)
        k = seen[constant.id, constant.target] = seen.get((constant.id, constant.target),
                                                          0) + 1
        attrs = dict(style="dashed", color=theme.constant_line, arrowhead="none")
        if pinned is not None:
            attrs.update(pinned.edge_attrs(constant.id, constant.target, k, False))
        dot.edge(constant.id, constant.target, **attrs)


def _saved_copy(dot, graph, edge, copies: dict, theme: Theme, pinned) -> str:
    """An input (or the output) that a backward node saved, drawn again as a dashed
    orange copy beside that node: an edge across the drawing to the input itself (as
    torchviz draws it) pulled the input out of place and crossed everything."""
    original = graph.nodes[edge.target]
    k = copies[edge.target] = copies.get(edge.target, 0) + 1
    name = f"{edge.target}_copy{k}"
    attr = next((a for a, i in graph.nodes[edge.source].saved.items() if i == edge.target), "")
    style = {"fillcolor": theme.fills["saved"], "style": "filled,dashed"}
    if pinned is not None:
        style.update(pinned.node_attrs(name))
    small = f'<FONT POINT-SIZE="{theme.small}" COLOR="{theme.muted}">'
    what = original.name or original.op or original.kind
    dot.node(name, f"<<B>{_esc(attr or 'saved')}</B> {small}= {_esc(what)}</FONT>>", **style)
    return name


def _nodes_to_split(graph, layout: str) -> set[str]:
    if layout == "exact":
        return set()
    if layout == "auto" and len(graph.nodes) < SPLIT_MIN_NODES:
        return set()
    return {node_id for node_id, count in graph.out_degree().items() if count >= SPLIT_FANOUT}


def _node_style(node, theme: Theme, highlight: Highlight, node_id: str) -> dict:
    kind = "base" if node.view_base else node.kind
    style = {}
    if kind != "op":
        style["fillcolor"] = theme.fills[kind]
    elif theme.fills["op"] != "lightgrey":
        style["fillcolor"] = theme.fills["op"]
    if node.cut:  # cut off by detach / no_grad: greyed, no gradient reaches it
        style.update(fillcolor=CUT_FILL, color=CUT_COLOR, fontcolor=CUT_COLOR,
                     style="filled,dashed")
    if node_id in highlight.current:
        style.update(color=theme.current, penwidth="3", fillcolor=theme.current_fill)
    elif node_id in highlight.done:
        style.update(color=theme.done, penwidth="2.2")
    return style


def _edge_style(edge, key: tuple[str, str, int], theme: Theme, highlight: Highlight) -> dict:
    style = {}
    if edge.kind == "saved":
        # its place comes from _keep_order: the edge itself must not rank anything (an
        # input that was also saved is not pulled towards the node that saved it)
        style.update(dir="none", constraint="false")
    elif edge.kind == "view":
        style["style"] = "dotted"
    if key in highlight.edge_labels or key in highlight.edges:
        style.update(color=theme.current, fontcolor=theme.current, penwidth="2.2")
        if key in highlight.recent:
            style.update(penwidth="3.5", fontname="monospace bold")
        if key in highlight.edge_labels:
            style["label"] = " " + highlight.edge_labels[key] + " "
    return style


# --------------------------------------------------------------------------- labels


def _label(node, graph, options: RenderOptions, theme: Theme) -> str:
    """An HTML-like label: the operation (small, muted), the user's text (bold), then the
    value and the gradient as asked."""
    annotate = options.annotate
    shape = "(" + ", ".join(str(n) for n in node.shape) + ")" if node.shape is not None else ""
    lines = []
    small = f'<FONT POINT-SIZE="{theme.small}" COLOR="{theme.muted}">'
    if node.kind == "op":
        op = node.op
        if options.show_attrs and node.attrs:
            op += "".join(f"<BR/>{_esc(k)}: {_esc(_short(v, 30))}" for k, v in node.attrs.items())
        lines.append(small + op + "</FONT>")
        if annotate != "none" and node.expression:
            lines.append("<B>" + _esc(_statement(node)) + "</B>")
    else:
        title = node.name or ""
        if node.kind == "saved":
            title = node.op or "saved"
        elif node.kind == "output" and node.view_base:
            title = node.name or "base"
        head = f"<B>{_esc(title)}</B> " if title else ""
        lines.append(head + small + _esc(shape) + "</FONT>")
        # the output's expression is already on the operation that made it
        shown_above = node.kind == "output" and graph.output_tensor is not None \
            and graph.output_tensor.grad_fn is not None
        if annotate != "none" and node.expression and node.expression != node.name \
                and not shown_above:
            lines.append(_esc(_short(node.expression, LABEL_MAX_CHARS)))
    if node.cut_by:
        lines.append(f'<FONT COLOR="{CUT_COLOR}">' + _esc("✂ gradient stops: "
                                                         + _short(node.cut_by, LABEL_MAX_CHARS))
                     + "</FONT>")
    is_accumulate = node.kind == "op" and node.op == "AccumulateGrad"
    numbers = []
    if annotate in ("all", "values") and node.value is not None and not is_accumulate:
        numbers.extend(_tensor_lines("value", node.value))
    if annotate in ("all", "gradients") and node.grad is not None:
        grad = _tensor_lines("grad", node.grad)
        numbers.extend(f'<FONT COLOR="{theme.grad_color}">{line}</FONT>' for line in grad)
    # names centred, numbers left-aligned so matrix rows line up (a BR's ALIGN applies
    # to the line before it)
    text = "<BR/>".join(lines)
    if numbers:
        text += "<BR/>" + '<BR ALIGN="LEFT"/>'.join(numbers) + '<BR ALIGN="LEFT"/>'
    return "<" + text + ">"


def _copy_label(node, theme: Theme) -> str:
    """A copy of a shared node says what it is a copy of; the original carries the numbers."""
    small = f'<FONT POINT-SIZE="{theme.small}" COLOR="{theme.muted}">'
    what = node.name or _short(node.expression or "", 24) or node.op or ""
    return f"<{small}{_esc(node.op or node.kind)}</FONT><BR/><B>{_esc(what)}</B>>"


def _statement(node) -> str:
    """``g1 = 3*w + cos(z)`` for a named value, the expression itself otherwise."""
    expression = _short(node.expression, LABEL_MAX_CHARS)
    if node.name and node.name != node.expression:
        return f"{node.name} = {expression}"
    return expression


def _tensor_lines(word: str, tensor) -> list[str]:
    """``value 3`` or a matrix, its rows aligned under the first (non-breaking spaces,
    since the lines are left-aligned by the caller)."""
    # one precision on the graph and in the step text (six digits: the seed's 109.432), and
    # the pages' one minus sign, so a number reads the same in both places
    rows = shown_minus(format_tensor(tensor, digits=6,
                                     max_entries=LABEL_MAX_ENTRIES)).split("\n")
    pad = "&#160;" * (len(word) + 1)
    return [_esc(f"{word} {rows[0]}")] + [
        pad + _esc(row).replace(" ", "&#160;", len(row) - len(row.lstrip())) for row in rows[1:]]


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _esc(text: str) -> str:
    # HTML-like labels: escape markup, keep runs of spaces (Graphviz collapses none, but
    # a leading space of a matrix row must survive)
    return html.escape(text, quote=True)
