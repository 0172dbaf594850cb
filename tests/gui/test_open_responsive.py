"""Issue 11, "the window stays responsive": session files past the session limits (20,000
and 100,000 variables, one 60 MB value, 5 MB of small JSON values) are refused through
File > Open and through ``main.py FILE`` at start-up without stalling the GUI thread
(heartbeat, 100 ms), with one clear message, the previous state kept and nothing refused
persisted."""
from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QFileDialog

from core.session import MAX_SESSION_CHARS, MAX_SESSION_VARIABLES
from gui import files
from gui.session import Session, VariableEntry, session_from_json
from tests.gui.conftest import TIMEOUT, make_settings, open_window
from tests.gui.test_window_responsive import STALL_MS, Heartbeat

PREVIOUS = Session("f = w * 3", {"w": VariableEntry("2")})


def _many_variables(count: int) -> str:
    expression = "f = " + " + ".join(f"a{i}" for i in range(min(count, 20_000)))
    return Session(expression, {f"a{i}": VariableEntry("0.5") for i in range(count)}).to_json()


def _one_huge_value(chars: int) -> str:
    return Session("f = w * 2", {"w": VariableEntry("1" * chars)}).to_json()


def _small_values(chars: int) -> str:
    """A session whose variables are valid but which carries ``chars`` of tiny JSON values
    (the slowest kind of text for json's C decoder) in an entry."""
    head = json.loads(PREVIOUS.to_json())
    head["variables"]["w"]["value"] = "2"
    body = json.dumps(head)
    return body[:-1] + ', "junk": [' + ",".join(["1"] * (chars // 2)) + "]}"


CASES = {
    # (file text, words the one message must contain)
    "20000 variables": (lambda: _many_variables(20_000),
                        [f"at most {MAX_SESSION_VARIABLES:,}"]),
    "100000 variables": (lambda: _many_variables(100_000), [f"{MAX_SESSION_CHARS:,}"]),
    "one 60 MB value": (lambda: _one_huge_value(60_000_000), [f"{MAX_SESSION_CHARS:,}"]),
    "5 MB of small values": (lambda: _small_values(4_900_000), ["values"]),
}


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile_sessions")
    out = {}
    for name, (make, _words) in CASES.items():
        path = folder / (name.replace(" ", "_") + ".json")
        path.write_text(make(), encoding="utf-8")
        out[name] = path
    return out


def _state(window):
    return window.editor.toPlainText(), window.variables.entries(), window.session_path


def _persisted(window) -> Session:
    files.save_window(window)
    return session_from_json(window.settings.value("session/last"))


@pytest.mark.parametrize("case", list(CASES))
def test_file_open_refuses_without_a_stall(case, hostile_files, qtbot, window, monkeypatch):
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        files.apply_session(window, PREVIOUS)
    qtbot.wait(200)
    before = _state(window)
    failures = []
    window.failed.connect(failures.append)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(hostile_files[case]), "")))
    with Heartbeat() as beat:
        files.open_session_dialog(window)  # File > Open
        qtbot.wait(300)
    assert beat.longest < STALL_MS, f"the GUI thread stalled {beat.longest:.0f} ms"
    assert len(failures) == 1  # one message
    message = window.statusBar().currentMessage()
    for word in CASES[case][1]:
        assert word in message, message
    assert "Traceback" not in message
    assert _state(window) == before  # the previous state kept
    saved = _persisted(window)  # nothing refused is saved for the next start
    assert (saved.expression, saved.variables) == (PREVIOUS.expression, PREVIOUS.variables)


@pytest.mark.parametrize("case", list(CASES))
def test_startup_file_refuses_without_a_stall(case, hostile_files, qtbot, tmp_path):
    """``main.py FILE``: gui.app.run_app hands FILE to load_startup_content; a refused file
    leaves the last session in place, and that is what is saved at exit."""
    settings = make_settings(tmp_path)
    settings.setValue("session/last", PREVIOUS.to_json())
    settings.sync()
    window = open_window(qtbot, settings)
    failures = []
    window.failed.connect(failures.append)
    try:
        window.show()
        qtbot.waitExposed(window)
        # the window's own start-up (torch warmed up on a worker, the first paint) is over
        # first: the file is what this test measures
        qtbot.waitUntil(lambda: window.torch_ready, timeout=TIMEOUT)
        qtbot.wait(300)
        with Heartbeat() as beat:
            window.load_startup_content(str(hostile_files[case]))
            qtbot.wait(300)
        assert beat.longest < STALL_MS, f"the GUI thread stalled {beat.longest:.0f} ms"
        assert len(failures) == 1
        assert all(word in str(failures[0]) for word in CASES[case][1]), str(failures[0])
        assert window.editor.toPlainText() == PREVIOUS.expression  # the previous state
        assert window.variables.entries() == {"w": ("2", True)}
        assert window.document_name != hostile_files[case].name
        saved = _persisted(window)
        assert (saved.expression, saved.variables) == (PREVIOUS.expression, PREVIOUS.variables)
    finally:
        window.compute_jobs.cancel()
        window.render_jobs.cancel()
        assert window.wait_for_workers(TIMEOUT)
