"""The step deck: 16:9 slides readable from the back of the room, handouts, quiz pages,
the title / forward / summary pages, measured from the PDF itself (poppler)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core.drawing.graph import build_graph
from core.evaluation.evaluate import evaluate
from core.language.parser import parse
from core.teaching import deck
from core.teaching.trace import record_steps

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                   reason="poppler-utils (pdftotext) is not installed")
EXAMPLES = json.loads((Path(__file__).parent.parent / "resources" / "examples.json")
                      .read_text(encoding="utf-8"))["examples"]
CHAIN = "g1 = 3*w + cos(z)\ng2 = w**2 + sin(2*z)\nf = exp(g1) + 3*g2"


def _example(prefix: str) -> dict:
    return next(e for e in EXAMPLES if e["title"].startswith(prefix))


def _run(text: str, values: dict, constants=()):
    variables = {k: {"value": v, "requires_grad": k not in constants} for k, v in values.items()}
    from core.language.values import VariableSpec
    specs = {k: VariableSpec(k, v["value"], v["requires_grad"]) for k, v in variables.items()}
    evaluation = evaluate(parse(text), specs)
    return evaluation, build_graph(evaluation), record_steps(evaluation)


def _words(pdf: Path) -> list[tuple[float, float, list[tuple[str, float]]]]:
    """Per page: (width, height, [(word, height of its box)])."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    pages = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out,
                            re.S):
        words = [(html_word, float(y1) - float(y0)) for y0, y1, html_word in re.findall(
            r'<word xMin="[\d.-]+" yMin="([\d.-]+)" xMax="[\d.-]+" yMax="([\d.-]+)">(.*?)</word>',
            page.group(3))]
        pages.append((float(page.group(1)), float(page.group(2)), words))
    return pages


def _chain_of(n: int) -> str:
    lines = ["x1 = sin(w)"] + [f"x{k} = sin(x{k - 1})" for k in range(2, n + 1)]
    return "\n".join(lines[:-1] + [lines[-1].replace(f"x{n} =", "f =")])


def _assert_readable(pdf: Path) -> int:
    pages = _words(pdf)
    assert pages
    smallest = 1.0
    for width, height, words in pages:
        assert width / height == pytest.approx(16 / 9, rel=1e-3)
        for _word, box in words:
            # a word's box is the font's ascent + descent, about 1.16 x its size in
            # DejaVu: the text is at least 20 px of 1080 when box/1.17 is
            smallest = min(smallest, box / 1.17 / height)
    assert smallest >= 20 / 1080, f"smallest text {smallest * 1080:.1f} px of 1080"
    return len(pages)


@needs_poppler
@pytest.mark.slow
def test_slides_of_a_40_step_chain_keep_every_text_20_px_high(tmp_path):
    evaluation, graph, trace = _run(_chain_of(40), {"w": 0.5})
    assert len(trace.steps) >= 40
    out = tmp_path / "chain.pdf"
    pages = deck.export_pdf(evaluation, graph, trace, out, check=False)
    assert _assert_readable(out) == pages


@needs_poppler
def test_slides_of_the_two_layer_example_keep_every_text_20_px_high(tmp_path):
    example = _example("Two-layer")
    evaluation, graph, trace = _run(example["expression"], example["vars"],
                                    example["constants"])
    out = tmp_path / "two-layer.pdf"
    deck.export_pdf(evaluation, graph, trace, out, explanation=example["explanation"])
    _assert_readable(out)


def test_svg_measure_agrees_the_graph_is_zoomed_to_readable_size():
    evaluation, graph, trace = _run(_chain_of(12), {"w": 0.5})
    svgs = deck.deck_svgs(evaluation, graph, trace, check=False)
    assert deck.min_text_height(svgs) >= 20 / 1080


@needs_poppler
def test_deck_pages_in_order_with_forward_arithmetic_and_a_checked_summary(tmp_path):
    evaluation, graph, trace = _run(CHAIN, {"w": 1.0, "z": 1.0})
    out = tmp_path / "deck.pdf"
    count = deck.export_pdf(evaluation, graph, trace, out)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout.split("\f")[:count]
    assert "Notation" in text[0] and "g1 = 3*w + cos(z)" in text[0]
    assert "3w = 3 × 1 = 3" in text[1]  # forward: each value with its arithmetic
    steps = [t for t in text if re.search(r"Step \d+ of 12", t)]
    assert len(steps) == 12
    assert "34.4773 × 3 = 103.432" in " ".join(steps[10].split())
    summary = text[-1]
    assert "∂f/∂w = 109.432" in summary and "∂f/∂z = −31.5086" in summary
    assert summary.count("agrees with autograd") == 2


def test_one_path_leaves_are_merged_into_the_step_that_sent_their_gradient():
    evaluation, graph, trace = _run("f = sum(A @ B)", {"A": [[1.0, 2.0, 3.0]],
                                                       "B": [[1.0], [0.0], [2.0]]})
    merged = deck.merged_steps(trace)
    assert {trace.steps[i].op for i in merged} == {"AccumulateGrad"} and len(merged) == 2
    pages = deck.plan(evaluation, trace, check=False)
    steps = [p for p in pages if p.kind == "step"]
    assert len(steps) == len(trace.steps) - 2
    mm = next(p for p in steps if "A @ B" in p.title and "MmBackward0" in p.subtitle)
    assert any(line.text.startswith("A.grad = ∂f/∂A = [[1, 0, 2]]") for line in mm.lines)


def test_quiz_hides_what_a_step_sends_then_reveals_it():
    evaluation, graph, trace = _run(CHAIN, {"w": 1.0, "z": 1.0})
    pages = deck.plan(evaluation, trace, quiz=True, check=False)
    predict = [p for p in pages if p.kind == "predict"]
    reveal = [p for p in pages if p.kind == "step"]
    assert len(predict) == len(reveal) == 12
    k = pages.index(predict[10])
    hidden, shown = pages[k], pages[k + 1]
    assert shown.kind == "step" and hidden.title == shown.title
    assert any(line.text.endswith("= ?") for line in hidden.lines)
    assert not any("103.432" in line.text for line in hidden.lines)
    assert any("103.432" in line.text for line in shown.lines)
    # the edge labels of this step appear only on the reveal
    assert set(shown.highlight.edge_labels) - set(hidden.highlight.edge_labels)


@needs_poppler
def test_handouts_are_portrait(tmp_path):
    evaluation, graph, trace = _run(CHAIN, {"w": 1.0, "z": 1.0})
    out = tmp_path / "handout.pdf"
    deck.export_pdf(evaluation, graph, trace, out, layout="handout", check=False)
    width, height, _ = _words(out)[0]
    assert height > width


def test_frames_follow_the_same_layout(tmp_path):
    evaluation, graph, trace = _run("f = sin(w) * w", {"w": 0.5})
    paths = deck.export_frames(evaluation, graph, trace, tmp_path, check=False)
    from PIL import Image
    with Image.open(paths[0]) as image:
        assert image.size == (1920, 1080)
    assert len(paths) == len(deck.deck_svgs(evaluation, graph, trace, check=False))


def test_the_softmax_example_shows_its_headline_result():
    example = _example("Softmax cross-entropy")
    evaluation, graph, trace = _run(example["expression"], example["vars"],
                                    example["constants"])
    pages = deck.plan(evaluation, trace, check=False,
                      **{k: v for k, v in deck.deck_options(example["expression"]).items()
                         if k == "headline"})
    import torch
    z = torch.tensor(example["vars"]["z"], dtype=torch.float64)
    target = torch.tensor(example["vars"]["target"], dtype=torch.float64)
    expected = torch.softmax(z, 0) - target
    from core.teaching.rules import fmt
    for page in (pages[-1], next(p for p in pages if p.kind == "step" and any(
            "headline" in line.text for line in p.lines))):
        text = "\n".join(line.text for line in page.lines)
        assert "∂loss/∂z = softmax(z) − target" in text
        assert f"= {fmt(expected)}" in text and "the same as the backward pass" in text


def test_a_deck_too_long_to_read_is_refused_with_one_message(monkeypatch):
    from core.errors import LimitError
    evaluation, graph, trace = _run(_chain_of(12), {"w": 0.5})
    monkeypatch.setattr(deck, "MAX_PAGES", 10)
    with pytest.raises(LimitError, match="pages; the limit is 10"):
        deck.deck_svgs(evaluation, graph, trace, check=False)


def _word_boxes(pdf: Path) -> list[tuple[float, float, list[tuple[str, tuple]]]]:
    """Per page: (width, height, [(word, (x0, y0, x1, y1))])."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout
    pages = []
    for page in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out,
                            re.S):
        words = [(w, (float(a), float(b), float(c), float(d))) for a, b, c, d, w in re.findall(
            r'<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">'
            r'(.*?)</word>', page.group(3))]
        pages.append((float(page.group(1)), float(page.group(2)), words))
    return pages


@needs_poppler
@pytest.mark.parametrize("prefix", ["Chain rule", "Two-layer", "Matrices"])
def test_no_word_of_the_zoomed_graph_is_cut_by_the_edge_of_its_view(tmp_path, prefix):
    # the zoomed graph is wider than its view: a node the view's edge would cut is drawn
    # faint without its words, so every word is whole, inside the page and the view
    example = _example(prefix)
    evaluation, graph, trace = _run(example["expression"], example["vars"],
                                    example["constants"])
    out = tmp_path / "deck.pdf"
    deck.export_pdf(evaluation, graph, trace, out, check=False)
    width, height = deck.PAGE["slides"]
    checked = 0
    for page_w, page_h, words in _word_boxes(out):
        scale = page_w / width  # pdftotext's units are the page's points
        left, right = 28 * scale, (width * 0.52 - 10) * scale
        if not words or words[0][0] not in ("Forward", "Step"):
            continue  # the title and summary pages have no zoomed graph
        top = (28 + 24 + 12 * 2.4) * scale  # the view starts under the title
        for word, (x0, y0, x1, y1) in words:
            assert 0 <= x0 and x1 <= page_w and 0 <= y0 and y1 <= page_h, word
            for edge in (left, right) if y0 >= top else ():
                assert not x0 < edge - 0.5 < x1 - 1, (word, edge, x0, x1)
            checked += 1
    assert checked > 100


def test_a_grid_is_never_split_between_pages():
    # the chain line and its matrices stay together: a block that does not fit whole
    # moves to the next page instead of leaving its last row (the shapes) behind
    import torch

    from core.teaching.step_text import Line, grid

    sizes = deck.SIZES["slides"]
    block = [Line("math", "∂f/∂Y += ∂f/∂(Y * Y) · ∂(Y * Y)/∂Y₁"),
             Line("grid", grid(["=", torch.ones(2, 2), "⊙", torch.eye(2), "=", torch.eye(2)]))]
    rows = deck._layout_lines([Line("text", "before")] + block, 400, sizes)
    height = deck.rows_height(rows)
    canvas = deck._Canvas(960, 540)
    # room for all but the last row: only the line before the block is drawn
    drawn = deck._draw_lines(canvas, rows, 0, 0, 400, height - 1)
    assert drawn == 1
    assert deck._draw_lines(canvas, rows, 0, 0, 400, height) == len(rows)


def test_a_step_that_fits_without_the_map_takes_its_room():
    # Y * Y's step (two 2×2 terms) fits on one slide when the map gives way
    example = _example("Matrix product")
    evaluation, graph, trace = _run(example["expression"], example["vars"],
                                    example["constants"])
    svgs = deck.deck_svgs(evaluation, graph, trace, check=False)
    titles = [re.search(r">(Step \d+ of \d+: [^<]*)<", s.replace("\u00a0", " "))
              for s in svgs]
    titles = [t.group(1) for t in titles if t]
    step = next(t for t in titles if t.endswith("Y * Y") and t.startswith("Step"))
    assert step + " (continued)" not in titles
