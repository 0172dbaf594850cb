"""Forward mode against reverse mode on the same program.

Forward mode (torch's forward-mode AD, dual numbers: ``torch.autograd.forward_ad``) carries
a tangent beside every value; one pass seeds one input entry with tangent 1 and gives the
derivative of every output entry with respect to it, so a full gradient takes one pass per
input entry. Reverse mode (``torch.autograd.grad``) seeds one output entry and gives the
derivative with respect to every input in one pass, so it takes one pass per output entry.
Many inputs and one output (a loss): reverse wins. One input and many outputs: forward wins.

The work is counted on the backward graph torch built, the same for both modes: a
derivative crossing an edge into a value of n entries costs n multiply-adds (exact for
numbers and elementwise operations; a matrix product costs more per entry, in both modes
alike). Reverse mode crosses every edge once per pass; a forward pass crosses only the
edges downstream of the input entry it seeds.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import torch
import torch.autograd.forward_ad as fwAD

from core.errors import LimitError
from core.evaluation import ops
from core.evaluation.cost import check_repeated_work, repeated_work
from core.evaluation.deadline import backward_deadline
from core.evaluation.evaluate import replay
from core.serialize import entry_label, tensor_to_data
from core.teaching.trace import reachable_nodes

#: forward passes (input entries) one comparison may run
MAX_FORWARD_PASSES = 1_000
#: reverse passes (output entries) one comparison may run
MAX_REVERSE_PASSES = 1_000
#: forward passes whose value-by-value walk is kept for showing
MAX_WALKS = 16
#: values listed in one walk
MAX_WALK_STEPS = 500
#: seconds all passes together may take (each pass also has the evaluation's own bound)
MAX_SECONDS = 30.0

#: torch's forward-mode levels are process-wide: two threads inside dual_level() at once
#: fail with "Nested forward mode AD is not supported", so passes take turns
_DUAL_LEVEL_LOCK = threading.Lock()

COUNTING = ("multiply-adds counted on torch's backward graph: a derivative crossing an edge "
            "into a value of n entries costs n (exact for numbers and elementwise operations; "
            "a matrix product costs more per entry, in both modes alike)")


@dataclass
class WalkStep:
    """One value of a forward pass: its text, value and tangent (d value / d seed)."""

    expression: str
    name: str | None
    value: torch.Tensor
    tangent: torch.Tensor

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"expression": self.expression, "name": self.name,
                "value": tensor_to_data(self.value), "tangent": tensor_to_data(self.tangent)}


@dataclass
class ForwardPass:
    """One forward-mode pass: the seeded input entry (``W[0,1]``) and its walk."""

    seed: str
    steps: list[WalkStep]
    output_tangent: torch.Tensor

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"seed": self.seed, "output_tangent": tensor_to_data(self.output_tangent),
                "steps": [s.to_dict() for s in self.steps]}


@dataclass
class ModesReport:
    """Both modes' derivatives (``d output / d input``: the gradient for a scalar output,
    else the Jacobian, output dimensions first), their passes and multiply-adds."""

    output_name: str
    output_shape: tuple
    forward: dict[str, torch.Tensor]
    reverse: dict[str, torch.Tensor]
    passes: dict[str, int]
    multiply_adds: dict[str, int]
    walks: list[ForwardPass] = field(default_factory=list)

    @property
    def winner(self) -> str:
        """Which mode does less work here ("forward", "reverse" or "tie")."""
        f, r = self.multiply_adds["forward"], self.multiply_adds["reverse"]
        return "tie" if f == r else ("forward" if f < r else "reverse")

    def to_dict(self) -> dict:
        """The ``modes --json`` object."""
        return {"output": self.output_name, "output_shape": list(self.output_shape),
                "forward": {k: tensor_to_data(v) for k, v in self.forward.items()},
                "reverse": {k: tensor_to_data(v) for k, v in self.reverse.items()},
                "passes": dict(self.passes), "multiply_adds": dict(self.multiply_adds),
                "winner": self.winner, "counting": COUNTING,
                "walks": [w.to_dict() for w in self.walks]}


def compare_modes(evaluation, replay_with=None) -> ModesReport:
    """Differentiate ``evaluation``'s output (any shape; build it with
    ``forward(..., allow_vector_output=True)``) in both modes and count the work.
    ``replay_with(program, inputs, dtype) -> (output, records)`` runs the computation again
    on dual numbers (default: the language's ``replay`` of the typed program; a graph from
    the user's own code passes core.views.model_views.dual_replay)."""
    names = [n for n, t in evaluation.inputs.items() if t.requires_grad]
    output = evaluation.output
    n_in = sum(evaluation.inputs[n].numel() for n in names)
    n_out = output.numel()
    if n_in > MAX_FORWARD_PASSES:
        raise LimitError(f"forward mode needs one pass per input entry, {n_in:,} here; the "
                         f"limit is {MAX_FORWARD_PASSES:,} (reverse mode needs {n_out:,})")
    if n_out > MAX_REVERSE_PASSES:
        raise LimitError(f"reverse mode needs one pass per output entry, {n_out:,} here; the "
                         f"limit is {MAX_REVERSE_PASSES:,} (forward mode needs {n_in:,})")
    # both modes' passes are estimated before any runs: a reverse pass is the program's
    # backward pass; a forward-mode pass replays the program carrying tangents, about a
    # forward and a backward pass's work
    _, reverse_total = repeated_work(evaluation, n_out if output.requires_grad else 0)
    check_repeated_work("forward mode (one pass per input entry, after reverse mode's "
                        f"{n_out:,})", evaluation, n_in, "both", already=reverse_total)
    deadline = time.monotonic() + MAX_SECONDS
    reverse, weights, ran = _reverse(evaluation, names)
    with _DUAL_LEVEL_LOCK:
        forward, walks = _forward(evaluation, names, deadline, replay_with or replay)
    edges = _edges(output, ran)
    reverse_work = n_out * sum(weights[p] for p, _ in edges)
    forward_work = 0
    for name in names:
        leaf = evaluation.inputs[name]
        cone = _downstream(edges, _accumulator(output, leaf))
        forward_work += leaf.numel() * sum(weights[p] for p, c in edges
                                           if p in cone and c in cone)
    return ModesReport(evaluation.output_name, tuple(output.shape), forward, reverse,
                       {"forward": n_in, "reverse": n_out if output.requires_grad else 0},
                       {"forward": forward_work, "reverse": reverse_work}, walks)


def _reverse(evaluation, names):
    """One ``torch.autograd.grad`` pass per output entry (one-hot seed), with a hook on
    every node noting how many entries its gradient has: that is what each edge carries."""
    output = evaluation.output
    leaves = [evaluation.inputs[n] for n in names]
    shape = tuple(output.shape)
    results = {n: torch.zeros(shape + tuple(evaluation.inputs[n].shape),
                              dtype=output.dtype) for n in names}
    weights: dict[int, int] = {}
    ran: set[int] = set()
    if not output.requires_grad or output.grad_fn is None or not leaves:
        if output.requires_grad and output.grad_fn is None:  # the output is an input
            for n in names:
                if evaluation.inputs[n] is output:
                    results[n] = torch.eye(output.numel(), dtype=output.dtype).reshape(
                        shape + shape)
        return results, weights, ran

    def make_hook(fn):
        def hook(grad_outputs):
            ran.add(id(fn))
            weights[id(fn)] = sum(g.numel() for g in grad_outputs if g is not None)
        return hook

    handles = [fn.register_prehook(make_hook(fn)) for fn in reachable_nodes(output.grad_fn)]
    try:
        with backward_deadline(output, MAX_SECONDS, "reverse mode over all its passes"):
            for k in range(output.numel()):
                seed = torch.zeros_like(output).reshape(-1)
                seed[k] = 1
                grads = torch.autograd.grad(output, leaves, seed.reshape(shape),
                                            retain_graph=True, allow_unused=True)
                index = tuple(int(i) for i in _unravel(k, shape))
                for n, g in zip(names, grads, strict=True):
                    if g is not None:
                        results[n][index] = g
    finally:
        for handle in handles:
            handle.remove()
    return results, weights, ran


def _forward(evaluation, names, deadline, replay):
    """One dual-number pass per input entry: that entry's tangent is 1, all others 0."""
    output = evaluation.output
    shape = tuple(output.shape)
    dtype = ops.DTYPES[evaluation.dtype]
    primals = {n: t.detach() for n, t in evaluation.inputs.items()}
    results = {n: torch.zeros(shape + tuple(primals[n].shape), dtype=output.dtype)
               for n in names}
    walks: list[ForwardPass] = []
    for name in names:
        for k in range(primals[name].numel()):
            if time.monotonic() > deadline:
                raise LimitError(f"forward mode took longer than {MAX_SECONDS:g} s over all "
                                 "its passes, the time limit")
            index = _unravel(k, tuple(primals[name].shape))
            tangent = torch.zeros_like(primals[name])
            tangent[index] = 1
            with fwAD.dual_level():
                inputs = dict(primals)
                inputs[name] = fwAD.make_dual(primals[name], tangent)
                out, records = replay(evaluation.program, inputs, evaluation.dtype)
                out_tangent = _tangent(out, dtype)
                if len(walks) < MAX_WALKS:
                    walks.append(ForwardPass(
                        entry_label(name, index),
                        [WalkStep(r.node.text, r.name, fwAD.unpack_dual(r.tensor).primal
                                  .detach().clone(), _tangent(r.tensor, dtype))
                         for r in records[:MAX_WALK_STEPS]], out_tangent))
            column = (slice(None),) * len(shape) + tuple(index)
            results[name][column] = out_tangent.reshape(shape)
    return results, walks


def _tangent(tensor, dtype) -> torch.Tensor:
    """The tangent of a dual tensor (zeros where no tangent reached it)."""
    if not isinstance(tensor, torch.Tensor):
        return torch.zeros((), dtype=dtype)
    unpacked = fwAD.unpack_dual(tensor)
    if unpacked.tangent is None:
        return torch.zeros_like(unpacked.primal).detach()
    return unpacked.tangent.detach().clone()


def _unravel(k: int, shape: tuple) -> tuple:
    index = []
    for size in reversed(shape):
        index.append(k % size)
        k //= size
    return tuple(reversed(index))


def _edges(output, ran: set[int]) -> list[tuple[int, int]]:
    """(node, child) for every edge a reverse pass carried a gradient along."""
    if output.grad_fn is None:
        return []
    edges = []
    for fn in reachable_nodes(output.grad_fn):
        if id(fn) not in ran:
            continue
        for child, _ in fn.next_functions:
            # torch.autograd.grad captures a leaf's gradient at its AccumulateGrad node
            # without running it, so a leaf's node counts as reached through the edge
            if child is not None and (id(child) in ran or hasattr(child, "variable")):
                edges.append((id(fn), id(child)))
    return edges


def _accumulator(output, leaf) -> int | None:
    """The AccumulateGrad node of ``leaf`` in ``output``'s graph."""
    if output.grad_fn is None:
        return None
    for fn in reachable_nodes(output.grad_fn):
        if getattr(fn, "variable", None) is leaf:
            return id(fn)
    return None


def _downstream(edges, start: int | None) -> set[int]:
    """Nodes a forward pass seeded at ``start`` reaches: ``start`` and every node with a
    path down to it (tangents flow against the backward edges)."""
    if start is None:
        return set()
    parents: dict[int, list[int]] = {}
    for parent, child in edges:
        parents.setdefault(child, []).append(parent)
    seen = {start}
    stack = [start]
    while stack:
        node = stack.pop()
        for parent in parents.get(node, ()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def format_modes(report: ModesReport, digits: int = 6) -> str:
    """The comparison as text."""
    from core.serialize import format_inline, format_labelled
    out = report.output_name
    lines = [f"d{out}/d(input) in both modes (output shape "
             f"{list(report.output_shape) or 'a single number'})", ""]
    for name in report.forward:
        lines.append(format_labelled(f"{name}, forward mode: ", report.forward[name], digits))
        lines.append(format_labelled(f"{name}, reverse mode: ", report.reverse[name], digits))
    p, m = report.passes, report.multiply_adds
    lines += ["", f"forward mode: {p['forward']} pass{'es' if p['forward'] != 1 else ''} "
              f"(one per input entry), {m['forward']:,} multiply-adds",
              f"reverse mode: {p['reverse']} pass{'es' if p['reverse'] != 1 else ''} "
              f"(one per output entry), {m['reverse']:,} multiply-adds",
              f"less work here: {report.winner}", f"note: {COUNTING}"]
    for walk in report.walks[:4]:
        lines += ["", f"forward pass seeded at {walk.seed} (tangent 1):"]
        for step in walk.steps[:40]:
            label = f"{step.name} = {step.expression}" if step.name else step.expression
            lines.append(f"  {label}: value {format_inline(step.value, digits)}, "
                         f"tangent {format_inline(step.tangent, digits)}")
    return "\n".join(lines)
