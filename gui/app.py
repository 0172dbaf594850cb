"""Start the desktop application: the window first, torch afterwards.

Only PySide6 and the torch-free parts of ``core`` are imported here, so the window is on
screen in a fraction of a second; torch (about 1.5 s) is imported by a worker while the
status bar says so, and then the seed's chain-rule example (or the last session) is computed.
"""
from __future__ import annotations

import sys
import time

_T0 = time.perf_counter()

from PySide6.QtCore import QCoreApplication, QTimer  # noqa: E402 - after the start time
from PySide6.QtWidgets import QApplication  # noqa: E402

ORGANIZATION = "AutogradExplorer"
APPLICATION = "Autograd Explorer"


def create_application(argv: list[str]) -> QApplication:
    """The QApplication with names (for QSettings) and the style sheet."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    app = QApplication.instance() or QApplication(["autograd-explorer", *argv])
    app.setStyle("Fusion")  # the same look on every platform, and on a projector
    if not hasattr(app, "gc_collector"):
        from gui.gc_on_gui_thread import collect_on_gui_thread

        app.gc_collector = collect_on_gui_thread(app)  # cycles freed on this thread only
    from gui.appearance import apply_theme
    from gui.themes import DEFAULT_THEME

    apply_theme(app, DEFAULT_THEME)  # the window puts the user's own theme on next
    font = app.font()
    if font.pointSizeF() < 10.5:
        font.setPointSizeF(10.5)  # readable from the back of a classroom
        app.setFont(font)
    return app


def run_app(argv: list[str]) -> int:
    """Show the window, then load torch and compute; returns the exit status."""
    app = create_application(argv)
    from gui.main_window import MainWindow

    window = MainWindow()
    # parsing only: the editor and variables fill at once; main.py has checked that a
    # word on the command line is an existing file
    path = next((a for a in argv if not a.startswith("-")), None)
    window.load_startup_content(path)
    if path and "--startup-time" in argv and window.document_name:
        print(f"opened {window.document_name}", flush=True)
    if window.layout_restored:
        window.show()
    else:
        window.showMaximized()  # first start: the graph gets the whole screen
    shown = time.perf_counter() - _T0
    window.statusBar().showMessage("Loading torch…")
    # Start the torch import once the first frame is painted.
    QTimer.singleShot(0, window.start_loading)
    if "--startup-time" in argv:  # used by benchmarks/bench_gui.py
        _report_startup(window, shown)
    if "--quit-after-draw" in argv:
        window.drawn.connect(lambda: QTimer.singleShot(200, window.close))
    return app.exec()


def resident_mb() -> float:
    """This process's resident memory in MB (Linux /proc; elsewhere the peak from rusage)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _report_startup(window, shown: float) -> None:
    """Print startup milestones (seconds since this module was imported) for the benchmark."""
    print(f"window shown after {shown:.3f} s", flush=True)
    # after the first pass of the event loop the window has been exposed and painted
    QTimer.singleShot(0, lambda: print(
        f"first event loop pass after {time.perf_counter() - _T0:.3f} s", flush=True))
    window.torchReady.connect(lambda: print(
        f"torch ready after {time.perf_counter() - _T0:.3f} s", flush=True))
    # a 10 ms heartbeat: the longest gap between ticks is the longest the window froze
    heartbeat, gaps, last = QTimer(window), [0.0], [time.perf_counter()]

    def beat():
        now = time.perf_counter()
        gaps[0] = max(gaps[0], now - last[0])
        last[0] = now

    heartbeat.timeout.connect(beat)
    heartbeat.start(10)
    window.drawn.connect(lambda: print(
        f"graph drawn after {time.perf_counter() - _T0:.3f} s; rss {resident_mb():.0f} MB; "
        f"longest stall {gaps[0] * 1000:.0f} ms", flush=True))


if __name__ == "__main__":
    sys.exit(run_app(sys.argv[1:]))
