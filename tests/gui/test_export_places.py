"""Exports in a lesson: names from the example or session, a folder per kind of file, a
new folder for frames typed by name, short dialog titles, the program as a caption, and a
message after Copy Results."""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog

from gui import files, step_files
from gui.examples import load_examples
from tests.gui.conftest import TIMEOUT, compute_and_draw, wait_for_steps

CHAIN = next(e for e in load_examples() if e.title.startswith("Chain rule"))


class Dialogs:
    """Records what the file dialogs were asked, and answers with the given paths."""

    def __init__(self, monkeypatch, answers):
        self.asked = []
        self.answers = list(answers)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", self._save)
        monkeypatch.setattr(QFileDialog, "getOpenFileName", self._save)

    def _save(self, parent, title, start, filters="", *args):
        self.asked.append((title, start))
        return self.answers.pop(0), ""


def load_chain(qtbot, window):
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.load_example(CHAIN)
    wait_for_steps(qtbot, window)  # the exports of steps need them (written after the graph)


def test_default_names_and_a_folder_per_kind(qtbot, window, tmp_path, monkeypatch):
    load_chain(qtbot, window)
    graphs, sessions, handouts = tmp_path / "slides", tmp_path / "sessions", tmp_path / "pdf"
    for folder in (graphs, sessions, handouts):
        folder.mkdir()
    dialogs = Dialogs(monkeypatch, [str(graphs / "a.svg"), str(sessions / "lesson.json"),
                                    str(handouts / "h.pdf"), "", "", ""])
    monkeypatch.setattr(QInputDialog, "getItem", lambda _w, _t, _l, items, *a, **k:
                        (items[0], True))  # the step deck's layout: slides
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        files.export_dialog(window)
    title, start = dialogs.asked[-1]
    assert title == "Export Graph" and Path(start).name == "chain-rule.svg"
    files.save_session_dialog(window)
    assert Path(dialogs.asked[-1][1]).name == "chain-rule.json"
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        step_files.export_steps_pdf_dialog(window)
    # now each kind starts in its own folder, named after the session
    files.export_dialog(window)
    assert dialogs.asked[-1][1] == str(graphs / "lesson.svg")
    files.save_session_dialog(window)
    assert dialogs.asked[-1][1] == str(sessions / "lesson.json")
    step_files.export_steps_pdf_dialog(window)
    assert dialogs.asked[-1][1] == str(handouts / "lesson-steps.pdf")
    # short titles: nothing for the window manager to cut off
    assert all(len(title) <= 24 for title, _ in dialogs.asked)


def test_frames_dialog_makes_a_new_folder_typed_by_name(qtbot, window, tmp_path,
                                                       monkeypatch):
    load_chain(qtbot, window)
    window.settings.setValue("folders/frames", str(tmp_path))
    seen = {}

    def exec_(dialog):
        seen["title"] = dialog.windowTitle()
        seen["suggested"] = dialog.selectedFiles()[0]
        dialog.selectFile("week-3-frames")  # typed into the name box: it does not exist
        dialog.accept()
        return dialog.result()

    monkeypatch.setattr(step_files.FramesFolderDialog, "exec", exec_)
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: (48, True))
    monkeypatch.setattr(QInputDialog, "getItem", lambda _w, _t, _l, items, *a, **k:
                        (items[0], True))
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        step_files.export_steps_frames_dialog(window)
    target = tmp_path / "week-3-frames"
    assert seen["title"] == "Export Frames"
    assert Path(seen["suggested"]) == tmp_path / "chain-rule-frames"
    frames = sorted(target.glob("page-*.png"))
    # the deck: title, 10 forward values, the 12 steps, summary
    assert len(window.result.trace.steps) == 12 and len(frames) == 1 + 10 + 12 + 1
    assert window.settings.value("folders/frames") == str(target)


def test_frames_dialog_chooses_an_existing_folder_instead_of_opening_it(qtbot, window,
                                                                       tmp_path):
    load_chain(qtbot, window)
    (tmp_path / "old").mkdir()
    window.settings.setValue("folders/frames", str(tmp_path))
    dialog = step_files.FramesFolderDialog(window)
    dialog.selectFile(str(tmp_path / "old"))
    dialog.accept()
    assert dialog.result() == QFileDialog.DialogCode.Accepted
    assert Path(dialog.selectedFiles()[0]) == tmp_path / "old"
    dialog.deleteLater()


def caption_lines(svg: str) -> list[str]:
    """The graph's own label in Graphviz's SVG: text directly in the graph group, outside
    every node and edge."""
    ns = "{http://www.w3.org/2000/svg}"
    root = ElementTree.fromstring(svg)
    graph = next(g for g in root.iter(ns + "g") if g.get("class") == "graph")
    return [t.text for t in graph.findall(ns + "text")]


def test_caption_puts_the_program_under_exports(qtbot, window, tmp_path):
    compute_and_draw(qtbot, window, "g = 3*w + cos(z)\nf = exp(g) * z", {"w": 1, "z": 2})
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        files.export_graph(window, str(tmp_path / "plain.svg"), "svg")
    assert caption_lines((tmp_path / "plain.svg").read_text()) == []
    window.caption_action.setChecked(True)
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        files.export_graph(window, str(tmp_path / "captioned.svg"), "svg")
    lines = caption_lines((tmp_path / "captioned.svg").read_text())
    assert lines == ["g = 3*w + cos(z)", "f = exp(g) * z"]
    assert window.settings.value("export/caption") in (True, "true")


def test_copy_results_says_so(qtbot, window):
    window.copy_results()
    assert "No results" in window.statusBar().currentMessage()
    compute_and_draw(qtbot, window, "f = x * y", {"x": 2.0, "y": 3.0})
    window.copy_results()
    assert window.statusBar().currentMessage().startswith("Copied 3 rows")
    assert QApplication.clipboard().text().splitlines()[1].startswith("f\t6")
