"""Record the backward pass as torch's engine runs it: one :class:`Step` per node, in order.

:func:`record_steps` registers ``grad_fn.register_hook`` on every node reachable from the
output (an explicit stack, no recursion, so deep graphs are fine), runs one more
``output.backward(retain_graph=True)`` over the evaluation's retained graph, and removes the
hooks again. The engine calls each hook right after the node ran, with the gradient that
flowed in (``grad_outputs``) and the gradients it sent along ``next_functions``
(``grad_inputs``), so the recorded order and numbers are the engine's, not a recomputation.

Where several paths reach a node, each path's gradient arrives on its own edge; the trace
keeps every such contribution with the step that sent it and the running sum, so the
multivariate chain rule (w gets 6.0 through w² and 103.432 through exp(g1)) is visible.
The leaves' ``.grad`` are restored afterwards: recording changes nothing the caller sees.
"""
from __future__ import annotations

import dataclasses
import math
import re
import time
from dataclasses import dataclass, field

import torch

from core import limits
from core.drawing.step_highlight import StepHighlight, assemble_highlight
from core.errors import ExpressionError, LimitError
from core.evaluation.deadline import backward_deadline, reachable_nodes
from core.evaluation.evaluate import backward_seed
from core.language import cuts
from core.serialize import tensor_to_json
from core.teaching.rules import Rule, accumulate_rule, fmt, rule_for, slot_word


@dataclass
class Contribution:
    """A gradient arriving at a node along one edge: the ``value``, which step sent it
    (``from_step`` None: the seed gradient 1 at the output), a readable ``via`` (the
    sender's expression), and the sum of the contributions so far (``running_total``)."""

    value: torch.Tensor
    from_step: int | None
    from_node: str | None
    via: str
    running_total: torch.Tensor

    def to_dict(self) -> dict:
        """JSON-ready: value and running total as numbers or nested lists."""
        return {"value": tensor_to_json(self.value), "from_step": self.from_step,
                "from_node": self.from_node, "via": self.via,
                "running_total": tensor_to_json(self.running_total)}


@dataclass
class LeafContributions:
    """What one input received: each path's contribution and their total (its gradient)."""

    name: str
    node_id: str
    leaf_id: str
    contributions: list[Contribution]
    total: torch.Tensor
    step: int | None = None

    def to_dict(self) -> dict:
        """JSON-ready form: ``{"contributions": [...], "total": ...}``."""
        return {"contributions": [c.to_dict() for c in self.contributions],
                "total": tensor_to_json(self.total)}


@dataclass
class Step:
    """One node of the backward pass as the engine ran it.

    ``node_id`` is the node's DOT name (``str(id(grad_fn))``, as torchviz and core.drawing.graph
    name it); ``expression``/``name`` are the user's text for it (for nodes torch made inside
    one of the language's functions, the text of that function, with ``internal`` set);
    ``grad_in`` is the gradient flowing in, ``grad_out[i]`` what it sent to ``inputs[i]``
    (None where that input needs no gradient); ``contributions`` are the gradients that
    arrived on each edge into it, summed by the engine into ``grad_in``.
    """

    index: int
    node_id: str
    op: str
    expression: str | None
    grad_in: list
    grad_out: list
    rule: Rule
    name: str | None = None
    inputs: list = field(default_factory=list)
    input_labels: list = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)
    leaf_id: str | None = None
    internal: bool = False
    #: ``((source, target, k), text)`` for each edge this step sends a gradient along (k: the
    #: k-th edge between those two nodes, see core.drawing.graph.edge_keys), written once when the
    #: trace is recorded so highlights never format tensors again
    edge_labels: tuple = ()
    #: how the rules name this node's value (``g1``, ``3*w``, ``reshape(v)``)
    display: str = ""

    @property
    def title(self) -> str:
        """How the step is listed: ``3. ExpBackward0  exp(g1)``."""
        what = self.name if self.leaf_id else (self.expression or "")
        if self.name and not self.leaf_id and self.expression:
            what = f"{self.name} = {self.expression}"
        return f"{self.index + 1}. {self.op}  {what}".rstrip()

    def to_dict(self) -> dict:
        """The ``steps --json`` entry: index, node, op, expression, grad_in, grad_out, rule."""
        return {"index": self.index, "node": self.node_id, "op": self.op,
                "expression": self.expression,
                "grad_in": [tensor_to_json(g) for g in self.grad_in],
                "grad_out": [tensor_to_json(g) for g in self.grad_out],
                "rule": self.rule.text}


@dataclass(frozen=True)
class ForwardStep:
    """One value of the forward pass, in the order it was computed."""

    index: int
    node_id: str
    op: str | None
    expression: str
    name: str | None
    value: torch.Tensor

    def to_dict(self) -> dict:
        """JSON-ready: index, node, op (the backward node that will carry its gradient),
        expression, name and value."""
        return {"index": self.index, "node": self.node_id, "op": self.op,
                "expression": self.expression, "name": self.name,
                "value": tensor_to_json(self.value)}


@dataclass
class Trace:
    """The recorded backward pass: ``steps`` in engine order, ``leaves`` by input name,
    ``forward`` values in computation order, and the output's node ids."""

    steps: list[Step]
    leaves: dict[str, LeafContributions]
    forward: list[ForwardStep]
    output_id: str | None = None
    root_id: str | None = None
    output_name: str = "output"
    #: the output is an input that needs a gradient (``f = w``): no node runs, yet it has one
    output_is_input: bool = False
    #: the v of ``y.backward(v)`` when the pass was seeded with one (None: seeded with 1)
    seed_vector: torch.Tensor | None = None

    @property
    def derivative_of(self) -> str:
        """What every ∂·/∂ of the steps differentiates: the output's name, or, for a pass
        seeded with v, the number ``(vᵀy)`` whose gradient ``y.backward(v)`` computes."""
        return self.output_name if self.seed_vector is None else f"(vᵀ{self.output_name})"

    @property
    def no_steps_reason(self) -> str:
        """Why there are no steps (when ``steps`` is empty), in a student's words."""
        if self.output_is_input:
            return (f"the output {self.output_name} is an input itself: its gradient is 1 and "
                    "no backward node runs")
        return "the output does not depend on any input that needs a gradient"

    def highlight(self, index: int) -> StepHighlight:
        """The highlight of step ``index``: it is current, earlier steps are done, and every
        edge a gradient has crossed so far (including this step's) is labelled with it."""
        return assemble_highlight(self.steps, index, self.output_id, self.root_id)

    def to_dict(self) -> dict:
        """The ``steps --json`` object: ``{"steps": [...], "leaves": {...}, "forward": [...]}``
        (``forward``: every computed value in order, the walk before the backward pass)."""
        return {"steps": [step.to_dict() for step in self.steps],
                "leaves": {name: leaf.to_dict() for name, leaf in self.leaves.items()},
                "forward": [step.to_dict() for step in self.forward]}


def _edge_labels(step: Step) -> tuple:
    """The gradient text on each edge ``step`` sends along (and into a leaf's node), keyed
    ``(source, target, k)`` as :func:`core.drawing.graph.edge_keys` keys the graph's edges: where
    one
    input fills two slots (``x*x``), each slot's edge carries that slot's own gradient."""
    edges = []
    occurrences: dict[str, int] = {}
    for target, grad in zip(step.inputs, step.grad_out, strict=True):
        if target is None:
            continue
        k = occurrences.get(target, 0)
        occurrences[target] = k + 1
        if grad is not None:
            edges.append(((target, step.node_id, k), edge_text(grad)))
    if step.leaf_id and step.grad_in:
        edges.append(((step.leaf_id, step.node_id, 0), edge_text(step.grad_in[0])))
    return tuple(edges)


def edge_text(grad: torch.Tensor) -> str:
    """A gradient as an edge label: numbers and small tensors in full, large ones by shape."""
    if grad.numel() > 4:
        return "grad " + "×".join(map(str, grad.shape))
    return fmt(grad)


def record_steps(evaluation) -> Trace:
    """Run a fresh backward pass over ``evaluation``'s retained graph with a hook on every
    node and return what the engine did, step by step.

    Raises :class:`ExpressionError` if the graph can no longer be replayed.
    """
    output = evaluation.output
    output_id = str(id(output))
    if not output.requires_grad or output.grad_fn is None:
        # nothing to replay (a constant output, or the output is an input itself)
        return Trace([], {}, _forward_steps(evaluation), output_id, None,
                     evaluation.output_name, output_is_input=output.requires_grad)
    started = time.monotonic()
    nodes = reachable_nodes(output.grad_fn)
    events: list[tuple[object, list, list]] = []
    store = _Store()

    def make_hook(fn):
        def hook(grad_inputs, grad_outputs):
            # copies: the engine may reuse or accumulate into these buffers afterwards
            events.append((fn, [store.copy(g) for g in grad_outputs],
                           [store.copy(g) for g in grad_inputs]))
        return hook

    saved_grads = _save_grads(evaluation)
    handles = []
    try:
        for fn in nodes:
            handles.append(fn.register_hook(make_hook(fn)))
        with backward_deadline(output, limits.MAX_BACKWARD_SECONDS, "recording the steps"):
            output.backward(gradient=backward_seed(evaluation), retain_graph=True)
    except RuntimeError as err:
        raise ExpressionError(
            "math", "the backward pass cannot be replayed (its saved values were freed); "
            f"compute the expression again ({str(err).splitlines()[0][:200]})") from None
    finally:
        for handle in handles:
            handle.remove()
        _restore_grads(saved_grads)
    return _build_trace(evaluation, events, output_id, started + limits.MAX_TRACE_SECONDS)


class _Store:
    """Copies of the gradients the steps keep, within :data:`core.limits.MAX_TRACE_ENTRIES`.

    A gradient that is one value repeated along some dimensions (what ``sum``, ``mean`` and
    broadcasting send back: a view with stride 0) is kept as that small value and expanded
    again, so ``s = s + sum(W)`` with a 1000×1000 W keeps one number per step, not a
    million; every other gradient is copied whole and counted against the budget.
    """

    def __init__(self):
        self.entries = 0
        self.limit = limits.MAX_TRACE_ENTRIES

    def copy(self, grad):
        if grad is None:
            return None
        kept = compact_copy(grad)
        self.entries += stored_entries(kept)
        if self.entries > self.limit:
            raise LimitError(f"the step-through would keep more than {self.limit:,} "
                             "gradient entries, the limit; step through a smaller program "
                             "(fewer operations on large tensors)")
        return kept


def compact_copy(tensor):
    """A copy of ``tensor`` that stores repeated values once: along each dimension of
    stride 0 (an expanded view) only the first slice is copied, then expanded back to
    the full shape (a view again). Values and shape are exactly ``tensor``'s."""
    tensor = tensor.detach()
    if tensor.dim() == 0 or 0 not in tensor.stride():
        return tensor.clone()
    index = tuple(slice(0, 1) if stride == 0 else slice(None) for stride in tensor.stride())
    return tensor[index].clone().expand(tensor.shape)


#: Entries above which a stored tensor is checked for being one value repeated.
CONSTANT_CHECK_ENTRIES = 4_096


def compact_value(value):
    """``value`` as the steps keep it: a large tensor whose entries are all equal (the
    local derivative 1 of ``sum``, a gradient of ones) becomes that one value expanded
    to the same shape; anything else is returned as it is."""
    if not isinstance(value, torch.Tensor) or value.numel() <= CONSTANT_CHECK_ENTRIES:
        return value
    if stored_entries(value) <= 1:
        return value
    first = value.detach().reshape(-1)[0]
    if bool((value.detach() == first).all()):
        return first.clone().expand(value.shape)
    return value


def _compact_rule(rule: Rule) -> Rule:
    """The rule with its tensors kept compactly (see :func:`compact_value`)."""
    if not rule.terms:
        return rule
    terms = tuple(dataclasses.replace(
        term, g=compact_value(term.g), out=compact_value(term.out),
        local=dataclasses.replace(term.local, value=compact_value(term.local.value)),
        # the same tensors again, laid out for grids
        items=tuple(compact_value(item) for item in term.items))
        for term in rule.terms)
    return dataclasses.replace(rule, terms=terms)


def stored_entries(tensor) -> int:
    """How many numbers ``tensor`` really holds (an expanded view holds its base's)."""
    if tensor is None:
        return 0
    return math.prod(n for n, stride in zip(tensor.shape, tensor.stride(), strict=True)
                     if stride != 0)


def add_compact(a, b):
    """``a + b``, kept compact when both are expanded along the same dimensions (the
    running sum of gradients that are each one repeated value stays one value)."""
    if a.shape == b.shape and a.dim() and 0 in a.stride() \
            and [s == 0 for s in a.stride()] == [s == 0 for s in b.stride()]:
        index = tuple(slice(0, 1) if s == 0 else slice(None) for s in a.stride())
        return (a[index] + b[index]).expand(a.shape)
    return a + b


def _save_grads(evaluation) -> list:
    """The ``.grad`` of every tensor the replay will accumulate into, to put back after."""
    tensors = list(evaluation.inputs.values()) + list(evaluation.intermediates.values())
    # clones: AccumulateGrad adds into an existing .grad in place
    return [(t, None if t.grad is None else t.grad.detach().clone())
            for t in tensors if t.requires_grad]


def _restore_grads(saved) -> None:
    for tensor, grad in saved:
        tensor.grad = grad


def _input_value(evaluation, child):
    """The forward value flowing out of ``child`` (a leaf's tensor, or the program's record
    of what the node made), None where the program did not make it."""
    if child is None:
        return None
    variable = getattr(child, "variable", None)
    if variable is not None:
        return variable
    record = evaluation.record_for(child)
    return None if record is None else record.tensor


def _describe(evaluation, fn) -> tuple[str | None, str | None]:
    """(expression, name) of a node from the user's text; (None, None) when torch made
    the node inside a function."""
    variable = getattr(fn, "variable", None)
    if variable is not None:
        name = evaluation.leaf_name(variable)
        return name, name
    record = evaluation.record_for(fn)
    if record is None:
        return None, None
    return record.node.text, record.name


def _build_trace(evaluation, events, output_id: str, deadline: float | None = None) -> Trace:
    """Turn the hook events into steps with contributions, rules and leaf totals."""
    root = evaluation.output.grad_fn
    root_id = str(id(root))
    # node id -> input slot -> gradients that arrived there, in arrival order
    arrived: dict[str, dict[int, list[Contribution]]] = {}
    seed = backward_seed(evaluation).detach()  # 1, or the v of backward(gradient=v)
    vector = getattr(evaluation, "grad_output", None)
    y = evaluation.output_name
    # the steps differentiate the output, or for y.backward(v) the number vᵀy
    out = y if vector is None else f"(vᵀ{y})"
    start = f"the output {y} (d{y}/d{y} = 1)" if vector is None else \
        f"the output {y}, seeded with v ({y}.backward(v))"
    arrived[root_id] = {0: [Contribution(seed, None, None, start, seed)]}
    inherited: dict[str, str] = {}  # node id -> expression of the step that reached it first
    steps: list[Step] = []
    leaves: dict[str, LeafContributions] = {}
    for index, (fn, grad_in, grad_out) in enumerate(events):
        if deadline is not None and time.monotonic() > deadline:
            raise LimitError(f"recording the steps took longer than "
                             f"{limits.MAX_TRACE_SECONDS:g} s, its time limit (at step "
                             f"{index + 1:,} of {len(events):,}); step through a smaller program")
        node_id = str(id(fn))
        op = type(fn).__name__
        expression, name = _describe(evaluation, fn)
        internal = False
        if expression is None and node_id in inherited:
            expression, internal = inherited[node_id], True
        inputs, labels = [], []
        for child, _ in fn.next_functions:
            inputs.append(None if child is None else str(id(child)))
            labels.append(None if child is None else _label(evaluation, child))
        slots, constants = _slot_names(evaluation, fn, labels)
        contributions = [c for cs in arrived.get(node_id, {}).values() for c in cs]
        own = name or (expression if not internal else None) or _label(evaluation, fn)
        step = Step(index=index, node_id=node_id, op=op, expression=expression, name=name,
                    grad_in=grad_in, grad_out=grad_out,
                    rule=rule_for(fn, grad_in, grad_out, slots if op != "AccumulateGrad"
                                  else [name], output=out, node=own, constants=constants,
                                  inputs=[_input_value(evaluation, child)
                                          for child, _ in fn.next_functions]),
                    inputs=inputs, input_labels=labels, contributions=contributions,
                    internal=internal, display=own)
        notes = cuts.step_notes(evaluation, fn)
        if notes:  # an input of this operation was cut off: say where the gradient stops
            step.rule = dataclasses.replace(step.rule, notes=step.rule.notes + notes)
        variable = getattr(fn, "variable", None)
        if variable is not None:
            step.leaf_id = str(id(variable))
            leaf_name = name or f"leaf {index + 1}"
            total = grad_in[0] if grad_in and grad_in[0] is not None else (
                contributions[-1].running_total if contributions else torch.zeros_like(variable))
            leaves[leaf_name] = LeafContributions(leaf_name, node_id, step.leaf_id,
                                                  contributions, total, index)
            step.rule = accumulate_rule(leaf_name, [c.value for c in contributions], total)
        step.rule = _compact_rule(step.rule)
        step.edge_labels = _edge_labels(step)
        via = _via(step)
        edges = [(id(child), slot) for child, slot in fn.next_functions]
        for k, ((child, slot), grad) in enumerate(zip(fn.next_functions, grad_out,
                                                      strict=True)):
            if child is None or grad is None:
                continue
            child_id = str(id(child))
            previous = arrived.setdefault(child_id, {}).setdefault(slot, [])
            running = grad if not previous else add_compact(previous[-1].running_total, grad)
            # one tensor in two slots (x * x): say which slot each share came through
            where = via if edges.count(edges[k]) < 2 else _via(step, slot_word(op, k))
            previous.append(Contribution(grad, index, node_id, where, running))
            if expression and child_id not in inherited:
                inherited[child_id] = expression
        steps.append(step)
    return Trace(steps, leaves, _forward_steps(evaluation), output_id, root_id,
                 evaluation.output_name,
                 seed_vector=None if vector is None else vector.detach())


def _label(evaluation, child, depth: int = 0) -> str:
    """How a rule line names an input: its name, else its expression, else (a node torch
    made inside one of the language's functions) what it computes from its own inputs,
    such as ``reshape(v)``, never torch's internal node name."""
    expression, name = _describe(evaluation, child)
    if name or expression:
        return name or expression
    short = _INTERNAL.get(type(child).__name__) or re.sub(
        r"Backward\d*$", "", type(child).__name__).lower()
    inner = [c for c, _ in child.next_functions if c is not None]
    if not inner or depth >= 3:
        return f"{short}(…)"
    return f"{short}({', '.join(_label(evaluation, c, depth + 1) for c in inner)})"


#: what the nodes torch makes inside a function do, in a word
_INTERNAL = {"ViewBackward0": "reshape", "UnsafeViewBackward0": "reshape",
             "ReshapeAliasBackward0": "reshape", "UnsqueezeBackward0": "unsqueeze",
             "SqueezeBackward0": "squeeze", "SqueezeBackward1": "squeeze",
             "SqueezeBackward4": "squeeze", "TBackward0": "transpose",
             "TransposeBackward0": "transpose", "ExpandBackward0": "expand",
             "MmBackward0": "mm", "BmmBackward0": "bmm", "ReciprocalBackward0": "reciprocal",
             "PermuteBackward0": "permute", "CloneBackward0": "copy"}


def _slot_names(evaluation, fn, labels: list) -> tuple[list, list]:
    """The display of each input slot of ``fn`` and the texts of its constant operands.

    Torch's slots follow its own argument order (``3*w`` runs ``mul(w, 3)``), so the
    user's operands are matched to the slots by their text; an operand no slot took is a
    constant (the ``3``), and fills a slot torch left empty when there is one.
    """
    record = evaluation.record_for(fn)
    node = record.node if record is not None else None
    operands = _operands(node)
    unmatched = [pretty_text for pretty_text in operands]
    slots = list(labels)
    for label in labels:
        if label is not None and label in unmatched:
            unmatched.remove(label)
    for i, label in enumerate(slots):
        if label is None and unmatched:
            slots[i] = unmatched.pop(0)
    constants = [text for text in operands if text not in labels]
    return slots, constants


def _operands(node) -> list[str]:
    """The texts of a language node's operands (left and right, the operand, the call's
    positional arguments)."""
    from core.language.parser import BinaryOp, Call, UnaryOp
    if isinstance(node, BinaryOp):
        return [node.left.text, node.right.text]
    if isinstance(node, UnaryOp):
        return [node.operand.text]
    if isinstance(node, Call):
        return [arg.text for arg in node.args]
    return []


def _via(step: Step, slot: str = "") -> str:
    """How a contribution's sender is named: ``3*w (MulBackward0, step 11)``; ``slot``
    names the input slot when one tensor fills several (``x*x, as its first factor``)."""
    what = step.expression or step.op
    if slot:
        what += f", as its {slot}"
    return f"{what} ({step.op}, step {step.index + 1})"


def _forward_steps(evaluation) -> list[ForwardStep]:
    out = []
    for record in evaluation.records:
        fn = record.grad_fn  # as made (a tensor changed in place later has another)
        node_id = str(id(fn)) if fn is not None else str(id(record.tensor))
        out.append(ForwardStep(len(out), node_id, type(fn).__name__ if fn is not None else None,
                               record.node.text, record.name, record.tensor.detach()))
    return out
