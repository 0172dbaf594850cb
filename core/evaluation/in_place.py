"""``y += e`` on a tensor: torch changes y in place; the language makes a new tensor.

In Python, ``y += e`` on a tensor is ``y.add_(e)``: the tensor itself changes, so every
other name bound to it (``a = y``) or to a view of it (``a = y[0:2]``, ``y.T``, a
``detach()``) changes too, torch refuses it on a leaf that requires grad, refuses a result
of another shape or dtype, and a backward pass through an operation that saved y before the
change stops with "modified by an inplace operation". The language runs ``y += e`` as
``y = y + e`` (a new tensor, drawn as its own node), which gives the same numbers exactly
when none of those cases arises; in each of them it refuses the statement, with its
position, rather than show a number torch would not give.
"""
from __future__ import annotations

import torch

from core.errors import ExpressionError
from core.evaluation.deadline import reachable_nodes
from core.language.values import format_shape

SAVED_PREFIX = "_saved_"


def _storage(t: torch.Tensor) -> int | None:
    if not isinstance(t, torch.Tensor) or t.numel() == 0:
        return None
    return t.untyped_storage().data_ptr()


def _refuse(statement, why: str) -> ExpressionError:
    y, op, right = statement.target, statement.expr.op, statement.expr.right.text
    return ExpressionError(
        "math", f"{statement.text}: in torch {op}= changes {y} in place, and {why}; write "
        f"{y} = {y} {op} {right} for a new tensor", statement.span)


def check(statement, old, new, env: dict) -> None:
    """Refuse ``statement`` (an augmented assignment whose target held ``old`` and now gets
    ``new``) where torch's in-place change would give other numbers or an error."""
    if not isinstance(old, torch.Tensor):
        return  # a Python number: += rebinds, as in Python
    target = statement.target
    if old.requires_grad and old.is_leaf and not statement.no_grad:
        raise _refuse(statement, f"torch refuses that on {target}, a leaf that requires grad "
                                 "(\"a leaf Variable that requires grad is being used in an "
                                 "in-place operation\")")
    if statement.expr.op == "@":
        raise _refuse(statement, "torch has no in-place matrix product (@= is refused)")
    if isinstance(new, torch.Tensor):
        if tuple(new.shape) != tuple(old.shape):
            raise _refuse(statement, f"the result has shape {format_shape(new.shape)} but "
                                     f"{target} has shape {format_shape(old.shape)} (torch "
                                     "cannot store it there)")
        if new.dtype != old.dtype:
            raise _refuse(statement, f"the result is {str(new.dtype)[6:]} but {target} is "
                                     f"{str(old.dtype)[6:]}, which torch keeps in place")
    storage = _storage(old)
    if storage is None:
        return
    for name, value in env.items():
        if name != target and _storage(value) == storage:
            how = "the same tensor as" if value is old else "a view sharing memory with"
            raise _refuse(statement, f"{name} is {how} {target}, so {name} would change too")


def check_saved(output, changed: list) -> None:
    """After the program ran: refuse the first ``(statement, old, new)`` of ``changed`` whose
    old tensor an operation on the output's backward path saved (torch's backward would
    stop: "one of the variables needed for gradient computation has been modified by an
    inplace operation"). The old value the in-place operation's own node saved as its
    first operand is not counted: torch keeps that itself (``y **= 2`` works)."""
    storages = {}
    own = set()
    for statement, old, new in changed:
        storage = _storage(old)
        if storage is not None:
            storages.setdefault(storage, statement)
        if isinstance(new, torch.Tensor) and new.grad_fn is not None:
            own.add(new.grad_fn)
    if not storages or not isinstance(output, torch.Tensor) or output.grad_fn is None:
        return
    for fn in reachable_nodes(output.grad_fn):
        # torch keeps the old value of the changed tensor itself (``y *= x``), but not of
        # the other operand (``y *= y`` stops its backward)
        for tensor in _saved(fn, skip=("_saved_self",) if fn in own else ()):
            statement = storages.get(_storage(tensor))
            if statement is not None:
                raise _refuse(statement, f"{type(fn).__name__} saved {statement.target} for "
                              "the backward pass before this change, so torch's backward "
                              "would stop (\"one of the variables needed for gradient "
                              "computation has been modified by an inplace operation\")")


def _saved(fn, skip=()):
    for attr in dir(fn):
        if not attr.startswith(SAVED_PREFIX) or attr in skip:
            continue
        try:
            value = getattr(fn, attr)
        except RuntimeError:
            continue
        if isinstance(value, torch.Tensor):
            yield value
        elif isinstance(value, tuple):
            yield from (t for t in value if isinstance(t, torch.Tensor))


def keep_graph(old: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
    """``y += e`` inside ``torch.no_grad()``: torch changes y's values but not its graph,
    so gradients still flow through y's old operations (d new / d old = 1). A copy of old
    (CloneBackward: gradient passed on unchanged) holding exactly the new values."""
    with torch.enable_grad():
        kept = old.clone()
    with torch.no_grad():
        kept.copy_(new)
    return kept
