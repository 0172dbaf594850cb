"""The window's document: what is open (a session, a program file, an example or nothing),
whether it has unsaved edits, and the save/discard/cancel prompt before they would be lost.

Desktop conventions (Qt's ``[*]`` title placeholder, QMessageBox's Save/Discard/Cancel): the
title names the file or example and carries a modified marker; New, loading an example,
opening a file and Quit ask first when there are unsaved edits. The text's own modified flag is
``QTextDocument.isModified`` (undoing back to the saved text clears it again); edits of values,
switches and the dtype set :attr:`values_modified` on the window.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from core import limits
from core.errors import ExpressionError

APP_TITLE = "Autograd Explorer"


# ------------------------------------------------------------------ modified marker

def is_modified(w) -> bool:
    """True if the text, a value, a switch or the dtype changed since the last open or save."""
    return w.editor.document().isModified() or bool(getattr(w, "values_modified", False))


def mark_clean(w, name: str | None = None) -> None:
    """What is on screen is now the saved (or freshly loaded) state, called ``name``
    (a file or example name; None for an untitled document)."""
    w.document_name = name
    w.values_modified = False
    w.editor.document().setModified(False)
    update_title(w)


def mark_values_modified(w) -> None:
    """A value, switch or the dtype was edited by the user."""
    w.values_modified = True
    update_title(w)


def update_title(w) -> None:
    """``name[*] — Autograd Explorer``; Qt shows ``*`` in place of ``[*]`` while modified."""
    name = getattr(w, "document_name", None) or "Untitled"
    w.setWindowTitle(f"{name}[*] — {APP_TITLE}")
    w.setWindowModified(is_modified(w))


# ------------------------------------------------------------------ the prompt

def maybe_save(w, doing: str) -> bool:
    """Before ``doing`` (e.g. "start a new expression") replaces unsaved edits, ask:
    Save (then go on if the save worked), Discard (go on), Cancel (stay). True to go on.

    With ``w.quiet_dialogs`` (automated runs with nobody to answer) the edits are discarded
    without asking, as a dialog would block forever."""
    if not is_modified(w):
        return True
    if getattr(w, "quiet_dialogs", False):
        return True
    buttons = QMessageBox.StandardButton
    box = QMessageBox(QMessageBox.Icon.Warning, APP_TITLE,
                      f"Save the changes to {getattr(w, 'document_name', None) or 'Untitled'}"
                      f" before you {doing}?", buttons.Save | buttons.Discard | buttons.Cancel, w)
    box.setObjectName("savePrompt")
    box.setInformativeText("Your changes will be lost if you don't save them.")
    box.setDefaultButton(buttons.Save)
    box.setEscapeButton(buttons.Cancel)
    answer = box.exec()
    if answer == buttons.Discard:
        return True
    if answer == buttons.Save:
        from gui import files

        files.save_session_action(w)
        return not is_modified(w)  # a cancelled or failed save keeps the edits: stay
    return False


# ------------------------------------------------------------------ opening a file

def read_program_file(path: str | Path) -> str:
    """The text of a program or notebook-cell file: a regular file, UTF-8, within the text
    limit (core.safe_io: at most one character more than it is read, so /dev/zero or a huge
    file cannot fill memory, and a pipe nobody writes to is refused, not waited on).
    Raises ExpressionError (kind ``file``)."""
    from core.safe_io import read_text_file
    return read_text_file(path, limits.MAX_TEXT_CHARS, "a program")


def is_session_file(path: str | Path) -> bool:
    """A ``.json`` file, or one whose text starts with ``{`` (a session saved under another
    name); anything else is read as a program or notebook cell."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return True
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False  # a device or a pipe: never opened here (a FIFO would block)
        with open(path, "rb") as handle:
            return handle.read(64).lstrip().startswith(b"{")
    except OSError:
        return False


def open_path(w, path: str | Path) -> bool:
    """Open a session (JSON) or a program / notebook-cell file given on the command line or
    chosen in a dialog; on a problem say so and change nothing. True if opened."""
    from gui import files

    if is_session_file(path):
        return files.open_session(w, str(path))
    try:
        text = read_program_file(path)
    except ExpressionError as err:
        w.statusBar().showMessage(str(err), 15000)
        w.failed.emit(err)
        return False
    w.example = None
    w.example_label.setVisible(False)
    w.session_path = None  # a program file is not a session: Save asks where to put one
    w.forget_result()
    w.variables.forget()
    w.editor.set_text(text)
    w.on_text_changed()
    w.commit_names()
    mark_clean(w, Path(path).name)
    w.statusBar().showMessage(f"Opened {Path(path).name}", 5000)
    w.compute_now()
    return True
