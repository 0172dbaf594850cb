"""The expression language: Python syntax, read with ``ast.parse``, accepted from an allow-list.

User text is never given to ``eval`` or ``exec``. :func:`parse` checks the text against the
bounds in :mod:`core.limits`, rejects non-ASCII code (Python folds fullwidth ``ｅxp`` to
``exp``), parses it, and converts each statement into a small tree of the node types below.
Anything not in the language raises :class:`~core.errors.ExpressionError` with its position.
The evaluator (:mod:`core.evaluation.evaluate`) only ever walks these nodes, never Python's AST.
"""
from __future__ import annotations

import ast
import dataclasses
import difflib
import io
import tokenize
from dataclasses import dataclass, field

from core import limits
from core.errors import ExpressionError, LimitError, Span
from core.language import grad_blocks, notebook, pieces, syntax_more
from core.language.astutil import dotted_name
from core.language.functions import (
    ATTRIBUTE_FUNCTIONS,
    BINARY_OPERATORS,
    DTYPES,
    FUNCTIONS,
    MODULE_PREFIXES,
    UNARY_OPERATORS,
)
from core.language.values import VariableSpec

# --------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Node:
    """A node of a parsed expression: where it is in the text and what it says."""

    span: Span
    text: str


@dataclass(frozen=True)
class Number(Node):
    """A numeric constant, held as Python holds it: ``2`` is an int, ``2.0`` a float (torch
    tells them apart: ``torch.max(x, 0)`` reduces along dim 0, ``torch.max(x, 0.0)`` is
    refused; a size, a dim or an index must be an int)."""

    value: int | float


@dataclass(frozen=True)
class Name(Node):
    """A variable: an input, or a name assigned earlier."""

    name: str


@dataclass(frozen=True)
class BinaryOp(Node):
    """``left op right`` for one of ``+ - * / ** @``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class UnaryOp(Node):
    """``-operand`` or ``+operand``."""

    op: str
    operand: Node


@dataclass(frozen=True)
class Literal(Node):
    """Literal data given to a function: nested lists, a size tuple, True/False/None,
    or a dtype name such as ``"float64"``."""

    value: object


@dataclass(frozen=True)
class Call(Node):
    """A call of an allowed function (by bare name, ``torch.NAME`` or as a method)."""

    function: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...] = ()
    #: how the call was spelled: "" (a bare name), "torch" (torch.NAME), "functional"
    #: (F.NAME, torch.nn.functional.NAME) or "method" (x.NAME()); torch's overloads differ
    #: between them (F.softmax(x) picks a dim, torch.softmax(x) refuses)
    namespace: str = ""
    #: "values" / "indices" for ``x.max(d).values`` / ``.indices`` (``[0]`` / ``[1]``): torch
    #: gives those parts only when it reduces along a dim, not for a tensor second operand
    part: str = ""

    def kwarg(self, name: str, default=None):
        """The keyword argument ``name`` as given, or ``default``."""
        for key, value in self.kwargs:
            if key == name:
                return value
        return default


@dataclass(frozen=True)
class Statement:
    """One line of work: ``target = expr``, or a bare expression (``target`` is None)."""

    target: str | None
    expr: Node
    span: Span
    text: str
    #: inside a ``with torch.no_grad():`` block: computed without recording a graph
    no_grad: bool = False
    #: written ``y += e`` (``-=``, ``*=``...): torch changes a tensor y in place, which
    #: core.evaluation.in_place checks against the new tensor the language makes
    augmented: bool = False


@dataclass
class Program:
    """A parsed program: its statements, the names it needs as inputs, and its output."""

    text: str
    statements: list[Statement]
    free_names: list[str] = field(default_factory=list)
    assigned_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: inputs a pasted notebook cell defines (``w = torch.ones(1, requires_grad=True)``):
    #: default values for the variables table, which a value given there replaces
    defaults: dict[str, VariableSpec] = field(default_factory=dict)
    #: the variables of interest a cell named in ``grad(f, [w, z])`` (empty: all inputs)
    wrt: list[str] = field(default_factory=list)
    #: the precision a pasted cell asks for (dtype=torch.float64), or None: the user's choice
    dtype: str | None = None
    #: a pasted cell's repeated backward() calls and .grad resets, in order (see
    #: core.language.notebook.Cell.backward_calls); core.evaluation.repeated_backward runs them as
    #: torch would
    backward_calls: list = field(default_factory=list)
    #: the v of a pasted cell's ``y.backward(v)`` (data, or "ones"), or None: used when the
    #: caller gives no v (core.evaluation.evaluate.evaluate)
    grad_output: object = None

    @property
    def output(self) -> Statement:
        """The last statement, whose value is the program's output."""
        return self.statements[-1]

    @property
    def output_name(self) -> str | None:
        """The name the output is assigned to, if any."""
        return self.output.target


# --------------------------------------------------------------------------- entry points

_READABLE_NODE = {
    "Import": "import statements", "ImportFrom": "import statements",
    "FunctionDef": "function definitions", "AsyncFunctionDef": "function definitions",
    "ClassDef": "class definitions", "Lambda": "lambda functions", "If": "if statements",
    "IfExp": "conditional expressions", "For": "for loops", "While": "while loops",
    "With": "with blocks", "Try": "try blocks", "Raise": "raise", "Return": "return",
    "Delete": "del", "Global": "global", "Nonlocal": "nonlocal", "Assert": "assert",
    "ListComp": "list comprehensions", "SetComp": "set comprehensions",
    "DictComp": "dict comprehensions", "GeneratorExp": "generator expressions",
    "JoinedStr": "f-strings", "FormattedValue": "f-strings", "NamedExpr": "the walrus operator :=",
    "Compare": "comparisons", "BoolOp": "and/or", "Subscript": "indexing with [ ]",
    "Starred": "* unpacking", "Dict": "dictionaries", "Set": "sets", "Await": "await",
    "Yield": "yield", "YieldFrom": "yield", "Slice": "slices", "Match": "match statements",
    "Pass": "pass", "Break": "break", "Continue": "continue", "AnnAssign": "annotations",
}


def parse(text: str) -> Program:
    """Parse ``text`` into a :class:`Program`, or raise :class:`ExpressionError`.

    A pasted notebook cell is read first by :func:`core.language.notebook.preprocess`, which sets
    aside imports and prints, finds the output chosen by ``backward()``/``grad()`` and turns
    leaf definitions into inputs with default values.
    """
    tree = parse_python(text)
    cell = notebook.preprocess(tree.body, text)
    program = build_program(text, cell.body, cell.notes, inputs=cell.defaults)
    program.defaults, program.wrt, program.dtype = cell.defaults, cell.wrt, cell.dtype
    program.backward_calls = cell.backward_calls
    program.grad_output = cell.grad_output
    return program


def parse_python(text: str) -> ast.Module:
    """Check ``text`` against the text bounds and parse it with Python's parser.

    Only parsing happens here (``ast.parse`` never runs code). Raises ExpressionError for
    over-long text, non-ASCII code, syntax errors and nesting past the parser's limits.
    """
    if not isinstance(text, str):
        raise ExpressionError("syntax", "the expression must be text")
    if len(text) > limits.MAX_TEXT_CHARS:
        raise LimitError(f"the text is {len(text):,} characters long; the limit is "
                         f"{limits.MAX_TEXT_CHARS:,} characters")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ExpressionError("syntax", "the text contains a NUL character", Span(line, 1))
    check_ascii(text)
    if not text.strip():
        raise ExpressionError("syntax", "the expression is empty: type something like "
                              "f = w**2 + sin(z)")
    try:
        # a long text in pieces: one call of the parser holds the GIL, a stall of the window
        tree = pieces.parse_module(text)
    except SyntaxError as err:
        raise _syntax_error(err, text) from None
    except (RecursionError, MemoryError):
        raise LimitError(f"the expression is nested too deeply to read (the limit is "
                         f"{limits.MAX_DEPTH} levels)") from None
    except ValueError as err:  # e.g. "Exceeds the limit (4300 digits) for integer string"
        raise ExpressionError("syntax", f"cannot read a number: {err}") from None
    return tree


def check_ascii(text: str) -> None:
    """Reject non-ASCII characters outside comments and string literals.

    Python's parser folds compatibility characters (NFKC), so ``ｅxp`` would mean ``exp`` and
    fullwidth underscores would make a dunder; we refuse them before parsing.
    """
    if text.isascii():
        return
    allowed: list[tuple[tuple[int, int], tuple[int, int]]] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.COMMENT, tokenize.STRING):
                allowed.append((tok.start, tok.end))
    except (tokenize.TokenError, SyntaxError, IndentationError, ValueError):
        allowed = []  # unreadable text: every non-ASCII character is an error
    for line_no, line in enumerate(text.split("\n"), start=1):
        if line.isascii():
            continue
        for col, ch in enumerate(line):
            if ord(ch) < 128:
                continue
            if any(start <= (line_no, col) < end for start, end in allowed):
                continue
            hint = ""
            if ch in "²³":
                hint = " (write powers as **, e.g. x**2)"
            elif ch in "·×":
                hint = " (write multiplication as *)"
            elif ch == "−":
                hint = " (this is a typographic minus; type the ASCII -)"
            raise ExpressionError(
                "syntax", f"the character {ch!r} (U+{ord(ch):04X}) is not allowed in an "
                f"expression; use plain ASCII letters, digits and operators{hint}",
                Span(line_no, col + 1, line_no, col + 2))


def _syntax_error(err: SyntaxError, text: str) -> ExpressionError:
    line = err.lineno or 1
    col = err.offset or 1
    msg = err.msg or "invalid syntax"
    if "too many nested" in msg or "too complex" in msg:
        return LimitError(f"the expression is nested too deeply ({msg}); the limit is "
                          f"{limits.MAX_DEPTH} levels", Span(line, col))
    source_line = text.split("\n")[line - 1] if 0 < line <= text.count("\n") + 1 else ""
    msg = _syntax_hint(msg, source_line, col)
    if "^" in source_line and "**" not in source_line:
        msg += " (for powers write x**2, not x^2)"
    return ExpressionError("syntax", f"syntax error: {msg}", Span(line, col))


def _syntax_hint(msg: str, source_line: str, col: int) -> str:
    """Python's own message, with what to do about it in the language's terms."""
    before = source_line[: max(col - 1, 0)].rstrip()
    if msg.startswith("invalid decimal literal"):
        return "a number runs into a name: write 2*x for a product"
    if msg.startswith("unmatched"):
        return msg + ": it has no opening bracket before it"
    if msg.endswith("was never closed"):
        return msg + ": add the closing bracket"
    if msg.startswith("cannot assign to function call"):
        return ("the left of = must be a single name, as in f = x**2 (defining a function "
                "such as f(x) = ... is not part of the language)")
    if msg.startswith("cannot assign to"):
        return "the left of = must be a single name, as in g1 = 3*w + cos(z)"
    if msg.startswith("unexpected indent"):
        return "unexpected indent: remove the spaces at the start of this line"
    if msg.startswith("unterminated string") or msg.startswith("unterminated triple"):
        return "unterminated text in quotes (text is not part of the language)"
    if msg == "invalid syntax":
        last_word = before.split()[-1] if before.split() else ""
        if last_word in FUNCTIONS or last_word.split(".")[-1] in FUNCTIONS:
            return f"invalid syntax: call a function with parentheses, as in {last_word}(x)"
        if not source_line[max(col - 1, 0):].strip():
            return "invalid syntax: the line ends before the expression is complete"
        return ("invalid syntax: two values stand side by side, or an operator is missing "
                "(write 2*x, x + y)")
    return msg


# --------------------------------------------------------------------------- conversion


def build_program(text: str, body: list[ast.stmt], notes: list[str] | None = None,
                  inputs=()) -> Program:
    """Convert Python statements into a :class:`Program`, checking every node; ``inputs``
    are names a pasted cell defined (they may share a function's name, as ``t`` does)."""
    if len(body) > limits.MAX_STATEMENTS:
        raise LimitError(f"the program has {len(body):,} statements; the limit is "
                         f"{limits.MAX_STATEMENTS:,}", _span(body[limits.MAX_STATEMENTS]))
    if not body:
        raise ExpressionError("syntax", "there is nothing to compute: the text holds only "
                              "comments; type something like f = w**2 + sin(z)")
    converter = _Converter(text)
    converter.assigned.update(inputs)
    statements = []
    flat = grad_blocks.flatten(body)
    if len(flat) > limits.MAX_STATEMENTS:
        raise LimitError(f"the program has {len(flat):,} statements; the limit is "
                         f"{limits.MAX_STATEMENTS:,}", _span(flat[limits.MAX_STATEMENTS][0]))
    for index, (stmt, no_grad) in enumerate(flat):
        is_last = index == len(flat) - 1
        statement = converter.statement(stmt, is_last)
        if no_grad:
            statement = dataclasses.replace(statement, no_grad=True)
        statements.append(statement)
    if statements and grad_blocks.is_seed(statements[-1]):
        raise ExpressionError("unsupported", "torch.manual_seed(...) cannot be the last line: "
                              "the last line is the output", statements[-1].span)
    free, assigned = _names(statements)
    return Program(text=text, statements=statements, free_names=free,
                   assigned_names=assigned,
                   notes=list(notes or []) + _typo_notes(free, assigned))


def _typo_notes(free: list[str], assigned: list[str]) -> list[str]:
    """A name nobody assigns becomes an input; when it is one letter away from a name the
    program does assign (g3 beside g2), that is most likely a typo: say so.

    Linear in the number of names (a pasted program has thousands): every assigned name is
    indexed under each of its one-letter deletions, so a free name finds its neighbours by
    looking up its own deletions instead of being compared with every assigned name."""
    order = {name: index for index, name in enumerate(dict.fromkeys(assigned))}
    by_key: dict[tuple, list[str]] = {}
    for name in order:
        by_key.setdefault(("whole", name), []).append(name)
        for i in range(len(name)):
            shorter = name[:i] + name[i + 1:]
            by_key.setdefault(("at", i, shorter), []).append(name)  # a substitution at i
            by_key.setdefault(("less", shorter), []).append(name)   # one letter more
    notes = []
    for name in free:
        if len(name) <= 1:
            continue
        close = set(by_key.get(("less", name), ()))  # an assigned name with a letter more
        for i in range(len(name)):
            shorter = name[:i] + name[i + 1:]
            close.update(by_key.get(("at", i, shorter), ()))
            close.update(by_key.get(("whole", shorter), ()))  # one letter fewer
        close.discard(name)
        if close:
            options = " or ".join(f"'{other}'" for other in sorted(close, key=order.get))
            notes.append(f"'{name}' is never assigned, so it is an input with a value of its "
                         f"own; did you mean {options}?")
    return notes


def _one_edit_apart(a: str, b: str) -> bool:
    """True if one substitution, insertion or deletion turns ``a`` into ``b``."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def _names(statements: list[Statement]) -> tuple[list[str], list[str]]:
    free: list[str] = []
    assigned: list[str] = []
    for stmt in statements:
        for name in _names_used(stmt.expr):
            if name not in assigned and name not in free:
                free.append(name)
        if stmt.target and stmt.target not in assigned:
            assigned.append(stmt.target)
    return free, assigned


def _names_used(node: Node) -> list[str]:
    """Names read by ``node``, in reading order (iterative: trees can be long chains)."""
    out: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Name):
            out.append(current.name)
        elif isinstance(current, BinaryOp):
            stack.extend((current.right, current.left))
        elif isinstance(current, UnaryOp):
            stack.append(current.operand)
        elif isinstance(current, Call):
            stack.extend(value for _, value in reversed(current.kwargs))
            stack.extend(reversed(current.args))
    return out


def _span(node: ast.AST) -> Span:
    line = getattr(node, "lineno", 1) or 1
    col = (getattr(node, "col_offset", 0) or 0) + 1
    end_line = getattr(node, "end_lineno", None)
    end_col = getattr(node, "end_col_offset", None)
    return Span(line, col, end_line, None if end_col is None else end_col + 1)


def tree_depth(node: ast.AST) -> int:
    """Depth of a Python syntax tree, measured without recursion."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(current))
    return deepest


def _not_allowed(node: ast.AST, what: str | None = None) -> ExpressionError:
    kind = type(node).__name__
    what = what or _READABLE_NODE.get(kind, f"'{kind}'")
    return ExpressionError("unsupported", f"{what}: not part of the expression language, "
                           "which has assignments like g = 3*w + cos(z) and a final expression",
                           _span(node))


def _suggest(name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


class _Converter:
    """Turns Python AST nodes into language nodes, raising on anything not allowed."""

    def __init__(self, text: str):
        self.text = text
        # ast.get_source_segment splits the whole text on every call (quadratic on a
        # 5,000-line chain), so keep the lines once.
        self.lines = text.splitlines(keepends=True)
        # names assigned so far: a variable may share a function's name (t, dot, max)
        self.assigned: set[str] = set()

    def _source(self, node: ast.AST) -> str:
        """The text of ``node`` (ast offsets are UTF-8 byte columns)."""
        try:
            first, last = node.lineno - 1, node.end_lineno - 1
            start, end = node.col_offset, node.end_col_offset
        except (AttributeError, TypeError):
            return ""
        if first == last:
            return _byte_slice(self.lines[first], start, end)
        parts = [_byte_slice(self.lines[first], start, None)]
        parts.extend(self.lines[first + 1:last])
        parts.append(_byte_slice(self.lines[last], 0, end))
        return "".join(parts)

    # statements ---------------------------------------------------------------

    def statement(self, stmt: ast.stmt, is_last: bool) -> Statement:
        # Every level of a syntax tree costs at least one character of source, apart from
        # a few leaf levels (contexts, operators), so a short one-line statement cannot be
        # too deep; measuring only the others keeps a 5,000-line chain fast to read.
        short = (stmt.end_lineno == stmt.lineno
                 and stmt.end_col_offset - stmt.col_offset + 5 < limits.MAX_DEPTH)
        depth = 0 if short else tree_depth(stmt)
        if depth > limits.MAX_DEPTH:
            raise LimitError(f"this statement is nested {depth} levels deep; the limit is "
                             f"{limits.MAX_DEPTH} levels", _span(stmt))
        if isinstance(stmt, ast.Assign):
            if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
                raise ExpressionError("unsupported", "assign to one plain name, as in "
                                      "g1 = 3*w + cos(z)", _span(stmt))
            value = self.expr(stmt.value)
            target = self._target_name(stmt.targets[0])
            return Statement(target, value, _span(stmt), self._source(stmt.value))
        if isinstance(stmt, ast.AugAssign):
            op = BINARY_OPERATORS.get(type(stmt.op).__name__)
            if op is None:
                raise self._operator_error(stmt.op, stmt)
            right = self.expr(stmt.value)
            target = self._target_name(stmt.target)
            left = Name(_span(stmt.target), target, target)
            expr = BinaryOp(_span(stmt), self._source(stmt), op, left, right)
            return Statement(target, expr, _span(stmt), self._source(stmt), augmented=True)
        if isinstance(stmt, ast.Expr):
            value = self.expr(stmt.value)  # first: what is refused in it is the better message
            if isinstance(value, Call) and value.function == "manual_seed":
                return Statement(None, value, _span(stmt), self._source(stmt.value))
            if not is_last:
                raise ExpressionError(
                    "unsupported", "this line computes a value but does not name it; give it "
                    "a name (g = ...) or move it to the end, where it becomes the output",
                    _span(stmt))
            return Statement(None, value, _span(stmt), self._source(stmt.value))
        raise _not_allowed(stmt)

    def _target_name(self, node: ast.expr) -> str:
        if not isinstance(node, ast.Name):
            raise ExpressionError("unsupported", "assign to one plain name, as in "
                                  "g1 = 3*w + cos(z)", _span(node))
        self._check_name(node.id, node)
        if node.id in ("torch", "nn"):
            raise ExpressionError("name", f"'{node.id}' names the torch module; choose "
                                  "another name for this value", _span(node))
        self.assigned.add(node.id)
        return node.id

    @staticmethod
    def _check_name(name: str, node: ast.AST) -> None:
        if name.startswith("_"):
            raise ExpressionError("name", f"names starting with an underscore ('{name}') are "
                                  "not allowed", _span(node))

    # expressions --------------------------------------------------------------

    def expr(self, node: ast.expr) -> Node:
        span, text = _span(node), self._source(node)
        if isinstance(node, ast.Constant):
            return Number(span, text, self._number(node))
        if isinstance(node, ast.Name):
            self._check_name(node.id, node)
            if node.id in FUNCTIONS and node.id not in self.assigned:
                raise ExpressionError("name", f"'{node.id}' is a function: call it, as in "
                                      f"{node.id}(x)", span)
            if node.id in ("torch", "nn"):
                raise ExpressionError("name", f"'{node.id}' is only used before a function "
                                      f"name, as in {node.id}.sin(x)", span)
            return Name(span, text, node.id)
        if isinstance(node, ast.BinOp) and type(node.op).__name__ in syntax_more.OPERATOR_CALLS:
            # x // y and x % y are torch.floor_divide and torch.remainder
            return Call(span, text, syntax_more.OPERATOR_CALLS[type(node.op).__name__],
                        (self.expr(node.left), self.expr(node.right)))
        if isinstance(node, ast.BinOp):
            op = BINARY_OPERATORS.get(type(node.op).__name__)
            if op is None:
                raise self._operator_error(node.op, node)
            return BinaryOp(span, text, op, self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.UnaryOp):
            op = UNARY_OPERATORS.get(type(node.op).__name__)
            if op is None:
                raise self._operator_error(node.op, node)
            return UnaryOp(span, text, op, self.expr(node.operand))
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Attribute):
            return self.attribute(node)
        if isinstance(node, ast.Subscript):
            return syntax_more.subscript(self, node)
        if isinstance(node, ast.Compare):
            return syntax_more.comparison(self, node)
        if isinstance(node, ast.Tuple):
            raise ExpressionError("unsupported", "a comma here makes a tuple, which the "
                                  "language does not have: remove the comma (one value per "
                                  "name)", span)
        if isinstance(node, ast.List):
            raise ExpressionError("unsupported", "lists are values, not expressions: put "
                                  "them in the variables table, or write torch.tensor([...])",
                                  span)
        raise _not_allowed(node)

    def _number(self, node: ast.Constant) -> int | float:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            what = {str: "text in quotes", bytes: "bytes", type(None): "None",
                    bool: "True/False", complex: "complex numbers"}.get(type(value), repr(value))
            if isinstance(value, complex):
                what = "complex numbers"
            raise ExpressionError("unsupported", f"{what} cannot be used here; the language "
                                  "computes with numbers and tensors", _span(node))
        try:
            number = float(value)
        except OverflowError:
            raise LimitError("this number is too large to represent as a float",
                             _span(node)) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise LimitError("this number is too large to represent as a float", _span(node))
        return value if isinstance(value, int) else number

    def _operator_error(self, op: ast.AST, node: ast.AST) -> ExpressionError:
        name = type(op).__name__
        hints = {
            "BitXor": "'^' is not a power in Python: write x**2",
            "BitAnd": "'&' is not part of the language", "BitOr": "'|' is not part of the language",
            "FloorDiv": "'//' (integer division) is not differentiable: use /",
            "Mod": "'%' is not part of the language",
            "LShift": "'<<' is not part of the language",
            "RShift": "'>>' is not part of the language",
            "Not": "'not' is not part of the language",
            "Invert": "'~' is not part of the language",
        }
        return ExpressionError("unsupported", hints.get(name, f"the operator {name} is not part "
                               "of the language") + "; the operators are + - * / ** @",
                               _span(node))

    # calls --------------------------------------------------------------------

    def _function_name(self, func: ast.expr) -> tuple[str, ast.expr | None]:
        """The allowed function a call names, and the tensor it is a method of (if any)."""
        if isinstance(func, ast.Name):
            self._check_name(func.id, func)
            if func.id not in FUNCTIONS or not FUNCTIONS[func.id].bare:
                raise ExpressionError("name", f"unknown function '{func.id}'"
                                      f"{_suggest(func.id, FUNCTIONS)}; see Help > Functions "
                                      "for the list", _span(func))
            return func.id, None
        if isinstance(func, ast.Attribute):
            if func.attr.startswith("_"):
                raise ExpressionError("name", f"names starting with an underscore "
                                      f"('{func.attr}') are not allowed", _span(func))
            dotted = dotted_name(func)
            if dotted and dotted[0] == "F" and "F" in self.assigned:
                dotted = None  # F is the user's variable here (as in the seed): F.sum() is a method
            if dotted in syntax_more.LINALG:  # torch.linalg.solve(A, b): its own function
                return syntax_more.LINALG[dotted], None
            if dotted and dotted[:-1] in MODULE_PREFIXES:
                name = dotted[-1]
                if name not in FUNCTIONS or not FUNCTIONS[name].bare:
                    raise ExpressionError(
                        "name", f"'{'.'.join(dotted)}' is not one of the functions the "
                        f"language allows{_suggest(name, FUNCTIONS)}", _span(func))
                return name, None
            if dotted and dotted[0] in ("torch", "nn") or (dotted and dotted[0] == "F"
                                                            and "F" not in self.assigned):
                raise ExpressionError("name", f"'{'.'.join(dotted)}' is not one of the "
                                      "functions the language allows", _span(func))
            spec = FUNCTIONS.get(func.attr)
            if spec is None or not spec.method:
                raise ExpressionError("name", f"'.{func.attr}()' is not a method the language "
                                      f"allows{_suggest(func.attr, FUNCTIONS)}", _span(func))
            return func.attr, func.value
        raise ExpressionError("unsupported", "only named functions can be called, as in "
                              "sin(x) or torch.sin(x)", _span(func))

    def call(self, node: ast.Call) -> Call:
        name, receiver = self._function_name(node.func)
        spec = FUNCTIONS[name]
        span, text = _span(node), self._source(node)
        args: list[Node] = []
        sequence_dim: list[tuple[str, Node]] = []
        if receiver is not None:
            args.append(self.expr(receiver))
        for position, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                raise _not_allowed(arg)
            if position == 0 and receiver is None and spec.sequence:
                args.extend(syntax_more.tensor_sequence(self, name, arg))
                continue
            if spec.sequence and position == 1:  # torch.stack([x, y], 1): the dim
                sequence_dim.append(("dim", self._argument(arg, False)))
                continue
            if spec.sequence:
                raise ExpressionError("unsupported", f"{name}() takes a list of tensors and a "
                                      "dim", _span(arg))
            args.append(self._argument(arg, spec.constructor))
        if spec.sequence and receiver is not None:
            raise ExpressionError("unsupported", f"{name}() takes a list of tensors, as in "
                                  f"torch.{name}([x, y], dim=0)", span)
        moved = syntax_more.positional_options(name, args) + sequence_dim
        if name == "where" and receiver is not None and len(args) == 3:
            args[0], args[1] = args[1], args[0]  # x.where(cond, y) is where(cond, x, y)
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            if spec.max_args is None:
                count = f"at least {spec.min_args}"
            elif spec.min_args == spec.max_args:
                count = str(spec.min_args)
            else:
                count = f"{spec.min_args} to {spec.max_args}"
            raise ExpressionError("unsupported", f"{name}() takes {count} argument"
                                  f"{'s' if count != '1' else ''}, but {len(args)} "
                                  f"{'were' if len(args) != 1 else 'was'} given", span)
        kwargs: list[tuple[str, Node]] = list(moved)
        for kw in node.keywords:
            if kw.arg is None:
                raise ExpressionError("unsupported", "** unpacking is not part of the language",
                                      _span(kw))
            key = syntax_more.keyword_alias(name, kw.arg)
            if key not in spec.kwargs:
                allowed = ", ".join(sorted(spec.kwargs)) or "none"
                raise ExpressionError("unsupported", f"{name}() has no keyword argument "
                                      f"'{kw.arg}' here (allowed: {allowed})", _span(kw.value))
            if any(existing == key for existing, _ in kwargs):
                raise ExpressionError("unsupported", f"{name}() got '{key}' twice",
                                      _span(kw.value))
            kwargs.append((key, self._keyword_value(kw.value)))
        return Call(span, text, name, tuple(args), tuple(kwargs),
                    _namespace(node.func, receiver))

    def _argument(self, node: ast.expr, constructor: bool) -> Node:
        infinite = syntax_more.float_literal(node)
        if infinite is not None:  # norm(x, float('inf'))
            return Number(_span(node), self._source(node), infinite)
        if isinstance(node, (ast.List, ast.Tuple)) or (
                constructor and _is_literal(node) and not isinstance(node, ast.BinOp)):
            # (a bare 2 * 3 or 0 + 0.5 is arithmetic on numbers, evaluated as Python does)
            return Literal(_span(node), self._source(node), self._literal(node))
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or node.value is None
                                               or isinstance(node.value, str)):
            return Literal(_span(node), self._source(node), syntax_more.plain_constant(node))
        return self.expr(node)

    def _keyword_value(self, node: ast.expr) -> Node:
        span, text = _span(node), self._source(node)
        infinite = syntax_more.float_literal(node)
        if infinite is not None:  # p=float('inf')
            return Number(span, text, infinite)
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool) or node.value is None):
            return Literal(span, text, node.value)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            # reduction="sum", approximate="tanh", p="fro": checked by the function itself
            return Literal(span, text, syntax_more.plain_constant(node))
        if isinstance(node, ast.Attribute):
            dotted = dotted_name(node)
            if dotted and len(dotted) == 2 and dotted[0] == "torch" and dotted[1] in DTYPES:
                return Literal(span, text, DTYPES[dotted[1]])
            if dotted and len(dotted) == 2 and dotted[0] == "torch" \
                    and dotted[1] in syntax_more.TENSOR_DTYPES:
                return Literal(span, text, syntax_more.TENSOR_DTYPES[dotted[1]])
            if dotted in syntax_more.CONSTANTS:
                return Number(span, text, syntax_more.CONSTANTS[dotted])
            raise ExpressionError("unsupported", "only a dtype such as torch.float64 or "
                                  "torch.long can be named here", span)
        if _is_literal(node) and not isinstance(node, ast.BinOp):
            return Literal(span, text, self._literal(node))
        # a tensor as a keyword argument (target=y, weight=w): an expression like any other
        return self.expr(node)

    def _literal(self, node: ast.expr):
        """Literal data: numbers (with a sign), and lists/tuples of them (iterative)."""
        if not _is_literal(node):
            raise ExpressionError("unsupported", "only numbers and lists of numbers can be "
                                  "written here", _span(node))
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._literal(elt) for elt in node.elts]
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value  # torch.tensor([True, False]) is a boolean tensor
        if isinstance(node, ast.BinOp):
            return self._whole_arithmetic(node)
        sign = 1.0
        while isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                sign = -sign
            node = node.operand
        value = self._number(node)
        value = sign * value
        return int(value) if isinstance(node.value, int) else value

    def _whole_arithmetic(self, node: ast.BinOp) -> int:
        """``5 * 4`` inside a written size: whole numbers only, within int64."""
        left, right = self._literal(node.left), self._literal(node.right)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right)):
            raise ExpressionError("unsupported", "arithmetic inside a written size or list "
                                  "takes whole numbers only, as in (-1, 28 * 28)", _span(node))
        if isinstance(node.op, ast.FloorDiv) and right == 0:
            raise ExpressionError("value", "division by zero", _span(node))
        value = {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right,
                 ast.FloorDiv: left // right if right else 0}[type(node.op)]
        if abs(value) > _SIZE_LIMIT:
            raise ExpressionError("limit", "this whole number is too large", _span(node))
        return value

    def attribute(self, node: ast.Attribute) -> Node:
        if node.attr.startswith("_"):
            raise ExpressionError("name", f"names starting with an underscore ('{node.attr}') "
                                  "are not allowed", _span(node))
        if node.attr in ATTRIBUTE_FUNCTIONS:
            receiver = self.expr(node.value)
            function = ATTRIBUTE_FUNCTIONS[node.attr]
            return Call(_span(node), self._source(node), function, (receiver,))
        special = syntax_more.attribute(self, node)
        if special is not None:
            return special
        dotted = dotted_name(node)
        if dotted and dotted[0] in ("torch", "F", "nn") and dotted[-1] in FUNCTIONS:
            raise ExpressionError("unsupported", f"'{'.'.join(dotted)}' is a function: call "
                                  f"it, as in {'.'.join(dotted)}(x)", _span(node))
        raise ExpressionError("unsupported", f"attribute access ('.{node.attr}') is not part of "
                              "the language; only torch.<function>(...) and x.T are",
                              _span(node))


def _namespace(func: ast.expr, receiver) -> str:
    """How a call names its function (see :attr:`Call.namespace`)."""
    if receiver is not None:
        return "method"
    if isinstance(func, ast.Name):
        return ""
    dotted = dotted_name(func) or ()
    return "torch" if tuple(dotted[:-1]) == ("torch",) else "functional"


def _byte_slice(line: str, start: int, end: int | None) -> str:
    if line.isascii():
        return line[start:end]
    return line.encode("utf-8")[start:end].decode("utf-8", errors="replace")


def _is_literal(node: ast.expr) -> bool:
    """True for a number (possibly signed) or a list/tuple of literals (checked iteratively)."""
    stack = [node]
    while stack:
        current = stack.pop()
        while isinstance(current, ast.UnaryOp) and isinstance(current.op, (ast.USub, ast.UAdd)):
            current = current.operand
        if isinstance(current, (ast.List, ast.Tuple)):
            stack.extend(current.elts)
        elif isinstance(current, ast.BinOp) and _whole_arithmetic(current):
            continue  # x.view((-1, 28 * 28)); float arithmetic stays an expression
        elif not (isinstance(current, ast.Constant)
                  and isinstance(current.value, (int, float, bool))):
            return False
    return True


def _whole_arithmetic(node: ast.expr) -> bool:
    """True for ``+ - * //`` of whole-number constants (``28 * 28``), checked iteratively."""
    stack = [node]
    while stack:
        current = stack.pop()
        while isinstance(current, ast.UnaryOp) and isinstance(current.op, (ast.USub, ast.UAdd)):
            current = current.operand
        if isinstance(current, ast.BinOp) and isinstance(current.op, _SIZE_ARITHMETIC):
            stack.extend((current.left, current.right))
        elif not (isinstance(current, ast.Constant) and type(current.value) is int):
            return False
    return True


#: whole-number arithmetic allowed inside written sizes and lists: (5 * 4, 6), (-1, 28*28)
_SIZE_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv)
#: the largest whole number such arithmetic may make (torch's int64)
_SIZE_LIMIT = 2 ** 63 - 1
