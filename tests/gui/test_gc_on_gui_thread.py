"""Cycles are freed on the GUI thread only (gui/gc_on_gui_thread.py): a worker thread that
happens to trigger Python's collector must not free a Qt object of the GUI thread."""
from __future__ import annotations

import gc
import threading
import weakref

from gui.gc_on_gui_thread import GuiThreadCollector


class _Cycle:
    def __init__(self):
        self.me = self


def test_automatic_collection_is_off_and_the_timer_frees_cycles(qapp):
    collector = GuiThreadCollector(qapp, interval_ms=10_000)
    try:
        assert not gc.isenabled()
        cycle = _Cycle()
        alive = weakref.ref(cycle)
        del cycle
        # allocations in a worker thread past every threshold: nothing is collected there
        worker = threading.Thread(target=lambda: [_Cycle() for _ in range(50_000)])
        worker.start()
        worker.join()
        assert alive() is not None
        collector.check()  # what the GUI-thread timer calls
        if alive() is not None:  # the worker's garbage may not pass the oldest threshold
            gc.collect()
        assert alive() is None
    finally:
        collector.timer.stop()
        collector.deleteLater()


def test_check_collects_generation_zero_once_its_threshold_is_passed(qapp):
    collector = GuiThreadCollector(qapp, interval_ms=10_000)
    try:
        cycle = _Cycle()
        alive = weakref.ref(cycle)
        del cycle
        keep = [[] for _ in range(collector.threshold[0] + 10)]  # tracked containers count
        assert gc.get_count()[0] > collector.threshold[0] and alive() is not None
        collector.check()
        assert alive() is None
        del keep
    finally:
        collector.timer.stop()
        collector.deleteLater()
