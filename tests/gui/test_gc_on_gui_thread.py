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


def test_a_wave_of_imports_is_frozen_out_of_the_collectors_sight(qapp, monkeypatch):
    # issue 13: a collection holds the GIL; objects that live as long as the process (what
    # imports make) must not be scanned again and again
    import sys
    import types

    from gui import gc_on_gui_thread

    collector = GuiThreadCollector(qapp, interval_ms=10_000)
    try:
        monkeypatch.setattr(gc_on_gui_thread, "FREEZE_AFTER_MODULES", 3)
        before = gc.get_freeze_count()
        module_objects = [[] for _ in range(100)]
        for i in range(3):
            monkeypatch.setitem(sys.modules, f"_wave_{i}", types.ModuleType(f"_wave_{i}"))
        collector.check()
        assert gc.get_freeze_count() >= before + 100
        assert not any(gc.is_tracked(o) and o in gc.get_objects(2) for o in module_objects[:1])
    finally:
        collector.timer.stop()
        collector.deleteLater()
        gc.unfreeze()  # the rest of the suite collects as before
