"""Step-by-step PDF and PNG frames: the graph stands still from page to page.

The references are independent of the code that pins the layout: Graphviz's own SVG of
each page (where it drew every node and edge), poppler's reading of the PDF (page sizes,
and where the words of the node labels sit), and the PNG headers.
"""
from __future__ import annotations

import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ElementTree

import pytest

from core.drawing.graph import build_graph
from core.drawing.pinned_layout import PinnedLayout, parse_json
from core.errors import ExpressionError
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.teaching.step_export import export_frames, export_pdf, page_digraphs, render_page
from core.teaching.trace import record_steps

CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"
SVG = "{http://www.w3.org/2000/svg}"

needs_dot = pytest.mark.skipif(shutil.which("dot") is None or shutil.which("neato") is None,
                               reason="needs Graphviz dot and neato")
needs_poppler = pytest.mark.skipif(shutil.which("pdfinfo") is None
                                   or shutil.which("pdftotext") is None,
                                   reason="needs poppler's pdfinfo and pdftotext")


def _setup(text, **values):
    evaluation = evaluate(parse(text), values)
    return build_graph(evaluation), record_steps(evaluation)


def _geometry(svg: bytes) -> tuple[dict, dict]:
    """Where Graphviz drew each node (its shape's points) and each edge (its path), read
    from the SVG it wrote; the page's heading is left out, it is meant to change."""
    root = ElementTree.fromstring(svg)
    nodes, edges = {}, {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title").text if group.find(f"{SVG}title") is not None else ""
        if group.get("class") == "node" and not title.startswith("__"):
            shape = group.find(f"{SVG}polygon")
            nodes[title] = shape.get("points")
        elif group.get("class") == "edge":
            k = sum(1 for key in edges if key[0] == title) + 1
            edges[title, k] = group.find(f"{SVG}path").get("d")
    return nodes, edges


def _edge_texts(svg: bytes) -> list[str]:
    root = ElementTree.fromstring(svg)
    return sorted(text.text.strip() for group in root.iter(f"{SVG}g")
                  if group.get("class") == "edge" for text in group.iter(f"{SVG}text"))


@needs_dot
@pytest.mark.parametrize("text, values", [
    (CHAIN, {"w": 1.0, "z": 1.0}),
    ("f = w * w + sin(w)", {"w": 0.5}),             # two edges between the same nodes
    ("f = sum(a @ x)", {"a": [[1.0, 2.0], [3.0, 4.0]], "x": [[1.0], [2.0]]}),
])
def test_nodes_and_edges_stand_still_on_every_page(text, values):
    graph, trace = _setup(text, **values)
    svgs = [render_page(page, "svg") for page in page_digraphs(graph, trace)]
    first_nodes, first_edges = _geometry(svgs[0])
    assert set(first_nodes) == set(graph.nodes)
    assert len(first_edges) == len(graph.edges)
    for index, svg in enumerate(svgs[1:], start=2):
        nodes, edges = _geometry(svg)
        assert nodes == first_nodes, f"a node moved on page {index}"
        assert edges == first_edges, f"an edge moved on page {index}"
        # the whole drawing has the same size: nothing outside the graph grew either
        assert re.search(rb'viewBox="[^"]*"', svg).group() == \
            re.search(rb'viewBox="[^"]*"', svgs[0]).group()


@needs_dot
def test_each_page_shows_exactly_the_gradients_computed_so_far():
    graph, trace = _setup(CHAIN, w=1.0, z=1.0)
    for index, page in enumerate(page_digraphs(graph, trace)):
        expected = sorted(trace.highlight(index).edge_labels.values())
        assert _edge_texts(render_page(page, "svg")) == expected
    # the last page carries every gradient: each edge into the leaves' AccumulateGrad
    # and the seed's numbers (Mathematica: df/dw = 109.432, df/dz = -31.5086)
    last = _edge_texts(render_page(page_digraphs(graph, trace)[-1], "svg"))
    assert "109.432" in last and "−31.5086" in last and "103.432" in last


@needs_dot
def test_large_graph_with_copied_leaf_stands_still():
    # 50 ops reusing x: over 60 nodes, so core.drawing.render draws copies of x beside each use
    text = "y = x\n" + "y = sin(y * 1.0001) + x\n" * 25
    graph, trace = _setup(text, x=0.3)
    pages = page_digraphs(graph, trace)
    first = _geometry(render_page(pages[0], "svg"))
    assert any("_copy" in name for name in first[0])
    for page in (pages[len(pages) // 2], pages[-1]):
        assert _geometry(render_page(page, "svg")) == first


# --------------------------------------------------------------------------- the PDF


def _pdf_pages(path) -> list[tuple[str, str]]:
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(path)], capture_output=True,
                          text=True, check=True).stdout
    return re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)


def _words(path) -> list[list[tuple[str, str, str]]]:
    """Per page, (word, xMin, yMin) as poppler reads them from the PDF."""
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    pages = []
    for page in out.split("<page ")[1:]:
        pages.append(re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>',
                                page))
    return [[(w, x, y) for x, y, w in page] for page in pages]


@needs_dot
@needs_poppler
def test_pdf_pages_have_one_size_and_node_text_stays_put(tmp_path):
    graph, trace = _setup(CHAIN, w=1.0, z=1.0)
    out = tmp_path / "steps.pdf"
    assert export_pdf(graph, trace, out) == 12
    sizes = _pdf_pages(out)
    assert len(sizes) == 12 and len(set(sizes)) == 1
    pages = _words(out)
    # "value" starts the value line of every node but the AccumulateGrads: 12 of them,
    # drawn at the same place on every page
    values = [sorted((x, y) for w, x, y in page if w == "value") for page in pages]
    assert len(values[0]) == sum(1 for n in graph.nodes.values()
                                 if n.value is not None and n.op != "AccumulateGrad")
    assert all(v == values[0] for v in values)
    # the heading: step, rule in words, the arithmetic
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout.split("\f")
    assert "Step 3 of 12: exp(g1)" in text[2] and "∂exp(g1)/∂g1 = exp(g1)" in text[2]
    page = text[2].replace("\n", " ")
    assert "∂f/∂g1 += ∂f/∂exp(g1) · ∂exp(g1)/∂g1 = 1 × 34.4773 = 34.4773" in page
    assert "Step 12 of 12: w collects its gradient" in text[11]
    assert "w.grad = 6 + 103.432 = 109.432" in text[11]


@needs_dot
def test_png_frames_have_one_size(tmp_path):
    graph, trace = _setup(CHAIN, w=1.0, z=1.0)
    paths = export_frames(graph, trace, tmp_path, dpi=40)
    assert [p.name for p in paths] == [f"step-{i:03d}.png" for i in range(1, 13)]
    sizes = set()
    for path in paths:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
        sizes.add(struct.unpack(">II", data[16:24]))
    assert len(sizes) == 1
    width, _ = sizes.pop()
    # 40 dpi: the drawing is a few hundred pixels wide, not scaled to a thumbnail or blown up
    assert 200 < width < 800


# --------------------------------------------------------------------------- small parts


def test_parse_json_keeps_positions_and_counts_repeated_edges():
    data = b"""{"bb": "0,0,100,200", "objects": [
        {"_gvid": 0, "name": "a", "pos": "50,180", "width": "0.75", "height": "0.5"},
        {"_gvid": 1, "name": "b", "pos": "50,20", "width": "1", "height": "0.5"}],
      "edges": [
        {"_gvid": 1, "tail": 0, "head": 1, "pos": "e,52,38 52,160", "lp": "60,100"},
        {"_gvid": 0, "tail": 0, "head": 1, "pos": "e,48,38 48,160"}]}"""
    layout = parse_json(data)
    assert layout.bb == (0, 0, 100, 200)
    assert layout.node_attrs("b") == {"pos": "50,20", "width": "1", "height": "0.5"}
    assert layout.edge_attrs("a", "b", 1, labelled=True) == {"pos": "e,48,38 48,160"}
    assert layout.edge_attrs("a", "b", 2, labelled=True) == {"pos": "e,52,38 52,160",
                                                             "lp": "60,100"}
    assert layout.edge_attrs("a", "b", 2, labelled=False) == {"pos": "e,52,38 52,160"}


def test_a_graph_that_changed_since_its_layout_is_a_clear_error():
    with pytest.raises(ExpressionError, match="changed after it was laid out"):
        PinnedLayout().node_attrs("42")
    with pytest.raises(ExpressionError, match="changed after it was laid out"):
        PinnedLayout().edge_attrs("1", "2", 1, labelled=False)


def test_nothing_to_step_through_is_a_clear_error(tmp_path):
    graph, trace = _setup("f = w * 2", w=1.0)
    trace.steps.clear()
    with pytest.raises(ExpressionError, match="no backward steps"):
        export_pdf(graph, trace, tmp_path / "x.pdf")


def test_long_sums_wrap_and_keep_their_result():
    from core.teaching.rules import fmt
    from core.teaching.step_export import WRAP_CHARS, WRAP_LINES, _wrap, caption

    graph, trace = _setup("y = x\n" + "y = sin(y * 1.0001) + x\n" * 25, x=0.3)
    leaf = next(i for i, step in enumerate(trace.steps) if step.leaf_id)
    lines = caption(trace, leaf).splitlines()
    assert all(len(line) <= WRAP_CHARS for line in lines[1:])
    assert lines[-1].endswith("= " + fmt(trace.leaves["x"].total))
    # a hundred-term sum: at most WRAP_LINES lines, the start and the result kept
    long = "x.grad = " + " + ".join(["0.123456"] * 100) + " = 12.3456"
    parts = _wrap(long)
    assert len(parts) == WRAP_LINES
    assert parts[0].startswith("x.grad = 0.123456") and parts[-1].endswith("= 12.3456")
