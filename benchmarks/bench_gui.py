"""Benchmarks of the desktop window: startup, compute-to-graph, memory.

    .venv/bin/python benchmarks/bench_gui.py [--runs 5]

* startup: ``main.py`` is launched as a new process (offscreen Qt, a throw-away settings
  folder); times are measured from just before the launch to the line the app prints when the
  window is shown / its first event-loop pass is done / torch is imported / the seed's
  chain-rule graph is on screen.
* compute-to-graph: in one running window, the time from asking for a compute (a value
  changed) to the new drawing being on screen, for several examples.
* memory: the app's resident set size (VmRSS) once the first graph is drawn.

Prints medians and writes ``benchmarks/RESULTS_gui.md``.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def startup_runs(runs: int) -> list[dict]:
    """Launch the app ``runs`` times; returns the milestones (seconds since launch) of each."""
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as config:
            env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=config)
            start = time.perf_counter()
            proc = subprocess.Popen([sys.executable, "main.py", "--startup-time",
                                     "--quit-after-draw"], cwd=ROOT, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            marks = {}
            for line in proc.stdout:
                now = time.perf_counter() - start
                for key, prefix in (("shown", "window shown"), ("painted", "first event loop"),
                                    ("torch", "torch ready"), ("graph", "graph drawn")):
                    if line.startswith(prefix):
                        marks[key] = now
                if "rss" in line:
                    marks["rss_mb"] = float(line.rsplit("rss", 1)[1].split()[0])
                if "longest stall" in line:
                    marks["stall_ms"] = float(line.rsplit("longest stall", 1)[1].split()[0])
            proc.wait(timeout=120)
            results.append(marks)
    return results


def anchor_runs(runs: int) -> dict:
    """The anchor, measured in the same run: a bare ``python -c "import torch"`` process
    (seconds from launch to torch imported, and its resident memory in MB)."""
    code = ("import time, sys; import torch; print('ready', flush=True); "
            "print('rss', [l.split()[1] for l in open('/proc/self/status') "
            "if l.startswith('VmRSS')][0], flush=True)")
    seconds, rss = [], []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=120).stdout.split()
        seconds.append(time.perf_counter() - start)
        rss.append(int(out[out.index("rss") + 1]) / 1024)
    return {"seconds": statistics.median(seconds), "rss_mb": statistics.median(rss)}


ANCHORS: dict[str, float] = {}
STALLS: list[float] = []  # ms between heartbeat ticks on the GUI thread
HEAVY_STALLS: list[float] = []  # the same, while the largest documented program runs
HEAVY: dict[str, float] = {}
#: Issue 13's freeze was fifteen chained products of 1000×1000 matrices; the backward budget
#: (10^10 multiply-adds) now refuses that at once, so a chain well within it is
#: measured: three products, W = 0.001 everywhere so every value stays 1e-3.
PRODUCTS = 3
HEAVY_PROGRAM = ("X1 = W @ W\n" + "".join(f"X{i} = X{i - 1} @ W\n"
                                          for i in range(2, PRODUCTS + 1))
                 + f"f = sum(X{PRODUCTS})")
HEAVY_VALUE = "full((1000, 1000), 0.001)"
#: spinning processes for the pasted program's busy-CPU run (issue 13)
BUSY = 4
PASTE_STALLS: dict[int, float] = {}


def paste_program(salt: int) -> str:
    """2,000 lines, each a new name from an unassigned one (``salt`` makes each paste new)."""
    return "\n".join(f"v{i} = u{i} + {salt + 1}" for i in range(2000))


def torchviz_anchor(example, runs: int) -> float:
    """The anchor for compute-to-graph, in the same run: the same program evaluated, then
    torchviz's ``make_dot(...).pipe("svg")`` (Graphviz defaults): the least work that gives
    a picture, with no window. Median milliseconds."""
    from torchviz import make_dot

    from core.evaluation.evaluate import evaluate
    from core.language.parser import parse

    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        evaluation = evaluate(parse(example.expression), example.specs(), example.dtype)
        make_dot(evaluation.output).pipe(format="svg")
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[1:])  # the first run warms caches up


def compute_to_graph(runs: int) -> dict[str, list[float]]:
    """Milliseconds from compute request to drawing on screen, per example, in one window."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from gui.examples import load_examples
    from gui.main_window import MainWindow

    _app = QApplication.instance() or QApplication([])  # noqa: F841 - must exist
    config = tempfile.mkdtemp()
    window = MainWindow(QSettings(f"{config}/s.ini", QSettings.Format.IniFormat))
    window.show()

    def wait(signal, timeout_ms=120_000):
        loop = QEventLoop()
        signal.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        signal.disconnect(loop.quit)

    window.start_loading()
    wait(window.torchReady)
    wait(window.drawn) if window.compute_jobs.busy or window.render_jobs.busy else None
    window.auto_action.setChecked(False)
    # A 10 ms heartbeat on the GUI thread: the longest gap between its ticks is the longest
    # time the window could not respond (issue 4: never more than 100 ms).
    heartbeat, last = QTimer(), [time.perf_counter()]

    def beat():
        now = time.perf_counter()
        STALLS.append((now - last[0]) * 1000)
        last[0] = now

    heartbeat.timeout.connect(beat)
    heartbeat.start(10)
    times: dict[str, list[float]] = {}
    chosen = [e for e in load_examples() if e.title.split(":")[0] in
              ("Chain rule", "Matrices", "Two-layer network with a squared loss", "Sum")]
    for example in chosen:
        window.load_example(example)
        wait(window.drawn)
        first = next(iter(example.vars))
        for i in range(runs):
            window.variables.set_value(first, str(example.vars[first]) if i % 2 == 0 else
                                       str(example.vars[first]).replace("1", "2", 1))
            start = time.perf_counter()
            window.compute_now()
            wait(window.drawn)
            times.setdefault(example.title.split(":")[0], []).append(
                (time.perf_counter() - start) * 1000)
    # the largest documented program: computed and drawn, then the Steps tab shown, while
    # the heartbeat keeps counting (its ticks go to their own list)
    before = len(STALLS)
    window.editor.set_text(HEAVY_PROGRAM)
    window.on_text_changed()
    window.variables.set_value("W", HEAVY_VALUE)
    start = time.perf_counter()
    window.compute_now()
    wait(window.drawn, 600_000)
    HEAVY["compute_to_graph_s"] = time.perf_counter() - start
    window.steps_dock.raise_()
    settle = QEventLoop()
    QTimer.singleShot(2000, settle.quit)
    settle.exec()
    HEAVY_STALLS.extend(STALLS[before:])
    del STALLS[before:]
    # issue 13: a pasted program of 2,000 lines, with the CPU idle and then with BUSY
    # spinning processes (each in a session of its own, as other programs are)
    for busy in (0, BUSY):
        spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                                     start_new_session=True) for _ in range(busy)]
        try:
            before = len(STALLS)
            window.auto_action.setChecked(True)
            window.editor.selectAll()
            window.editor.insertPlainText(paste_program(busy))
            wait(window.drawn, 300_000)
            settle = QEventLoop()
            QTimer.singleShot(1000, settle.quit)
            settle.exec()
            PASTE_STALLS[busy] = max(STALLS[before:])
            del STALLS[before:]
        finally:
            for process in spinning:
                process.kill()
                process.wait()
    window.auto_action.setChecked(False)
    heartbeat.stop()
    for example in chosen:  # after the heartbeat: the anchor runs on this (the GUI) thread
        ANCHORS[example.title.split(":")[0]] = torchviz_anchor(example, runs)
    window.close()
    window.wait_for_workers()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the window is measured offscreen

    anchor = anchor_runs(args.runs)
    startup = startup_runs(args.runs)
    med = {key: statistics.median(run[key] for run in startup if key in run)
           for key in ("shown", "painted", "torch", "graph", "rss_mb", "stall_ms")}
    print(f"startup (median of {args.runs}): window shown {med['shown']:.3f} s, "
          f"first paint "
          f"{med['painted']:.3f} s, torch ready {med['torch']:.3f} s, first graph "
          f"{med['graph']:.3f} s; RSS with the first graph {med['rss_mb']:.0f} MB")
    times = compute_to_graph(args.runs)
    rows = []
    for name, values in times.items():
        print(f"compute-to-graph {name}: median {statistics.median(values):.1f} ms "
              f"(min {min(values):.1f}, max {max(values):.1f})")
        median = statistics.median(values)
        rows.append(f"| {name} | {median:.1f} | {min(values):.1f} | {max(values):.1f} | "
                    f"{ANCHORS[name]:.1f} | {median / ANCHORS[name]:.2f}x |")

    print(f"longest GUI-thread stall while computing and drawing: {max(STALLS):.0f} ms")
    print(f"2,000 pasted lines: longest GUI-thread stall {PASTE_STALLS[0]:.0f} ms idle, "
          f"{PASTE_STALLS[BUSY]:.0f} ms with {BUSY} busy processes")
    print(f"{PRODUCTS} chained 1000×1000 products: computed and drawn in "
          f"{HEAVY['compute_to_graph_s']:.1f} s; longest GUI-thread stall "
          f"{max(HEAVY_STALLS):.0f} ms")
    milestones = [("window shown (before torch is imported)", "shown"),
                  ("first event-loop pass (window painted)", "painted"),
                  ("torch imported and warmed up (worker thread)", "torch"),
                  ("seed chain-rule example computed and its graph drawn", "graph")]
    milestone_table = "\n".join(
        ["| milestone | seconds | / anchor |", "|---|---|---|"]
        + [f"| {label} | {med[key]:.3f} | {med[key] / anchor['seconds']:.2f}x |"
           for label, key in milestones])
    report = f"""# GUI benchmarks

Measured by `benchmarks/bench_gui.py --runs {args.runs}` on {platform.machine()} with
{os.cpu_count()} CPU(s), Python {platform.python_version()}, offscreen Qt,
{time.strftime('%Y-%m-%d')}.
The machine was shared with other work, so treat these as typical rather than best values.

## Startup (new process, seconds since launch, median of {args.runs})

The anchor, measured in the same run: a bare `python -c "import torch"` process took
{anchor['seconds']:.3f} s (whole process) and {anchor['rss_mb']:.0f} MB.

{milestone_table}

Memory of the running app with the first graph on screen: **{med['rss_mb']:.0f} MB** RSS,
{med['rss_mb'] / anchor['rss_mb']:.2f}x the bare torch process.

While torch loads (on a worker thread, its native libraries first through a GIL-free
`dlopen`, see gui/torch_preload.py), the GUI thread's longest wait between two ticks of a
10 ms timer was {med['stall_ms']:.0f} ms (median over the launches): the window keeps
painting, but torch's own module initialisation holds Python's GIL for tens of ms at a time.

## Compute-to-graph (one running window, value changed then recomputed; ms)

From the compute request to the new drawing being on screen: parse, evaluate, backward,
graph building with gradients, Graphviz layout, SVG loaded into the view and painted.
Anchor, in the same run: the same program evaluated and drawn by torchviz's
`make_dot(...).pipe("svg")` with no window (median).

| example | median | min | max | anchor | / anchor |
|---|---|---|---|---|---|
""" + "\n".join(rows) + f"""

While these examples were computed and drawn, a 10 ms timer on the GUI thread never waited
longer than **{max(STALLS):.0f} ms** between ticks (the longest the window could not respond;
the goal is under 100 ms), over {len(STALLS)} ticks.

## The largest documented program

{PRODUCTS} chained products of 1000×1000 matrices (`X1 = W @ W`, `X2 = X1 @ W`, …,
`f = sum(X{PRODUCTS})` with `W = {HEAVY_VALUE}`), a chain well within the backward
budget of 10^10 multiply-adds (issue 13's fifteen are refused at once). Computed (forward,
backward, the recorded steps) and drawn in
{HEAVY['compute_to_graph_s']:.1f} s; meanwhile, and for two seconds with the Steps tab showing,
the GUI thread's longest wait between two ticks was **{max(HEAVY_STALLS):.0f} ms** over
{len(HEAVY_STALLS)} ticks (goal: under 100 ms). The results table shows each large tensor by
its corners, formatted on the worker; the workers run at a lower scheduling priority than the
GUI thread.

## A pasted program of 2,000 lines, the CPU idle and busy

`v0 = u0 + 1` … `v1999 = u1999 + 1` pasted over the text (2,000 new variables, parsed, computed
and drawn by recompute-while-typing). The GUI thread's longest wait between two ticks of the
10 ms heartbeat: **{PASTE_STALLS[0]:.0f} ms** with the CPU idle, **{PASTE_STALLS[BUSY]:.0f} ms**
with {BUSY} processes spinning, each in a session of its own (the goal: under 100 ms; the
machine's other work comes on top). What held it before issue 13's changes: one `ast.parse`
of the whole text on a worker (the GIL held throughout, now a piece at a time), a worker at a
lower priority descheduled while holding the GIL (1.5-2 s), 344 ms garbage collections, the
editor colouring every pasted line at once, and 66 ms of panels filled in one slot.
"""
    (ROOT / "benchmarks" / "RESULTS_gui.md").write_text(report, encoding="utf-8")
    print("wrote benchmarks/RESULTS_gui.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
