"""Python's cyclic garbage collector runs on the GUI thread only.

The collector runs in whichever thread happens to allocate when a threshold is crossed. When that
is a worker thread (torch importing a module lazily inside ``torch.autograd.grad``, a SymPy
call), it may free a cycle that holds a Qt object living on the GUI thread, and Qt crashes the
process (seen here as a segmentation fault "Garbage-collecting" in a worker). pyqtgraph's
``GarbageCollector`` solves this the same way: automatic collection is switched off and a timer
on the GUI thread collects instead. Reference counting still frees everything not in a cycle at
once; only cycles wait for the timer.
"""
from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

#: how often the GUI thread looks for cycles (ms); generation 0 is cheap to scan
INTERVAL_MS = 1000


class GuiThreadCollector(QObject):
    """Switches automatic collection off and collects from a GUI-thread timer, by
    generation, with the thresholds Python itself would use."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose allocation counts passed their thresholds."""
        counts = gc.get_count()
        if counts[0] > self.threshold[0]:
            generation = 0
            if counts[1] > self.threshold[1]:
                generation = 2 if counts[2] > self.threshold[2] else 1
            gc.collect(generation)


def collect_on_gui_thread(parent: QObject) -> GuiThreadCollector:
    """Install the collector (call once, on the GUI thread, after the QApplication exists)."""
    return GuiThreadCollector(parent)


def freeze_what_lives_now() -> None:
    """Move every object alive now (torch, the Qt bindings, the window: they live as long
    as the process) to Python's permanent generation, which collections never scan.

    Once torch is loaded a full collection scans them all, about 200 ms on the GUI thread
    every couple of minutes; frozen, it scans only what was made since (well under 1 ms).
    Once per process: what a later window makes is collected as usual.
    """
    global _FROZEN
    if not _FROZEN:
        _FROZEN = True
        gc.freeze()


_FROZEN = False
