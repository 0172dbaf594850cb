"""Issue 13, "Never losing work": the modified marker, the save/discard/cancel prompt on New,
loading an example, opening a file and Quit, undo across example loads, and opening a file
named on the command line (or refusing a mistyped sub-command)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from gui import document, files
from gui.examples import load_examples, startup_example
from tests.gui.conftest import TIMEOUT, compute_and_draw, finish, make_settings, open_window

ROOT = Path(__file__).resolve().parents[2]
SUM = next(e for e in load_examples() if e.title.startswith("Sum"))


def type_into_editor(qtbot, window, text: str) -> None:
    """Type at the end of the editor as a user would (key presses)."""
    window.editor.setFocus()
    window.editor.moveCursor(window.editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(window.editor, text)


def answer_prompt(button) -> list:
    """Click ``button`` on the save prompt when it appears; returns a list that receives
    the prompt's text (empty if no prompt came)."""
    seen = []

    def click():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            box.button(button).click()
        else:
            QTimer.singleShot(20, click)

    QTimer.singleShot(0, click)
    return seen


@pytest.fixture
def asking(qtbot, tmp_path):
    """The window with its prompts on (as for a user); pytest-qt closes it before fixtures
    end, so the prompts are turned off just before that close (nobody to answer then)."""
    from gui.main_window import MainWindow

    window = MainWindow(settings=make_settings(tmp_path))
    qtbot.addWidget(window, before_close_func=lambda w: setattr(w, "quiet_dialogs", True))
    with qtbot.waitSignal(window.torchReady, timeout=TIMEOUT):
        window.start_loading()
    yield window
    finish(window)


def test_title_names_the_example_and_marks_edits_until_undone(qtbot, window):
    window.load_example(SUM)
    assert "Sum" in window.windowTitle() and not window.isWindowModified()
    type_into_editor(qtbot, window, "  # note")
    assert window.isWindowModified()
    assert window.windowTitle().replace("[*]", "*").count("*") == 1  # Qt's marker slot
    window.editor.undo()
    assert window.editor.toPlainText() == SUM.expression
    assert not window.isWindowModified()  # back at the loaded text: nothing unsaved
    window.variables.set_value("w", "2.5")  # a value edit is a modification too
    assert window.isWindowModified()


def test_new_asks_and_cancel_keeps_the_edits(qtbot, asking):
    asking.load_example(SUM)
    type_into_editor(qtbot, asking, " + w")
    edited = asking.editor.toPlainText()
    seen = answer_prompt(QMessageBox.StandardButton.Cancel)
    asking.new_action.trigger()
    assert seen and "Save the changes" in seen[0]
    assert asking.editor.toPlainText() == edited and asking.isWindowModified()


def test_new_discard_clears_and_undo_brings_the_text_back(qtbot, asking):
    asking.load_example(SUM)
    type_into_editor(qtbot, asking, " + w")
    edited = asking.editor.toPlainText()
    seen = answer_prompt(QMessageBox.StandardButton.Discard)
    asking.new_action.trigger()
    assert seen
    assert asking.editor.toPlainText() == "" and not asking.isWindowModified()
    assert asking.variables.names() == []
    asking.editor.undo()
    assert asking.editor.toPlainText() == edited


def test_save_in_the_prompt_writes_the_session_first(qtbot, asking, tmp_path):
    path = tmp_path / "lesson.json"
    compute_and_draw(qtbot, asking, "f = w * 3", {"w": "2"})
    assert files.save_session_to(asking, str(path))
    assert "lesson.json" in asking.windowTitle() and not asking.isWindowModified()
    asking.variables.set_value("w", "7")
    seen = answer_prompt(QMessageBox.StandardButton.Save)
    asking.new_action.trigger()
    assert seen
    assert json.loads(path.read_text())["variables"]["w"]["value"] == "7"
    assert asking.editor.toPlainText() == ""


def test_loading_an_example_asks_and_ctrl_z_brings_the_replaced_text_back(qtbot, asking):
    compute_and_draw(qtbot, asking, "f = q * q", {"q": "3"})
    type_into_editor(qtbot, asking, " + q")
    typed = asking.editor.toPlainText()
    seen = answer_prompt(QMessageBox.StandardButton.Discard)
    asking.choose_example(SUM)
    assert seen and SUM.title in seen[0]
    assert asking.editor.toPlainText() == SUM.expression
    asking.editor.setFocus()
    qtbot.keyClick(asking.editor, "z", modifier=qtbot_ctrl())
    assert asking.editor.toPlainText() == typed


def qtbot_ctrl():
    from PySide6.QtCore import Qt

    return Qt.KeyboardModifier.ControlModifier


def test_quit_asks_and_cancel_keeps_the_window_open(qtbot, asking):
    asking.show()
    qtbot.waitExposed(asking)
    type_into_editor(qtbot, asking, "f = a * b")
    seen = answer_prompt(QMessageBox.StandardButton.Cancel)
    assert not asking.close()
    assert seen and asking.isVisible()


def test_no_prompt_without_edits(qtbot, asking):
    asking.load_example(SUM)
    assert document.maybe_save(asking, "start a new expression")  # no dialog: nothing lost


def test_opening_a_program_file_and_a_session_names_them_in_the_title(qtbot, window,
                                                                      tmp_path):
    cell = tmp_path / "homework.py"
    cell.write_text("import torch\nx = torch.tensor(2.0, requires_grad=True)\n"
                    "y = x ** 3\ny.backward()\n", encoding="utf-8")
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        assert document.open_path(window, str(cell))
    assert window.windowTitle().startswith("homework.py")
    assert window.result.quantity("x").grad == pytest.approx(12.0)  # 3 x² at 2
    session = tmp_path / "lesson.json"
    assert files.save_session_to(window, str(session))
    window.editor.set_text("")
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        assert document.open_path(window, str(session))
    assert window.windowTitle().startswith("lesson.json")
    assert "y = x ** 3" in window.editor.toPlainText()


def test_a_file_named_at_start_up_is_opened_instead_of_the_last_session(qtbot, tmp_path):
    program = tmp_path / "cell.txt"
    program.write_text("f = exp(a) * a", encoding="utf-8")
    window = open_window(qtbot, make_settings(tmp_path))
    with qtbot.waitSignal(window.drawn, timeout=TIMEOUT):
        window.load_startup_content(str(program))
    assert window.windowTitle().startswith("cell.txt")
    assert window.editor.toPlainText() == "f = exp(a) * a"
    finish(window)


def test_a_file_that_is_not_regular_or_too_long_is_refused_with_a_message(qtbot, window,
                                                                          tmp_path):
    big = tmp_path / "big.py"
    big.write_text("x" * 200_001, encoding="utf-8")
    before = window.editor.toPlainText()
    with qtbot.waitSignal(window.failed, timeout=TIMEOUT):
        assert not document.open_path(window, str(big))
    assert window.editor.toPlainText() == before
    if os.path.exists("/dev/zero"):
        with qtbot.waitSignal(window.failed, timeout=TIMEOUT):
            assert not document.open_path(window, "/dev/zero")


@pytest.mark.parametrize("argv, suggestion", [
    (["comptue", "f = w", "--var", "w=1"], "did you mean 'compute'"),
    (["rendr", "f = w"], "did you mean 'render'"),
    (["stesp"], "did you mean 'steps'"),
])
def test_a_mistyped_sub_command_is_an_error_with_a_suggestion(argv, suggestion, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and suggestion in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_main_opens_a_program_file_in_the_window(tmp_path):
    program = tmp_path / "lesson.py"
    program.write_text("f = w * w", encoding="utf-8")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "main.py", str(program), "--startup-time",
                             "--quit-after-draw"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "opened lesson.py" in result.stdout
    assert any(line.startswith("graph drawn") for line in result.stdout.splitlines())


def test_a_restored_program_whose_compute_never_finished_waits_for_compute(qtbot, tmp_path):
    settings = make_settings(tmp_path)
    first = open_window(qtbot, settings)
    compute_and_draw(qtbot, first, "f = w * sin(w)", {"w": "0.5"})
    first.close()
    finish(first)
    settings.setValue("compute/unfinished", True)  # as if the window froze and was killed
    settings.sync()
    second = open_window(qtbot, make_settings(tmp_path))
    second.load_startup_content()
    qtbot.wait(300)
    assert second.editor.toPlainText() == "f = w * sin(w)"
    assert second.result is None and not second.compute_jobs.busy
    assert "did not finish" in second.statusBar().currentMessage()
    with qtbot.waitSignal(second.drawn, timeout=TIMEOUT):
        second.compute_now()  # the user presses Compute
    assert not files.last_compute_unfinished(second)
    finish(second)


def test_start_up_restores_the_name_and_modified_marker(qtbot, tmp_path):
    settings = make_settings(tmp_path)
    first = open_window(qtbot, settings)
    with qtbot.waitSignal(first.drawn, timeout=TIMEOUT):
        first.load_example(startup_example())
    first.auto_action.setChecked(False)
    first.variables.set_value("w", "2.0")
    assert first.isWindowModified()
    first.close()
    finish(first)
    second = open_window(qtbot, make_settings(tmp_path))
    with qtbot.waitSignal(second.drawn, timeout=TIMEOUT):
        second.load_startup_content()
    assert second.windowTitle().startswith("Chain rule") and second.isWindowModified()
    finish(second)
