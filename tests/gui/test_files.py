"""Export, sessions, recent files and settings, through the window."""
from __future__ import annotations

import json
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication, QImage

from gui import files
from gui.examples import startup_example
from tests.gui.conftest import TIMEOUT, compute_and_draw, finish, make_settings, open_window


def _png_size_and_dpi(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    dpi = None
    at = data.find(b"pHYs")
    if at > 0:
        ppm = struct.unpack(">I", data[at + 4:at + 8])[0]
        dpi = round(ppm * 0.0254)
    return width, height, dpi


def test_export_svg_png_pdf(qtbot, window, tmp_path):
    compute_and_draw(qtbot, window, "g = 3*w + cos(z)\nf = exp(g)", {"w": 1, "z": 1})
    written = {}
    for fmt, dpi in (("svg", 96), ("png", 96), ("png", 300), ("pdf", 96)):
        path = tmp_path / f"graph-{dpi}.{fmt}"
        with qtbot.waitSignal(window.exported, timeout=TIMEOUT) as done:
            files.export_graph(window, str(path), fmt, dpi)
        assert done.args == [str(path)]
        written[(fmt, dpi)] = path.read_bytes()
    root = ET.fromstring(written[("svg", 96)])
    assert root.tag.endswith("svg")
    titles = {el.text for el in root.iter() if el.tag.endswith("title")}
    assert set(window.drawing.node_ids) <= titles  # every node of the drawing is in the file
    w96, h96, _ = _png_size_and_dpi(written[("png", 96)])
    w300, h300, dpi = _png_size_and_dpi(written[("png", 300)])
    assert dpi == 300
    assert w300 == pytest.approx(w96 * 300 / 96, rel=0.05)
    assert QImage.fromData(written[("png", 300)]).width() == w300
    assert written[("pdf", 96)].startswith(b"%PDF-") and b"%%EOF" in written[("pdf", 96)][-64:]


def test_export_to_unwritable_place_is_a_message(qtbot, window, tmp_path):
    compute_and_draw(qtbot, window, "f = w * w", {"w": 1})
    with qtbot.waitSignal(window.failed, timeout=TIMEOUT) as failed:
        files.export_graph(window, str(tmp_path / "no-such-dir" / "g.svg"), "svg")
    assert failed.args[0].kind == "export" and "cannot write g.svg" in failed.args[0].message


def test_copy_image_to_clipboard(qtbot, window):
    compute_and_draw(qtbot, window, "f = w * w", {"w": 1})
    window.copy_image_action.trigger()
    image = QGuiApplication.clipboard().image()
    assert not image.isNull()
    assert image.width() == 2 * window.graph.renderer.defaultSize().width()


def test_session_round_trip(qtbot, window, tmp_path):
    compute_and_draw(qtbot, window, "p = w * x\nloss = sum((p - 1)**2)", {"w": "[0.5, 2]", "x": 3},
                     grads={"w": True, "x": False})
    window.dtype_box.setCurrentText("float64")
    window.lr_action.setChecked(True)
    qtbot.waitUntil(lambda: not window.compute_jobs.busy and not window.render_jobs.busy,
                    timeout=TIMEOUT)
    path = tmp_path / "lesson.json"
    assert files.save_session_to(window, str(path))
    saved = json.loads(path.read_text())
    assert saved["variables"]["x"] == {"value": "3", "requires_grad": False}
    files.new_session(window)
    assert window.editor.toPlainText() == "" and window.variables.names() == []
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        assert files.open_session(window, str(path))
    assert window.editor.toPlainText() == "p = w * x\nloss = sum((p - 1)**2)"
    assert window.variables.entries() == {"w": ("[0.5, 2]", True), "x": ("3", False)}
    assert window.dtype_box.currentText() == "float64"
    assert window.graph_options["rankdir"] == "LR" and window.lr_action.isChecked()
    assert window.result.dtype == "float64"
    # d/dw (w x - 1)^2 = 2 (w x - 1) x, elementwise: w = [0.5, 2], x = 3
    assert window.result.quantity("w").grad == pytest.approx([2 * 0.5 * 3, 2 * 5 * 3])
    assert files.recent_files(window)[0] == str(path)
    assert window.recent_menu.actions()[0].toolTip() == str(path)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"expression": "f = w"}', "not an Autograd Explorer session"),
    ('{"format": "autograd-explorer-session", "version": 1, "expression": "f = w", '
     '"variables": {"w": {"value": 1}}}', "needs a text 'value'"),
    ('{"format": "autograd-explorer-session", "version": 1, "expression": "f = w", '
     '"dtype": "float16"}', "dtype must be float32 or float64"),
    ('{"format": "autograd-explorer-session", "version": 99, "expression": "f"}', "newer version"),
    ("\udcff", "not a text file"),
])
def test_corrupt_session_changes_nothing(qtbot, window, tmp_path, content, message):
    compute_and_draw(qtbot, window, "f = w + 2*z", {"w": 1, "z": 1})
    before = (window.editor.toPlainText(), window.variables.entries(), window.result)
    path = tmp_path / "broken.json"
    if content == "\udcff":
        path.write_bytes(b"\xff\xfe\x00garbage\x80")
    else:
        path.write_text(content)
    with qtbot.waitSignal(window.failed) as failed:
        assert not files.open_session(window, str(path))
    assert message in failed.args[0].message
    assert message in window.statusBar().currentMessage()
    assert (window.editor.toPlainText(), window.variables.entries(), window.result) == before
    assert not window.compute_jobs.busy
    assert files.recent_files(window) == []


def test_layout_and_last_session_restored_from_settings(qtbot, tmp_path):
    settings = make_settings(tmp_path)
    first = open_window(qtbot, settings)
    first.resize(734, 577)  # within the offscreen screen (800x800)
    compute_and_draw(qtbot, first, "f = w * sin(w)", {"w": "0.5"})
    first.check_dock.raise_()
    first.close()
    finish(first)
    second = open_window(qtbot, make_settings(tmp_path))
    with qtbot.waitSignal(second.drawn, timeout=TIMEOUT):
        second.load_startup_content()
    assert second.size().width() == 734 and second.size().height() == 577
    assert second.editor.toPlainText() == "f = w * sin(w)"
    assert second.variables.entries() == {"w": ("0.5", True)}
    finish(second)


def test_first_start_computes_the_chain_rule_example(qtbot, window):
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.load_startup_content()
    assert window.editor.toPlainText() == startup_example().expression
    assert window.result.quantity("w").grad == pytest.approx(109.43202095367012, rel=2e-6)


def test_refused_session_and_settings_are_never_persisted(qtbot, tmp_path):
    """A bad last session (annotate "bogus") and nonsense in the other stored settings are
    refused at start; the window works, and what it writes back at exit is valid."""
    from core.session import session_from_json

    settings = make_settings(tmp_path)
    settings.setValue("session/last", json.dumps({
        "format": "autograd-explorer-session", "version": 1, "expression": "f = w * w",
        "variables": {"w": {"value": "2", "requires_grad": True}},
        "settings": {"annotate": "bogus"}}))
    settings.setValue("export/dpi", "a lot")
    settings.setValue("lastDirectory", 12)
    settings.setValue("recentFiles", "x" * 10_000)
    settings.sync()
    window = open_window(qtbot, make_settings(tmp_path))
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.load_startup_content()  # the bad session is refused: the startup example
    assert window.graph_options["annotate"] == "all"
    assert files.setting_int(window, "export/dpi", 300, 36, 1200) == 300
    assert files.last_directory(window) == str(Path.home())
    assert files.recent_files(window) == []
    window.close()
    finish(window)
    stored = make_settings(tmp_path).value("session/last")
    assert "bogus" not in stored
    session_from_json(stored)  # valid, so it comes back at the next start


def test_cancel_stops_a_running_export(qtbot, window, tmp_path, monkeypatch):
    """Esc (the window's Cancel) stops an export: the job sees its cancel event, nothing is
    written and nothing reports success."""
    from core.drawing.render import Cancelled
    from gui import graph_source

    compute_and_draw(qtbot, window, "f = w * w", {"w": 1})
    seen = []

    def slow_export(drawing, fmt, *, cancel=None, **_options):
        seen.append(cancel)
        assert cancel is not None and cancel.wait(30)  # stands for a long Graphviz run
        raise Cancelled()

    monkeypatch.setattr(graph_source, "export", slow_export)
    exported = []
    window.exported.connect(exported.append)
    worker = files.export_graph(window, str(tmp_path / "g.png"), "png", 300)
    qtbot.waitUntil(lambda: bool(seen), timeout=TIMEOUT)
    assert window.cancel_action.isEnabled()
    with qtbot.waitSignal(worker.signals.finished, timeout=TIMEOUT):
        window.cancel()
    assert exported == [] and not (tmp_path / "g.png").exists()
    assert window._export_worker is None


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom", "fifo", "link"])
def test_opening_a_device_or_pipe_as_a_session_changes_nothing(qtbot, window, tmp_path,
                                                               target):
    import os

    compute_and_draw(qtbot, window, "f = w * w", {"w": 2})
    path = target
    if target == "fifo":
        path = str(tmp_path / "s.json")
        os.mkfifo(path)
    elif target == "link":
        path = str(tmp_path / "s.json")
        os.symlink("/dev/zero", path)
    before = window.editor.toPlainText()
    assert not files.open_session(window, path)  # returns at once: nothing waits on a pipe
    assert "not a regular file" in window.statusBar().currentMessage()
    assert window.editor.toPlainText() == before
