"""Where a program stops a gradient: ``x.detach()`` and ``with torch.no_grad():``.

A detached value (or one computed under ``no_grad``) is a constant to autograd: the graph
that made it is not reachable from the output, so torchviz would not draw it at all. For a
lecture the cut is the point, so the evaluator keeps, for each cut, the value *before* it
(with its graph; for a ``no_grad`` statement, the same statement computed once more with
gradients on) and :func:`attach` draws that graph greyed beside the live one, its top node
marked with the text that cut it. :func:`use_notes` gives the words the steps show at a
node that used a cut value.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Cut:
    """One place the gradient stops: ``node`` (the language node that cut it: a detach
    call or a no_grad statement's expression), ``source`` (the value with its graph),
    ``result`` (the value the program goes on with, which has no graph) and ``how``."""

    node: object
    source: torch.Tensor
    result: torch.Tensor
    how: str = "detach"
    name: str | None = None

    @property
    def text(self) -> str:
        """``h = (w*2).detach()`` or the expression alone."""
        expression = " ".join(self.node.text.split())
        if self.name:
            expression = f"{self.name} = {expression}"
        return expression + (" (under torch.no_grad())" if self.how == "no_grad" else "")


def find(cuts: list[Cut], tensor) -> Cut | None:
    """The cut that produced ``tensor``, if it is a cut value."""
    for cut in cuts:
        if cut.result is tensor:
            return cut
    return None


def step_notes(evaluation, fn) -> tuple[str, ...]:
    """The lines a backward step adds when its operation used a cut value."""
    record = evaluation.record_for(fn)
    if record is None:
        return ()
    return tuple(use_note(cut) for cut in getattr(evaluation, "cut_uses", {}).get(
        id(record.tensor), ()))


def use_note(cut: Cut) -> str:
    """What a step says where a cut value was used."""
    what = cut.name or " ".join(cut.node.text.split())
    return (f"✂ {what} gets no gradient: it was cut from the graph by {cut.text}, so the "
            "gradient stops here")


def register_records(evaluation, records) -> None:
    """Let the evaluation name the nodes of a no_grad statement's shadow graph."""
    for record in records:
        fn = record.tensor.grad_fn
        if fn is not None:
            evaluation._by_grad_fn.setdefault(id(fn), record)


def attach(builder, evaluation) -> None:
    """Add each cut's graph to a graph being built, greyed (``GraphNode.cut``); the top
    node carries ``cut_by``, the text that stopped the gradient."""
    for cut in getattr(evaluation, "cuts", ()):
        fn = cut.source.grad_fn
        if fn is None:  # a leaf detached: draw the leaf itself greyed if nothing else uses it
            node_id = str(id(cut.source))
            if node_id not in builder.nodes:
                node = builder._tensor_node(cut.source, "leaf")
                node.cut, node.cut_by = True, cut.text
                builder._add_node(node)
            continue
        before = set(builder.nodes)
        builder._walk_fn(fn)
        for node_id, node in builder.nodes.items():
            if node_id not in before:
                node.cut = True
        top = builder.nodes.get(str(id(fn)))
        if top is not None and top.cut:
            top.cut_by = cut.text
