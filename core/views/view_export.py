"""Step decks of the paths and of a forward-mode walk, drawn by :mod:`core.teaching.step_export`.

The step export lays the graph out once and draws one page per step from a trace's steps
and highlights. A :class:`Deck` offers the same two things (``steps`` with a title, a rule
and numbers; ``highlight(i)``) for other walks over the same graph:

- :func:`paths_deck`: one page per path from an input to the output, its nodes boxed and
  its local derivatives written on its edges, then a page with every path and their sum;
- :func:`forward_deck`: one page per value of a forward-mode pass, in computation order,
  with the value's tangent written on the edges out of its node.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.drawing.graph import edge_keys
from core.drawing.step_highlight import StepHighlight
from core.errors import ExpressionError


@dataclass(frozen=True)
class DeckRule:
    """What a page's heading says under its title: one line of words, then numbers."""

    formula: str
    numbers: tuple = ()


@dataclass
class DeckPage:
    """One page, with the fields :mod:`core.teaching.step_export` reads from a step."""

    op: str
    expression: str
    rule: DeckRule
    name: str | None = None
    leaf_id: str | None = None
    grad_in: list = field(default_factory=list)
    contributions: list = field(default_factory=list)
    current: frozenset = frozenset()
    done: frozenset = frozenset()
    edge_labels: dict = field(default_factory=dict)
    #: the labels this page adds (drawn bolder); None: all of them
    recent: frozenset | None = None


@dataclass
class Deck:
    """Pages and their highlights, shaped like a :class:`core.teaching.trace.Trace` for export."""

    steps: list[DeckPage]
    no_steps_reason: str = "there is nothing to show"
    legend: tuple = ()

    def highlight(self, index: int) -> StepHighlight:
        """Page ``index``'s boxes and edge labels."""
        page = self.steps[index]
        labels = dict(page.edge_labels)
        recent = frozenset(labels) if page.recent is None else page.recent
        return StepHighlight(current=frozenset(page.current), done=frozenset(page.done),
                             edge_labels=labels, recent=recent)


def _require(deck: Deck) -> Deck:
    if not deck.steps:
        raise ExpressionError("output", "there are no pages to export: " + deck.no_steps_reason)
    return deck


def paths_deck(graph, report, name: str) -> Deck:
    """The paths of input ``name`` (a :class:`core.views.paths.PathsReport` of the evaluation
    ``graph`` was built from), one page each, then their sum."""
    from core.teaching.rules import fmt

    leaf = report.leaves.get(name)
    if leaf is None:
        raise ExpressionError("name", f"{name} is not an input that needs a gradient "
                              f"(inputs: {', '.join(report.leaves) or 'none'})", where="--leaf")
    if leaf.paths is None:
        raise ExpressionError("limit", f"{leaf.count:,} paths from {name}: too many for one "
                              "page each (the paths command shows the factored sums)",
                              where="--leaf")
    leaf_tensor = _leaf_tensor_ids(graph)
    out = report.output_name
    pages, seen, every_label = [], set(), {}
    for k, path in enumerate(leaf.paths, 1):
        ids = list(path.node_ids)
        nodes = set(ids) | ({leaf_tensor[name]} if name in leaf_tensor else set())
        labels = {(ids[i], ids[i + 1], path.edge_ks[i]): f"× {fmt(f)}"
                  for i, f in enumerate(path.factors) if f is not None}
        factors = " · ".join(fmt(f) for f in path.factors) if path.factors and \
            None not in path.factors else "each node's backward applied in turn"
        pages.append(DeckPage(
            op=f"path {k} of {len(leaf.paths)}", expression=" → ".join(path.nodes),
            rule=DeckRule(f"the product of the local derivatives along this path "
                          f"(∂{out}/∂{name} is the sum over all paths)",
                          (f"{factors} = {fmt(path.product)}",)),
            current=frozenset(nodes), done=frozenset(seen - nodes), edge_labels=labels))
        seen |= nodes
        every_label.update(labels)
    terms = " + ".join(fmt(p.product) for p in leaf.paths)
    pages.append(DeckPage(
        op="sum", expression=f"∂{out}/∂{name}: every path",
        rule=DeckRule("the multivariate chain rule: add the products of all paths",
                      (f"{terms} = {fmt(leaf.path_sum)}",
                       f"autograd's gradient: {fmt(leaf.total)}")),
        # the last page carries every label: the one layout reserves room for them all
        current=frozenset(seen), edge_labels=every_label, recent=frozenset()))
    return _require(Deck(pages, f"{out} does not depend on {name}", (
        "yellow box, red border: this path      green border: on an earlier path",
        "red numbers on arrows: the local derivative along each edge (× factor)")))


def forward_deck(graph, evaluation, walk) -> Deck:
    """One page per value of a forward-mode pass (a :class:`core.views.modes.ForwardPass` of
    ``evaluation``, whose records it follows index by index)."""
    from core.teaching.rules import fmt

    keys = edge_keys([e for e in graph.edges if e.kind == "data"])
    out_edges: dict[str, list] = {}
    for key in keys:
        out_edges.setdefault(key[0], []).append(key)
    pages, done, so_far = [], set(), {}
    for index, step in enumerate(walk.steps):
        record = evaluation.records[index]
        fn = record.tensor.grad_fn
        node = str(id(fn)) if fn is not None else None
        labels = {key: f"ṫ = {fmt(step.tangent)}" for key in out_edges.get(node, ())}
        so_far.update(labels)  # tangents stay on their edges, as gradients do in the steps
        what = f"{step.name} = {step.expression}" if step.name else step.expression
        pages.append(DeckPage(
            op=f"forward pass seeded at {walk.seed}", expression=what,
            rule=DeckRule(f"each value carries its tangent: its derivative with respect to "
                          f"{walk.seed} (tangent 1 at {walk.seed}, 0 at every other input)",
                          (f"value {fmt(step.value)}", f"tangent {fmt(step.tangent)}")),
            current=frozenset({node} if node else ()), done=frozenset(done),
            edge_labels=dict(so_far), recent=frozenset(labels)))
        if node:
            done.add(node)
    return _require(Deck(pages, "the program computes nothing", (
        "yellow box, red border: the value computed now      green border: computed before",
        f"red numbers on arrows: tangents ṫ = d value / d{walk.seed}, carried forward "
        "with the arrows")))


def _leaf_tensor_ids(graph) -> dict[str, str]:
    """Input name -> the id of its tensor node (drawn above its AccumulateGrad)."""
    return {node.name: node.id for node in graph.nodes.values()
            if node.kind == "leaf" and node.name}
