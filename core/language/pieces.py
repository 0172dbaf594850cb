"""Python's parser on a long text, a piece at a time.

``ast.parse`` is one call into C that holds the GIL until it returns: 15 ms for a pasted
program of 2,000 short lines and about 90 ms for 120,000 characters here, several times that
on a busy machine. The window parses long texts on a worker thread, and its GUI thread needs
the GIL for everything it does, so one such call was a stall of the window (issue 13: 166 ms
with the CPU busy). Here a long text is cut between top-level statements into pieces of about
:data:`PIECE_CHARS` characters; each piece is parsed on its own and the statements are put
together with their real line numbers. The GIL changes hands between pieces.

Cuts are made before a line that starts in column 0 with a name (``x = ...``, ``import``,
``f.backward()``), except ``else``/``elif``/``except``/``finally`` and after a backslash: such a
line begins a new statement unless it lies inside brackets or a triple-quoted string. Only the
last piece can fail for a reason of its own; when an earlier one fails the cut may have been
wrong, and the rest of the text is parsed once in a child process (:mod:`core.sandbox`),
which gives the exact places of its statements (the rest is then cut there) or Python's own
error for it. Either way the tree and the error are those of ``ast.parse`` on the whole text.
"""
from __future__ import annotations

import ast
import itertools
import re

from core.errors import LimitError

#: Texts up to this many characters are parsed in one call (a few ms); longer ones by pieces
#: of about this size.
PIECE_CHARS = 4000
#: The child process's budgets for reading the rest of a text after a wrong cut.
CHILD_SECONDS = 60.0
CHILD_MEMORY_BYTES = 2 * 1024**3

_CONTINUING = ("else", "elif", "except", "finally")
_ON_LINE = re.compile(r"\b(on|at) line (\d+)")


def parse_module(text: str) -> ast.Module:
    """``ast.parse(text)``, in pieces when the text is long; raises what ``ast.parse`` raises
    (SyntaxError with the line numbers of the whole text, ValueError, RecursionError,
    MemoryError), or LimitError if the child process reading a text runs out of time or
    memory."""
    if len(text) <= PIECE_CHARS:
        return ast.parse(text, mode="exec")
    lines = source_lines(text)
    body: list[ast.stmt] = []
    start = 0
    for end in _cuts(lines):
        piece = "".join(lines[start:end])
        try:
            tree = ast.parse(piece, mode="exec")
        except SyntaxError as err:
            if end < len(lines):  # the cut may be inside brackets or a string
                body += _parse_rest_exactly(lines, start)
                return ast.Module(body=body, type_ignores=[])
            raise _shifted(err, start) from None
        body += _shifted_body(tree, start)
        start = end
    return ast.Module(body=body, type_ignores=[])


def source_lines(text: str) -> list[str]:
    """The lines of ``text`` with their line ends, as Python's parser counts lines (``\\n``,
    ``\\r\\n`` and ``\\r`` end a line; form feeds and other separators do not)."""
    lines, current = [], ""
    for part in text.splitlines(keepends=True):
        current += part
        if current.endswith(("\n", "\r")):
            lines.append(current)
            current = ""
    if current:
        lines.append(current)
    return lines


def _cuts(lines: list[str]):
    """Line indices to cut before (the last one is ``len(lines)``): at the first line that may
    begin a statement once a piece has :data:`PIECE_CHARS` characters."""
    size = 0
    for index, line in enumerate(lines):
        if size >= PIECE_CHARS and _may_begin_statement(line, lines[index - 1]):
            yield index
            size = 0
        size += len(line)
    yield len(lines)


def _may_begin_statement(line: str, previous: str) -> bool:
    if not (line[:1].isalpha() or line[:1] == "_"):
        return False
    if previous.rstrip("\r\n").endswith("\\"):
        return False
    word = re.match(r"[A-Za-z_][A-Za-z0-9_]*", line).group()
    return word not in _CONTINUING


def _shifted_body(tree: ast.Module, offset: int) -> list[ast.stmt]:
    """The piece's statements with line numbers counted from the start of the text."""
    if offset:
        ast.increment_lineno(tree, offset)
    return tree.body


def _shifted(err: SyntaxError, offset: int) -> SyntaxError:
    """A piece's SyntaxError with the whole text's line numbers (the message's own too: "...
    after 'with' statement on line 3", "... (detected at line 9)")."""
    if not offset:
        return err
    msg = _ON_LINE.sub(lambda m: f"{m.group(1)} line {int(m.group(2)) + offset}", err.msg or "")
    shifted = type(err)(msg, (err.filename, (err.lineno or 1) + offset, err.offset, err.text,
                              err.end_lineno and err.end_lineno + offset, err.end_offset))
    return shifted


def _parse_rest_exactly(lines: list[str], start: int) -> list[ast.stmt]:
    """Parse ``lines[start:]``, cutting only where the child process found statements to
    end; raise its SyntaxError (shifted) if the rest does not parse."""
    from core import sandbox

    rest = lines[start:]
    try:
        spans = sandbox.run_bounded(statement_lines, ("".join(rest),), seconds=CHILD_SECONDS,
                                    memory_bytes=CHILD_MEMORY_BYTES)
    except SyntaxError as err:
        raise _shifted(err, start) from None
    except sandbox.BudgetExceeded as err:
        raise LimitError(f"the text is too long to read ({err})") from None
    body: list[ast.stmt] = []
    piece_start = 0
    for cut in _exact_cuts(spans, rest):
        tree = ast.parse("".join(rest[piece_start:cut]), mode="exec")
        body += _shifted_body(tree, start + piece_start)
        piece_start = cut
    return body


def _exact_cuts(spans: list[tuple[int, int]], lines: list[str]):
    """Line indices between statements (``spans``: their 1-based first and last lines) that
    make pieces of about :data:`PIECE_CHARS` characters; the last one is ``len(lines)``."""
    offsets = list(itertools.accumulate((len(line) for line in lines), initial=0))
    piece_start = 0
    for (_, last), (first, _) in zip(spans, spans[1:], strict=False):
        cut = first - 1
        if last < first and offsets[cut] - offsets[piece_start] >= PIECE_CHARS:
            yield cut
            piece_start = cut
    yield len(lines)


def statement_lines(text: str) -> list[tuple[int, int]]:
    """The first and last line of each top-level statement of ``text`` (run in a child
    process by :func:`_parse_rest_exactly`: there one long call of the parser stalls no
    window)."""
    return [(node.lineno, node.end_lineno) for node in ast.parse(text, mode="exec").body]
