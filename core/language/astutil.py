"""Small helpers for reading Python's syntax trees; nothing here evaluates anything."""
from __future__ import annotations

import ast


def dotted_name(node: ast.expr) -> tuple[str, ...] | None:
    """``torch.nn.functional.relu`` -> ('torch', 'nn', 'functional', 'relu'); None if the
    node is not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return tuple(reversed(parts))
    return None
