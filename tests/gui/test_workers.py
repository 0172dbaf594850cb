"""Workers: results and errors come back as signals; stale results are dropped."""
from __future__ import annotations

import threading

from PySide6.QtCore import QThreadPool

from gui.workers import LatestOnly, Worker


def _record(worker):
    events = []
    worker.signals.returned.connect(lambda r: events.append(("returned", r)))
    worker.signals.errored.connect(lambda e: events.append(("errored", e)))
    worker.signals.finished.connect(lambda: events.append(("finished", None)))
    return events


def test_worker_returns_then_finishes(qtbot):
    worker = Worker(pow, 2, 10)
    events = _record(worker)
    with qtbot.waitSignals([worker.signals.returned, worker.signals.finished], order="strict",
                           timeout=10_000):
        worker.start()
    assert events == [("returned", 1024), ("finished", None)]
    assert QThreadPool.globalInstance().waitForDone(10_000)


def test_exception_becomes_errored_signal(qtbot):
    worker = Worker(lambda: 1 / 0)
    events = _record(worker)
    with qtbot.waitSignals([worker.signals.errored, worker.signals.finished], order="strict",
                           timeout=10_000):
        worker.start()
    assert [kind for kind, _ in events] == ["errored", "finished"]
    assert isinstance(events[0][1], ZeroDivisionError)
    assert QThreadPool.globalInstance().waitForDone(10_000)


def test_only_the_newest_result_is_delivered(qtbot):
    pool = QThreadPool()
    jobs = LatestOnly(pool=pool)
    delivered = []
    jobs.returned.connect(delivered.append)
    release = threading.Event()

    def slow():
        release.wait(10)
        return "old"

    jobs.submit(slow)
    with qtbot.waitSignal(jobs.returned, timeout=10_000):
        jobs.submit(lambda: "new")
    release.set()  # the old job now finishes, after the new one
    assert pool.waitForDone(10_000)
    qtbot.waitUntil(lambda: not jobs.busy)
    qtbot.wait(50)  # let any queued (stale) signal arrive; it must be dropped
    assert delivered == ["new"]


def test_cancel_drops_the_result(qtbot):
    pool = QThreadPool()
    jobs = LatestOnly(pool=pool)
    delivered = []
    jobs.returned.connect(delivered.append)
    jobs.errored.connect(delivered.append)
    release = threading.Event()
    worker = jobs.submit(lambda: release.wait(10) and "late")
    with qtbot.waitSignal(jobs.busyChanged) as busy:
        jobs.cancel()
    assert busy.args == [False] and worker.cancel_event.is_set()
    # listen before releasing: a finished signal emitted before waitSignal connects is lost
    with qtbot.waitSignal(worker.signals.finished, timeout=10_000):
        release.set()
    assert pool.waitForDone(10_000)
    assert delivered == []


def test_a_job_that_outlives_its_signals_ends_quietly():
    # the window closed (its receivers and the signals object deleted) while the job ran:
    # run() returns without an exception in the pool thread
    import shiboken6

    worker = Worker(pow, 2, 10)
    shiboken6.delete(worker.signals)
    worker.run()  # on this thread: an exception here would fail the test
