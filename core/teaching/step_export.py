"""Export a recorded backward pass for teaching: a multi-page PDF (one page per step) and
numbered PNG frames.

Each page is the backward graph drawn by :mod:`core.drawing.render` with the step's highlight
(current node, finished nodes, the gradient on every edge it has crossed, bolder on the
edges this step just computed), a heading with the step, its rule and its arithmetic, and
a legend under the graph.

The graph stands still from page to page: it is laid out once, on a drawing that already
carries every gradient label and the largest heading of any page, and each page is drawn
at those pinned positions (:mod:`core.drawing.pinned_layout`, ``neato -n2``). Only colours and
which labels are shown change. The heading is a fixed-size box (the largest of all pages,
measured by Graphviz), so every page has the same size too.

Joining the pages: Graphviz's cairo PDF writer emits one document per graph, and the other
routes to a multi-page PDF need a new dependency (pypdf) or a program the user may not have
(Ghostscript for ``-Tps2``). Graphviz's PDFs are small and regular (a classic cross-reference
table, plain ``N 0 obj`` objects), so :func:`merge_pdfs` joins them in pure Python: renumber
each file's objects, point its pages at one new page tree, and write a fresh cross-reference
table. Files in another layout (object streams) are refused with a clear error rather than
joined badly.
"""
from __future__ import annotations

import html
import math
import re
import time
from dataclasses import replace
from pathlib import Path

from core.errors import ExpressionError, LimitError

#: seconds Graphviz may spend on one page (and on the one layout)
PAGE_TIMEOUT = 60.0
#: seconds a whole export (every page of a PDF, every PNG frame) may take
MAX_EXPORT_SECONDS = 120.0
#: points between the heading, the graph and the legend
GAP = 14
#: the heading's look: the title line, the rule, then the step's numbers
TITLE_SIZE, TEXT_SIZE, MUTED = 18, 13, "#555555"
#: longest heading line and most lines one line of text becomes; longest title
WRAP_CHARS, WRAP_LINES, TITLE_CHARS = 90, 6, 60
#: how the heading and legend are drawn; the same attributes when measured and when drawn,
#: or the fixed boxes would not fit their text
TEXT_NODE = dict(shape="plaintext", margin="0", width="0", height="0", style="", penwidth="0",
                 fontname="sans-serif")
LEGEND = ("yellow box, red border: this step      green border: finished",
          "red numbers on arrows: gradients computed so far (they flow against the arrows)")


def _no_steps(trace) -> ExpressionError:
    return ExpressionError("output", "there are no backward steps to export: "
                           + trace.no_steps_reason)


def caption(trace, index: int) -> str:
    """The text of page ``index`` as plain lines: which step, its rule and its numbers."""
    return "\n".join(_heading_lines(trace, index))


def _heading_lines(trace, index: int) -> list[str]:
    from core.teaching.rules import fmt

    step = trace.steps[index]
    lines = [step_title(trace, index), "rule: " + step.rule.formula]
    if step.grad_in:
        lines.append(f"gradient in: {fmt(step.grad_in[0])}")
    lines.extend(step.rule.numbers)
    if len(step.contributions) > 1 and not step.leaf_id:
        terms = " + ".join(fmt(c.value) for c in step.contributions)
        lines.append(f"paths into this node: {terms} = {fmt(step.grad_in[0])}")
    return [lines[0]] + [part for line in lines[1:] for part in _wrap(line)]


def _wrap(line: str) -> list[str]:
    """A long line (a leaf reached by a hundred paths sums a hundred terms) as at most
    WRAP_LINES lines of WRAP_CHARS: the heading, and with it every page, stays page-sized.
    The last part is kept, since that is where the sum's result is."""
    import textwrap
    parts = textwrap.wrap(line, WRAP_CHARS, subsequent_indent="    ") or [""]
    if len(parts) > WRAP_LINES:
        parts = parts[:WRAP_LINES - 2] + ["    …", parts[-1]]
    return parts


def step_title(trace, index: int) -> str:
    """A step's title as the pages and the window show it:
    ``Step 3 of 12: exp(g1)   (ExpBackward0)``."""
    step = trace.steps[index]
    if step.leaf_id:
        what = f"{step.name} collects its gradient" if step.name else "a leaf collects its gradient"
    elif step.name and step.expression and step.name != step.expression:
        what = f"{step.name} = {step.expression}"
    else:
        what = step.expression or step.op
    if len(what) > TITLE_CHARS:
        what = what[:TITLE_CHARS - 1] + "…"
    return f"Step {index + 1} of {len(trace.steps)}: {what}   ({step.op})"


def _heading_html(trace, index: int, box: tuple | None = None) -> str:
    """The heading as an HTML-like label; with ``box`` (width, height in points) it fills
    exactly that box, text at the top left, so every page's heading has the same size."""
    first, *rest = _heading_lines(trace, index)
    title, _, op = first.rpartition("   ")
    rows = [f'<FONT POINT-SIZE="{TITLE_SIZE}"><B>{_esc(title)}</B></FONT>'
            f'<FONT POINT-SIZE="{TEXT_SIZE}" COLOR="{MUTED}">   {_esc(op)}</FONT>']
    rule, *numbers = rest
    # the rule in words reads best in the text face; the numbers in monospace, so the
    # "a × b = c" lines of one step line up
    rows.append(f'<FONT POINT-SIZE="{TEXT_SIZE}">{_esc(rule)}</FONT>')
    rows += [f'<FONT POINT-SIZE="{TEXT_SIZE}" FACE="monospace">{_esc(line)}</FONT>'
             for line in numbers]
    return _text_box(rows, box)


def _legend_html(box: tuple | None = None, lines=LEGEND) -> str:
    return _text_box([f'<FONT POINT-SIZE="11" COLOR="{MUTED}">{_esc(line)}</FONT>'
                      for line in lines], box)


def _text_box(rows: list[str], box: tuple | None) -> str:
    # one table row per line: a little space between lines (Graphviz sets BR-separated
    # lines tightly), each line left-aligned
    lines = "".join(f'<TR><TD ALIGN="LEFT">{row}</TD></TR>' for row in rows)
    inner = (f'<TABLE BORDER="0" CELLBORDER="0" CELLPADDING="0" CELLSPACING="3">'
             f'{lines}</TABLE>')
    size = ""
    if box is not None:
        size = f' FIXEDSIZE="TRUE" WIDTH="{box[0]}" HEIGHT="{box[1]}"'
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLPADDING="0" CELLSPACING="0"><TR>'
            f'<TD ALIGN="LEFT" VALIGN="TOP"{size}>{inner}</TD></TR></TABLE>>')


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def page_digraphs(graph, trace, options=None) -> list:
    """One ``graphviz.Digraph`` per step, every node and edge pinned where one shared layout
    put them; draw each with ``neato -n2`` (:func:`render_page` does)."""
    return list(iter_pages(graph, trace, options))


def iter_pages(graph, trace, options=None):
    """:func:`page_digraphs` one page at a time (the layout runs before the first), so
    drawing a page can start while the next is being written."""
    from core.drawing.pinned_layout import lay_out, measure
    from core.drawing.render import Highlight, RenderOptions, to_digraph

    if not trace.steps:
        raise _no_steps(trace)
    # values only on the nodes: the gradients appear on the edges as the steps compute
    # them, so a page does not give away the answer before its step
    base = options or RenderOptions(theme="print", annotate="values")
    highlights = [trace.highlight(i) for i in range(len(trace.steps))]
    # the layout carries every label any page shows (each edge keeps its text once it has
    # one), so each page's labels fit in the space reserved for them
    everything = Highlight(edge_labels=dict(highlights[-1].edge_labels))
    layout = lay_out(to_digraph(graph, replace(base, highlight=everything)).source,
                     PAGE_TIMEOUT)
    headings = [_heading_html(trace, i) for i in range(len(trace.steps))]
    # other decks over the same graph (core.views.view_export) bring their own legend
    legend = getattr(trace, "legend", LEGEND)
    sizes = measure(headings + [_legend_html(None, legend)], PAGE_TIMEOUT, **TEXT_NODE)
    heading_box = (math.ceil(max(w for w, _ in sizes[:-1])) + 2,
                   math.ceil(max(h for _, h in sizes[:-1])) + 2)
    legend_box = (math.ceil(sizes[-1][0]) + 2, math.ceil(sizes[-1][1]) + 2)
    heading_at, legend_at = _text_positions(layout.bb, heading_box, legend_box)

    previous: dict = {}
    for index, spec in enumerate(highlights):
        labels = dict(spec.edge_labels)
        highlight = Highlight(current=set(spec.current), done=set(spec.done),
                              edge_labels=labels,
                              recent={k for k in labels if k not in previous})
        previous = labels
        digraph = to_digraph(graph, replace(base, highlight=highlight, pinned=layout))
        digraph.node("__heading", _heading_html(trace, index, heading_box),
                     pos=heading_at, **TEXT_NODE)
        digraph.node("__legend", _legend_html(legend_box, legend), pos=legend_at, **TEXT_NODE)
        yield digraph


def _text_positions(bb: tuple, heading: tuple, legend: tuple) -> tuple[str, str]:
    """Centres (``pos`` in points) of the heading above the graph and the legend under it,
    both starting at the same left edge; the graph is centred under them if narrower."""
    llx, lly, urx, ury = bb
    widest = max(heading[0], legend[0])
    left = min(llx, (llx + urx) / 2 - widest / 2)
    heading_at = (left + heading[0] / 2, ury + GAP + heading[1] / 2)
    legend_at = (left + legend[0] / 2, lly - GAP - legend[1] / 2)
    return tuple(f"{x:g},{y:g}" for x, y in (heading_at, legend_at))


def render_page(page, fmt: str, dpi: int | None = None, cancel=None) -> bytes:
    """Draw one page (from :func:`page_digraphs`) at its pinned positions: no layout runs,
    so this is quick even for large graphs."""
    from core.drawing.render import png_side_inches, run_dot
    source = page.source
    if dpi:
        # the graph attribute dpi sets the PNG resolution, as -Gdpi would; the size cap
        # keeps the picture within the pixel limit, as core.drawing.render does
        inches = png_side_inches(dpi)
        source = source.replace("{", f'{{\n\tgraph [dpi={int(dpi)} size="{inches:g},{inches:g}"]',
                                1)
    return run_dot(source, fmt, timeout=PAGE_TIMEOUT, engine="neato", arguments=("-n2",),
                   cancel=cancel)


def _render_all(pages, fmt: str, dpi: int | None = None, cancel=None):
    """Draw the pages two at a time (each is a separate Graphviz process, and two keep a
    2-core machine busy without starving the rest of it), yielding each page's bytes in
    order as soon as it is drawn, so frames are written while later ones are drawn.

    The whole export stops with a :class:`LimitError` after :data:`MAX_EXPORT_SECONDS`,
    and with :class:`~core.drawing.render.Cancelled` as soon as ``cancel`` (a ``threading.Event``)
    is set; either way the Graphviz processes still running are killed."""
    import concurrent.futures
    import threading

    from core.drawing.render import Cancelled
    stop = threading.Event()  # kills the pages' Graphviz processes
    deadline = time.monotonic() + MAX_EXPORT_SECONDS

    def draw(page):
        if stop.is_set():
            raise Cancelled()
        return render_page(page, fmt, dpi, cancel=stop)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(draw, page) for page in pages]
        try:
            for number, future in enumerate(futures, start=1):
                while True:
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise LimitError(
                            f"exporting the steps took longer than {MAX_EXPORT_SECONDS:g} s, "
                            f"the limit (page {number:,} of {len(futures):,}); export fewer "
                            "steps (a shorter program) or a lower resolution")
                    try:
                        yield future.result(timeout=min(0.1, remaining))
                        break
                    except concurrent.futures.TimeoutError:
                        continue
        finally:
            stop.set()
            for future in futures:
                future.cancel()


def export_pdf(graph, trace, path, options=None, cancel=None) -> int:
    """Write every step as one page of a PDF at ``path``; returns the number of pages.
    Bounded by :data:`MAX_EXPORT_SECONDS`; ``cancel`` (a ``threading.Event``) stops it."""
    pdfs = list(_render_all(iter_pages(graph, trace, options), "pdf", cancel=cancel))
    _write(Path(path), merge_pdfs(pdfs))
    return len(pdfs)


def export_frames(graph, trace, directory, options=None, dpi: int = 150,
                  cancel=None) -> list[Path]:
    """Write ``step-001.png``, ``step-002.png``, ... into ``directory``; returns the paths.
    Each frame is within the PNG pixel limit (core.drawing.render.MAX_PNG_AREA; larger pages are
    scaled down); the export is bounded by :data:`MAX_EXPORT_SECONDS`; ``cancel`` (a
    ``threading.Event``) stops it."""
    if not trace.steps:
        raise _no_steps(trace)
    folder = frames_folder(directory, dpi)
    width = max(3, len(str(len(trace.steps))))
    paths = []
    pages = iter_pages(graph, trace, options)
    for index, png in enumerate(_render_all(pages, "png", dpi, cancel=cancel)):
        target = folder / f"step-{index + 1:0{width}d}.png"
        _write(target, png)
        paths.append(target)
    return paths


def frames_folder(directory, dpi) -> Path:
    """Check ``dpi`` and make the folder frames go into (one message for either problem)."""
    if not 10 <= int(dpi) <= 1200:
        raise ExpressionError("value", f"dpi must be between 10 and 1200, not {dpi}")
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ExpressionError("export", f"cannot make the folder {folder}: "
                              f"{err.strerror or err}") from None
    return folder


def _write(path: Path, data: bytes) -> None:
    # a wrong folder or a full disk is the user's to fix: a message, not a traceback, and
    # an existing file is replaced only by a complete one
    from core.safe_io import atomic_write
    atomic_write(path, data)


# --------------------------------------------------------------------------- PDF joining

_OBJ = re.compile(rb"(\d+)\s+(\d+)\s+obj\b")
_REF = re.compile(rb"(\d+)\s+0\s+R\b")


class PdfMergeError(ExpressionError):
    """A page PDF is not in the simple layout :func:`merge_pdfs` can join."""

    def __init__(self, message: str):
        super().__init__("render", message)


def merge_pdfs(documents: list[bytes]) -> bytes:
    """Join single- or multi-page PDFs (as Graphviz's cairo writer makes them) into one
    document, pages in order."""
    objects: list[bytes] = []  # new object n+1 at index n
    kids: list[int] = []
    pages_id_placeholder = b"__PAGES__"
    for doc in documents:
        table = _objects(doc)
        offset = len(objects)
        renumber = {old: offset + i + 1 for i, old in enumerate(sorted(table))}
        for old in sorted(table):
            body = table[old]
            head, stream = _split_stream(body)
            head = _REF.sub(lambda m, table=renumber: b"%d 0 R" % table.get(int(m.group(1)), 0),
                           head)
            if re.search(rb"/Type\s*/Page\b", head):
                head = re.sub(rb"/Parent\s+\d+\s+0\s+R", b"/Parent " + pages_id_placeholder +
                              b" 0 R", head)
                kids.append(renumber[old])
            objects.append(head + stream)
        # the old page tree and catalog stay as unused objects: harmless, and no byte of
        # any page changes meaning
    pages_id = len(objects) + 1
    catalog_id = pages_id + 1
    objects = [body.replace(pages_id_placeholder, str(pages_id).encode()) for body in objects]
    objects.append(b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                   + b"] /Count %d >>" % len(kids))
    objects.append(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body.strip() + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for position in offsets:
        out += b"%010d 00000 n \n" % position
    out += (b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, catalog_id, xref))
    return bytes(out)


def _objects(doc: bytes) -> dict[int, bytes]:
    """Object number -> the bytes between ``N 0 obj`` and ``endobj``, located through the
    classic cross-reference table (so stream data is never scanned for keywords)."""
    if b"/ObjStm" in doc or b"/XRef" in doc:
        raise PdfMergeError("this Graphviz writes PDFs with object streams, which the page "
                            "joiner cannot read; export PNG frames instead")
    start = doc.rfind(b"startxref")
    if start < 0:
        raise PdfMergeError("a page PDF from Graphviz has no cross-reference table")
    xref_at = int(doc[start + 9:].split()[0])
    if not doc[xref_at:].startswith(b"xref"):
        raise PdfMergeError("a page PDF from Graphviz has an unexpected layout")
    offsets: dict[int, int] = {}
    lines = doc[xref_at:].split(b"trailer")[0].split(b"\n")[1:]
    i = 0
    while i < len(lines):
        parts = lines[i].split()
        i += 1
        if len(parts) != 2:
            continue
        first, count = int(parts[0]), int(parts[1])
        for k in range(count):
            entry = lines[i + k].split()
            if len(entry) >= 3 and entry[2] == b"n":
                offsets[first + k] = int(entry[0])
        i += count
    table = {}
    for number, position in offsets.items():
        match = _OBJ.match(doc, position)
        if not match or int(match.group(1)) != number:
            raise PdfMergeError("a page PDF from Graphviz has a damaged cross-reference table")
        end = doc.rfind(b"endobj", position, _next_offset(offsets, position, xref_at))
        table[number] = doc[match.end():end]
    return table


def _next_offset(offsets: dict[int, int], position: int, limit: int) -> int:
    later = [p for p in offsets.values() if p > position]
    return min(later) if later else limit


def _split_stream(body: bytes) -> tuple[bytes, bytes]:
    """(dictionary part, ``stream ... endstream`` part) of an object; only the first is
    rewritten, so binary stream data stays byte for byte."""
    at = body.find(b"stream")
    if at < 0:
        return body, b""
    return body[:at], body[at:]

