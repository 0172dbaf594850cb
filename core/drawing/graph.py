"""The backward graph of an evaluation as plain data: torchviz's nodes and edges, annotated.

:func:`build_graph` walks ``output.grad_fn`` the way torchviz's ``make_dot`` does (same node
names ``str(id(obj))``, same discovery order, same edges, same saved-tensor nodes), but with
an explicit stack instead of recursion, so a 5,000-operation chain is walked without
RecursionError. Each node also carries what ``make_dot`` leaves out and a lecture needs: the
piece of the user's text it came from, the name it was given, its shape, value and gradient.

Gradients of operation nodes are the gradient flowing into the node, that is the gradient of
the output with respect to the tensor the node produced (``torch.autograd.grad`` with those
tensors as inputs, in a fresh pass over the retained graph). That covers every tensor the
program computed, named or not, without hooks that could disturb another pass (the
step-through registers its own) and without touching ``.grad``. Nodes torch created that the
program never held as a tensor (rare: none of the allowed functions does this today) keep
``value`` and ``grad`` as ``None``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from core.errors import Span
from core.evaluation.evaluate import backward_seed
from core.language import cuts

#: Prefix of the attributes through which torch exposes what a backward node saved.
SAVED_PREFIX = "_saved_"


@dataclass
class GraphNode:
    """One node of the backward graph.

    ``kind`` is "op" (a backward function, gray in torchviz), "leaf" (an input that gets a
    gradient, light blue), "output" (the output tensor, green) or "saved" (a tensor a
    backward function saved, orange). ``id`` is the DOT name torchviz gives the node.
    """

    id: str
    kind: str
    op: str | None = None
    name: str | None = None
    expression: str | None = None
    span: Span | None = None
    shape: tuple[int, ...] | None = None
    value: torch.Tensor | None = None
    grad: torch.Tensor | None = None
    grad_fn: object | None = None
    #: for "op" nodes with show_saved: saved attribute name -> id of its "saved" node
    saved: dict[str, str] = field(default_factory=dict)
    #: for "op" nodes with show_attrs: non-tensor saved attributes, as torchviz prints them
    attrs: dict[str, str] = field(default_factory=dict)
    #: for the output: True when it is a view and this node is its base (torchviz's dark green)
    view_base: bool = False
    #: part of a graph the program cut off (detach, no_grad): drawn greyed, gets no gradient
    cut: bool = False
    #: on the top node of a cut graph: the text that cut it (``h = (w*2).detach()``)
    cut_by: str | None = None


@dataclass(frozen=True)
class GraphEdge:
    """An edge as torchviz draws it.

    "data": from an input's node towards the node that consumes it (the forward direction;
    the gradient flows the other way). "saved": from a backward node to a tensor it saved
    (torchviz's direction, drawn without an arrowhead). "output": from the output's backward
    node to the output tensor. "view": from a view's base tensor to the view (dotted).
    """

    source: str
    target: str
    kind: str = "data"


@dataclass
class BackwardGraph:
    """Nodes (in torchviz's discovery order) and edges (in torchviz's order, repeats kept:
    ``x * x`` has two edges from x's AccumulateGrad to MulBackward0)."""

    nodes: dict[str, GraphNode]
    edges: list[GraphEdge]
    output_id: str
    #: the tensor the graph was built from and the evaluation it belongs to, so the plain
    #: torchviz mode can call make_dot on exactly this tensor
    output_tensor: torch.Tensor | None = None
    evaluation: object | None = None
    show_saved: bool = False
    show_attrs: bool = False

    def node_for_grad_fn(self, fn) -> GraphNode | None:
        """The node of an autograd function (as reached through ``next_functions``)."""
        return self.nodes.get(str(id(fn))) if fn is not None else None

    def keyed_edges(self) -> list[tuple[tuple[str, str, int], GraphEdge]]:
        """Every edge with its key ``(source, target, k)``, as step highlights key their
        labels: see :func:`edge_keys`."""
        return list(zip(edge_keys(self.edges), self.edges, strict=True))

    def out_degree(self) -> dict[str, int]:
        """How many data edges leave each node (a leaf used in n places has n)."""
        counts = dict.fromkeys(self.nodes, 0)
        for edge in self.edges:
            if edge.kind == "data":
                counts[edge.source] += 1
        return counts

    def op_nodes(self) -> list[GraphNode]:
        """The backward functions, in discovery order."""
        return [node for node in self.nodes.values() if node.kind == "op"]


def edge_keys(edges) -> list[tuple[str, str, int]]:
    """The key ``(source, target, k)`` of each edge, in order: ``k`` counts the earlier
    edges between the same two nodes (0 for the first).

    Parallel edges are real: in ``x*x`` or ``matmul(W, W)`` one input feeds both slots of a
    node, and each slot's edge carries its own gradient. The walk writes a node's edges in
    the order of its ``next_functions``, so the k-th edge from a child to a node is the k-th
    slot that child fills (:mod:`core.teaching.trace` keys its labels the same way)."""
    seen: dict[tuple[str, str], int] = {}
    keys = []
    for edge in edges:
        pair = (edge.source, edge.target)
        k = seen.get(pair, 0)
        seen[pair] = k + 1
        keys.append((edge.source, edge.target, k))
    return keys


def build_graph(evaluation, *, show_saved: bool = False, show_attrs: bool = False,
                gradients: bool = True) -> BackwardGraph:
    """The backward graph of ``evaluation.output``, as torchviz's ``make_dot`` would draw it.

    ``show_saved`` adds the tensors backward functions saved (orange), ``show_attrs`` their
    non-tensor attributes. With ``gradients`` every node gets the gradient flowing into it
    (see the module notes); without it only values are filled in.
    """
    builder = _Builder(evaluation, show_saved, show_attrs)
    builder.walk(evaluation.output)
    cuts.attach(builder, evaluation)  # what detach / no_grad cut off, greyed
    graph = BackwardGraph(nodes=builder.nodes, edges=builder.edges,
                          output_id=str(id(evaluation.output)),
                          output_tensor=evaluation.output, evaluation=evaluation,
                          show_saved=show_saved, show_attrs=show_attrs)
    if gradients:
        _attach_gradients(graph, evaluation)
    return graph


class _Builder:
    """make_dot's walk, iterative. Comments name the make_dot step each part mirrors."""

    def __init__(self, evaluation, show_saved: bool, show_attrs: bool):
        self.evaluation = evaluation
        self.show_saved = show_saved
        self.show_attrs = show_attrs
        self.nodes: dict[str, GraphNode] = {}
        self.edges: list[GraphEdge] = []
        # make_dot's `seen` holds functions and tensors; ids are enough because every
        # object stays referenced by a node (so no id is reused while the graph lives)
        self.seen: set[int] = set()
        self._keep: list = []
        self._records = {id(r.tensor): r for r in evaluation.records}

    # nodes ----------------------------------------------------------------------

    def _add_node(self, node: GraphNode) -> None:
        # make_dot may emit one name twice (a leaf that is also saved); Graphviz merges
        # such statements, so keep one node, and let leaf/output win over "saved"
        existing = self.nodes.get(node.id)
        if existing is None:
            self.nodes[node.id] = node
        elif existing.kind == "saved" and node.kind != "saved":
            node.saved, node.attrs = existing.saved, existing.attrs
            self.nodes[node.id] = node

    def _tensor_node(self, tensor: torch.Tensor, kind: str, label_name: str | None = None
                     ) -> GraphNode:
        """A node for a tensor (leaf, output, saved), annotated from the evaluation."""
        self._keep.append(tensor)
        evaluation = self.evaluation
        name = evaluation.leaf_name(tensor)
        record = self._records.get(id(tensor))
        expression = span = None
        if record is not None:
            expression, span = record.node.text, record.node.span
            name = name or record.name
        elif name is not None:
            expression = name
        if kind == "output":
            name = evaluation.output_name if tensor is evaluation.output else name
        node = GraphNode(id=str(id(tensor)), kind=kind, name=name, expression=expression,
                         span=span, shape=tuple(tensor.shape), value=tensor.detach())
        if label_name is not None:
            # a saved tensor is known by the attribute torch saved it as ("self", "result")
            node.op = label_name
        return node

    def _fn_node(self, fn) -> GraphNode:
        op = type(fn).__name__
        node = GraphNode(id=str(id(fn)), kind="op", op=op, grad_fn=fn)
        variable = getattr(fn, "variable", None)
        if variable is not None:  # AccumulateGrad: it stands for its leaf
            node.name = self.evaluation.leaf_name(variable)
            node.expression = node.name
            node.shape = tuple(variable.shape)
            node.value = variable.detach()
            return node
        record = self.evaluation.record_for(fn)
        if record is not None:
            node.name = record.name
            node.expression = record.node.text
            node.span = record.node.span
            node.shape = tuple(record.tensor.shape)
            node.value = record.tensor.detach()
        if self.show_attrs:
            node.attrs = _attributes(fn)
        return node

    # the walk -------------------------------------------------------------------

    def walk(self, output: torch.Tensor) -> None:
        """make_dot's add_base_tensor(output): the output, then its graph, then a view's base."""
        base_chain = []
        var, kind = output, "output"
        while var is not None and id(var) not in self.seen:
            self.seen.add(id(var))
            node = self._tensor_node(var, "output")
            node.view_base = kind == "base"
            self._add_node(node)
            if var.grad_fn is not None:
                self._walk_fn(var.grad_fn)
                self.edges.append(GraphEdge(str(id(var.grad_fn)), str(id(var)), "output"))
            if not var._is_view():
                break
            base_chain.append((var._base, var))
            var, kind = var._base, "base"
        for base, view in reversed(base_chain):
            # make_dot adds the dotted edge after returning from the base (even when the
            # base was already seen, as a leaf usually is), innermost view first
            self.edges.append(GraphEdge(str(id(base)), str(id(view)), "view"))

    def _enter(self, fn) -> bool:
        """make_dot's add_nodes(fn) up to its loop; False when fn was seen already."""
        if id(fn) in self.seen:
            return False
        self.seen.add(id(fn))
        self._keep.append(fn)
        fn_id = str(id(fn))
        saved = {}
        if self.show_saved:
            for attr, tensor in _saved_tensors(fn):
                self.seen.add(id(tensor))
                self.edges.append(GraphEdge(fn_id, str(id(tensor)), "saved"))
                self._add_node(self._tensor_node(tensor, "saved", attr))
                saved[attr] = str(id(tensor))
        variable = getattr(fn, "variable", None)
        if variable is not None:
            self.seen.add(id(variable))
            self._add_node(self._tensor_node(variable, "leaf"))
            self.edges.append(GraphEdge(str(id(variable)), fn_id, "data"))
        node = self._fn_node(fn)
        node.saved = saved
        self._add_node(node)
        return True

    def _leave(self, fn) -> None:
        """The end of make_dot's add_nodes: tensors saved by custom autograd functions."""
        for tensor in getattr(fn, "saved_tensors", None) or ():
            self.seen.add(id(tensor))
            self.edges.append(GraphEdge(str(id(tensor)), str(id(fn)), "saved"))
            self._add_node(self._tensor_node(tensor, "saved", "saved"))

    def _walk_fn(self, root) -> None:
        """Depth-first over next_functions with a stack of iterators: the same order of
        nodes and edges as make_dot's recursion, at any depth."""
        if not self._enter(root):
            return
        stack = [(root, iter(root.next_functions))]
        while stack:
            fn, children = stack[-1]
            for child, _ in children:
                if child is None:
                    continue
                self.edges.append(GraphEdge(str(id(child)), str(id(fn)), "data"))
                if self._enter(child):
                    stack.append((child, iter(child.next_functions)))
                    break
            else:
                stack.pop()
                self._leave(fn)


def _saved_attributes(fn):
    """(short name, value) of every ``_saved_*`` attribute a backward node still holds
    (attributes freed by a backward without retain_graph are skipped)."""
    for attr in dir(fn):
        if not attr.startswith(SAVED_PREFIX):
            continue
        try:
            value = getattr(fn, attr)
        except RuntimeError:  # freed by a backward without retain_graph
            continue
        yield attr[len(SAVED_PREFIX):], value


def _saved_tensors(fn):
    """(name, tensor) for every tensor a backward node saved, named as torchviz names them."""
    found = []
    for short, value in _saved_attributes(fn):
        if torch.is_tensor(value):
            found.append((short, value))
        elif isinstance(value, tuple):
            found.extend((f"{short}[{i}]", t) for i, t in enumerate(value) if torch.is_tensor(t))
    return found


def _attributes(fn) -> dict[str, str]:
    """The saved attributes of a backward node as torchviz's show_attrs prints them."""
    attrs = {}
    for short, value in _saved_attributes(fn):
        if torch.is_tensor(value):
            attrs[short] = "[saved tensor]"
        elif isinstance(value, tuple) and any(torch.is_tensor(t) for t in value):
            attrs[short] = "[saved tensors]"
        else:
            attrs[short] = str(value)
    return attrs


def _attach_gradients(graph: BackwardGraph, evaluation) -> None:
    """Fill ``grad`` on every node whose tensor is known: the gradient of the output with
    respect to that tensor, from one ``torch.autograd.grad`` call over the retained graph."""
    output = evaluation.output
    if not output.requires_grad:
        return
    tensors: dict[int, torch.Tensor] = {}
    for record in evaluation.records:
        if record.tensor.requires_grad:
            tensors[id(record.tensor)] = record.tensor
    for tensor in evaluation.inputs.values():
        if tensor.requires_grad:
            tensors[id(tensor)] = tensor
    tensors[id(output)] = output
    ordered = list(tensors.values())
    try:
        grads = torch.autograd.grad(output, ordered, backward_seed(evaluation), retain_graph=True,
                                    allow_unused=True)
    except RuntimeError:
        # the graph was freed by a backward without retain_graph: values only
        return
    by_id = {id(t): (g.detach() if g is not None else None)
             for t, g in zip(ordered, grads, strict=True)}
    by_node_id = {str(tensor_id): tensor_id for tensor_id in tensors}
    for node in graph.nodes.values():
        if node.kind == "op":
            fn = node.grad_fn
            variable = getattr(fn, "variable", None)
            if variable is not None:
                node.grad = by_id.get(id(variable))
                continue
            record = evaluation.record_for(fn)
            if record is not None:
                node.grad = by_id.get(id(record.tensor))
        elif node.value is not None:
            # leaves, the output and saved tensors the program computed itself
            tensor_id = by_node_id.get(node.id)
            if tensor_id is not None:
                node.grad = by_id.get(tensor_id)
    # an unused leaf still has a gradient: zero, as evaluate() reports it
    for node in graph.nodes.values():
        if node.kind == "leaf" and node.grad is None and node.value is not None:
            node.grad = torch.zeros_like(node.value)

