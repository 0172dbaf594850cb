"""Non-scalar outputs: what backward computes (a vector-Jacobian product) and the Jacobian.

For an output F with m entries, ``F.backward(gradient=v)`` gives every input the vector-
Jacobian product vᵀJ, without ever building J: the same one reverse pass as for a scalar,
seeded with v instead of 1. The full Jacobian, for small outputs, is m such passes, row k
seeded with the one-hot vector e_k (which is how ``torch.autograd.functional.jacobian``
builds it too); rows beyond :data:`MAX_JACOBIAN_ENTRIES` entries are not built, the VJP
still is.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from core.errors import ExpressionError, LimitError
from core.evaluation.cost import repeated_work_refusal
from core.evaluation.deadline import backward_deadline
from core.language.values import Filled, check_value, format_shape
from core.serialize import tensor_to_data

#: entries of the full Jacobian (output entries × input entries, all inputs together)
MAX_JACOBIAN_ENTRIES = 10_000
#: seconds the VJP and the Jacobian's rows may take together (checked between backward
#: nodes and between rows)
MAX_SECONDS = 30.0


@dataclass
class JacobianReport:
    """``vjp[name]`` = vᵀ ∂F/∂name (the input's shape); ``jacobian[name]`` has shape
    output_shape + input shape (None past the bound, with ``reason``)."""

    output_name: str
    output_shape: tuple
    output_value: torch.Tensor
    grad_output: torch.Tensor
    vjp: dict[str, torch.Tensor]
    jacobian: dict[str, torch.Tensor] | None
    reason: str = ""

    def row(self, name: str, k: int) -> torch.Tensor | None:
        """Row k of ∂F/∂name (flattened output index): the VJP seeded with e_k."""
        if self.jacobian is None:
            return None
        flat = self.jacobian[name].reshape((-1,) + tuple(self.jacobian[name].shape[
            len(self.output_shape):]))
        return flat[k]

    def to_dict(self) -> dict:
        """The ``jacobian --json`` object."""
        return {"output": self.output_name, "output_shape": list(self.output_shape),
                "value": tensor_to_data(self.output_value),
                "grad_output": tensor_to_data(self.grad_output),
                "vjp": {k: tensor_to_data(v) for k, v in self.vjp.items()},
                "jacobian": None if self.jacobian is None else
                {k: tensor_to_data(v) for k, v in self.jacobian.items()},
                "reason": self.reason, "max_entries": MAX_JACOBIAN_ENTRIES}


def grad_output_tensor(evaluation, value, where: str = "--grad-output") -> torch.Tensor:
    """The vector v for ``backward(gradient=v)``: ones when ``value`` is None, else the
    user's number, nested list or ``ones(2, 3)``-style value (a
    :class:`core.language.values.Filled`), which must have the output's shape; ``where``
    names the place the value was typed (the CLI flag, the window's v field)."""
    output = evaluation.output
    if value is None:
        return torch.ones_like(output.detach())
    if isinstance(value, Filled):
        v = value.to_tensor(output.dtype, False)
    else:
        data = check_value(value, where=where)
        v = torch.tensor(data, dtype=output.dtype)
    if v.shape != output.shape:
        raise ExpressionError(
            "shape", f"the vector v has shape {format_shape(v.shape)}, but the output "
            f"{evaluation.output_name} has shape {format_shape(output.shape)}: backward("
            "gradient=v) needs v shaped like the output", evaluation.program.output.span,
            where=where)
    return v


def jacobian_of(evaluation, grad_output=None, *,
                max_entries: int = MAX_JACOBIAN_ENTRIES) -> JacobianReport:
    """The VJP with ``grad_output`` (default ones) and, within the bound, the Jacobian of
    ``evaluation``'s output (built with ``forward(..., allow_vector_output=True)``)."""
    output = evaluation.output
    names = [n for n, t in evaluation.inputs.items() if t.requires_grad]
    leaves = [evaluation.inputs[n] for n in names]
    v = grad_output_tensor(evaluation, grad_output)
    shape = tuple(output.shape)
    entries = output.numel() * sum(t.numel() for t in leaves)
    # the VJP is the program's own backward pass, within the forward pass's budget; the
    # rows are one more such pass each, refused beforehand when they would be too much work
    too_much = repeated_work_refusal("the full Jacobian (one backward pass per output entry)",
                                     evaluation, output.numel(), "backward",
                                     already=getattr(evaluation, "backward_work", 0))
    what = "building the Jacobian"
    deadline = time.monotonic() + MAX_SECONDS
    with _deadline(output, what):
        vjp = _pull_back(output, leaves, names, v)
        jacobian, reason = None, ""
        if entries > max_entries:
            reason = (f"the Jacobian has {entries:,} entries ({output.numel():,} output entries "
                      f"× {sum(t.numel() for t in leaves):,} input entries); the limit for "
                      f"showing it is {max_entries:,}. The VJP above is still one pass.")
        elif too_much:
            reason = f"the Jacobian is not built: {too_much}. The VJP above is still one pass."
        else:
            jacobian = {n: torch.zeros(shape + tuple(evaluation.inputs[n].shape),
                                       dtype=output.dtype) for n in names}
            for k in range(output.numel()):
                if time.monotonic() > deadline:
                    raise LimitError(f"{what} took longer than {MAX_SECONDS:g} s, its time "
                                     "limit")
                one_hot = torch.zeros(output.numel(), dtype=output.dtype)
                one_hot[k] = 1
                row = _pull_back(output, leaves, names, one_hot.reshape(shape))
                index = _unravel(k, shape)
                for n in names:
                    jacobian[n][index] = row[n]
    return JacobianReport(evaluation.output_name, shape, output.detach(), v, vjp, jacobian,
                          reason)


def _deadline(output, what: str):
    """Every backward node of ``output``'s graph checks the time limit before it runs."""
    import contextlib

    if output.grad_fn is None:
        return contextlib.nullcontext()
    return backward_deadline(output, MAX_SECONDS, what)


def _pull_back(output, leaves, names, v) -> dict[str, torch.Tensor]:
    """One reverse pass seeded with v: vᵀJ for every input (zeros where unused)."""
    if not output.requires_grad:
        return {n: torch.zeros_like(t.detach()) for n, t in zip(names, leaves, strict=True)}
    if output.grad_fn is None:  # the output is an input: J is the identity
        return {n: (v.clone() if t is output else torch.zeros_like(t.detach()))
                for n, t in zip(names, leaves, strict=True)}
    grads = torch.autograd.grad(output, leaves, v, retain_graph=True, allow_unused=True)
    return {n: (torch.zeros_like(t.detach()) if g is None else g.detach())
            for n, t, g in zip(names, leaves, grads, strict=True)}


def _unravel(k: int, shape: tuple) -> tuple:
    index = []
    for size in reversed(shape):
        index.append(k % size)
        k //= size
    return tuple(reversed(index))


def format_jacobian(report: JacobianReport, digits: int = 6) -> str:
    """The VJP and the Jacobian as text."""
    from core.serialize import format_inline, format_labelled
    out = report.output_name
    lines = [format_labelled(f"{out} has shape {format_shape(report.output_shape)}: ",
                             report.output_value, digits),
             format_labelled("v (backward(gradient=v)) = ", report.grad_output, digits), ""]
    for name, value in report.vjp.items():
        lines.append(format_labelled(f"vᵀ ∂{out}/∂{name} = ", value, digits))
    if report.jacobian is None:
        lines += ["", report.reason]
        return "\n".join(lines)
    for name, jac in report.jacobian.items():
        lines += ["", f"∂{out}/∂{name} (shape {format_shape(tuple(jac.shape))}; row k = the VJP "
                  "with v = e_k):"]
        flat = jac.reshape(math.prod(report.output_shape), -1)
        for k, row in enumerate(flat):
            lines.append(f"  row {k}: {format_inline(row, digits, max_entries=16)}")
    return "\n".join(lines)
