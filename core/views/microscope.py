"""A matrix microscope: how backward through a matrix product gets its shapes right.

For ``C = A @ B`` with the gradient G = ∂F/∂C flowing in, the gradient of each operand has
the operand's shape, and there is only one way to multiply G with the other operand that
gives it: for A (m×k), G (m×n) and B (k×n), ∂F/∂A = G Bᵀ, so each entry is a sum,
∂F/∂A[i,j] = Σ_c G[i,c] B[j,c]. :func:`lenses` finds every matrix-matrix,
matrix-vector and vector-vector product torch ran (MmBackward0, MvBackward0, DotBackward0)
and writes this out with the numbers, reading the operands from the nodes' own inputs and
G from the engine's recorded pass. Each formula's result is compared with what torch's
backward node actually sent; a lens whose numbers do not match is not shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from core.serialize import entry_label, format_number, tensor_to_data

#: entries expanded into their sums per operand, and terms written out per sum
MAX_ENTRIES, MAX_TERMS = 16, 8

#: backward node -> what its forward computed
_RULES = {"MmBackward0": "C = A B", "MvBackward0": "c = A v", "DotBackward0": "c = a · b"}


@dataclass
class Operand:
    """One operand: its label, shape, the gradient formula, its value as torch's node sent
    it, and some entries written out as sums."""

    label: str
    shape: tuple
    formula: str
    why: str
    gradient: torch.Tensor
    entries: list = field(default_factory=list)  # (entry label, "Σ ... = value")

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"label": self.label, "shape": list(self.shape), "formula": self.formula,
                "why": self.why, "gradient": tensor_to_data(self.gradient),
                "entries": [list(e) for e in self.entries]}


@dataclass
class Lens:
    """One matrix product of the program under the microscope."""

    node_id: str
    op: str
    expression: str
    product: str
    g_shape: tuple
    g: torch.Tensor
    operands: list[Operand]

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"node": self.node_id, "op": self.op, "expression": self.expression,
                "product": self.product, "G_shape": list(self.g_shape),
                "G": tensor_to_data(self.g), "operands": [o.to_dict() for o in self.operands]}


def lenses(evaluation, trace) -> list[Lens]:
    """A lens for every mm/mv/dot node the backward pass ran (``trace`` of
    ``evaluation``)."""
    found = []
    for step in trace.steps:
        if step.op not in _RULES or not step.grad_in or step.grad_in[0] is None:
            continue
        fn = _node(evaluation, step.node_id)
        if fn is None:
            continue
        operands = [_operand_tensor(evaluation, child) for child, _ in fn.next_functions]
        for k, attr in enumerate(_SAVED[step.op]):
            if operands[k] is None:
                # a constant operand: the node saved it for the other operand's gradient
                saved = getattr(fn, attr, None)
                operands[k] = saved.detach() if isinstance(saved, torch.Tensor) else None
        if any(t is None for t in operands):
            continue  # an operand torch made inside a function: no name to show it by
        labels = [_label(evaluation, c) for c, _ in fn.next_functions]
        if labels[0] == labels[1]:  # W @ W: one input in both places, one term each
            labels = [f"{labels[0]} (left)", f"{labels[1]} (right)"]
        lens = _lens(step, operands, labels)
        if lens is not None:
            found.append(lens)
    return found


#: the attributes under which each node saved its two operands
_SAVED = {"MmBackward0": ("_saved_self", "_saved_mat2"),
          "MvBackward0": ("_saved_self", "_saved_vec"),
          "DotBackward0": ("_saved_self", "_saved_tensor")}


def _node(evaluation, node_id: str):
    from core.teaching.trace import reachable_nodes
    if evaluation.output.grad_fn is None:
        return None
    return next((fn for fn in reachable_nodes(evaluation.output.grad_fn)
                 if str(id(fn)) == node_id), None)


def _operand_tensor(evaluation, child):
    """The tensor behind an input of a product node (a leaf, or a value the program
    computed); None for a constant or a tensor made inside a function."""
    if child is None:
        return None
    variable = getattr(child, "variable", None)
    if variable is not None:
        return variable.detach()
    record = evaluation.record_for(child)
    return None if record is None else record.tensor.detach()


def _label(evaluation, child) -> str:
    if child is None:
        return "a constant"
    variable = getattr(child, "variable", None)
    if variable is not None:
        return evaluation.leaf_name(variable) or "input"
    record = evaluation.record_for(child)
    if record is None:
        return type(child).__name__
    text = record.name or record.node.text
    return text if text.isidentifier() else f"({text})"


def _lens(step, operands, labels) -> Lens | None:
    """The formulas with numbers, or None if they do not reproduce torch's gradients."""
    g = step.grad_in[0].detach()
    a, b = operands
    if step.op == "MmBackward0":
        grads = (g @ b.T, a.T @ g)
        sums = (lambda i, j: [(g[i, c], b[j, c]) for c in range(g.shape[1])],
                lambda i, j: [(a[r, i], g[r, j]) for r in range(g.shape[0])])
        why = (f"G is {_shape(g)} and {labels[1]} is {_shape(b)}: only G·{labels[1]}ᵀ is "
               f"{_shape(a)}, the shape of {labels[0]}",
               f"{labels[0]} is {_shape(a)} and G is {_shape(g)}: only {labels[0]}ᵀ·G is "
               f"{_shape(b)}, the shape of {labels[1]}")
    elif step.op == "MvBackward0":
        grads = (torch.outer(g, b), a.T @ g)
        sums = (lambda i, j: [(g[i], b[j])],
                lambda j: [(a[r, j], g[r]) for r in range(g.shape[0])])
        why = (f"G is {_shape(g)} and {labels[1]} is {_shape(b)}: their outer product is "
               f"{_shape(a)}, the shape of {labels[0]}",
               f"{labels[0]}ᵀ·G is {_shape(b)}, the shape of {labels[1]}")
    else:
        grads = (g * b, g * a)
        sums = (lambda i: [(g, b[i])], lambda i: [(g, a[i])])
        why = ("G is a number: each entry of a gets G times the matching entry of b",
               "G is a number: each entry of b gets G times the matching entry of a")
    # the rule's A and B (or v, a, b) replaced by the program's own names
    names = [label.split(" (left)")[0].split(" (right)")[0] for label in labels]
    formulas = {"MmBackward0": (f"G {names[1]}ᵀ", f"{names[0]}ᵀ G"),
                "MvBackward0": (f"G {names[1]}ᵀ (an outer product)", f"{names[0]}ᵀ G"),
                "DotBackward0": (f"G {names[1]}", f"G {names[0]}")}[step.op]
    result = []
    for k, (operand, grad, sent) in enumerate(zip(operands, grads, step.grad_out,
                                                  strict=True)):
        if sent is None:
            continue  # this operand needs no gradient
        if sent.shape != grad.shape or not torch.allclose(grad, sent, rtol=1e-4, atol=1e-6):
            return None  # not the product the rule describes (a broadcast, a batch)
        entries = []
        for flat in range(min(grad.numel(), MAX_ENTRIES)):
            index = _unravel(flat, tuple(grad.shape))
            terms = sums[k](*index)
            shown = " + ".join(f"{_factor(x)}·{_factor(y)}" for x, y in terms[:MAX_TERMS])
            if len(terms) > MAX_TERMS:
                shown += f" + … ({len(terms)} terms)"
            name = labels[k].split(" (")[0] if labels[k].endswith(("(left)", "(right)")) \
                else labels[k]
            entries.append((f"∂F/∂{entry_label(name, index)}",
                            f"{shown} = {format_number(float(sent[index]))}"))
        result.append(Operand(labels[k], tuple(operand.shape), formulas[k], why[k],
                              sent.detach(), entries))
    return Lens(step.node_id, step.op, step.expression or step.op, _RULES[step.op],
                tuple(g.shape), g, result)


def _factor(x) -> str:
    text = format_number(float(x), 4)
    return f"({text})" if text.startswith("-") else text


def _shape(t) -> str:
    return "×".join(map(str, t.shape)) or "a number"


def _unravel(k: int, shape: tuple) -> tuple:
    index = []
    for size in reversed(shape):
        index.append(k % size)
        k //= size
    return tuple(reversed(index))
