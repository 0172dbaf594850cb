"""The PyTorch habits students trip over, shown by running torch, not by describing it.

- ``.grad`` accumulates: a second ``backward()`` without ``zero_grad()`` adds the same
  gradient again, so it doubles (:func:`backward_again` with ``retain_graph=True``).
- Without ``retain_graph=True`` the first backward frees the saved values, and the second
  one fails with torch's own error, which :func:`backward_again` returns verbatim.
- Only leaves keep ``.grad``: a named intermediate's ``.grad`` is None unless
  ``retain_grad()`` was called (:func:`leaf_and_non_leaf`).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import torch

from core import limits
from core.errors import LimitError
from core.evaluation.cost import check_repeated_work
from core.evaluation.deadline import backward_deadline
from core.evaluation.evaluate import forward

EXPLAIN_FREED = (
    "The first backward() freed the values the graph saved for it (torch does this to save "
    "memory), so a second backward() through the same graph has nothing to work with. "
    "Either compute the output again before each backward(), as a training loop does, or "
    "call backward(retain_graph=True) the first time.")
EXPLAIN_DOUBLED = (
    "backward() adds into .grad instead of replacing it, so a second backward() without "
    "zero_grad() in between adds the same gradient again: .grad doubles. This is why a "
    "training loop calls optimizer.zero_grad() every step (and what lets gradients of "
    "several losses or mini-batches be summed on purpose).")
EXPLAIN_NON_LEAF = (
    "Only leaves (tensors you created with requires_grad=True) keep .grad after backward(). "
    "For a value computed from them torch's .grad is None, to save memory, unless you call "
    "retain_grad() on it before backward(); this app does that for every named value.")


@dataclass
class BackwardAgain:
    """``first``/``second``: each input's ``.grad`` after one and after two backward()
    calls (``second`` empty when the second call failed with torch's ``error``)."""

    retain_graph: bool
    first: dict[str, torch.Tensor]
    second: dict[str, torch.Tensor] = field(default_factory=dict)
    error: str = ""
    explanation: str = ""


def backward_again(program, variables, dtype: str = "float32", *,
                   retain_graph: bool = True) -> BackwardAgain:
    """Compute the program, call ``backward(retain_graph=retain_graph)``, then call
    ``backward()`` again without zeroing ``.grad``, exactly as a student would."""
    evaluation = forward(program, variables, dtype)
    output = evaluation.output
    leaves = {n: t for n, t in evaluation.inputs.items() if t.requires_grad}
    if not output.requires_grad or output.grad_fn is None:
        return BackwardAgain(retain_graph, {}, error="", explanation=(
            "the output does not depend on an operation of an input that needs a gradient: "
            "there is no graph to run backward() through twice"))
    check_repeated_work("backward() twice", evaluation, 2, "backward")
    with backward_deadline(output, limits.MAX_BACKWARD_SECONDS, "backward() twice"):
        output.backward(retain_graph=retain_graph)
    first = {n: t.grad.detach().clone() for n, t in leaves.items() if t.grad is not None}
    try:
        with backward_deadline(output, limits.MAX_BACKWARD_SECONDS, "the second backward()"):
            output.backward()
    except LimitError:
        raise
    except RuntimeError as err:
        return BackwardAgain(retain_graph, first, error=str(err).strip(),
                             explanation=EXPLAIN_FREED)
    second = {n: t.grad.detach().clone() for n, t in leaves.items() if t.grad is not None}
    return BackwardAgain(retain_graph, first, second, "", EXPLAIN_DOUBLED)


@dataclass
class GradAttribute:
    """A named value: is it a leaf, what torch's ``.grad`` holds after a plain backward()
    (None for a non-leaf), and its gradient as retain_grad() gives it."""

    name: str
    is_leaf: bool
    torch_grad: torch.Tensor | None
    gradient: torch.Tensor | None


def leaf_and_non_leaf(program, variables, dtype: str = "float32") -> list[GradAttribute]:
    """Run backward() twice over fresh graphs, once plain and once with retain_grad() on
    every named value, and report what ``.grad`` holds for each name."""
    plain = forward(program, variables, dtype)
    if not plain.output.requires_grad:
        return []
    check_repeated_work("backward() on two graphs (plain and with retain_grad)", plain, 2,
                        "backward")
    _timed_backward(plain.output)
    kept = forward(program, variables, dtype)
    for tensor in kept.intermediates.values():
        if tensor.requires_grad and tensor.grad_fn is not None:
            tensor.retain_grad()
    _timed_backward(kept.output)
    out = []
    with warnings.catch_warnings():
        # reading a non-leaf's .grad warns; the None it returns is what we show
        warnings.simplefilter("ignore", UserWarning)
        for name, tensor in plain.inputs.items():
            if tensor.requires_grad:
                out.append(GradAttribute(name, True, _copy(tensor.grad),
                                         _copy(kept.inputs[name].grad)))
        for name, tensor in plain.intermediates.items():
            if tensor.requires_grad and name in kept.intermediates:
                other = kept.intermediates[name]
                out.append(GradAttribute(name, tensor.is_leaf, _copy(tensor.grad),
                                         _copy(other.grad) if other.grad_fn is not None
                                         else None))
    return out


def _timed_backward(output) -> None:
    """``output.backward()`` within the backward pass's time limit."""
    if output.grad_fn is None:
        output.backward()
        return
    with backward_deadline(output, limits.MAX_BACKWARD_SECONDS):
        output.backward()


def _copy(grad):
    return None if grad is None else grad.detach().clone()
