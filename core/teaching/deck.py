"""The step deck: the whole story of one backward pass as pages a student follows alone.

Pages, in order: a title page (the program, its inputs, the example's explanation and the
notation), one page per forward value with its arithmetic (``3*w = 3 × 1 = 3``), one page per
backward step (a leaf reached along one path has no page of its own: its ``.grad`` line joins
the step that sent it), and a closing summary (every gradient, its paths, and the finite-
difference check beside it). With ``quiz`` each step first appears with the numbers it sends
hidden ("?"), then revealed on the next page.

Two layouts. **slides**: 16:9 pages for a projector, focus and context: the current node and
its neighbours zoomed so that the smallest text is at least 20 px on a 1080-px-high screen
(:data:`MIN_TEXT` of the page height), a small map of the whole graph with the step marked,
and the step's words beside it. **handout**: portrait pages with the whole graph above the
words, for print.

Each page is an SVG composed here: the graph is drawn once per highlight by Graphviz at
positions pinned by one shared layout (so it stands still from page to page), parsed for its
node boxes and font sizes, and placed with a zoom; the words come from
:mod:`core.teaching.step_text`, the same as the Steps panel and ``steps`` text. CairoSVG turns the
pages into PDF (joined by :func:`core.teaching.step_export.merge_pdfs`) or PNG frames.
"""
from __future__ import annotations

import html
import math
import re
import textwrap
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.errors import ExpressionError
from core.teaching.step_text import LEGEND, Line, forward_lines, leaf_merge_line, step_lines

LAYOUTS = ("slides", "handout")
#: page sizes in points: 16:9 slides, A4 portrait handouts
PAGE = {"slides": (960.0, 540.0), "handout": (595.0, 842.0)}
#: the smallest text on a slide as a fraction of the page height: 20 px of 1080
MIN_TEXT = 20 / 1080
#: font sizes in points (slides, handout)
SIZES = {"slides": dict(title=24, text=15, mono=13, small=12),
         "handout": dict(title=16, text=10.5, mono=9.5, small=9)}
SANS, MONO = "DejaVu Sans", "DejaVu Sans Mono"
#: average advance of a character as a fraction of the font size (DejaVu: sans ≈ 0.55-0.62,
#: mono exactly 0.602); wrapping uses these so no line runs past its column
SANS_ADVANCE, MONO_ADVANCE = 0.62, 0.603
INK, MUTED, ACCENT, NOTE_FILL = "#1a1a1a", "#555555", "#1a5fb4", "#fff3cd"
#: the largest zoom of the graph on a slide (a three-node graph need not fill the screen)
MAX_ZOOM = 2.2
#: a graph that fits the view whole with its smallest text this much above the smallest
#: readable size is shown whole on every page, not zoomed on the step
WHOLE_GRAPH_MARGIN = 1.15
PAGE_TIMEOUT = 60.0
#: the most pages a deck may have (each is a Graphviz drawing and a conversion, about 0.1 s)
MAX_PAGES = 800
#: the widest grid row, in characters: the slides' words column in the fixed-width face at
#: its smallest size (425 pt / (0.603 × 12 pt))
GRID_CHARS = 56
_SVG_NS = "{http://www.w3.org/2000/svg}"


@dataclass
class DeckPage:
    """One page: its ``kind`` ("title", "forward", "step", "predict", "summary"), heading,
    the lines of words, what the graph marks (a ``core.drawing.render.Highlight`` or None for a
    page without the graph) and the nodes to zoom on."""

    kind: str
    title: str
    subtitle: str = ""
    lines: list[Line] = field(default_factory=list)
    highlight: object = None
    focus: set = field(default_factory=set)
    #: the node the view centres on when the focus does not fit at a readable size (the
    #: step's own node; "" for the middle of the focus)
    anchor: str = ""


# --------------------------------------------------------------------------- planning


def plan(evaluation, trace, *, quiz: bool = False, explanation: str = "",
         title: str = "", check: bool = True, headline: dict | None = None) -> list[DeckPage]:
    """The deck's pages in order (no drawing yet)."""
    from core.drawing.render import Highlight

    if not trace.steps:
        raise ExpressionError("output", "there are no backward steps to export: "
                              + trace.no_steps_reason)
    pages = [_title_page(evaluation, trace, explanation, title)]
    done: set = set()
    for index, record in enumerate(evaluation.records):
        fn = record.tensor.grad_fn
        node = str(id(fn)) if fn is not None else str(id(record.tensor))
        pages.append(DeckPage("forward", f"Forward {index + 1} of {len(evaluation.records)}",
                              "computing each value in order", forward_lines(evaluation, index),
                              Highlight(current={node}, done=set(done)), {node}))
        done.add(node)
    merged = _merged_leaves(trace)
    hidden_leaves = {i for leaves in merged.values() for i in leaves}
    shown = [i for i in range(len(trace.steps)) if i not in hidden_leaves]
    for number, index in enumerate(shown):
        step = trace.steps[index]
        h = trace.highlight(index)
        current, labels = set(h.current), dict(h.edge_labels)
        recent = set(h.recent)
        lines = step_lines(trace, index, width=GRID_CHARS)
        for leaf_index in merged.get(index, []):
            leaf = trace.steps[leaf_index]
            current |= {leaf.node_id} | ({leaf.leaf_id} if leaf.leaf_id else set())
            labels.update(leaf.edge_labels)
            recent |= {key for key, _ in leaf.edge_labels}
            lines.append(leaf_merge_line(trace, leaf))
        heading = f"Step {number + 1} of {len(shown)}: {_what(step)}"
        focus = set(current)
        if quiz:
            before = {k: v for k, v in labels.items() if k not in recent}
            hidden = step_lines(trace, index, hide=True, width=GRID_CHARS)
            hidden += [Line("result", f"{trace.steps[i].name}.grad = ?") for i in
                       merged.get(index, [])]
            hidden.append(Line("text", "Predict the gradients this step sends, then turn the "
                                       "page."))
            pages.append(DeckPage("predict", heading, f"{step.op}: predict", hidden,
                                  Highlight(current=current, done=set(h.done),
                                            edge_labels=before), focus, step.node_id))
        pages.append(DeckPage("step", heading, step.op, lines,
                              Highlight(current=current, done=set(h.done), edge_labels=labels,
                                        recent=recent), focus, step.node_id))
    # an example's headline result on the page that completes that input's gradient
    top = headline_lines(evaluation, trace, headline)
    if top:
        leaf = trace.leaves[headline["input"]]
        for page in pages:
            if page.kind == "step" and leaf.node_id in page.highlight.current:
                page.lines += top
    summary = _summary_page(evaluation, trace, check)
    summary.lines = top + summary.lines
    pages.append(summary)
    return pages


def _what(step) -> str:
    from core.teaching.rules import pretty
    if step.leaf_id:
        return f"{step.name} collects its gradient" if step.name else "an input collects"
    text = pretty(step.expression or step.display or step.op)
    if step.name and step.name != step.expression:
        text = f"{step.name} = {text}"
    return text if len(text) <= 48 else text[:47] + "…"


def _merged_leaves(trace) -> dict[int, list[int]]:
    """Sending step -> leaf steps reached along one path only (their pages merge into it)."""
    out: dict[int, list[int]] = {}
    for index, step in enumerate(trace.steps):
        if step.leaf_id and len(step.contributions) == 1 \
                and step.contributions[0].from_step is not None:
            out.setdefault(step.contributions[0].from_step, []).append(index)
    return out


def merged_steps(trace) -> set[int]:
    """The indices of steps that have no page of their own (one-path leaves)."""
    return {i for leaves in _merged_leaves(trace).values() for i in leaves}


def _title_page(evaluation, trace, explanation: str, title: str) -> DeckPage:
    from core.teaching.rules import fmt
    program = evaluation.program
    lines = [Line("text", "The program:")]
    lines += [Line("code", line) for line in program.text.strip().splitlines()[:14]]
    inputs = []
    for name, tensor in evaluation.inputs.items():
        how = "" if tensor.requires_grad else " (constant)"
        inputs.append(f"{name} = {fmt(tensor.detach())}{how}")
    if inputs:
        lines.append(Line("text", "Inputs: " + "; ".join(inputs)))
    if explanation:
        lines.append(Line("text", explanation))
    lines.append(Line("text", f"The output is {trace.output_name} = {fmt(evaluation.value)}. "
                              "The pages compute each value, then run the backward pass as "
                              "torch's engine did, one node per page."))
    if getattr(trace, "seed_vector", None) is not None:
        y = trace.output_name
        lines.append(Line("text", f"{y} has several entries: the backward pass is "
                                  f"{y}.backward(v) with v = {fmt(trace.seed_vector)}, so each "
                                  f"gradient is vᵀ ∂{y}/∂x, the gradient of the number "
                                  f"vᵀ{y} = sum(v * {y})."))
    return DeckPage("title", title or f"How autograd computes the gradients of "
                    f"{trace.output_name}", "", lines)


def _summary_page(evaluation, trace, check: bool) -> DeckPage:
    from core.teaching.rules import MINUS, fmt, pretty
    from core.teaching.step_text import derivative_of
    f = derivative_of(trace)
    lines = []
    fd = _finite_differences(evaluation) if check else {}
    for name, leaf in trace.leaves.items():
        lines.append(Line("math", f"∂{f}/∂{name} = {fmt(leaf.total)}"))
        if len(leaf.contributions) > 1:
            # a − b, never a + −b: each path's share named by where it came from
            text = ""
            for k, c in enumerate(leaf.contributions):
                value = fmt(c.value)
                via = f"(via {pretty(c.via.split(' (')[0])})"
                if k == 0:
                    text = f"{value} {via}"
                elif value.startswith(MINUS) and "[" not in value:
                    text += f" {MINUS} {value[1:]} {via}"
                else:
                    text += f" + {value} {via}"
            lines.append(Line("text", f"    paths: {text} = {fmt(leaf.total)}"))
        if name in fd:
            lines.append(Line("text", "    finite differences: " + fd[name]))
    return DeckPage("summary", "Summary: every gradient", "each path's share, and an "
                    "independent check", lines)


def _finite_differences(evaluation) -> dict[str, str]:
    """Per input, central finite differences (float64) beside autograd, in words."""
    import torch

    from core.check.finite_differences import finite_differences
    from core.teaching.rules import fmt
    if not evaluation.program.statements:
        return {}  # a graph from the user's own code (autograd_explorer): nothing to re-run
    gradients = evaluation.gradients
    try:
        if getattr(evaluation, "grad_output", None) is not None:
            # y.backward(v): the gradients are those of the number vᵀy (core.check.vjp)
            from core.check.vjp import scalar_evaluation
            evaluation = scalar_evaluation(evaluation)
        result = finite_differences(evaluation, max_entries=64, time_limit=10.0)
    except (ExpressionError, RuntimeError, ValueError):
        return {}
    out = {}
    for name, tensor in evaluation.inputs.items():
        if not tensor.requires_grad or name not in gradients:
            continue
        entries = [(i, e) for (n, i), e in result.entries.items() if n == name]
        if not entries or any(e.value is None for _, e in entries):
            out[name] = "not computed (too many entries or too slow)"
            continue
        values = torch.zeros(tuple(tensor.shape), dtype=torch.float64)
        for index, entry in entries:
            values[index] = entry.value
        auto = gradients[name].detach().double()
        worst = float((values - auto).abs().max()) if values.numel() else 0.0
        scale = max(1.0, float(auto.abs().max()) if auto.numel() else 1.0)
        verdict = "agrees" if worst <= 1e-3 * scale else "differs"
        out[name] = f"{fmt(values)} ({verdict} with autograd; largest difference {worst:.1e})"
    return out


# --------------------------------------------------------------------------- the graph


@dataclass
class Picture:
    """A Graphviz SVG ready to place: its inner markup, its view box, node boxes (in view
    coordinates: x0, y0, x1, y1) and its smallest font size."""

    inner: str
    width: float
    height: float
    nodes: dict
    min_font: float
    #: the Graphviz graph group's transform (sx, sy, tx, ty): a text's x, y in the group
    #: are at (sx·(x + tx), sy·(y + ty)) in view coordinates
    transform: tuple = (1.0, 1.0, 0.0, 0.0)


def parse_picture(svg: str) -> Picture:
    """Read a Graphviz SVG: view box, node boxes, the smallest font size."""
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", svg))
    box = [float(v) for v in root.get("viewBox").split()]
    graph = next(g for g in root.iter(_SVG_NS + "g") if g.get("class") == "graph")
    sx, sy, tx, ty = _transform(graph.get("transform", ""))
    nodes = {}
    for g in graph.iter(_SVG_NS + "g"):
        if g.get("class") != "node":
            continue
        name = g.findtext(_SVG_NS + "title")
        xs, ys = [], []
        for el in g.iter():
            for x, y in _points(el):
                xs.append(sx * (x + tx))
                ys.append(sy * (y + ty))
        if xs:
            nodes[name] = (min(xs), min(ys), max(xs), max(ys))
    fonts = [float(el.get("font-size")) * sy for el in root.iter(_SVG_NS + "text")
             if el.get("font-size")]
    start = svg.index(">", svg.index("<svg")) + 1
    inner = svg[start:svg.rindex("</svg>")]
    return Picture(inner, box[2], box[3], nodes, min(fonts) if fonts else 14.0,
                   (sx, sy, tx, ty))


_GROUP = re.compile(r'(<g id="[^"]*" class="(node|edge)")(>.*?</g>)', re.S)
_TEXT = re.compile(r"<text\b([^>]*)>(.*?)</text>", re.S)
#: a node the zoomed view cuts is drawn this faint, without its words
CUT_OPACITY = 0.3


def _attr(attrs: str, name: str, default: str = "") -> str:
    found = re.search(rf'\b{name}="([^"]*)"', attrs)
    return found.group(1) if found else default


def _text_box(pic: Picture, attrs: str, content: str) -> tuple:
    """A text element's box in view coordinates (its width estimated from the fixed-width
    advance: Graphviz's labels here are monospace)."""
    sx, sy, tx, ty = pic.transform
    x, y = float(_attr(attrs, "x", "0")), float(_attr(attrs, "y", "0"))
    size = float(_attr(attrs, "font-size", "14"))
    width = len(html.unescape(re.sub(r"<[^>]+>", "", content))) * size * MONO_ADVANCE
    anchor = _attr(attrs, "text-anchor", "start")
    left = x - {"middle": width / 2, "end": width}.get(anchor, 0.0)
    return (sx * (left + tx), sy * (y - 0.8 * size + ty), sx * (left + width + tx),
            sy * (y + 0.25 * size + ty))


def visible_part(pic: Picture, view: tuple, keep: set) -> str:
    """``pic``'s markup for a zoomed view of the region ``view`` (x0, y0, x1, y1 in view
    coordinates): a node the view's edge would cut is drawn faint and without its words,
    and a word (an edge's label) not wholly inside is left out, so no word is cut mid-way
    at the edge of the view (the whole graph is on the map beside it). Nodes in ``keep``
    (the step itself) are always drawn whole."""
    x0, y0, x1, y1 = view

    def inside(b) -> bool:
        return b[0] >= x0 and b[1] >= y0 and b[2] <= x1 and b[3] <= y1

    def group(match) -> str:
        head, kind, body = match.groups()
        title = html.unescape(re.search(r"<title>(.*?)</title>", body, re.S).group(1)) \
            if "<title>" in body else ""
        if kind == "node" and title not in keep:
            box = pic.nodes.get(title)
            if box is not None and not inside(box):
                return f'{head} opacity="{CUT_OPACITY}"' + _TEXT.sub("", body)
            return head + body
        if kind == "node":
            return head + body
        return head + _TEXT.sub(lambda t: t.group(0) if inside(_text_box(pic, *t.groups()))
                                else "", body)

    return _GROUP.sub(group, pic.inner)


def _transform(text: str) -> tuple[float, float, float, float]:
    scale = re.search(r"scale\(([-\d.]+)[ ,]*([-\d.]*)\)", text)
    move = re.search(r"translate\(([-\d.]+)[ ,]+([-\d.]+)\)", text)
    sx = float(scale.group(1)) if scale else 1.0
    sy = float(scale.group(2)) if scale and scale.group(2) else sx
    tx, ty = (float(move.group(1)), float(move.group(2))) if move else (0.0, 0.0)
    return sx, sy, tx, ty


def _points(el) -> list[tuple[float, float]]:
    tag = el.tag.replace(_SVG_NS, "")
    if tag in ("polygon", "polyline"):
        nums = [float(v) for v in re.findall(r"-?\d+\.?\d*", el.get("points", ""))]
        return list(zip(nums[::2], nums[1::2], strict=False))
    if tag == "ellipse":
        cx, cy = float(el.get("cx")), float(el.get("cy"))
        rx, ry = float(el.get("rx")), float(el.get("ry"))
        return [(cx - rx, cy - ry), (cx + rx, cy + ry)]
    if tag == "path":
        nums = [float(v) for v in re.findall(r"-?\d+\.?\d*", el.get("d", ""))]
        return list(zip(nums[::2], nums[1::2], strict=False))
    return []


def _draw_graphs(graph, pages: list[DeckPage], budget=None) -> dict[int, Picture]:
    """One pinned drawing per page that shows the graph (pages with equal highlights share
    one), parsed; constants drawn grey beside the operations that use them. ``budget`` (an
    :class:`ExportBudget`) is checked before each drawing."""
    from core.drawing.pinned_layout import lay_out
    from core.drawing.render import Highlight, RenderOptions, run_dot, to_digraph

    # constants: the numbers and data the arithmetic uses, drawn grey with their values
    base = RenderOptions(theme="print", annotate="values", constants=True)
    every: dict = {}
    for page in pages:
        if page.highlight is not None:
            every.update(page.highlight.edge_labels)
    full = to_digraph(graph, replace(base, highlight=Highlight(edge_labels=every)))
    layout = lay_out(full.source, PAGE_TIMEOUT)
    cache: dict = {}
    out = {}
    for k, page in enumerate(pages):
        h = page.highlight
        if h is None:
            continue
        key = (frozenset(h.current), frozenset(h.done), tuple(sorted(h.edge_labels.items())),
               frozenset(h.recent))
        if key not in cache:
            if budget is not None:
                budget.check(k + 1, len(pages))
            digraph = to_digraph(graph, replace(base, highlight=h, pinned=layout))
            source = digraph.source
            svg = run_dot(source, "svg", timeout=PAGE_TIMEOUT, engine="neato",
                          arguments=("-n2",),
                          cancel=budget.cancel if budget is not None else None)
            cache[key] = parse_picture(svg.decode("utf-8"))
        out[k] = cache[key]
    return out


# --------------------------------------------------------------------------- composing


def _esc(text: str) -> str:
    # no-break spaces: SVG collapses runs of spaces, and grids line up by them
    return html.escape(text, quote=True).replace(" ", "\u00a0")


class _Canvas:
    """An SVG page being written."""

    def __init__(self, width: float, height: float):
        self.width, self.height = width, height
        self.parts = [f'<rect width="{width}" height="{height}" fill="white"/>']

    def text(self, x, y, text, size, *, mono=False, bold=False, color=INK, italic=False):
        """One line of text with its baseline at ``y``."""
        weight = ' font-weight="bold"' if bold else ""
        style = ' font-style="italic"' if italic else ""
        self.parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-family="{MONO if mono else SANS}"'
                          f' font-size="{size}"{weight}{style} fill="{color}">{_esc(text)}</text>')

    def rect(self, x, y, w, h, fill="none", stroke="none", width=1.0, rx=0.0):
        """A rectangle."""
        self.parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                          f'rx="{rx}" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>')

    def line(self, x0, y0, x1, y1, stroke="#bbbbbb", width=0.8):
        """A straight line."""
        self.parts.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
                          f'stroke="{stroke}" stroke-width="{width}"/>')

    def picture(self, pic: Picture, zoom: float, ox: float, oy: float, clip: tuple,
                keep: set | None = None):
        """``pic`` scaled by ``zoom`` with its view origin at (ox, oy), clipped to ``clip``;
        with ``keep`` (the nodes always drawn whole), what the clip would cut is faded
        without its words (:func:`visible_part`)."""
        cid = f"clip{len(self.parts)}"
        x, y, w, h = clip
        inner = pic.inner
        if keep is not None:
            inner = visible_part(pic, ((x - ox) / zoom, (y - oy) / zoom,
                                       (x + w - ox) / zoom, (y + h - oy) / zoom), keep)
        self.parts.append(f'<defs><clipPath id="{cid}"><rect x="{x:.1f}" y="{y:.1f}" '
                          f'width="{w:.1f}" height="{h:.1f}"/></clipPath></defs>'
                          f'<g clip-path="url(#{cid})"><g transform="translate({ox:.2f} '
                          f'{oy:.2f}) scale({zoom:.4f})">{inner}</g></g>')

    def svg(self) -> str:
        """The page as an SVG document."""
        return (f'<svg xmlns="http://www.w3.org/2000/svg" '
                f'xmlns:xlink="http://www.w3.org/1999/xlink" width="{self.width}pt" '
                f'height="{self.height}pt" viewBox="0 0 {self.width} {self.height}">'
                + "".join(self.parts) + "</svg>")


def _wrap(text: str, width: float, size: float, mono: bool) -> list[str]:
    chars = max(8, int(width / (size * (MONO_ADVANCE if mono else SANS_ADVANCE))))
    return textwrap.wrap(text, chars, subsequent_indent="   ", break_on_hyphens=False,
                         break_long_words=True) or [""]


_LINE_STYLE = {
    # kind: (mono, bold, colour, italic)
    "in": (False, True, INK, False), "paths": (False, False, INK, False),
    "pattern": (False, False, ACCENT, True), "rule": (False, True, INK, False),
    "math": (True, False, INK, False), "grid": (True, False, INK, False),
    "note": (False, True, "#7a4b00", False), "result": (True, True, "#b2182b", False),
    "text": (False, False, INK, False), "code": (True, False, INK, False),
}


def _layout_lines(lines: list[Line], width: float, sizes: dict) -> list[tuple]:
    """Each line wrapped to ``width``: (text, size, mono, bold, colour, italic, is_note,
    block). Rows of one ``block`` stay on one page: a wrapped line, and a grid with the
    line that introduces it (``∂f/∂X += ∂f/∂Y · Wᵀ`` then the matrices)."""
    out = []
    block = 0
    previous = None
    for line in lines:
        mono, bold, color, italic = _LINE_STYLE.get(line.kind, _LINE_STYLE["text"])
        size = sizes["mono"] if mono else sizes["text"]
        if not (line.kind == "grid" and previous is not None
                and previous.kind in ("math", "in", "rule", "result")):
            block += 1
        previous = line
        if line.kind == "grid":
            rows = line.text.split("\n")
            longest = max(len(r) for r in rows)
            # a grid is never wrapped: it gets a smaller face down to the smallest allowed
            fit = width / (MONO_ADVANCE * max(longest, 1))
            size = max(sizes["small"], min(size, fit))
            out += [(r, size, True, False, color, False, False, block) for r in rows]
            continue
        for part in _wrap(line.text, width, size, mono):
            out.append((part, size, mono, bold, color, italic, line.kind == "note", block))
    return out


def rows_height(rows: list[tuple]) -> float:
    """The height the rows take, drawn one under the other."""
    return sum(row[1] * 1.32 for row in rows)


def _draw_lines(canvas: _Canvas, rows: list[tuple], x: float, y: float, width: float,
                bottom: float) -> int:
    """Draw rows from ``y`` down; returns how many fitted above ``bottom``. A block that
    does not fit whole waits for the next page (unless nothing was drawn yet: a block
    taller than a page is split)."""
    drawn = 0
    for k, (text, size, mono, bold, color, italic, note, block) in enumerate(rows):
        step = size * 1.32
        if drawn and (k == 0 or rows[k - 1][7] != block):
            rest = rows_height([r for r in rows[k:] if r[7] == block])
            if y + rest > bottom:
                break
        if y + step > bottom:
            break
        if note:
            canvas.rect(x - 4, y + 2, width + 8, step, fill=NOTE_FILL)
        canvas.text(x, y + size, text, size, mono=mono, bold=bold, color=color, italic=italic)
        y += step
        drawn += 1
    return drawn


def _zoom_for(pic: Picture, focus: set, area: tuple, min_font: float,
              current: set | None = None, anchor: str = "") -> tuple:
    """(zoom, view x, view y of the area's top-left) for ``focus`` nodes in ``area``."""
    ax, ay, aw, ah = area
    boxes = [pic.nodes[n] for n in focus if n in pic.nodes] or list(pic.nodes.values())
    if not boxes:
        return 1.0, 0.0, 0.0
    every = list(pic.nodes.values())
    whole = min(aw / (max(b[2] for b in every) - min(b[0] for b in every) + 60),
                ah / (max(b[3] for b in every) - min(b[1] for b in every) + 60))
    if whole >= WHOLE_GRAPH_MARGIN * min_font / pic.min_font:
        boxes = every  # a small graph is shown whole (and stands still from page to page)
    x0 = min(b[0] for b in boxes) - 30
    y0 = min(b[1] for b in boxes) - 30
    x1 = max(b[2] for b in boxes) + 30
    y1 = max(b[3] for b in boxes) + 30
    least = min_font / pic.min_font
    fit = min(aw / (x1 - x0), ah / (y1 - y0))
    zoom = max(least, min(fit, MAX_ZOOM))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    centre = [pic.nodes[n] for n in (current or ()) if n in pic.nodes]
    if centre and anchor in pic.nodes and (
            max(b[2] for b in centre) - min(b[0] for b in centre) > aw / least
            or max(b[3] for b in centre) - min(b[1] for b in centre) > ah / least):
        centre = [pic.nodes[anchor]]  # the step's nodes are far apart: its own node
    if fit < least and centre:
        # the neighbours do not all fit at a readable size: keep the step itself centred
        cx = (min(b[0] for b in centre) + max(b[2] for b in centre)) / 2
        cy = (min(b[1] for b in centre) + max(b[3] for b in centre)) / 2
    vx, vy = cx - aw / 2 / zoom, cy - ah / 2 / zoom
    # a graph larger than the view: show no empty space beyond its edge while more of the
    # graph is on the other side (the step stays in view: it is nearer the edge than that)
    every = list(pic.nodes.values())
    gx0, gy0 = min(b[0] for b in every) - 12, min(b[1] for b in every) - 12
    gx1, gy1 = max(b[2] for b in every) + 12, max(b[3] for b in every) + 12
    vw, vh = aw / zoom, ah / zoom
    if vw < gx1 - gx0:
        vx = min(max(vx, gx0), gx1 - vw)
    if vh < gy1 - gy0:
        vy = min(max(vy, gy0), gy1 - vh)
    return zoom, vx, vy


def _neighbours(graph, nodes: set) -> set:
    out = set(nodes)
    for edge in graph.edges:
        if edge.source in nodes or edge.target in nodes:
            out |= {edge.source, edge.target}
    return out


def _minimap(canvas: _Canvas, pic: Picture, page: DeckPage, graph, box: tuple,
             window: tuple | None) -> None:
    """The whole graph as boxes (no text), the step's nodes red, finished ones green, and
    the zoomed window outlined."""
    x, y, w, h = box
    canvas.rect(x, y, w, h, fill="white", stroke="#999999", width=1)
    if not pic.nodes:
        return
    x0 = min(b[0] for b in pic.nodes.values())
    y0 = min(b[1] for b in pic.nodes.values())
    x1 = max(b[2] for b in pic.nodes.values())
    y1 = max(b[3] for b in pic.nodes.values())
    s = min((w - 8) / max(x1 - x0, 1), (h - 8) / max(y1 - y0, 1))
    ox = x + (w - s * (x1 - x0)) / 2 - s * x0
    oy = y + (h - s * (y1 - y0)) / 2 - s * y0

    def at(b):
        return (ox + s * b[0], oy + s * b[1], s * (b[2] - b[0]), s * (b[3] - b[1]))

    for edge in graph.edges:
        a, b = pic.nodes.get(edge.source), pic.nodes.get(edge.target)
        if a and b:
            canvas.line(ox + s * (a[0] + a[2]) / 2, oy + s * (a[1] + a[3]) / 2,
                        ox + s * (b[0] + b[2]) / 2, oy + s * (b[1] + b[3]) / 2)
    h_ = page.highlight
    for name, b in pic.nodes.items():
        bx, by, bw, bh = at(b)
        if name in h_.current:
            fill, stroke = "#d62728", "#d62728"
        elif name in h_.done:
            fill, stroke = "#cfe8d4", "#1a7f37"
        else:
            fill, stroke = "#eeeeee", "#999999"
        canvas.rect(bx, by, max(bw, 1.5), max(bh, 1.5), fill=fill, stroke=stroke, width=0.5)
    if window is not None:
        vx, vy, vw, vh = window
        cx0, cy0 = max(x, ox + s * vx), max(y, oy + s * vy)
        cx1, cy1 = min(x + w, ox + s * (vx + vw)), min(y + h, oy + s * (vy + vh))
        if cx1 > cx0 and cy1 > cy0:
            canvas.rect(cx0, cy0, cx1 - cx0, cy1 - cy0, stroke=ACCENT, width=1.5)


def compose(page: DeckPage, pic: Picture | None, graph, layout: str, number: int,
            total: int) -> list[str]:
    """The SVG page(s) of ``page``: more than one when its words need a continuation."""
    width, height = PAGE[layout]
    sizes = SIZES[layout]
    margin = 28 if layout == "slides" else 36
    pages = []
    rows = None
    first = True
    while rows is None or rows:
        canvas = _Canvas(width, height)
        title = page.title + ("" if first else " (continued)")
        # a long title gets a smaller face (never below the smallest readable size), then
        # is cut with an ellipsis
        room = width - 2 * margin
        size = max(sizes["small"] + 2, min(sizes["title"], room / (0.66 * max(len(title), 1))))
        most = int(room / (0.66 * size))
        if len(title) > most:
            title = title[:most - 1] + "…"
        canvas.text(margin, margin + sizes["title"], title, size, bold=True)
        if page.subtitle:
            canvas.text(margin, margin + sizes["title"] + sizes["small"] * 1.6,
                        page.subtitle, sizes["small"], color=MUTED)
        top = margin + sizes["title"] + sizes["small"] * 2.4
        canvas.text(width - margin - 60, height - 12, f"{number} / {total}", sizes["small"],
                    color=MUTED)
        if layout == "slides":
            if rows is None and pic is not None and page.kind != "title":
                # the words' column (as _slide_body makes it), laid out before the map is
                # placed: words that fit only without the map take its room
                rows = _layout_lines(list(page.lines), width - width * 0.52 - margin - 8,
                                     sizes)
            need = rows_height(rows) if rows is not None else 0.0
            text_box = _slide_body(canvas, page, pic, graph, top, margin, width, height,
                                   sizes, first, need)
        else:
            text_box = _handout_body(canvas, page, pic, graph, top, margin, width, height,
                                     first)
        tx, ty, tw, bottom = text_box
        if rows is None:
            lines = list(page.lines)
            legend = [Line("rule", "Notation")] + [Line("text", f"{a}: {b}")
                                                   for a, b in LEGEND]
            if page.kind == "title" and layout == "slides":
                # the notation in a column of its own beside the program
                half = (tw - 24) / 2
                tw = half
                legend_rows = _layout_lines(legend, half, {**sizes, "text": sizes["small"]})
                _draw_lines(canvas, legend_rows, tx + half + 24, ty, half, bottom)
            elif page.kind == "title":
                lines += legend
            rows = _layout_lines(lines, tw, sizes)
        drawn = _draw_lines(canvas, rows, tx, ty, tw, bottom)
        drawn = max(drawn, 1) if rows else 0
        rows = rows[drawn:]
        pages.append(canvas.svg())
        first = False
    return pages


def _slide_body(canvas, page, pic, graph, top, margin, width, height, sizes, first,
                need: float = 0.0) -> tuple:
    """Graph focus on the left, minimap under the words on the right; without a graph the
    words take the whole width. Words ``need``-ing the map's room to fit on this page get it
    (the map is left out). Returns the text box (x, y, width, bottom)."""
    bottom = height - margin
    if pic is None:
        return (margin, top, width - 2 * margin, bottom - 10)
    split = width * 0.52
    area = (margin, top, split - margin - 10, bottom - top)
    focus = _neighbours(graph, page.focus)
    zoom, vx, vy = _zoom_for(pic, focus, area, MIN_TEXT * height + 1, page.focus,
                             page.anchor)
    canvas.rect(area[0], area[1], area[2], area[3], fill="#fbfbfb", stroke="#dddddd")
    canvas.picture(pic, zoom, area[0] - zoom * vx, area[1] - zoom * vy, area,
                   keep=set(page.focus))
    # the map of the whole graph in the words' column, bottom right, clear of the graph
    mw, mh = 170, 100
    if bottom - mh - 8 - top < need <= bottom - 10 - top:
        return (split + 8, top, width - split - margin - 8, bottom - 10)
    _minimap(canvas, pic, page, graph, (width - margin - mw, bottom - mh, mw, mh),
             (vx, vy, area[2] / zoom, area[3] / zoom))
    return (split + 8, top, width - split - margin - 8, bottom - mh - 8)


def _handout_body(canvas, page, pic, graph, top, margin, width, height, first) -> tuple:
    """The whole graph on the upper part of a portrait page, the words under it."""
    bottom = height - margin
    if pic is None:
        return (margin, top, width - 2 * margin, bottom)
    area = (margin, top, width - 2 * margin, (bottom - top) * 0.55)
    boxes = list(pic.nodes.values())
    x0 = min(b[0] for b in boxes) - 10
    y0 = min(b[1] for b in boxes) - 10
    x1 = max(b[2] for b in boxes) + 10
    y1 = max(b[3] for b in boxes) + 10
    zoom = min(area[2] / (x1 - x0), area[3] / (y1 - y0), 1.3)
    ox = area[0] + (area[2] - zoom * (x1 - x0)) / 2 - zoom * x0
    canvas.picture(pic, zoom, ox, area[1] - zoom * y0, area)
    return (margin, area[1] + area[3] + 14, width - 2 * margin, bottom)


# --------------------------------------------------------------------------- export


def example_for(text: str) -> dict:
    """The built-in example whose program is ``text`` (spacing aside), or {}."""
    import json
    from importlib import resources

    try:
        data = json.loads(resources.files("resources").joinpath("examples.json").read_text(
            encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    wanted = " ".join(text.split())
    for example in data.get("examples", []):
        if " ".join(example.get("expression", "").split()) == wanted:
            return example
    return {}


def example_words(text: str) -> tuple[str, str]:
    """(title, explanation) of the built-in example whose program is ``text``, else
    ("", "")."""
    example = example_for(text)
    return example.get("title", ""), example.get("explanation", "")


def deck_options(text: str) -> dict:
    """The deck options a built-in example brings: its title, explanation and headline."""
    example = example_for(text)
    return {"title": example.get("title", ""), "explanation": example.get("explanation", ""),
            "headline": example.get("headline")}


def headline_lines(evaluation, trace, headline: dict | None) -> list[Line]:
    """An example's headline result checked on these numbers: ``∂loss/∂z = softmax(z) −
    target = [...] − [...] = [...]``, computed from the program's own values by the
    language (not by the backward pass) and compared with the gradient the steps found."""
    import torch

    from core.evaluation.evaluate import forward
    from core.language.parser import BinaryOp, parse
    from core.language.values import VariableSpec
    from core.teaching.rules import MINUS, fmt

    if not headline or headline.get("input") not in trace.leaves:
        return []
    name = headline["input"]
    specs = {k: VariableSpec(k, s.value, False) for k, s in evaluation.specs.items()}
    try:
        # the language wants one number out: the headline's tensor is a named value
        program = parse(f"headline_value = {headline['equals']}\n"
                        "headline_total = sum(headline_value)")
        result = forward(program, specs, evaluation.dtype)
    except ExpressionError:
        return []
    value = result.intermediates["headline_value"].detach()
    total = trace.leaves[name].total
    same = torch.allclose(value.to(total.dtype), total, rtol=1e-5, atol=1e-7)
    node = program.statements[0].expr
    parts = ""
    if isinstance(node, BinaryOp):
        records = {id(r.node): r.tensor for r in result.records}
        def side(n):
            t = records.get(id(n), result.inputs.get(getattr(n, "name", ""), None))
            return fmt(t.detach()) if t is not None else n.text
        op = MINUS if node.op == "-" else node.op
        parts = f" = {side(node.left)} {op} {side(node.right)}"
    from core.teaching.step_text import derivative_of
    f = derivative_of(trace)
    verdict = ("the same as the backward pass found, step by step" if same else
               "this differs from the backward pass")
    return [Line("rule", f"The headline: ∂{f}/∂{name} = {headline['text']}"),
            Line("math", f"{headline['text']}{parts} = {fmt(value)}"),
            Line("text", verdict)]


class ExportBudget:
    """The time limit of one export (core.teaching.step_export.MAX_EXPORT_SECONDS) and the caller's
    cancel event (a ``threading.Event``), checked between pages."""

    def __init__(self, cancel=None):
        import time

        from core.teaching.step_export import MAX_EXPORT_SECONDS
        self.seconds = MAX_EXPORT_SECONDS
        self.deadline = time.monotonic() + self.seconds
        self.cancel = cancel

    def check(self, number: int, total: int) -> None:
        """Raise ``Cancelled`` or a ``LimitError`` naming the limit, if either applies."""
        import time

        from core.drawing.render import Cancelled
        from core.errors import LimitError
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()
        if time.monotonic() > self.deadline:
            raise LimitError(f"exporting the steps took longer than {self.seconds:g} s, the "
                             f"limit (page {number:,} of {total:,}); export a shorter program "
                             "or a lower resolution")


def frame_width(layout: str, dpi: int) -> int:
    """The width in pixels of a frame of ``layout`` at ``dpi``, scaled down so the frame
    stays within core.drawing.render.MAX_PNG_AREA pixels."""
    from core.drawing.render import MAX_PNG_AREA
    width_pt, height_pt = PAGE[layout]
    width = width_pt / 72 * int(dpi)
    height = height_pt / 72 * int(dpi)
    if width * height > MAX_PNG_AREA:
        width = math.sqrt(MAX_PNG_AREA * width_pt / height_pt)
    return int(width)


def deck_svgs(evaluation, graph, trace, *, layout: str = "slides", quiz: bool = False,
              explanation: str = "", title: str = "", check: bool = True,
              headline: dict | None = None, budget: ExportBudget | None = None) -> list[str]:
    """Every page of the deck as an SVG document (``budget``: an export's time limit and
    cancel event, checked between pages)."""
    if layout not in LAYOUTS:
        raise ExpressionError("value", f"layout must be slides or handout, not {layout!r}")
    pages = plan(evaluation, trace, quiz=quiz, explanation=explanation, title=title,
                 check=check, headline=headline)
    if len(pages) > MAX_PAGES:
        from core.errors import LimitError
        raise LimitError(f"the step deck would have {len(pages):,} pages; the limit is "
                         f"{MAX_PAGES:,}: export the steps of a smaller program (or read them "
                         "with steps --json)")
    pictures = _draw_graphs(graph, pages, budget)
    out: list[str] = []
    for k, page in enumerate(pages):
        out += compose(page, pictures.get(k), graph, layout, k + 1, len(pages))
    # page numbers count continuation pages too
    total = len(out)
    return [re.sub(r">\d+\u00a0/\u00a0\d+<", f">{i + 1}\u00a0/\u00a0{total}<", svg, count=1)
            for i, svg in enumerate(out)]


def export_pdf(evaluation, graph, trace, path, *, cancel=None, **options) -> int:
    """Write the deck to ``path`` as one PDF; returns the number of pages. Bounded by
    core.teaching.step_export.MAX_EXPORT_SECONDS; ``cancel`` (a ``threading.Event``) stops it."""
    import cairosvg

    from core.teaching.step_export import _write, merge_pdfs
    budget = ExportBudget(cancel)
    svgs = deck_svgs(evaluation, graph, trace, budget=budget, **options)
    pdfs = []
    for k, svg in enumerate(svgs):
        budget.check(k + 1, len(svgs))
        pdfs.append(cairosvg.svg2pdf(bytestring=svg.encode("utf-8")))
    _write(Path(path), merge_pdfs(pdfs))
    return len(pdfs)


def export_frames(evaluation, graph, trace, directory, *, dpi: int = 144, cancel=None,
                  **options) -> list[Path]:
    """Write the deck as ``page-001.png``, ... into ``directory`` (slides at 1920×1080 for
    the default dpi of 144); returns the paths. Each frame is within core.drawing.render's
    MAX_PNG_AREA pixels (scaled down past it); the export is bounded by
    core.teaching.step_export.MAX_EXPORT_SECONDS; ``cancel`` (a ``threading.Event``) stops it."""
    import cairosvg

    from core.teaching.step_export import _write, frames_folder
    folder = frames_folder(directory, dpi)
    budget = ExportBudget(cancel)
    svgs = deck_svgs(evaluation, graph, trace, budget=budget, **options)
    width = max(3, len(str(len(svgs))))
    layout = options.get("layout", "slides")
    pixels = frame_width(layout, dpi)
    paths = []
    for k, svg in enumerate(svgs):
        budget.check(k + 1, len(svgs))
        target = folder / f"page-{k + 1:0{width}d}.png"
        _write(target, cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=pixels))
        paths.append(target)
    return paths


def min_text_height(svgs: list[str]) -> float:
    """The smallest font size on any page as a fraction of its page height (graph text
    counted at its zoom), read from the SVGs themselves."""
    least = math.inf
    for svg in svgs:
        height = float(re.search(r'viewBox="0 0 [\d.]+ ([\d.]+)"', svg).group(1))
        for zoom, body in _zoomed_parts(svg):
            for size in re.findall(r'font-size="([\d.]+)"', body):
                least = min(least, float(size) * zoom / height)
    return least


def _zoomed_parts(svg: str):
    """(zoom, markup) pieces: text inside a placed graph counts at the graph's zoom."""
    pos = 0
    for match in re.finditer(r'<g transform="translate\([^)]*\) scale\(([\d.]+)\)">', svg):
        yield 1.0, svg[pos:match.start()]
        end = _closing(svg, match.end())
        yield float(match.group(1)), svg[match.end():end]
        pos = end
    yield 1.0, svg[pos:]


def _closing(svg: str, start: int) -> int:
    depth, k = 1, start
    for m in re.finditer(r"<g\b|</g>", svg[start:]):
        depth += 1 if m.group(0) == "<g" else -1
        if depth == 0:
            return start + m.start()
        k = start + m.end()
    return k
