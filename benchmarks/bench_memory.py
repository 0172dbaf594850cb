"""Peak memory of the largest program the limits allow, through every front end.

    .venv/bin/python benchmarks/bench_memory.py

Each case runs in a fresh process and reports its peak resident set size (``ru_maxrss``):

* anchor: a bare ``python -c "import torch"`` process that makes one small tensor,
  measured in the same run;
* compute, steps, check: ``main.py compute|steps|check`` on the largest program the limits
  allow (a 1000×1000 input and intermediates up to 20,000,000 entries in all, which is
  core.limits.MAX_TOTAL_ELEMENTS), and a program of matrix products at the backward-work
  budget;
* the window (offscreen): the same program typed into the window, computed and drawn.

Prints a table of peak RSS and its ratio to the anchor, and writes
``benchmarks/RESULTS_memory.md``.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import limits  # noqa: E402

#: 1 (the ones) + 1 (A) + 8 × 2 (sin(A), the product) + 1 (sin(A)) = 19,000,000 entries
#: of the 20,000,000 allowed (one more pair of operations would pass the limit)
LARGEST = ("A = ones(1000, 1000) * w\n" + "A = sin(A) * A\n" * 8 + "A = sin(A)\nf = sum(A)")
#: products whose backward work is a quarter of core.limits.MAX_BACKWARD_WORK (each a @ b
#: costs 2 × 100×10,000×100 multiply-adds backward): the memory does not grow with their
#: number (each product's gradients are summed as they arrive), and on a machine busy with
#: other work the full budget can pass the backward pass's 10 s time limit
PRODUCTS_COUNT = int(limits.MAX_BACKWARD_WORK // (2 * 100 * 10_000 * 100)) // 4
PRODUCTS = ("a = ones(100, 10000) * w\nb = ones(10000, 100) * w\ns = sum(a @ b)\n"
            + "s = s + sum(a @ b)\n" * (PRODUCTS_COUNT - 1) + "f = s")

_RSS = ("import resource; print('peak-rss-kb', "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)")

_WINDOW = """
import sys
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
from gui.main_window import MainWindow
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
window = MainWindow(settings=settings)
window.quiet_dialogs = True
window.show()
state = {}
def go():
    window.auto_action.setChecked(False)
    window.editor.set_text(open(sys.argv[2]).read())
    window.on_text_changed()
    window.variables.set_value("w", "0.5", None)
    window.compute_now()
def drawn(*_):
    state["drawn"] = True
    app.quit()
window.drawn.connect(drawn)
window.failed.connect(lambda err: (print("failed", err, flush=True), app.quit()))
window.torchReady.connect(go)
window.start_loading()
QTimer.singleShot(600_000, app.quit)
app.exec()
print("drawn", state.get("drawn", False), flush=True)
""" + _RSS


def _peak_mb(args: list[str], env=None) -> tuple[float | None, str]:
    """The child's peak RSS in MB, or None and why (a failed run is not a measurement)."""
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=900)
    failed = [line for line in done.stdout.splitlines()
              if line.startswith(("status 2", "failed", "drawn False"))]
    for line in done.stdout.splitlines():
        if line.startswith("peak-rss-kb") and not failed:
            return int(line.split()[1]) / 1024, ""
    return None, (failed + done.stderr.strip().splitlines() or ["no output"])[-1][:200]


def _cli(command: str, program_file: str, *extra: str) -> tuple[float | None, str]:
    code = ("import sys; from core.cli import main; status = main(sys.argv[1:]); "
            "print('status', status); " + _RSS)
    return _peak_mb([sys.executable, "-c", code, command, "--file", program_file,
                     "--var", "w=0.5", *extra])


def main() -> int:
    """Run every case and print (and save) the table."""
    rows = []
    anchor, _ = _peak_mb([sys.executable, "-c", "import torch; torch.ones(1).sum(); " + _RSS])
    rows.append(("anchor: bare python + import torch", anchor, ""))
    with tempfile.TemporaryDirectory() as folder:
        largest = Path(folder, "largest.py")
        largest.write_text(LARGEST)
        products = Path(folder, "products.py")
        products.write_text(PRODUCTS)
        for label, command, path, extra in (
                ("compute, largest program (19M of the 20M entries allowed)", "compute",
                 largest, ()),
                ("steps, largest program", "steps", largest, ()),
                ("check, largest program (2,000-entry sample)", "check", largest, ("--json",)),
                (f"compute, {PRODUCTS_COUNT} products of 100×10,000 matrices", "compute",
                 products, ())):
            peak, note = _cli(command, str(path), *extra)
            rows.append((label, peak, note if peak is None else ""))
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=folder)
        peak, note = _peak_mb([sys.executable, "-c", _WINDOW, str(Path(folder, "s.ini")),
                               str(largest)], env=env)
        rows.append(("window (offscreen), largest program computed and drawn", peak,
                     note if peak is None else ""))
    lines = ["| case | peak RSS | / anchor |", "|---|---|---|"]
    for label, peak, note in rows:
        ratio = f"{peak / anchor:.1f}x" if peak and anchor else "-"
        shown = f"{peak:,.0f} MB" if peak else f"failed: {note}"
        lines.append(f"| {label} | {shown} | {ratio} |")
    table = "\n".join(lines)
    print(table)
    header = (f"# Peak memory (benchmarks/bench_memory.py)\n\n{platform.platform()}, "
              f"Python {platform.python_version()}, {os.cpu_count()} CPUs\n\n")
    (ROOT / "benchmarks" / "RESULTS_memory.md").write_text(header + table + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
