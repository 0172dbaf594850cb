"""Find the first operation that produced NaN or infinity, forward or backward.

Forward: the first record (in the order the program computed them) whose value is not
finite. Backward: a fresh backward pass with a hook on every autograd node; the first node
(in the engine's order) that receives finite gradients but sends out a non-finite one is
where the gradient broke (``sqrt`` at 0, ``0 * inf`` in a product rule...). Either way the
result names the operation, its place in the text, and its graph node id
(``str(id(grad_fn))``, the DOT name torchviz and core.drawing.graph use) so the GUI can highlight
it.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from core.errors import Span


@dataclass
class NonFiniteOrigin:
    """Where NaN or infinity first appeared."""

    stage: str            # "forward" or "backward"
    what: str             # "NaN" or "infinity"
    op: str               # autograd node name, e.g. "SqrtBackward0" (or the function)
    expression: str | None
    span: Span | None
    node_id: str | None   # the graph node to highlight
    message: str

    def to_dict(self) -> dict:
        """JSON-ready fields."""
        out = {"stage": self.stage, "what": self.what, "op": self.op,
               "expression": self.expression, "node_id": self.node_id,
               "message": self.message}
        if self.span:
            out.update(line=self.span.line, column=self.span.column)
        return out


def _what(tensors) -> str:
    return "NaN" if any(torch.isnan(t).any() for t in tensors) else "infinity"


def _finite(tensors) -> bool:
    return all(torch.isfinite(t).all() for t in tensors if t is not None)


def first_nonfinite(evaluation, gradients: dict | None = None) -> NonFiniteOrigin | None:
    """The first non-finite value of the forward pass, else of the backward pass (if any
    gradient is non-finite), else None."""
    for record in evaluation.records:
        value = record.tensor.detach()
        if value.is_floating_point() and not torch.isfinite(value).all():
            what = _what([value])
            fn = record.tensor.grad_fn
            where = f" ({record.node.span.describe()})" if record.node.span else ""
            return NonFiniteOrigin(
                "forward", what, type(fn).__name__ if fn is not None else record.node.text,
                record.node.text, record.node.span, str(id(fn)) if fn is not None else None,
                f"{what} first appears in the forward pass at {record.node.text}{where}; "
                "every operation after it carries it on")
    gradients = evaluation.gradients if gradients is None else gradients
    if all(_finite([g]) for g in gradients.values()):
        return None
    return _backward_origin(evaluation)


def _backward_origin(evaluation) -> NonFiniteOrigin | None:
    output = evaluation.output
    if output.grad_fn is None:
        return None
    from core.teaching.trace import reachable_nodes
    nodes = reachable_nodes(output.grad_fn)  # iterative: graphs can be thousands deep
    found: list = []

    def make_hook(fn):
        def hook(grad_inputs, grad_outputs):
            if not found and _finite(grad_outputs) and not _finite(grad_inputs):
                found.append((fn, [g for g in grad_inputs if g is not None]))
        return hook

    handles = [fn.register_hook(make_hook(fn)) for fn in nodes]
    leaves = [t for t in evaluation.inputs.values() if t.requires_grad]
    try:
        torch.autograd.grad(output, leaves, retain_graph=True, allow_unused=True)
    except RuntimeError:
        return None  # the graph was freed; nothing more to say than the gradient itself
    finally:
        for handle in handles:
            handle.remove()
    if not found:
        return None
    fn, grads = found[0]
    record = evaluation.record_for(fn)
    what = _what(grads)
    expression = record.node.text if record else None
    span = record.node.span if record else None
    where = f" from {expression} ({span.describe()})" if record and span else ""
    return NonFiniteOrigin(
        "backward", what, type(fn).__name__, expression, span, str(id(fn)),
        f"{what} first appears in the backward pass at {type(fn).__name__}{where}: the value "
        "is finite there but its derivative is not (for example sqrt or log at 0)")
