"""Typed errors the core raises for anything a user can get wrong.

One place in each front end (the CLI's ``error: ...`` line, the GUI's status bar and editor
underline) turns an :class:`ExpressionError` into a message; nothing else is ever shown.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A region of the user's text: 1-based line and column, end exclusive."""

    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def describe(self) -> str:
        """Return ``"line L, column C"`` for messages."""
        return f"line {self.line}, column {self.column}"


class ExpressionError(Exception):
    """A problem with the user's expression or values, explained for a student.

    ``kind`` is one of: ``syntax``, ``unsupported``, ``name``, ``value``, ``shape``,
    ``limit``, ``math``, ``output``. ``span`` points into the text where there is a place
    to point at; ``where`` names the field when the problem is in a value, not the text.
    """

    def __init__(self, kind: str, message: str, span: Span | None = None, where: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.span = span
        self.where = where

    def __str__(self) -> str:
        prefix = []
        if self.where:
            prefix.append(self.where)
        if self.span:
            prefix.append(self.span.describe())
        return (", ".join(prefix) + ": " if prefix else "") + self.message

    def to_dict(self) -> dict:
        """A JSON-ready description: kind, message, where, line, column."""
        out = {"kind": self.kind, "message": self.message}
        if self.where:
            out["where"] = self.where
        if self.span:
            out.update(line=self.span.line, column=self.span.column,
                       end_line=self.span.end_line, end_column=self.span.end_column)
        return out


class LimitError(ExpressionError):
    """A bound of the language was exceeded; the message names the bound and its value."""

    def __init__(self, message: str, span: Span | None = None, where: str | None = None):
        super().__init__("limit", message, span, where)
