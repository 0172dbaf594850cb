"""Run a function in a separate process with a time limit and a memory limit.

Some work cannot be bounded from inside: a SymPy call (``evalf`` of
``exp(exp(exp(exp(exp(3)))))`` ran for minutes, ``10**10**10**10`` filled the memory) never
returns to Python code that could check a deadline, and a thread cannot be stopped. Such
work runs here, in a child process forked from a small server process (multiprocessing's
``forkserver``: the server imports the modules once, so each run starts in milliseconds,
and it never copies the window's threads). The child's address space is capped with
``RLIMIT_AS``; the parent waits at most ``seconds`` and then kills it.

:func:`run_bounded` returns the function's result or raises :class:`BudgetExceeded` naming
the budget that was reached (``"time"``, ``"memory"``) or :class:`Cancelled`.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time

#: Modules the server imports once, so children start without importing them.
PRELOAD = ["core.check.symbolic_server"]
#: How often the parent looks at the cancel event while waiting (seconds).
POLL_SECONDS = 0.05

_lock = threading.Lock()
_context = None


class BudgetExceeded(Exception):
    """The work passed its time or memory budget; ``budget`` is "time" or "memory"."""

    def __init__(self, budget: str, message: str):
        super().__init__(message)
        self.budget = budget


class Cancelled(Exception):
    """The caller's cancel event was set; the child was stopped."""


def _get_context():
    global _context
    with _lock:
        if _context is None:
            methods = multiprocessing.get_all_start_methods()
            _context = multiprocessing.get_context(
                "forkserver" if "forkserver" in methods else "spawn")
            if _context.get_start_method() == "forkserver":
                _context.set_forkserver_preload(PRELOAD)
        return _context


def run_bounded(function, args: tuple = (), *, seconds: float, memory_bytes: int,
                cancel: threading.Event | None = None, startup_seconds: float = 30.0):
    """``function(*args)`` in a child process, within ``seconds`` of wall-clock time and
    ``memory_bytes`` of memory beyond what the child starts with.

    The clock starts when the child is running: starting the server the first time imports
    its modules (about a second; more on a busy machine), which has its own bound,
    ``startup_seconds``.

    ``function`` must be importable by name (a module-level function) and its arguments and
    result picklable. An exception in the child is raised again here (as its type when it
    can be pickled). Raises :class:`BudgetExceeded` or :class:`Cancelled`.
    """
    context = _get_context()
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(send, function, args, memory_bytes),
                              daemon=True)
    process.start()
    send.close()
    deadline = time.monotonic() + startup_seconds
    started = False
    try:
        while True:
            if receive.poll(POLL_SECONDS):
                try:
                    status, payload = receive.recv()
                except (EOFError, OSError):  # the child died without a word: killed by the OS
                    raise BudgetExceeded("memory", "the work ran out of memory") from None
                if status == "started" and not started:
                    started = True
                    deadline = time.monotonic() + seconds
                    continue
                break
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if not process.is_alive() and not receive.poll(0):
                raise BudgetExceeded("memory", "the work ran out of memory")
            if time.monotonic() > deadline:
                if not started:
                    raise BudgetExceeded("time", f"the work did not start within "
                                         f"{startup_seconds:g} s")
                raise BudgetExceeded("time", f"the work took longer than {seconds:g} s")
    finally:
        receive.close()
        if process.is_alive():
            process.kill()
        process.join(5)
    if status == "ok":
        return payload
    if status == "memory":
        raise BudgetExceeded("memory", "the work ran out of memory")
    raise payload


def _child(send, function, args, memory_bytes: int) -> None:
    """In the child: cap the address space, run, send ("ok", result) or the error."""
    try:
        import resource
        current = _address_space()
        if current:
            limit = current + memory_bytes
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard != resource.RLIM_INFINITY:
                limit = min(limit, hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass  # no rlimit on this system: the parent's time limit still holds
    send.send(("started", None))
    try:
        result = ("ok", function(*args))
    except MemoryError:
        result = ("memory", None)
    except BaseException as err:  # noqa: BLE001 - handed to the parent, which raises it
        result = ("error", err)
    try:
        send.send(result)
    except MemoryError:
        send.send(("memory", None))
    except Exception as err:  # noqa: BLE001 - e.g. an unpicklable result or exception
        send.send(("error", RuntimeError(f"{type(err).__name__}: {err}")))
    finally:
        send.close()


def _address_space() -> int:
    """This process's virtual memory size in bytes (Linux's /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
