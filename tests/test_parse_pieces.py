"""A long text is parsed a piece at a time (core/language/pieces.py, issue 13: one call of
Python's parser held the GIL and stalled the window). The reference is ``ast.parse`` on the
whole text: the same tree, line numbers included, and the same error at the same place."""
from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ExpressionError
from core.language import pieces
from core.language.parser import parse

PROGRAM = "\n".join(f"v{i} = u{i} + 1" for i in range(2000))
HALF = len(PROGRAM) // 2


def outcome(read, text: str):
    """The tree with positions, or the error's message and place."""
    try:
        return ast.dump(read(text), include_attributes=True)
    except SyntaxError as err:
        return ("SyntaxError", err.msg, err.lineno, err.offset, err.end_lineno, err.end_offset)


def whole(text: str) -> ast.Module:
    return ast.parse(text, mode="exec")


def inserted(fragment: str, at: int = HALF) -> str:
    """PROGRAM with ``fragment`` on lines of its own at about character ``at``."""
    cut = PROGRAM.index("\n", at)
    return PROGRAM[:cut] + "\n" + fragment + PROGRAM[cut:]


CASES = {
    "2,000 statements": PROGRAM,
    "windows line ends": PROGRAM.replace("\n", "\r\n"),
    "old mac line ends": PROGRAM.replace("\n", "\r"),
    "a call continued in column 0": inserted("x = f(\na,\nb)"),
    "a triple-quoted string with code-like lines": inserted('print("""\nhello\nw = 3\n""")'),
    "a backslash continuation": inserted("y = 1 + \\\nz"),
    "an if/else at the top level": inserted("if x:\n    y = 1\nelse:\n    y = 2"),
    "a with block": inserted("with torch.no_grad():\n    y = x * 2\nq = y"),
    "a bracket open until the end": inserted("x = [1,", 3000) + "\n]",
    "a syntax error early": inserted("x = = 1", 3000),
    "a syntax error in the last piece": PROGRAM + "\nx = (1 +",
    "a bracket never closed, early": inserted("x = (1,", 3000),
    "a with block without a body, early": inserted("with a:", 3000),
    "a closing bracket not matching one on an earlier line": inserted("x = (1,\n2]", 3000),
    "an unterminated triple-quoted string": inserted('s = """abc', 3000),
    "comments and blank lines in column 0": inserted("# a comment\n\n   \n# another"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_pieces_give_what_the_parser_gives_on_the_whole_text(name):
    text = CASES[name]
    assert len(text) > pieces.PIECE_CHARS * 4
    assert outcome(pieces.parse_module, text) == outcome(whole, text)


def test_every_call_of_the_parser_reads_a_short_piece(monkeypatch):
    longest = []
    real = ast.parse

    def recording(source, *args, **kwargs):
        longest.append(len(source))
        return real(source, *args, **kwargs)

    monkeypatch.setattr(pieces.ast, "parse", recording)
    tree = pieces.parse_module(PROGRAM)
    assert len(tree.body) == 2000 and len(longest) >= len(PROGRAM) // (pieces.PIECE_CHARS + 40)
    # a piece ends at the first statement after PIECE_CHARS: one short line more at most
    assert max(longest) < pieces.PIECE_CHARS + 40


def test_the_program_read_in_pieces_keeps_its_positions():
    program = parse(PROGRAM)
    last = program.statements[-1]
    assert last.target == "v1999" and last.text == "u1999 + 1" and last.span.line == 2000
    with pytest.raises(ExpressionError) as err:
        parse(inserted("x = = 1", 3000))
    line = PROGRAM[:PROGRAM.index("\n", 3000)].count("\n") + 2
    assert err.value.span.line == line and "syntax error" in err.value.message


def test_an_error_message_naming_a_line_names_the_whole_texts_line():
    text = PROGRAM + "\nwith torch.no_grad():\nz = 1"
    with pytest.raises(SyntaxError) as err:
        pieces.parse_module(text)
    assert f"on line {PROGRAM.count(chr(10)) + 2}" in err.value.msg


LINE = st.sampled_from(["a = b + 1", "c = f(", "d,", "e)", "'''", "x = '''", "with a:",
                        "    y = 2", "else:", "if a:", "# note", "", "z = [1,", "2]", "w = 3 \\",
                        "+ 4", "v = )", "u = (1, 2)"])


@settings(max_examples=25, deadline=None)
@given(st.lists(LINE, min_size=1, max_size=30), st.integers(0, 1100))
def test_any_lines_inserted_read_as_the_parser_reads_them(lines, at):
    text = inserted("\n".join(lines), at * 30)
    assert outcome(pieces.parse_module, text) == outcome(whole, text)
