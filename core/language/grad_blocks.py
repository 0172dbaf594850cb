"""``with torch.no_grad():`` blocks: which statements torch computes without a graph.

A notebook stops a gradient in two ways: ``x.detach()`` inside an expression (a function of
the language) and a block of statements under ``with torch.no_grad():``. This module reads
the blocks from Python's syntax tree (nothing is run) and flattens them into the statement
list the language converts, each statement marked with whether gradients are recorded.
``torch.enable_grad()`` inside such a block turns recording back on, as in torch;
``torch.inference_mode()`` and ``torch.set_grad_enabled(False)`` stop it like ``no_grad``.
"""
from __future__ import annotations

import ast

from core.errors import ExpressionError, Span
from core.language.astutil import dotted_name

#: context managers that switch gradient recording off (False) or on (True)
_CONTEXTS = {
    ("torch", "no_grad"): False,
    ("torch", "inference_mode"): False,
    ("torch", "enable_grad"): True,
}


def grad_mode(stmt: ast.With) -> bool | None:
    """True/False for a ``with`` that switches recording on/off; None for any other ``with``."""
    if len(stmt.items) != 1 or stmt.items[0].optional_vars is not None:
        return None
    call = stmt.items[0].context_expr
    if not isinstance(call, ast.Call):
        return None
    dotted = dotted_name(call.func)
    if dotted == ("torch", "set_grad_enabled") and len(call.args) == 1 and not call.keywords \
            and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, bool):
        return call.args[0].value
    if dotted in _CONTEXTS and not call.args and not call.keywords:
        return _CONTEXTS[dotted]
    return None


def flatten(body: list[ast.stmt]) -> list[tuple[ast.stmt, bool]]:
    """The statements of ``body`` with ``with torch.no_grad():`` blocks opened up, each as
    ``(statement, computed_without_gradients)``; iterative, so nesting costs no recursion.
    Any other ``with`` is an error with its position."""
    out: list[tuple[ast.stmt, bool]] = []
    stack: list[tuple[list[ast.stmt], int, bool]] = [(body, 0, False)]
    while stack:
        statements, index, no_grad = stack.pop()
        if index >= len(statements):
            continue
        stmt = statements[index]
        stack.append((statements, index + 1, no_grad))
        if isinstance(stmt, ast.With):
            mode = grad_mode(stmt)
            if mode is None:
                raise ExpressionError(
                    "unsupported", "with blocks: only 'with torch.no_grad():' (and "
                    "torch.enable_grad()) are part of the language", _span(stmt))
            stack.append((stmt.body, 0, not mode))
            continue
        out.append((stmt, no_grad))
    return out


def is_seed(statement) -> bool:
    """True for a ``torch.manual_seed(N)`` statement (it sets the random numbers, no value)."""
    expr = statement.expr
    return statement.target is None and getattr(expr, "function", None) == "manual_seed"


def _span(node: ast.AST) -> Span:
    return Span(getattr(node, "lineno", 1) or 1, (getattr(node, "col_offset", 0) or 0) + 1)
