"""Every path from an input to the output, and why reverse mode never lists them.

The multivariate chain rule says the gradient of the output with respect to an input is
the sum, over every path from the input to the output in the graph, of the product of the
local derivatives along the path (seed: ∂f/∂w = 3·1·34.4773·1 + 2·1·3·1 = 103.432 + 6).
:func:`find_paths` lists those paths with torch's own local derivatives: each factor is
the backward node itself called with a one (``grad_fn(1)`` gives ∂node/∂input), so any
function torch differentiates works, with no per-function code.

A graph where a value is reused (``y = y + y`` repeated) has exponentially many paths;
they are counted by dynamic programming over the graph (never enumerated) and, past
:data:`MAX_PATHS_LISTED`, only the factored sums are shown: each node's gradient is the sum
over the edges leaving it of (the gradient of the node it feeds × the local derivative).
That factoring is what reverse mode computes, one node at a time.

For tensors the factors are Jacobians; a path's product is then the seed pushed backward
along that path alone (a vector-Jacobian product per node), and the paths still sum to
the gradient, since each node's backward is linear.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from core.errors import LimitError
from core.evaluation.cost import repeated_work_refusal
from core.evaluation.evaluate import backward_seed
from core.serialize import tensor_to_data
from core.teaching.trace import Trace, reachable_nodes, record_steps

#: paths listed for one input; past it only the count and the factored sums are shown
MAX_PATHS_LISTED = 200
#: edges over all listed paths of one input (200 paths of a 5,000-node chain are too many)
MAX_PATH_EDGES = 20_000
#: seconds listing one input's paths may take (each path is pushed through torch's nodes)
MAX_SECONDS = 30.0


@dataclass
class Path:
    """One path, input first: ``nodes`` are labels (the input's name, then each
    operation's text up to the output), ``factors[k]`` the local derivative from
    ``nodes[k]`` to ``nodes[k+1]`` (None when the values are tensors), ``product`` what
    the path contributes to the gradient."""

    nodes: list[str]
    node_ids: list[str]
    factors: list
    product: torch.Tensor
    #: per edge, which of the parallel edges between its two nodes it is (``x*x`` has two),
    #: as core.drawing.graph.edge_keys numbers them
    edge_ks: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready: ``{"nodes": [...], "factors": [...], "product": ...}``."""
        return {"nodes": self.nodes, "node_ids": self.node_ids, "edge_ks": self.edge_ks,
                "factors": [tensor_to_data(f) for f in self.factors],
                "product": tensor_to_data(self.product)}


@dataclass
class Term:
    """One edge out of a node towards the output, in the factored sum: the node it feeds
    (``into``), that node's gradient, the local derivative (None for tensors) and the
    product, which is the contribution the engine sent along the edge."""

    into: str
    into_gradient: torch.Tensor
    factor: torch.Tensor | None
    value: torch.Tensor

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"into": self.into, "into_gradient": tensor_to_data(self.into_gradient),
                "factor": tensor_to_data(self.factor), "value": tensor_to_data(self.value)}


@dataclass
class FactoredNode:
    """A node between the input and the output: its gradient (d output / d node), the
    number of paths from it to the output, and the terms its gradient sums."""

    node_id: str
    label: str
    gradient: torch.Tensor
    paths_to_output: int
    terms: list[Term] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready form (``paths_to_output`` as a string past 2**53 so JSON keeps it)."""
        return {"node": self.label, "node_id": self.node_id,
                "gradient": tensor_to_data(self.gradient),
                "paths_to_output": _json_int(self.paths_to_output),
                "terms": [t.to_dict() for t in self.terms]}


@dataclass
class LeafPaths:
    """What one input gets: how many paths, the paths themselves when few enough, their
    sum, the gradient autograd computed (``total``), and the factored sums."""

    name: str
    count: int
    paths: list[Path] | None
    total: torch.Tensor
    factored: list[FactoredNode]
    reason: str = ""

    @property
    def path_sum(self) -> torch.Tensor | None:
        """The sum of the listed paths' products (None when they are not listed)."""
        if self.paths is None:
            return None
        if not self.paths:
            return torch.zeros_like(self.total)
        return torch.stack([p.product for p in self.paths]).sum(dim=0)

    def to_dict(self) -> dict:
        """JSON-ready: ``{"paths": [...] or null, "count": N, "total": ..., ...}``."""
        return {"count": _json_int(self.count), "listed": self.paths is not None,
                "paths": None if self.paths is None else [p.to_dict() for p in self.paths],
                "path_sum": tensor_to_data(self.path_sum), "total": tensor_to_data(self.total),
                "reason": self.reason, "factored": [n.to_dict() for n in self.factored]}


@dataclass
class PathsReport:
    """Every input's paths to the output ``output_name``."""

    output_name: str
    leaves: dict[str, LeafPaths]

    def to_dict(self) -> dict:
        """The ``paths --json`` object."""
        return {"output": self.output_name, "max_paths_listed": MAX_PATHS_LISTED,
                "leaves": {name: leaf.to_dict() for name, leaf in self.leaves.items()}}


def _json_int(n: int):
    return n if n < 2 ** 53 else str(n)


class _Graph:
    """The backward graph as the trace ran it: node ids, labels, edges, gradients."""

    def __init__(self, evaluation, trace: Trace):
        self.fns = {str(id(fn)): fn for fn in reachable_nodes(evaluation.output.grad_fn)}
        self.steps = {step.node_id: step for step in trace.steps}
        self.order = [step.node_id for step in trace.steps]  # engine order: topological
        self.root = trace.root_id
        self.output_name = evaluation.output_name
        self.seed = backward_seed(evaluation).detach()  # 1, or v of backward(gradient=v)
        # node id -> [(input position, child id, child's output slot)]
        self.children: dict[str, list[tuple[int, str, int]]] = {}
        for node_id in self.order:
            fn = self.fns[node_id]
            self.children[node_id] = [(i, str(id(child)), slot)
                                      for i, (child, slot) in enumerate(fn.next_functions)
                                      if child is not None and str(id(child)) in self.steps]
        self._local: dict[tuple[str, int, int], torch.Tensor] = {}

    def label(self, node_id: str) -> str:
        step = self.steps[node_id]
        if step.leaf_id:
            return step.name or step.op
        if node_id == self.root and not step.name:
            return f"{self.output_name} = {step.expression}" if step.expression else step.op
        if step.name and step.expression:
            return f"{step.name} = {step.expression}"
        if step.internal or not step.expression:
            return f"{step.op} (in {step.expression})" if step.expression else step.op
        return step.expression

    def gradient(self, node_id: str, slot: int) -> torch.Tensor:
        """d output / d (this node's output ``slot``), as the engine computed it."""
        grads = self.steps[node_id].grad_in
        grad = grads[slot] if slot < len(grads) else None
        return grad if grad is not None else torch.zeros(())

    def push(self, node_id: str, slot: int, position: int, grad: torch.Tensor):
        """Call the backward node with ``grad`` on output ``slot`` (nothing on the others)
        and return what it sends to input ``position``: one vector-Jacobian product."""
        fn = self.fns[node_id]
        outputs = len(self.steps[node_id].grad_in) or 1
        grads = [None] * outputs
        grads[slot] = grad
        with torch.no_grad():
            result = fn(*grads)
        if isinstance(result, torch.Tensor):
            result = (result,)
        out = result[position]
        if out is None:
            return None
        child, child_slot = fn.next_functions[position]
        step = self.steps.get(str(id(child))) if child is not None else None
        received = step.grad_in[child_slot] if step is not None and \
            child_slot < len(step.grad_in) else None
        if received is not None and out.shape != received.shape:
            # a broadcast input: the engine sums the gradient down to the input's shape
            # after the node runs (validate_outputs); called directly, the node does not
            out = out.sum_to_size(received.shape)
        return out.detach()

    def local(self, node_id: str, slot: int, position: int, scalar: bool):
        """The local derivative d node[slot] / d input[position] for scalar values."""
        if not scalar:
            return None
        key = (node_id, slot, position)
        if key not in self._local:
            seed = torch.ones_like(self.gradient(node_id, slot))
            value = self.push(node_id, slot, position, seed)
            self._local[key] = value if value is not None else torch.zeros_like(seed)
        return self._local[key]


def find_paths(evaluation, trace: Trace | None = None, *,
               max_paths: int = MAX_PATHS_LISTED) -> PathsReport:
    """Every input's paths to the output of ``evaluation`` (a scalar output, after
    :func:`core.evaluation.evaluate.backward`), counted, listed when at most ``max_paths``, and
    factored."""
    trace = trace if trace is not None else record_steps(evaluation)
    output = evaluation.output
    leaves: dict[str, LeafPaths] = {}
    wanted = [n for n, t in evaluation.inputs.items() if t.requires_grad]
    if output.grad_fn is None:
        for name in wanted:
            is_output = evaluation.inputs[name] is output
            one = torch.ones_like(output.detach())
            leaves[name] = LeafPaths(
                name, int(is_output),
                [Path([name], [str(id(output))], [], one)] if is_output else [],
                one if is_output else torch.zeros_like(evaluation.inputs[name].detach()), [],
                "the output is this input itself" if is_output else
                "the output does not depend on it")
        return PathsReport(evaluation.output_name, leaves)
    graph = _Graph(evaluation, trace)
    scalar = all(g is None or g.numel() == 1 for s in trace.steps for g in s.grad_in)
    from_root = _count_from_root(graph)
    by_name = {leaf.name: leaf for leaf in trace.leaves.values()}
    for name in wanted:
        leaf = by_name.get(name)
        if leaf is None:
            leaves[name] = LeafPaths(name, 0, [], torch.zeros_like(evaluation.inputs[name]
                                                                   .detach()), [],
                                     "the output does not depend on it")
            continue
        to_leaf = _count_to(graph, leaf.node_id)
        count = to_leaf.get(graph.root, 0)
        factored = _factored(graph, leaf.node_id, to_leaf, from_root, scalar)
        paths, reason = None, ""
        edges = count * max(1, len(factored))
        if count > max_paths:
            reason = (f"{count:,} paths: more than {max_paths} are not listed; the factored "
                      "sums below add them up one node at a time, as reverse mode does")
        elif edges > MAX_PATH_EDGES and count > 1:
            reason = (f"{count:,} paths over up to {len(factored):,} nodes each: too long to "
                      "list; the factored sums below add them up")
        elif count > 1 and (too_much := repeated_work_refusal(
                "listing the paths (each pushes the seed through its nodes, up to one "
                "backward pass per path)", evaluation, count, "backward")):
            reason = f"{too_much}; the factored sums below add them up instead"
        else:
            paths = _enumerate(graph, leaf.node_id, to_leaf, scalar)
        leaves[name] = LeafPaths(name, count, paths, leaf.total.detach().clone(), factored,
                                 reason)
    return PathsReport(evaluation.output_name, leaves)


def _count_from_root(graph: _Graph) -> dict[str, int]:
    """Paths from the output down to each node (edges counted with multiplicity)."""
    counts = {graph.root: 1}
    for node_id in graph.order:
        here = counts.get(node_id, 0)
        for _, child, _ in graph.children[node_id]:
            counts[child] = counts.get(child, 0) + here
    return counts


def _count_to(graph: _Graph, target: str) -> dict[str, int]:
    """Paths from each node down to ``target`` (reverse engine order is bottom-up)."""
    counts = {target: 1}
    for node_id in reversed(graph.order):
        if node_id == target:
            continue
        total = sum(counts.get(child, 0) for _, child, _ in graph.children[node_id])
        if total:
            counts[node_id] = total
    return counts


def _factored(graph, target, to_leaf, from_root, scalar) -> list[FactoredNode]:
    """Each node on some path from the output to ``target``, in engine order, with its
    gradient written as the sum over the edges that reach it from the output side."""
    on_path = {n for n in graph.order if to_leaf.get(n) and from_root.get(n)}
    nodes = []
    terms: dict[str, list[Term]] = {n: [] for n in on_path}
    for node_id in graph.order:
        if node_id not in on_path:
            continue
        for position, child, _ in graph.children[node_id]:
            if child not in on_path:
                continue
            parent_slot = _arrival_slot(graph, node_id)
            into_gradient = graph.gradient(node_id, parent_slot)
            factor = graph.local(node_id, parent_slot, position, scalar)
            value = graph.steps[node_id].grad_out[position]
            if value is None:
                continue
            terms[child].append(Term(graph.label(node_id), into_gradient, factor, value))
    for node_id in graph.order:
        if node_id in on_path:
            step = graph.steps[node_id]
            gradient = step.grad_in[0] if step.grad_in and step.grad_in[0] is not None \
                else torch.zeros(())
            nodes.append(FactoredNode(node_id, graph.label(node_id), gradient,
                                      from_root[node_id], terms[node_id]))
    return nodes


def _arrival_slot(graph: _Graph, node_id: str) -> int:
    """The output slot of ``node_id`` that carries a gradient (0 for single-output nodes)."""
    grads = graph.steps[node_id].grad_in
    for slot, grad in enumerate(grads):
        if grad is not None:
            return slot
    return 0


def _enumerate(graph: _Graph, target: str, to_leaf: dict, scalar: bool) -> list[Path]:
    """List every path from the output to ``target`` (only called when they are few),
    pushing the seed along each path alone; returned input first."""
    paths = []
    seed = graph.seed
    deadline = time.monotonic() + MAX_SECONDS
    # stack of (node, slot it is entered by, ids, factors, edge ks so far, gradient so far)
    stack = [(graph.root, 0, [graph.root], [], [], seed)]
    while stack:
        if time.monotonic() > deadline:
            raise LimitError(f"listing the paths took longer than {MAX_SECONDS:g} s, its time "
                             "limit")
        node_id, slot, ids, factors, ks, grad = stack.pop()
        if node_id == target:
            paths.append(Path([graph.label(n) for n in reversed(ids)], list(reversed(ids)),
                              list(reversed(factors)), grad, list(reversed(ks))))
            continue
        children = graph.children[node_id]
        for position, child, child_slot in reversed(children):
            if not to_leaf.get(child):
                continue
            pushed = graph.push(node_id, slot, position, grad)
            if pushed is None:
                continue
            factor = graph.local(node_id, slot, position, scalar)
            k = sum(1 for p, c, _ in children if c == child and p < position)
            stack.append((child, child_slot, ids + [child], factors + [factor], ks + [k],
                          pushed))
    return paths


def factors_text(factors) -> str:
    """A path's local derivatives as the pages write a product: ``2 · (−0.416147) · 3``
    (negative factors in parentheses, the pages' minus sign)."""
    from core.teaching.rules import base
    return " · ".join(base(f) for f in factors)


def value_text(value) -> str:
    """One number or small tensor with the pages' minus sign (``−2.49688``)."""
    from core.teaching.rules import fmt
    return fmt(value)


def sum_text(values) -> str:
    """The paths' products as one sum, the minus written once: ``−29.0117 − 2.49688``."""
    from core.teaching.rules import signed_sum
    return signed_sum(values)


def format_paths(report: PathsReport) -> str:
    """The report as text: each input's paths with factors and products, and the sum."""
    out = report.output_name
    lines = []
    if not report.leaves:
        return (f"{out} does not depend on any input that needs a gradient: there are no "
                "paths (give inputs with --var; --const values get none)")
    for name, leaf in report.leaves.items():
        lines.append(f"d{out}/d{name}: {leaf.count:,} path{'s' if leaf.count != 1 else ''}")
        if leaf.paths is not None:
            for k, path in enumerate(leaf.paths, 1):
                lines.append(f"  path {k}: " + " → ".join(path.nodes))
                if path.factors and all(f is not None for f in path.factors):
                    lines.append(f"    {factors_text(path.factors)} = "
                                 f"{value_text(path.product)}")
                else:
                    lines.append(f"    contributes {value_text(path.product)}")
            if leaf.paths:
                lines.append(f"  sum: {sum_text([p.product for p in leaf.paths])} = "
                             f"{value_text(leaf.path_sum)}")
        else:
            lines.append(f"  {leaf.reason}")
            for node in leaf.factored[-6:]:
                terms = sum_text([t.value for t in node.terms]) if node.terms else "1"
                lines.append(f"  d{out}/d[{node.label}] = {terms} = "
                             f"{value_text(node.gradient)}  "
                             f"({node.paths_to_output:,} paths)")
        if leaf.reason and leaf.paths is not None:
            lines.append(f"  {leaf.reason}")
        lines.append(f"  autograd's gradient: {value_text(leaf.total)}")
    return "\n".join(lines)
