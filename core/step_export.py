"""Export a recorded backward pass for teaching: a multi-page PDF (one page per step) and
numbered PNG frames.

Each page is the backward graph drawn by :mod:`core.render` with the step's highlight
(current node, finished nodes, the gradient on every edge it has crossed) and, under it,
the step's arithmetic as the graph's caption. Graphviz draws every page.

Joining the pages: Graphviz's cairo PDF writer emits one document per graph, and the other
routes to a multi-page PDF need a new dependency (pypdf) or a program the user may not have
(Ghostscript for ``-Tps2``). Graphviz's PDFs are small and regular (a classic cross-reference
table, plain ``N 0 obj`` objects), so :func:`merge_pdfs` joins them in pure Python: renumber
each file's objects, point its pages at one new page tree, and write a fresh cross-reference
table. Files in another layout (object streams) are refused with a clear error rather than
joined badly.
"""
from __future__ import annotations

import re
from pathlib import Path

from core.errors import ExpressionError

#: seconds Graphviz may spend on one page
PAGE_TIMEOUT = 60.0


def caption(trace, index: int) -> str:
    """The text under page ``index``: which step, what it computes, and its numbers."""
    step = trace.steps[index]
    lines = [f"Step {index + 1} of {len(trace.steps)}: {step.op}"
             + (f"   {step.expression}" if step.expression else "")]
    if step.grad_in:
        from core.rules import fmt
        lines.append(f"gradient in: {fmt(step.grad_in[0])}")
    lines.extend(step.rule.text.splitlines())
    if len(step.contributions) > 1 and not step.leaf_id:
        from core.rules import fmt
        terms = " + ".join(fmt(c.value) for c in step.contributions)
        lines.append(f"paths into this node: {terms} = {fmt(step.grad_in[0])}")
    return "\n".join(lines)


def page_digraphs(graph, trace, options=None) -> list:
    """One ``graphviz.Digraph`` per step: the graph with the step's highlight and caption."""
    from dataclasses import replace

    from core.render import Highlight, RenderOptions, to_digraph

    # values only on the nodes: the gradients appear on the edges as the steps compute
    # them, so a page does not give away the answer before its step
    base = options or RenderOptions(theme="print", annotate="values")
    pages = []
    for index in range(len(trace.steps)):
        spec = trace.highlight(index)
        highlight = Highlight(current=set(spec.current), done=set(spec.done),
                              edge_labels=dict(spec.edge_labels))
        digraph = to_digraph(graph, replace(base, highlight=highlight))
        # "\l" ends a left-justified line in Graphviz labels
        text = caption(trace, index).replace("\\", "\\\\")
        digraph.attr(label="\\l".join(text.splitlines()) + "\\l", labelloc="b",
                     labeljust="l", fontname="monospace", fontsize="11")
        pages.append(digraph)
    return pages


def _dot(source: str, fmt: str, dpi: int | None = None) -> bytes:
    """Run Graphviz on one page through core.render (same time limit and error messages)."""
    from core.render import run_dot
    if dpi:
        # the graph attribute dpi sets the PNG resolution, as -Gdpi would
        source = source.replace("{", f"{{\n\tgraph [dpi={dpi}]", 1)
    return run_dot(source, fmt, timeout=PAGE_TIMEOUT)


def export_pdf(graph, trace, path, options=None) -> int:
    """Write every step as one page of a PDF at ``path``; returns the number of pages."""
    if not trace.steps:
        raise ExpressionError("output", "there are no backward steps to export: the output "
                              "does not depend on any input that needs a gradient")
    pdfs = [_dot(page.source, "pdf") for page in page_digraphs(graph, trace, options)]
    Path(path).write_bytes(merge_pdfs(pdfs))
    return len(pdfs)


def export_frames(graph, trace, directory, options=None, dpi: int = 150) -> list[Path]:
    """Write ``step-001.png``, ``step-002.png``, ... into ``directory``; returns the paths."""
    if not trace.steps:
        raise ExpressionError("output", "there are no backward steps to export: the output "
                              "does not depend on any input that needs a gradient")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(len(trace.steps))))
    paths = []
    for index, page in enumerate(page_digraphs(graph, trace, options)):
        target = folder / f"step-{index + 1:0{width}d}.png"
        target.write_bytes(_dot(page.source, "png", dpi))
        paths.append(target)
    return paths


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

