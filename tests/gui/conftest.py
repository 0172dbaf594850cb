"""Fixtures for the GUI tests: a real MainWindow (offscreen) with throw-away QSettings, torch
loaded, and a check at the end that no worker is left running."""
from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QSettings

pytestmark = pytest.mark.gui

TIMEOUT = 30_000  # ms; generous because two cores are shared with other work


@pytest.fixture(autouse=True, scope="session")
def _collect_on_gui_thread(qapp):
    """As the app does (gui/gc_on_gui_thread.py): no cyclic collection in worker threads,
    where freeing a Qt object of the GUI thread crashes the process."""
    from gui.gc_on_gui_thread import collect_on_gui_thread

    collector = collect_on_gui_thread(qapp)
    yield collector
    collector.timer.stop()
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each_test(_collect_on_gui_thread):
    """Free the test's cycles on the GUI thread before the next test starts."""
    yield
    gc.collect()


def make_settings(tmp_path) -> QSettings:
    """A QSettings in a temporary INI file: tests never touch the user's settings."""
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def open_window(qtbot, settings):
    """A MainWindow with torch loaded, nothing computed yet."""
    from gui.main_window import MainWindow

    window = MainWindow(settings=settings)
    window.quiet_dialogs = True
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.torchReady, timeout=TIMEOUT):
        window.start_loading()
    return window


def finish(window) -> None:
    """Cancel pending work and check that every worker has ended."""
    window.compute_jobs.cancel()
    window.render_jobs.cancel()
    assert window.wait_for_workers(TIMEOUT), "a worker was still running"
    assert window.pool.activeThreadCount() == 0


@pytest.fixture
def window(qtbot, tmp_path):
    """The application window, ready to compute."""
    w = open_window(qtbot, make_settings(tmp_path))
    yield w
    finish(w)


def show_steps_tab(qtbot, window, text: str, values: dict) -> None:
    """The window on screen, ``text`` computed and drawn, and the Steps tab showing."""
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    compute_and_draw(qtbot, window, text, values)
    window.steps_dock.raise_()
    qtbot.waitUntil(lambda: window.steps_showing)


def compute_and_draw(qtbot, window, text: str, values: dict | None = None, grads=None):
    """Put ``text`` and values in the window, compute, and wait until the graph is drawn
    and then the steps are prepared (the window draws first)."""
    window.auto_action.setChecked(False)
    window.editor.set_text(text)
    window.on_text_changed()
    for name, value in (values or {}).items():
        window.variables.set_value(name, str(value), None if grads is None else grads[name])
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.compute_now()
    wait_for_steps(qtbot, window)
    return window.result


def wait_for_steps(qtbot, window) -> None:
    """Wait until the steps of the result on screen are prepared (after its graph)."""
    qtbot.waitUntil(lambda: window.result is None or not window.result.steps_pending,
                    timeout=TIMEOUT)
