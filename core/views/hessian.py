"""Second derivatives: the gradient is itself a computation torch can differentiate.

``torch.autograd.grad(f, inputs, create_graph=True)`` returns gradients that carry a graph
of their own (double backward); differentiating each gradient entry again gives a row of
the Hessian. For inputs too large for the full matrix (over :data:`MAX_HESSIAN_ENTRIES`),
a Hessian-vector product H v costs one more backward pass: the gradient of (∇f · v).
:func:`gradient_evaluation` wraps a gradient and its graph as an Evaluation so the backward
graph renderer draws the graph of the gradient like the first one.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import torch

from core.errors import ExpressionError, LimitError
from core.evaluation.cost import check_repeated_work, repeated_work_refusal
from core.evaluation.deadline import backward_deadline
from core.evaluation.evaluate import Evaluation
from core.language.values import check_value, format_shape
from core.serialize import tensor_to_data

#: entries of the full Hessian (input entries squared, all inputs together)
MAX_HESSIAN_ENTRIES = 10_000
#: seconds the first gradients, the Hessian's rows and the HVP may take together (checked
#: between backward nodes and between rows)
MAX_SECONDS = 30.0


@dataclass
class HessianReport:
    """``gradient[name]``; ``hessian[name][name2]`` of shape shape(name) + shape(name2)
    (None past the bound, with ``reason``); ``hvp[name]`` = (H v) for the vector v."""

    output_name: str
    value: torch.Tensor
    gradient: dict[str, torch.Tensor]
    hessian: dict[str, dict[str, torch.Tensor]] | None
    vector: dict[str, torch.Tensor]
    hvp: dict[str, torch.Tensor]
    reason: str = ""

    def to_dict(self) -> dict:
        """The ``hessian --json`` object."""
        return {"output": self.output_name, "value": tensor_to_data(self.value),
                "gradient": {k: tensor_to_data(v) for k, v in self.gradient.items()},
                "hessian": None if self.hessian is None else
                {a: {b: tensor_to_data(block) for b, block in row.items()}
                 for a, row in self.hessian.items()},
                "vector": {k: tensor_to_data(v) for k, v in self.vector.items()},
                "hvp": {k: tensor_to_data(v) for k, v in self.hvp.items()},
                "reason": self.reason, "max_entries": MAX_HESSIAN_ENTRIES}


def _scalar_output(evaluation) -> torch.Tensor:
    output = evaluation.output
    if output.numel() != 1:
        raise ExpressionError(
            "output", f"the output {evaluation.output_name} has shape "
            f"{format_shape(tuple(output.shape))}; second derivatives here are of a single "
            "number: wrap it in sum(...), mean(...) or norm(...)", evaluation.program.output.span)
    return output


def first_gradients(evaluation) -> tuple[list[str], list[torch.Tensor], list[torch.Tensor]]:
    """(names, leaves, gradients with their own graph: create_graph=True)."""
    output = _scalar_output(evaluation)
    names = [n for n, t in evaluation.inputs.items() if t.requires_grad]
    leaves = [evaluation.inputs[n] for n in names]
    if not output.requires_grad or not leaves:
        return names, leaves, [torch.zeros_like(t) for t in leaves]
    grads = torch.autograd.grad(output, leaves, create_graph=True, allow_unused=True)
    return names, leaves, [torch.zeros_like(t) if g is None else g
                           for t, g in zip(leaves, grads, strict=True)]


def hessian_of(evaluation, vector: dict | None = None, *,
               max_entries: int = MAX_HESSIAN_ENTRIES) -> HessianReport:
    """Gradient, Hessian (within the bound) and the Hessian-vector product of
    ``evaluation``'s scalar output; ``vector`` maps input names to v (default ones)."""
    # the gradient with its own graph (one backward pass) and the HVP (a backward pass
    # through that graph, about two) are always done: refused beforehand when too much
    first = getattr(evaluation, "backward_work", 0)
    check_repeated_work("second derivatives (the gradient's own backward pass)", evaluation,
                        1, "double", already=first)
    deadline = time.monotonic() + MAX_SECONDS
    with _deadline(evaluation.output, "the gradient (create_graph=True)"):
        names, leaves, grads = first_gradients(evaluation)
    v = _vector(evaluation, names, vector)
    n = sum(t.numel() for t in leaves)
    dot = sum((g * v[name]).sum() for name, g in zip(names, grads, strict=True)) \
        if names else None
    what = "the second derivatives"
    hessian, reason = None, ""
    too_much = repeated_work_refusal("the full Hessian (one backward pass through the "
                                     "gradient per input entry)", evaluation, n + 1,
                                     "double", already=first)
    with _deadline(dot, what):
        if n * n > max_entries:
            reason = (f"the Hessian has {n * n:,} entries ({n:,} input entries squared); the "
                      f"limit for showing it is {max_entries:,}. The Hessian-vector product "
                      "is one more backward pass.")
        elif too_much:
            reason = (f"the Hessian is not built: {too_much}. The Hessian-vector product is "
                      "one more backward pass.")
        else:
            hessian = {a: {b: torch.zeros(tuple(ta.shape) + tuple(tb.shape), dtype=ta.dtype)
                           for b, tb in zip(names, leaves, strict=True)}
                       for a, ta in zip(names, leaves, strict=True)}
            for a, ta, g in zip(names, leaves, grads, strict=True):
                for k in range(ta.numel()):
                    if time.monotonic() > deadline:
                        raise LimitError(f"{what} took longer than {MAX_SECONDS:g} s, their "
                                         "time limit")
                    index = _unravel(k, tuple(ta.shape))
                    row = _grad_of(g.reshape(-1)[k] if g.dim() else g, leaves)
                    for b, r in zip(names, row, strict=True):
                        hessian[a][b][index] = r
        hv = _grad_of(dot, leaves) if dot is not None else []
    return HessianReport(evaluation.output_name, evaluation.output.detach(),
                         {name: g.detach() for name, g in zip(names, grads, strict=True)},
                         hessian, v, dict(zip(names, hv, strict=True)), reason)


def _deadline(output, what: str):
    """Every backward node of ``output``'s graph checks the time limit before it runs."""
    if not isinstance(output, torch.Tensor) or output.grad_fn is None:
        return contextlib.nullcontext()
    return backward_deadline(output, MAX_SECONDS, what)


def _grad_of(scalar, leaves) -> list[torch.Tensor]:
    """d scalar / d leaves (zeros where the scalar does not depend on a leaf)."""
    if not isinstance(scalar, torch.Tensor) or not scalar.requires_grad:
        return [torch.zeros_like(t.detach()) for t in leaves]
    grads = torch.autograd.grad(scalar, leaves, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(t.detach()) if g is None else g.detach()
            for t, g in zip(leaves, grads, strict=True)]


def _vector(evaluation, names, vector) -> dict[str, torch.Tensor]:
    """v for each input: the user's value (checked against the input's shape) or ones."""
    vector = vector or {}
    unknown = sorted(set(vector) - set(names))
    if unknown:
        raise ExpressionError("name", f"--vector names {unknown[0]}, which is not an input "
                              f"that needs a gradient (inputs: {', '.join(names) or 'none'})",
                              where="--vector")
    out = {}
    for name in names:
        leaf = evaluation.inputs[name]
        if name not in vector:
            out[name] = torch.ones_like(leaf.detach())
            continue
        value = torch.tensor(check_value(vector[name], where=f"--vector {name}"),
                             dtype=leaf.dtype)
        if value.shape != leaf.shape:
            raise ExpressionError("shape", f"v for {name} has shape {format_shape(value.shape)}"
                                  f" but {name} has shape {format_shape(leaf.shape)}",
                                  where=f"--vector {name}")
        out[name] = value
    return out


def _unravel(k: int, shape: tuple) -> tuple:
    index = []
    for size in reversed(shape):
        index.append(k % size)
        k //= size
    return tuple(reversed(index))


def gradient_evaluation(evaluation, name: str) -> Evaluation:
    """The gradient of input ``name`` (its entries summed when it is a tensor) with the
    graph create_graph=True gave it, as an Evaluation the graph renderer draws: the graph
    of the gradient, whose own backward pass gives the second derivatives."""
    names, _, grads = first_gradients(evaluation)
    if name not in names:
        raise ExpressionError("name", f"{name} is not an input that needs a gradient "
                              f"(inputs: {', '.join(names) or 'none'})", where="--graph-of")
    grad = grads[names.index(name)]
    out = evaluation.output_name
    label = f"d{out}/d{name}"
    if grad.numel() != 1:
        grad = grad.sum()
        label = f"sum(d{out}/d{name})"
    return Evaluation(program=evaluation.program, dtype=evaluation.dtype,
                      specs=evaluation.specs, inputs=evaluation.inputs, output=grad,
                      output_name=label, intermediates={}, records=evaluation.records)


def format_hessian(report: HessianReport, digits: int = 6) -> str:
    """Gradient, Hessian blocks and Hessian-vector product as text (a matrix's later rows
    indented under its first)."""
    from core.serialize import format_labelled

    def labelled(label, tensor):
        return format_labelled(label, tensor, digits)

    out = report.output_name
    lines = []
    for name, g in report.gradient.items():
        lines.append(labelled(f"∂{out}/∂{name} = ", g))
    if report.hessian is None:
        lines += ["", report.reason]
    else:
        for a, row in report.hessian.items():
            for b, block in row.items():
                below = f"∂{a}²" if a == b else f"∂{a}∂{b}"
                lines.append(labelled(f"∂²{out}/{below} = ", block))
    lines += ["", "Hessian-vector product H·v (the gradient of (∇f)·v, one double backward), "
              "with v:"]
    lines += [labelled(f"  v[{k}] = ", v) for k, v in report.vector.items()]
    for name, value in report.hvp.items():
        lines.append(labelled(f"  (H v)[{name}] = ", value))
    if not report.gradient:
        lines.append("no input needs a gradient")
    return "\n".join(lines)
