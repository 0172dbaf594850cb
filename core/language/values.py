"""Values typed by the user: a number or a rectangular nested list, read without ``eval``.

``parse_value("[[1, 0.5], [0.2, 0.1]]")`` gives ``[[1.0, 0.5], [0.2, 0.1]]``; the shape is
checked (rectangular, within :data:`core.limits.MAX_ELEMENTS`) before any tensor exists.
A value may also be written as torch's constructors write it, ``ones(100, 300)``,
``zeros(3)``, ``full((2, 3), 0.5)``, ``eye(3)``: it is then kept as a :class:`Filled` (shape
and fill), never expanded into a list of a million numbers.
"""
from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass

from core import limits
from core.errors import ExpressionError, LimitError, Span

CONSTRUCTORS = ("ones", "zeros", "full", "eye")
#: A number as Python writes it (1, -2.5, 1e-3, .5): read with float() directly.
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


@dataclass(frozen=True)
class Filled:
    """A value made by a constructor: ``kind`` "full" (every entry ``fill``: ones, zeros,
    full) or "eye" (ones on the diagonal), of ``shape``. Kept as such so that a pasted
    ``torch.ones(1000, 1000)`` costs nothing until the tensor is made."""

    kind: str
    shape: tuple[int, ...]
    fill: float = 1.0

    @property
    def numel(self) -> int:
        """How many entries the tensor has."""
        return math.prod(self.shape)

    def text(self) -> str:
        """The value as the constructor call that makes it (parse_value reads it back)."""
        dims = ", ".join(str(n) for n in self.shape)
        if self.kind == "eye":
            return f"eye({dims})"
        if self.fill == 1.0:
            return f"ones({dims})"
        if self.fill == 0.0:
            return f"zeros({dims})"
        sizes = f"({dims},)" if len(self.shape) == 1 else f"({dims})"
        return f"full({sizes}, {self.fill!r})"

    def to_tensor(self, dtype, requires_grad: bool = False):
        """The tensor itself (torch imported here, on first use)."""
        import torch

        if self.kind == "eye":
            tensor = torch.eye(*self.shape, dtype=dtype)
        else:
            tensor = torch.full(self.shape, self.fill, dtype=dtype)
        return tensor.requires_grad_(requires_grad)

    def to_list(self):
        """The value as a nested list (for the few places that need one; small values)."""
        if self.kind == "eye":
            n, m = self.shape
            return [[1.0 if i == j else 0.0 for j in range(m)] for i in range(n)]
        value = float(self.fill)
        for n in reversed(self.shape):
            value = [value] * n
        return check_value(value)  # copies every level: no shared rows


@dataclass(frozen=True)
class VariableSpec:
    """An input of a program: its name, its value (number or nested list), and whether
    autograd should compute its gradient (``False`` marks a constant)."""

    name: str
    value: float | list
    requires_grad: bool = True

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the value (``()`` for a number)."""
        return shape_of(self.value)


def parse_value(text: str, where: str = "value") -> float | list:
    """Read a number or nested list of numbers from ``text``.

    Raises :class:`ExpressionError` (with ``where`` naming the field) for anything else,
    including ragged lists, non-finite numbers and values past the size bounds.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return _check_number(float(text), where)
    if isinstance(text, list):
        return check_value(text, where)
    if not isinstance(text, str):
        raise ExpressionError("value", "a value must be a number or a nested list", where=where)
    text = text.strip()
    if _PLAIN_NUMBER.fullmatch(text):  # the common case, without a syntax tree
        return _check_number(float(text), where)
    if not text:
        raise ExpressionError("value", "the value is empty: type a number such as 1.5 or a "
                              "list such as [[1, 0.5], [0.2, 0.1]]", where=where)
    if len(text) > limits.MAX_VALUE_CHARS:
        raise LimitError(f"the value is {len(text):,} characters long; the limit is "
                         f"{limits.MAX_VALUE_CHARS:,}", where=where)
    if not text.isascii():
        raise ExpressionError("value", "use plain digits, '.', '-', ',' and brackets",
                              where=where)
    # Nesting deeper than MAX_DIMS cannot be a valid value; refuse before parsing.
    depth, deepest = 0, 0
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        deepest = max(deepest, depth)
    if deepest > limits.MAX_DIMS:
        raise LimitError(f"the value has {deepest} levels of brackets; the limit is "
                         f"{limits.MAX_DIMS} dimensions", where=where)
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError) as err:
        col = getattr(err, "offset", None)
        raise ExpressionError("value", "not a number or a list of numbers "
                              f"({getattr(err, 'msg', err)})",
                              Span(1, col) if col else None, where=where) from None
    if isinstance(node, ast.Call):
        return _constructed(node, where)
    return check_value(_literal(node, where), where)


def _constructed(node: ast.Call, where: str) -> Filled:
    """``ones(2, 3)``, ``zeros((2, 3))``, ``full((2, 3), 0.5)``, ``eye(3)``, ``eye(2, 3)``
    (optionally as ``torch.ones``) as a :class:`Filled`."""
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
            and func.value.id == "torch":
        name = func.attr
    else:
        name = func.id if isinstance(func, ast.Name) else None
    if name not in CONSTRUCTORS or node.keywords:
        raise ExpressionError("value", "a value is a number, a list of numbers, or one of "
                              "ones(2, 3), zeros(3), full((2, 3), 0.5), eye(3)", where=where)
    args = [_literal(arg, where) for arg in node.args]
    fill = 1.0
    if name == "full":
        if len(args) != 2 or isinstance(args[1], list):
            raise ExpressionError("value", "full needs a size and a number, as in "
                                  "full((2, 3), 0.5)", where=where)
        fill = _check_number(args[1], where)
        args = args[:1]
    elif name == "zeros":
        fill = 0.0
    if len(args) == 1 and isinstance(args[0], list):
        args = args[0]
    if not args or not all(not isinstance(n, list) and float(n).is_integer() and n >= 0
                           for n in args):  # zeros(4, 0): an empty tensor, as torch makes
        raise ExpressionError("value", "sizes must be whole numbers (0 or more), as in "
                              "ones(2, 3)", where=where)
    shape = tuple(int(n) for n in args)
    if name == "eye":
        if len(shape) > 2:
            raise ExpressionError("value", "eye takes one or two sizes", where=where)
        shape = shape * 2 if len(shape) == 1 else shape
    return check_value(Filled("eye" if name == "eye" else "full", shape, fill), where)


def _literal(node: ast.AST, where: str):
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(elt, where) for elt in node.elts]
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        try:
            return sign * float(node.value)
        except OverflowError:
            raise LimitError("a number in the value is too large", where=where) from None
    raise ExpressionError("value", "only numbers and lists of numbers are values "
                          f"(found {type(node).__name__.lower()})",
                          Span(1, getattr(node, "col_offset", 0) + 1), where=where)


def _check_number(x: float, where: str) -> float:
    if not math.isfinite(x):
        raise ExpressionError("value", "values must be finite numbers", where=where)
    return x


def shape_of(value) -> tuple[int, ...]:
    """Shape of a number (``()``), of a :class:`Filled` or of a rectangular nested list."""
    if isinstance(value, Filled):
        return value.shape
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape)


def check_value(value, where: str = "value"):
    """Check that ``value`` is a finite number or a rectangular, non-empty nested list
    within the size bounds; returns it with every number as a float (a :class:`Filled` is
    checked by its shape and returned as it is)."""
    if isinstance(value, Filled):
        if len(value.shape) > limits.MAX_DIMS:
            raise LimitError(f"the value has {len(value.shape)} dimensions; the limit is "
                             f"{limits.MAX_DIMS}", where=where)
        if value.numel > limits.MAX_ELEMENTS:
            raise LimitError(f"the value has {value.numel:,} entries; the limit is "
                             f"{limits.MAX_ELEMENTS:,}", where=where)
        _check_number(value.fill, where)
        return value
    if not isinstance(value, list):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError("value", "values must be numbers", where=where)
        return _check_number(float(value), where)
    shape = shape_of(value)
    if len(shape) > limits.MAX_DIMS:
        raise LimitError(f"the value has {len(shape)} dimensions; the limit is "
                         f"{limits.MAX_DIMS}", where=where)
    if 0 in shape:
        raise ExpressionError("value", "a list must not be empty", where=where)
    count = math.prod(shape)
    if count > limits.MAX_ELEMENTS:
        raise LimitError(f"the value has {count:,} entries; the limit is "
                         f"{limits.MAX_ELEMENTS:,}", where=where)

    def walk(item, depth, path):
        if depth == len(shape):
            if isinstance(item, list):
                raise ExpressionError("value", f"the list is not rectangular: {_place(path)} "
                                      "is nested deeper than the others", where=where)
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise ExpressionError("value", "values must be numbers", where=where)
            return _check_number(float(item), where)
        if not isinstance(item, list) or len(item) != shape[depth]:
            first = _place((1,) * len(path))  # shape[depth] was read from the first row
            got = f"has {_entries(len(item))}" if isinstance(item, list) else "is a number"
            raise ExpressionError("value", f"the list is not rectangular: {_place(path)} {got}"
                                  f", but {first} has {_entries(shape[depth])}", where=where)
        return [walk(sub, depth + 1, (*path, i + 1)) for i, sub in enumerate(item)]

    return walk(value, 0, ())


def _place(path: tuple[int, ...]) -> str:
    """Where in a nested list, counted from 1 as people count rows: ``row 2``, ``row 2, 3``."""
    return "row " + ", ".join(str(i) for i in path) if path else "the list"


def _entries(count: int) -> str:
    """``1 entry``, ``3 entries``."""
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def format_shape(shape) -> str:
    """``(2, 2)`` -> ``"2×2"``; ``()`` -> ``"scalar"``."""
    shape = tuple(shape)
    return "scalar" if not shape else "×".join(str(n) for n in shape)
