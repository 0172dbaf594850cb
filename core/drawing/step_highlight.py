"""What a drawing shows at one step of the backward pass, assembled from text only.

Each step carries its edge labels as text, made once when the trace is recorded (that reads
tensors, so it happens on a worker). :func:`assemble_highlight` then builds any step's
highlight from those strings without touching a tensor, so the window's GUI thread, the
PDF pages and the CLI all share one rule for what is current, done and labelled.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class StepHighlight:
    """The current node(s), the finished ones, the gradient on each edge that has carried one
    so far, keyed ``(source, target, k)`` in torchviz's edge direction (k: the k-th edge
    between those two nodes, 0 for the first, as :func:`core.drawing.graph.edge_keys` numbers them:
    ``x*x`` has two parallel edges, each with its own gradient), and which of those edges
    this step itself labelled (``recent``, drawn bolder). Fields match
    ``core.drawing.render.Highlight``."""

    current: frozenset
    done: frozenset
    edge_labels: dict
    recent: frozenset = frozenset()


def assemble_highlight(steps: Sequence, index: int, output_id: str | None,
                       root_id: str | None) -> StepHighlight:
    """The highlight of step ``index`` (clamped): it is current, earlier steps are done, and
    every edge a gradient has crossed so far (including this step's) carries its label.

    ``steps`` are objects with ``node_id``, ``leaf_id`` and ``edge_labels`` (a tuple of
    ``((source, target, k), text)``), such as :class:`core.teaching.trace.Step`.
    """
    if not steps:
        return StepHighlight(frozenset(), frozenset(), {})
    index = max(0, min(index, len(steps) - 1))
    step = steps[index]
    current = {step.node_id} | ({step.leaf_id} if step.leaf_id else set())
    done, labels, recent = set(), {}, set()
    if output_id and root_id:
        labels[(root_id, output_id, 0)] = "1"
        done.add(output_id)
        if index == 0:  # the seed gradient arrives with the first step
            recent.add((root_id, output_id, 0))
    for earlier in steps[:index]:
        done.add(earlier.node_id)
        if earlier.leaf_id:
            done.add(earlier.leaf_id)
        labels.update(earlier.edge_labels)
    labels.update(step.edge_labels)
    recent.update(key for key, _ in step.edge_labels)
    return StepHighlight(frozenset(current), frozenset(done), labels, frozenset(recent))
