"""The parts of Python's syntax a course notebook uses beyond calls and operators: indexing
and slicing (``x[0, 1:3]``), comparisons (``x > 0``), lists of tensors
(``torch.stack([x, y])``), ``x.max(dim=1).values`` / ``x.max(1)[0]``, ``math.pi``, and the
positional and keyword spellings torch accepts (``torch.max(x, 1, True)``, ``axis=``).

Each form becomes an ordinary :class:`core.language.parser.Call` of an allowed function (indexing is
the function ``getitem``, ``x > 0`` is ``gt``), so the evaluator, the symbolic translation and
every walker of the tree see nothing new. Indices and slice bounds must be whole numbers
written out (or a tensor, for a mask or a list of positions): they are read here, never run.
"""
from __future__ import annotations

import ast
import math

from core.errors import ExpressionError, Span
from core.language.astutil import dotted_name
from core.language.functions import FUNCTIONS

#: ``math.pi`` and friends: names that stand for a number.
CONSTANTS: dict[tuple[str, ...], float] = {
    ("math", "pi"): math.pi, ("math", "e"): math.e, ("math", "tau"): math.tau,
    ("torch", "pi"): math.pi, ("torch", "e"): math.e,
    ("np", "pi"): math.pi, ("np", "e"): math.e, ("numpy", "pi"): math.pi,
    ("numpy", "e"): math.e,
    ("math", "inf"): math.inf, ("torch", "inf"): math.inf, ("np", "inf"): math.inf,
}

#: ``dtype=torch.long`` and the other non-float dtypes a tensor may have.
TENSOR_DTYPES: dict[str, str] = {
    "long": "int64", "int64": "int64", "int": "int32", "int32": "int32", "bool": "bool",
}

#: torch.linalg's functions, each the language function it is (linalg.norm takes ord=,
#: which differs from torch.norm's p=, so it is a function of its own)
LINALG: dict[tuple[str, ...], str] = {
    ("torch", "linalg", "solve"): "solve", ("torch", "linalg", "norm"): "linalg_norm",
    ("torch", "linalg", "vector_norm"): "vector_norm", ("torch", "linalg", "det"): "det",
    ("torch", "linalg", "inv"): "inverse", ("torch", "linalg", "slogdet"): "slogdet",
    ("torch", "slogdet"): "slogdet", ("torch", "logdet"): "logdet",
}

#: comparison operators and the torch function each one is
COMPARISONS = {"Gt": "gt", "Lt": "lt", "GtE": "ge", "LtE": "le", "Eq": "eq", "NotEq": "ne"}

#: functions whose result is (values, indices) in torch, and the function giving the indices
_WITH_INDICES = {"max": "argmax", "min": "argmin", "sort": "argsort", "median": None,
                 "topk": None}

#: operators that are torch functions: x // y, x % y
OPERATOR_CALLS = {"FloorDiv": "floor_divide", "Mod": "remainder"}

#: positional arguments torch accepts after the tensor, moved to their keyword:
#: function -> names of positions 2, 3, ... (position 1 stays positional)
_POSITIONAL_OPTIONS = {
    **{name: ("keepdim",) for name in ("max", "min", "sum", "mean", "prod", "logsumexp",
                                        "amax", "amin", "argmax", "argmin")},
    "var": ("unbiased", "keepdim"), "std": ("unbiased", "keepdim"),
}

#: the longest text in quotes an argument may hold (reduction="mean", an einsum formula)
MAX_STRING = 64


def _span(node: ast.AST) -> Span:
    line = getattr(node, "lineno", 1) or 1
    col = (getattr(node, "col_offset", 0) or 0) + 1
    end_col = getattr(node, "end_col_offset", None)
    return Span(line, col, getattr(node, "end_lineno", None),
                None if end_col is None else end_col + 1)


def float_literal(node: ast.expr) -> float | None:
    """``float('inf')``, ``float('-inf')`` and ``float('nan')`` as notebooks write them."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float" \
            and len(node.args) == 1 and not node.keywords \
            and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        text = node.args[0].value.strip().lower()
        return {"inf": math.inf, "+inf": math.inf, "-inf": -math.inf, "infinity": math.inf,
                "-infinity": -math.inf}.get(text)
    return None


def plain_constant(node: ast.Constant):
    """True/False/None, or a short text in quotes (checked by the function it is given to)."""
    value = node.value
    if isinstance(value, str):
        if len(value) > MAX_STRING or not value.isascii() or not value.isprintable():
            raise ExpressionError("unsupported", f"text in quotes here is at most {MAX_STRING} "
                                  "plain characters (such as reduction='sum')", _span(node))
    return value


def keyword_alias(function: str, key: str) -> str:
    """``axis=`` is numpy's name for ``dim=``, which torch accepts too."""
    spec = FUNCTIONS.get(function)
    if key == "axis" and spec is not None and "dim" in spec.kwargs:
        return "dim"
    return key


def positional_options(function: str, args: list) -> list:
    """Move options given by position (``torch.max(x, 1, True)``) to their keywords;
    returns the ``(keyword, node)`` pairs and shortens ``args``."""
    names = _POSITIONAL_OPTIONS.get(function)
    moved = []
    if names and len(args) > 2:
        extra = args[2:]
        del args[2:]
        if len(extra) > len(names):
            raise ExpressionError("unsupported", f"{function}() takes at most "
                                  f"{2 + len(names)} arguments, but {2 + len(extra)} were given",
                                  extra[len(names)].span)
        moved = list(zip(names, extra))
    return moved


def tensor_sequence(converter, function: str, node: ast.expr) -> list:
    """The tensors of ``torch.stack([x, y])``: a list or tuple written out."""
    if not isinstance(node, (ast.List, ast.Tuple)):
        raise ExpressionError("unsupported", f"{function}() takes a list of tensors written "
                              f"out, as in torch.{function}([x, y])", _span(node))
    if not node.elts:
        raise ExpressionError("unsupported", f"{function}() needs at least one tensor",
                              _span(node))
    out = []
    for element in node.elts:
        if isinstance(element, ast.Starred):
            raise ExpressionError("unsupported", "* unpacking is not part of the language",
                                  _span(element))
        out.append(converter.expr(element))
    return out


def comparison(converter, node: ast.Compare):
    """``x > 0`` -> ``gt(x, 0)``: a mask of True/False, which carries no gradient."""
    from core.language.parser import Call

    if len(node.ops) != 1:
        raise ExpressionError("unsupported", "compare two values at a time (a < b); chained "
                              "comparisons such as a < b < c are not part of the language",
                              _span(node))
    function = COMPARISONS.get(type(node.ops[0]).__name__)
    if function is None:
        raise ExpressionError("unsupported", f"'{type(node.ops[0]).__name__}' comparisons are "
                              "not part of the language; use < <= > >= == !=", _span(node))
    left = converter.expr(node.left)
    right = converter.expr(node.comparators[0])
    return Call(_span(node), converter._source(node), function, (left, right))


def _int_literal(node: ast.expr) -> int | None:
    """A whole number written out (with a sign), or None."""
    sign = 1
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sign * node.value
    return None


def _dim_given(call) -> bool:
    """True when a max/min call reduces along a dim (so it has values and indices)."""

    if call.function in ("sort", "topk"):
        return True  # values and indices always
    if call.kwarg("dim") is not None:
        return True
    # a second argument: a dim when it is an int; whether it is one (a name, arithmetic)
    # is known when the program runs, which refuses a tensor there (torch gives no .values)
    return len(call.args) > 1


def _part(converter, node: ast.AST, call, which: int):
    """``x.max(dim=1).values`` (which 0) or ``.indices`` (which 1), as one call."""
    from core.language.parser import Call

    span, text = _span(node), converter._source(node)
    if which == 0:
        return Call(span, text, call.function, call.args, call.kwargs, part="values")
    if _WITH_INDICES[call.function] is None:
        raise ExpressionError("unsupported", f"the indices of {call.function}() are not part "
                              "of the language; its values are", span)
    kwargs = list(call.kwargs)
    args = call.args
    if len(args) > 1 and call.kwarg("dim") is None:
        kwargs.insert(0, ("dim", args[1]))
        args = args[:1]
    return Call(span, text, _WITH_INDICES[call.function], args, tuple(kwargs), part="indices")


def _slogdet_part(converter, node, call, which: int):
    """``slogdet(A)[1]`` / ``.logabsdet``: log |det A|; ``[0]`` / ``.sign``: the sign of
    det A (which carries no gradient)."""
    from core.language.parser import Call

    span, text = _span(node), converter._source(node)
    if which == 1:
        return Call(span, text, "slogdet", call.args, call.kwargs)
    return Call(span, text, "sign", (Call(call.span, call.text, "det", call.args),))


def attribute(converter, node: ast.Attribute):
    """``math.pi``, ``x.mT``, ``x.max(dim=1).values``; None for any other attribute."""
    from core.language.parser import Call, Number

    dotted = dotted_name(node)
    if dotted in CONSTANTS:
        return Number(_span(node), converter._source(node), CONSTANTS[dotted])
    if node.attr == "mT":
        receiver = converter.expr(node.value)
        span = _span(node)
        return Call(span, converter._source(node), "transpose",
                    (receiver, Number(span, "-2", -2), Number(span, "-1", -1)))
    if node.attr in ("sign", "logabsdet") and isinstance(node.value, ast.Call):
        call = converter.expr(node.value)
        if isinstance(call, Call) and call.function == "slogdet":
            return _slogdet_part(converter, node, call, 0 if node.attr == "sign" else 1)
    if node.attr in ("values", "indices") and isinstance(node.value, ast.Call):
        call = converter.expr(node.value)
        if isinstance(call, Call) and call.function in _WITH_INDICES:
            if not _dim_given(call):
                raise ExpressionError(
                    "unsupported", f"{call.function}() without dim gives one number, which has "
                    f"no .{node.attr}; write {call.function}(dim=...).{node.attr}", _span(node))
            return _part(converter, node, call, 0 if node.attr == "values" else 1)
    return None



def subscript(converter, node: ast.Subscript):
    """``x[0]``, ``x[1:3]``, ``x[:, 0]``, ``x[..., -1]``, ``x[None]``, ``x[mask]``,
    ``x[[0, 2]]``, and ``x.max(1)[0]`` / ``[1]`` (values / indices)."""
    from core.language.parser import Call, Literal

    span, text = _span(node), converter._source(node)
    index = node.slice
    if isinstance(node.value, ast.Call):
        position = _int_literal(index)
        call = converter.expr(node.value)
        if position in (0, 1) and isinstance(call, Call) and call.function in _WITH_INDICES \
                and _dim_given(call):
            return _part(converter, node, call, position)
        if position in (0, 1) and isinstance(call, Call) and call.function == "slogdet":
            return _slogdet_part(converter, node, call, position)
        value = call
    else:
        value = converter.expr(node.value)
    items = index.elts if isinstance(index, ast.Tuple) else [index]
    spec: list[tuple] = []
    tensors = []
    for item in items:
        spec.append(_index_item(converter, item, tensors))
    return Call(span, text, "getitem",
                (value, Literal(_span(index), converter._source(index), spec), *tensors))


def _index_item(converter, item: ast.expr, tensors: list) -> tuple:
    """One entry of an index, as plain data: ("int", n), ("slice", start, stop, step),
    ("ellipsis",), ("none",), ("list", [n, ...]) or ("tensor", k) for the k-th tensor."""
    number = _int_literal(item)
    if number is not None:
        return ("int", number)
    if isinstance(item, ast.Slice):
        bounds = []
        for part in (item.lower, item.upper, item.step):
            if part is None:
                bounds.append(None)
                continue
            value = _int_literal(part)
            if value is None:
                raise ExpressionError("unsupported", "slice bounds must be whole numbers "
                                      "written out, as in x[1:3] or x[::2]", _span(part))
            bounds.append(value)
        return ("slice", *bounds)
    if isinstance(item, ast.Constant):
        if item.value is Ellipsis:
            return ("ellipsis",)
        if item.value is None:
            return ("none",)
        raise ExpressionError("unsupported", "an index must be a whole number, a slice "
                              "such as 1:3, ..., None, or a tensor (a mask)", _span(item))
    if isinstance(item, (ast.List, ast.Tuple)):
        values = [_int_literal(element) for element in item.elts]
        if not values or any(v is None for v in values):
            raise ExpressionError("unsupported", "a list of positions must hold whole numbers "
                                  "written out, as in x[[0, 2]]", _span(item))
        return ("list", values)
    tensors.append(converter.expr(item))
    return ("tensor", len(tensors) - 1)
