"""Benchmark of the Train tab's plots (pyqtgraph): one loss-curve redraw.

    .venv/bin/python benchmarks/bench_train_plot.py [--runs 200]

Two measurements, for loss histories of 20, 1,000 and 10,000 steps (MAX_TRAIN_STEPS), in an
offscreen window:

* loss-curve redraw: ``setData`` on the loss curve, then its plot's viewport repainted
  synchronously (``repaint()``), so the time includes pyqtgraph's drawing, not only its
  bookkeeping. The goal stated in issue 15: under 16 ms (one frame at 60 Hz).
* whole update after a step (``TrainView.plot_state``: loss and parameter curves and the
  text line above them), then both plots repainted: for information.

Writes ``benchmarks/RESULTS_train_plot.md``.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def measure(runs: int) -> dict[int, list[float]]:
    """Milliseconds per redraw, by history length."""
    from PySide6.QtWidgets import QApplication

    from gui.train_view import TrainState, TrainView

    app = QApplication.instance() or QApplication([])
    view = TrainView()
    view.make_plots()
    view.resize(700, 800)
    view.show()
    app.processEvents()
    for label in ("w", "b"):
        view.param_curves[label] = view.param_plot.plot([], [], name=label)
    import numpy as np

    results = {}
    for steps in (20, 1_000, 10_000):
        curve, whole = [], []
        for run in range(runs):
            loss = [40.0 * math.exp(-k / 50) + 0.01 * run for k in range(steps)]
            start = time.perf_counter()
            view.loss_curve.setData(np.arange(1, steps + 1), np.asarray(loss))
            view.loss_plot.viewport().repaint()
            curve.append((time.perf_counter() - start) * 1000)
            state = TrainState("loss", loss, {"w": [k / steps for k in range(steps + 1)],
                                              "b": [1 - k / steps for k in range(steps + 1)]},
                               "w = 1  b = 0")
            start = time.perf_counter()
            view.plot_state(state)
            view.loss_plot.viewport().repaint()
            view.param_plot.viewport().repaint()
            whole.append((time.perf_counter() - start) * 1000)
        results[steps] = (curve, whole)
    view.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    results = measure(args.runs)
    lines = ["# Train tab plot benchmark", "",
             f"Measured by `benchmarks/bench_train_plot.py --runs {args.runs}` on "
             f"{platform.machine()} with {os.cpu_count()} CPU(s), Python "
             f"{platform.python_version()}, offscreen Qt, {time.strftime('%Y-%m-%d')}. "
             f"The machine was shared with other work (load average "
             f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end).", "",
             "Loss-curve redraw: setData on the loss curve and its plot repainted synchronously "
             "(goal, issue 15: under 16 ms). Whole update: the tab's plot_state (both plots' "
             "curves and the text line) and both plots repainted.", "",
             "| steps plotted | redraw median ms | redraw 95th pct ms | whole update median ms "
             "| whole update 95th pct ms |", "|---|---|---|---|---|"]
    for steps, (curve, whole) in results.items():
        curve.sort()
        whole.sort()
        lines.append(f"| {steps:,} | {statistics.median(curve):.2f} | "
                     f"{curve[int(0.95 * (len(curve) - 1))]:.2f} | "
                     f"{statistics.median(whole):.2f} | "
                     f"{whole[int(0.95 * (len(whole) - 1))]:.2f} |")
    text = "\n".join(lines) + "\n"
    (ROOT / "benchmarks" / "RESULTS_train_plot.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
