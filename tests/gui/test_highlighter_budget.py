"""The editor's colours of a long paste come over several passes of the event loop
(gui/highlighter.py, issue 13: colouring 2,000 lines at once was most of the paste's time on
the GUI thread), and end exactly as colouring everything at once gives them."""
from __future__ import annotations

import math

from gui import highlighter
from gui.editor import ExpressionEditor

PROGRAM = "\n".join(f"v{i} = sin(u{i}) + 2.5 * w  # line {i}" for i in range(2000))


def colours(editor) -> list:
    """Every line's (start, length, colour) format ranges."""
    block = editor.document().firstBlock()
    lines = []
    while block.isValid():
        lines.append([(r.start, r.length, r.format.foreground().color().name())
                      for r in block.layout().formats()])
        block = block.next()
    return lines


def test_a_long_paste_is_coloured_over_passes_as_all_at_once(qtbot, monkeypatch):
    editor = ExpressionEditor()
    qtbot.addWidget(editor)
    editor.selectAll()
    editor.insertPlainText(PROGRAM)
    assert editor.highlighter.waiting()  # the paste itself coloured only the first lines
    qtbot.waitUntil(lambda: not editor.highlighter.waiting(), timeout=10_000)
    by_passes = colours(editor)

    monkeypatch.setattr(highlighter, "BUDGET_MS", math.inf)
    reference = ExpressionEditor()
    qtbot.addWidget(reference)
    reference.selectAll()
    reference.insertPlainText(PROGRAM)
    assert not reference.highlighter.waiting()
    assert by_passes == colours(reference)
    assert by_passes[-1] and by_passes[1000]  # coloured, not left plain


def test_typing_into_a_long_text_colours_the_typed_line_at_once(qtbot):
    editor = ExpressionEditor()
    qtbot.addWidget(editor)
    editor.set_text(PROGRAM)
    qtbot.waitUntil(lambda: not editor.highlighter.waiting(), timeout=10_000)
    qtbot.wait(20)  # a later pass of the event loop, as a key press is
    editor.moveCursor(editor.textCursor().MoveOperation.End)
    editor.insertPlainText("\nq = exp(x)")
    last = colours(editor)[-1]
    assert (4, 3, highlighter.ExpressionHighlighter.RULES[1][1].foreground().color().name()) \
        in last  # exp, as an allowed function
