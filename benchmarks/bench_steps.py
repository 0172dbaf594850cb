"""How long one step of the step-through takes to update (target: median at most 16 ms).

One update is what happens when the user presses Right: the trace's highlight spec is
computed, the step panel updates its list and arithmetic text and emits stepChanged, and
the graph view (gui.graph_view.GraphView) moves its highlight boxes; then Qt processes the
pending events (repaint). Measured on the seed's matrix example and on a 500-node graph.

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_steps.py
Writes benchmarks/RESULTS_steps.md.
"""
from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

if sys.version_info < (3, 12):
    # PySide6 6.12 returns None from every void method without a new reference, which on
    # Python 3.11 (None not yet immortal) drops None's refcount by one per call: the
    # benchmark's tens of thousands of calls would end in "deallocating None". Give None
    # enough references to survive the run (Python 3.12+ makes None immortal anyway).
    import ctypes
    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40

MATRIX = ("G1 = 3*W + torch.cos(Z)\nG2 = torch.matmul(W, W) + torch.sin(2*Z)\n"
          "F = torch.norm(torch.exp(G1) + torch.matmul(G1, G2), p=2)")
MATRIX_VARS = {"W": [[1.0, 0.5], [0.2, 0.1]], "Z": [[1.0, 0.5], [0.2, 0.1]]}


def chain_program(statements: int) -> str:
    """A chain y = sin(y*1.0001) (+ x every 10th line): 2 to 3 backward nodes per line."""
    lines = ["y = x"]
    for i in range(statements):
        lines.append("y = sin(y*1.0001) + x" if i % 10 == 9 else "y = sin(y*1.0001)")
    return "\n".join(lines)


def svg_and_ids(output):
    """torchviz's drawing of the graph as SVG, and DOT name -> SVG element id."""
    from torchviz import make_dot
    svg = make_dot(output).pipe(format="svg")
    ids = dict((name.decode(), element.decode()) for element, name in re.findall(
        rb'<g id="(node\d+)" class="node">\s*<title>([^<]+)</title>', svg))
    return svg, ids


def measure(label, text, values, repeats=3, cache_svg=False):
    """Median and worst time of one step update, over every step, ``repeats`` times."""
    from PySide6.QtWidgets import QApplication

    from core.evaluate import evaluate
    from core.language import parse
    from core.trace import record_steps
    from gui.step_panel import StepPanel

    app = QApplication.instance() or QApplication([])
    evaluation = evaluate(parse(text), values)
    started = time.perf_counter()
    trace = record_steps(evaluation)
    record_ms = (time.perf_counter() - started) * 1000
    steps = len(trace.steps)

    view = None
    try:
        from gui.graph_view import GraphView
        view = GraphView()
        view.resize(1000, 800)
        svg, ids = svg_and_ids(evaluation.output)
        view.show_svg(svg, ids)
        if cache_svg:
            # an experiment for the graph view: keep the drawing as a pixmap so a step
            # repaints only the highlight boxes over it
            from PySide6.QtWidgets import QGraphicsItem
            view.svg_item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        view.show()
    except ImportError:
        pass
    panel = StepPanel()
    panel.resize(420, 700)
    panel.show()
    if view is not None:
        panel.stepChanged.connect(lambda _i, h: view.set_highlight(h.current, h.done))
    panel.set_trace(trace)
    app.processEvents()

    spec_times, update_times, set_times, view_times = [], [], [], []
    if view is not None:
        for index in range(steps):
            h = trace.highlight(index)
            t0 = time.perf_counter()
            view.set_highlight(h.current, h.done)
            view_times.append(time.perf_counter() - t0)
    for _ in range(repeats):
        for index in range(steps):
            t0 = time.perf_counter()
            trace.highlight(index)
            spec_times.append(time.perf_counter() - t0)
        panel.set_step(0)
        app.processEvents()
        for index in list(range(1, steps)) + [0]:
            t0 = time.perf_counter()
            panel.set_step(index)
            t1 = time.perf_counter()
            app.processEvents()
            update_times.append(time.perf_counter() - t0)
            set_times.append(t1 - t0)
    nodes = len({s.node_id for s in trace.steps}) + len(trace.leaves) + 1
    return {
        "label": label, "steps": steps, "nodes": nodes, "record_ms": record_ms,
        "spec_median_ms": statistics.median(spec_times) * 1000,
        "update_median_ms": statistics.median(update_times) * 1000,
        "update_max_ms": max(update_times) * 1000,
        "set_step_median_ms": statistics.median(set_times) * 1000,
        "view_median_ms": statistics.median(view_times) * 1000 if view_times else float("nan"),
        "graph_view": view is not None,
    }


def main() -> int:
    chain = chain_program(220)
    results = [measure("seed matrix example", MATRIX, MATRIX_VARS),
               measure("chain, about 500 nodes", chain, {"x": 0.3}, repeats=2),
               measure("seed matrix example, SVG item cached (experiment)", MATRIX, MATRIX_VARS,
                       cache_svg=True),
               measure("chain, about 500 nodes, SVG item cached (experiment)", chain,
                       {"x": 0.3}, repeats=2, cache_svg=True)]
    lines = ["# Step-through update time", "",
             "One update = `Trace.highlight(i)` + `StepPanel.set_step(i)` (list, arithmetic "
             "text, stepChanged) + `GraphView.set_highlight(current, done)` + "
             "`QApplication.processEvents()`; every step of the trace, in order.", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work, "
             f"Python {platform.python_version()}, QT_QPA_PLATFORM="
             f"{os.environ.get('QT_QPA_PLATFORM')}.", "",
             "| graph | steps | graph nodes | record_steps (ms) | highlight spec median (ms) "
             "| GraphView.set_highlight alone, median (ms) | set_step incl. view, median (ms) "
             "| update incl. repaint, median (ms) | update max (ms) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['label']} | {r['steps']} | {r['nodes']} | {r['record_ms']:.1f} | "
                     f"{r['spec_median_ms']:.3f} | {r['view_median_ms']:.2f} | "
                     f"{r['set_step_median_ms']:.2f} | {r['update_median_ms']:.2f} | "
                     f"{r['update_max_ms']:.2f} |")
    lines += ["", "Target: median update at most 16 ms (issue 5). \"SVG item cached\" rows "
              "set `QGraphicsItem.DeviceCoordinateCache` on GraphView's SVG item from the "
              "benchmark (GraphView itself does not do this yet)."]
    text = "\n".join(lines) + "\n"
    Path(__file__).with_name("RESULTS_steps.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
