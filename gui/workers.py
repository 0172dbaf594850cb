"""Run slow work (importing torch, computing, laying out a graph) off the GUI thread.

The superqt/napari pattern: a :class:`Worker` is a ``QRunnable`` whose signals live on a
separate ``QObject`` (:class:`WorkerSignals`), because a ``QRunnable`` cannot emit signals
itself. Whatever the function returns is emitted as ``returned``; any exception becomes
``errored`` and never escapes the thread; ``finished`` always comes last.

:class:`LatestOnly` drops stale results: every request gets a generation number, and a result
is delivered only if no newer request was made meanwhile (typing fast queues many computes;
only the last one matters).
"""
from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class Cancelled(Exception):
    """Raised inside a job that noticed its cancel flag; reported as neither result nor error."""


class WorkerSignals(QObject):
    """The signals of one :class:`Worker` (a QRunnable is not a QObject)."""

    started = Signal()
    returned = Signal(object)
    errored = Signal(object)
    finished = Signal()


class Worker(QRunnable):
    """Call ``fn(*args, **kwargs)`` on a thread-pool thread and report through ``signals``.

    If ``fn`` accepts a keyword ``cancel_event`` it is passed the worker's
    :class:`threading.Event`; long jobs check it and raise :class:`Cancelled`.
    """

    def __init__(self, fn: Callable, *args, pass_cancel: bool = False, **kwargs):
        super().__init__()
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.signals = WorkerSignals()
        self.cancel_event = threading.Event()
        if pass_cancel:
            self.kwargs["cancel_event"] = self.cancel_event
        # The pool must not delete us while Python still holds the signals object.
        self.setAutoDelete(False)

    def cancel(self) -> None:
        """Ask the job to stop; its result (if any) will not be delivered."""
        self.cancel_event.set()

    def run(self) -> None:  # runs on the pool thread
        """Run the job; every outcome becomes a signal."""
        if not _emit(self.signals.started):
            return  # the window closed before the job began: nobody waits for it
        try:
            result = self.fn(*self.args, **self.kwargs)
        except Cancelled:
            pass
        except BaseException as err:  # noqa: BLE001 - every failure must become a signal
            if not self.cancel_event.is_set():
                _emit(self.signals.errored, err)
        else:
            if not self.cancel_event.is_set():
                _emit(self.signals.returned, result)
        finally:
            _emit(self.signals.finished)

    def start(self, pool: QThreadPool | None = None) -> Worker:
        """Queue the worker on ``pool`` (the global pool by default); returns self."""
        (pool or QThreadPool.globalInstance()).start(self)
        return self


# Workers run at the GUI thread's scheduling priority, on purpose. They once ran at a lower
# one (niceness 10), so that torch's threads would not keep the GUI thread waiting for a core;
# but a worker running Python holds the GIL, and the GUI thread needs the GIL for every slot:
# with the CPU busy at the window's own priority, the low-priority worker was descheduled
# while holding the GIL and the window froze for 1.5-2 s at a time (issue 13, measured with
# four busy processes). The GUI thread mostly sleeps, so the scheduler lets it run first
# when it wakes; what it must not do is wait for a lock held by a thread that cannot run.


class LatestOnly(QObject):
    """Start jobs so that only the newest request's outcome is delivered.

    ``submit(fn, ...)`` cancels the previous job (it keeps running to its end if it cannot
    notice, but its outcome is dropped) and starts a new one; ``returned``/``errored`` fire
    only for the newest. ``busy`` tells whether the newest job is still running.
    """

    returned = Signal(object)
    errored = Signal(object)
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None):
        super().__init__(parent)
        self.pool = pool
        self.generation = 0
        self._current: Worker | None = None
        self._running: set[Worker] = set()

    @property
    def busy(self) -> bool:
        """True while the newest job has not finished."""
        return self._current is not None and self._current in self._running

    def submit(self, fn: Callable, *args, pass_cancel: bool = False, **kwargs) -> Worker:
        """Start ``fn`` on the pool, superseding any earlier job."""
        self.cancel()
        self.generation += 1
        generation = self.generation
        worker = Worker(fn, *args, pass_cancel=pass_cancel, **kwargs)
        worker.signals.generation = generation
        worker.signals.worker = worker
        # Bound methods of this main-thread QObject (not lambdas): Qt then queues the
        # calls onto the GUI thread, and sender() tells which job spoke.
        worker.signals.returned.connect(self._on_returned)
        worker.signals.errored.connect(self._on_errored)
        worker.signals.finished.connect(self._on_finished)
        self._running.add(worker)
        self._current = worker
        self.busyChanged.emit(True)
        return worker.start(self.pool)

    def cancel(self) -> None:
        """Cancel the newest job (its outcome will be dropped)."""
        if self._current is not None:
            self._current.cancel()
            self.generation += 1
            self._current = None
            self.busyChanged.emit(False)

    def _on_returned(self, result) -> None:
        if self.sender().generation == self.generation:  # else stale: a newer job exists
            self.returned.emit(result)

    def _on_errored(self, error) -> None:
        if self.sender().generation == self.generation:
            self.errored.emit(error)

    def _on_finished(self) -> None:
        worker = self.sender().worker
        self.sender().worker = None  # break the cycle signals -> worker -> signals
        self._running.discard(worker)
        if worker is self._current:
            self._current = None
            self.busyChanged.emit(False)


def run_beside_the_gui(function, *args):
    """``function(*args)`` on a plain thread while the GUI thread keeps ticking and
    painting (a local event loop that leaves the user's input queued until it is done, so
    nothing can be clicked twice meanwhile); returns its result or raises its exception.

    For short, bounded work whose result the caller needs before going on (reading and
    checking a session file): the window never freezes, yet the caller stays a plain
    function call."""
    from PySide6.QtCore import QEventLoop, QTimer

    box: dict = {}

    def target():
        try:
            box["value"] = function(*args)
        except BaseException as err:  # noqa: BLE001 - handed back to the caller as it was
            box["error"] = err

    thread = threading.Thread(target=target, name="beside-the-gui", daemon=True)
    thread.start()
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: None if thread.is_alive() else loop.quit())
    timer.start()
    if thread.is_alive():
        loop.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
    timer.stop()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def _emit(signal, *args) -> bool:
    """Emit ``signal``; False when its object was deleted because the window (and its
    receivers) closed while a job ran: there is nobody left to tell."""
    try:
        signal.emit(*args)
    except RuntimeError:
        return False
    return True
