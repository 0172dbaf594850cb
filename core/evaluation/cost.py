"""What each operation will cost, estimated before it runs.

The forward pass is bounded between operations (a time limit, entries per tensor and in
all); the backward pass runs inside torch and can only be stopped between nodes, so the
work it will do is estimated while the forward pass is built and a program whose backward
pass would pass :data:`core.limits.MAX_BACKWARD_WORK` is refused before anything large is
allocated (a chain of ``s = s + a @ b`` with 100×10,000 matrices spent a minute there).

Work is counted in multiply-adds (one entry of an elementwise result is one; a matrix
product m×k @ k×n is m·k·n). An operation's backward work is the work of computing the
gradient of each input that needs one: about the forward work per such input for products,
a small multiple of the entries for everything else.

New functions plug in through :data:`COSTS`: a function whose work is more than a constant
per entry of its inputs and result (a product, a solve, a convolution) registers
``COSTS[name] = rule``, where ``rule(args, result_shape) -> Work`` sees the evaluated
arguments (tensors and numbers) and the predicted result shape. Every other function gets
:func:`elementwise`. ``tests/test_bounds.py`` checks every function in
:data:`core.language.functions.FUNCTIONS` gets an estimate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Work:
    """Estimated work of one operation: ``forward`` and ``backward`` multiply-adds, and
    ``gradient_entries``, the entries of the gradients its backward step creates."""

    forward: int
    backward: int
    gradient_entries: int


def _numel(value) -> int:
    shape = getattr(value, "shape", None)
    return 1 if shape is None else math.prod(tuple(shape))


def _needs_grad(value) -> bool:
    return bool(getattr(value, "requires_grad", False))


def elementwise(args, result_shape) -> Work:
    """The default: a constant amount of work per entry of the inputs and the result
    (elementwise functions, reductions, reshapes, softmax, norms)."""
    size = max([_numel(a) for a in args] + [math.prod(result_shape or ())])
    grads = sum(_numel(a) for a in args if _needs_grad(a))
    return Work(size, 2 * size if grads else 0, grads)


def product(args, result_shape) -> Work:
    """Matrix products (matmul, mm, mv, dot, outer and ``@``): the shared dimension times
    the result's entries; backward does one such product per input that needs a gradient."""
    a, b = args[0], args[1]
    shape_a, shape_b = tuple(getattr(a, "shape", ())), tuple(getattr(b, "shape", ()))
    inner = shape_a[-1] if shape_a else 1
    if len(shape_a) == 1 and len(shape_b) == 1 and result_shape and len(result_shape) == 2:
        inner = 1  # outer product
    forward = max(1, inner) * max(1, math.prod(result_shape or ()))
    forward = max(forward, _numel(a), _numel(b))
    needing = [x for x in (a, b) if _needs_grad(x)]
    return Work(forward, forward * len(needing), sum(_numel(x) for x in needing))


#: function (or operator) name -> cost rule; anything not here is :func:`elementwise`
COSTS = {name: product for name in ("matmul", "mm", "mv", "dot", "outer", "@")}


def estimate(name: str, args, result_shape) -> Work:
    """The estimated :class:`Work` of ``name(*args)`` producing ``result_shape``."""
    return COSTS.get(name, elementwise)(list(args), tuple(result_shape or ()))


def repeated_work(evaluation, passes: int, per_pass: str = "backward") -> tuple[int, int]:
    """``(per pass, total)`` estimated multiply-adds of ``passes`` passes over
    ``evaluation``'s graph: ``per_pass`` is "backward" (a reverse pass: one VJP),
    "double" (a backward pass through the gradient's own graph, about twice a reverse
    pass), "forward" (the program run again) or "both" (a forward pass and a reverse
    pass: a training step, or a forward-mode pass, whose tangents cost about what the
    reverse pass costs). At least one per pass."""
    forward = int(getattr(evaluation, "forward_work", 0) or 0)
    backward = int(getattr(evaluation, "backward_work", 0) or 0)
    one = {"backward": backward, "double": 2 * backward, "both": forward + backward,
           "forward": forward}[per_pass]
    one = max(1, one)
    return one, max(0, passes) * one


def repeated_work_refusal(what: str, evaluation, passes: int, per_pass: str = "backward",
                          already: int = 0, unit: tuple[str, str] = ("pass", "passes")) -> str:
    """The message refusing ``passes`` passes of ``what`` (see :func:`repeated_work`) when,
    with ``already`` multiply-adds done before them, they would pass
    :data:`core.limits.MAX_BACKWARD_WORK`; "" when they fit. ``unit`` names one pass and
    several ("step", "steps")."""
    from core import limits

    one, total = repeated_work(evaluation, passes, per_pass)
    limit = limits.MAX_BACKWARD_WORK
    if already + total <= limit:
        return ""
    if passes == 1:
        need = f"about {one:,} multiply-adds"
    else:
        need = f"{passes:,} {unit[1]} of about {one:,} multiply-adds each"
    if already:
        need += f", {already + total:,} with the {already:,} before"
    elif passes != 1:
        need += f", {total:,} in all"
    fit = (limit - already) // one
    hint = f"; at most {fit:,} {unit[1] if fit != 1 else unit[0]} fit" \
        if passes > 1 and fit >= 1 else ""
    return f"{what} needs {need}: more than {limit:,}, the limit on backward work{hint}"


def check_repeated_work(what: str, evaluation, passes: int, per_pass: str = "backward",
                        already: int = 0, where: str | None = None,
                        unit: tuple[str, str] = ("pass", "passes")) -> None:
    """Raise :class:`core.errors.LimitError` with :func:`repeated_work_refusal`'s message
    when the passes would pass the limit: before any of them runs."""
    from core.errors import LimitError

    message = repeated_work_refusal(what, evaluation, passes, per_pass, already, unit)
    if message:
        raise LimitError(message, where=where)
