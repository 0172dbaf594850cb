"""Python's cyclic garbage collector runs on the GUI thread only, in small pieces.

The collector runs in whichever thread happens to allocate when a threshold is crossed. When that
is a worker thread (torch importing a module lazily inside ``torch.autograd.grad``, a SymPy
call), it may free a cycle that holds a Qt object living on the GUI thread, and Qt crashes the
process (seen here as a segmentation fault "Garbage-collecting" in a worker). pyqtgraph's
``GarbageCollector`` solves this the same way: automatic collection is switched off and a timer
on the GUI thread collects instead. Reference counting still frees everything not in a cycle at
once; only cycles wait for the timer.

A collection holds the GIL from start to end, so its length is a stall of the window. Measured
here (issue 13): with a one-second timer a young collection met a second's worth of a worker's
allocations and a generation-1 collection met every object torch's import had made, 344 ms;
a full collection of the objects alive after torch is imported takes about 110 ms. So the
timer looks often (a young generation stays small), the objects that exist once torch and the
window are set up (modules, classes, functions: they live as long as the process) are moved out
of the collector's sight with :func:`gc.freeze`, as are the modules imported later, and a full
collection happens only when the old generation has grown by a quarter, as Python's own
collector decides.
"""
from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QObject, QTimer

#: how often the GUI thread looks for cycles (ms): a young generation then holds at most this
#: long's worth of allocations, a few ms to scan
INTERVAL_MS = 100
#: modules imported since the last freeze that make the next check freeze again (a lazily
#: imported library's objects live as long as the process, like torch's)
FREEZE_AFTER_MODULES = 20


class GuiThreadCollector(QObject):
    """Switches automatic collection off and collects from a GUI-thread timer, by
    generation, with the thresholds Python itself would use."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS):
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self._modules_at_freeze = len(sys.modules)
        self._old_after_full = len(gc.get_objects(2))
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose allocation counts passed their thresholds; freeze
        what newly imported modules made."""
        if len(sys.modules) - self._modules_at_freeze >= FREEZE_AFTER_MODULES:
            self.freeze()
        counts = gc.get_count()
        if counts[0] <= self.threshold[0]:
            return
        generation = 0
        if counts[1] > self.threshold[1]:
            generation = 1
            if counts[2] > self.threshold[2] and self._old_generation_grew():
                generation = 2
        gc.collect(generation)
        if generation == 2:
            self._old_after_full = len(gc.get_objects(2))

    def _old_generation_grew(self) -> bool:
        """Python's rule for a full collection: the objects that reached the old generation
        since the last full collection are more than a quarter of those that were there."""
        return len(gc.get_objects(2)) - self._old_after_full > self._old_after_full / 4

    def freeze(self) -> None:
        """Move every object alive now out of the collector's sight (they are still freed
        by reference counting; only a cycle among them would stay). Called once the window
        and torch are set up, and after a wave of imports."""
        gc.freeze()
        self._modules_at_freeze = len(sys.modules)
        self._old_after_full = 0


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
        from PySide6.QtWidgets import QApplication

        collector = getattr(QApplication.instance(), "gc_collector", None)
        if isinstance(collector, GuiThreadCollector):
            collector.freeze()  # its count of the old generation starts again too
        else:
            gc.freeze()


_FROZEN = False
