"""The Check panel, step exports, copy-node highlights and pasted-cell notes in the window,
driven as a user would (issues 4, 5 and 6)."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from gui import step_files
from gui.examples import startup_example
from tests.gui.conftest import TIMEOUT, compute_and_draw

ROOT = Path(__file__).resolve().parents[2]
SEED = json.loads((ROOT / "tests/data/seed_examples.json").read_text())["examples"]
CHAIN_RULE = next(e for e in SEED if e["title"].startswith("Chain rule"))
MATRICES = next(e for e in SEED if e["title"].startswith("Matrices"))


def _show(qtbot, window):
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)


def _show_check_tab(qtbot, window):
    """Bring the Check tab up and wait for the check it starts."""
    with qtbot.waitSignal(window.checker.checked, timeout=TIMEOUT) as blocker:
        window.check_dock.raise_()
    return blocker.args[0]


# ------------------------------------------------------------------ Check panel (issue 6)

def test_check_panel_agrees_with_mathematica_on_the_seed_chain_rule(qtbot, window):
    _show(qtbot, window)
    example = startup_example()
    assert example.expression == CHAIN_RULE["expression"]
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.load_example(example)
    report = _show_check_tab(qtbot, window)
    panel = window.check_panel
    assert panel.report is report
    assert panel.verdicts() == ["agree", "agree"]
    mathematica = CHAIN_RULE["reference"]["gradients"]
    for row in report.rows:
        fd, sym, ref = row.comparisons
        exact = mathematica[row.label]
        # the reference column is the example's Mathematica value, passed through unchanged
        assert ref.value == pytest.approx(exact, rel=1e-15)
        # finite differences and SymPy (float64, computed without autograd) hit Mathematica
        assert fd.value == pytest.approx(exact, rel=1e-7)
        assert sym.value == pytest.approx(exact, rel=1e-12)
        # autograd ran in float32: right to float32's precision, not beyond
        assert row.autograd == pytest.approx(exact, rel=1e-6)
    # what the user reads in the table is the same numbers
    col = {panel.table.horizontalHeaderItem(c).text(): c for c in range(3)}
    # the verdict is in sight without scrolling the narrow dock sideways
    verdict = panel.table.visualRect(panel.table.model().index(0, col["verdict"]))
    assert panel.table.viewport().rect().contains(verdict)
    w_row = [r.label for r in report.rows].index("w")
    shown = float(panel.table.item(w_row, col["autograd"]).text())
    assert shown == pytest.approx(mathematica["w"], rel=1e-6)


def test_check_runs_only_when_the_tab_shows_and_drops_the_reference_after_edits(qtbot, window):
    _show(qtbot, window)
    window.details_dock.raise_()
    qtbot.waitUntil(lambda: not window.checker.showing)
    compute_and_draw(qtbot, window, MATRICES["expression"], {
        "W": json.dumps(MATRICES["vars"]["W"]), "Z": json.dumps(MATRICES["vars"]["Z"])})
    assert window.check_panel.report is None  # nothing checked while hidden
    report = _show_check_tab(qtbot, window)
    assert len(report.rows) == 8 and set(window.check_panel.verdicts()) == {"agree"}
    # typed by hand (not loaded as an example): no reference column values
    assert all(row.comparisons[2].value is None for row in report.rows)
    mathematica = MATRICES["reference"]["gradients"]
    for row in report.rows:
        name, i, j = re.fullmatch(r"(\w)\[(\d),(\d)\]", row.label).groups()
        # Mathematica's numbers have 6 significant digits
        assert row.comparisons[1].value == pytest.approx(mathematica[name][int(i)][int(j)],
                                                         rel=5e-6)
    # a new compute while the tab shows is checked again at once
    with qtbot.waitSignal(window.checker.checked, timeout=TIMEOUT):
        compute_and_draw(qtbot, window, "f = w * w", {"w": 3})
    assert window.check_panel.report.rows[0].autograd == 6.0


def test_check_panel_points_at_the_first_nan_in_the_drawn_graph(qtbot, window):
    _show(qtbot, window)
    compute_and_draw(qtbot, window, "y = sqrt(x) * 2", {"x": 0})
    report = _show_check_tab(qtbot, window)
    assert report.nonfinite is not None
    assert window.check_panel.origin_box.isVisible()
    with qtbot.waitSignal(window.check_panel.highlightRequested):
        window.check_panel.show_origin.click()
    sqrt_node = next(k for k, d in window.drawing.details.items() if d["op"] == "SqrtBackward0")
    assert window.graph.highlighted() == {sqrt_node: "problem"}


# ------------------------------------------------------------------ step exports (issue 5)

def test_steps_export_as_pdf_is_the_slide_deck(qtbot, window, tmp_path):
    result = compute_and_draw(qtbot, window, CHAIN_RULE["expression"], {"w": 1, "z": 1})
    steps = len(result.trace.steps)
    assert steps == 12  # the engine's listing in DESIGN.md: 12 nodes run
    path = tmp_path / "steps.pdf"
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT * 2) as done:
        step_files.export_steps_pdf(window, str(path))
    assert done.args == [str(path)]
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    # title, 10 forward values, 12 steps (w and z each take two paths), summary
    assert pages == 1 + 10 + steps + 1
    width, height = (float(v) for v in re.search(r"Page size:\s+([\d.]+) x ([\d.]+)",
                                                   info.stdout).groups())
    assert width / height == pytest.approx(16 / 9, rel=1e-3)  # slides by default
    # the 14th page is the third backward step, ExpBackward0, as the engine ran it
    text = subprocess.run(["pdftotext", "-f", "14", "-l", "14", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "Step 3 of 12" in text and "ExpBackward0" in text
    # the built-in example's own title and explanation are on the first page
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert "Chain rule" in first and "multivariate" in first


def test_steps_export_as_frames_writes_one_png_per_step(qtbot, window, tmp_path):
    result = compute_and_draw(qtbot, window, "y = exp(x) * x", {"x": 1})
    folder = tmp_path / "frames"
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT * 2):
        step_files.export_steps_frames(window, str(folder), dpi=72)
    files = sorted(folder.iterdir())
    # title, 2 forward values, the steps (x takes two paths: its leaf keeps a page), summary
    assert [f.name for f in files] == [f"page-{i:03d}.png" for i in
                                       range(1, 2 + 2 + len(result.trace.steps) + 1)]
    for f in files:
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_steps_export_without_steps_says_why(qtbot, window, tmp_path):
    compute_and_draw(qtbot, window, "y = x * 2", {"x": 1}, grads={"x": False})
    assert step_files.export_steps_pdf(window, str(tmp_path / "none.pdf")) is None
    assert "No backward steps" in window.statusBar().currentMessage()
    assert not (tmp_path / "none.pdf").exists()


# ------------------------------------------------------------------ copies (issue 5)

def _shared_leaf_chain(lines: int) -> str:
    out = ["y = x"]
    out += ["y = sin(y*1.0001) + x" for _ in range(lines)]
    return "\n".join(out)


def test_highlighting_a_shared_leaf_boxes_every_copy(qtbot, window):
    compute_and_draw(qtbot, window, _shared_leaf_chain(40), {"x": 0.3})
    svg = window.drawing.svg.decode()
    # x feeds every line: its AccumulateGrad node is drawn once per consumer
    leaf = next(k for k, d in window.drawing.details.items() if d["op"] == "AccumulateGrad")
    # the copies, read straight from Graphviz's SVG titles
    copies = set(re.findall(rf"<title>({leaf}_copy\d+)</title>", svg))
    assert len(copies) >= 4, "the large-graph layout should draw the shared leaf as copies"
    window.graph.set_highlight({leaf}, set())
    shown = window.graph.highlighted()
    assert set(shown) == copies | ({leaf} if f"<title>{leaf}</title>" in svg else set())
    assert set(shown.values()) == {"current"}
    for item in window.graph._overlays:
        assert item.sceneBoundingRect().contains(window.graph.node_scene_rect(item.data(0)))
    # a step moving on hides the copies' boxes again, and only those
    window.graph.set_highlight(set(), {leaf})
    assert set(window.graph.highlighted().values()) == {"done"}
    window.graph.clear_highlight()
    assert window.graph.highlighted() == {}


def test_clicking_a_copy_shows_the_shared_node(qtbot, window):
    compute_and_draw(qtbot, window, _shared_leaf_chain(40), {"x": 0.3})
    # x feeds every line: its AccumulateGrad node is drawn once per consumer
    leaf = next(k for k, d in window.drawing.details.items() if d["op"] == "AccumulateGrad")
    copy = next(n for n in window.graph.node_rects if n.startswith(leaf + "_copy"))
    window.graph.click_at(window.graph.node_scene_rect(copy).center())
    assert window.details.details["name"] == "x"
    # the blue outline goes round every copy
    assert len(window.graph._selected) == len(window.graph.dot_names(leaf)) > 1


# ------------------------------------------------------------------ notes and warnings

SEED_CELL = """w = torch.ones(1, requires_grad=True)   #  w.requires_grad = True
z = torch.ones(1, requires_grad=True)   #  z.requires_grad = False
f = w + 2*z     #  total.requires_grad = True
f.backward()
print("[dw,dz] = [{}, {}]".format(w.grad.item(),z.grad.item()))"""


def test_pasted_seed_cell_says_what_was_set_aside(qtbot, window):
    _show(qtbot, window)
    result = compute_and_draw(qtbot, window, SEED_CELL)
    label = window.notes_label
    assert label.isVisible()
    assert "print(...)" in label.text() and "set aside" in label.text()
    assert "line 5" in label.text()
    assert result.notes and result.quantity("z").grad == [2.0]  # In [19]: [1.0, 2.0]
    # a plain expression has nothing to say
    window.editor.set_text("f = w + 2*z")
    window.on_text_changed()
    assert not label.isVisible()


def test_nan_warning_is_visible(qtbot, window):
    _show(qtbot, window)
    result = compute_and_draw(qtbot, window, "y = log(x) * x", {"x": 0})
    assert str(result.quantity("x").grad).lower() == "nan"  # 0 * (1/0): NaN
    notice = window.results.notice
    assert notice.isVisible() and "NaN" in notice.text()


# ------------------------------------------------------------------ crisp pixmap (issue 5)

def test_graph_pixmap_is_rendered_again_at_the_new_zoom(qtbot, window):
    _show(qtbot, window)
    compute_and_draw(qtbot, window, "f = exp(w) * w", {"w": 1})
    graph = window.graph
    bounds = graph.svg_item.boundingRect()

    def pixmap_matches_zoom():
        scale = graph.scale_factor() * graph.devicePixelRatioF()
        return (graph.pixmap_item.isVisible() and not graph.svg_item.isVisible()
                and abs(graph.pixmap_scale - scale) < 1e-9
                and abs(graph.pixmap_item.pixmap().width() - bounds.width() * scale) <= 1)

    assert pixmap_matches_zoom()
    graph.zoom_in()
    graph.zoom_in()
    qtbot.waitUntil(pixmap_matches_zoom, timeout=TIMEOUT)
    # the pixmap covers exactly the drawing, so node boxes still sit on their nodes
    assert graph.pixmap_item.sceneBoundingRect().adjusted(-1, -1, 1, 1).contains(
        graph.svg_item.sceneBoundingRect())


def test_cancel_stops_a_long_layout_without_an_error(window, qtbot, monkeypatch):
    """Cancel (Esc) during a drawing reaches Graphviz: the worker's cancel event is passed
    down to core.drawing.render.run_dot, the job ends, no error is shown, the old drawing stays."""
    import threading

    from core.drawing import render

    compute_and_draw(qtbot, window, "f = w * 2", {"w": 1.0})
    before = window.drawing
    started = threading.Event()
    seen = {}

    def layout_until_cancelled(source, fmt, timeout=None, nodes=None, engine="dot",
                               arguments=(), cancel=None):
        seen["cancel"] = cancel
        started.set()
        assert cancel is not None and cancel.wait(30), "the cancel event never came"
        raise render.Cancelled()

    monkeypatch.setattr(render, "run_dot", layout_until_cancelled)
    errors = []
    window.render_jobs.errored.connect(errors.append)
    window.draw_graph()
    qtbot.waitUntil(started.is_set, timeout=TIMEOUT)
    window.render_jobs.cancel()
    assert window.wait_for_workers(TIMEOUT)
    qtbot.wait(50)  # let queued signals arrive, if any were (wrongly) sent
    assert seen["cancel"].is_set()
    assert errors == [] and window.drawing is before
