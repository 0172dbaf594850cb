"""Where file dialogs start and what they suggest: one remembered folder per kind of file
(sessions, graph exports, step PDFs, PNG frames), and a default name from the example or the
session (``chain-rule.svg``, ``my-lesson-steps.pdf``), not ``graph.svg`` every time.

A teacher keeps sessions in one folder and slides in another; with one shared "last folder"
every export started where the last session was saved.
"""
from __future__ import annotations

import re
from pathlib import Path

#: the kinds of file that keep a folder of their own (settings keys under "folders/")
KINDS = ("session", "graph", "steps", "frames")


def default_stem(w) -> str:
    """A file name without suffix: the session's, else the example's title
    (``Chain rule: f = ...`` -> ``chain-rule``), else ``graph``."""
    if getattr(w, "session_path", None):
        return Path(w.session_path).stem
    example = getattr(w, "example", None)
    if example is not None and w.editor.toPlainText() == example.expression:
        return slug(example.title.split(":")[0]) or "graph"
    return "graph"


def slug(text: str) -> str:
    """``Chain rule (seed)`` -> ``chain-rule-seed``: safe in a file name on every system."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]


def folder(w, kind: str) -> str:
    """The folder the last file of ``kind`` went to (else the last folder of any kind,
    else the home folder)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind of file {kind!r}")
    from gui.files import last_directory

    value = w.settings.value(f"folders/{kind}", "")
    if not isinstance(value, str) or not value or len(value) > 4096 or "\0" in value:
        return last_directory(w)  # validated there: a hand-edited setting is ignored
    return value


def start_path(w, kind: str, suffix: str = "") -> str:
    """Where a dialog for ``kind`` starts: its folder and the default name + ``suffix``
    (``-steps.pdf``, ``.svg``; empty for a folder chooser without a name)."""
    return str(Path(folder(w, kind)) / (default_stem(w) + suffix)) if suffix else folder(w, kind)


def remember(w, kind: str, path: str, is_folder: bool = False) -> None:
    """Remember the folder of ``path`` (or ``path`` itself if it is the folder) for
    ``kind``; also as the last folder of any kind, for kinds not used yet."""
    place = str(Path(path) if is_folder else Path(path).parent)
    w.settings.setValue(f"folders/{kind}", place)
    w.settings.setValue("lastDirectory", place)


def caption(w) -> str | None:
    """The program as a caption for graph exports, if File > Caption Graph Exports with
    the Program is on."""
    action = getattr(w, "caption_action", None)
    result = getattr(w, "drawn_result", None) or getattr(w, "result", None)
    if action is None or not action.isChecked() or result is None:
        return None
    from core.drawing.render import program_caption

    return program_caption(result.evaluation.program)
